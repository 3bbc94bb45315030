/* vocab.c - vocab-parallel argmax, log-sum-exp and top-k (see vocab.h).
 *
 * These run once per decode step over [rows, nv] logits (32 rows x 256000 columns is 33 MB),
 * so each row is one pass of AVX2 code, rows are spread over the CPU pool, and nothing is
 * allocated for batches of up to STACK_ROWS rows.  Results are bit-identical to the plain
 * loops they replace: argmax keeps the first maximum; top-k keeps the same candidates in
 * the same order (ties to the lower id); log-sum-exp sums exp in double as before, from
 * float32 exp of (x - max) (libmvec, < 4 ulp; HF computes log_softmax in float32). */
#include "parallel/vocab.h"
#include "backend/cpu/pool.h"
#include "core/err.h"
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STACK_ROWS 512

__m256 _ZGVdN8v_expf(__m256 x);

/* ---- argmax ---- */

typedef struct {
    float v;
    int i;
} val_loc;

static float hmax256(__m256 v) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* Largest value of x[0..n) (NaN lanes ignored, as `x[i] > m` ignores them). */
static float row_max(const float *x, int n) {
    float m = x[0];
    int i = 0;
    if (n >= 32) {
        __m256 a = _mm256_loadu_ps(x), b = a, c = a, d = a;
        for (; i + 32 <= n; i += 32) { /* max_ps(new, acc) keeps acc where new is NaN */
            a = _mm256_max_ps(_mm256_loadu_ps(x + i), a);
            b = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), b);
            c = _mm256_max_ps(_mm256_loadu_ps(x + i + 16), c);
            d = _mm256_max_ps(_mm256_loadu_ps(x + i + 24), d);
        }
        m = hmax256(_mm256_max_ps(_mm256_max_ps(a, b), _mm256_max_ps(c, d)));
        if (m != m) m = -INFINITY; /* the first row elements were NaN */
    }
    for (; i < n; i++)
        if (x[i] > m) m = x[i];
    return m;
}

/* Index of the first element of x that equals the maximum (the strict-> scan's answer). */
static int row_argmax(const float *x, int n) {
    float m = row_max(x, n);
    if (!(x[0] < m)) return 0; /* x[0] is the max, or the scan never moved off a NaN x[0] */
    __m256 mv = _mm256_set1_ps(m);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), mv, _CMP_EQ_OQ));
        if (hit) return i + __builtin_ctz((unsigned)hit);
    }
    for (; i < n; i++)
        if (x[i] == m) return i;
    return 0;
}

typedef struct {
    const float *logits;
    int nv, v0;
    val_loc *loc;
    float *mx;
    double *sum;
    /* top-k */
    int k, kl;
    const float *lse, *add;
    t5g_cand *out;
} row_job;

static void argmax_rows(void *ctx, int64_t r0, int64_t r1) {
    const row_job *j = ctx;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = j->logits + (size_t)r * j->nv;
        int b = row_argmax(x, j->nv);
        j->loc[r].v = x[b];
        j->loc[r].i = j->v0 + b;
    }
}

int t5g_vocab_argmax(t5g_comm *c, const float *logits, int rows, int nv, int v0, int *ids, float *values) {
    T5G_CHECK(logits && ids && rows >= 0 && nv > 0, "t5g_vocab_argmax: bad arguments");
    val_loc stack[STACK_ROWS], *loc = rows <= STACK_ROWS ? stack : malloc(sizeof *loc * rows);
    T5G_CHECK(loc, "out of memory in argmax");
    row_job j = {.logits = logits, .nv = nv, .v0 = v0, .loc = loc};
    t5g_pool_for(rows, 1, argmax_rows, &j);
    /* MAXLOC breaks ties toward the lower index, which is the lower id */
    if (c && c->tp_size > 1) MPI_Allreduce(MPI_IN_PLACE, loc, rows, MPI_FLOAT_INT, MPI_MAXLOC, c->tp);
    t5g_sim_wire(c); /* simulated inter-node latency (off unless T5G_SIM_LATENCY_US) */
    for (int r = 0; r < rows; r++) {
        ids[r] = loc[r].i;
        if (values) values[r] = loc[r].v;
    }
    if (loc != stack) free(loc);
    return 0;
}

/* ---- log-sum-exp ---- */

static void max_rows(void *ctx, int64_t r0, int64_t r1) {
    const row_job *j = ctx;
    for (int64_t r = r0; r < r1; r++) j->mx[r] = row_max(j->logits + (size_t)r * j->nv, j->nv);
}

