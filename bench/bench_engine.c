/* bench_engine.c - single-rank engine benchmarks (issue 2 and 4 goals), ratios measured in
 * the same run:
 *   encoder: tokens/s and GFLOP/s of t5g_encode on a t5gemma-s-s-shaped random model,
 *            against bare BLIS sgemm calls of exactly the same shapes (goal >= 0.85);
 *   generate: generated tokens/s at batch 1 and 32, greedy and beam 4;
 *   decode step at batch 1 against the memory roofline: weight bytes read per step (in the
 *            weights' dtype in memory, --compute-type) divided by the read bandwidth measured now
 *            (goal <= 1.25x for float32, <= 1.2x for bf16).
 * usage: bench_engine [--preset P] [--batch 8] [--len 512] [--reps 3] [--new 32] [--skip-gen]
 *        [--skip-encoder] [--gen 1g,32g,1b,32b]  (batch size, g = greedy, b = beam 4)
 *        [--compute-type f32|bf16|bf16-act|int8] [--roofline-only] */
#include "bench_util.h"
#include "t5g.h"
#include "cli/args.h"
#include "core/progress.h"
#include "generate/generate.h"
#include "plan/plan.h"
#include <blis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int M, N, K;
} shape;

/* The GEMMs one encoder pass issues (projections; per-head attention products; cross K/V). */
static int encoder_shapes(const t5g_config *c, int B, int L, shape *v) {
    const t5g_stack_config *e = &c->enc;
    int T = B * L, H = e->hidden_size, hd = e->head_dim, q = e->num_attention_heads * hd,
        kv = e->num_key_value_heads * hd;
    int n = 0;
    v[n++] = (shape){T, q, H};
    v[n++] = (shape){T, kv, H};
    v[n++] = (shape){T, kv, H};
    v[n++] = (shape){T, H, q};
    v[n++] = (shape){T, e->intermediate_size, H};
    v[n++] = (shape){T, e->intermediate_size, H};
    v[n++] = (shape){T, H, e->intermediate_size};
    v[n++] = (shape){L, L, hd}; /* q·kᵀ per (sequence, head) */
    v[n++] = (shape){L, hd, L}; /* p·v */
    return n;
}

static double shape_flops(const shape *s) {
    return 2.0 * s->M * s->N * s->K;
}

/* Time the encoder's GEMM sequence with bare BLIS (same shapes, same call counts). */
static double bare_encoder_seconds(const t5g_config *c, int B, int L, int reps) {
    shape v[16];
    int n = encoder_shapes(c, B, L, v);
    size_t maxa = 0, maxb = 0, maxc = 0;
    for (int i = 0; i < n; i++) {
        if ((size_t)v[i].M * v[i].K > maxa) maxa = (size_t)v[i].M * v[i].K;
        if ((size_t)v[i].N * v[i].K > maxb) maxb = (size_t)v[i].N * v[i].K;
        if ((size_t)v[i].M * v[i].N > maxc) maxc = (size_t)v[i].M * v[i].N;
    }
    float *A = calloc(maxa, 4), *Bm = calloc(maxb, 4), *C = calloc(maxc, 4), one = 1, zero = 0;
    for (size_t i = 0; i < maxa; i++) A[i] = 0.01f * (i % 17);
    for (size_t i = 0; i < maxb; i++) Bm[i] = 0.01f * (i % 13);
    double best = 1e30;
    int heads = c->enc.num_attention_heads, layers = c->enc.num_hidden_layers;
    for (int r = 0; r < reps; r++) {
        double t0 = t5g_now();
        for (int l = 0; l < layers; l++)
            for (int i = 0; i < n; i++) {
                int times = i >= 7 ? B * heads : 1;
                for (int t = 0; t < times; t++)
                    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, v[i].M, v[i].N, v[i].K, &one, A, v[i].K, 1, Bm, v[i].K,
                              1, &zero, C, v[i].N, 1);
            }
        double t = t5g_now() - t0;
        if (t < best) best = t;
    }
    free(A);
    free(Bm);
    free(C);
    return best;
}

static double encoder_flops(const t5g_config *c, int B, int L) {
    shape v[16];
    int n = encoder_shapes(c, B, L, v);
    double f = 0;
    for (int i = 0; i < n; i++) f += shape_flops(&v[i]) * (i >= 7 ? B * c->enc.num_attention_heads : 1);
    return f * c->enc.num_hidden_layers;
}

