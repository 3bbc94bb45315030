/* rouge.c - rouge-score 0.1.2 scoring and aggregation (see rouge.h and docs/evaluation.md).
 * Tokens are interned to dense ids (the stem of each distinct token is computed once), so
 * n-gram and LCS work compares integers. */
#include "rouge.h"
#include "core/hash.h"
#include "porter.h"
#include "punkt.h"
#include "unicode.h"
#include "mt19937.h"
#include "core/err.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t off; /* string in arena */
    uint32_t len, hash;
    int32_t stem; /* id of its Porter stem, -1 until needed */
} tok_entry;

typedef struct {
    int32_t *v;
    size_t n, cap;
} ivec;

typedef struct {
    const int32_t *g; /* first id of a target n-gram */
    uint64_t hash;
    uint32_t stamp; /* == scorer's gram_stamp: in use for the current n-gram count */
    int32_t count;  /* target copies not yet matched */
} gram_slot;

struct rouge_scorer {
    rouge_type types[ROUGE_MAX_TYPES];
    int ntypes, stem;
    /* token table */
    char *arena;
    size_t arena_len, arena_cap;
    tok_entry *ents;
    size_t nents, ents_cap;
    int32_t *slots; /* open addressing, -1 = empty; size power of 2 */
    size_t nslots;
    char *tbuf, *sbuf; /* current token, stem output */
    size_t tbuf_cap, sbuf_cap;
    /* per pair: token ids and sentence ranges (start,end pairs) of target and prediction */
    ivec tt, ts, pt, ps;
    /* scratch */
    int32_t *dp;
    size_t dp_cap;
    gram_slot *grams; /* n-gram hash table (power-of-2 size) */
    size_t gram_cap;
    uint32_t gram_stamp;
    int32_t *cnt_r, *cnt_c; /* per token id, zero between pairs */
    size_t cnt_cap;
    unsigned char *mark;
    size_t mark_cap;
    int split_summaries; /* rougeLsum sentences from Punkt (nltk.sent_tokenize) instead of "\n" */
    u8buf split_t, split_p;
};

/* Grow *p (elements of size sz) to hold at least need; records an error on failure. */
static int grow(void **p, size_t *cap, size_t need, size_t sz, const char *what) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) {
        T5G_CHECK(nc <= SIZE_MAX / 2 / sz, "too much data for %s", what);
        nc *= 2;
    }
    void *q = realloc(*p, nc * sz);
    T5G_CHECK(q, "out of memory (%zu bytes for %s)", nc * sz, what);
    *p = q;
    *cap = nc;
    return 0;
}

static int ivec_push(ivec *v, int32_t x) {
    T5G_TRY(grow((void **)&v->v, &v->cap, v->n + 1, sizeof(int32_t), "ROUGE tokens"));
    v->v[v->n++] = x;
    return 0;
}

/* ---- types ---- */

int rouge_parse_type(const char *name, rouge_type *out) {
    T5G_CHECK(name && out, "rouge_parse_type: NULL argument");
    if (!strcmp(name, "rougeL")) {
        *out = (rouge_type){ROUGE_L, 0};
        return 0;
    }
    if (!strcmp(name, "rougeLsum")) {
        *out = (rouge_type){ROUGE_LSUM, 0};
        return 0;
    }
    if (!strncmp(name, "rouge", 5) && name[5] >= '1' && name[5] <= '9' && !name[6]) {
        *out = (rouge_type){ROUGE_N, name[5] - '0'};
        return 0;
    }
    return T5G_FAIL("invalid ROUGE type '%s' (use rouge1..rouge9, rougeL or rougeLsum)", name);
}

