/* ops_cpu.c - CPU backend: BLIS sgemm for every matrix product, plain float32 loops
 * (OpenMP over rows) for the element-wise ops.  The rounding follows the HF eager
 * reference op by op (docs/model.md, Primitives): scale after q·k, then tanh soft-cap, then mask, then a
 * float32 softmax. */
#include "backend/backend.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include "core/err.h"
#include <stdatomic.h>
#include <malloc.h>
#include <pthread.h>
#include <blis.h>
#include <immintrin.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* CPU ops run to completion on the calling thread's team; the only failure is running out of
 * memory for a thread's score block, recorded here and reported by the next sync. */
static _Atomic int cpu_oom;

/* element-wise work is cut into pieces of ~16K floats: smaller jobs run on the caller */
#define EW_GRAIN 16384

/* Dot product of two rows (AVX2 + FMA, 4 accumulators). */
static inline float dot_row(const float *a, const float *b, int K) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int k = 0;
    for (; k + 32 <= K; k += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 16), _mm256_loadu_ps(b + k + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 24), _mm256_loadu_ps(b + k + 24), s3);
    }
    for (; k + 8 <= K; k += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
    __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    float r = _mm_cvtss_f32(h);
    for (; k < K; k++) r += a[k] * b[k];
    return r;
}

static void cpu_gemm(void *ctx, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                     int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (tb && t5g_cpu_f32_use_tile(M) && alpha == 1.0f && beta == 0.0f) {
        t5g_cpu_linear_small(A, M, lda, B, N, K, ldb, C, ldc);
        return;
    }
    t5g_cpu_sgemm(tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static void cpu_linear(void *ctx, const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    switch (W->dtype) {
        case T5G_DT_BF16:
            t5g_cpu_linear_bf16(x, M, ldx, W, y, ldy);
            break;
        case T5G_DT_INT8:
            t5g_cpu_linear_int8(x, M, ldx, W, y, ldy);
            break;
        default:
            t5g_cpu_linear_f32(x, M, ldx, W, y, ldy);
            break;
    }
}

static void cpu_linear_amax(void *ctx, const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy,
                            const float *row_amax) {
    if (W->dtype == T5G_DT_INT8 && row_amax) t5g_cpu_linear_int8_amax(x, M, ldx, W, y, ldy, row_amax);
    else cpu_linear(ctx, x, M, ldx, W, y, ldy);
}

typedef struct {
    const float *x, *w;
    float *y;
    int n;
    float eps;
} norm_job;

static void rmsnorm_rows(void *ctx, int64_t r0, int64_t r1) {
    const norm_job *j = ctx;
    const float *x = j->x, *w = j->w;
    float *y = j->y;
    int n = j->n;
    float eps = j->eps;
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        __m256d s0 = _mm256_setzero_pd(), s1 = s0; /* mean of squares in double */
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256 v = _mm256_loadu_ps(xr + i);
            __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
            s0 = _mm256_add_pd(s0, _mm256_mul_pd(lo, lo));
            s1 = _mm256_add_pd(s1, _mm256_mul_pd(hi, hi));
        }
        double t[4], ss = 0;
        _mm256_storeu_pd(t, _mm256_add_pd(s0, s1));
        ss = t[0] + t[1] + t[2] + t[3];
        for (; i < n; i++) ss += (double)xr[i] * xr[i];
        float inv = 1.0f / sqrtf((float)(ss / n) + eps); /* torch.rsqrt(mean + eps) */
        for (i = 0; i < n; i++) yr[i] = (xr[i] * inv) * (1.0f + w[i]);
    }
}

static void cpu_rmsnorm(void *ctx, const float *x, const float *w, float *y, int rows, int n, float eps) {
    norm_job j = {x, w, y, n, eps};
    int64_t grain = n > 0 && n < EW_GRAIN ? EW_GRAIN / n : 1;
    t5g_pool_for(rows, grain, rmsnorm_rows, &j);
}

typedef struct {
    const t5g_wmat *W;
    int v0;
    const int32_t *ids;
    float scale;
    float *out;
} embed_job;

