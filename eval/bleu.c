/* bleu.c - sacreBLEU 2.6.0 BLEU: tokenizers, statistics, score, signature, output.
 * Sections follow sacreBLEU 2.6's pipeline: tokenizers, n-gram statistics, score, output. */
#define _GNU_SOURCE /* memmem */
#include "bleu.h"
#include "core/hash.h"
#include "pyfmt.h"
#include "unicode.h"
#include "core/err.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ names */

void bleu_opts_default(bleu_opts *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->tokenize = BLEU_TOK_13A;
    o->smooth_method = BLEU_SMOOTH_EXP;
    o->smooth_value = NAN;
}

static const char *const k_tok_names[] = {"13a", "intl", "none"};
static const char *const k_smooth_names[] = {"exp", "floor", "add-k", "none"};

static int name_index(const char *const *names, int n, const char *name) {
    for (int i = 0; name && i < n; i++)
        if (!strcmp(names[i], name)) return i;
    return -1;
}
int bleu_tokenize_from_name(const char *name) {
    return name_index(k_tok_names, 3, name);
}
int bleu_smooth_from_name(const char *name) {
    return name_index(k_smooth_names, 4, name);
}
const char *bleu_tokenize_name(bleu_tokenize t) {
    return (unsigned)t < 3 ? k_tok_names[t] : "?";
}
const char *bleu_smooth_name(bleu_smooth s) {
    return (unsigned)s < 4 ? k_smooth_names[s] : "?";
}

/* ------------------------------------------------------------------ tokenizers */

typedef struct {
    u8buf low, a, b, out;
} prep_bufs;

static void prep_free(prep_bufs *p) {
    u8buf_free(&p->low);
    u8buf_free(&p->a);
    u8buf_free(&p->b);
    u8buf_free(&p->out);
}

/* Python str.replace(pat, rep): non-overlapping, left to right. */
static int replace_all(const char *s, size_t n, const char *pat, const char *rep, u8buf *out) {
    size_t pn = strlen(pat), rn = strlen(rep), i = 0;
    out->n = 0;
    if (u8buf_reserve(out, n)) return -1;
    while (i < n) {
        const char *hit = pn <= n - i ? memmem(s + i, n - i, pat, pn) : NULL;
        size_t upto = hit ? (size_t)(hit - s) : n;
        if (u8buf_put(out, s + i, upto - i)) return -1;
        if (!hit) break;
        if (u8buf_put(out, rep, rn)) return -1;
        i = upto + pn;
    }
    return u8buf_put(out, "", 0); /* keeps out->p valid for empty results */
}

/* Apply a chain of replacements, ping-ponging between two buffers; s and n follow the result. */
static int replace_chain(const char **s, size_t *n, const char *const (*pairs)[2], int npairs, u8buf *x, u8buf *y) {
    for (int k = 0; k < npairs; k++) {
        if (!memmem(*s, *n, pairs[k][0], strlen(pairs[k][0]))) continue;
        u8buf *dst = (*s == x->p) ? y : x;
        if (replace_all(*s, *n, pairs[k][0], pairs[k][1], dst)) return -1;
        *s = dst->p;
        *n = dst->n;
    }
    return 0;
}

static int is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

/* R1 class of 13a: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ / */
static int in_p1(unsigned char c) {
    return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
           (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F;
}

/* One re.sub pass of a two-character 13a pattern over bytes (equivalent to code points:
 * every class tests ASCII members only).  kind 2: ([^0-9])([.,]) -> "\1 \2 ";
 * kind 3: ([.,])([^0-9]) -> " \1 \2"; kind 4: ([0-9])(-) -> "\1 \2 ". */
static int pass_13a(const char *s, size_t n, int kind, u8buf *out) {
    out->n = 0;
    if (u8buf_reserve(out, n + n / 2 + 8)) return -1;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i], d = i + 1 < n ? (unsigned char)s[i + 1] : 0;
        int hit = i + 1 < n &&
                  ((kind == 2 && !is_digit(c) && (d == '.' || d == ',')) ||
                   (kind == 3 && (c == '.' || c == ',') && !is_digit(d)) || (kind == 4 && is_digit(c) && d == '-'));
        if (!hit) {
            if (u8buf_putc(out, (char)c)) return -1;
            i++;
            continue;
        }
        char r[4];
        if (kind == 3) {
            r[0] = ' ';
            r[1] = (char)c;
            r[2] = ' ';
            r[3] = (char)d;
        } else {
            r[0] = (char)c;
            r[1] = ' ';
            r[2] = (char)d;
            r[3] = ' ';
        }
        if (u8buf_put(out, r, 4)) return -1;
        i += 2;
    }
    return 0;
}

