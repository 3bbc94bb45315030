/* kattn.cuh - attention kernels of the CUDA backend (docs/model.md: Primitives, Masks, Options).
 *
 * Semantics are those of cpu_attention in backend/cpu/ops_cpu.c, per query head h, query
 * row i (absolute position q_pos0 + i) and key j:
 *   x = (q·k) * scale  [+ rel_table[bucket(j - i), h]]  [-> cap·tanh(x / cap)]  -> masked: -inf
 *   p = softmax_j(x) in float32; a row with no allowed key gets uniform weights 1/Tk over
 *   all Tk keys (HF eager with every score at finfo.min); out = Σ_j p_j v_j.
 * KV head of local query head h: (head0 + h) / group - kv0 (HF repeat_kv block mapping).
 *
 * Two kernels:
 *  - prefill (Tq > 1): tiled online softmax ("flash" style, float32 CUDA cores): a block owns
 *    32 query rows of one head, streams 32-key tiles of K and V through shared memory,
 *    keeps the running max / sum / output rows in registers;
 *  - decode (one query row per block, used when Tq == 1): the keys are split in chunks of 64
 *    over many blocks (enough parallelism at batch 1), each writes (max, sum, Σ p·v) of its
 *    chunk, and a combine kernel merges the chunks.
 * Key tiles that the mask shape rules out for every row of a block (causal future, outside the
 * window) are skipped: their weights are exactly 0, so skipping changes nothing.
 * The relative-bias bucket comes from a table the host fills with t5g_rel_bucket itself, so
 * the GPU uses bit-identical buckets. */
#ifndef T5G_KATTN_CUH
#define T5G_KATTN_CUH
extern "C" {
#include "backend/backend.h"
}
#include "backend/cuda/kcommon.cuh"

#define T5GK_BQ          32  /* prefill: query rows per block */
#define T5GK_BK          32  /* prefill: keys per tile */
#define T5GK_PF_THREADS  128 /* 4 threads per query row */
#define T5GK_DC          64  /* decode: keys per block */
#define T5GK_DEC_THREADS 128
#define T5GK_HD_MAX      256 /* largest head width the prefill kernel holds in registers */

/* Kernel copy of t5g_attn_args plus the device bucket table and, for a batch of `rows`
 * sequences in one launch, the element strides between rows (0 for a single sequence) and
 * the optional map from a sequence to its K/V row (kvmap[r]; NULL: row r). */
typedef struct {
    int Tq, Tk, nh, hd, group, head0, kv0;
    const float *q, *k, *v;
    float *out;
    int ldq, ldk, ldv, ldo;
    const unsigned char *key_valid;
    int q_pos0, mask, window;
    float scale, softcap;
    const float *rel_table; /* [buckets, nh] or NULL */
    const int *rel_tab;     /* bucket of rel = j - i at rel_tab[clamp(rel, -L, L) + L] */
    int rel_L;
    int rows;
    long long sq, sk, sv, so, sval;
    const int32_t *kvmap;
} t5gk_attn;

/* Smallest [lo, hi) holding every key any query in absolute positions [imin, imax] may see by
 * the mask's shape (key_valid aside). */
__host__ __device__ static inline void t5gk_key_range(int mask, int window, int Tk, int imin, int imax, int *lo,
                                                      int *hi) {
    long long W = window, a = 0, b = Tk;
    switch (mask) {
        case T5G_MASK_BIDIR_WINDOW:
            a = imin - W;
            b = (long long)imax + W + 1;
            break;
        case T5G_MASK_BIDIR_WINDOW_STRICT:
            a = imin - W + 1;
            b = (long long)imax + W;
            break;
        case T5G_MASK_CAUSAL:
            b = (long long)imax + 1;
            break;
        case T5G_MASK_CAUSAL_WINDOW:
            a = imin - W + 1;
            b = (long long)imax + 1;
            break;
        case T5G_MASK_BIDIR_WINDOW_SPLIT:
            a = imin - (W + 1) / 2 + 1;
            b = (long long)imax + W / 2 + 1;
            break;
        default:
            break;
    }
    if (a < 0) a = 0;
    if (b > Tk) b = Tk;
    if (a > Tk) a = Tk;
    if (b < a) b = a;
    *lo = (int)a;
    *hi = (int)b;
}

