/* ter.c - TER as sacreBLEU 2.6.0 (metrics/ter.py, metrics/lib_ter.py,
 * tokenizers/tokenizer_ter.py).  Each step keeps sacreBLEU's order of regex substitutions
 * and its tie-breaking; comments name the Python they mirror. */
#include "ter.h"
#include "bleu.h"
#include "unicode.h"
#include "core/err.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ter_opts_default(ter_opts *o) {
    memset(o, 0, sizeof *o);
}

/* ---------------------------------------------------------------- TercomTokenizer */

static int put_s(u8buf *b, const char *s) {
    return u8buf_put(b, s, strlen(s));
}

/* b becomes the rewritten o (NUL-terminated); after a failed write (err) o is freed instead. */
static int replace_buf(u8buf *b, u8buf *o, int err) {
    if (err || u8buf_put(o, "", 0)) {
        u8buf_free(o);
        return -1;
    }
    u8buf_free(b);
    *b = *o;
    return 0;
}

/* re.sub of a literal pattern (non-overlapping, left to right) */
static int sub_literal(u8buf *b, const char *pat, const char *rep) {
    size_t pn = strlen(pat);
    u8buf o = {0};
    int err = 0;
    for (size_t i = 0; i < b->n && !err;) {
        if (i + pn <= b->n && !memcmp(b->p + i, pat, pn)) {
            err = put_s(&o, rep);
            i += pn;
        } else err = u8buf_putc(&o, b->p[i++]);
    }
    return replace_buf(b, &o, err);
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}
static int is_pc(char c) {
    return c == '.' || c == ',';
}

/* re.sub of a two-character pattern "(A)(B)" with A, B ASCII-or-any classes; emits
 * pre A mid B post.  Matching byte-wise is exact here: every class that is not ASCII-only
 * is "any character but a digit", and continuation bytes never match an ASCII class. */
typedef int (*cls_fn)(char);
static int sub_pair(u8buf *b, cls_fn a, cls_fn bcls, const char *pre, const char *mid, const char *post) {
    u8buf o = {0};
    int err = 0;
    for (size_t i = 0; i < b->n && !err;) {
        if (i + 1 < b->n && a(b->p[i]) && bcls(b->p[i + 1])) {
            size_t j = i + 1;
            u8_next(b->p, b->n, &j); /* B is one whole code point */
            err = put_s(&o, pre) || u8buf_put(&o, b->p + i, 1) || put_s(&o, mid) ||
                  u8buf_put(&o, b->p + i + 1, j - i - 1) || put_s(&o, post);
            i = j;
        } else err = u8buf_putc(&o, b->p[i++]);
    }
    return replace_buf(b, &o, err);
}

static int not_digit(char c) {
    return !is_digit(c);
}
static int is_dash(char c) {
    return c == '-';
}

/* TercomTokenizer.ASIAN_PUNCT and FULL_WIDTH_PUNCT */
static int asian_punct(uint32_t c) {
    return c == 0x3001 || c == 0x3002 || (c >= 0x3008 && c <= 0x3011) || (c >= 0x3014 && c <= 0x301F) ||
           (c >= 0xFF61 && c <= 0xFF65) || c == 0x30FB || c == 0xFF0E || c == 0xFF0C || c == 0xFF1F || c == 0xFF1A ||
           c == 0xFF1B || c == 0xFF01 || c == 0xFF02 || c == 0xFF08 || c == 0xFF09;
}

/* Characters _normalize_asian surrounds with spaces.  Its Hiragana / Katakana rules are
 * anchored at ^ and never match after the western step's leading space. */
static int asian_split(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x31C0 && c <= 0x31EF) ||
           (c >= 0x2E80 && c <= 0x2EFF) || (c >= 0x3300 && c <= 0x33FF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0x3200 && c <= 0x3F22) || asian_punct(c);
}