static int tok_13a(const char *s, size_t n, prep_bufs *p) {
    static const char *const pre[][2] = {{"<skipped>", ""}, {"-\n", ""}, {"\n", " "}};
    static const char *const ent[][2] = {{"&quot;", "\""}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
    if (replace_chain(&s, &n, pre, 3, &p->a, &p->b)) return -1;
    if (memchr(s, '&', n) && replace_chain(&s, &n, ent, 4, &p->a, &p->b)) return -1;
    u8buf *r1 = (s == p->a.p) ? &p->b : &p->a, *other = r1 == &p->a ? &p->b : &p->a;
    r1->n = 0;
    if (u8buf_reserve(r1, 3 * n + 2) || u8buf_putc(r1, ' ') || u8buf_putc(r1, ' ') ||
        u8buf_putc(r1, ' ')) /* the padding space is itself in class P1 */
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_p1(c)) {
            char t[3] = {' ', (char)c, ' '};
            if (u8buf_put(r1, t, 3)) return -1;
        } else if (u8buf_putc(r1, (char)c)) return -1;
    }
    if (u8buf_put(r1, "   ", 3)) return -1;
    if (pass_13a(r1->p, r1->n, 2, other) || pass_13a(other->p, other->n, 3, r1) || pass_13a(r1->p, r1->n, 4, other))
        return -1;
    p->out.n = 0;
    return py_split_join(other->p, other->n, &p->out);
}

/* One regex.sub pass of intl over code points.  kind 1: (\P{N})(\p{P}) -> "\1 \2 ";
 * kind 2: (\p{P})(\P{N}) -> " \1 \2"; kind 3: (\p{S}) -> " \1 ". */
static int pass_intl(const char *s, size_t n, int kind, u8buf *out) {
    out->n = 0;
    if (u8buf_reserve(out, n + n / 2 + 8)) return -1;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int c1 = rx_class(u8_next(s, n, &j));
        if (kind == 3) {
            if (c1 == RX_S) {
                if (u8buf_putc(out, ' ') || u8buf_put(out, s + i, j - i) || u8buf_putc(out, ' ')) return -1;
            } else if (u8buf_put(out, s + i, j - i)) return -1;
            i = j;
            continue;
        }
        size_t k = j;
        int c2 = j < n ? rx_class(u8_next(s, n, &k)) : -1;
        int hit = j < n && (kind == 1 ? (c1 != RX_N && c2 == RX_P) : (c1 == RX_P && c2 != RX_N));
        if (!hit) {
            if (u8buf_put(out, s + i, j - i)) return -1;
            i = j;
            continue;
        }
        if (kind == 2 && u8buf_putc(out, ' ')) return -1;
        if (u8buf_put(out, s + i, j - i) || u8buf_putc(out, ' ') || u8buf_put(out, s + j, k - j)) return -1;
        if (kind == 1 && u8buf_putc(out, ' ')) return -1;
        i = k;
    }
    return 0;
}

static int tok_intl(const char *s, size_t n, prep_bufs *p) {
    if (pass_intl(s, n, 1, &p->a) || pass_intl(p->a.p, p->a.n, 2, &p->b) || pass_intl(p->b.p, p->b.n, 3, &p->a))
        return -1;
    p->out.n = 0;
    return py_split_join(p->a.p, p->a.n, &p->out);
}