/* Σ exp(x - m) over a row: float32 exp, each block of 8 summed into double accumulators. */
static double row_sumexp(const float *x, int n, float m) {
    __m256 mv = _mm256_set1_ps(m);
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = _ZGVdN8v_expf(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    double t[4];
    _mm256_storeu_pd(t, _mm256_add_pd(s0, s1));
    double s = (t[0] + t[1]) + (t[2] + t[3]);
    for (; i < n; i++) s += expf(x[i] - m);
    return s;
}

static void sumexp_rows(void *ctx, int64_t r0, int64_t r1) {
    const row_job *j = ctx;
    for (int64_t r = r0; r < r1; r++) j->sum[r] = row_sumexp(j->logits + (size_t)r * j->nv, j->nv, j->mx[r]);
}

int t5g_vocab_logsumexp(t5g_comm *c, const float *logits, int rows, int nv, float *lse) {
    T5G_CHECK(logits && lse && rows >= 0 && nv > 0, "t5g_vocab_logsumexp: bad arguments");
    float mstack[STACK_ROWS];
    double sstack[STACK_ROWS];
    float *mx = rows <= STACK_ROWS ? mstack : malloc(sizeof(float) * rows);
    double *sum = rows <= STACK_ROWS ? sstack : malloc(sizeof(double) * rows);
    if (!mx || !sum) {
        if (mx != mstack) free(mx);
        if (sum != sstack) free(sum);
        return T5G_FAIL("out of memory in logsumexp");
    }
    row_job j = {.logits = logits, .nv = nv, .mx = mx, .sum = sum};
    t5g_pool_for(rows, 1, max_rows, &j);
    if (c && c->tp_size > 1) MPI_Allreduce(MPI_IN_PLACE, mx, rows, MPI_FLOAT, MPI_MAX, c->tp);
    t5g_sim_wire(c); /* simulated inter-node latency (off unless T5G_SIM_LATENCY_US) */
    t5g_pool_for(rows, 1, sumexp_rows, &j);
    if (c && c->tp_size > 1) MPI_Allreduce(MPI_IN_PLACE, sum, rows, MPI_DOUBLE, MPI_SUM, c->tp);
    t5g_sim_wire(c); /* simulated inter-node latency (off unless T5G_SIM_LATENCY_US) */
    for (int r = 0; r < rows; r++) lse[r] = (float)(mx[r] + log(sum[r]));
    if (mx != mstack) free(mx);
    if (sum != sstack) free(sum);
    return 0;
}

/* ---- top-k ---- */

int t5g_cand_cmp(const void *a, const void *b) {
    const t5g_cand *x = a, *y = b;
    if (x->value != y->value) return x->value > y->value ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Insert (v, id) into the sorted buffer heap[0..*n) of at most kl entries. */
static void heap_push(t5g_cand *heap, int *n, int kl, float v, int id) {
    if (*n == kl && !(v > heap[*n - 1].value)) return; /* ties keep the lower id already held */
    int j = *n < kl ? (*n)++ : kl - 1;
    while (j > 0 && heap[j - 1].value < v) {
        heap[j] = heap[j - 1];
        j--;
    }
    heap[j].value = v;
    heap[j].id = id;
}

/* The kl best of (x[i] - sub) + off, sorted; once the buffer is full, blocks of 8 whose
 * values all fail the entry test are skipped with one compare. */
static int row_topk(const float *x, int nv, int v0, int kl, float sub, float off, t5g_cand *heap) {
    int n = 0, i = 0;
    for (; i < nv && n < kl; i++) heap_push(heap, &n, kl, (x[i] - sub) + off, v0 + i);
    __m256 subv = _mm256_set1_ps(sub), offv = _mm256_set1_ps(off);
    for (; i + 8 <= nv; i += 8) {
        __m256 v = _mm256_add_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), subv), offv);
        unsigned hit = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_set1_ps(heap[kl - 1].value), _CMP_GT_OQ));
        if (!hit) continue;
        float vals[8];
        _mm256_storeu_ps(vals, v);
        for (; hit; hit &= hit - 1) {
            int l = __builtin_ctz(hit);
            heap_push(heap, &n, kl, vals[l], v0 + i + l);
        }
    }
    for (; i < nv; i++) heap_push(heap, &n, kl, (x[i] - sub) + off, v0 + i);
    return n;
}