/* key_allowed of the CPU backend; i is the absolute query position, valid the row's mask. */
__device__ __forceinline__ bool t5gk_allowed(const t5gk_attn &p, const unsigned char *valid, int i, int j) {
    if (valid && !valid[j]) return false;
    int d = i - j;
    switch (p.mask) {
        case T5G_MASK_BIDIR:
            return true;
        case T5G_MASK_BIDIR_WINDOW:
            return (d < 0 ? -d : d) <= p.window;
        case T5G_MASK_BIDIR_WINDOW_STRICT:
            return (d < 0 ? -d : d) < p.window;
        case T5G_MASK_CAUSAL:
            return j <= i;
        case T5G_MASK_CAUSAL_WINDOW:
            return j <= i && j > i - p.window;
        case T5G_MASK_BIDIR_WINDOW_SPLIT:
            return j > i - (p.window + 1) / 2 && j <= i + p.window / 2;
    }
    return false;
}

/* raw product q·k of (head h, absolute query i, key j) -> logit, or -inf when masked */
__device__ __forceinline__ float t5gk_logit(const t5gk_attn &p, const unsigned char *valid, int h, int i, int j,
                                            float dot) {
    float x = dot * p.scale;
    if (p.rel_table) {
        int r = j - i;
        r = r < -p.rel_L ? -p.rel_L : r > p.rel_L ? p.rel_L : r;
        x += p.rel_table[(size_t)p.rel_tab[r + p.rel_L] * p.nh + h];
    }
    if (p.softcap > 0) x = tanhf(x / p.softcap) * p.softcap;
    return t5gk_allowed(p, valid, i, j) ? x : -INFINITY;
}

__device__ __forceinline__ int t5gk_kv_head(const t5gk_attn &p, int h) {
    return (p.head0 + h) / p.group - p.kv0;
}

/* K/V / key-mask row of sequence `row` of a batched launch */
__device__ __forceinline__ long long t5gk_kv_row(const t5gk_attn &p, int row) {
    return p.kvmap ? p.kvmap[row] : row;
}

/* out[d] of a row with no allowed key: the mean of v over all Tk keys (weights 1/Tk) */
__device__ __forceinline__ float t5gk_uniform_out(const t5gk_attn &p, const float *v, int g, int d) {
    float w = 1.0f / (float)p.Tk, acc = 0.0f;
    for (int j = 0; j < p.Tk; j++) acc += w * v[(size_t)j * p.ldv + (size_t)g * p.hd + d];
    return acc;
}

/* ---- prefill: grid (ceil(Tq/BQ), nh, rows), 128 threads; thread t owns row t/4 and, of every
 * key tile, the columns t%4 + 4c (c < 8), and of the output, the lanes t%4 + 4c (c < DPT).
 * Shared memory: Q tile [BQ][hd+1], K-or-V tile [BK][hd+1], P tile [BQ][BK+1]
 * (odd row strides: the 8 rows a warp touches fall in different banks). */
