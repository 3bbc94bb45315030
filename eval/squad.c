/* squad.c - official SQuAD v2.0 evaluation (see squad.h and docs/evaluation.md). */
#include "squad.h"
#include "core/hash.h"
#include "pyfmt.h"
#include "pyjson.h"
#include "unicode.h"
#include "core/err.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void squad2_opts_default(squad2_opts *o) {
    if (!o) return;
    o->na_prob_thresh = 1.0;
    o->missing_as_empty = 0;
    o->pr_analysis = 0;
}

/* ------------------------------------------------------------------ normalization (normalize_answer) */

static int is_ascii_punct(unsigned char c) { /* string.punctuation */
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

static int is_article(const char *s, size_t n) {
    return (n == 1 && s[0] == 'a') || (n == 2 && !memcmp(s, "an", 2)) || (n == 3 && !memcmp(s, "the", 3));
}

/* re.sub(r'\b(a|an|the)\b', ' ', s): a match is always a whole maximal run of word
 * characters (\w = str.isalnum() or '_'), so replace runs that spell an article. */
static int remove_articles(const char *s, size_t n, u8buf *out) {
    for (size_t i = 0; i < n;) {
        size_t j = i;
        if (!py_isword(u8_next(s, n, &j))) {
            if (u8buf_put(out, s + i, j - i)) return -1;
            i = j;
            continue;
        }
        size_t e = j;
        while (e < n) {
            size_t k = e;
            if (!py_isword(u8_next(s, n, &k))) break;
            e = k;
        }
        if (is_article(s + i, e - i) ? u8buf_putc(out, ' ') : u8buf_put(out, s + i, e - i)) return -1;
        i = e;
    }
    return 0;
}

/* normalize_answer into out (out is reset).  Input must be valid UTF-8. */
static int normalize(const char *s, size_t n, u8buf *tmp, u8buf *out) {
    tmp->n = 0;
    out->n = 0;
    if (py_lower(s, n, tmp)) return -1;
    size_t k = 0; /* drop ASCII punctuation in place */
    for (size_t i = 0; i < tmp->n; i++)
        if (!is_ascii_punct((unsigned char)tmp->p[i])) tmp->p[k++] = tmp->p[i];
    tmp->n = k;
    if (remove_articles(tmp->p ? tmp->p : "", tmp->n, out)) return -1;
    tmp->n = 0;
    if (py_split_join(out->p ? out->p : "", out->n, tmp)) return -1;
    out->n = 0;
    return u8buf_put(out, tmp->p ? tmp->p : "", tmp->n);
}

typedef struct {
    const char *p;
    size_t n;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, m);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* Tokens of a normalized string (single spaces between tokens), sorted. */
static span *sorted_tokens(const char *s, size_t n, size_t *cnt) {
    size_t k = n ? 1 : 0;
    for (size_t i = 0; i < n; i++) k += s[i] == ' ';
    span *t = malloc((k ? k : 1) * sizeof *t);
    if (!t) {
        T5G_FAIL("out of memory (%zu answer tokens)", k);
        return NULL;
    }
    size_t m = 0, start = 0;
    for (size_t i = 0; i <= n && n; i++)
        if (i == n || s[i] == ' ') {
            t[m].p = s + start;
            t[m++].n = i - start;
            start = i + 1;
        }
    qsort(t, m, sizeof *t, span_cmp);
    *cnt = m;
    return t;
}

/* compute_f1 on normalized strings (the same value Python returns, int or float). */
static int f1_normalized(const char *g, size_t gn, const char *p, size_t pn, double *f1) {
    size_t ng, np;
    span *gt = sorted_tokens(g, gn, &ng), *pt = gt ? sorted_tokens(p, pn, &np) : NULL;
    if (!gt || !pt) {
        free(gt);
        return -1;
    }
    if (ng == 0 || np == 0) {
        *f1 = (ng == 0 && np == 0) ? 1 : 0; /* int(gold_toks == pred_toks) */
    } else {
        long long same = 0; /* sum of (Counter(gold) & Counter(pred)).values() */
        for (size_t i = 0, j = 0; i < ng && j < np;) {
            int c = span_cmp(&gt[i], &pt[j]);
            if (c == 0) {
                same++;
                i++;
                j++;
            } else if (c < 0) i++;
            else j++;
        }
        if (same == 0) *f1 = 0;
        else {
            double prec = 1.0 * (double)same / (double)np, rec = 1.0 * (double)same / (double)ng;
            *f1 = (2 * prec * rec) / (prec + rec);
        }
    }
    free(gt);
    free(pt);
    return 0;
}

char *squad_normalize_answer(const char *s, size_t n) {
    size_t bad;
    T5G_CHECK_NULL(s, "no answer text given");
    T5G_CHECK_NULL(!u8_validate(s, n, &bad), "answer text: invalid UTF-8 at byte offset %zu", bad);
    u8buf tmp = {0}, out = {0};
    int rc = normalize(s, n, &tmp, &out);
    u8buf_free(&tmp);
    if (rc) {
        u8buf_free(&out);
        return NULL;
    }
    if (!out.p && u8buf_put(&out, "", 0)) return NULL;
    return out.p;
}

int squad_compute_exact(const char *gold, const char *pred) {
    T5G_CHECK(gold && pred, "compute_exact: missing gold or prediction");
    char *g = squad_normalize_answer(gold, strlen(gold));
    char *p = g ? squad_normalize_answer(pred, strlen(pred)) : NULL;
    int rc = (g && p) ? !strcmp(g, p) : -1;
    free(g);
    free(p);
    return rc;
}

double squad_compute_f1(const char *gold, const char *pred) {
    T5G_CHECK(gold && pred, "compute_f1: missing gold or prediction");
    char *g = squad_normalize_answer(gold, strlen(gold));
    char *p = g ? squad_normalize_answer(pred, strlen(pred)) : NULL;
    double f1 = -1;
    if (g && p && f1_normalized(g, strlen(g), p, strlen(p), &f1)) f1 = -1;
    free(g);
    free(p);
    return f1;
}

/* ------------------------------------------------------------------ string -> index map */

typedef struct {
    const pj_value **key; /* slot -> key (PJ_STR) */
    size_t *val;
    size_t cap, count;
} strmap;

static uint64_t hash_str(const char *s, size_t n) {
    uint64_t h = t5g_fnv1a64_bytes(s, n);
    return h ^ (h >> 31); /* the table index takes low bits: fold the high ones in */
}

static size_t *strmap_find(strmap *m, const char *s, size_t n) {
    if (!m->cap) return NULL;
    for (size_t j = hash_str(s, n) & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        if (!m->key[j]) return NULL;
        if (pj_str_eq(m->key[j], s, n)) return &m->val[j];
    }
}

/* Insert key -> val unless present; returns the stored value slot, *added tells which. */
static size_t *strmap_put(strmap *m, const pj_value *key, size_t val, int *added) {
    if ((m->count + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        strmap g = {calloc(cap, sizeof *g.key), calloc(cap, sizeof *g.val), cap, m->count};
        if (!g.key || !g.val) {
            free(g.key);
            free(g.val);
            T5G_FAIL("out of memory (id table)");
            return NULL;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->key[i]) continue;
            size_t j = hash_str(m->key[i]->s, m->key[i]->n) & (cap - 1);
            while (g.key[j]) j = (j + 1) & (cap - 1);
            g.key[j] = m->key[i];
            g.val[j] = m->val[i];
        }
        free(m->key);
        free(m->val);
        *m = g;
    }
    size_t j = hash_str(key->s, key->n) & (m->cap - 1);
    for (; m->key[j]; j = (j + 1) & (m->cap - 1))
        if (pj_str_eq(m->key[j], key->s, key->n)) {
            *added = 0;
            return &m->val[j];
        }
    m->key[j] = key;
    m->val[j] = val;
    m->count++;
    *added = 1;
    return &m->val[j];
}

static void strmap_free(strmap *m) {
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------ evaluation (get_raw_scores, thresholds) */

typedef struct {
    const pj_value *id;
    int has_ans, scored;
    double exact, f1; /* raw scores of the last occurrence, as the dict keeps them */
    const pj_value *pred;
} question;

typedef struct {
    question *q; /* unique qids in first-occurrence order (Python dict order) */
    size_t nq, capq;
    strmap index;
    strmap preds; /* prediction key -> item index in the predictions object */
    const pj_value *pred_obj;
    const pj_value **na_keys; /* na-prob keys, dict order (unique), and their values */
    const pj_value **na_vals;
    size_t nna;
    strmap na_index;
    u8buf log, tmp, norm_pred, norm_gold;
} evalctx;

static int ctx_add_question(evalctx *c, const pj_value *id, size_t *idx) {
    int added;
    size_t *slot = strmap_put(&c->index, id, c->nq, &added);
    if (!slot) return -1;
    if (added) {
        if (c->nq == c->capq) {
            size_t cap = c->capq ? c->capq * 2 : 1024;
            question *q = realloc(c->q, cap * sizeof *q);
            if (!q) return T5G_FAIL("out of memory (%zu questions)", cap);
            c->q = q;
            c->capq = cap;
        }
        memset(&c->q[c->nq], 0, sizeof c->q[c->nq]);
        c->q[c->nq++].id = id;
    }
    *idx = *slot;
    return 0;
}

/* exact/f1 of one prediction against the golds of one qa (get_raw_scores); answers is the
 * validated list of {"text": str} objects. */
static int score_qa(evalctx *c, const pj_value *answers, const char *pred, size_t pn, double *em, double *f1) {
    if (normalize(pred, pn, &c->tmp, &c->norm_pred)) return -1;
    const char *np = c->norm_pred.p ? c->norm_pred.p : "";
    size_t npn = c->norm_pred.n;
    int any_gold = 0;
    *em = 0;
    *f1 = 0;
    for (size_t k = 0; k < answers->count; k++) {
        const pj_value *t = pj_get(&answers->items[k], "text");
        if (normalize(t->s, t->n, &c->tmp, &c->norm_gold)) return -1;
        if (c->norm_gold.n == 0) continue; /* golds that normalize to "" are dropped */
        any_gold = 1;
        double e = c->norm_gold.n == npn && !memcmp(c->norm_gold.p, np, npn), f;
        if (f1_normalized(c->norm_gold.p, c->norm_gold.n, np, npn, &f)) return -1;
        if (e > *em) *em = e;
        if (f > *f1) *f1 = f;
    }
    if (!any_gold) { /* only correct answer is the empty string */
        *em = npn == 0;
        *f1 = npn == 0;
    }
    return 0;
}

static int log_missing(evalctx *c, const pj_value *id) {
    return u8buf_put(&c->log, "Missing prediction for ", 23) || u8buf_put(&c->log, id->s, id->n) ||
           u8buf_putc(&c->log, '\n');
}

/* Validate one qa and return its answers as a list of text values (reused in place). */
static int check_qa(const pj_value *qa, const pj_value **id, const pj_value **answers) {
    T5G_CHECK(qa->type == PJ_OBJ, "dataset: a 'qas' entry is a %s, not an object", pj_type_name(qa));
    *id = pj_get(qa, "id");
    T5G_CHECK(*id && (*id)->type == PJ_STR, "dataset: a question has no string 'id' (found %s)", pj_type_name(*id));
    *answers = pj_get(qa, "answers");
    T5G_CHECK(*answers && (*answers)->type == PJ_ARR, "dataset: question %s: 'answers' must be a list (found %s)",
              (*id)->s, pj_type_name(*answers));
    for (size_t k = 0; k < (*answers)->count; k++) {
        const pj_value *t = pj_get(&(*answers)->items[k], "text");
        T5G_CHECK(t && t->type == PJ_STR, "dataset: question %s: answer %zu has no string 'text'", (*id)->s, k + 1);
    }
    return 0;
}

/* One pass over data/paragraphs/qas: has_ans (make_qid_to_has_ans) and raw scores. */
static int score_dataset(evalctx *c, const pj_value *data, const squad2_opts *o) {
    T5G_CHECK(data && data->type == PJ_ARR, "dataset: 'data' must be a list of articles (found %s)",
              pj_type_name(data));
    for (size_t a = 0; a < data->count; a++) {
        const pj_value *paras = pj_get(&data->items[a], "paragraphs");
        T5G_CHECK(paras && paras->type == PJ_ARR, "dataset: article %zu has no 'paragraphs' list", a + 1);
        for (size_t p = 0; p < paras->count; p++) {
            const pj_value *qas = pj_get(&paras->items[p], "qas");
            T5G_CHECK(qas && qas->type == PJ_ARR, "dataset: article %zu paragraph %zu has no 'qas' list", a + 1, p + 1);
            for (size_t k = 0; k < qas->count; k++) {
                const pj_value *id = NULL, *answers = NULL;
                size_t qi = 0;
                T5G_TRY(check_qa(&qas->items[k], &id, &answers));
                T5G_TRY(ctx_add_question(c, id, &qi));
                question *q = &c->q[qi];
                q->has_ans = answers->count > 0;
                size_t *pi = strmap_find(&c->preds, id->s, id->n);
                if (!pi) {
                    T5G_TRY(log_missing(c, id));
                    if (!o->missing_as_empty) continue;
                }
                const pj_value *pred = pi ? &c->pred_obj->items[*pi] : NULL;
                T5G_CHECK(!pred || pred->type == PJ_STR, "predictions: the answer for %s is a %s, not a string", id->s,
                          pj_type_name(pred));
                T5G_TRY(score_qa(c, answers, pred ? pred->s : "", pred ? pred->n : 0, &q->exact, &q->f1));
                q->scored = 1;
                q->pred = pred;
            }
        }
    }
    return 0;
}

/* Python dict of an object's members: unique keys in first-occurrence order, last value. */
static int object_as_dict(const pj_value *obj, strmap *m, const pj_value ***keys, const pj_value ***vals, size_t *n) {
    *keys = malloc((obj->count ? obj->count : 1) * sizeof **keys);
    *vals = malloc((obj->count ? obj->count : 1) * sizeof **vals);
    T5G_CHECK(*keys && *vals, "out of memory");
    *n = 0;
    for (size_t i = 0; i < obj->count; i++) {
        int added;
        size_t *slot = strmap_put(m, &obj->keys[i], *n, &added);
        if (!slot) return -1;
        if (added) (*keys)[(*n)++] = &obj->keys[i];
        (*vals)[*slot] = &obj->items[i];
    }
    return 0;
}

static int load_na_probs(evalctx *c, const pj_value *na) {
    T5G_CHECK(na->type == PJ_OBJ, "na-prob file: expected an object {qid: probability}, found a %s", pj_type_name(na));
    T5G_TRY(object_as_dict(na, &c->na_index, &c->na_keys, &c->na_vals, &c->nna));
    for (size_t i = 0; i < c->nna; i++) {
        const pj_value *v = c->na_vals[i];
        T5G_CHECK(v->type == PJ_INT || v->type == PJ_FLOAT, "na-prob file: value for %s is a %s, not a number",
                  c->na_keys[i]->s, pj_type_name(v));
        T5G_CHECK(!isnan(v->num),
                  "na-prob file: value for %s is NaN (the official ranking of NaN depends on "
                  "Python's sort internals); use a number",
                  c->na_keys[i]->s);
    }
    return 0;
}

/* Stable merge sort of na-prob indices by value (Python sorted(na_probs, key=...)). */
static void sort_by_prob(const evalctx *c, size_t *idx, size_t *tmp, size_t n) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_by_prob(c, idx, tmp, h);
    sort_by_prob(c, idx + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = c->na_vals[idx[j]]->num < c->na_vals[idx[i]]->num ? idx[j++] : idx[i++];
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

/* JSON text of a na-prob value as json.dumps prints the Python object. */
static void thresh_text(const pj_value *v, char *buf, size_t n) {
    if (!v) {
        snprintf(buf, n, "0.0");
        return;
    }
    if (v->type == PJ_FLOAT) {
        py_repr_double(v->num, buf, n, 1);
        return;
    }
    int neg_zero = v->n == 2 && v->s[0] == '-' && v->s[1] == '0'; /* int("-0") prints 0 */
    snprintf(buf, n, "%.*s", neg_zero ? 1 : (int)v->n, neg_zero ? "0" : v->s);
}

/* find_best_thresh on raw scores (em = 1: exact, else f1). */
static int best_thresh(const evalctx *c, const size_t *order, int em, double *best, char *tbuf, size_t tn) {
    double cur = 0, bestv;
    long long scored = 0;
    for (size_t i = 0; i < c->nq; i++) {
        cur += !c->q[i].has_ans;
        scored += c->q[i].scored;
    }
    bestv = cur;
    const pj_value *bt = NULL;
    for (size_t k = 0; k < c->nna; k++) {
        const pj_value *key = c->na_keys[order[k]];
        size_t *qi = strmap_find((strmap *)&c->index, key->s, key->n);
        if (!qi || !c->q[*qi].scored) continue;
        const question *q = &c->q[*qi];
        double diff = q->has_ans ? (em ? q->exact : q->f1) : (q->pred && q->pred->n ? -1 : 0);
        cur += diff;
        if (cur > bestv) {
            bestv = cur;
            bt = c->na_vals[order[k]];
        }
    }
    T5G_CHECK(scored > 0, "no question was scored");
    *best = 100.0 * bestv / (double)scored;
    thresh_text(bt, tbuf, tn);
    return 0;
}

/* make_precision_recall_eval over every na-prob key in probability order; kind 0 exact,
 * 1 f1, 2 oracle (float(has_ans)).  AP x 100 and the curve into cv. */
static int pr_eval(const evalctx *c, const size_t *order, int kind, long long num_true_pos, double *ap,
                   squad2_curve *cv) {
    cv->recall = malloc((c->nna + 1) * sizeof(double));
    cv->precision = malloc((c->nna + 1) * sizeof(double));
    T5G_CHECK(cv->recall && cv->precision, "out of memory");
    double true_pos = 0.0, avg_prec = 0.0;
    cv->recall[0] = 0.0;
    cv->precision[0] = 1.0;
    cv->n = 1;
    for (size_t i = 0; i < c->nna; i++) {
        const pj_value *key = c->na_keys[order[i]];
        size_t *qi = strmap_find((strmap *)&c->index, key->s, key->n);
        T5G_CHECK(qi,
                  "na-prob file: question %s is not in the dataset (the official script's precision-recall "
                  "analysis stops with a KeyError)",
                  key->s);
        const question *q = &c->q[*qi];
        if (q->has_ans) true_pos += kind == 0 ? q->exact : kind == 1 ? q->f1 : 1.0;
        double cur_p = true_pos / (double)(i + 1), cur_r = true_pos / (double)num_true_pos;
        /* a threshold can be put after this point */
        if (i == c->nna - 1 || c->na_vals[order[i]]->num != c->na_vals[order[i + 1]]->num) {
            avg_prec += cur_p * (cur_r - cv->recall[cv->n - 1]);
            cv->precision[cv->n] = cur_p;
            cv->recall[cv->n++] = cur_r;
        }
    }
    *ap = 100.0 * avg_prec;
    return 0;
}

/* run_precision_recall_analysis (three curves, only if some question has an answer) and the
 * histogram data of histogram_na_prob. */
static int pr_analysis(const evalctx *c, const size_t *order, squad2_result *r) {
    long long num_true_pos = 0;
    r->na_has = malloc((c->nq + 1) * sizeof(double));
    r->na_no = malloc((c->nq + 1) * sizeof(double));
    T5G_CHECK(r->na_has && r->na_no, "out of memory");
    for (size_t i = 0; i < c->nq; i++) {
        const question *q = &c->q[i];
        size_t *k = strmap_find((strmap *)&c->na_index, q->id->s, q->id->n);
        T5G_CHECK(k,
                  "na-prob file has no probability for question %s (the official script's histogram "
                  "stops with a KeyError)",
                  q->id->s);
        if (q->has_ans) r->na_has[r->n_has++] = c->na_vals[*k]->num;
        else r->na_no[r->n_no++] = c->na_vals[*k]->num;
        num_true_pos += q->has_ans;
    }
    if (num_true_pos == 0) return 0;
    r->pr_block = 1;
    T5G_TRY(pr_eval(c, order, 0, num_true_pos, &r->pr_exact_ap, &r->pr[0]));
    T5G_TRY(pr_eval(c, order, 1, num_true_pos, &r->pr_f1_ap, &r->pr[1]));
    return pr_eval(c, order, 2, num_true_pos, &r->pr_oracle_ap, &r->pr[2]);
}

/* apply_no_ans_threshold + make_eval_dict; which: 0 all, 1 HasAns, 2 NoAns. */
static void eval_block(const evalctx *c, const double *na, double thresh, int which, double *ex, double *f1,
                       long long *total) {
    double se = 0, sf = 0;
    long long n = 0;
    for (size_t i = 0; i < c->nq; i++) {
        const question *q = &c->q[i];
        if (!q->scored || (which == 1 && !q->has_ans) || (which == 2 && q->has_ans)) continue;
        double e = q->exact, f = q->f1;
        if (na[i] > thresh) e = f = !q->has_ans;
        se += e;
        sf += f;
        n++;
    }
    *ex = 100.0 * se / (double)n;
    *f1 = 100.0 * sf / (double)n;
    *total = n;
}

static int aggregate(evalctx *c, int have_na, const squad2_opts *o, squad2_result *r) {
    double *na = calloc(c->nq ? c->nq : 1, sizeof *na);
    T5G_CHECK(na, "out of memory");
    long long scored = 0, has = 0, no = 0;
    for (size_t i = 0; i < c->nq; i++) {
        scored += c->q[i].scored;
        has += c->q[i].has_ans;
        no += !c->q[i].has_ans;
        if (!c->q[i].scored) continue;
        if (!have_na) continue; /* {k: 0.0 for k in preds} */
        size_t *k = strmap_find(&c->na_index, c->q[i].id->s, c->q[i].id->n);
        if (!k && c->q[i].pred) { /* a missing prediction scored as "" (extension) gets 0.0 */
            free(na);
            return T5G_FAIL("na-prob file has no probability for question %s (the official script "
                            "stops with a KeyError)",
                            c->q[i].id->s);
        }
        na[i] = k ? c->na_vals[*k]->num : 0.0;
    }
    if (scored == 0) {
        free(na);
        return T5G_FAIL("no question was scored (empty dataset?); the official script divides by zero here");
    }
    eval_block(c, na, o->na_prob_thresh, 0, &r->exact, &r->f1, &r->total);
    if ((r->has_ans_block = has > 0)) eval_block(c, na, o->na_prob_thresh, 1, &r->has_exact, &r->has_f1, &r->has_total);
    if ((r->no_ans_block = no > 0)) eval_block(c, na, o->na_prob_thresh, 2, &r->no_exact, &r->no_f1, &r->no_total);
    free(na);
    if (!have_na) return 0;
    size_t *order = malloc((c->nna ? c->nna : 1) * sizeof *order), *tmp = malloc((c->nna ? c->nna : 1) * sizeof *tmp);
    int rc = -1;
    if (order && tmp) {
        for (size_t i = 0; i < c->nna; i++) order[i] = i;
        sort_by_prob(c, order, tmp, c->nna);
        r->best_block = 1;
        rc = best_thresh(c, order, 1, &r->best_exact, r->best_exact_thresh, sizeof r->best_exact_thresh) ||
                     best_thresh(c, order, 0, &r->best_f1, r->best_f1_thresh, sizeof r->best_f1_thresh)
                 ? -1
                 : 0;
        if (rc == 0 && o->pr_analysis) rc = pr_analysis(c, order, r);
    } else T5G_FAIL("out of memory");
    free(order);
    free(tmp);
    return rc;
}

static void ctx_free(evalctx *c) {
    free(c->q);
    strmap_free(&c->index);
    strmap_free(&c->preds);
    strmap_free(&c->na_index);
    free(c->na_keys);
    free(c->na_vals);
    u8buf_free(&c->log);
    u8buf_free(&c->tmp);
    u8buf_free(&c->norm_pred);
    u8buf_free(&c->norm_gold);
}

int squad2_evaluate(const char *data_json, size_t data_len, const char *pred_json, size_t pred_len, const char *na_json,
                    size_t na_len, const squad2_opts *o, squad2_result *res) {
    T5G_CHECK(data_json && pred_json && o && res, "squad2_evaluate: missing dataset, predictions or options");
    memset(res, 0, sizeof *res);
    evalctx c = {0};
    pj_doc *dd = pj_parse(data_json, data_len, "dataset file"), *pd = NULL, *nd = NULL;
    const pj_value **pkeys = NULL, **pvals = NULL;
    int rc = -1;
    if (!dd || !(pd = pj_parse(pred_json, pred_len, "predictions file"))) goto out;
    if (na_json && !(nd = pj_parse(na_json, na_len, "na-prob file"))) goto out;
    const pj_value *root = pj_root(dd), *preds = pj_root(pd);
    if (root->type != PJ_OBJ) {
        T5G_FAIL("dataset file: expected an object with 'data', found a %s", pj_type_name(root));
        goto out;
    }
    if (preds->type != PJ_OBJ) {
        T5G_FAIL("predictions file: expected an object {qid: answer}, found a %s", pj_type_name(preds));
        goto out;
    }
    /* preds as a dict: map key -> index of its last value in the object */
    size_t np;
    if (object_as_dict(preds, &c.preds, &pkeys, &pvals, &np)) goto out;
    for (size_t i = 0; i < c.preds.cap; i++)
        if (c.preds.key[i]) c.preds.val[i] = (size_t)(pvals[c.preds.val[i]] - preds->items);
    c.pred_obj = preds;
    if (nd && load_na_probs(&c, pj_root(nd))) goto out;
    if (score_dataset(&c, pj_get(root, "data"), o)) goto out;
    for (size_t i = 0; i < c.nq; i++) res->n_missing += !c.q[i].scored || !c.q[i].pred;
    if (res->n_missing && !o->missing_as_empty) {
        const char *first = "";
        for (size_t i = 0; i < c.nq && !*first; i++)
            if (!c.q[i].scored) first = c.q[i].id->s;
        T5G_FAIL("%zu question(s) have no prediction (first: %s); the official script stops with a KeyError "
                 "here; predict every question (\"\" for no answer) or pass --missing-as-empty",
                 res->n_missing, first);
        goto out;
    }
    rc = aggregate(&c, nd != NULL, o, res);
out:
    if (c.log.n) {
        res->missing_log = c.log.p;
        res->missing_log_len = c.log.n;
        c.log.p = NULL;
        c.log.n = c.log.cap = 0;
    }
    free(pkeys);
    free(pvals);
    ctx_free(&c);
    pj_free(dd);
    pj_free(pd);
    pj_free(nd);
    return rc;
}

/* ------------------------------------------------------------------ output (the official JSON) */

char *squad2_format(const squad2_result *r, int pretty) {
    T5G_CHECK_NULL(r, "squad2_format: no result");
    u8buf b = {0};
    const char *sep = pretty ? ",\n  " : ", ";
    int first = 1, err = u8buf_put(&b, pretty ? "{\n  " : "{", pretty ? 4 : 1);
#define KEY(name)                                                                                                      \
    (err |= u8buf_put(&b, sep, first ? 0 : strlen(sep)) || u8buf_put(&b, "\"" name "\": ", strlen(name) + 4), first = 0)
#define FLT(name, v)                                                                                                   \
    do {                                                                                                               \
        char t[64];                                                                                                    \
        py_repr_double(v, t, sizeof t, 1);                                                                             \
        KEY(name);                                                                                                     \
        err |= u8buf_put(&b, t, strlen(t));                                                                            \
    } while (0)
#define INT(name, v)                                                                                                   \
    do {                                                                                                               \
        char t[32];                                                                                                    \
        snprintf(t, sizeof t, "%lld", v);                                                                              \
        KEY(name);                                                                                                     \
        err |= u8buf_put(&b, t, strlen(t));                                                                            \
    } while (0)
#define TXT(name, v)                                                                                                   \
    do {                                                                                                               \
        KEY(name);                                                                                                     \
        err |= u8buf_put(&b, v, strlen(v));                                                                            \
    } while (0)
    FLT("exact", r->exact);
    FLT("f1", r->f1);
    INT("total", r->total);
    if (r->has_ans_block) {
        FLT("HasAns_exact", r->has_exact);
        FLT("HasAns_f1", r->has_f1);
        INT("HasAns_total", r->has_total);
    }
    if (r->no_ans_block) {
        FLT("NoAns_exact", r->no_exact);
        FLT("NoAns_f1", r->no_f1);
        INT("NoAns_total", r->no_total);
    }
    if (r->best_block) {
        FLT("best_exact", r->best_exact);
        TXT("best_exact_thresh", r->best_exact_thresh);
        FLT("best_f1", r->best_f1);
        TXT("best_f1_thresh", r->best_f1_thresh);
    }
    if (r->pr_block) {
        FLT("pr_exact_ap", r->pr_exact_ap);
        FLT("pr_f1_ap", r->pr_f1_ap);
        FLT("pr_oracle_ap", r->pr_oracle_ap);
    }
#undef KEY
#undef FLT
#undef INT
#undef TXT
    err |= u8buf_put(&b, pretty ? "\n}" : "}", pretty ? 2 : 1);
    if (err) {
        u8buf_free(&b);
        return NULL;
    }
    return b.p;
}

void squad2_result_free(squad2_result *r) {
    if (!r) return;
    free(r->missing_log);
    r->missing_log = NULL;
    for (int k = 0; k < 3; k++) {
        free(r->pr[k].recall);
        free(r->pr[k].precision);
        memset(&r->pr[k], 0, sizeof r->pr[k]);
    }
    free(r->na_has);
    free(r->na_no);
    r->na_has = r->na_no = NULL;
}
