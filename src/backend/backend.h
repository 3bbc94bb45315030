/* backend.h - the op table every model line goes through (CPU: BLIS + C loops;
 * CUDA: cuBLAS + kernels, built with CUDA=1).  All pointers passed to a backend's ops live
 * in that backend's memory.  Layouts: activations row-major [tokens, width]; weights as
 * stored [out, in], so a projection is y = x·Wᵀ (gemm with tb = 1). */
#ifndef T5G_BACKEND_H
#define T5G_BACKEND_H
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

/* Which keys a query may see (docs/model.md, Masks). Positions are absolute. */
typedef enum {
    T5G_MASK_BIDIR = 0,           /* encoder full:    key_valid[j] */
    T5G_MASK_BIDIR_WINDOW,        /* encoder sliding: |i-j| <= W (transformers >= 5) and key_valid[j] */
    T5G_MASK_BIDIR_WINDOW_STRICT, /* encoder sliding, release-era rule: |i-j| < W */
    T5G_MASK_CAUSAL,              /* decoder full:    j <= i and key_valid[j] */
    T5G_MASK_CAUSAL_WINDOW,       /* decoder sliding: i-W < j <= i and key_valid[j] */
    T5G_MASK_BIDIR_WINDOW_SPLIT,  /* T5Gemma 2 encoder sliding: i-(W+1)/2 < j <= i+W/2 */
} t5g_mask_kind;

/* One attention call for a single sequence: Tq queries against Tk keys. */
typedef struct {
    int Tq, Tk;
    int nh, nkv, hd; /* local query heads, local kv heads, head width */
    int group;       /* query heads per kv head (global nh / nkv) */
    int kv_of_head0; /* local kv index of local query head 0 is (head0 / group - kv0) */
    int head0, kv0;  /* global index of the first local q head / kv head */
    const float *q;
    int ldq; /* [Tq, *] head h at q + h*hd */
    const float *k;
    int ldk; /* [Tk, *] kv head g at k + g*hd */
    const float *v;
    int ldv;
    float *out;
    int ldo;                        /* [Tq, *] head h at out + h*hd */
    const unsigned char *key_valid; /* [Tk] 1 = real token; NULL = all valid (backend memory) */
    int q_pos0;                     /* absolute position of query 0 (keys are at 0..Tk-1) */
    t5g_mask_kind mask;
    int window;
    float scale;   /* qpas^-1/2 */
    float softcap; /* <= 0: off */
    const float
        *rel_table; /* optional T5 relative bias [buckets, nh_local] (docs/model.md, Options), added after scaling */
    int rel_buckets, rel_max_distance, rel_bidirectional;
    float *scratch; /* >= Tq*Tk floats */
} t5g_attn_args;

typedef enum { T5G_COPY_H2D = 0, T5G_COPY_D2H, T5G_COPY_D2D } t5g_copy_kind;

/* Element type of a weight matrix in a backend's memory (activations are always float32). */
typedef enum { T5G_DT_F32 = 0, T5G_DT_BF16, T5G_DT_INT8 } t5g_dtype;

/* A weight matrix as stored, [rows = out, cols = in] row-major with row stride ld elements.
 * int8 is symmetric with one float32 scale per row: w[r][c] = scale[r] * q[r][c]. */
typedef struct {
    void *data;
    t5g_dtype dtype;
    int rows, cols, ld;
    float *scale; /* int8: [rows] in backend memory; otherwise NULL */
    int act_bf16; /* bf16: round the activations to bf16 for the products (bf16-act); 0: float32 */
} t5g_wmat;

/* The tensor-parallel group a device backend's all-reduce runs over (parallel/comm.h builds it
 * from a t5g_comm: t5g_comm_tp_group); the backend depends on nothing above it. */
typedef struct {
    MPI_Comm mpi;       /* the group's MPI communicator (a device communicator is bootstrapped over it) */
    int rank, size;     /* this rank in the group, the group size */
    void **device_comm; /* where the backend keeps its communicator for the group (NULL until first use) */
} t5g_dev_group;