template <int DPT> __global__ void t5gk_attn_prefill_kernel(t5gk_attn p) {
    T5G_DYN_SMEM(smem);
    const int hd = p.hd, hdp = hd + 1;
    float *Qs = smem, *KV = Qs + T5GK_BQ * hdp, *Ps = KV + T5GK_BK * hdp;
    const int h = blockIdx.y, g = t5gk_kv_head(p, h), i0 = blockIdx.x * T5GK_BQ;
    const long long kr = t5gk_kv_row(p, blockIdx.z);
    const float *Q = p.q + blockIdx.z * p.sq, *K = p.k + kr * p.sk, *V = p.v + kr * p.sv;
    const unsigned char *valid = p.key_valid ? p.key_valid + kr * p.sval : NULL;
    const int t = threadIdx.x, r = t >> 2, c4 = t & 3;
    const int qi = i0 + r, iabs = p.q_pos0 + qi;
    const bool rowok = qi < p.Tq;
    const int rows = p.Tq - i0 < T5GK_BQ ? p.Tq - i0 : T5GK_BQ;
    int lo, hi;
    t5gk_key_range(p.mask, p.window, p.Tk, p.q_pos0 + i0, p.q_pos0 + i0 + rows - 1, &lo, &hi);

    for (int e = t; e < T5GK_BQ * hd; e += blockDim.x) {
        int rr = e / hd, d = e % hd;
        Qs[rr * hdp + d] = rr < rows ? Q[(size_t)(i0 + rr) * p.ldq + (size_t)h * hd + d] : 0.0f;
    }
    float m = -INFINITY, l = 0.0f, acc[DPT];
#pragma unroll
    for (int c = 0; c < DPT; c++) acc[c] = 0.0f;

    for (int j0 = lo; j0 < hi; j0 += T5GK_BK) {
        const int nk = hi - j0 < T5GK_BK ? hi - j0 : T5GK_BK;
        __syncthreads(); /* previous tile's P and V reads are done */
        for (int e = t; e < T5GK_BK * hd; e += blockDim.x) {
            int cc = e / hd, d = e % hd;
            KV[cc * hdp + d] = cc < nk ? K[(size_t)(j0 + cc) * p.ldk + (size_t)g * hd + d] : 0.0f;
        }
        __syncthreads();
        float s[T5GK_BK / 4];
#pragma unroll
        for (int c = 0; c < T5GK_BK / 4; c++) s[c] = 0.0f;
        for (int d = 0; d < hd; d++) {
            float qv = Qs[r * hdp + d];
#pragma unroll
            for (int c = 0; c < T5GK_BK / 4; c++) s[c] += qv * KV[(c4 + 4 * c) * hdp + d];
        }
        float tmax = -INFINITY;
#pragma unroll
        for (int c = 0; c < T5GK_BK / 4; c++) {
            int jj = c4 + 4 * c;
            s[c] = (rowok && jj < nk) ? t5gk_logit(p, valid, h, iabs, j0 + jj, s[c]) : -INFINITY;
            tmax = fmaxf(tmax, s[c]);
        }
        /* the 4 threads of a row are adjacent lanes of one warp */
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 2));
        const float mnew = fmaxf(m, tmax);
        const float alpha = mnew == -INFINITY ? 1.0f : expf(m - mnew);
        float psum = 0.0f;
#pragma unroll
        for (int c = 0; c < T5GK_BK / 4; c++) {
            float e = s[c] == -INFINITY ? 0.0f : expf(s[c] - mnew);
            Ps[r * (T5GK_BK + 1) + c4 + 4 * c] = e;
            psum += e;
        }
        psum += __shfl_xor_sync(0xffffffffu, psum, 1);
        psum += __shfl_xor_sync(0xffffffffu, psum, 2);
        l = l * alpha + psum;
        m = mnew;
#pragma unroll
        for (int c = 0; c < DPT; c++) acc[c] *= alpha;
        __syncthreads(); /* all K reads done: reuse the tile for V */
        for (int e = t; e < T5GK_BK * hd; e += blockDim.x) {
            int cc = e / hd, d = e % hd;
            KV[cc * hdp + d] = cc < nk ? V[(size_t)(j0 + cc) * p.ldv + (size_t)g * hd + d] : 0.0f;
        }
        __syncthreads();
        for (int jj = 0; jj < nk; jj++) {
            float pj = Ps[r * (T5GK_BK + 1) + jj];
#pragma unroll
            for (int c = 0; c < DPT; c++) {
                int d = c4 + 4 * c;
                if (d < hd) acc[c] += pj * KV[jj * hdp + d];
            }
        }
    }
    if (!rowok) return; /* no barrier follows */
    float *o = p.out + blockIdx.z * p.so + (size_t)qi * p.ldo + (size_t)h * hd;
    const float inv = 1.0f / l;
