/* chrf.c - chrF / chrF++ as sacreBLEU 2.6.0 (metrics/chrf.py, metrics/helpers.py). */
#include "chrf.h"
#include "bleu.h"
#include "unicode.h"
#include "core/err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void chrf_opts_default(chrf_opts *o) {
    memset(o, 0, sizeof *o);
    o->char_order = 6;
    o->beta = 2;
}

static int check_opts(const chrf_opts *o) {
    T5G_CHECK(o, "chrF: no options");
    T5G_CHECK(o->char_order >= 0 && o->word_order >= 0 && o->char_order + o->word_order >= 1 &&
                  o->char_order + o->word_order <= CHRF_MAX_ORDER,
              "chrF: char order %d + word order %d must be 1..%d (each >= 0)", o->char_order, o->word_order,
              CHRF_MAX_ORDER);
    T5G_CHECK(o->beta >= 0 && o->beta <= 1000, "chrF: beta %d out of range (0..1000)", o->beta);
    return 0;
}

/* ---------------------------------------------------------------- n-grams */

typedef struct {
    const char *p;
    size_t n;
} gram;

typedef struct {
    gram *g;
    size_t n, cap;
} gram_list;

/* One segment: the (lowercased) text without whitespace, the word tokens joined by one
 * space, and the sorted n-grams of each order (character orders first, then word orders). */
typedef struct {
    u8buf chars, words;
    gram_list ord[CHRF_MAX_ORDER];
} seg_grams;

static void seg_free(seg_grams *s) {
    u8buf_free(&s->chars);
    u8buf_free(&s->words);
    for (int k = 0; k < CHRF_MAX_ORDER; k++) free(s->ord[k].g);
    memset(s, 0, sizeof *s);
}

static int cmp_gram(const void *a, const void *b) {
    const gram *x = a, *y = b;
    int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static int list_push(gram_list *l, const char *p, size_t n) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        gram *g = realloc(l->g, cap * sizeof *g);
        T5G_CHECK(g, "out of memory");
        l->g = g;
        l->cap = cap;
    }
    l->g[l->n].p = p;
    l->g[l->n++].n = n;
    return 0;
}

/* n-grams of n consecutive units whose byte starts are off[0..count] (off[count] = end). */
static int units_ngrams(const char *base, const size_t *off, size_t count, int n, size_t sep, gram_list *l) {
    for (size_t i = 0; i + (size_t)n <= count; i++) T5G_TRY(list_push(l, base + off[i], off[i + n] - off[i] - sep));
    if (l->n) qsort(l->g, l->n, sizeof *l->g, cmp_gram);
    return 0;
}

static int put_word(u8buf *w, size_t **off, size_t *cnt, size_t *cap, const char *p, size_t n) {
    if (*cnt + 2 > *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        size_t *o = realloc(*off, c * sizeof *o);
        T5G_CHECK(o, "out of memory");
        *off = o;
        *cap = c;
    }
    (*off)[(*cnt)++] = w->n;
    if (u8buf_put(w, p, n) || u8buf_putc(w, ' ')) return -1;
    return 0;
}

/* string.punctuation: the only characters _remove_punctuation splits off */
static int is_ascii_punct(char c) {
    return c && strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) != NULL;
}

typedef struct {
    u8buf *w;
    size_t **off, *cnt, *cap;
} word_ctx;

/* CHRF._remove_punctuation for one word of str.split(). */
static int split_word(const char *p, size_t n, void *vctx) {
    word_ctx *c = vctx;
    size_t i = 0;
    u8_next(p, n, &i);
    if (i == n) return put_word(c->w, c->off, c->cnt, c->cap, p, n); /* one character */
    if (is_ascii_punct(p[n - 1]))
        return put_word(c->w, c->off, c->cnt, c->cap, p, n - 1) || put_word(c->w, c->off, c->cnt, c->cap, p + n - 1, 1);
    if (is_ascii_punct(p[0]))
        return put_word(c->w, c->off, c->cnt, c->cap, p, 1) || put_word(c->w, c->off, c->cnt, c->cap, p + 1, n - 1);
    return put_word(c->w, c->off, c->cnt, c->cap, p, n);
}

