/* plan.c - see plan.h.  The throughput model is deliberately simple (roofline per GEMM
 * phase + latency/bandwidth per all-reduce) and is compared with measurements in
 * `make bench`. */
#include "parallel/plan.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/progress.h"
#include "model/state.h"
#include <blis.h>
#include <immintrin.h>
#include <cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double t5g_bare_gemm_gflops(int M, int N, int K, int reps) {
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * N * K), *C = malloc(sizeof(float) * M * N);
    if (!A || !B || !C) { free(A); free(B); free(C); return 0; }
    for (int64_t i = 0; i < (int64_t)M * K; i++) A[i] = (float)(i % 7) * 0.1f;
    for (int64_t i = 0; i < (int64_t)N * K; i++) B[i] = (float)(i % 5) * 0.1f;
    float one = 1, zero = 0;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = t5g_now();
        bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, M, N, K, &one, A, K, 1, B, K, 1, &zero, C, N, 1);
        double t = t5g_now() - t0;
        if (t < best) best = t;
    }
    free(A); free(B); free(C);
    return 2.0 * M * N * K / best / 1e9;
}

/* Sum with 4 AVX accumulators: a streaming read, like a decode step reading weights. */
static float sum_chunk(const float *x, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
    }
    float t[8];
    _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    float s = t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
    for (; i < n; i++) s += x[i];
    return s;
}

double t5g_read_bandwidth(size_t bytes, int reps) {
    size_t n = bytes / sizeof(float);
    float *x = malloc(bytes);
    if (!x) return 0;
    int nt = omp_get_max_threads();
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) x[i] = 1.0f;  /* first touch by the reading threads */
    double best = 1e30, sink = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = t5g_now(), s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
        for (int t = 0; t < nt; t++) s += sum_chunk(x + n / nt * t, t == nt - 1 ? n - n / nt * t : n / nt);
        double t = t5g_now() - t0;
        sink += s;
        if (t < best) best = t;
    }
    free(x);
    return sink > 0 ? bytes / best / 1e9 : 0;
}

int t5g_calibrate(t5g_machine *m, MPI_Comm comm, int quick) {
    T5G_CHECK(m, "t5g_calibrate: NULL argument");
    memset(m, 0, sizeof *m);
    m->threads = omp_get_max_threads();
    m->gemm_gflops = t5g_bare_gemm_gflops(quick ? 512 : 1024, quick ? 512 : 1024, quick ? 512 : 1024, 3);
    m->skinny_gflops = t5g_bare_gemm_gflops(8, 2048, 2048, quick ? 5 : 10);
    m->mem_bw_gbs = t5g_read_bandwidth((size_t)(quick ? 128 : 512) << 20, 3);
    int size = 1;
    MPI_Comm_size(comm, &size);
    /* platform.md §3: 2 ranks on one node, ob1/vader */
    m->ar_latency_us = 3.0;
    m->ar_bw_gbs = 5.0;
    if (size > 1) {
        float small[2] = {1, 2};
        int reps = 200;
        MPI_Barrier(comm);
        double t0 = MPI_Wtime();
        for (int i = 0; i < reps; i++) MPI_Allreduce(MPI_IN_PLACE, small, 2, MPI_FLOAT, MPI_SUM, comm);
        double lat = (MPI_Wtime() - t0) / reps;
        size_t n = 1 << 20;
        float *big = calloc(n, sizeof(float));
        T5G_CHECK(big, "out of memory");
        MPI_Barrier(comm);
        t0 = MPI_Wtime();
        for (int i = 0; i < 10; i++) MPI_Allreduce(MPI_IN_PLACE, big, (int)n, MPI_FLOAT, MPI_SUM, comm);
        double t = (MPI_Wtime() - t0) / 10;
        free(big);
        /* every rank reports the slowest */
        double v[2] = {lat, t};
        MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_DOUBLE, MPI_MAX, comm);
        m->ar_latency_us = v[0] * 1e6;
        m->ar_bw_gbs = n * 4.0 / v[1] / 1e9;
        m->measured_allreduce = 1;
    }
    return 0;
}