#pragma unroll
    for (int c = 0; c < DPT; c++) {
        int d = c4 + 4 * c;
        if (d < hd) o[d] = m == -INFINITY ? t5gk_uniform_out(p, V, g, d) : acc[c] * inv;
    }
}

/* ---- decode: grid (nchunks, nh, rows·Tq), 128 threads.  Block (c, h, z = row·Tq + i) scores
 * keys [lo + c·DC, +DC) of query i of sequence row (one warp per key, lanes over hd), then
 * writes to part [(z·nh + h)·nchunks + c] the chunk's max m, sum l = Σ exp(x - m) and
 * Σ exp(x - m)·v.
 * Shared memory: q row [hd], probabilities [DC]. */
__global__ void t5gk_attn_decode_kernel(t5gk_attn p, int lo, int hi, int nchunks, float *part) {
    T5G_DYN_SMEM(smem);
    const int hd = p.hd, h = blockIdx.y, z = blockIdx.z, row = z / p.Tq, i = z % p.Tq, g = t5gk_kv_head(p, h);
    const int iabs = p.q_pos0 + i;
    const long long kr = t5gk_kv_row(p, row);
    const float *K = p.k + kr * p.sk, *V = p.v + kr * p.sv;
    const unsigned char *valid = p.key_valid ? p.key_valid + kr * p.sval : NULL;
    const int j0 = lo + blockIdx.x * T5GK_DC;
    const int n = hi - j0 < T5GK_DC ? (hi - j0 > 0 ? hi - j0 : 0) : T5GK_DC;
    float *qs = smem, *ps = smem + hd;
    const int lane = threadIdx.x & (T5GK_WARP - 1), w = threadIdx.x / T5GK_WARP, nw = blockDim.x / T5GK_WARP;
    const float *q = p.q + row * p.sq + (size_t)i * p.ldq + (size_t)h * hd;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) qs[d] = q[d];
    __syncthreads();
    for (int jj = w; jj < n; jj += nw) {
        const float *k = K + (size_t)(j0 + jj) * p.ldk + (size_t)g * hd;
        float s = 0.0f;
        for (int d = lane; d < hd; d += T5GK_WARP) s += qs[d] * k[d];
        s = t5gk_warp_reduce(s, t5gk_sum());
        if (lane == 0) ps[jj] = t5gk_logit(p, valid, h, iabs, j0 + jj, s);
    }
    __syncthreads();
    float mx = -INFINITY;
    for (int jj = threadIdx.x; jj < n; jj += blockDim.x) mx = fmaxf(mx, ps[jj]);
    mx = t5gk_block_reduce(mx, t5gk_max());
    float sum = 0.0f;
    for (int jj = threadIdx.x; jj < n; jj += blockDim.x) {
        float e = ps[jj] == -INFINITY ? 0.0f : expf(ps[jj] - mx);
        ps[jj] = e; /* each thread rewrites only its own entries */
        sum += e;
    }
    sum = t5gk_block_reduce(sum, t5gk_sum()); /* its barriers also publish ps */
    float *out = part + ((size_t)z * p.nh * nchunks + (size_t)h * nchunks + blockIdx.x) * (size_t)(hd + 2);
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float a = 0.0f;
        for (int jj = 0; jj < n; jj++) a += ps[jj] * V[(size_t)(j0 + jj) * p.ldv + (size_t)g * hd + d];
        out[2 + d] = a;
    }
    if (threadIdx.x == 0) {
        out[0] = mx;
        out[1] = sum;
    }
}

