/* bench_cuda.cu - CUDA backend kernels on one GPU, each next to what bounds it, measured in
 * the same run:
 *  1. HBM bandwidth: a read-only streaming kernel and cudaMemcpy device-to-device;
 *  2. decode-step products (M = 1, 32, 128 rows) of the t5gemma-2b-2b decoder: backend linear
 *     vs bare cublasSgemm, GB/s of weights, and all products of a step (26 layers + LM head)
 *     against the roofline weight bytes / measured bandwidth; float32 and bf16 weights;
 *  3. prefill products (M = 512, 2048 tokens): TFLOP/s of the backend's linear vs bare cuBLAS;
 *  4. attention kernels: prefill TFLOP/s, decode GB/s of K/V, a batch's decode step in one
 *     attention_batch call vs one call per sequence;
 *  5. argmax / top-k over a 256000-entry vocabulary;
 *  6. the model (random weights of a preset, float32, on the GPU): batch-1 decode step against
 *     the roofline (decoder + LM head weight bytes / the bandwidth of 1.), and generated
 *     tokens/s at batch 1, 32 and 128 (greedy, 64-token sources, 32 new tokens).
 * Exits 77 without a GPU.  Run: make bench-gpu (or build/tests/gpu/bench_cuda [--quick]
 * [--preset NAME], default t5gemma-s-s). */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
extern "C" {
#include "backend/backend.h"
#include "core/err.h"
#include "core/progress.h"
#include "generate/generate.h"
#include "model/state.h"
#include "t5g.h"
}
#include "backend/cuda/cuda_ops.h"

static cudaStream_t S;
static const t5g_backend *B;
static cublasHandle_t H;
static int quick;

#define CK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { fprintf(stderr, "bench: %s: %s\n", #x, cudaGetErrorString(e_)); exit(1); } } while (0)

/* seconds per call of fn(): warm up, then the best of 3 averages over reps calls */
template <typename F> static double timeit(F fn, int reps) {
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    fn();
    fn();
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        CK(cudaEventRecord(a, S));
        for (int i = 0; i < reps; i++) fn();
        CK(cudaEventRecord(b, S));
        CK(cudaEventSynchronize(b));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, a, b));
        if (ms / 1e3 / reps < best) best = ms / 1e3 / reps;
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    return best;
}

__global__ void fill_kernel(float *p, size_t n, float s) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = s * (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f * s;
}
__global__ void read_kernel(const float4 *p, size_t n4, float *out) {
    float acc = 0.0f;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += (size_t)gridDim.x * blockDim.x) {
        float4 v = p[i];
        acc += v.x + v.y + v.z + v.w;
    }
    if (acc == 12345.678f) out[0] = acc; /* keeps the loads alive */
}

static float *dev_rand(size_t n, float s) {
    float *p = (float *)B->alloc(B->ctx, sizeof(float) * n);
    if (!p) { fprintf(stderr, "bench: %s\n", t5g_last_error()); exit(1); }
    fill_kernel<<<1024, 256, 0, S>>>(p, n, s);
    CK(cudaGetLastError());
    return p;
}
static uint16_t *dev_bf16(const float *src, size_t n) {
    uint16_t *p = (uint16_t *)B->alloc(B->ctx, sizeof(uint16_t) * n);
    if (!p || t5g_cuda_to_bf16(B->ctx, src, p, n)) { fprintf(stderr, "bench: %s\n", t5g_last_error()); exit(1); }
    return p;
}

static double measure_bandwidth(void) {
    size_t n = (size_t)(quick ? 256 : 1024) << 20; /* floats: 1 or 4 GiB */
    float *x = dev_rand(n, 1.0f), *y = (float *)B->alloc(B->ctx, sizeof(float) * n), *o = (float *)B->alloc(B->ctx, 64);
    int sms = 0;
    CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
    double tr = timeit([&] { read_kernel<<<sms * 8, 512, 0, S>>>((const float4 *)x, n / 4, o); }, 10);
    double tc = timeit([&] { CK(cudaMemcpyAsync(y, x, sizeof(float) * n, cudaMemcpyDeviceToDevice, S)); }, 5);
    double bw = sizeof(float) * n / tr;
    printf("HBM bandwidth: read-only kernel %.0f GB/s; cudaMemcpy D2D %.0f GB/s (read+write) over %.1f GiB\n", bw / 1e9,
           2.0 * sizeof(float) * n / tc / 1e9, sizeof(float) * n / 1073741824.0);
    B->release(B->ctx, x); B->release(B->ctx, y); B->release(B->ctx, o);
    return bw;
}