static int is_removed_punct(uint32_t c) {
    return c < 0x80 && c && strchr(".,?:;!\"()", (int)c);
}
static int is_western_punct(uint32_t c) {
    return c < 0x80 && c && strchr(" !\"#$%&()*+/:;<=>?@[\\]^_`{|}~", (int)c);
}

/* Rebuild b: characters for which `spaced` holds get " c ", those for which `drop` holds vanish. */
static int map_chars(u8buf *b, int (*spaced)(uint32_t), int (*drop)(uint32_t)) {
    u8buf o = {0};
    int err = 0;
    for (size_t i = 0; i < b->n && !err;) {
        size_t at = i;
        uint32_t c = u8_next(b->p, b->n, &i);
        if (drop && drop(c)) continue;
        if (spaced && spaced(c)) err = u8buf_putc(&o, ' ') || u8buf_put(&o, b->p + at, i - at) || u8buf_putc(&o, ' ');
        else err = u8buf_put(&o, b->p + at, i - at);
    }
    return replace_buf(b, &o, err);
}

/* _normalize_general_and_western */
static int normalize_western(u8buf *b) {
    T5G_TRY(sub_literal(b, "\n-", ""));
    T5G_TRY(sub_literal(b, "\n", " "));
    T5G_TRY(sub_literal(b, "&quot;", "\""));
    T5G_TRY(sub_literal(b, "&amp;", "&"));
    T5G_TRY(sub_literal(b, "&lt;", "<"));
    T5G_TRY(sub_literal(b, "&gt;", ">"));
    u8buf w = {0};
    if (u8buf_putc(&w, ' ') || u8buf_put(&w, b->p, b->n) || u8buf_putc(&w, ' ')) {
        u8buf_free(&w);
        return -1;
    }
    u8buf_free(b);
    *b = w;
    T5G_TRY(map_chars(b, is_western_punct, NULL));
    T5G_TRY(sub_literal(b, "'s ", " 's "));
    if (b->n >= 2 && !memcmp(b->p + b->n - 2, "'s", 2)) { /* "'s$" (never after the padding) */
        b->n -= 2;
        T5G_TRY(put_s(b, " 's"));
    }
    T5G_TRY(sub_pair(b, not_digit, is_pc, "", " ", " "));  /* ([^0-9])([\.,]) -> \1 \2 */
    T5G_TRY(sub_pair(b, is_pc, not_digit, " ", " ", ""));  /* ([\.,])([^0-9]) -> " \1 \2" */
    T5G_TRY(sub_pair(b, is_digit, is_dash, "", " ", " ")); /* ([0-9])(-) -> \1 \2 */
    return 0;
}

static int tokenize(const char *s, size_t n, const ter_opts *o, u8buf *b) {
    n = py_rstrip_len(s, n); /* TER._preprocess_segment */
    if (!n) return u8buf_put(b, "", 0);
    if (o->case_sensitive) T5G_TRY(u8buf_put(b, s, n));
    else T5G_TRY(py_lower(s, n, b) || u8buf_put(b, "", 0));
    if (o->normalized) {
        T5G_TRY(normalize_western(b));
        if (o->asian_support) T5G_TRY(map_chars(b, asian_split, NULL));
    }
    if (o->no_punct) {
        T5G_TRY(map_chars(b, NULL, is_removed_punct));
        if (o->asian_support) T5G_TRY(map_chars(b, NULL, asian_punct));
    }
    return 0;
}

int ter_tokenize(const char *s, size_t n, const ter_opts *o, char **out, size_t *out_len) {
    u8buf b = {0}, j = {0};
    int rc = tokenize(s, n, o, &b);
    if (!rc) rc = py_split_join(b.p, b.n, &j) || u8buf_put(&j, "", 0);
    u8buf_free(&b);
    if (rc) {
        u8buf_free(&j);
        return -1;
    }
    *out = j.p;
    if (out_len) *out_len = j.n;
    return 0;
}

/* ---------------------------------------------------------------- lib_ter.py */