static void embed_rows(void *ctx, int64_t t0, int64_t t1) {
    const embed_job *j = ctx;
    const t5g_wmat *W = j->W;
    int Vl = W->rows, H = W->cols;
    for (int64_t t = t0; t < t1; t++) {
        float *o = j->out + (size_t)t * H;
        int id = j->ids[t] - j->v0;
        if (id < 0 || id >= Vl) {
            memset(o, 0, sizeof(float) * H);
            continue;
        }
        if (W->dtype != T5G_DT_F32) { /* widen the row, then scale (as HF on a bf16 model in f32) */
            t5g_cpu_wrow_f32(W, id, o);
            for (int i = 0; i < H; i++) o[i] *= j->scale;
            continue;
        }
        const float *e = (const float *)W->data + (size_t)id * W->ld;
        for (int i = 0; i < H; i++) o[i] = e[i] * j->scale;
    }
}

static void cpu_embed(void *ctx, const t5g_wmat *W, int v0, const int32_t *ids, int T, float scale, float *out) {
    embed_job j = {W, v0, ids, scale, out};
    int64_t grain = W->cols > 0 && W->cols < EW_GRAIN ? EW_GRAIN / W->cols : 1;
    t5g_pool_for(T, grain, embed_rows, &j);
}

typedef struct {
    float *x;
    const float *cs;
    int ld, nheads, hd, Tq;
} rope_job;

static void rope_rows(void *ctx, int64_t t0, int64_t t1) {
    const rope_job *j = ctx;
    int half = j->hd / 2;
    for (int64_t t = t0; t < t1; t++) {
        const float *c = j->cs + (size_t)(t % j->Tq) * 2 * half, *sn = c + half;
        for (int h = 0; h < j->nheads; h++) {
            float *v = j->x + (size_t)t * j->ld + (size_t)h * j->hd;
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                v[i] = a * c[i] + (-b) * sn[i];
                v[i + half] = b * c[i] + a * sn[i];
            }
        }
    }
}

typedef struct {
    float *cs;
    const float *inv_freq;
    int half, pos0;
} rope_table_job;

static void rope_table_rows(void *ctx, int64_t t0, int64_t t1) {
    const rope_table_job *j = ctx;
    int half = j->half;
    for (int64_t t = t0; t < t1; t++)
        for (int i = 0; i < half; i++) {
            float ang = (float)(j->pos0 + t) * j->inv_freq[i];
            j->cs[(size_t)t * 2 * half + i] = cosf(ang);
            j->cs[(size_t)t * 2 * half + half + i] = sinf(ang);
        }
}

static void cpu_rope_scaled(void *ctx, float *x, int T, int ld, int nheads, int hd, int Tq, int pos0, float theta,
                            float factor) {
    int half = hd / 2;
    if (half > 512 || Tq <= 0) return;
    float inv_freq[512];
    /* HF: 1 / base ** (arange(0, hd, 2).float() / hd), all in float32; linear scaling: inv_freq /= factor */
    for (int i = 0; i < half; i++) inv_freq[i] = 1.0f / powf(theta, (float)(2 * i) / (float)hd) / factor;
    /* only Tq distinct positions (every row uses pos0..pos0+Tq-1): one cos/sin table */
    float stackbuf[4096]; /* decode steps (Tq = 1) stay off the heap */
    size_t need = 2 * (size_t)Tq * half;
    float *cs = need <= 4096 ? stackbuf : malloc(sizeof(float) * need);
    if (!cs) return;
    rope_table_job tj = {cs, inv_freq, half, pos0};
    t5g_pool_for(Tq, 16, rope_table_rows, &tj);
    rope_job j = {x, cs, ld, nheads, hd, Tq};
    int64_t w = (int64_t)nheads * hd;
    t5g_pool_for(T, w > 0 && w < EW_GRAIN ? EW_GRAIN / w : 1, rope_rows, &j);
    if (cs != stackbuf) free(cs);
}

static void cpu_rope(void *ctx, float *x, int T, int ld, int nheads, int hd, int Tq, int pos0, float theta) {
    cpu_rope_scaled(ctx, x, T, ld, nheads, hd, Tq, pos0, theta, 1.0f); /* x / 1.0f is exact */
}