/* grid (nh, rows·Tq): merge the chunks of query z = row·Tq + i, head h */
__global__ void t5gk_attn_combine_kernel(t5gk_attn p, int nchunks, const float *part) {
    const int h = blockIdx.x, z = blockIdx.y, row = z / p.Tq, i = z % p.Tq, hd = p.hd, g = t5gk_kv_head(p, h);
    const float *pc = part + ((size_t)z * p.nh + h) * nchunks * (size_t)(hd + 2);
    float M = -INFINITY;
    for (int c = 0; c < nchunks; c++) M = fmaxf(M, pc[(size_t)c * (hd + 2)]);
    float L = 0.0f;
    if (M != -INFINITY)
        for (int c = 0; c < nchunks; c++) L += pc[(size_t)c * (hd + 2) + 1] * expf(pc[(size_t)c * (hd + 2)] - M);
    float *o = p.out + row * p.so + (size_t)i * p.ldo + (size_t)h * hd;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        if (M == -INFINITY) {
            o[d] = t5gk_uniform_out(p, p.v + t5gk_kv_row(p, row) * p.sv, g, d);
            continue;
        }
        float a = 0.0f;
        for (int c = 0; c < nchunks; c++) a += pc[(size_t)c * (hd + 2) + 2 + d] * expf(pc[(size_t)c * (hd + 2)] - M);
        o[d] = a / L;
    }
}

/* ---- host side ---- */

/* Fill tab[0 .. 2L] with t5g_rel_bucket(rel) for rel = -L .. L.  With L >= max(max_distance,
 * num_buckets) every |rel| > L falls in the same (last) bucket as ±L, so clamping is exact
 * (for max_distance > num_buckets/4, which config validation should require). */
static inline int t5gk_rel_L(int buckets, int max_distance) {
    return (max_distance > buckets ? max_distance : buckets) + 1;
}
static inline void t5gk_rel_table(int *tab, int L, int bidirectional, int buckets, int max_distance) {
    for (int r = -L; r <= L; r++) tab[r + L] = t5g_rel_bucket(r, bidirectional, buckets, max_distance);
}

static inline t5gk_attn t5gk_attn_from(const t5g_attn_args *a, const int *rel_tab, int rel_L) {
    t5gk_attn p;
    p.Tq = a->Tq;
    p.Tk = a->Tk;
    p.nh = a->nh;
    p.hd = a->hd;
    p.group = a->group;
    p.head0 = a->head0;
    p.kv0 = a->kv0;
    p.q = a->q;
    p.k = a->k;
    p.v = a->v;
    p.out = a->out;
    p.ldq = a->ldq;
    p.ldk = a->ldk;
    p.ldv = a->ldv;
    p.ldo = a->ldo;
    p.key_valid = a->key_valid;
    p.q_pos0 = a->q_pos0;
    p.mask = (int)a->mask;
    p.window = a->window;
    p.scale = a->scale;
    p.softcap = a->softcap;
    p.rel_table = a->rel_table;
    p.rel_tab = rel_tab;
    p.rel_L = rel_L;
    p.rows = 1;
    p.sq = p.sk = p.sv = p.so = p.sval = 0;
    p.kvmap = NULL;
    return p;
}

/* path: 0 auto, 1 prefill, 2 decode (t5g_cuda_set_attention_path).  The decode kernel serves
 * one query row per block and any head width; the prefill kernel needs hd <= T5GK_HD_MAX. */
static inline int t5gk_use_decode(int path, const t5g_attn_args *a) {
    return path == 2 || a->hd > T5GK_HD_MAX || (path == 0 && a->Tq == 1);
}

/* key chunks of the decode path for this call (at least 1) */
static inline int t5gk_decode_chunks(const t5g_attn_args *a, int *lo, int *hi) {
    t5gk_key_range((int)a->mask, a->window, a->Tk, a->q_pos0, a->q_pos0 + a->Tq - 1, lo, hi);
    int n = (*hi - *lo + T5GK_DC - 1) / T5GK_DC;
    return n < 1 ? 1 : n;
}
/* floats of device scratch the decode path needs for `rows` sequences */
static inline size_t t5gk_decode_scratch(const t5g_attn_args *a, int rows) {
    int lo, hi;
    return (size_t)rows * a->Tq * a->nh * t5gk_decode_chunks(a, &lo, &hi) * (size_t)(a->hd + 2);
}