int rouge_parse_types(const char *list, rouge_type *out, int max, int *count) {
    T5G_CHECK(list && out && count && max > 0, "rouge_parse_types: bad arguments");
    int k = 0;
    const char *p = list;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        char name[32];
        T5G_CHECK(l > 0 && l < sizeof name, "bad ROUGE type list '%s' (expected e.g. rouge1,rouge2,rougeL)", list);
        memcpy(name, p, l);
        name[l] = 0;
        rouge_type t;
        T5G_TRY(rouge_parse_type(name, &t));
        int dup = 0;
        for (int i = 0; i < k; i++) dup |= out[i].kind == t.kind && out[i].n == t.n;
        if (!dup) {
            T5G_CHECK(k < max, "too many ROUGE types in '%s' (at most %d)", list, max);
            out[k++] = t;
        }
        if (!e) break;
        p = e + 1;
    }
    *count = k;
    return 0;
}

const char *rouge_type_name(rouge_type t, char *buf, size_t n) {
    if (!buf || !n) return "";
    if (t.kind == ROUGE_L) snprintf(buf, n, "rougeL");
    else if (t.kind == ROUGE_LSUM) snprintf(buf, n, "rougeLsum");
    else snprintf(buf, n, "rouge%d", t.n);
    return buf;
}

/* ---- scorer and token table ---- */

rouge_scorer *rouge_scorer_new(const rouge_type *types, int ntypes, int use_stemmer) {
    T5G_CHECK_NULL(types && ntypes > 0 && ntypes <= ROUGE_MAX_TYPES, "ROUGE scorer needs 1..%d types", ROUGE_MAX_TYPES);
    for (int i = 0; i < ntypes; i++)
        T5G_CHECK_NULL((types[i].kind == ROUGE_N && types[i].n >= 1 && types[i].n <= 9) || types[i].kind == ROUGE_L ||
                           types[i].kind == ROUGE_LSUM,
                       "invalid ROUGE type (kind %d, n %d)", (int)types[i].kind, types[i].n);
    rouge_scorer *s = t5g_calloc(1, sizeof *s, "ROUGE scorer");
    if (!s) return NULL;
    memcpy(s->types, types, (size_t)ntypes * sizeof *types);
    s->ntypes = ntypes;
    s->stem = use_stemmer != 0;
    s->nslots = 1024;
    s->slots = t5g_malloc(s->nslots * sizeof(int32_t), "ROUGE token table");
    if (!s->slots) {
        free(s);
        return NULL;
    }
    memset(s->slots, 0xff, s->nslots * sizeof(int32_t));
    return s;
}

void rouge_scorer_free(rouge_scorer *s) {
    if (!s) return;
    free(s->arena);
    free(s->ents);
    free(s->slots);
    free(s->tbuf);
    free(s->sbuf);
    free(s->tt.v);
    free(s->ts.v);
    free(s->pt.v);
    free(s->ps.v);
    free(s->dp);
    free(s->grams);
    free(s->cnt_r);
    free(s->cnt_c);
    free(s->mark);
    u8buf_free(&s->split_t);
    u8buf_free(&s->split_p);
    free(s);
}

static uint32_t hash_bytes(const char *p, size_t n) {
    uint64_t h = t5g_fnv1a64_bytes(p, n);
    return (uint32_t)(h ^ (h >> 32));
}

static int rehash(rouge_scorer *s) {
    size_t ns = s->nslots * 2;
    int32_t *sl = t5g_malloc(ns * sizeof(int32_t), "ROUGE token table");
    if (!sl) return -1;
    memset(sl, 0xff, ns * sizeof(int32_t));
    for (size_t id = 0; id < s->nents; id++) {
        size_t i = s->ents[id].hash & (ns - 1);
        while (sl[i] >= 0) i = (i + 1) & (ns - 1);
        sl[i] = (int32_t)id;
    }
    free(s->slots);
    s->slots = sl;
    s->nslots = ns;
    return 0;
}