int t5g_rel_bucket(int rel, int bidirectional, int num_buckets, int max_distance) {
    int ret = 0, n = num_buckets, d;
    if (bidirectional) {
        n /= 2;
        if (rel > 0) ret = n;
        d = abs(rel);
    } else {
        d = rel < 0 ? -rel : 0;
    }
    int max_exact = n / 2;
    if (d < max_exact) return ret + d;
    float v = logf((float)d / (float)max_exact) / logf((float)max_distance / (float)max_exact) * (float)(n - max_exact);
    int b = max_exact + (int)v; /* truncation toward zero, as .to(torch.long) */
    if (b > n - 1) b = n - 1;
    return ret + b;
}

/* glibc's libmvec AVX2 variants (-lmvec): the scalar expf/tanhf per score dominated the
 * encoder; these stay within a few ulp, far inside the 1e-4 exactness tolerance. */
__m256 _ZGVdN8v_expf(__m256 x);
__m256 _ZGVdN8v_tanhf(__m256 x);

/* x[i] = cap * tanh(x[i] / cap), the operation order of HF's soft-cap */
static void softcap_vec(float *x, size_t n, float cap) {
    __m256 c = _mm256_set1_ps(cap);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_ZGVdN8v_tanhf(_mm256_div_ps(_mm256_loadu_ps(x + i), c)), c));
    for (; i < n; i++) x[i] = tanhf(x[i] / cap) * cap;
}

/* Keys [lo, hi) that the mask kind allows for query qi (before the padding mask). */
static void key_range(const t5g_attn_args *a, int qi, int *lo, int *hi) {
    int i = a->q_pos0 + qi, W = a->window, Tk = a->Tk;
    int l = 0, h = Tk;
    switch (a->mask) {
        case T5G_MASK_BIDIR:
            break;
        case T5G_MASK_BIDIR_WINDOW:
            l = i - W;
            h = i + W + 1;
            break; /* |i-j| <= W */
        case T5G_MASK_BIDIR_WINDOW_STRICT:
            l = i - W + 1;
            h = i + W;
            break; /* |i-j| < W */
        case T5G_MASK_CAUSAL:
            h = i + 1;
            break; /* j <= i */
        case T5G_MASK_CAUSAL_WINDOW:
            l = i - W + 1;
            h = i + 1;
            break; /* i-W < j <= i */
        case T5G_MASK_BIDIR_WINDOW_SPLIT:
            l = i - (W + 1) / 2 + 1;
            h = i + W / 2 + 1;
            break; /* T5Gemma 2 */
    }
    *lo = l < 0 ? 0 : l;
    *hi = h > Tk ? Tk : h;
}

#define T5G_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
T5G_AVX512 __m512 _ZGVeN16v_expf(__m512 x); /* libmvec; the target attribute keeps clang's ABI check happy */
T5G_AVX512 __m512 _ZGVeN16v_tanhf(__m512 x);

/* softmax_row on AVX-512 (no relative bias): the same operations per score (x·scale, then
 * cap·tanh(x / cap), then the padding mask, then exp(x - max) / Σ), in three vector passes.
 * (The AVX2 path's scalar running max, one dependent vmaxss per key, was 70% of its time.) */