int t5g_machine_save(const t5g_machine *m, const char *path) {
    t5g_outfile o;
    T5G_TRY(t5g_out_open(&o, path, "w"));
    fprintf(o.f,
            "{\"gemm_gflops\": %.3f, \"skinny_gflops\": %.3f, \"mem_bw_gbs\": %.3f, \"ar_latency_us\": %.3f, "
            "\"ar_bw_gbs\": %.3f, \"threads\": %d, \"measured_allreduce\": %d}\n",
            m->gemm_gflops, m->skinny_gflops, m->mem_bw_gbs, m->ar_latency_us, m->ar_bw_gbs, m->threads,
            m->measured_allreduce);
    return t5g_out_commit(&o);
}

int t5g_machine_load(t5g_machine *m, const char *path) {
    char *text = t5g_read_file(path, NULL);
    if (!text) return -1;
    cJSON *j = cJSON_Parse(text);
    free(text);
    T5G_CHECK(j, "%s is not valid JSON (rerun t5g calibrate)", path);
    const char *keys[] = {"gemm_gflops", "skinny_gflops", "mem_bw_gbs", "ar_latency_us", "ar_bw_gbs"};
    double *dst[] = {&m->gemm_gflops, &m->skinny_gflops, &m->mem_bw_gbs, &m->ar_latency_us, &m->ar_bw_gbs};
    int rc = 0;
    for (int i = 0; i < 5 && !rc; i++) {
        const cJSON *v = cJSON_GetObjectItem(j, keys[i]);
        if (!cJSON_IsNumber(v) || v->valuedouble <= 0) rc = T5G_FAIL("%s: \"%s\" missing or not positive (rerun t5g calibrate)", path, keys[i]);
        else *dst[i] = v->valuedouble;
    }
    const cJSON *t = cJSON_GetObjectItem(j, "threads"), *ma = cJSON_GetObjectItem(j, "measured_allreduce");
    m->threads = cJSON_IsNumber(t) ? t->valueint : 1;
    m->measured_allreduce = cJSON_IsNumber(ma) ? ma->valueint : 0;
    cJSON_Delete(j);
    return rc;
}

/* weights of a stack's layers on a rank (no embedding), elements */
static int64_t layer_elems(const t5g_stack_config *s, const t5g_shard *sh, int enc_H, int cross) {
    int64_t H = s->hidden_size, hd = s->head_dim;
    int64_t attn = (int64_t)sh->nh * hd * H * 2 + (int64_t)sh->nkv * hd * H * 2;
    int64_t cr = cross ? (int64_t)sh->nh * hd * H * 2 + (int64_t)sh->nkv * hd * enc_H * 2 : 0;
    return attn + cr + 3 * (int64_t)sh->ni * H;
}

