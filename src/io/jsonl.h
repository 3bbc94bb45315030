/* jsonl.h - JSON-lines input/output for generate and eval: parsed documents with line
 * numbers, request validation, id sets for --resume, and the final in-order merge. */
#ifndef T5G_JSONL_H
#define T5G_JSONL_H
#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

typedef struct t5g_tokenizer t5g_tokenizer;

typedef struct {
    const char *path;
    int n;            /* non-blank lines */
    cJSON **items;    /* NULL where the line is not valid JSON */
    int *lineno;      /* 1-based line numbers */
} jsonl_doc;

/* Read every non-blank line (invalid UTF-8 and malformed JSON are kept as NULL items with
 * their line number, so the caller decides to stop or skip). */
int jsonl_read(const char *path, jsonl_doc *d);
void jsonl_free(jsonl_doc *d);
/* The item's "id" as compact JSON text (string or number), malloc'd; NULL + error. */
char *jsonl_id(const cJSON *item);

/* Validate line i as a generation request and produce its encoder ids: {"id", "text"}
 * tokenized with tok/flags, or {"id", "input_ids"} checked against vocab. */
int jsonl_request(const jsonl_doc *d, int i, const t5g_tokenizer *tok, int flags, int vocab, char **id_json,
                  int32_t **ids, size_t *n);

/* A set of strings (ids as JSON text). */
typedef struct { char **slot; size_t cap, n; } str_set;
int str_set_add(str_set *s, const char *key);   /* 1 added, 0 present, -1 error */
int str_set_has(const str_set *s, const char *key);
void str_set_free(str_set *s);

/* Ids already written to OUT or OUT.part0..part(nparts-1) (a torn last line is ignored). */
int jsonl_collect_ids(const char *out, int nparts, str_set *done);
/* Merge OUT and its parts into OUT in the input file's line order (temp + rename); removes
 * the parts.  Lines whose id is not in the input keep their relative order at the end. */
int jsonl_merge_parts(const char *in, const char *out, int nparts);
#endif