/* one weight matrix of the decoder [N, K] (y = x·Wᵀ) */
typedef struct { const char *name; int N, K; } shape;
static const shape DEC[] = {{"q_proj", 2048, 2304}, {"k_proj", 1024, 2304}, {"v_proj", 1024, 2304}, {"o_proj", 2304, 2048},
                            {"xq_proj", 2048, 2304}, {"xo_proj", 2304, 2048}, {"gate", 9216, 2304}, {"up", 9216, 2304},
                            {"down", 2304, 9216}};
enum { NDEC = sizeof DEC / sizeof DEC[0], LAYERS = 26, VOCAB = 256000, HID = 2304 };

static t5g_wmat wmat(void *data, t5g_dtype dt, int N, int K) {
    t5g_wmat w = {data, dt, N, K, K, NULL};
    return w;
}

static void bench_gemms(double bw) {
    int Ms[3] = {1, 32, 128};
    const float one = 1.0f, zero = 0.0f;
    float *W[NDEC], *lm = dev_rand((size_t)VOCAB * HID, 0.05f);
    uint16_t *W16[NDEC], *lm16 = dev_bf16(lm, (size_t)VOCAB * HID);
    size_t layer_bytes = 0;
    for (int i = 0; i < NDEC; i++) {
        W[i] = dev_rand((size_t)DEC[i].N * DEC[i].K, 0.05f);
        W16[i] = dev_bf16(W[i], (size_t)DEC[i].N * DEC[i].K);
        layer_bytes += sizeof(float) * (size_t)DEC[i].N * DEC[i].K;
    }
    float *x = dev_rand((size_t)3 * 2048 * 9216, 1.0f), *y = dev_rand((size_t)3 * 2048 * 9216, 1.0f);
    float *ylm = (float *)B->alloc(B->ctx, sizeof(float) * 128 * (size_t)VOCAB);
    printf("\ndecode GEMMs, t5gemma-2b-2b decoder (y = x·Wᵀ, float32 weights)   [time us | weight GB/s | %% of HBM]\n");
    printf("%-8s %6s %6s %3s | %-24s | %-24s\n", "matrix", "N", "K", "M", "backend linear", "bare cublasSgemm");
    for (int i = 0; i < NDEC; i++)
        for (int m = 0; m < 3; m++) {
            int M = Ms[m], N = DEC[i].N, K = DEC[i].K;
            t5g_wmat w = wmat(W[i], T5G_DT_F32, N, K);
            double tb = timeit([&] { B->linear(B->ctx, x, M, K, &w, y, N); }, 20);
            double tc = timeit([&] { cublasSgemm(H, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, W[i], K, x, K, &zero, y, N); }, 20);
            double bytes = sizeof(float) * (double)N * K;
            printf("%-8s %6d %6d %3d | %7.1f %7.0f %6.1f%% | %7.1f %7.0f %6.1f%%\n", DEC[i].name, N, K, M, tb * 1e6,
                   bytes / tb / 1e9, 100 * bytes / tb / bw, tc * 1e6, bytes / tc / 1e9, 100 * bytes / tc / bw);
        }
    for (int bf = 0; bf < 2; bf++)
        for (int m = 0; m < 3; m++) {
            int M = Ms[m];
            t5g_wmat lw = bf ? wmat(lm16, T5G_DT_BF16, VOCAB, HID) : wmat(lm, T5G_DT_F32, VOCAB, HID), ws[NDEC];
            for (int i = 0; i < NDEC; i++)
                ws[i] = bf ? wmat(W16[i], T5G_DT_BF16, DEC[i].N, DEC[i].K) : wmat(W[i], T5G_DT_F32, DEC[i].N, DEC[i].K);
            /* the products of one decode step: LAYERS x the layer's matrices + the LM head */
            double t = timeit([&] {
                for (int l = 0; l < LAYERS; l++)
                    for (int i = 0; i < NDEC; i++) B->linear(B->ctx, x, M, DEC[i].K, &ws[i], y, DEC[i].N);
                B->linear(B->ctx, x, M, HID, &lw, ylm, VOCAB);
            }, quick ? 2 : 5);
            double bytes = (double)(layer_bytes * LAYERS + sizeof(float) * (size_t)VOCAB * HID) / (bf ? 2 : 1);
            printf("decode step linears, %s weights, batch %3d: %.2f ms (%.0f steps/s, %.0f tokens/s); roofline %.2f ms "
                   "(%.2f GB / %.0f GB/s) -> %.2fx the roofline%s\n",
                   bf ? "bf16" : "f32 ", M, t * 1e3, 1 / t, M / t, bytes / bw * 1e3, bytes / 1e9, bw / 1e9,
                   t / (bytes / bw), M == 1 ? (t <= 2 * bytes / bw ? "  [goal <= 2x: met]" : "  [goal <= 2x: NOT met]") : "");
        }
    printf("(products only: attention, norms and the all-reduce of a real step come on top; see the model benchmark)\n");

    printf("\nprefill products (TFLOP/s; goal: backend >= 0.6x bare)   %-22s %-34s\n", "float32: linear | bare",
           "bf16 weights: linear | bare GemmEx (3 planes of x, f32 acc) | ratio");
    int Ps[2] = {512, 2048};
    int sel[4] = {0, 6, 8, 1};
    for (int p = 0; p < 2; p++)
        for (int s = 0; s < 4; s++) {
            int i = sel[s], M = Ps[p], N = DEC[i].N, K = DEC[i].K;
            double fl = 2.0 * M * N * K;
            uint16_t *x16 = dev_bf16(x, (size_t)3 * M * K);
            t5g_wmat w = wmat(W[i], T5G_DT_F32, N, K), w16 = wmat(W16[i], T5G_DT_BF16, N, K);
            double tb = timeit([&] { B->linear(B->ctx, x, M, K, &w, y, N); }, 10);
            double tc = timeit([&] { cublasSgemm(H, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, W[i], K, x, K, &zero, y, N); }, 10);
            double t16 = timeit([&] { B->linear(B->ctx, x, M, K, &w16, y, N); }, 10);
            /* the bare product the backend's bf16 path is built on: 3M bf16 rows, f32 output */
            double t16b = timeit([&] {
                cublasGemmEx(H, CUBLAS_OP_T, CUBLAS_OP_N, N, 3 * M, K, &one, W16[i], CUDA_R_16BF, K, x16, CUDA_R_16BF, K,
                             &zero, y, CUDA_R_32F, N, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
            }, 10);
            printf("M=%4d %-7s N=%5d K=%5d   %6.1f | %6.1f (%.2fx)     %6.1f | %6.1f (%.2fx)\n", M, DEC[i].name, N, K,
                   fl / tb / 1e12, fl / tc / 1e12, tc / tb, fl / t16 / 1e12, 3 * fl / t16b / 1e12, t16b / t16);
            B->release(B->ctx, x16);
        }
    for (int i = 0; i < NDEC; i++) { B->release(B->ctx, W[i]); B->release(B->ctx, W16[i]); }
    B->release(B->ctx, lm); B->release(B->ctx, lm16); B->release(B->ctx, x); B->release(B->ctx, y); B->release(B->ctx, ylm);
}

static void bench_attention(double bw) {
    const int nh = 8, nkv = 4, hd = 256;
    int maxT = quick ? 2048 : 8192;
    size_t qn = (size_t)maxT * nh * hd, kn = (size_t)maxT * nkv * hd;
    float *q = dev_rand(qn, 1.0f), *k = dev_rand(kn, 1.0f), *v = dev_rand(kn, 1.0f), *o = dev_rand(qn, 1.0f);
    t5g_attn_args a;
    memset(&a, 0, sizeof a);
    a.nh = nh; a.nkv = nkv; a.hd = hd; a.group = nh / nkv;
    a.q = q; a.k = k; a.v = v; a.out = o; a.ldq = a.ldo = nh * hd; a.ldk = a.ldv = nkv * hd;
    a.scale = 1.0f / 16.0f; a.softcap = 50.0f; a.window = 4096;
    printf("\nattention, nh=%d nkv=%d hd=%d, soft-cap 50 (2b-2b shapes)\n", nh, nkv, hd);
    int Ts[3] = {512, 2048, 8192};
    for (int i = 0; i < 3 && Ts[i] <= maxT; i++)
        for (int causal = 0; causal < 2; causal++) {
            a.Tq = a.Tk = Ts[i]; a.q_pos0 = 0; a.mask = causal ? T5G_MASK_CAUSAL : T5G_MASK_BIDIR;
            double t = timeit([&] { B->attention(B->ctx, &a); }, 3);
            double fl = 4.0 * nh * hd * (double)Ts[i] * Ts[i] * (causal ? 0.5 : 1.0);
            printf("prefill kernel  Tq=Tk=%5d %-6s %8.2f ms  %5.1f TFLOP/s (float32 CUDA cores)\n", Ts[i],
                   causal ? "causal" : "bidir", t * 1e3, fl / t / 1e12);
        }
    for (int i = 0; i < 3 && Ts[i] <= maxT; i++) {
        a.Tq = 1; a.Tk = Ts[i]; a.q_pos0 = Ts[i] - 1; a.mask = T5G_MASK_CAUSAL;
        double t = timeit([&] { B->attention(B->ctx, &a); }, 20);
        double bytes = 2.0 * sizeof(float) * Ts[i] * nkv * hd;
        printf("decode kernel   Tq=1 Tk=%5d          %8.1f us  K/V %.0f GB/s (%.0f%% of HBM)\n", Ts[i], t * 1e6,
               bytes / t / 1e9, 100 * bytes / t / bw);
    }
    B->release(B->ctx, q); B->release(B->ctx, k); B->release(B->ctx, v); B->release(B->ctx, o);

    /* a decode step of a batch: every sequence of a layer in one attention_batch call (cache
     * rows of Tcap keys each, as forward.c) against one call per sequence */
    int Tk = quick ? 512 : 1024, Tcap = Tk + 64, R = 128;
    size_t kvn = (size_t)R * Tcap * nkv * hd;
    float *kc = dev_rand(kvn, 1.0f), *vc = dev_rand(kvn, 1.0f), *qb = dev_rand((size_t)R * nh * hd, 1.0f);
    float *ob = dev_rand((size_t)R * nh * hd, 1.0f);
    a.q = qb; a.out = ob; a.k = kc; a.v = vc; a.Tq = 1; a.Tk = Tk; a.q_pos0 = Tk - 1; a.mask = T5G_MASK_CAUSAL;
    int rows[2] = {32, 128};
    for (int i = 0; i < 2; i++) {
        int r = rows[i];
        double tb = timeit([&] { B->attention_batch(B->ctx, &a, r, nh * hd, nh * hd, (int64_t)Tcap * nkv * hd, Tcap, NULL); }, 10);
        double tl = timeit([&] {
            for (int s = 0; s < r; s++) {
                t5g_attn_args b = a;
                b.q = qb + (size_t)s * nh * hd; b.out = ob + (size_t)s * nh * hd;
                b.k = kc + (size_t)s * Tcap * nkv * hd; b.v = vc + (size_t)s * Tcap * nkv * hd;
                B->attention(B->ctx, &b);
            }
        }, 3);
        double bytes = 2.0 * sizeof(float) * r * (double)Tk * nkv * hd;
        printf("decode batch %3d Tk=%5d: attention_batch %8.1f us (K/V %.0f GB/s, %.0f%% of HBM) | per sequence %8.1f us\n",
               r, Tk, tb * 1e6, bytes / tb / 1e9, 100 * bytes / tb / bw, tl * 1e6);
    }
    B->release(B->ctx, kc); B->release(B->ctx, vc); B->release(B->ctx, qb); B->release(B->ctx, ob);
}

static void bench_select(void) {
    float *x = dev_rand((size_t)128 * VOCAB, 20.0f);
    t5g_cuda_cand *c = (t5g_cuda_cand *)B->alloc(B->ctx, sizeof(t5g_cuda_cand) * 128 * 256);
    printf("\nselection over V=%d\n", VOCAB);
    int rows[2] = {1, 128};
    for (int r = 0; r < 2; r++) {
        double ta = timeit([&] { t5g_cuda_argmax(B->ctx, x, rows[r], VOCAB, VOCAB, 0, c); }, 20);
        double t8 = timeit([&] { t5g_cuda_topk(B->ctx, x, rows[r], VOCAB, VOCAB, 0, 8, NULL, NULL, c); }, 5);
        double t50 = timeit([&] { t5g_cuda_topk(B->ctx, x, rows[r], VOCAB, VOCAB, 0, 50, NULL, NULL, c); }, 5);
        printf("rows %3d: argmax %7.1f us   top-8 %7.1f us   top-50 %7.1f us\n", rows[r], ta * 1e6, t8 * 1e6, t50 * 1e6);
    }
    B->release(B->ctx, x);
    B->release(B->ctx, c);
}

/* weight bytes a decode step reads (float32): decoder layers + the LM head (bench_engine's count) */
static double step_weight_bytes(const t5g_config *c) {
    const t5g_stack_config *d = &c->dec;
    double H = d->hidden_size, q = d->num_attention_heads * d->head_dim, kv = d->num_key_value_heads * d->head_dim;
    double per_layer = H * q * 2 + H * kv * 2 /* self q,k,v,o */ + H * q * 2 /* cross q,o */ + 3 * H * d->intermediate_size;
    return 4.0 * (per_layer * d->num_hidden_layers + (double)d->vocab_size * H);
}

static int bench_model(const char *preset, double bw) {
    t5g_config c;
    if (t5g_config_preset(preset, &c)) return -1;
    c.n_eos = 1;
    c.eos_token_ids[0] = c.dec.vocab_size - 1; /* a random model should not stop early: rare id */
    t5g_comm comm;
    t5g_comm_self(&comm);
    double t0 = t5g_now();
    t5g_model *m = t5g_model_random_on(&c, 1, &comm, B);
    if (!m) return -1;
    printf("\nmodel %s (random, %.0f M parameters, float32 on the GPU), init %.1f s\n", preset,
           t5g_config_param_count(&c) / 1e6, t5g_now() - t0);
    const int Le = 64, steps = 16;
    t5g_state *st = t5g_state_new(m, 1, Le, 1, steps + 2);
    int32_t ids[64], tok = m->cfg.decoder_start_token_id;
    for (int i = 0; i < Le; i++) ids[i] = 3 + (i * 31) % 1000;
    float *logits = (float *)malloc(sizeof(float) * m->dec.sh.nv);
    int rc = !st || !logits || t5g_encode(st, ids, NULL) || t5g_decode(st, &tok, NULL, 1, NULL, logits, 1);
    double best = 1e30;
    for (int i = 1; i < steps && !rc; i++) {
        double t1 = t5g_now();
        rc = t5g_decode(st, &tok, NULL, 1, NULL, logits, 1); /* includes the logits' copy to the host */
        double t = t5g_now() - t1;
        if (t < best) best = t;
    }
    if (!rc) {
        double bytes = step_weight_bytes(&c), roof = bytes / bw;
        printf("decode batch-1 step %.3f ms; weights read per step %.1f MB; roofline %.3f ms at %.0f GB/s -> %.2fx "
               "(goal <= 2x: %s)\n", best * 1e3, bytes / 1e6, roof * 1e3, bw / 1e9, best / roof,
               best <= 2 * roof ? "met" : "NOT met");
    }
    if (st) t5g_state_free(st);
    free(logits);
    int batches[3] = {1, 32, 128};
    for (int i = 0; i < 3 && !rc; i++) {
        int b = batches[i];
        t5g_gen_opts o;
        t5g_gen_defaults(&o);
        o.max_new_tokens = quick ? 16 : 32;
        o.batch_size = b;
        t5g_request *r = (t5g_request *)calloc(b, sizeof *r);
        int32_t *src = (int32_t *)malloc(sizeof(int32_t) * b * Le);
        for (int k = 0; k < b * Le; k++) src[k] = 3 + (k * 7919) % 5000;
        for (int k = 0; k < b; k++) { r[k].index = k; r[k].ids = src + k * Le; r[k].n = Le; }
        double t1 = t5g_now();
        rc = t5g_generate_batch(m, r, b, &o);
        double t = t5g_now() - t1;
        long toks = 0;
        for (int k = 0; k < b; k++) { toks += r[k].nout; free(r[k].out); }
        if (!rc)
            printf("generate batch %3d greedy: %5ld tokens in %.2f s = %.1f generated tokens/s (sources of %d tokens, "
                   "encoder included)\n", b, toks, t, toks / t, Le);
        free(r);
        free(src);
    }
    t5g_model_free(m);
    return rc ? -1 : 0;
}

int main(int argc, char **argv) {
    const char *preset = "t5gemma-s-s";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--preset") && i + 1 < argc) preset = argv[++i];
        else { fprintf(stderr, "usage: bench_cuda [--quick] [--preset NAME]\n"); return 2; }
    }
    MPI_Init(&argc, &argv);
    if (t5g_cuda_device_count() <= 0) {
        printf("SKIPPED: %s\n", t5g_last_error()); /* "no usable CUDA device (why); ..." */
        MPI_Finalize();
        return 77;
    }
    B = t5g_backend_cuda(0);
    if (!B) { fprintf(stderr, "t5g: error: %s\n", t5g_last_error()); return 1; }
    S = (cudaStream_t)t5g_cuda_stream(B->ctx);
    if (cublasCreate(&H) != CUBLAS_STATUS_SUCCESS) { fprintf(stderr, "bench: cublasCreate failed\n"); return 1; }
    cublasSetStream(H, S);
    printf("bench_cuda on %s%s\n", t5g_cuda_device_name(B->ctx), quick ? " (quick)" : "");
    double bw = measure_bandwidth();
    bench_gemms(bw);
    bench_attention(bw);
    bench_select();
    int rc = B->sync(B->ctx);
    if (!rc) rc = bench_model(preset, bw);
    if (rc) fprintf(stderr, "t5g: error: %s\n", t5g_last_error());
    cublasDestroy(H);
    MPI_Finalize();
    return rc ? 1 : 0;
}