/* lower (optional) -> rstrip -> tokenizer; *res points into p (valid until the next call). */
static int preprocess(prep_bufs *p, const char *s, size_t n, const bleu_opts *o, const char **res, size_t *rn) {
    if (o->lowercase) {
        p->low.n = 0;
        if (py_lower(s, n, &p->low) || u8buf_put(&p->low, "", 0)) return -1;
        s = p->low.p;
        n = p->low.n;
    }
    n = py_rstrip_len(s, n);
    if (o->tokenize == BLEU_TOK_NONE) {
        *res = s;
        *rn = n;
        return 0;
    }
    if ((o->tokenize == BLEU_TOK_13A ? tok_13a(s, n, p) : tok_intl(s, n, p)) || u8buf_put(&p->out, "", 0)) return -1;
    *res = p->out.p;
    *rn = p->out.n;
    return 0;
}

static int check_opts(const bleu_opts *o) {
    T5G_CHECK(o, "no BLEU options given");
    T5G_CHECK((unsigned)o->tokenize <= BLEU_TOK_NONE, "unknown BLEU tokenizer %d (use 13a, intl or none)",
              (int)o->tokenize);
    T5G_CHECK((unsigned)o->smooth_method <= BLEU_SMOOTH_NONE,
              "unknown BLEU smoothing %d (use exp, floor, add-k or none)", (int)o->smooth_method);
    return 0;
}

int bleu_preprocess(const char *s, size_t len, const bleu_opts *o, char **out, size_t *out_len) {
    T5G_CHECK(s && out, "bleu_preprocess: no input string or output pointer");
    T5G_TRY(check_opts(o));
    size_t bad;
    T5G_CHECK(!u8_validate(s, len, &bad), "invalid UTF-8 at byte offset %zu of the segment", bad);
    prep_bufs p = {0};
    const char *r;
    size_t rn;
    int rc = preprocess(&p, s, len, o, &r, &rn);
    if (!rc) {
        *out = malloc(rn + 1);
        if (!*out) rc = T5G_FAIL("out of memory (%zu bytes for a tokenized segment)", rn + 1);
        else {
            memcpy(*out, r, rn);
            (*out)[rn] = 0;
            if (out_len) *out_len = rn;
        }
    }
    prep_free(&p);
    return rc;
}

/* ------------------------------------------------------------------ n-gram statistics */

/* Tokens are interned to ids so an n-gram is up to four integers. */
typedef struct {
    uint64_t *hash;
    uint32_t *off, *len, *id; /* slot -> token bytes in `bytes`, id (UINT32_MAX = empty) */
    size_t cap, count;
    u8buf bytes;
} interner;

typedef struct {
    uint32_t ids[BLEU_MAX_ORDER];
    uint32_t gen; /* slot is live iff gen == table gen */
    int32_t order, maxref, cur, curref, hyp;
} ngram_slot;

typedef struct {
    ngram_slot *slot;
    size_t cap;
    uint32_t gen;
} ngram_table;

typedef struct {
    prep_bufs prep;
    interner in;
    ngram_table ng;
    uint32_t *ids; /* token ids of the current string */
    size_t nids, cap_ids;
} bleu_ctx;

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = t5g_fnv1a64_bytes(s, n);
    return h ^ (h >> 29); /* the table index takes low bits: fold the high ones in */
}

static int interner_grow(interner *t) {
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    interner g = {0};
    g.hash = malloc(ncap * sizeof *g.hash);
    g.off = malloc(ncap * sizeof *g.off);
    g.len = malloc(ncap * sizeof *g.len);
    g.id = malloc(ncap * sizeof *g.id);
    if (!g.hash || !g.off || !g.len || !g.id) {
        free(g.hash);
        free(g.off);
        free(g.len);
        free(g.id);
        return T5G_FAIL("out of memory (token table of %zu entries)", ncap);
    }
    for (size_t i = 0; i < ncap; i++) g.id[i] = UINT32_MAX;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->id[i] == UINT32_MAX) continue;
        size_t j = t->hash[i] & (ncap - 1);
        while (g.id[j] != UINT32_MAX) j = (j + 1) & (ncap - 1);
        g.hash[j] = t->hash[i];
        g.off[j] = t->off[i];
        g.len[j] = t->len[i];
        g.id[j] = t->id[i];
    }
    free(t->hash);
    free(t->off);
    free(t->len);
    free(t->id);
    t->hash = g.hash;
    t->off = g.off;
    t->len = g.len;
    t->id = g.id;
    t->cap = ncap;
    return 0;
}