enum { MAX_SHIFT_SIZE = 10, MAX_SHIFT_DIST = 50, BEAM_WIDTH = 25, MAX_SHIFT_CANDIDATES = 1000 };
#define INT_INFINITY 10000000000000000LL /* int(1e16) */
enum { OP_INS = 'i', OP_DEL = 'd', OP_NOP = ' ', OP_SUB = 's', OP_UNDEF = 'x' };

/* BeamEditDistance.  Row i of the matrix depends only on the first i hypothesis words (all
 * hypotheses of one pair have the same length), so rows shared with the previous call are
 * reused - the same rows sacreBLEU's prefix cache returns. */
typedef struct {
    const int *ref;
    int nr, nh;
    long long *cost; /* (nh + 1) x (nr + 1) */
    char *op;
    int *prev; /* hypothesis of the previous call */
    int have_prev;
    char *trace; /* last trace, NUL-terminated */
} beam_ed;

static int bed_init(beam_ed *e, const int *ref, int nr, int nh) {
    memset(e, 0, sizeof *e);
    e->ref = ref;
    e->nr = nr;
    e->nh = nh;
    size_t cells = (size_t)(nh + 1) * (size_t)(nr + 1);
    e->cost = malloc(cells * sizeof *e->cost);
    e->op = malloc(cells);
    e->prev = malloc(((size_t)nh + 1) * sizeof *e->prev);
    e->trace = malloc((size_t)nh + (size_t)nr + 1);
    T5G_CHECK(e->cost && e->op && e->prev && e->trace, "out of memory (TER of %d x %d words)", nh, nr);
    for (int j = 0; j <= nr; j++) { /* _initial_row */
        e->cost[j] = j;
        e->op[j] = OP_INS;
    }
    return 0;
}

static void bed_free(beam_ed *e) {
    free(e->cost);
    free(e->op);
    free(e->prev);
    free(e->trace);
}

static void bed_row(beam_ed *e, const int *h, int i, double length_ratio, int beam_width) {
    int W = e->nr + 1;
    long long *c = e->cost + (size_t)i * W, *up = c - W;
    char *o = e->op + (size_t)i * W;
    for (int j = 0; j < W; j++) {
        c[j] = INT_INFINITY;
        o[j] = OP_UNDEF;
    }
    long long pseudo_diag = (long long)floor(i * length_ratio);
    long long min_j = pseudo_diag - beam_width > 0 ? pseudo_diag - beam_width : 0;
    long long max_j = pseudo_diag + beam_width < W ? pseudo_diag + beam_width : W;
    if (i == e->nh) max_j = W;
    for (long long j = min_j; j < max_j; j++) {
        if (j == 0) {
            c[0] = up[0] + 1;
            o[0] = OP_DEL;
            continue;
        }
        int same = h[i - 1] == e->ref[j - 1];
        /* Tercom prefers no-op/sub, then (flipped) deletion, then insertion; strict > keeps the first */
        long long costs[3] = {up[j - 1] + !same, up[j] + 1, c[j - 1] + 1};
        char ops[3] = {same ? OP_NOP : OP_SUB, OP_DEL, OP_INS};
        for (int k = 0; k < 3; k++)
            if (c[j] > costs[k]) {
                c[j] = costs[k];
                o[j] = ops[k];
            }
    }
}