/* Id of the string p[0..n), adding it if new; -1 on error. */
static int32_t intern(rouge_scorer *s, const char *p, size_t n) {
    if (n > UINT32_MAX || s->nents >= INT32_MAX - 1) return T5G_FAIL("ROUGE token table overflow");
    if (2 * (s->nents + 1) > s->nslots && rehash(s)) return -1;
    uint32_t h = hash_bytes(p, n);
    size_t i = h & (s->nslots - 1);
    for (; s->slots[i] >= 0; i = (i + 1) & (s->nslots - 1)) {
        const tok_entry *e = &s->ents[s->slots[i]];
        if (e->hash == h && e->len == n && !memcmp(s->arena + e->off, p, n)) return s->slots[i];
    }
    T5G_TRY(grow((void **)&s->arena, &s->arena_cap, s->arena_len + n + 1, 1, "ROUGE tokens"));
    T5G_TRY(grow((void **)&s->ents, &s->ents_cap, s->nents + 1, sizeof(tok_entry), "ROUGE tokens"));
    memcpy(s->arena + s->arena_len, p, n);
    s->ents[s->nents] = (tok_entry){s->arena_len, (uint32_t)n, h, -1};
    s->arena_len += n;
    s->slots[i] = (int32_t)s->nents;
    return (int32_t)s->nents++;
}

/* Id of the Porter stem of token id (computed once per distinct token). */
static int32_t stem_of(rouge_scorer *s, int32_t id) {
    if (s->ents[id].stem >= 0) return s->ents[id].stem;
    size_t len = s->ents[id].len;
    T5G_TRY(grow((void **)&s->sbuf, &s->sbuf_cap, len + 1, 1, "Porter stemmer"));
    size_t sl = porter_stem(s->arena + s->ents[id].off, len, s->sbuf);
    int32_t sid = intern(s, s->sbuf, sl);
    if (sid < 0) return -1;
    s->ents[id].stem = sid;
    return sid;
}

/* Finish the token in tbuf[0..*tl): intern, stem if longer than 3 chars, append. */
static int flush_token(rouge_scorer *s, size_t *tl, ivec *toks) {
    if (!*tl) return 0;
    int32_t id = intern(s, s->tbuf, *tl);
    if (id >= 0 && s->stem && *tl > 3) id = stem_of(s, id);
    *tl = 0;
    if (id < 0) return -1;
    return ivec_push(toks, id);
}

/* rouge_score/tokenize.py on text; sents gets (start,end) token ranges of the non-empty
 * "\n"-separated sentences (tokenizing each sentence alone gives the same tokens, because
 * "\n" is a separator). */
static int tokenize(rouge_scorer *s, const char *text, size_t len, ivec *toks, ivec *sents) {
    toks->n = sents->n = 0;
    T5G_TRY(grow((void **)&s->tbuf, &s->tbuf_cap, len + 1, 1, "ROUGE tokenizer"));
    size_t tl = 0, sent0 = 0;
    const unsigned char *u = (const unsigned char *)text;
    for (size_t i = 0; i <= len;) {
        int c = i < len ? u[i] : '\n', adv = 1, brk = 0;
        char out = 0;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out = (char)c;
        else if (c >= 'A' && c <= 'Z') out = (char)(c + 32);
        else if (c == 0xC4 && i + 1 < len && u[i + 1] == 0xB0) out = 'i', adv = 2, brk = 1; /* U+0130 -> i + U+0307 */
        else if (c == 0xE2 && i + 2 < len && u[i + 1] == 0x84 && u[i + 2] == 0xAA) out = 'k', adv = 3; /* U+212A */
        if (out) s->tbuf[tl++] = out;
        if (!out || brk) T5G_TRY(flush_token(s, &tl, toks));
        if (c == '\n') {
            if (toks->n > sent0) {
                T5G_TRY(ivec_push(sents, (int32_t)sent0));
                T5G_TRY(ivec_push(sents, (int32_t)toks->n));
            }
            sent0 = toks->n;
        }
        i += adv;
    }
    T5G_CHECK(toks->n < INT32_MAX, "text too long for ROUGE");
    return 0;
}

int rouge_tokens_string(rouge_scorer *s, const char *text, size_t len, char *buf, size_t n) {
    T5G_CHECK(s && (text || !len) && buf && n, "rouge_tokens_string: bad arguments");
    T5G_TRY(tokenize(s, text ? text : "", len, &s->tt, &s->ts));
    size_t o = 0;
    for (size_t i = 0; i < s->tt.n; i++) {
        const tok_entry *e = &s->ents[s->tt.v[i]];
        T5G_CHECK(o + e->len + 2 <= n, "token buffer too small");
        if (i) buf[o++] = ' ';
        memcpy(buf + o, s->arena + e->off, e->len);
        o += e->len;
    }
    buf[o] = 0;
    return 0;
}