static int intern(interner *t, const char *s, size_t n, uint32_t *id) {
    if ((t->count + 1) * 2 > t->cap && interner_grow(t)) return -1;
    T5G_CHECK(t->bytes.n + n < UINT32_MAX, "BLEU input too large (over 4 GiB of distinct tokens)");
    uint64_t h = hash_bytes(s, n);
    size_t j = h & (t->cap - 1);
    while (t->id[j] != UINT32_MAX) {
        if (t->hash[j] == h && t->len[j] == n && !memcmp(t->bytes.p + t->off[j], s, n)) {
            *id = t->id[j];
            return 0;
        }
        j = (j + 1) & (t->cap - 1);
    }
    t->hash[j] = h;
    t->off[j] = (uint32_t)t->bytes.n;
    t->len[j] = (uint32_t)n;
    t->id[j] = (uint32_t)t->count++;
    *id = t->id[j];
    return u8buf_put(&t->bytes, s, n);
}

static int collect_id(const char *tok, size_t n, void *vctx) {
    bleu_ctx *c = vctx;
    if (c->nids == c->cap_ids) {
        size_t nc = c->cap_ids ? c->cap_ids * 2 : 256;
        uint32_t *p = realloc(c->ids, nc * sizeof *p);
        if (!p) return T5G_FAIL("out of memory (token list of %zu entries)", nc);
        c->ids = p;
        c->cap_ids = nc;
    }
    return intern(&c->in, tok, n, &c->ids[c->nids++]);
}

/* Preprocess one segment into c->ids[start..]: returns the token count or -1. */
static long long segment_ids(bleu_ctx *c, const char *s, size_t n, const bleu_opts *o) {
    const char *r;
    size_t rn, start = c->nids;
    if (preprocess(&c->prep, s, n, o, &r, &rn) || py_split_each(r, rn, collect_id, c)) return -1;
    return (long long)(c->nids - start);
}

static int ngram_reserve(ngram_table *t, size_t need) {
    if (++t->gen == 0) { /* generation wrapped: really clear */
        for (size_t i = 0; i < t->cap; i++) t->slot[i].gen = 0;
        t->gen = 1;
    }
    if (need * 2 <= t->cap) return 0;
    size_t cap = t->cap ? t->cap : 1024;
    while (cap < need * 2) cap *= 2;
    free(t->slot);
    t->slot = calloc(cap, sizeof *t->slot);
    t->cap = t->slot ? cap : 0;
    T5G_CHECK(t->slot, "out of memory (n-gram table of %zu entries)", cap);
    return 0;
}

static ngram_slot *ngram_find(ngram_table *t, const uint32_t *ids, int order) {
    uint64_t h = (uint64_t)order * 0x9E3779B97F4A7C15ull;
    for (int k = 0; k < order; k++) h = (h ^ ids[k]) * 0xff51afd7ed558ccdull, h ^= h >> 32;
    size_t j = h & (t->cap - 1);
    for (;; j = (j + 1) & (t->cap - 1)) {
        ngram_slot *s = &t->slot[j];
        if (s->gen != t->gen) {
            memset(s, 0, sizeof *s);
            s->gen = t->gen;
            s->order = order;
            s->curref = -1;
            memcpy(s->ids, ids, (size_t)order * sizeof *ids);
            return s;
        }
        if (s->order == order && !memcmp(s->ids, ids, (size_t)order * sizeof *ids)) return s;
    }
}

typedef struct {
    long long hyp_len, ref_len, correct[BLEU_MAX_ORDER], total[BLEU_MAX_ORDER];
} seg_stats;

/* sacreBLEU _get_closest_ref_len: closest length, ties -> shorter. */
static long long closest_ref_len(long long hyp_len, const long long *lens, size_t n) {
    long long best_diff = -1, best = -1;
    for (size_t i = 0; i < n; i++) {
        long long d = llabs(hyp_len - lens[i]);
        if (best_diff == -1 || d < best_diff) {
            best_diff = d;
            best = lens[i];
        } else if (d == best_diff && lens[i] < best) best = lens[i];
    }
    return best;
}