int t5g_plan_compute(const t5g_config *c, const t5g_machine *mach, t5g_plan *p) {
    T5G_CHECK(c && mach && p, "t5g_plan_compute: NULL argument");
    int T = p->tp, world = p->nodes * p->ranks_per_node;
    T5G_CHECK(p->nodes >= 1 && p->ranks_per_node >= 1, "--nodes and --ranks-per-node must be >= 1");
    T5G_CHECK(T >= 1 && world % T == 0, "TP size %d does not divide the %d ranks (%d nodes x %d)", T, world, p->nodes,
              p->ranks_per_node);
    T5G_CHECK(p->batch >= 1 && p->src_len >= 1 && p->tgt_len >= 1 && p->beams >= 1, "batch, lengths and beams must be >= 1");
    /* the busiest rank: the first one gets the largest uneven FFN / vocab share */
    p->weights = p->weights_replicated = 0;
    int64_t best = -1;
    t5g_shard E, D;
    for (int r = 0; r < T; r++) {
        int64_t e, rep;
        int64_t bytes, stored;
        T5G_TRY(t5g_weight_share(c, r, T, &e, &rep));
        T5G_TRY(t5g_weight_bytes(c, r, T, (t5g_dtype)p->wdtype, &bytes));  /* the arena's own size */
        T5G_TRY(t5g_weight_bytes(c, r, T, T5G_DT_INT8, &stored));
        if (e > best) {
            best = e;
            p->weights = bytes;
            p->weights_replicated = 4 * rep;  /* norms and biases: float32 in every dtype */
            p->checkpoint_read = p->dtype_bytes == 1 ? stored : (int64_t)p->dtype_bytes * e;
            t5g_shard_plan(&c->enc, r, T, &E);
            t5g_shard_plan(&c->dec, r, T, &D);
        }
    }
    int rows = p->batch * p->beams;
    t5g_state_mem sm;
    t5g_state_memory(c, &E, &D, p->batch, p->src_len, rows, p->tgt_len + 1, &sm);
    p->cross_kv = sm.cross_kv;
    p->self_kv = sm.self_kv;
    p->activations = sm.activations;
    p->logits = 4LL * rows * D.nv * 2;                 /* step logits + search scratch */
    p->overhead = 256LL << 20;                           /* MPI buffers, code, allocator slack */
    p->total = p->weights + sm.total + p->logits + p->overhead;
    /* communication: 2 all-reduces per encoder layer + embedding; 3 per decoder layer + embedding + LM-head stats */
    int Le = c->enc.num_hidden_layers, Ld = c->dec.num_hidden_layers;
    int64_t He = c->enc.hidden_size, Hd = c->dec.hidden_size;
    p->allreduces_per_enc_pass = T > 1 ? 2.0 * Le + 1 : 0;
    p->bytes_per_enc_token = T > 1 ? (2.0 * Le + 1) * He * 4 : 0;
    p->allreduces_per_step = T > 1 ? 3.0 * Ld + 1 + 3 : 0;
    p->bytes_per_gen_token = T > 1 ? ((3.0 * Ld + 1) * Hd * 4 + 24.0) * p->beams : 0;
    /* predicted throughput of one TP group */
    double tokens = (double)p->batch * p->src_len;
    double enc_flops = 2.0 * tokens * layer_elems(&c->enc, &E, 0, 0) * Le / 1.0 +
                       4.0 * tokens * p->src_len * E.nh * c->enc.head_dim * Le;
    double lat = mach->ar_latency_us * 1e-6, bw = mach->ar_bw_gbs * 1e9;
    double enc_comm = T > 1 ? (2.0 * Le + 1) * (lat + tokens * He * 4 / bw) : 0;
    double enc_t = enc_flops / (mach->gemm_gflops * 1e9) + enc_comm;
    p->enc_tokens_per_s = tokens / enc_t;
    /* a decode step reads the decoder's matrices and the LM head in their in-memory dtype */
    double welems = (double)layer_elems(&c->dec, &D, (int)He, 1) * Ld + (double)D.nv * Hd;
    double wbytes = welems * (p->wdtype == T5G_DT_INT8 ? 1 : p->wdtype == T5G_DT_BF16 ? 2 : 4);
    double wflops = 2.0 * rows * welems;
    double ctx = p->tgt_len / 2.0 + p->src_len;  /* average keys per step: self (half the output) + cross */
    double attn_flops = 4.0 * rows * ctx * D.nh * c->dec.head_dim * Ld;
    /* GEMM rate grows from the skinny (M=8) rate to the large-GEMM rate as rows approach 64 */
    double frac = rows >= 64 ? 1.0 : rows / 64.0;
    double rate = mach->skinny_gflops + (mach->gemm_gflops - mach->skinny_gflops) * frac;
    double t_mem = wbytes / (mach->mem_bw_gbs * 1e9), t_flop = wflops / (rate * 1e9);
    double t_comm = T > 1 ? p->allreduces_per_step * lat + (3.0 * Ld + 1) * rows * Hd * 4 / bw : 0;
    double step = fmax(t_mem, t_flop) + attn_flops / (mach->gemm_gflops * 1e9) + t_comm;
    p->step_ms = step * 1e3;
    p->step_mem_ms = t_mem * 1e3;
    p->step_comm_ms = t_comm * 1e3;
    p->gen_tokens_per_s = p->batch / step;
    return 0;
}