/* ---- scores ---- */

static rouge_score make_score(double p, double r) {
    rouge_score x = {p, r, p + r > 0 ? 2 * p * r / (p + r) : 0.0}; /* scoring.fmeasure */
    return x;
}

static uint64_t gram_hash(const int32_t *g, int n) {
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < n; i++) {
        h = (h ^ (uint32_t)g[i]) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    return h;
}

/* Slot of n-gram g in the table of the current pair: the existing one, or a free one. */
static gram_slot *gram_find(rouge_scorer *s, const int32_t *g, int n, uint64_t h) {
    size_t mask = s->gram_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        gram_slot *e = &s->grams[i];
        if (e->stamp != s->gram_stamp) return e;
        if (e->hash == h && !memcmp(e->g, g, (size_t)n * sizeof *g)) return e;
    }
}

/* _score_ngrams(_create_ngrams(T, n), _create_ngrams(P, n)): count the target n-grams in a
 * hash table, then each prediction n-gram that still finds a target copy is a hit - the
 * same total as sum over n-grams of min(count in T, count in P). */
static int score_ngrams(rouge_scorer *s, int n, rouge_score *out) {
    size_t m = s->tt.n, k = s->pt.n, nn = (size_t)n;
    size_t tn = m >= nn ? m - nn + 1 : 0, pn = k >= nn ? k - nn + 1 : 0, need = 16;
    while (need < 2 * tn + 2) need *= 2;
    if (need > s->gram_cap || ++s->gram_stamp == 0) { /* new table, or stamps wrapped */
        size_t cap = need > s->gram_cap ? need : s->gram_cap;
        free(s->grams);
        s->grams = t5g_calloc(cap, sizeof(gram_slot), "ROUGE n-grams");
        s->gram_cap = s->grams ? cap : 0;
        if (!s->grams) return -1;
        s->gram_stamp = 1;
    }
    for (size_t i = 0; i < tn; i++) {
        const int32_t *g = s->tt.v + i;
        uint64_t h = gram_hash(g, n);
        gram_slot *e = gram_find(s, g, n, h);
        if (e->stamp == s->gram_stamp) e->count++;
        else *e = (gram_slot){g, h, s->gram_stamp, 1};
    }
    long long hits = 0;
    for (size_t i = 0; i < pn; i++) {
        const int32_t *g = s->pt.v + i;
        gram_slot *e = gram_find(s, g, n, gram_hash(g, n));
        if (e->stamp == s->gram_stamp && e->count > 0) e->count--, hits++;
    }
    *out = make_score((double)hits / (double)(pn > 1 ? pn : 1), (double)hits / (double)(tn > 1 ? tn : 1));
    return 0;
}

/* LCS length of a and b (one DP row). */
static int lcs_length(rouge_scorer *s, const int32_t *a, size_t m, const int32_t *b, size_t k, size_t *len) {
    T5G_TRY(grow((void **)&s->dp, &s->dp_cap, k + 1, sizeof(int32_t), "ROUGE LCS table"));
    int32_t *row = s->dp;
    memset(row, 0, (k + 1) * sizeof(int32_t));
    for (size_t i = 0; i < m; i++) {
        int32_t diag = 0;
        for (size_t j = 1; j <= k; j++) {
            int32_t up = row[j];
            row[j] = a[i] == b[j - 1] ? diag + 1 : (up > row[j - 1] ? up : row[j - 1]);
            diag = up;
        }
    }
    *len = (size_t)row[k];
    return 0;
}

