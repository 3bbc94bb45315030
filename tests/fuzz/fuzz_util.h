/* fuzz_util.h - shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c, `make fuzz`). */
#ifndef T5G_FUZZ_UTIL_H
#define T5G_FUZZ_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The input as a NUL-terminated copy (the readers take C strings). */
static inline char *fz_str(const uint8_t *d, size_t n) {
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, d, n);
    s[n] = 0;
    return s;
}

/* The input as a file (for readers that take a path); one per process, rewritten each run. */
static inline const char *fz_file(const uint8_t *d, size_t n, const char *suffix) {
    static char path[256];
    snprintf(path, sizeof path, "/tmp/t5g-fuzz-%d%s", (int)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(d, 1, n, f) != n) abort();
    fclose(f);
    return path;
}

/* Split the input at its first '\n' (two texts for pairwise scorers). */
static inline void fz_split(const char *s, size_t n, size_t *a_len, const char **b, size_t *b_len) {
    const char *nl = memchr(s, '\n', n);
    *a_len = nl ? (size_t)(nl - s) : n;
    *b = nl ? nl + 1 : s + n;
    *b_len = n - (size_t)(*b - s);
}

/* The input (n bytes) as a C string, all, split at its first '\n' into a (a_len bytes at all)
 * and b (b_len bytes), and the two parts as C strings of their own, a_str and b_str. */
typedef struct {
    char *all, *a_str, *b_str;
    const char *b;
    size_t n, a_len, b_len;
} fz_pair;

static inline void fz_pair_make(fz_pair *p, const uint8_t *d, size_t n) {
    p->all = fz_str(d, n);
    p->n = n;
    fz_split(p->all, n, &p->a_len, &p->b, &p->b_len);
    p->a_str = fz_str((const uint8_t *)p->all, p->a_len);
    p->b_str = fz_str((const uint8_t *)p->b, p->b_len);
}

static inline void fz_pair_free(fz_pair *p) {
    free(p->all);
    free(p->a_str);
    free(p->b_str);
}
#endif
