/* scalapack_layout.h - the optional 2-D block-cyclic layout of the encoder's projections
 * (ScaLAPACK: a BLACS grid over the TP group, PSGEMM, PSGEMR2D; docs/planner.md, ScaLAPACK).
 *
 * With `--encoder-layout 2d` the encoder's residual stream is split by tokens across the TP
 * group, every projection (q/k/v, o, gate/up, down) is one PSGEMM on a pr x pc process grid with
 * nb x nb blocks, and PSGEMR2D moves q/k/v into the head-parallel layout attention uses (the
 * same s->q, s->k, s->v as the 1-D layout) and the attention output back.  The decoder and the
 * cross K/V stay 1-D.  Built in when ScaLAPACK is installed (mk/scalapack.mk); otherwise asking
 * for it is one clear error. */
#ifndef T5G_SCALAPACK_LAYOUT_H
#define T5G_SCALAPACK_LAYOUT_H
#include <stddef.h>
#include <stdint.h>

struct t5g_model;
struct t5g_state;

/* --encoder-layout: two_d = 0 (1d, the default) or 1 (2d); pr x pc grid (0 x 0: chosen from the TP
 * size, as square as it divides), nb block size (0: 64) */
typedef struct {
    int two_d, pr, pc, nb;
} t5g_enc_layout;

/* "1d" | "2d" | "2d:RxC" | "2d:RxC:NB" -> *out; one clear error otherwise. */
int t5g_enc_layout_parse(const char *spec, t5g_enc_layout *out);
/* 1 when this build has ScaLAPACK (make SCALAPACK=1, the default where it is installed) */
int t5g_enc2d_built_in(void);
/* The grid for p ranks that t5g_enc_layout leaves open (pr <= pc, pr the largest divisor <= sqrt p). */
void t5g_enc2d_auto_grid(int p, int *pr, int *pc);
/* Build the grid on m's TP group and give this rank its 2-D blocks of the encoder projections
 * (every rank of the TP group calls it).  A 1d layout does nothing.  One clear error when ScaLAPACK
 * is not built in, the grid does not match the TP size, or the model cannot use it (weights not
 * float32, not on the CPU). */
int t5g_enc2d_attach(struct t5g_model *m, const t5g_enc_layout *lay);
void t5g_enc2d_detach(struct t5g_model *m);
/* The encoder layers on s->x: replicated embeddings in, the replicated residual stream out
 * (forward.c's t5g_encode calls it instead of its 1-D layer loop). */
int t5g_enc2d_layers(struct t5g_state *s);
/* "2-D grid 2x2, blocks 64" into buf (for the run's banner) */
const char *t5g_enc2d_describe(const struct t5g_model *m, char *buf, size_t n);

/* The planner's cost model of the encoder projections and their communication, 1-D vs 2-D (per
 * encoder pass; attention, norms and the embedding are the same in both and left out). */
typedef struct {
    int64_t tokens;                     /* N = batch x source length */
    int hidden, q_width, kv_width, ffn; /* H, heads x head_dim, kv heads x head_dim, FFN width */
    int layers;
    int p, pr, pc, nb;  /* TP size and the grid (pr = pc = 0: t5g_enc2d_auto_grid; nb 0: 64) */
    int ranks_per_node; /* ranks fill node after node */
    double gemm_gflops; /* per rank */
    double intra_lat_us, intra_bw_gbs, inter_lat_us, inter_bw_gbs;
} t5g_enc2d_cost_in;
typedef struct {
    double s_1d, s_2d;          /* predicted seconds of one encoder pass's projections + communication */
    double words_1d, words_2d;  /* floats each rank sends per pass */
    int64_t steps_1d, steps_2d; /* latency steps per pass */
    int pr, pc;
} t5g_enc2d_cost;
void t5g_enc2d_predict(const t5g_enc2d_cost_in *in, t5g_enc2d_cost *out);
#endif
