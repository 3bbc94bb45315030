/* jsonl.h - JSON-lines input/output for generate and eval: parsed documents with line
 * numbers, request validation, id sets for --resume, part discovery (the streaming reader and
 * the in-order merge of generate's parts are in jsonl_stream.h). */
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
    const char **why; /* why items[i] is NULL (static text) */
} jsonl_doc;

/* Most token ids one request may carry as "input_ids" (parsing is linear; this bounds memory). */
#define JSONL_MAX_INPUT_IDS (1 << 20)

/* Read every non-blank line (invalid UTF-8 and malformed JSON are kept as NULL items with
 * their line number, so the caller decides to stop or skip). */
int jsonl_read(const char *path, jsonl_doc *d);
void jsonl_free(jsonl_doc *d);
/* Parse one line (n bytes, NUL-terminated); NULL with *why (static text) when it is not exactly
 * one JSON value in valid UTF-8, or with *why == JSONL_OUT_OF_MEMORY (and the error recorded)
 * when memory ran out: the line may be fine, so that is never a bad line to skip. */
cJSON *jsonl_parse_line(const char *p, size_t n, const char **why);
extern const char JSONL_OUT_OF_MEMORY[];
/* Why line i did not parse: "not valid UTF-8", "not valid JSON", ... */
const char *jsonl_why(const jsonl_doc *d, int i);
/* The item's "id" as compact JSON text (string or number), malloc'd; NULL + error. */
char *jsonl_id(const cJSON *item);
/* The same for a line of a results file at PATH:LINE, which t5g wrote: a line without a valid id
 * means the file was damaged (error says so), unlike running out of memory (error says that). */
char *jsonl_result_id(const cJSON *item, const char *path, long long line);

/* Validate line i as a generation request and produce its encoder ids: {"id", "prompt"}
 * ("text": its older name) tokenized with tok/flags, or {"id", "input_ids"} checked against vocab. */
int jsonl_request(const jsonl_doc *d, int i, const t5g_tokenizer *tok, int flags, int vocab, char **id_json,
                  int32_t **ids, size_t *n);

/* The same for one parsed line (it may be NULL: why says why) read at path:line. */
int jsonl_request_item(const char *path, long long line, const cJSON *it, const char *why, const t5g_tokenizer *tok,
                       int flags, int vocab, char **id_json, int32_t **ids, size_t *n);

/* Tokenize one request's text (key: its name, for messages) and check the ids against vocab. */
int jsonl_encode_text(const char *path, long long line, const char *key, const char *text, const t5g_tokenizer *tok,
                      int flags, int vocab, int32_t **ids, size_t *n);

/* A set of strings (ids as JSON text). */
typedef struct {
    char **slot;
    size_t cap, n;
} str_set;
int str_set_add(str_set *s, const char *key); /* 1 added, 0 present, -1 error */
int str_set_has(const str_set *s, const char *key);
void str_set_free(str_set *s);

/* An id (JSON text) and where it was read; files[file] names the file. */
typedef struct {
    char *id;
    int file;
    int line;
} jsonl_id_ref;
/* Sorts v; a repeated id is an error naming both places. */
int jsonl_check_unique(jsonl_id_ref *v, size_t n, const char *const *files);
/* Every line's "id" differs (lines without a usable id are left to the caller's check). */
int jsonl_doc_unique_ids(const jsonl_doc *d);

/* The parts OUT.part<k> on disk (from this run or a killed one, whatever its DP size). */
int jsonl_part_paths(const char *out, char ***paths, int *n);
void jsonl_free_paths(char **paths, int n);
/* Ids already written to OUT (and, with_parts, to its parts).  Torn tails must have been cut
 * (t5g_cut_torn_tail): any bad line is reported as a damaged file. */
int jsonl_collect_ids(const char *out, int with_parts, str_set *done);
#endif