static int score_lcs(rouge_scorer *s, rouge_score *out) {
    size_t m = s->tt.n, k = s->pt.n, l;
    if (!m || !k) {
        *out = (rouge_score){0, 0, 0};
        return 0;
    }
    T5G_TRY(lcs_length(s, s->tt.v, m, s->pt.v, k, &l));
    *out = make_score((double)l / (double)k, (double)l / (double)m);
    return 0;
}

/* lcs_ind(r, c) of rouge_scorer.py: full table, backtrack from the end; equal tokens go
 * diagonally, then left only if strictly greater, else up.  Marks the indices in r. */
static int mark_lcs(rouge_scorer *s, const int32_t *r, size_t a, const int32_t *c, size_t b) {
    size_t w = b + 1;
    T5G_CHECK(a + 1 <= SIZE_MAX / sizeof(int32_t) / w, "sentences too long for ROUGE-Lsum");
    T5G_TRY(grow((void **)&s->dp, &s->dp_cap, (a + 1) * w, sizeof(int32_t), "ROUGE-Lsum LCS table"));
    int32_t *t = s->dp;
    memset(t, 0, w * sizeof(int32_t));
    for (size_t i = 1; i <= a; i++) {
        int32_t *row = t + i * w, *up = row - w;
        row[0] = 0;
        for (size_t j = 1; j <= b; j++)
            row[j] = r[i - 1] == c[j - 1] ? up[j - 1] + 1 : (up[j] > row[j - 1] ? up[j] : row[j - 1]);
    }
    for (size_t i = a, j = b; i > 0 && j > 0;) {
        if (r[i - 1] == c[j - 1]) s->mark[--i] = 1, j--;
        else if (t[i * w + j - 1] > t[(i - 1) * w + j]) j--;
        else i--;
    }
    return 0;
}

/* _summary_level_lcs: union LCS of each target sentence against all prediction sentences,
 * hits counted against the remaining token counts of both summaries. */
/* Hits of the union LCS, walking target sentences in order (counts set by score_lsum). */
static int lsum_hits(rouge_scorer *s, rouge_score *out) {
    long long hits = 0;
    for (size_t ri = 0; ri < s->ts.n; ri += 2) {
        const int32_t *r = s->tt.v + s->ts.v[ri];
        size_t a = (size_t)(s->ts.v[ri + 1] - s->ts.v[ri]);
        T5G_TRY(grow((void **)&s->mark, &s->mark_cap, a, 1, "ROUGE-Lsum"));
        memset(s->mark, 0, a);
        for (size_t ci = 0; ci < s->ps.n; ci += 2)
            T5G_TRY(mark_lcs(s, r, a, s->pt.v + s->ps.v[ci], (size_t)(s->ps.v[ci + 1] - s->ps.v[ci])));
        for (size_t i = 0; i < a; i++) {
            int32_t t = r[i];
            if (s->mark[i] && s->cnt_c[t] > 0 && s->cnt_r[t] > 0) hits++, s->cnt_c[t]--, s->cnt_r[t]--;
        }
    }
    *out = make_score((double)hits / (double)s->pt.n, (double)hits / (double)s->tt.n);
    return 0;
}

/* Token count arrays indexed by id, kept all-zero between pairs. */
static int ensure_counts(rouge_scorer *s) {
    if (s->nents <= s->cnt_cap) return 0;
    size_t nc = s->nents * 2;
    int32_t *r = realloc(s->cnt_r, nc * sizeof(int32_t));
    T5G_CHECK(r, "out of memory (ROUGE counts)");
    s->cnt_r = r;
    int32_t *c = realloc(s->cnt_c, nc * sizeof(int32_t));
    T5G_CHECK(c, "out of memory (ROUGE counts)");
    s->cnt_c = c;
    memset(r + s->cnt_cap, 0, (nc - s->cnt_cap) * sizeof(int32_t));
    memset(c + s->cnt_cap, 0, (nc - s->cnt_cap) * sizeof(int32_t));
    s->cnt_cap = nc;
    return 0;
}

/* _summary_level_lcs: union LCS of each target sentence against all prediction sentences,
 * hits counted against the remaining token counts of both summaries. */