static void topk_rows(void *ctx, int64_t r0, int64_t r1) {
    const row_job *j = ctx;
    t5g_cand heap[256];
    for (int64_t r = r0; r < r1; r++) {
        float off = j->add ? j->add[r] : 0.0f, sub = j->lse ? j->lse[r] : 0.0f;
        int n = row_topk(j->logits + (size_t)r * j->nv, j->nv, j->v0, j->kl, sub, off, heap);
        t5g_cand *o = j->out + (size_t)r * j->k;
        for (int q = 0; q < j->k; q++) {
            if (q < n) o[q] = heap[q];
            else {
                o[q].value = -INFINITY;
                o[q].id = 0x7fffffff;
            }
        }
    }
}

/* Candidate scratch that only grows (the decode loop calls top-k every step: no allocation
 * once the largest batch has been seen).  Generation runs on one thread per process. */
static t5g_cand *scratch(int which, size_t n) {
    static t5g_cand *buf[3];
    static size_t cap[3];
    if (n > cap[which]) {
        t5g_cand *p = realloc(buf[which], sizeof(t5g_cand) * n);
        if (!p) return NULL;
        buf[which] = p;
        cap[which] = n;
    }
    return buf[which];
}

/* TP > 1: every rank contributes k per row; every rank merges identically. */
static int merge_ranks(t5g_comm *c, const t5g_cand *loc, int rows, int k, t5g_cand *out) {
    int T = c->tp_size;
    t5g_cand *all = scratch(1, (size_t)rows * k * T + 1), *row = scratch(2, (size_t)k * T + 1);
    if (!all || !row) return T5G_FAIL("out of memory in top-k");
    int bytes = rows * k * (int)sizeof(t5g_cand);
    MPI_Allgather(loc, bytes, MPI_BYTE, all, bytes, MPI_BYTE, c->tp);
    t5g_sim_wire(c); /* simulated inter-node latency (off unless T5G_SIM_LATENCY_US) */
    for (int r = 0; r < rows; r++) {
        for (int t = 0; t < T; t++) memcpy(row + t * k, all + ((size_t)t * rows + r) * k, sizeof(t5g_cand) * k);
        qsort(row, (size_t)k * T, sizeof *row, t5g_cand_cmp);
        memcpy(out + (size_t)r * k, row, sizeof(t5g_cand) * k);
    }
    return 0;
}

/* k > 256 (sampling over most of the vocabulary): each row sorted whole, O(nv log nv) */
static void topk_large_rows(void *ctx, int64_t r0, int64_t r1) {
    const row_job *j = ctx;
    t5g_cand *buf = malloc(sizeof(t5g_cand) * (size_t)j->nv);
    for (int64_t r = r0; r < r1; r++) {
        t5g_cand *o = j->out + (size_t)r * j->k;
        if (!buf) { /* reported by the caller: every candidate left empty */
            for (int q = 0; q < j->k; q++) o[q] = (t5g_cand){-INFINITY, -1};
            continue;
        }
        const float *x = j->logits + (size_t)r * j->nv;
        float off = j->add ? j->add[r] : 0.0f, sub = j->lse ? j->lse[r] : 0.0f;
        for (int i = 0; i < j->nv; i++) buf[i] = (t5g_cand){(x[i] - sub) + off, j->v0 + i};
        qsort(buf, (size_t)j->nv, sizeof *buf, t5g_cand_cmp);
        for (int q = 0; q < j->k; q++) o[q] = q < j->kl ? buf[q] : (t5g_cand){-INFINITY, 0x7fffffff};
    }
    free(buf);
}

int t5g_vocab_topk(t5g_comm *c, const float *logits, int rows, int nv, int v0, int k, const float *lse,
                   const float *add, t5g_cand *out) {
    T5G_CHECK(logits && out && rows >= 0 && nv > 0 && k > 0, "t5g_vocab_topk: bad arguments");
    int kl = k < nv ? k : nv; /* local candidates per row */
    int T = c ? c->tp_size : 1;
    t5g_cand *loc = out; /* TP = 1: the local candidates are the answer */
    if (T > 1) {
        loc = scratch(0, (size_t)rows * k + 1);
        T5G_CHECK(loc, "out of memory in top-k");
    }
    row_job j = {.logits = logits, .nv = nv, .v0 = v0, .k = k, .kl = kl, .lse = lse, .add = add, .out = loc};
    t5g_pool_for(rows, 1, kl > 256 ? topk_large_rows : topk_rows, &j);
    int rc = 0;
    for (int r = 0; r < rows && kl > 256; r++)
        if (loc[(size_t)r * k].id == -1) rc = T5G_FAIL("out of memory in top-k over %d candidates", nv);
    if (!rc) rc = T > 1 ? merge_ranks(c, loc, rows, k, out) : 0;
    return rc;
}