static void bench_encoder(const t5g_model *m, int B, int L, int reps) {
    t5g_state *s = t5g_state_new(m, B, L, B, 2);
    int32_t *ids = malloc(sizeof(int32_t) * B * L);
    for (int i = 0; i < B * L; i++) ids[i] = 3 + (i * 7919) % (m->cfg.enc.vocab_size - 3);
    t5g_encode(s, ids, NULL); /* warm-up */
    /* ours and bare BLIS alternate, rep by rep, so both see the same machine; best of each */
    double best = 1e30, bare = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = t5g_now();
        t5g_encode(s, ids, NULL);
        double t = t5g_now() - t0;
        if (t < best) best = t;
        double b = bare_encoder_seconds(&m->cfg, B, L, 1);
        if (b < bare) bare = b;
    }
    /* cross K/V projections of all decoder layers: 2 GEMMs [T,He]x[kv,He]ᵀ each */
    const t5g_config *c = &m->cfg;
    int T = B * L, kv = c->dec.num_key_value_heads * c->dec.head_dim;
    double cross_flops = 2.0 * 2.0 * T * kv * c->enc.hidden_size * c->dec.num_hidden_layers;
    double flops = encoder_flops(c, B, L) + cross_flops;
    double bare_cross = 0;
    {
        float *A = calloc((size_t)T * c->enc.hidden_size, 4), *W = calloc((size_t)kv * c->enc.hidden_size, 4),
              *C = calloc((size_t)T * kv, 4), one = 1, zero = 0;
        double b2 = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = t5g_now();
            for (int l = 0; l < 2 * c->dec.num_hidden_layers; l++)
                bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, T, kv, c->enc.hidden_size, &one, A, c->enc.hidden_size, 1,
                          W, c->enc.hidden_size, 1, &zero, C, kv, 1);
            double t = t5g_now() - t0;
            if (t < b2) b2 = t;
        }
        bare_cross = b2;
        free(A);
        free(W);
        free(C);
    }
    double ours = flops / best / 1e9, ref = flops / (bare + bare_cross) / 1e9;
    printf("encoder  batch %d x %d tokens: %.0f tokens/s, %.1f GFLOP/s; bare BLIS sgemm of the same shapes %.1f "
           "GFLOP/s; ratio %.2f (goal >= 0.85)\n",
           B, L, T / best, ours, ref, ours / ref);
    t5g_state_free(s);
    free(ids);
}

/* weight bytes one decoder step reads at batch 1 (cross K/V are cached activations, not weights) */
static double step_weight_bytes(const t5g_model *m) {
    const t5g_config *c = &m->cfg;
    const t5g_stack_config *d = &c->dec;
    double H = d->hidden_size, q = d->num_attention_heads * d->head_dim, kv = d->num_key_value_heads * d->head_dim;
    double per_layer =
        H * q * 2 + H * kv * 2 /* self q,k,v,o */ + H * q * 2 /* cross q,o */ + 3 * H * d->intermediate_size;
    double elem = m->wdtype == T5G_DT_INT8 ? 1 : m->wdtype == T5G_DT_BF16 ? 2 : 4;
    /* int8: + one float32 scale per output row (self q,k,v,o; cross q,o; gate, up, down; LM head) */
    double rows = q + 2 * kv + H + q + H + 2 * d->intermediate_size + H;
    double scales = m->wdtype == T5G_DT_INT8 ? 4.0 * (rows * d->num_hidden_layers + d->vocab_size) : 0;
    return elem * (per_layer * d->num_hidden_layers + (double)d->vocab_size * H) + scales;
}

static void bench_decode_roofline(const t5g_model *m, int Le) {
    int steps = 16;
    t5g_state *s = t5g_state_new(m, 1, Le, 1, steps + 1);
    int32_t *ids = malloc(sizeof(int32_t) * Le), tok = m->cfg.decoder_start_token_id;
    bench_ids(ids, Le, 31, 1000, m->cfg.enc.vocab_size);
    float *logits = malloc(sizeof(float) * m->dec.sh.nv);
    t5g_encode(s, ids, NULL);
    t5g_decode(s, &tok, NULL, 1, NULL, logits, 1); /* warm-up */
    double best = 1e30;
    for (int i = 1; i < steps; i++) {
        double t0 = t5g_now();
        t5g_decode(s, &tok, NULL, 1, NULL, logits, 1);
        double t = t5g_now() - t0;
        if (t < best) best = t;
    }
    double bytes = step_weight_bytes(m), bw = t5g_read_bandwidth((size_t)1 << 30, 3);
    double roof = bytes / (bw * 1e9);
    printf("decode   batch-1 step %.2f ms; weights read per step %.1f MB; read bandwidth now %.1f GB/s -> roofline "
           "%.2f ms; ratio %.2f (%s)\n",
           best * 1e3, bytes / 1e6, bw, roof * 1e3, best / roof,
           m->wdtype == T5G_DT_BF16   ? "goal <= 1.2"
           : m->wdtype == T5G_DT_INT8 ? "no goal for int8: per-row activation quantization on top"
                                      : "goal <= 1.25");
    t5g_state_free(s);
    free(ids);
    free(logits);
}