T5G_AVX512 static int softmax_row512(const t5g_attn_args *a, float *s, int lo, int hi) {
    int Tk = a->Tk;
    __m512 sc = _mm512_set1_ps(a->scale), cap = _mm512_set1_ps(a->softcap), ninf = _mm512_set1_ps(-INFINITY);
    __m512 mxv = ninf;
    for (int j = lo; j < hi; j += 16) {
        __mmask16 m = hi - j >= 16 ? 0xffff : (__mmask16)((1u << (hi - j)) - 1);
        __m512 x = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + j), sc);
        if (a->softcap > 0) x = _mm512_mul_ps(_ZGVeN16v_tanhf(_mm512_div_ps(x, cap)), cap);
        __mmask16 ok = m;
        if (a->key_valid) {
            __m128i kv = _mm_maskz_loadu_epi8(m, a->key_valid + j);
            ok = _mm_test_epi8_mask(kv, kv);
            x = _mm512_mask_mov_ps(ninf, ok, x);
        }
        mxv = _mm512_mask_max_ps(mxv, ok, x, mxv); /* a NaN score is not a maximum (as x > mx) */
        _mm512_mask_storeu_ps(s + j, m, x);
    }
    float mx = _mm512_reduce_max_ps(mxv);
    if (mx == -INFINITY) { /* fully masked row: HF eager gives uniform weights (all scores = finfo.min) */
        for (int j = 0; j < Tk; j++) s[j] = 1.0f / (float)Tk;
        return 1;
    }
    memset(s, 0, sizeof(float) * lo);
    memset(s + hi, 0, sizeof(float) * (Tk - hi));
    __m512 m = _mm512_set1_ps(mx), acc = _mm512_setzero_ps();
    for (int j = lo; j < hi; j += 16) { /* exp(-inf) = 0 for padded keys */
        __mmask16 k = hi - j >= 16 ? 0xffff : (__mmask16)((1u << (hi - j)) - 1);
        __m512 e = _ZGVeN16v_expf(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), m));
        _mm512_mask_storeu_ps(s + j, k, e);
        acc = _mm512_mask_add_ps(acc, k, acc, e);
    }
    __m512 iv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(acc));
    for (int j = lo; j < hi; j += 16) {
        __mmask16 k = hi - j >= 16 ? 0xffff : (__mmask16)((1u << (hi - j)) - 1);
        _mm512_mask_storeu_ps(s + j, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, s + j), iv));
    }
    return 0;
}

/* One query row of scores -> probabilities in place (scale, bias, soft-cap, mask, softmax).
 * Returns 1 for a fully masked row (uniform weights over all Tk keys), else 0 (weights
 * outside the key range are 0). */
static int softmax_row(const t5g_attn_args *a, int h, int qi, float *s) {
    int Tk = a->Tk, lo, hi;
    key_range(a, qi, &lo, &hi);
    if (!a->rel_table && t5g_gemm_f32_native()) return softmax_row512(a, s, lo, hi);
    __m256 sc = _mm256_set1_ps(a->scale);
    int j = lo;
    for (; j + 8 <= hi; j += 8) _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), sc));
    for (; j < hi; j++) s[j] *= a->scale;
    if (a->rel_table)
        for (j = lo; j < hi; j++)
            s[j] += a->rel_table[(size_t)t5g_rel_bucket(j - (a->q_pos0 + qi), a->rel_bidirectional, a->rel_buckets,
                                                        a->rel_max_distance) *
                                     a->nh +
                                 h];
    if (a->softcap > 0 && hi > lo) softcap_vec(s + lo, (size_t)(hi - lo), a->softcap);
    float mx = -INFINITY;
    for (j = lo; j < hi; j++) {
        if (a->key_valid && !a->key_valid[j]) s[j] = -INFINITY;
        else if (s[j] > mx) mx = s[j];
    }
    if (mx == -INFINITY) { /* fully masked row: HF eager gives uniform weights (all scores = finfo.min) */
        for (j = 0; j < Tk; j++) s[j] = 1.0f / (float)Tk;
        return 1;
    }
    for (j = 0; j < lo; j++) s[j] = 0.0f;
    for (j = hi; j < Tk; j++) s[j] = 0.0f;
    __m256 m = _mm256_set1_ps(mx), acc = _mm256_setzero_ps();
    for (j = lo; j + 8 <= hi; j += 8) { /* exp(-inf) = 0 for padded keys */
        __m256 e = _ZGVdN8v_expf(_mm256_sub_ps(_mm256_loadu_ps(s + j), m));
        _mm256_storeu_ps(s + j, e);
        acc = _mm256_add_ps(acc, e);
    }
    float t[8], sum = 0.0f;
    _mm256_storeu_ps(t, acc);
    for (int k = 0; k < 8; k++) sum += t[k];
    for (; j < hi; j++) {
        s[j] = expf(s[j] - mx);
        sum += s[j];
    }
    float inv = 1.0f / sum;
    __m256 iv = _mm256_set1_ps(inv);
    for (j = lo; j + 8 <= hi; j += 8) _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), iv));
    for (; j < hi; j++) s[j] *= inv;
    return 0;
}

