/* jsonl_load.c - see jsonl_load.h */
#include "io/jsonl_load.h"
#include "io/jsonl_stream.h"
#include "core/err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonl_req_free(jsonl_req *r) {
    free(r->id_json);
    free(r->ids);
    free(r->prefix);
    memset(r, 0, sizeof *r);
}

/* Prefix the current error with path:line. */
static int at_line(const jsonl_load_policy *p, long long lineno) {
    char msg[600];
    snprintf(msg, sizeof msg, "%s", t5g_last_error());
    return T5G_FAIL("%s:%lld: %s", p->path, lineno, msg);
}

/* eval's sample: the id, then (unless done) the task's prompt tokenized. */
static int sample_request(const jsonl_load_policy *p, const cJSON *it, const char *why, long long lineno,
                          jsonl_req *r) {
    T5G_CHECK(it, "%s:%lld: %s", p->path, lineno, why ? why : "not valid JSON");
    if (p->keep && !p->keep(p->ctx, it)) return 0;
    r->id_json = jsonl_id(it);
    if (!r->id_json) return at_line(p, lineno);
    if (p->done_ids && str_set_has(p->done_ids, r->id_json)) {
        jsonl_req_free(r);
        return 0;
    }
    char *text = p->prompt(p->ctx, it);
    if (!text) return at_line(p, lineno);
    int rc = jsonl_encode_text(p->path, lineno, "prompt", text, p->tok, p->tok_flags, p->vocab, &r->ids, &r->n);
    free(text);
    return rc;
}

/* One line as a request: r->id_json stays NULL when the line is left out. */
static int line_request(const jsonl_load_policy *p, const char *s, size_t n, long long lineno, jsonl_req *r) {
    const char *why;
    cJSON *it = jsonl_parse_line(s, n, &why);
    if (why == JSONL_OUT_OF_MEMORY) return -1;
    int rc;
    if (p->prompt) rc = sample_request(p, it, why, lineno, r);
    else rc = jsonl_request_item(p->path, lineno, it, why, p->tok, p->tok_flags, p->vocab, &r->id_json, &r->ids, &r->n);
    if (!rc && r->id_json && p->prefix && p->prefix(it, p->tok, p->dec_vocab, &r->prefix, &r->nprefix))
        rc = at_line(p, lineno);
    cJSON_Delete(it);
    if (!rc && r->n > (size_t)p->max_input) {
        if (p->too_long == JSONL_TOO_LONG_ERROR)
            rc = T5G_FAIL("%s:%lld: input has %zu tokens, more than --max-input-tokens %d (use --truncate)", p->path,
                          lineno, r->n, p->max_input);
        else
            fprintf(stderr, "t5g: warning: %s:%lld: %s of %zu tokens truncated to %d\n", p->path, lineno, p->what, r->n,
                    p->max_input);
        if (!rc) r->n = (size_t)p->max_input;
    }
    return rc;
}

typedef struct {
    const jsonl_load_policy *p;
    jsonl_req_fn emit;
    void *ctx;
} load_walk;

static int load_line(void *ctx, int64_t i, char *s, size_t n, long long lineno) {
    load_walk *w = ctx;
    const jsonl_load_policy *p = w->p;
    if (jsonl_bit(p->bad, i) || jsonl_bit(p->done, i)) return 0;
    jsonl_req r = {.line = i};
    int rc = line_request(p, s, n, lineno, &r);
    if (rc) {
        jsonl_req_free(&r);
        if (!p->mark_bad) return -1;
        fprintf(stderr, "t5g: warning: skipping: %s\n", t5g_last_error());
        jsonl_set_bit(p->mark_bad, i);
        return 0;
    }
    if (r.id_json && w->emit) return w->emit(w->ctx, &r);
    jsonl_req_free(&r);
    return 0;
}

int jsonl_load(const jsonl_load_policy *p, int64_t off, int64_t line0, int64_t first, int64_t count, jsonl_req_fn emit,
               void *ctx) {
    load_walk w = {p, emit, ctx};
    return jsonl_each_line(p->path, off, line0, first, count, load_line, &w);
}