static int score_lsum(rouge_scorer *s, rouge_score *out) {
    size_t m = s->tt.n, n = s->pt.n;
    *out = (rouge_score){0, 0, 0};
    if (!m || !n) return 0;
    T5G_TRY(ensure_counts(s));
    for (size_t i = 0; i < m; i++) s->cnt_r[s->tt.v[i]]++;
    for (size_t i = 0; i < n; i++) s->cnt_c[s->pt.v[i]]++;
    int rc = lsum_hits(s, out);
    for (size_t i = 0; i < m; i++) s->cnt_r[s->tt.v[i]] = s->cnt_c[s->tt.v[i]] = 0;
    for (size_t i = 0; i < n; i++) s->cnt_r[s->pt.v[i]] = s->cnt_c[s->pt.v[i]] = 0;
    return rc;
}

void rouge_scorer_split_summaries(rouge_scorer *s, int on) {
    s->split_summaries = on != 0;
}

/* get_sents with split_summaries: nltk.sent_tokenize(text), empty sentences dropped, here
 * joined by "\n" with any "\n" inside a sentence made a space.  Sentence boundaries never fall
 * inside a token and the text between sentences is white space, so every token stays the
 * same: only the sentence ranges that rougeLsum uses change. */
static int punkt_lines(const char *text, size_t len, u8buf *out) {
    punkt_span *sp = NULL;
    size_t n = 0;
    out->n = 0;
    T5G_TRY(punkt_sentences(text, len, &sp, &n));
    int rc = u8buf_put(out, "", 0);
    for (size_t k = 0; k < n && !rc; k++) {
        if (sp[k].end <= sp[k].start) continue;
        if (out->n) rc = u8buf_putc(out, '\n');
        for (size_t i = sp[k].start; i < sp[k].end && !rc; i++) rc = u8buf_putc(out, text[i] == '\n' ? ' ' : text[i]);
    }
    free(sp);
    return rc;
}

int rouge_score_pair(rouge_scorer *s, const char *target, size_t target_len, const char *prediction,
                     size_t prediction_len, rouge_score *out) {
    T5G_CHECK(s && out && (target || !target_len) && (prediction || !prediction_len),
              "rouge_score_pair: NULL argument");
    if (s->split_summaries) {
        T5G_TRY(punkt_lines(target ? target : "", target_len, &s->split_t));
        T5G_TRY(punkt_lines(prediction ? prediction : "", prediction_len, &s->split_p));
        target = s->split_t.p;
        target_len = s->split_t.n;
        prediction = s->split_p.p;
        prediction_len = s->split_p.n;
    }
    T5G_TRY(tokenize(s, target ? target : "", target_len, &s->tt, &s->ts));
    T5G_TRY(tokenize(s, prediction ? prediction : "", prediction_len, &s->pt, &s->ps));
    for (int i = 0; i < s->ntypes; i++) {
        rouge_type t = s->types[i];
        if (t.kind == ROUGE_N) T5G_TRY(score_ngrams(s, t.n, &out[i]));
        else if (t.kind == ROUGE_L) T5G_TRY(score_lcs(s, &out[i]));
        else T5G_TRY(score_lsum(s, &out[i]));
    }
    return 0;
}

/* ---- aggregation ---- */

int rouge_mean(const rouge_score *rows, size_t n_examples, int ntypes, rouge_score *mean) {
    T5G_CHECK(rows && mean && n_examples > 0 && ntypes > 0, "ROUGE mean needs at least one example");
    for (int t = 0; t < ntypes; t++) {
        double sp = 0.0, sr = 0.0, sf = 0.0; /* T5 rouge_mean: `+=` from 0.0, then / count */
        for (size_t i = 0; i < n_examples; i++) {
            const rouge_score *x = &rows[i * (size_t)ntypes + (size_t)t];
            sp += x->precision, sr += x->recall, sf += x->fmeasure;
        }
        mean[t] = (rouge_score){sp / (double)n_examples, sr / (double)n_examples, sf / (double)n_examples};
    }
    return 0;
}