/* One query head: scores -> probabilities -> out (all float32 like HF eager). */
static void attend_head(const t5g_attn_args *a, int h, float *S) {
    int g = (a->head0 + h) / a->group - a->kv0; /* block GQA mapping (HF repeat_kv) */
    int Tq = a->Tq, Tk = a->Tk;
    const float *q = a->q + (size_t)h * a->hd, *k = a->k + (size_t)g * a->hd, *v = a->v + (size_t)g * a->hd;
    float zero = 0.0f, one = 1.0f;
    /* S = q·kᵀ, then * scale (HF multiplies the product, not q) */
    t5g_cpu_sgemm_serial(1, Tq, Tk, a->hd, one, q, a->ldq, k, a->ldk, zero, S, Tk);
    for (int i = 0; i < Tq; i++) softmax_row(a, h, i, S + (size_t)i * Tk);
    /* out_h = P · V_g */
    t5g_cpu_sgemm_serial(0, Tq, a->hd, Tk, one, S, Tk, v, a->ldv, zero, a->out + (size_t)h * a->hd, a->ldo);
}

/* A growing per-thread buffer (score rows of decode, score blocks of prefill). */
static float *thread_scores(size_t n) {
    static _Thread_local float *buf;
    static _Thread_local size_t cap;
    if (n > cap) {
        float *p = realloc(buf, sizeof(float) * n);
        if (!p) return NULL;
        buf = p;
        cap = n;
    }
    return buf;
}

/* Prefill attention: one pool task per (sequence, head), each with single-threaded BLIS
 * products and its thread's own score block. */
typedef struct {
    const t5g_attn_args *a;
    int64_t sq, so, skv, svalid;
    const int32_t *kv_rows;
} attn_batch_job;

/* Task t is (sequence r = t / nh, head h = t % nh): the arguments of sequence r alone (its
 * queries, output rows and kv row) and the per-thread score buffer of n floats (NULL: out of
 * memory, recorded for sync()). */
static float *task_args(const attn_batch_job *j, int64_t t, size_t n, t5g_attn_args *b, int *h) {
    const t5g_attn_args *a = j->a;
    int r = (int)(t / a->nh), kr = j->kv_rows ? j->kv_rows[r] : r;
    *h = (int)(t % a->nh);
    *b = *a;
    b->q = a->q + r * j->sq;
    b->out = a->out + r * j->so;
    b->k = a->k + kr * j->skv;
    b->v = a->v + kr * j->skv;
    if (a->key_valid) b->key_valid = a->key_valid + kr * j->svalid;
    float *S = thread_scores(n);
    if (!S) atomic_store(&cpu_oom, 1);
    return S;
}

static void attn_prefill_task(void *ctx, int64_t t0, int64_t t1) {
    const attn_batch_job *j = ctx;
    for (int64_t t = t0; t < t1; t++) {
        t5g_attn_args b;
        int h;
        float *S = task_args(j, t, (size_t)j->a->Tq * j->a->Tk, &b, &h);
        if (!S) return;
        attend_head(&b, h, S);
    }
}

static void cpu_attention(void *ctx, const t5g_attn_args *a) {
    attn_batch_job j = {a, 0, 0, 0, 0, NULL};
    t5g_pool_for(a->nh, 1, attn_prefill_task, &j);
}

/* Decode attention (few queries per row): one task per (row, local head) on the pool; the
 * scores of one query live in a per-thread buffer.  Same operation order as attend_head:
 * q·k per key, then softmax_row (scale, bias, soft-cap, mask, softmax), then P·V. */