/* Statistics of one segment; refs[r] may be NULL (None: skipped). */
static int segment_stats(bleu_ctx *c, const char *hyp, size_t hn, const char *const *refs, const size_t *rlens,
                         size_t nrefs, const bleu_opts *o, seg_stats *st) {
    long long lens_local[16], *lens = nrefs <= 16 ? lens_local : malloc(nrefs * sizeof *lens);
    T5G_CHECK(lens, "out of memory (%zu reference lengths)", nrefs);
    size_t nlive = 0;
    int rc = -1;
    c->nids = 0;
    for (size_t r = 0; r < nrefs; r++) {
        if (!refs[r]) continue;
        long long k = segment_ids(c, refs[r], rlens[r], o);
        if (k < 0) goto out;
        lens[nlive++] = k;
    }
    if (nlive == 0) {
        T5G_FAIL("a segment has no reference (all are None)");
        goto out;
    }
    size_t ref_end = c->nids;
    long long hl = segment_ids(c, hyp, hn, o);
    if (hl < 0 || ngram_reserve(&c->ng, c->nids * BLEU_MAX_ORDER + 1)) goto out;
    /* merged reference counts: per-n-gram maximum over the references (ids are contiguous) */
    size_t pos = 0;
    for (size_t r = 0; r < nlive; r++) {
        size_t b = pos, e = b + (size_t)lens[r];
        pos = e;
        for (int order = 1; order <= BLEU_MAX_ORDER; order++)
            for (size_t i = b; i + (size_t)order <= e; i++) {
                ngram_slot *s = ngram_find(&c->ng, c->ids + i, order);
                if (s->curref != (int32_t)r) {
                    s->curref = (int32_t)r;
                    s->cur = 0;
                }
                if (++s->cur > s->maxref) s->maxref = s->cur;
            }
    }
    memset(st, 0, sizeof *st);
    st->hyp_len = hl;
    st->ref_len = closest_ref_len(hl, lens, nlive);
    for (int order = 1; order <= BLEU_MAX_ORDER; order++)
        for (size_t i = ref_end; i + (size_t)order <= c->nids; i++) {
            ngram_slot *s = ngram_find(&c->ng, c->ids + i, order);
            st->total[order - 1]++;
            if (++s->hyp <= s->maxref) st->correct[order - 1]++; /* min(hyp count, max ref count) */
        }
    rc = 0;
out:
    if (lens != lens_local) free(lens);
    return rc;
}

static void ctx_free(bleu_ctx *c) {
    prep_free(&c->prep);
    free(c->in.hash);
    free(c->in.off);
    free(c->in.len);
    free(c->in.id);
    u8buf_free(&c->in.bytes);
    free(c->ng.slot);
    free(c->ids);
}

/* ------------------------------------------------------------------ score */

static double smooth_default(bleu_smooth m) {
    return m == BLEU_SMOOTH_FLOOR ? 0.1 : 1.0;
}

/* One precision as numpy float32 scalars give it: each operation rounded to float32 (a
 * Python float operand is converted to float32 first: NumPy 2's weak scalars). */
static double f32_precision(const bleu_opts *o, double correct, double total, double mteval, double sv) {
    float t = (float)total;
    if (correct != 0) return (double)((100.0f * (float)correct) / t);
    if (o->smooth_method == BLEU_SMOOTH_EXP) return (double)(100.0f / ((float)mteval * t));
    if (o->smooth_method == BLEU_SMOOTH_FLOOR) return (double)((float)(100.0 * sv) / t);
    return 0.0;
}

