/* stop_strings.c - see stop_strings.h */
#include "generate/stop_strings.h"
#include "core/err.h"
#include "text/tokenizer.h"
#include <stdlib.h>
#include <string.h>

struct t5g_stop_strings {
    int nv;       /* tokenizer vocabulary */
    int64_t *off; /* [nv + 1] each id's bytes in blob */
    char *blob;
    int n;
    char **str; /* the stop strings */
    int *len;
    int window; /* HF maximum_token_len: tokens looked at */
};

void t5g_stop_strings_free(t5g_stop_strings *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) free(s->str[i]);
    free(s->str);
    free(s->len);
    free(s->off);
    free(s->blob);
    free(s);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* one piece's bytes as HF's byte_fallback mode reads them; returns the count written to out */
static size_t piece_bytes(const char *p, char *out) {
    size_t n = strlen(p);
    if (n == 6 && !strncmp(p, "<0x", 3) && p[5] == '>' && hexval(p[3]) >= 0 && hexval(p[4]) >= 0) {
        out[0] = (char)(hexval(p[3]) * 16 + hexval(p[4]));
        return 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (!strncmp(p + i, "\xe2\x96\x81", 3)) { /* U+2581 is the space */
            out[k++] = ' ';
            i += 3;
        } else {
            out[k++] = p[i++];
        }
    }
    return k;
}

t5g_stop_strings *t5g_stop_strings_new(const t5g_tokenizer *tok, const char *const *strings, int n) {
    T5G_CHECK_NULL(tok, "stop strings need a tokenizer (the checkpoint has none: pass --tokenizer)");
    T5G_CHECK_NULL(n >= 1 && n <= T5G_MAX_STOP_STRINGS, "between 1 and %d stop strings, got %d", T5G_MAX_STOP_STRINGS,
                   n);
    t5g_stop_strings *s = t5g_calloc(1, sizeof *s, "stop strings");
    if (!s) return NULL;
    s->nv = t5g_tokenizer_vocab_size(tok);
    s->str = calloc(n, sizeof(char *));
    s->len = calloc(n, sizeof(int));
    s->off = malloc(sizeof(int64_t) * (s->nv + 1));
    size_t cap = 0;
    for (int i = 0; i < s->nv; i++) {
        const char *p = t5g_tokenizer_piece(tok, i);
        cap += p ? strlen(p) : 0;
    }
    s->blob = malloc(cap + 1);
    if (!s->str || !s->len || !s->off || !s->blob) {
        t5g_stop_strings_free(s);
        T5G_FAIL("out of memory for the stop strings");
        return NULL;
    }
    int64_t at = 0;
    for (int i = 0; i < s->nv; i++) {
        s->off[i] = at;
        const char *p = t5g_tokenizer_piece(tok, i);
        if (p) at += (int64_t)piece_bytes(p, s->blob + at);
    }
    s->off[s->nv] = at;
    for (int i = 0; i < n; i++) {
        size_t L = strings[i] ? strlen(strings[i]) : 0;
        if (L == 0 || L > T5G_MAX_STOP_LEN) {
            t5g_stop_strings_free(s);
            T5G_FAIL("stop string %d is %s: each must have 1..%d bytes", i + 1, L ? "too long" : "empty",
                     T5G_MAX_STOP_LEN);
            return NULL;
        }
        s->str[i] = strdup(strings[i]);
        s->len[i] = (int)L;
        s->n = i + 1;
        if (!s->str[i]) {
            t5g_stop_strings_free(s);
            T5G_FAIL("out of memory");
            return NULL;
        }
        if ((int)L > s->window) s->window = (int)L;
    }
    return s;
}

/* bytes of token id; NULL for an id the tokenizer lacks */
static const char *bytes_of(const t5g_stop_strings *s, int32_t id, int *len) {
    if (id < 0 || id >= s->nv) return NULL;
    *len = (int)(s->off[id + 1] - s->off[id]);
    return s->blob + s->off[id];
}

/* Does string k end at byte e of the last token?  Walk back through the earlier tokens
 * (hist[n-1], hist[n-2], ...) within the window. */
static int ends_at(const t5g_stop_strings *s, int k, const char *last, int e, const int32_t *hist, int n) {
    const char *str = s->str[k];
    int j = s->len[k] - 1; /* next string byte to match, from the end */
    for (int i = e; i >= 0 && j >= 0; i--, j--)
        if (last[i] != str[j]) return 0;
    for (int t = n - 1, used = 1; j >= 0; t--, used++) {
        int blen = 0;
        const char *b = t >= 0 && used < s->window ? bytes_of(s, hist[t], &blen) : NULL;
        if (!b) return 0;
        for (int i = blen - 1; i >= 0 && j >= 0; i--, j--)
            if (b[i] != str[j]) return 0;
    }
    return 1;
}

int t5g_stop_strings_hit(const t5g_stop_strings *s, const int32_t *hist, int n, int32_t last) {
    if (!s) return 0;
    int blen = 0;
    const char *b = bytes_of(s, last, &blen);
    if (!b) return 0;
    for (int k = 0; k < s->n; k++)
        for (int e = 0; e < blen; e++)
            if (b[e] == s->str[k][s->len[k] - 1] && ends_at(s, k, b, e, hist, n)) return 1;
    return 0;
}