/* BeamEditDistance.__call__: distance of h (nh words) to the reference; e->trace holds the ops. */
static int bed_call(beam_ed *e, const int *h, long long *dist) {
    int nh = e->nh, W = e->nr + 1, start = 0;
    if (e->have_prev)
        while (start < nh && e->prev[start] == h[start]) start++;
    double length_ratio = nh ? (double)e->nr / nh : 1;
    int beam_width = BEAM_WIDTH;
    if (BEAM_WIDTH < length_ratio / 2) beam_width = (int)ceil(length_ratio / 2 + BEAM_WIDTH);
    for (int i = start + 1; i <= nh; i++) bed_row(e, h, i, length_ratio, beam_width);
    memcpy(e->prev, h, (size_t)nh * sizeof *h);
    e->have_prev = 1;
    int i = nh, j = e->nr;
    size_t len = (size_t)nh + (size_t)e->nr, t = len;
    e->trace[len] = 0;
    while (i > 0 || j > 0) { /* trace back */
        char op = e->op[(size_t)i * W + j];
        e->trace[--t] = op;
        if (op == OP_SUB || op == OP_NOP) {
            i--;
            j--;
        } else if (op == OP_INS) j--;
        else if (op == OP_DEL) i--;
        else return T5G_FAIL("TER: edit trace left the beam (sacreBLEU raises 'unknown operation' here)");
    }
    memmove(e->trace, e->trace + t, len - t + 1);
    *dist = e->cost[(size_t)nh * W + e->nr];
    return 0;
}

/* Python slice words[a:b] appended at out[*k] (bounds clamped as Python does). */
static void put_slice(int *out, int *k, const int *w, int n, int a, int b) {
    a = a < 0 ? 0 : a > n ? n : a;
    b = b < 0 ? 0 : b > n ? n : b;
    for (int i = a; i < b; i++) out[(*k)++] = w[i];
}

/* _perform_shift */
static void perform_shift(const int *w, int n, int start, int length, int target, int *out) {
    int k = 0;
    if (target < start) {
        put_slice(out, &k, w, n, 0, target);
        put_slice(out, &k, w, n, start, start + length);
        put_slice(out, &k, w, n, target, start);
        put_slice(out, &k, w, n, start + length, n);
    } else if (target > start + length) {
        put_slice(out, &k, w, n, 0, start);
        put_slice(out, &k, w, n, start + length, target);
        put_slice(out, &k, w, n, start, start + length);
        put_slice(out, &k, w, n, target, n);
    } else {
        put_slice(out, &k, w, n, 0, start);
        put_slice(out, &k, w, n, start + length, length + target);
        put_slice(out, &k, w, n, start, start + length);
        put_slice(out, &k, w, n, length + target, n);
    }
}

typedef struct {
    long long delta;
    int length, start_h, idx; /* ranked as the tuple (delta, length, -start_h, -idx) */
    int found;
} shift_cand;

static int cand_better(const shift_cand *a, const shift_cand *b) {
    if (!b->found) return 1;
    if (a->delta != b->delta) return a->delta > b->delta;
    if (a->length != b->length) return a->length > b->length;
    if (a->start_h != b->start_h) return a->start_h < b->start_h;
    return a->idx < b->idx;
}

typedef struct {
    int *align, *ref_err, *hyp_err, *tmp;
} shift_work;

/* trace_to_alignment(_flip_trace(trace)): our DEL consumes a hypothesis word. */
static void trace_alignment(const char *trace, shift_work *w) {
    int ph = -1, pr = -1;
    for (const char *t = trace; *t; t++) {
        if (*t == OP_NOP || *t == OP_SUB) {
            w->align[++pr] = ++ph;
            w->hyp_err[ph] = w->ref_err[pr] = *t == OP_SUB;
        } else if (*t == OP_DEL) {
            w->hyp_err[++ph] = 1;
        } else {
            w->align[++pr] = ph;
            w->ref_err[pr] = 1;
        }
    }
}

static int any_err(const int *err, int n, int a, int len) {
    for (int i = a; i < a + len && i < n; i++)
        if (err[i]) return 1;
    return 0;
}