int bleu_compute(const double *correct_in, const double *total_in, long long sys_len, long long ref_len,
                 const bleu_opts *o, bleu_score *out) {
    T5G_CHECK(correct_in && total_in && out, "bleu_compute: missing statistics or output");
    T5G_TRY(check_opts(o));
    double correct[BLEU_MAX_ORDER], total[BLEU_MAX_ORDER];
    memcpy(correct, correct_in, sizeof correct);
    memcpy(total, total_in, sizeof total);
    double sv = isnan(o->smooth_value) ? smooth_default(o->smooth_method) : o->smooth_value;
    double bp = 1.0;
    if (sys_len < ref_len) bp = sys_len > 0 ? exp(1.0 - (double)ref_len / (double)sys_len) : 0.0;
    double prec[BLEU_MAX_ORDER] = {0};
    double score = 0.0;
    int any = 0;
    for (int k = 0; k < BLEU_MAX_ORDER; k++) any |= correct[k] != 0;
    if (any) { /* no matches at all: 0 before any smoothing (sacreBLEU #141) */
        double mteval = 1.0;
        int eff = BLEU_MAX_ORDER;
        for (int n = 1; n <= BLEU_MAX_ORDER; n++) {
            if (o->smooth_method == BLEU_SMOOTH_ADDK && n > 1) {
                correct[n - 1] += sv;
                total[n - 1] += sv;
                if (o->f32_precisions) correct[n - 1] = (float)correct[n - 1], total[n - 1] = (float)total[n - 1];
            }
            if (total[n - 1] == 0) break;
            if (o->effective_order) eff = n;
            if (correct[n - 1] == 0) {
                if (o->smooth_method == BLEU_SMOOTH_EXP) {
                    mteval *= 2;
                    prec[n - 1] = 100. / (mteval * total[n - 1]);
                } else if (o->smooth_method == BLEU_SMOOTH_FLOOR) {
                    prec[n - 1] = 100. * sv / total[n - 1];
                }
            } else {
                prec[n - 1] = 100. * correct[n - 1] / total[n - 1];
            }
            if (o->f32_precisions) prec[n - 1] = f32_precision(o, correct[n - 1], total[n - 1], mteval, sv);
        }
        double sum = 0.0; /* CPython 3.11 sum(): plain left-to-right double addition */
        for (int n = 0; n < eff; n++) {
            T5G_CHECK(!(prec[n] < 0),
                      "BLEU precision %g is negative (math domain error in sacreBLEU); "
                      "use a non-negative --smooth-value",
                      prec[n]);
            sum += prec[n] == 0.0 ? -9999999999.0 : log(prec[n]); /* sacreBLEU my_log */
        }
        double e = exp(sum / eff);
        T5G_CHECK(!(isinf(e) && isfinite(sum)), "BLEU score overflows (math range error in sacreBLEU)");
        score = bp * e;
    }
    memset(out, 0, sizeof *out);
    out->score = score;
    memcpy(out->counts, correct, sizeof correct);
    memcpy(out->totals, total, sizeof total);
    memcpy(out->precisions, prec, sizeof prec);
    out->bp = bp;
    out->sys_len = sys_len;
    out->ref_len = ref_len;
    out->ratio = ref_len ? (double)sys_len / (double)ref_len : 0.0;
    return 0;
}

static int check_utf8(const char *s, size_t n, const char *what, size_t seg, size_t stream) {
    size_t bad;
    if (!u8_validate(s, n, &bad)) return 0;
    if (stream == (size_t)-1)
        return T5G_FAIL("%s segment %zu: invalid UTF-8 at byte offset %zu (byte 0x%02X)", what, seg + 1, bad,
                        (unsigned char)s[bad]);
    return T5G_FAIL("%s %zu, segment %zu: invalid UTF-8 at byte offset %zu (byte 0x%02X)", what, stream + 1, seg + 1,
                    bad, (unsigned char)s[bad]);
}