typedef struct t5g_backend {
    const char *name;
    /* Every op takes the backend's own state first (be->ctx: the CUDA device, stream, handles and
     * scratch; NULL on CPU): nothing is process-wide, so a process can hold a backend per device.
     * Errors: ops are asynchronous on a GPU and cannot all report failure when called, so an op
     * that fails records the first error in its backend's state and later ops do nothing; sync()
     * waits for the queued work and returns 0, or -1 with that error recorded (t5g_last_error)
     * and the state cleared.  The model checks sync() at the end of every encode and decode. */
    void *ctx;
    /* memory of this backend (host memory for CPU; device memory for CUDA), 64-byte aligned */
    void *(*alloc)(void *ctx, size_t bytes);
    void (*release)(void *ctx, void *p);
    void (*copy)(void *ctx, void *dst, const void *src, size_t bytes, t5g_copy_kind kind);
    void (*zero)(void *ctx, void *p, size_t bytes);
    /* wait until every queued op has finished; 0, or -1 with the first error since the last
     * sync (see above) */
    int (*sync)(void *ctx);
    /* in-place sum over the TP group of buffers in this backend's memory; NULL = MPI on host
     * memory (t5g_allreduce_sum).  CUDA: NCCL, its communicator bootstrapped over MPI. */
    void (*allreduce_sum)(void *ctx, const t5g_dev_group *g, float *x, int64_t n);
    /* C[M,N] = alpha * A[M,K] · op(B) + beta * C, op(B) = Bᵀ (B is [N,K]) if tb else B ([K,N]). */
    void (*gemm)(void *ctx, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);
    /* y = x / sqrt(mean(x²) + eps) * (1 + w), per row of width n (Gemma RMSNorm). */
    void (*rmsnorm)(void *ctx, const float *x, const float *w, float *y, int rows, int n, float eps);
    /* y[M, W.rows] = x[M, W.cols] · Wᵀ: float32 activations, float32 accumulation, any weight
     * dtype (the projection of every layer and the LM head). ldx/ldy: row strides of x, y. */
    void (*linear)(void *ctx, const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy);
    /* linear, but int8 weights quantize activation row m with the given absolute maximum
     * row_amax[m] (host memory) instead of the row's own: under TP the row-split projections
     * see a slice of each row, and the group's maximum keeps every rank's quantization equal to
     * TP = 1's.  Other dtypes ignore row_amax.  NULL on a backend without int8 weights. */
    void (*linear_amax)(void *ctx, const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy,
                        const float *row_amax);
    /* out[t] = E[ids[t] - v0] * scale for ids in [v0, v0 + E.rows), else 0 (vocab-parallel);
     * out rows have width E.cols.  ids live in this backend's memory. */
    void (*embed)(void *ctx, const t5g_wmat *E, int v0, const int32_t *ids, int T, float scale, float *out);
    /* rotate-half RoPE in place on x [T, ld] holding nheads heads of width hd; token t is at
     * position pos0 + t % Tq (rows of Tq tokens; positions ignore padding). */
    void (*rope)(void *ctx, float *x, int T, int ld, int nheads, int hd, int Tq, int pos0, float theta);
    /* masked, soft-capped, float32-softmax attention (docs/model.md, Primitives) of one sequence. */
    void (*attention)(void *ctx, const t5g_attn_args *a);
    /* The same for `rows` sequences of one layer in one call (all with a's Tq, Tk, q_pos0,
     * mask, heads and leading dimensions; a->scratch is not used).  Sequence r reads
     * a->q + r·sq and writes a->out + r·so; its keys are those of kv row
     * kr = kv_rows ? kv_rows[r] : r: a->k + kr·skv, a->v + kr·skv, a->key_valid + kr·svalid
     * (strides in elements).  kv_rows is host memory (beams share one encoder row). */
    void (*attention_batch)(void *ctx, const t5g_attn_args *a, int rows, int64_t sq, int64_t so, int64_t skv,
                            int64_t svalid, const int32_t *kv_rows);
    /* out = gelu_tanh(gate) * up, element-wise over n. */
    void (*gelu_mul)(void *ctx, const float *gate, const float *up, float *out, size_t n);
    /* x = cap * tanh(x / cap). */
    void (*softcap)(void *ctx, float *x, size_t n, float cap);
    /* y += x. */
    void (*add)(void *ctx, float *y, const float *x, size_t n);
    /* linear, then softcap of every output (the LM head), with the same results; NULL on a
     * backend without it (the caller runs the two ops). */
    void (*linear_softcap)(void *ctx, const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy, float cap);
    /* rope with HF's linear scaling (rope_type "linear"): inv_freq / factor in float32 (T5Gemma 2);
     * NULL on a backend without it. */
    void (*rope_scaled)(void *ctx, float *x, int T, int ld, int nheads, int hd, int Tq, int pos0, float theta,
                        float factor);
} t5g_backend;

/* T5 relative-position bucket of rel = j - i (docs/model.md, Options; log in float32). */
int t5g_rel_bucket(int rel, int bidirectional, int num_buckets, int max_distance);

const t5g_backend *t5g_backend_cpu(void);
/* The CUDA backend (built with `make CUDA=1`; NULL + error otherwise or without a GPU). */
const t5g_backend *t5g_backend_cuda(int local_rank);
/* "cpu" or "cuda" -> backend; NULL + error naming the choices. */
const t5g_backend *t5g_backend_by_name(const char *name, int local_rank);
/* Set the BLIS thread count and kernel family (see README "BLIS threads and kernels").
 * threads <= 0: BLIS_NUM_THREADS, else OMP_NUM_THREADS, else the cores this process may run on
 * divided by local_ranks (the ranks sharing the node). */
void t5g_cpu_setup(int threads);
void t5g_cpu_setup_ranks(int threads, int local_ranks);
#endif