static void attn_decode_task(void *ctx, int64_t t0, int64_t t1) {
    const attn_batch_job *j = ctx;
    const t5g_attn_args *a = j->a;
    for (int64_t t = t0; t < t1; t++) {
        t5g_attn_args b;
        int h;
        float *S = task_args(j, t, (size_t)a->Tk, &b, &h);
        if (!S) return;
        int g = (a->head0 + h) / a->group - a->kv0, hd = a->hd, Tk = a->Tk;
        for (int i = 0; i < a->Tq; i++) {
            const float *q = b.q + (size_t)i * a->ldq + (size_t)h * hd;
            int lo, hi;
            key_range(&b, i, &lo, &hi);
            for (int k = lo; k < hi; k++) S[k] = dot_row(q, b.k + (size_t)k * a->ldk + (size_t)g * hd, hd);
            int full = softmax_row(&b, h, i, S);
            float *o = b.out + (size_t)i * a->ldo + (size_t)h * hd;
            memset(o, 0, sizeof(float) * hd);
            int j0 = lo, j1 = hi;
            if (full || hi <= lo) {
                j0 = 0;
                j1 = Tk;
            }
            for (int k = j0; k < j1; k++) {
                const float *vk = b.v + (size_t)k * a->ldv + (size_t)g * hd;
                float p = S[k];
                int d = 0;
                __m256 pv = _mm256_set1_ps(p);
                for (; d + 8 <= hd; d += 8)
                    _mm256_storeu_ps(o + d,
                                     _mm256_add_ps(_mm256_loadu_ps(o + d), _mm256_mul_ps(pv, _mm256_loadu_ps(vk + d))));
                for (; d < hd; d++) o[d] += p * vk[d];
            }
        }
    }
}

static void cpu_attention_batch(void *ctx, const t5g_attn_args *a, int rows, int64_t sq, int64_t so, int64_t skv,
                                int64_t svalid, const int32_t *kv_rows) {
    if (rows <= 0 || a->Tq <= 0) return;
    if (a->Tq <= 4 && !a->rel_table) {
        attn_batch_job j = {a, sq, so, skv, svalid, kv_rows};
        int64_t tasks = (int64_t)rows * a->nh;
        t5g_pool_for(tasks, tasks >= 64 ? 4 : 1, attn_decode_task, &j);
        return;
    }
    attn_batch_job j = {a, sq, so, skv, svalid, kv_rows};
    t5g_pool_for((int64_t)rows * a->nh, 1, attn_prefill_task, &j);
}

typedef struct {
    const float *a, *b;
    float *y;
    size_t n;
    float c;
} ew_job;

/* pieces of EW_GRAIN floats: [c0, c1) in pieces */
static void ew_span(const ew_job *j, int64_t c0, int64_t c1, size_t *i0, size_t *i1) {
    *i0 = (size_t)c0 * EW_GRAIN;
    *i1 = (size_t)c1 * EW_GRAIN;
    if (*i1 > j->n) *i1 = j->n;
}
static int64_t ew_pieces(size_t n) {
    return (int64_t)((n + EW_GRAIN - 1) / EW_GRAIN);
}

static void gelu_mul_span(void *ctx, int64_t c0, int64_t c1) {
    const ew_job *j = ctx;
    const float *gate = j->a, *up = j->b;
    float *out = j->y;
    size_t b0, n;
    ew_span(j, c0, c1, &b0, &n);
    const float k0 = 0.7978845608028654f; /* sqrt(2/pi) */
    size_t nv = b0 + (n - b0) / 8 * 8;
    for (size_t i = b0; i < nv; i += 8) { /* same operation order as torch's tanh-GELU kernel */
        __m256 x = _mm256_loadu_ps(gate + i), x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
        __m256 inner =
            _mm256_mul_ps(_mm256_set1_ps(k0), _mm256_add_ps(x, _mm256_mul_ps(_mm256_set1_ps(0.044715f), x3)));
        __m256 g = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x),
                                 _mm256_add_ps(_mm256_set1_ps(1.0f), _ZGVdN8v_tanhf(inner)));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(g, _mm256_loadu_ps(up + i)));
    }
    for (size_t i = nv; i < n; i++) {
        float x = gate[i];
        float x3 = x * x * x;
        float g = 0.5f * x * (1.0f + tanhf(k0 * (x + 0.044715f * x3)));
        out[i] = g * up[i];
    }
}

static void cpu_gelu_mul(void *ctx, const float *gate, const float *up, float *out, size_t n) {
    ew_job j = {gate, up, out, n, 0};
    t5g_pool_for(ew_pieces(n), 1, gelu_mul_span, &j);
}

static void softcap_span(void *ctx, int64_t c0, int64_t c1) {
    const ew_job *j = ctx;
    size_t i0, i1;
    ew_span(j, c0, c1, &i0, &i1);
    softcap_vec(j->y + i0, i1 - i0, j->c);
}

static void cpu_softcap(void *ctx, float *x, size_t n, float cap) {
    ew_job j = {NULL, NULL, x, n, cap};
    t5g_pool_for(ew_pieces(n), 1, softcap_span, &j);
}