/* _shift: the best shift of h (or none); *checked counts candidates across calls. */
static int best_shift(beam_ed *e, const int *h, shift_work *w, int *checked, shift_cand *best) {
    int nh = e->nh, nr = e->nr;
    long long pre_score;
    T5G_TRY(bed_call(e, h, &pre_score));
    trace_alignment(e->trace, w);
    memset(best, 0, sizeof *best);
    for (int sh = 0; sh < nh; sh++) {
        for (int sr = 0; sr < nr; sr++) { /* _find_shifted_pairs */
            if (abs(sr - sh) > MAX_SHIFT_DIST) continue;
            for (int length = 1; length <= MAX_SHIFT_SIZE && h[sh + length - 1] == e->ref[sr + length - 1]; length++) {
                if (!any_err(w->hyp_err, nh, sh, length) || !any_err(w->ref_err, nr, sr, length) ||
                    (sh <= w->align[sr] && w->align[sr] < sh + length))
                    goto next_length;
                int prev_idx = -1;
                for (int offset = -1; offset < length; offset++) {
                    int idx = sr + offset == -1 ? 0 : w->align[sr + offset] + 1;
                    if (idx == prev_idx) continue;
                    prev_idx = idx;
                    perform_shift(h, nh, sh, length, idx, w->tmp);
                    long long d;
                    T5G_TRY(bed_call(e, w->tmp, &d));
                    shift_cand c = {pre_score - d, length, sh, idx, 1};
                    ++*checked;
                    if (cand_better(&c, best)) *best = c;
                }
                if (*checked >= MAX_SHIFT_CANDIDATES) return 0;
            next_length:
                if (sh + length == nh || sr + length == nr) break;
            }
        }
    }
    return 0;
}

/* translation_edit_rate on word ids */
static int edit_rate(const int *hyp, int nh, const int *ref, int nr, long long *edits) {
    if (nr == 0) {
        *edits = nh;
        return 0;
    }
    beam_ed e;
    shift_work w = {0};
    int *cur = malloc(((size_t)nh + 1) * sizeof *cur);
    w.align = malloc(((size_t)nr + 1) * sizeof *w.align);
    w.ref_err = malloc(((size_t)nr + 1) * sizeof *w.ref_err);
    w.hyp_err = malloc(((size_t)nh + 1) * sizeof *w.hyp_err);
    w.tmp = malloc(((size_t)nh + 1) * sizeof *w.tmp);
    int rc = bed_init(&e, ref, nr, nh);
    if (!rc && !(cur && w.align && w.ref_err && w.hyp_err && w.tmp)) rc = T5G_FAIL("out of memory");
    if (!rc) memcpy(cur, hyp, (size_t)nh * sizeof *cur);
    long long shifts = 0, dist = 0;
    int checked = 0;
    while (!rc) { /* shift while it lowers the edit distance */
        shift_cand best;
        if ((rc = best_shift(&e, cur, &w, &checked, &best))) break;
        if (checked >= MAX_SHIFT_CANDIDATES || !best.found || best.delta <= 0) break;
        shifts++;
        perform_shift(cur, nh, best.start_h, best.length, best.idx, w.tmp);
        memcpy(cur, w.tmp, (size_t)nh * sizeof *cur);
    }
    if (!rc) rc = bed_call(&e, cur, &dist);
    if (!rc) *edits = shifts + dist;
    bed_free(&e);
    free(cur);
    free(w.align);
    free(w.ref_err);
    free(w.hyp_err);
    free(w.tmp);
    return rc;
}

/* ---------------------------------------------------------------- corpus */

typedef struct {
    const char *p;
    size_t n;
    int *slot;
} word_ref;

static int cmp_word(const void *a, const void *b) {
    const word_ref *x = a, *y = b;
    int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

typedef struct {
    word_ref *w;
    size_t n, cap;
} word_list;

static int collect_word(const char *p, size_t n, void *ctx) {
    word_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        word_ref *w = realloc(l->w, cap * sizeof *w);
        T5G_CHECK(w, "out of memory");
        l->w = w;
        l->cap = cap;
    }
    l->w[l->n].p = p;
    l->w[l->n++].n = n;
    return 0;
}