int bleu_corpus(const char *const *hyps, const size_t *hyp_lens, size_t n, const char *const *const *refs,
                const size_t *const *ref_lens, size_t nstreams, const bleu_opts *o, bleu_score *out) {
    T5G_TRY(check_opts(o));
    T5G_CHECK(hyps && out, "bleu_corpus: no hypotheses or output given");
    T5G_CHECK(n > 0, "no hypotheses to score (empty system output)");
    T5G_CHECK(refs && nstreams > 0, "no reference streams given");
    for (size_t r = 0; r < nstreams; r++) T5G_CHECK(refs[r], "reference stream %zu is missing", r + 1);
    const char **seg_refs = calloc(nstreams, sizeof *seg_refs);
    size_t *seg_lens = calloc(nstreams, sizeof *seg_lens);
    bleu_ctx c = {0};
    long long sums[2 + 2 * BLEU_MAX_ORDER] = {0};
    int nrefs = -2, rc = -1;
    if (!seg_refs || !seg_lens) {
        T5G_FAIL("out of memory (%zu reference streams)", nstreams);
        goto out;
    }
    out->tokenized_period_lines = 0;
    for (size_t i = 0; i < n; i++) {
        if (!hyps[i]) {
            T5G_FAIL("hypothesis %zu is NULL", i + 1);
            goto out;
        }
        size_t hl = hyp_lens ? hyp_lens[i] : strlen(hyps[i]);
        if (check_utf8(hyps[i], hl, "hypothesis", i, (size_t)-1)) goto out;
        int live = 0;
        for (size_t r = 0; r < nstreams; r++) {
            seg_refs[r] = refs[r][i];
            if (!seg_refs[r]) continue;
            seg_lens[r] = ref_lens && ref_lens[r] ? ref_lens[r][i] : strlen(seg_refs[r]);
            if (check_utf8(seg_refs[r], seg_lens[r], "reference stream", i, r)) goto out;
            live++;
        }
        nrefs = nrefs == -2 ? live : (nrefs == live ? nrefs : -1);
        if (hl >= 2 && hyps[i][hl - 2] == ' ' && hyps[i][hl - 1] == '.') out->tokenized_period_lines++;
        seg_stats st;
        if (segment_stats(&c, hyps[i], hl, seg_refs, seg_lens, nstreams, o, &st)) {
            T5G_FAIL("segment %zu: %s", i + 1, t5g_last_error());
            goto out;
        }
        sums[0] += st.hyp_len;
        sums[1] += st.ref_len;
        for (int k = 0; k < BLEU_MAX_ORDER; k++) {
            sums[2 + k] += st.correct[k];
            sums[6 + k] += st.total[k];
        }
    }
    double corr[BLEU_MAX_ORDER], tot[BLEU_MAX_ORDER];
    for (int k = 0; k < BLEU_MAX_ORDER; k++) {
        corr[k] = (double)sums[2 + k];
        tot[k] = (double)sums[6 + k];
    }
    long long tp = out->tokenized_period_lines;
    if (bleu_compute(corr, tot, sums[0], sums[1], o, out)) goto out;
    out->tokenized_period_lines = tp;
    out->nrefs = nrefs;
    rc = 0;
out:
    ctx_free(&c);
    free(seg_refs);
    free(seg_lens);
    return rc;
}

int bleu_sentence(const char *hyp, const char *const *refs, size_t nrefs, const bleu_opts *o, bleu_score *out) {
    T5G_CHECK(hyp && refs && nrefs > 0, "bleu_sentence: need a hypothesis and at least one reference");
    const char *const **streams = malloc(nrefs * sizeof *streams);
    T5G_CHECK(streams, "out of memory");
    for (size_t r = 0; r < nrefs; r++) streams[r] = &refs[r];
    int rc = bleu_corpus(&hyp, NULL, 1, streams, NULL, nrefs, o, out);
    free(streams);
    return rc;
}

/* ------------------------------------------------------------------ output */

int bleu_signature(const bleu_opts *o, int nrefs, int short_form, char *buf, size_t n) {
    T5G_TRY(check_opts(o));
    T5G_CHECK(buf && n > 0, "bleu_signature: no output buffer");
    char nr[32], smooth[400];
    if (nrefs < 0) snprintf(nr, sizeof nr, "var");
    else snprintf(nr, sizeof nr, "%d", nrefs);
    snprintf(smooth, sizeof smooth, "%s", bleu_smooth_name(o->smooth_method));
    if (o->smooth_method == BLEU_SMOOTH_FLOOR || o->smooth_method == BLEU_SMOOTH_ADDK) {
        char v[350];
        double sv = isnan(o->smooth_value) ? smooth_default(o->smooth_method) : o->smooth_value;
        py_format_fixed(sv, 2, v, sizeof v);
        snprintf(smooth + strlen(smooth), sizeof smooth - strlen(smooth), "[%s]", v);
    }
    int w = snprintf(buf, n, "%s:%s|%s:%s|%s:%s|tok:%s|%s:%s|%s:%s", short_form ? "#" : "nrefs", nr,
                     short_form ? "c" : "case", o->lowercase ? "lc" : "mixed", short_form ? "e" : "eff",
                     o->effective_order ? "yes" : "no", bleu_tokenize_name(o->tokenize), short_form ? "s" : "smooth",
                     smooth, short_form ? "v" : "version", BLEU_VERSION);
    T5G_CHECK(w >= 0 && (size_t)w < n, "signature buffer too small (%zu bytes)", n);
    return 0;
}