/* linear then softcap, in blocks of weight rows whose outputs stay in L2 between the two (the LM
 * head: 32 rows x 256000 logits are 33 MB, and a separate soft-cap pass read and wrote them once
 * more).  One pool task per block runs the product on its own thread (a nested pool call runs
 * serially) and caps the block while it is cached.  The same numbers as linear, then softcap: a
 * logit depends on its activation row and weight row alone, not on N, the block or the thread. */
typedef struct {
    const float *x;
    int M, ldx;
    const t5g_wmat *W;
    float *y;
    int ldy, nb;
    float cap;
} cap_job;

static void linear_cap_blocks(void *ctx, int64_t b0, int64_t b1) {
    const cap_job *j = ctx;
    const t5g_wmat *W = j->W;
    size_t es = W->dtype == T5G_DT_BF16 ? 2 : W->dtype == T5G_DT_INT8 ? 1 : 4;
    for (int64_t b = b0; b < b1; b++) {
        int n0 = (int)b * j->nb, nr = W->rows - n0 < j->nb ? W->rows - n0 : j->nb;
        t5g_wmat part = *W;
        part.rows = nr;
        part.data = (char *)W->data + (size_t)n0 * W->ld * es;
        if (W->scale) part.scale = W->scale + n0;
        cpu_linear(NULL, j->x, j->M, j->ldx, &part, j->y + n0, j->ldy);
        for (int m = 0; m < j->M; m++) softcap_vec(j->y + (size_t)m * j->ldy + n0, (size_t)nr, j->cap);
    }
}

static void cpu_linear_softcap(void *ctx, const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy,
                               float cap) {
    int N = W->rows, nt = t5g_pool_threads();
    /* many rows (prefill, not a decode step) take the packed GEMM, whose blocks are its own */
    if (M > 256 || M <= 0 || N <= 0) {
        cpu_linear(ctx, x, M, ldx, W, y, ldy);
        if (ldy == N) cpu_softcap(ctx, y, (size_t)M * N, cap);
        else
            for (int m = 0; m < M; m++) cpu_softcap(ctx, y + (size_t)m * ldy, (size_t)N, cap);
        return;
    }
    int nb = 131072 / M, even = N / (8 * nt); /* 512 KB of logits per block; 8 blocks a thread at least */
    if (nb > even) nb = even;
    nb = nb < 64 ? 64 : (nb + 63) / 64 * 64;
    cap_job j = {x, M, ldx, W, y, ldy, nb, cap};
    t5g_pool_for((N + nb - 1) / nb, 1, linear_cap_blocks, &j);
}

static void add_span(void *ctx, int64_t c0, int64_t c1) {
    const ew_job *j = ctx;
    size_t i0, i1;
    ew_span(j, c0, c1, &i0, &i1);
    for (size_t i = i0; i < i1; i++) j->y[i] += j->a[i];
}

static void cpu_add(void *ctx, float *y, const float *x, size_t n) {
    ew_job j = {x, NULL, y, n, 0};
    t5g_pool_for(ew_pieces(n), 1, add_span, &j);
}

/* Buffers of 2 MB and more (weight matrices, caches) are 2 MB aligned and asked to be backed by
 * transparent huge pages (Debian's default THP mode is "madvise"): streaming a 524 MB LM head
 * every decode step otherwise walks 128k small pages through the TLB. */
#define HUGE_PAGE ((size_t)2 << 20)

/* Freed big buffers are kept for the next allocation of about their size while other big
 * buffers (the model's weights) are still in use: generation allocates its state (hundreds of
 * MB) per batch, and on a VM every first touch of fresh pages costs a fault (0.3 s of a 2.5 s
 * 8 x 512 encoder run, more than zeroing the pages).  A reused block is zeroed, like fresh
 * memory.  A request that no kept block fits first frees them all, and freeing the last big
 * buffer in use (the model) frees them all: resident memory never exceeds what the live
 * buffers plus the new one need, and nothing is held once the model is gone. */
enum { KEEP = 4, LIVE = 64 };
typedef struct {
    void *p;
    size_t cap;
} block;
static block kept[KEEP], live[LIVE];
static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;