static inline void t5gk_attn_decode(cudaStream_t s, const t5gk_attn &p, const t5g_attn_args *a, float *part) {
    int lo, hi, nc = t5gk_decode_chunks(a, &lo, &hi);
    size_t smem = sizeof(float) * (size_t)(p.hd + T5GK_DC);
    t5g_allow_smem(t5gk_attn_decode_kernel, smem);
    unsigned z = (unsigned)(p.rows * p.Tq);
    t5g_launch(t5gk_attn_decode_kernel, dim3(nc, p.nh, z), dim3(T5GK_DEC_THREADS), smem, s, p, lo, hi, nc, part);
    t5g_launch(t5gk_attn_combine_kernel, dim3(p.nh, z), dim3(T5GK_DEC_THREADS), 0, s, p, nc, (const float *)part);
}

template <int DPT> static inline void t5gk_attn_prefill_dpt(cudaStream_t s, const t5gk_attn &p) {
    size_t smem = sizeof(float) * ((size_t)(T5GK_BQ + T5GK_BK) * (p.hd + 1) + T5GK_BQ * (T5GK_BK + 1));
    static unsigned long long allowed = 0; /* one attribute call per instantiation and device (the largest size) */
    unsigned long long dev = t5g_device_bit();
    if (!(allowed & dev)) {
        t5g_allow_smem(t5gk_attn_prefill_kernel<DPT>,
                       sizeof(float) * ((size_t)(T5GK_BQ + T5GK_BK) * (4 * DPT + 1) + T5GK_BQ * (T5GK_BK + 1)));
        allowed |= dev;
    }
    t5g_launch(t5gk_attn_prefill_kernel<DPT>, dim3((p.Tq + T5GK_BQ - 1) / T5GK_BQ, p.nh, p.rows), dim3(T5GK_PF_THREADS),
               smem, s, p);
}

/* hd <= T5GK_HD_MAX (t5gk_use_decode sends wider heads to the decode kernel) */
static inline void t5gk_attn_prefill(cudaStream_t s, const t5gk_attn &p) {
    if (p.hd <= 32) t5gk_attn_prefill_dpt<8>(s, p);
    else if (p.hd <= 64) t5gk_attn_prefill_dpt<16>(s, p);
    else if (p.hd <= 128) t5gk_attn_prefill_dpt<32>(s, p);
    else t5gk_attn_prefill_dpt<64>(s, p);
}

/* Attention for `rows` sequences that share Tq, Tk, q_pos0 and the mask (the op table's
 * attention_batch); sequence r uses q + r·st[0] and out + r·st[3], and with kr = kvmap ?
 * kvmap[r] : r (kvmap in the kernels' memory), k + kr·st[1], v + kr·st[2], key_valid +
 * kr·st[4] (elements).  tab/L: bucket table when a->rel_table is set; part:
 * t5gk_decode_scratch(a, min(rows, t5gk_rows_per_launch)) floats when the decode path is
 * taken.  Launches are split to respect the 65535 grid limit. */
static inline int t5gk_rows_per_launch(int path, const t5g_attn_args *a) {
    int per = t5gk_use_decode(path, a) ? 65535 / a->Tq : 65535;
    return per < 1 ? 1 : per;
}
static inline void t5gk_attention(cudaStream_t s, const t5g_attn_args *a, int rows, const long long st[5],
                                  const int32_t *kvmap, const int *tab, int L, int path, float *part) {
    int decode = t5gk_use_decode(path, a), per = t5gk_rows_per_launch(path, a);
    for (int r0 = 0; r0 < rows; r0 += per) {
        t5gk_attn p = t5gk_attn_from(a, tab, L);
        p.rows = rows - r0 < per ? rows - r0 : per;
        p.sq = st[0];
        p.sk = st[1];
        p.sv = st[2];
        p.so = st[3];
        p.sval = st[4];
        p.q += r0 * p.sq;
        p.out += r0 * p.so;
        if (kvmap) {
            p.kvmap = kvmap + r0;
        } else {
            p.k += r0 * p.sk;
            p.v += r0 * p.sv;
            if (p.key_valid) p.key_valid += r0 * p.sval;
        }
        if (decode) t5gk_attn_decode(s, p, a, part);
        else t5gk_attn_prefill(s, p);
    }
}
#endif
