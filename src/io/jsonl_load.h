/* jsonl_load.h - the one loader from JSON lines to generation requests, shared by `t5g generate`
 * (its input, chunk by chunk) and `t5g eval` (a dataset shard): each line is parsed, its id
 * read, its prompt tokenized (or its "input_ids" checked) and its length checked, under a
 * policy that says which lines to leave out, how to treat long inputs and bad lines. */
#ifndef T5G_JSONL_LOAD_H
#define T5G_JSONL_LOAD_H
#include "io/jsonl.h"
#include <stdint.h>

/* One request; the loader's callback owns the buffers (and frees them). */
typedef struct {
    int64_t line;  /* 0-based non-blank line of the file */
    char *id_json; /* its "id" as JSON text */
    int32_t *ids;  /* encoder ids */
    size_t n;
    int32_t *prefix; /* the line's own forced decoder prefix, or NULL */
    int nprefix;
} jsonl_req;
void jsonl_req_free(jsonl_req *r);

/* Inputs longer than max_input tokens: an error naming the line and the flag, or cut with a
 * warning (JSONL_CUT). */
enum { JSONL_TOO_LONG_ERROR, JSONL_CUT };

typedef struct {
    const char *path;
    const t5g_tokenizer *tok;
    int tok_flags, vocab, max_input;
    int too_long;            /* JSONL_TOO_LONG_ERROR or JSONL_CUT */
    const char *what;        /* the truncation warning's noun: "input" (generate), "prompt" (eval) */
    const uint8_t *bad;      /* lines left out unread (bits by non-blank line; skipped bad lines); may be NULL */
    const uint8_t *done;     /* lines left out unread: they have a result (--resume); may be NULL */
    uint8_t *mark_bad;       /* non-NULL (--on-error skip): a bad line is a warning and its bit set here */
    const str_set *done_ids; /* ids left out after the id is read (eval's .partial); may be NULL */
    /* eval: which samples (--limit) and their prompt (the task's template); NULL: every line,
     * and generate's request keys ("prompt" / "text" / "input_ids") */
    int (*keep)(void *ctx, const cJSON *item);
    char *(*prompt)(void *ctx, const cJSON *item); /* malloc'd; NULL + error */
    void *ctx;
    /* generate: a line's "target_prefix" (NULL: not read), checked against dec_vocab */
    int (*prefix)(const cJSON *item, const t5g_tokenizer *tok, int vocab, int32_t **ids, int *n);
    int dec_vocab;
} jsonl_load_policy;

/* emit(ctx, r) for each line kept, r's buffers handed over (emit frees them, even when it fails); emit NULL: only check the lines. */
typedef int (*jsonl_req_fn)(void *ctx, jsonl_req *r);
/* count non-blank lines (count < 0: to the end) from byte off (line0 physical lines before it),
 * numbered from first (a chunk's place in the file; 0, 0, 0, -1: the whole file). */
int jsonl_load(const jsonl_load_policy *p, int64_t off, int64_t line0, int64_t first, int64_t count, jsonl_req_fn emit,
               void *ctx);
#endif