/* Words of the tokenized texts as integer ids (equal ids = equal strings). */
static int intern_words(char **texts, size_t nt, int **ids, int *counts) {
    word_list l = {0};
    size_t *first = malloc((nt + 1) * sizeof *first);
    T5G_CHECK(first, "out of memory");
    int rc = 0;
    for (size_t t = 0; t < nt && !rc; t++) {
        first[t] = l.n;
        rc = py_split_each(texts[t], strlen(texts[t]), collect_word, &l);
    }
    first[nt] = l.n;
    for (size_t t = 0; t < nt && !rc; t++) {
        counts[t] = (int)(first[t + 1] - first[t]);
        ids[t] = malloc(((size_t)counts[t] + 1) * sizeof **ids);
        if (!ids[t]) {
            rc = T5G_FAIL("out of memory");
            break;
        }
        for (size_t k = first[t]; k < first[t + 1]; k++) l.w[k].slot = &ids[t][k - first[t]];
    }
    if (!rc && l.n) {
        qsort(l.w, l.n, sizeof *l.w, cmp_word);
        int id = 0;
        for (size_t k = 0; k < l.n; k++) {
            if (k && cmp_word(&l.w[k - 1], &l.w[k])) id++;
            *l.w[k].slot = id;
        }
    }
    free(l.w);
    free(first);
    return rc;
}

int ter_edits(const char *hyp, const char *ref, long long *edits, long long *ref_words) {
    char *texts[2] = {(char *)hyp, (char *)ref};
    int *ids[2] = {NULL, NULL}, counts[2] = {0, 0};
    int rc = intern_words(texts, 2, ids, counts);
    if (!rc) rc = edit_rate(ids[0], counts[0], ids[1], counts[1], edits);
    if (!rc) *ref_words = counts[1];
    free(ids[0]);
    free(ids[1]);
    return rc;
}

/* sacreBLEU preprocesses each reference twice: Metric._cache_references tokenizes the lines, then
 * TER._extract_reference_info tokenizes them again (the hypothesis only once).  The second pass is
 * not a no-op with --normalized ("a..1" -> "a . .1" -> "a . . 1"). */
static int ref_tokenize(const char *s, size_t n, const ter_opts *o, char **out) {
    char *once = NULL;
    size_t once_n = 0;
    T5G_TRY(ter_tokenize(s, n, o, &once, &once_n));
    int rc = ter_tokenize(once, once_n, o, out, NULL);
    free(once);
    return rc;
}

/* TER._compute_segment_statistics: [fewest edits, average reference length] */
static int segment_stats(const char *h, size_t hn, const char *const *refs, const size_t *lens, size_t nr,
                         const ter_opts *o, long long *edits, double *avg_len) {
    char **texts = calloc(nr + 1, sizeof *texts);
    int **ids = calloc(nr + 1, sizeof *ids), *counts = calloc(nr + 1, sizeof *counts);
    int rc = texts && ids && counts ? 0 : T5G_FAIL("out of memory");
    if (!rc) rc = ter_tokenize(h, hn, o, &texts[0], NULL);
    for (size_t r = 0; r < nr && !rc; r++) rc = ref_tokenize(refs[r], lens[r], o, &texts[r + 1]);
    if (!rc) rc = intern_words(texts, nr + 1, ids, counts);
    long long best = INT_INFINITY, ref_lengths = 0;
    for (size_t r = 0; r < nr && !rc; r++) {
        long long e;
        rc = edit_rate(ids[0], counts[0], ids[r + 1], counts[r + 1], &e);
        ref_lengths += counts[r + 1];
        if (e < best) best = e;
    }
    *edits = best;
    *avg_len = (double)ref_lengths / (double)nr;
    for (size_t t = 0; texts && t <= nr; t++) free(texts[t]);
    for (size_t t = 0; ids && t <= nr; t++) free(ids[t]);
    free(texts);
    free(ids);
    free(counts);
    return rc;
}

