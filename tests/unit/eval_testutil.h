/* eval_testutil.h - helpers shared by the scorer tests (test_bleu.c, test_squad.c):
 * JSON-lines fixtures and running a CLI entry point with stdout/stderr captured. */
#ifndef T5G_EVAL_TESTUTIL_H
#define T5G_EVAL_TESTUTIL_H
#include "eval/pyjson.h"
#include "testutil.h"
#include "core/err.h"
#include "core/fileio.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* fixtures_dir()/sub/name in a static buffer (one at a time). */
static inline const char *et_path(const char *sub, const char *name) {
    static char buf[2][4096];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s/%s", fixtures_dir(), sub, name);
    return buf[k];
}

/* One parsed document per non-empty line of a .jsonl file. */
typedef struct {
    pj_doc **docs;
    size_t n;
} et_jsonl;

static inline int et_jsonl_load(const char *path, et_jsonl *out) {
    memset(out, 0, sizeof *out);
    size_t len;
    char *text = t5g_read_file(path, &len);
    if (!text) { fprintf(stderr, "cannot read %s (run tests from the repo root)\n", path); return -1; }
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += text[i] == '\n';
    out->docs = calloc(cap, sizeof *out->docs);
    for (size_t s = 0; s < len && out->docs;) {
        char *nl = memchr(text + s, '\n', len - s);
        size_t e = nl ? (size_t)(nl - text) : len;
        if (e > s) {
            out->docs[out->n] = pj_parse(text + s, e - s, path);
            if (!out->docs[out->n]) { fprintf(stderr, "%s\n", t5g_last_error()); break; }
            out->n++;
        }
        s = e + 1;
    }
    free(text);
    return out->docs && out->n ? 0 : -1;
}

static inline void et_jsonl_free(et_jsonl *j) {
    for (size_t i = 0; i < j->n; i++) pj_free(j->docs[i]);
    free(j->docs);
    memset(j, 0, sizeof *j);
}

static inline char *et_slurp_fd(int fd) {
    off_t n = lseek(fd, 0, SEEK_END);
    char *b = malloc((size_t)(n > 0 ? n : 0) + 1);
    if (!b) return NULL;
    lseek(fd, 0, SEEK_SET);
    ssize_t got = n > 0 ? read(fd, b, (size_t)n) : 0;
    b[got > 0 ? got : 0] = 0;
    return b;
}

/* Run fn(argc, argv) with fds 1 and 2 redirected; returns malloc'd stdout (and stderr in *err). */
static inline char *et_capture(int (*fn)(int, char **), int argc, char **argv, int *rc, char **err) {
    char p1[] = "/tmp/t5g_test_outXXXXXX", p2[] = "/tmp/t5g_test_errXXXXXX";
    int f1 = mkstemp(p1), f2 = mkstemp(p2);
    if (f1 < 0 || f2 < 0) return NULL;
    fflush(stdout);
    fflush(stderr);
    int s1 = dup(1), s2 = dup(2);
    dup2(f1, 1);
    dup2(f2, 2);
    *rc = fn(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(s1, 1);
    dup2(s2, 2);
    close(s1);
    close(s2);
    char *out = et_slurp_fd(f1), *e = et_slurp_fd(f2);
    close(f1);
    close(f2);
    unlink(p1);
    unlink(p2);
    if (err) *err = e;
    else free(e);
    return out;
}

/* 1 if err is exactly one line "t5g: error: ...\n" (the CLI error convention). */
static inline int et_one_error_line(const char *err) {
    const char *nl = err ? strchr(err, '\n') : NULL;
    return err && !strncmp(err, "t5g: error: ", 12) && nl && nl[1] == 0;
}

/* Value of key as a C string ("" if absent or not a string). */
static inline const char *et_str(const pj_value *obj, const char *key) {
    const pj_value *v = pj_get(obj, key);
    return v && v->type == PJ_STR ? v->s : "";
}

static inline double et_num(const pj_value *obj, const char *key) {
    const pj_value *v = pj_get(obj, key);
    return v && (v->type == PJ_INT || v->type == PJ_FLOAT) ? v->num : 0;
}

#endif