static int put_s(u8buf *b, const char *s) {
    return u8buf_put(b, s, strlen(s));
}

static int build_format(const bleu_score *s, const bleu_opts *o, int width, int score_only, int json, int short_sig,
                        u8buf *b) {
    size_t cap = 340 + (size_t)width;
    char *sc = malloc(cap), sig[512], num[64], verbose[512];
    T5G_CHECK(sc, "out of memory");
    py_format_fixed(s->score, width, sc, cap);
    int rc = -1;
    if (score_only) {
        rc = u8buf_put(b, sc, strlen(sc));
        goto done;
    }
    if (short_sig >= 0 && bleu_signature(o, s->nrefs, json ? 0 : short_sig, sig, sizeof sig)) goto done;
    char p[BLEU_MAX_ORDER][340], bp[340], ratio[340];
    for (int k = 0; k < BLEU_MAX_ORDER; k++) py_format_fixed(s->precisions[k], 1, p[k], sizeof p[k]);
    py_format_fixed(s->bp, 3, bp, sizeof bp);
    py_format_fixed(s->ratio, 3, ratio, sizeof ratio);
    snprintf(verbose, sizeof verbose, "%s/%s/%s/%s (BP = %s ratio = %s hyp_len = %lld ref_len = %lld)", p[0], p[1],
             p[2], p[3], bp, ratio, s->sys_len, s->ref_len);
    if (!json) {
        rc = (put_s(b, "BLEU") || (short_sig >= 0 && (put_s(b, "|") || put_s(b, sig))) || put_s(b, " = ") ||
              put_s(b, sc) || put_s(b, " ") || put_s(b, verbose))
                 ? -1
                 : 0;
        goto done;
    }
    if (short_sig < 0) {
        T5G_FAIL("JSON output needs a signature");
        goto done;
    }
    py_repr_double(strtod(sc, NULL), num, sizeof num, 1); /* float(f"{score:.{w}f}") */
    if (put_s(b, "{\n \"name\": \"BLEU\",\n \"score\": ") || put_s(b, num) || put_s(b, ",\n \"signature\": ") ||
        u8buf_put_json_str(b, sig) || put_s(b, ",\n \"verbose_score\": ") || u8buf_put_json_str(b, verbose))
        goto done;
    for (char *kv = sig, *end; kv && *kv; kv = end ? end + 1 : NULL) { /* each key:value pair */
        end = strchr(kv, '|');
        if (end) *end = 0;
        char *colon = strchr(kv, ':');
        *colon = 0;
        if (put_s(b, ",\n ") || u8buf_put_json_str(b, kv) || put_s(b, ": ") || u8buf_put_json_str(b, colon + 1))
            goto done;
    }
    rc = put_s(b, "\n}");
done:
    free(sc);
    return rc;
}

int bleu_format(const bleu_score *s, const bleu_opts *o, int width, int score_only, int json, int short_sig, char *buf,
                size_t n) {
    T5G_CHECK(s && buf && n > 0, "bleu_format: no score or output buffer");
    T5G_TRY(check_opts(o));
    T5G_CHECK(width >= 0 && width <= 1000, "width %d out of range (0..1000)", width);
    u8buf b = {0};
    int rc = build_format(s, o, width, score_only, json, short_sig, &b);
    if (!rc && b.n >= n) rc = T5G_FAIL("output buffer too small (%zu bytes, need %zu)", n, b.n + 1);
    if (!rc) memcpy(buf, b.p, b.n + 1);
    u8buf_free(&b);
    return rc;
}