static void bench_generate(const t5g_model *m, int batch, int beams, int Le, int new_tokens) {
    t5g_gen_opts o;
    bench_gen_opts(&o, batch, beams, new_tokens);
    t5g_request *r = calloc(batch, sizeof *r);
    int32_t *ids = malloc(sizeof(int32_t) * batch * Le);
    bench_ids(ids, (size_t)batch * Le, 7919, 5000, m->cfg.enc.vocab_size);
    for (int b = 0; b < batch; b++) {
        r[b].index = b;
        r[b].ids = ids + b * Le;
        r[b].n = Le;
    }
    double t0 = t5g_now();
    int rc = t5g_generate_batch(m, r, batch, &o);
    double t = t5g_now() - t0;
    long toks = 0;
    for (int b = 0; b < batch; b++) {
        toks += r[b].nout;
        free(r[b].out);
    }
    if (rc) printf("generate failed: %s\n", t5g_last_error());
    else
        printf("generate batch %2d %-7s: %5ld tokens in %.2f s = %.1f generated tokens/s (source %d tokens)\n", batch,
               beams > 1 ? "beam 4" : "greedy", toks, t, toks / t, Le);
    free(r);
    free(ids);
}

#define USAGE                                                                                                          \
    "usage: bench_engine [--preset P] [--batch B] [--len L] [--reps R] [--new N] [--skip-gen] [--skip-encoder]\n"      \
    "                    [--gen 1g,32g,1b,32b] [--compute-type f32|bf16|bf16-act|int8] [--roofline-only]"

int main(int argc, char **argv) {
    const char *preset = "t5gemma-s-s";
    int B = 8, L = 512, reps = 3, new_tokens = 32;
    const char *only = NULL; /* --gen 1g,32g,1b,32b: just those generate runs */
    const char *ct = "f32";  /* --compute-type: the weights' dtype in memory */
    int roof_only = 0, skip_gen = 0, skip_enc = 0;
    arg_spec specs[] = {
        {"--preset", ARG_STR, &preset, "model shape (t5g info --preset NAME); default t5gemma-s-s"},
        {"--batch", ARG_INT, &B, "encoder batch (default 8)"},
        {"--len", ARG_INT, &L, "encoder tokens per sequence (default 512)"},
        {"--reps", ARG_INT, &reps, "encoder repetitions, best of (default 3)"},
        {"--new", ARG_INT, &new_tokens, "generated tokens per request (default 32)"},
        {"--skip-gen", ARG_FLAG, &skip_gen, "no decode roofline and generate runs"},
        {"--skip-encoder", ARG_FLAG, &skip_enc, "no encoder run"},
        {"--gen", ARG_STR, &only, "just these generate runs: batch size + g (greedy) or b (beam 4), e.g. 1g,32b"},
        {"--compute-type", ARG_STR, &ct, "the weights' dtype in memory: f32 (default), bf16, bf16-act, int8"},
        {"--roofline-only", ARG_FLAG, &roof_only, "only the batch-1 decode step against the memory roofline"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), USAGE, NULL, 0, NULL);
    if (rc) return args_exit(rc);
    if (args_check_range("--batch", B, 1, T5G_MAX_BATCH) || args_check_range("--len", L, 1, 65536) ||
        args_check_range("--reps", reps, 1, 1000) || args_check_range("--new", new_tokens, 1, T5G_MAX_NEW_TOKENS))
        return args_exit(-1);
    int gen = !skip_gen, enc = !skip_enc;
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    t5g_config c;
    if (t5g_config_preset(preset, &c)) {
        t5g_print_error();
        return 1;
    }
    c.n_eos = 1;
    c.eos_token_ids[0] = c.dec.vocab_size - 1; /* a random model should not stop early: rare id */
    t5g_comm comm;
    t5g_comm_self(&comm);
    double t0 = t5g_now();
    t5g_model *m = t5g_model_random_as(&c, 1, &comm, NULL, ct);
    if (!m) {
        t5g_print_error();
        return 1;
    }
    printf("model    %s (random, %.0f M parameters, weights %s), init %.1f s, BLIS threads %d\n", preset,
           t5g_config_param_count(&c) / 1e6, ct, t5g_now() - t0, (int)bli_thread_get_num_threads());
    if (roof_only) {
        bench_decode_roofline(m, 64);
        enc = gen = 0;
    }
    if (enc) bench_encoder(m, B, L, reps);
    if (gen && only) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", only);
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
            int b = atoi(t);
            bench_generate(m, b > 0 ? b : 1, strchr(t, 'b') ? 4 : 1, 64, new_tokens);
        }
    } else if (gen) {
        bench_decode_roofline(m, 64);
        bench_generate(m, 1, 1, 64, new_tokens);
        bench_generate(m, 32, 1, 64, new_tokens);
        bench_generate(m, 1, 4, 64, new_tokens);
        bench_generate(m, 32, 4, 64, new_tokens);
    }
    t5g_model_free(m);
    MPI_Finalize();
    return 0;
}