/* numpy legacy randint(0, rng + 1): masked rejection sampling; rng == 0 draws nothing. */
static uint32_t mt_bounded(mt19937 *r, uint32_t rng, uint32_t mask) {
    if (!rng) return 0;
    uint32_t v;
    while ((v = mt_next(r) & mask) > rng) {
    }
    return v;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* x*y rounded to double before any later add: the Makefile's gnu11 + x86-64-v3 lets GCC fuse
 * a*b+c into one FMA (-ffp-contract=fast), which numpy does not do. */
static double mul_rounded(double x, double y) {
    volatile double p = x * y;
    return p;
}

/* numpy.percentile(..., method="linear") of sorted v[0..n) at quantile q (already /100). */
static double np_quantile_sorted(const double *v, size_t n, double q) {
    double vi = (double)(n - 1) * q;
    double prev = floor(vi);
    size_t lo = (size_t)prev, hi = lo + 1;
    if (vi >= (double)(n - 1)) prev = -1.0, lo = hi = n - 1; /* numpy uses index -1 here */
    else if (vi < 0) prev = 0.0, lo = hi = 0;
    double gamma = vi - prev, a = v[lo], b = v[hi], d = b - a;
    return gamma >= 0.5 ? b - mul_rounded(d, 1 - gamma) : a + mul_rounded(d, gamma); /* numpy _lerp */
}

int rouge_bootstrap(const rouge_score *rows, size_t n_examples, int ntypes, int n_samples, double ci, uint32_t seed,
                    rouge_interval *out) {
    T5G_CHECK(rows && out && ntypes > 0, "rouge_bootstrap: NULL argument");
    T5G_CHECK(n_examples > 0 && n_examples <= UINT32_MAX, "bootstrap needs 1..2^32 examples");
    T5G_CHECK(n_samples > 0, "bootstrap samples must be positive (got %d)", n_samples);
    T5G_CHECK(ci >= 0 && ci <= 1, "confidence interval must be in [0, 1] (got %g)", ci);
    size_t B = (size_t)n_samples;
    double *means = t5g_malloc(3 * B * sizeof(double), "bootstrap means");
    if (!means) return -1;
    uint32_t rng = (uint32_t)(n_examples - 1), mask = rng;
    for (int sh = 1; sh <= 16; sh *= 2) mask |= mask >> sh;
    double delta = (1 - ci) / 2; /* scoring.py: q = 100 * [delta, 0.5, 1 - delta]; numpy: q / 100 */
    double quant[3] = {100 * delta / 100, 100 * 0.5 / 100, 100 * (1 - delta) / 100};
    mt19937 *r = t5g_malloc(sizeof *r, "bootstrap RNG");
    if (!r) {
        free(means);
        return -1;
    }
    mt_seed(r, seed);
    for (int t = 0; t < ntypes; t++) {
        for (size_t b = 0; b < B; b++) {
            double sp = 0, sr = 0, sf = 0; /* np.mean(axis=0): naive column sums, / n */
            for (size_t i = 0; i < n_examples; i++) {
                const rouge_score *x = &rows[(size_t)mt_bounded(r, rng, mask) * (size_t)ntypes + (size_t)t];
                sp += x->precision, sr += x->recall, sf += x->fmeasure;
            }
            means[b] = sp / (double)n_examples;
            means[B + b] = sr / (double)n_examples;
            means[2 * B + b] = sf / (double)n_examples;
        }
        double pct[3][3]; /* [column][low, mid, high] */
        for (int c = 0; c < 3; c++) {
            qsort(means + (size_t)c * B, B, sizeof(double), cmp_double);
            for (int k = 0; k < 3; k++) pct[c][k] = np_quantile_sorted(means + (size_t)c * B, B, quant[k]);
        }
        out[t].low = (rouge_score){pct[0][0], pct[1][0], pct[2][0]};
        out[t].mid = (rouge_score){pct[0][1], pct[1][1], pct[2][1]};
        out[t].high = (rouge_score){pct[0][2], pct[1][2], pct[2][2]};
    }
    free(r);
    free(means);
    return 0;
}