static void drop_kept(void) {
    for (int i = 0; i < KEEP; i++) {
        free(kept[i].p);
        kept[i].p = NULL;
    }
}

static void *cpu_alloc(void *ctx, size_t bytes) {
    void *p = NULL;
    if (bytes < HUGE_PAGE) return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
    block b = {NULL, 0};
    pthread_mutex_lock(&blocks_lock);
    int best = -1;
    for (int i = 0; i < KEEP; i++)
        if (kept[i].p && kept[i].cap >= bytes && kept[i].cap - bytes <= bytes / 4 + HUGE_PAGE &&
            (best < 0 || kept[i].cap < kept[best].cap))
            best = i;
    if (best >= 0) {
        b = kept[best];
        kept[best].p = NULL;
    } else {
        drop_kept();
    }
    pthread_mutex_unlock(&blocks_lock);
    if (b.p) {
        memset(b.p, 0, bytes);
    } else {
        if (posix_memalign(&b.p, HUGE_PAGE, bytes) != 0) return NULL;
        /* a hint: without THP the memory is simply small pages.  The size is not rounded up: the
         * last partial 2 MB stays small pages, so resident memory stays what the planner predicts */
        size_t page = 4096;
        madvise(b.p, (bytes + page - 1) / page * page, MADV_HUGEPAGE);
        b.cap = malloc_usable_size(b.p);
    }
    pthread_mutex_lock(&blocks_lock);
    for (int i = 0; i < LIVE; i++) /* a block not registered (table full) is simply freed later */
        if (!live[i].p) {
            live[i] = b;
            break;
        }
    pthread_mutex_unlock(&blocks_lock);
    return b.p;
}

static void cpu_release(void *ctx, void *p) {
    if (!p) return;
    pthread_mutex_lock(&blocks_lock);
    int found = -1, others = 0;
    for (int i = 0; i < LIVE; i++) {
        if (live[i].p == p) found = i;
        else others += live[i].p != NULL;
    }
    if (found < 0 || !others) { /* a small buffer, or the last big one: free (and drop the kept) */
        if (found >= 0) {
            live[found].p = NULL;
            drop_kept();
        }
        pthread_mutex_unlock(&blocks_lock);
        free(p);
        return;
    }
    int slot = 0; /* an empty slot, else the smallest kept block makes room */
    for (int i = 0; i < KEEP; i++) {
        if (!kept[i].p) {
            slot = i;
            break;
        }
        if (kept[i].cap < kept[slot].cap) slot = i;
    }
    free(kept[slot].p);
    kept[slot] = live[found];
    live[found].p = NULL;
    pthread_mutex_unlock(&blocks_lock);
}

static void cpu_copy(void *ctx, void *dst, const void *src, size_t bytes, t5g_copy_kind kind) {
    (void)kind;
    if (dst != src && bytes) memmove(dst, src, bytes);
}
static void cpu_zero(void *ctx, void *p, size_t bytes) {
    memset(p, 0, bytes);
}
static int cpu_sync(void *ctx) {
    if (atomic_exchange(&cpu_oom, 0)) return T5G_FAIL("out of memory for attention scores on the CPU backend");
    return 0;
}

static const t5g_backend CPU = {
    .name = "cpu",
    .alloc = cpu_alloc,
    .release = cpu_release,
    .copy = cpu_copy,
    .zero = cpu_zero,
    .sync = cpu_sync,
    .allreduce_sum = NULL,
    .gemm = cpu_gemm,
    .linear = cpu_linear,
    .linear_amax = cpu_linear_amax,
    .rmsnorm = cpu_rmsnorm,
    .embed = cpu_embed,
    .rope = cpu_rope,
    .rope_scaled = cpu_rope_scaled,
    .attention = cpu_attention,
    .attention_batch = cpu_attention_batch,
    .gelu_mul = cpu_gelu_mul,
    .softcap = cpu_softcap,
    .add = cpu_add,
    .linear_softcap = cpu_linear_softcap,
};

const t5g_backend *t5g_backend_cpu(void) {
    return &CPU;
}

#ifndef T5G_CUDA
const t5g_backend *t5g_backend_cuda(int local_rank) {
    (void)local_rank;
    return NULL;
}
#endif