int ter_corpus(const char *const *hyps, const size_t *hyp_lens, size_t n, const char *const *const *refs,
               const size_t *const *ref_lens, size_t nstreams, const ter_opts *o, ter_score *out) {
    T5G_CHECK(o && hyps && refs && out, "TER: no options, hypotheses, references or output");
    T5G_CHECK(n > 0, "TER: no hypotheses to score (sacreBLEU cannot score an empty corpus)");
    T5G_CHECK(nstreams > 0, "TER: no reference stream");
    memset(out, 0, sizeof *out);
    const char **sr = malloc(nstreams * sizeof *sr);
    size_t *sl = malloc(nstreams * sizeof *sl);
    int rc = sr && sl ? 0 : T5G_FAIL("out of memory"), nrefs = -2;
    long long edits_sum = 0;
    double len_sum = 0; /* sum_of_lists: left-to-right float sum from 0 */
    for (size_t i = 0; i < n && !rc; i++) {
        size_t nr = 0, hn = hyp_lens ? hyp_lens[i] : strlen(hyps[i]), bad;
        if (u8_validate(hyps[i], hn, &bad)) {
            rc = T5G_FAIL("hypothesis of segment %zu: invalid UTF-8 at byte %zu", i + 1, bad);
            break;
        }
        for (size_t r = 0; r < nstreams && !rc; r++) {
            if (!refs[r][i]) continue;
            sr[nr] = refs[r][i];
            sl[nr] = ref_lens && ref_lens[r] ? ref_lens[r][i] : strlen(refs[r][i]);
            if (u8_validate(sr[nr], sl[nr], &bad))
                rc = T5G_FAIL("reference of segment %zu: invalid UTF-8 at byte %zu", i + 1, bad);
            nr++;
        }
        if (rc) break;
        if (!nr) {
            rc = T5G_FAIL("TER: segment %zu has no reference", i + 1);
            break;
        }
        nrefs = nrefs == -2 || nrefs == (int)nr ? (int)nr : -1;
        long long e;
        double avg;
        if ((rc = segment_stats(hyps[i], hn, sr, sl, nr, o, &e, &avg))) break;
        edits_sum += e;
        len_sum += avg;
    }
    free(sr);
    free(sl);
    if (rc) return -1;
    double score;
    if (len_sum > 0) score = (double)edits_sum / len_sum;
    else if (edits_sum > 0) score = 1.0; /* empty reference(s) and non-empty hypothesis */
    else score = 0.0;
    out->score = 100 * score;
    out->num_edits = edits_sum;
    out->ref_length = len_sum;
    out->nrefs = nrefs;
    return 0;
}

int ter_sentence(const char *hyp, const char *const *refs, size_t nrefs, const ter_opts *o, ter_score *out) {
    T5G_CHECK(hyp && refs && nrefs > 0, "TER: need a hypothesis and at least one reference");
    const char *const **streams = malloc(nrefs * sizeof *streams);
    T5G_CHECK(streams, "out of memory");
    for (size_t r = 0; r < nrefs; r++) streams[r] = &refs[r];
    int rc = ter_corpus(&hyp, NULL, 1, streams, NULL, nrefs, o, out);
    free(streams);
    return rc;
}

int ter_signature(const ter_opts *o, int nrefs, int short_form, char *buf, size_t n) {
    char nr[32];
    if (nrefs < 0) snprintf(nr, sizeof nr, "var");
    else snprintf(nr, sizeof nr, "%d", nrefs);
    int w = snprintf(buf, n, "%s:%s|%s:%s|%s:tercom|%s:%s|%s:%s|%s:%s|%s:%s", short_form ? "#" : "nrefs", nr,
                     short_form ? "c" : "case", o->case_sensitive ? "mixed" : "lc", short_form ? "t" : "tok",
                     short_form ? "nr" : "norm", o->normalized ? "yes" : "no", short_form ? "pn" : "punct",
                     o->no_punct ? "no" : "yes", short_form ? "as" : "asian", o->asian_support ? "yes" : "no",
                     short_form ? "v" : "version", BLEU_VERSION);
    T5G_CHECK(w >= 0 && (size_t)w < n, "signature buffer too small (%zu bytes)", n);
    return 0;
}