static int char_grams(const char *s, size_t n, const chrf_opts *o, seg_grams *g) {
    for (size_t i = 0; i < n;) { /* ''.join(line.split()) unless whitespace is kept */
        size_t at = i;
        uint32_t cp = u8_next(s, n, &i);
        if (o->whitespace || !py_isspace(cp)) T5G_TRY(u8buf_put(&g->chars, s + at, i - at));
    }
    T5G_TRY(u8buf_put(&g->chars, "", 0));
    size_t *off = malloc((g->chars.n + 1) * sizeof *off), count = 0;
    T5G_CHECK(off, "out of memory");
    for (size_t i = 0; i < g->chars.n;) {
        off[count++] = i;
        u8_next(g->chars.p, g->chars.n, &i);
    }
    off[count] = g->chars.n;
    int rc = 0;
    for (int k = 0; k < o->char_order && !rc; k++) rc = units_ngrams(g->chars.p, off, count, k + 1, 0, &g->ord[k]);
    free(off);
    return rc;
}

static int word_grams(const char *s, size_t n, const chrf_opts *o, seg_grams *g) {
    size_t cap = 64, count = 0, *off = malloc(cap * sizeof *off);
    T5G_CHECK(off, "out of memory");
    word_ctx c = {&g->words, &off, &count, &cap};
    int rc = py_split_each(s, n, split_word, &c);
    if (!rc) off[count] = g->words.n; /* each word is followed by one space: n-gram = span - 1 */
    for (int k = 0; k < o->word_order && !rc; k++)
        rc = units_ngrams(g->words.p, off, count, k + 1, 1, &g->ord[o->char_order + k]);
    free(off);
    return rc;
}

static int seg_extract(const char *s, size_t n, const chrf_opts *o, seg_grams *g) {
    memset(g, 0, sizeof *g);
    u8buf low = {0};
    if (o->lowercase) {
        if (py_lower(s, n, &low) || u8buf_put(&low, "", 0)) {
            u8buf_free(&low);
            return -1;
        }
        s = low.p;
        n = low.n;
    }
    int rc = char_grams(s, n, o, g);
    if (!rc && o->word_order > 0) rc = word_grams(s, n, o, g);
    u8buf_free(&low);
    if (rc) seg_free(g);
    return rc;
}

/* _get_match_statistics of one order: [hyp count (0 if no reference n-gram), ref count, matches] */
static void match_stats(const gram_list *h, const gram_list *r, long long *out) {
    long long match = 0;
    size_t j = 0;
    for (size_t i = 0; i < h->n;) {
        size_t ie = i + 1;
        while (ie < h->n && !cmp_gram(&h->g[i], &h->g[ie])) ie++;
        while (j < r->n && cmp_gram(&r->g[j], &h->g[i]) < 0) j++;
        size_t je = j;
        while (je < r->n && !cmp_gram(&r->g[je], &h->g[i])) je++;
        size_t ch = ie - i, cr = je - j;
        match += (long long)(ch < cr ? ch : cr);
        i = ie;
        j = je;
    }
    out[0] = r->n ? (long long)h->n : 0;
    out[1] = (long long)r->n;
    out[2] = match;
}

/* ---------------------------------------------------------------- scores */

double chrf_f_score(const long long *st, const chrf_opts *o) {
    const double eps = 1e-16;
    double factor = (double)o->beta * o->beta, score = 0.0, avg_prec = 0.0, avg_rec = 0.0;
    int order = o->char_order + o->word_order, effective_order = 0;
    for (int i = 0; i < order; i++) {
        long long n_hyp = st[3 * i], n_ref = st[3 * i + 1], n_match = st[3 * i + 2];
        double prec = n_hyp > 0 ? (double)n_match / (double)n_hyp : eps;
        double rec = n_ref > 0 ? (double)n_match / (double)n_ref : eps;
        double denom = factor * prec + rec;
        score += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
        if (n_hyp > 0 && n_ref > 0) { /* sacreBLEU < 2.0 style effective order */
            avg_prec += prec;
            avg_rec += rec;
            effective_order++;
        }
    }
    if (o->eps_smoothing) return 100 * score / order;
    if (effective_order == 0) {
        avg_prec = avg_rec = 0.0;
    } else {
        avg_prec /= effective_order;
        avg_rec /= effective_order;
    }
    if (avg_prec + avg_rec == 0) return 0.0;
    double s = (1 + factor) * avg_prec * avg_rec;
    s /= (factor * avg_prec) + avg_rec;
    return 100 * s;
}

/* Best [hyp, ref, match] statistics of one segment over its references. */
static int segment_stats(const char *h, size_t hn, const char *const *refs, const size_t *lens, size_t nr,
                         const chrf_opts *o, long long *best) {
    int order = o->char_order + o->word_order;
    seg_grams hg;
    T5G_TRY(seg_extract(h, hn, o, &hg));
    double best_f = -1.0;
    for (size_t r = 0; r < nr; r++) {
        seg_grams rg;
        if (seg_extract(refs[r], lens[r], o, &rg)) {
            seg_free(&hg);
            return -1;
        }
        long long st[3 * CHRF_MAX_ORDER];
        for (int k = 0; k < order; k++) match_stats(&hg.ord[k], &rg.ord[k], st + 3 * k);
        double f = chrf_f_score(st, o);
        if (f > best_f) {
            best_f = f;
            memcpy(best, st, 3 * (size_t)order * sizeof *st);
        }
        seg_free(&rg);
    }
    seg_free(&hg);
    return 0;
}

static int check_utf8(const char *s, size_t n, const char *what, size_t seg) {
    size_t bad;
    if (u8_validate(s, n, &bad)) return T5G_FAIL("%s of segment %zu: invalid UTF-8 at byte %zu", what, seg + 1, bad);
    return 0;
}

int chrf_corpus(const char *const *hyps, const size_t *hyp_lens, size_t n, const char *const *const *refs,
                const size_t *const *ref_lens, size_t nstreams, const chrf_opts *o, chrf_score *out) {
    T5G_TRY(check_opts(o));
    T5G_CHECK(hyps && refs && out, "chrF: no hypotheses, references or output");
    T5G_CHECK(n > 0, "chrF: no hypotheses to score (sacreBLEU cannot score an empty corpus)");
    T5G_CHECK(nstreams > 0, "chrF: no reference stream");
    memset(out, 0, sizeof *out);
    int order = o->char_order + o->word_order, nrefs = -2;
    const char **sr = malloc(nstreams * sizeof *sr);
    size_t *sl = malloc(nstreams * sizeof *sl);
    int rc = sr && sl ? 0 : T5G_FAIL("out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        size_t nr = 0, hn = hyp_lens ? hyp_lens[i] : strlen(hyps[i]);
        if ((rc = check_utf8(hyps[i], hn, "hypothesis", i))) break;
        for (size_t r = 0; r < nstreams && !rc; r++) {
            if (!refs[r][i]) continue;
            sr[nr] = refs[r][i];
            sl[nr] = ref_lens && ref_lens[r] ? ref_lens[r][i] : strlen(refs[r][i]);
            rc = check_utf8(sr[nr], sl[nr], "reference", i);
            nr++;
        }
        if (rc) break;
        if (!nr) {
            rc = T5G_FAIL("chrF: segment %zu has no reference", i + 1);
            break;
        }
        nrefs = nrefs == -2 || nrefs == (int)nr ? (int)nr : -1;
        long long st[3 * CHRF_MAX_ORDER];
        if ((rc = segment_stats(hyps[i], hn, sr, sl, nr, o, st))) break;
        for (int k = 0; k < 3 * order; k++) out->stats[k] += st[k];
    }
    free(sr);
    free(sl);
    if (rc) return -1;
    out->nrefs = nrefs;
    out->score = chrf_f_score(out->stats, o);
    return 0;
}

int chrf_sentence(const char *hyp, const char *const *refs, size_t nrefs, const chrf_opts *o, chrf_score *out) {
    T5G_CHECK(hyp && refs && nrefs > 0, "chrF: need a hypothesis and at least one reference");
    const char *const **streams = malloc(nrefs * sizeof *streams);
    T5G_CHECK(streams, "out of memory");
    for (size_t r = 0; r < nrefs; r++) streams[r] = &refs[r];
    int rc = chrf_corpus(&hyp, NULL, 1, streams, NULL, nrefs, o, out);
    free(streams);
    return rc;
}

void chrf_name(const chrf_opts *o, char *buf, size_t n) {
    int w = snprintf(buf, n, "chrF%d", o->beta);
    for (int k = 0; k < o->word_order && w >= 0 && (size_t)w + 1 < n; k++) buf[w++] = '+', buf[w] = 0;
}

int chrf_signature(const chrf_opts *o, int nrefs, int short_form, char *buf, size_t n) {
    T5G_TRY(check_opts(o));
    char nr[32];
    if (nrefs < 0) snprintf(nr, sizeof nr, "var");
    else snprintf(nr, sizeof nr, "%d", nrefs);
    int w = snprintf(buf, n, "%s:%s|%s:%s|%s:%s|nc:%d|nw:%d|%s:%s|%s:%s", short_form ? "#" : "nrefs", nr,
                     short_form ? "c" : "case", o->lowercase ? "lc" : "mixed", short_form ? "e" : "eff",
                     o->eps_smoothing ? "no" : "yes", o->char_order, o->word_order, short_form ? "s" : "space",
                     o->whitespace ? "yes" : "no", short_form ? "v" : "version", BLEU_VERSION);
    T5G_CHECK(w >= 0 && (size_t)w < n, "signature buffer too small (%zu bytes)", n);
    return 0;
}
