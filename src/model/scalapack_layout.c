/* scalapack_layout.c - the optional 2-D block-cyclic encoder layout (scalapack_layout.h,
 * docs/planner.md, ScaLAPACK).
 *
 * Matrices are seen as ScaLAPACK sees them, column-major: a row-major [out, in] weight is the
 * column-major in x out matrix Wc, the row-major [tokens, width] activations are width x N.  So a
 * projection y = x·Wᵀ is Yc = Wcᵀ·Xc, one PSGEMM('T', 'N').  Layouts of the activations:
 *   token   H x N on a 1 x p grid, column blocks of ceil(N/p) tokens: rank r holds the rows
 *           [r·ceil(N/p), ...) of the row-major residual stream (norms and residual adds are local);
 *   2-D     on the pr x pc grid, nb x nb blocks (the PSGEMM operands and results);
 *   heads   qw x N on a p x 1 grid, row blocks of one rank's heads: exactly s->q / s->att of the 1-D
 *           layout; k/v live on the ranks that own a kv head first (a grid of min(nkv, p) ranks) and
 *           are broadcast to the ranks that replicate it (TP sizes that are multiples of nkv).
 * The 2-D weight blocks are scattered once from the 1-D shards the model already holds. */
#include "model/scalapack_layout.h"
#include "model/state.h"
#include "model/t5gemma2.h"
#include "core/err.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB_DEFAULT   64
/* The 2-D path's projections cost this many times the 1-D ones before any message: on a 1 x 1 grid
 * (no communication, the same GEMM kernel) a t5gemma-s-s-wide encoder pass took 1.59x (4,096 tokens)
 * to 1.86x (16,384) the 1-D time (bench/scalapack.sh, docs/planner.md): the copies into and out of
 * the block layouts (PSGEMR2D) and PSGEMM's workspaces. */
#define LOCAL_FACTOR 1.9

/* a positive integer at *p (advanced past it), or -1 */
static int take_int(const char **p) {
    char *end;
    long v = strtol(*p, &end, 10);
    if (end == *p || **p < '0' || **p > '9' || v <= 0 || v > 65536) return -1;
    *p = end;
    return (int)v;
}

int t5g_enc_layout_parse(const char *spec, t5g_enc_layout *out) {
    memset(out, 0, sizeof *out);
    T5G_CHECK(spec, "--encoder-layout needs a value: 1d, 2d, 2d:RxC or 2d:RxC:NB");
    if (!strcmp(spec, "1d")) return 0;
    out->two_d = 1;
    if (!strcmp(spec, "2d")) return 0;
    int ok = !strncmp(spec, "2d:", 3);
    const char *p = ok ? spec + 3 : spec;
    ok = ok && (out->pr = take_int(&p)) > 0 && *p++ == 'x' && (out->pc = take_int(&p)) > 0;
    if (ok && *p == ':') {
        p++;
        ok = (out->nb = take_int(&p)) > 0;
    }
    T5G_CHECK(ok && *p == 0, "--encoder-layout '%.60s' is not 1d, 2d, 2d:RxC or 2d:RxC:NB (R, C, NB positive integers)",
              spec);
    return 0;
}

void t5g_enc2d_auto_grid(int p, int *pr, int *pc) {
    int r = 1;
    for (int d = 1; (int64_t)d * d <= p; d++)
        if (p % d == 0) r = d;
    *pr = r;
    *pc = p / r;
}

/* ---- cost model (always built: the planner calls it whatever this build has) ---- */

static int ceil_log2(int n) {
    int s = 0;
    while ((1 << s) < n) s++;
    return s;
}

/* seconds of one message/collective step over `members` ranks spanning `nodes` nodes, moving
 * `words` floats per rank */
static double step_cost(const t5g_enc2d_cost_in *in, int members, int nodes, double words) {
    if (members <= 1) return 0;
    int intra = ceil_log2((members + nodes - 1) / nodes), inter = ceil_log2(nodes);
    double bw = nodes > 1 ? in->inter_bw_gbs : in->intra_bw_gbs;
    return intra * in->intra_lat_us * 1e-6 + inter * in->inter_lat_us * 1e-6 + (bw > 0 ? words * 4 / (bw * 1e9) : 0);
}

/* nodes spanned by ranks first, first+stride, ... (count of them), R ranks per node */
static int nodes_of(int first, int stride, int count, int R) {
    int n = 0, last = -1;
    for (int i = 0; i < count; i++) {
        int node = (first + i * stride) / (R > 0 ? R : 1);
        if (node != last) n++;
        last = node;
    }
    return n;
}

void t5g_enc2d_predict(const t5g_enc2d_cost_in *in, t5g_enc2d_cost *o) {
    memset(o, 0, sizeof *o);
    int p = in->p > 0 ? in->p : 1, pr = in->pr, pc = in->pc, nb = in->nb > 0 ? in->nb : NB_DEFAULT;
    if (pr <= 0 || pc <= 0) t5g_enc2d_auto_grid(p, &pr, &pc);
    o->pr = pr;
    o->pc = pc;
    int R = in->ranks_per_node > 0 ? in->ranks_per_node : p;
    int nodes = (p + R - 1) / R;
    double N = (double)in->tokens, H = in->hidden, qw = in->q_width, kvw = in->kv_width, I = in->ffn;
    double flops = 2 * N * (H * (qw + 2 * kvw) + qw * H + 3 * H * I) * in->layers;
    double gemm = in->gemm_gflops > 0 ? flops / p / (in->gemm_gflops * 1e9) : 0;
    /* 1-D: 2 all-reduces of N·H per layer (ring volume, recursive-doubling latency) */
    double ar_words = 2 * (p - 1.0) / p * N * H;
    o->words_1d = 2 * in->layers * ar_words;
    o->steps_1d = (int64_t)2 * in->layers * ceil_log2(p);
    o->s_1d = gemm + 2 * in->layers * step_cost(in, p, nodes, ar_words);
    /* 2-D: SUMMA per product C(M x N) = Aᵀ(K x M)·B(K x N): K/nb panel steps, each a broadcast of an
     * A panel along the grid rows and a B panel along the grid columns */
    int row_nodes = nodes_of(0, 1, pc, R), col_nodes = nodes_of(0, pc, pr, R);
    const double prod[6][2] = {{qw, H}, {kvw, H}, {kvw, H}, {H, qw}, {I, H}, {I, H}}; /* M, K; + down below */
    double s2 = 0, w2 = 0;
    int64_t st2 = 0;
    for (int i = 0; i < 7; i++) {
        double M = i < 6 ? prod[i][0] : H, K = i < 6 ? prod[i][1] : I;
        double panels = ceil(K / nb);
        double wa = M * K / pr / pc * (pc - 1), wb = K * N / pr / pc * (pr - 1); /* words each rank receives */
        w2 += wa + wb;
        st2 += (int64_t)panels * (ceil_log2(pc) + ceil_log2(pr));
        s2 += panels * (step_cost(in, pc, row_nodes, M * nb / pr) + step_cost(in, pr, col_nodes, nb * N / pc));
    }
    /* redistributions per layer: h -> 2-D twice, q/k/v -> heads, att -> 2-D, o and down -> tokens;
     * each rank exchanges its share with up to p - 1 others, one message each */
    double red_words = (4 * H + 2 * qw + 2 * kvw) * N / p * (p - 1.0) / p;
    double red_bw = nodes > 1 ? in->inter_bw_gbs : in->intra_bw_gbs;
    double red_lat = (nodes > 1 ? in->inter_lat_us : in->intra_lat_us) * 1e-6;
    w2 += red_words;
    st2 += 7 * (int64_t)(p - 1);
    s2 += 7 * (p - 1) * red_lat + (red_bw > 0 ? red_words * 4 / (red_bw * 1e9) : 0);
    o->words_2d = w2 * in->layers;
    o->steps_2d = st2 * in->layers;
    o->s_2d = gemm * LOCAL_FACTOR + s2 * in->layers;
}

#ifndef T5G_SCALAPACK
int t5g_enc2d_built_in(void) {
    return 0;
}
int t5g_enc2d_attach(struct t5g_model *m, const t5g_enc_layout *lay) {
    if (!lay || !lay->two_d) return 0;
    return T5G_FAIL("--encoder-layout 2d needs ScaLAPACK, which this build does not have: install "
                    "libscalapack-openmpi-dev (make deps) and rebuild (make SCALAPACK=1)");
}
void t5g_enc2d_detach(struct t5g_model *m) {
    (void)m;
}
int t5g_enc2d_layers(struct t5g_state *s) {
    return T5G_FAIL("the 2-D encoder layout is not built in (ScaLAPACK)");
}
const char *t5g_enc2d_describe(const struct t5g_model *m, char *buf, size_t n) {
    snprintf(buf, n, "1-D");
    return buf;
}
#else
#include "parallel/scalapack_hooks.h"
#include <mpi.h>

/* BLACS (C interface) and PBLAS / ScaLAPACK tools (Fortran calling convention; PBLAS takes its
 * character arguments without hidden lengths), as Debian's libscalapack-openmpi exports them */
extern void Cblacs_pinfo(int *mypnum, int *nprocs);
extern int Csys2blacs_handle(MPI_Comm comm);
extern void Cfree_blacs_system_handle(int handle);
extern void Cblacs_gridinit(int *ctxt, char *order, int nprow, int npcol);
extern void Cblacs_gridmap(int *ctxt, int *usermap, int ldumap, int nprow, int npcol);
extern void Cblacs_gridinfo(int ctxt, int *nprow, int *npcol, int *myrow, int *mycol);
extern void Cblacs_gridexit(int ctxt);
extern int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
extern void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb, const int *irsrc,
                      const int *icsrc, const int *ictxt, const int *lld, int *info);
extern void psgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
                    const float *alpha, const float *a, const int *ia, const int *ja, const int *desca, const float *b,
                    const int *ib, const int *jb, const int *descb, const float *beta, float *c, const int *ic,
                    const int *jc, const int *descc);
extern void psgemr2d_(const int *m, const int *n, const float *a, const int *ia, const int *ja, const int *desca,
                      float *b, const int *ib, const int *jb, const int *descb, const int *ictxt);

enum { W_Q, W_K, W_V, W_O, W_GATE, W_UP, W_DOWN, W_COUNT };

struct t5g_enc2d {
    int p, rank, pr, pc, nb, myrow, mycol;
    int ctx_all;          /* 1 x p: the token layout, and the context of every PSGEMR2D */
    int ctx_heads;        /* p x 1: rank r holds query heads [r·nh/p, ...) */
    int ctx_kv;           /* nkvg x 1 over the first holder of each kv head group (-1 on the other ranks) */
    int ctx_2d;           /* pr x pc */
    int nkvg;             /* kv head groups = min(nkv, p) */
    MPI_Comm tp, kv_comm; /* kv_comm: the ranks replicating my kv heads (root: their holder) */
    int H, qw, kvw, I, qw_loc, kvw_loc, layers;
    float *act;     /* the activations' 2-D blocks, kept between passes (fresh pages cost 1/6 of a pass) */
    size_t act_cap; /* floats */
    double sim_us;  /* T5G_SIM_LATENCY_US on a TP group across nodes (scalapack_hooks.c), else 0 */
    float **w;      /* [layers][W_COUNT] 2-D blocks, column-major, leading dimension = local rows */
};

static const int I_ONE = 1, I_ZERO = 0;

static int loc(int n, int nb, int iproc, int nprocs) {
    return numroc_(&n, &nb, &iproc, &I_ZERO, &nprocs);
}

/* a grid over the TP group: row-major first ranks, or usermap (column-major nprow x npcol) */
static int make_grid(MPI_Comm comm, int nprow, int npcol, int *usermap) {
    int sys = Csys2blacs_handle(comm), ctx = sys;
    if (usermap) Cblacs_gridmap(&ctx, usermap, nprow, nprow, npcol);
    else Cblacs_gridinit(&ctx, "R", nprow, npcol);
    Cfree_blacs_system_handle(sys);
    return ctx;
}

static int in_grid(int ctx) {
    if (ctx < 0) return 0;
    int nr, nc, r, c;
    Cblacs_gridinfo(ctx, &nr, &nc, &r, &c);
    return r >= 0 && c >= 0;
}

/* descriptor of an M x N matrix in mb x nb blocks on grid ctx; ranks outside it get ctxt -1 */
static int describe(int *d, int M, int N, int mb, int nb, int ctx) {
    memset(d, 0, 9 * sizeof(int));
    if (!in_grid(ctx)) {
        d[1] = -1;
        return 0;
    }
    int nr, nc, r, c, info = 0;
    Cblacs_gridinfo(ctx, &nr, &nc, &r, &c);
    int lld = loc(M, mb, r, nr);
    if (lld < 1) lld = 1;
    descinit_(d, &M, &N, &mb, &nb, &I_ZERO, &I_ZERO, &ctx, &lld, &info);
    T5G_CHECK(info == 0, "ScaLAPACK descinit failed (argument %d) for a %d x %d matrix", -info, M, N);
    return 0;
}

/* floats of this rank's part of an M x N matrix on the 2-D grid */
static int64_t local_2d(const struct t5g_enc2d *g, int M, int N) {
    int64_t r = loc(M, g->nb, g->myrow, g->pr), c = loc(N, g->nb, g->mycol, g->pc);
    return (r > 0 ? r : 1) * (c > 0 ? c : 1);
}

static void gemr2d(const struct t5g_enc2d *g, int M, int N, const float *a, const int *da, float *b, const int *db) {
    psgemr2d_(&M, &N, a, &I_ONE, &I_ONE, da, b, &I_ONE, &I_ONE, db, &g->ctx_all);
}

/* Yc (M x N) = Wcᵀ · Xc, Wc: K x M (a weight as stored), Xc: K x N, all on the 2-D grid */
static int gemm_t(const struct t5g_enc2d *g, int M, int N, int K, const float *w, const float *x, float *y) {
    int dw[9], dx[9], dy[9];
    T5G_TRY(describe(dw, K, M, g->nb, g->nb, g->ctx_2d));
    T5G_TRY(describe(dx, K, N, g->nb, g->nb, g->ctx_2d));
    T5G_TRY(describe(dy, M, N, g->nb, g->nb, g->ctx_2d));
    const float one = 1.0f, zero = 0.0f;
    psgemm_("T", "N", &M, &N, &K, &one, w, &I_ONE, &I_ONE, dw, x, &I_ONE, &I_ONE, dx, &zero, y, &I_ONE, &I_ONE, dy);
    return 0;
}

/* One matrix from its 1-D shards into the 2-D blocks dst (rows x cols, column-major as stored).
 * cols_split: rank r holds columns [off[r], off[r] + cnt[r]) (q/k/v/gate/up: [out, in] row-major
 * slices of output rows), else rows (o/down: slices of input columns).  src[r]: 1 if rank r sends
 * its slice (the first holder of replicated kv heads); one: the 1 x 1 grid of each rank. */
static int scatter(const struct t5g_enc2d *g, int rows, int cols, int cols_split, const int *off, const int *cnt,
                   const int *src, const int *one, const t5g_wmat *mine, float *dst) {
    int dd[9], ds[9];
    T5G_TRY(describe(dd, rows, cols, g->nb, g->nb, g->ctx_2d));
    for (int r = 0; r < g->p; r++) {
        if (!src[r] || cnt[r] == 0) continue;
        int m = cols_split ? rows : cnt[r], n = cols_split ? cnt[r] : cols;
        memset(ds, 0, sizeof ds);
        ds[1] = -1;
        if (r == g->rank) {
            int info = 0, ld = mine->ld;
            descinit_(ds, &m, &n, &m, &n, &I_ZERO, &I_ZERO, &one[r], &ld, &info);
            T5G_CHECK(info == 0, "ScaLAPACK descinit failed for a weight slice (%d x %d)", m, n);
        }
        int ib = cols_split ? 1 : off[r] + 1, jb = cols_split ? off[r] + 1 : 1;
        psgemr2d_(&m, &n, (const float *)mine->data, &I_ONE, &I_ONE, ds, dst, &ib, &jb, dd, &g->ctx_all);
    }
    return 0;
}

static int distribute_weights(struct t5g_enc2d *g, const t5g_model *m) {
    const t5g_stack_config *c = &m->cfg.enc;
    int hd = c->head_dim, p = g->p;
    int *tab = calloc((size_t)p * 10, sizeof(int)), *one = tab + 9 * p;
    T5G_CHECK(tab, "out of memory (2-D layout tables)");
    int *q0 = tab, *qn = tab + p, *k0 = tab + 2 * p, *kn = tab + 3 * p, *i0 = tab + 4 * p, *in = tab + 5 * p;
    int *all = tab + 6 * p, *kvsrc = tab + 7 * p;
    for (int r = 0; r < p; r++) {
        t5g_shard sh;
        if (t5g_shard_plan(c, r, p, &sh)) {
            free(tab);
            return -1;
        }
        q0[r] = sh.head0 * hd;
        qn[r] = sh.nh * hd;
        k0[r] = sh.kv0 * hd;
        kn[r] = sh.nkv * hd;
        i0[r] = sh.i0;
        in[r] = sh.ni;
        all[r] = 1;
        kvsrc[r] = r == 0 || k0[r] != k0[r - 1]; /* the first rank of each kv head group sends */
        int map = r;
        one[r] = make_grid(g->tp, 1, 1, &map);
    }
    int rc = 0;
    t5g_simwire_begin(g->sim_us); /* ScaLAPACK's cross-node messages pay the SIMULATED latency too */
    for (int l = 0; l < g->layers && !rc; l++) {
        const t5g_layer_weights *L = &m->enc.layers[l];
        float **w = g->w + (size_t)l * W_COUNT;
        const int shape[W_COUNT][2] = {{g->H, g->qw}, {g->H, g->kvw}, {g->H, g->kvw}, {g->qw, g->H},
                                       {g->H, g->I},  {g->H, g->I},   {g->I, g->H}};
        int64_t total = 0;
        for (int i = 0; i < W_COUNT; i++) total += local_2d(g, shape[i][0], shape[i][1]);
        w[0] = t5g_malloc(sizeof(float) * (size_t)total, "2-D encoder weights");
        if (!w[0]) {
            rc = -1;
            break;
        }
        for (int i = 1; i < W_COUNT; i++) w[i] = w[i - 1] + local_2d(g, shape[i - 1][0], shape[i - 1][1]);
        const t5g_attn_weights *A = &L->self_attn;
        rc = scatter(g, g->H, g->qw, 1, q0, qn, all, one, &A->q_proj, w[W_Q]) ||
             scatter(g, g->H, g->kvw, 1, k0, kn, kvsrc, one, &A->k_proj, w[W_K]) ||
             scatter(g, g->H, g->kvw, 1, k0, kn, kvsrc, one, &A->v_proj, w[W_V]) ||
             scatter(g, g->qw, g->H, 0, q0, qn, all, one, &A->o_proj, w[W_O]) ||
             scatter(g, g->H, g->I, 1, i0, in, all, one, &L->gate_proj, w[W_GATE]) ||
             scatter(g, g->H, g->I, 1, i0, in, all, one, &L->up_proj, w[W_UP]) ||
             scatter(g, g->I, g->H, 0, i0, in, all, one, &L->down_proj, w[W_DOWN]);
    }
    for (int r = 0; r < p; r++)
        if (in_grid(one[r])) Cblacs_gridexit(one[r]);
    free(tab);
    return rc ? -1 : 0;
}

int t5g_enc2d_built_in(void) {
    return 1;
}

int t5g_enc2d_attach(t5g_model *m, const t5g_enc_layout *lay) {
    if (!lay || !lay->two_d) return 0;
    T5G_CHECK(m && m->comm, "t5g_enc2d_attach: no model");
    T5G_CHECK(m->host_memory, "--encoder-layout 2d runs on the CPU backend only (ScaLAPACK); drop --device");
    T5G_CHECK(m->wdtype == T5G_DT_F32 && !m->act_bf16,
              "--encoder-layout 2d needs float32 weights (PSGEMM); use --compute-type f32");
    int p = m->comm->tp_size, pr = lay->pr, pc = lay->pc;
    if (pr <= 0) t5g_enc2d_auto_grid(p, &pr, &pc);
    T5G_CHECK(pr * pc == p,
              "--encoder-layout 2d:%dx%d: the grid has %d ranks but the TP group has %d; give R x C = %d "
              "(or plain 2d)",
              pr, pc, pr * pc, p, p);
    struct t5g_enc2d *g = calloc(1, sizeof *g);
    T5G_CHECK(g, "out of memory (2-D layout)");
    const t5g_stack_config *c = &m->cfg.enc;
    g->p = p;
    g->rank = m->comm->tp_rank;
    g->pr = pr;
    g->pc = pc;
    g->nb = lay->nb > 0 ? lay->nb : NB_DEFAULT;
    g->tp = m->comm->tp;
    g->kv_comm = MPI_COMM_NULL;
    g->H = c->hidden_size;
    g->qw = c->num_attention_heads * c->head_dim;
    g->kvw = c->num_key_value_heads * c->head_dim;
    g->I = c->intermediate_size;
    g->qw_loc = m->enc.sh.nh * c->head_dim;
    g->kvw_loc = m->enc.sh.nkv * c->head_dim;
    g->layers = c->num_hidden_layers;
    g->nkvg = c->num_key_value_heads < p ? c->num_key_value_heads : p;
    int ip, np;
    Cblacs_pinfo(&ip, &np); /* initializes BLACS on an MPI that is already running */
    g->ctx_all = make_grid(g->tp, 1, p, NULL);
    g->ctx_heads = make_grid(g->tp, p, 1, NULL);
    g->ctx_2d = make_grid(g->tp, pr, pc, NULL);
    int *map = malloc(sizeof(int) * g->nkvg);
    g->w = calloc((size_t)g->layers * W_COUNT, sizeof(float *));
    m->enc2d = g;
    T5G_CHECK(map && g->w, "out of memory (2-D layout)");
    for (int i = 0; i < g->nkvg; i++) map[i] = i * (p / g->nkvg); /* the first rank of each kv group */
    g->ctx_kv = make_grid(g->tp, g->nkvg, 1, map);
    free(map);
    int nr, nc;
    Cblacs_gridinfo(g->ctx_2d, &nr, &nc, &g->myrow, &g->mycol);
    if (g->nkvg < p) MPI_Comm_split(g->tp, m->enc.sh.kv0, g->rank, &g->kv_comm);
    g->sim_us = m->comm->tp_nodes >= 2 ? m->comm->sim_latency_us : 0;
    if (g->sim_us > 0) T5G_CHECK(t5g_simwire_setup(g->tp) == 0, "out of memory (2-D layout)");
    return distribute_weights(g, m);
}

void t5g_enc2d_detach(t5g_model *m) {
    struct t5g_enc2d *g = m ? m->enc2d : NULL;
    if (!g) return;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) {
        int ctx[4] = {g->ctx_all, g->ctx_heads, g->ctx_kv, g->ctx_2d};
        for (int i = 0; i < 4; i++)
            if (in_grid(ctx[i])) Cblacs_gridexit(ctx[i]);
        if (g->kv_comm != MPI_COMM_NULL) MPI_Comm_free(&g->kv_comm);
    }
    for (int l = 0; g->w && l < g->layers; l++) free(g->w[(size_t)l * W_COUNT]);
    free(g->w);
    free(g->act);
    free(g);
    m->enc2d = NULL;
}

const char *t5g_enc2d_describe(const t5g_model *m, char *buf, size_t n) {
    const struct t5g_enc2d *g = m ? m->enc2d : NULL;
    if (g) snprintf(buf, n, "2-D (ScaLAPACK), grid %dx%d, blocks %d", g->pr, g->pc, g->nb);
    else snprintf(buf, n, "1-D");
    return buf;
}

/* q/k/v from the 2-D product y (width x N) into the head layout dst (s->q / s->k / s->v) */
static int to_heads(const struct t5g_enc2d *g, int width, int loc_width, int N, const float *y, float *dst, int kv) {
    int dy[9], dh[9];
    T5G_TRY(describe(dy, width, N, g->nb, g->nb, g->ctx_2d));
    T5G_TRY(describe(dh, width, N, loc_width, N, kv ? g->ctx_kv : g->ctx_heads));
    gemr2d(g, width, N, y, dy, dst, dh);
    if (kv && g->kv_comm != MPI_COMM_NULL) { /* replicated kv heads: the holder sends them to its group */
        int64_t n = (int64_t)loc_width * N;
        for (int64_t at = 0; at < n; at += 1 << 30)
            MPI_Bcast(dst + at, (int)(n - at < (1 << 30) ? n - at : 1 << 30), MPI_FLOAT, 0, g->kv_comm);
    }
    return 0;
}

/* an H x N product into the token layout (this rank's rows of s->h), then x += RMSNorm(h) */
static int finish(const struct t5g_enc2d *g, t5g_state *s, const float *y, int N, int t0, int nt, const float *norm) {
    const t5g_model *m = s->m;
    const t5g_stack_config *c = m->enc.cfg;
    int dy[9], dt[9], H = g->H;
    T5G_TRY(describe(dy, H, N, g->nb, g->nb, g->ctx_2d));
    T5G_TRY(describe(dt, H, N, H, (N + g->p - 1) / g->p, g->ctx_all));
    float *h = s->h + (int64_t)t0 * H, *x = s->x + (int64_t)t0 * H;
    gemr2d(g, H, N, y, dy, h, dt);
    if (nt <= 0) return 0;
    m->be->rmsnorm(m->be->ctx, h, norm, h, nt, H, c->rms_norm_eps);
    m->be->add(m->be->ctx, x, h, (size_t)nt * H);
    return 0;
}

/* RMSNorm of this rank's tokens into s->h, then into the 2-D layout xb (H x N) */
static int norm_to_2d(const struct t5g_enc2d *g, t5g_state *s, const float *norm, int N, int t0, int nt, float *xb) {
    const t5g_model *m = s->m;
    int dt[9], dx[9], H = g->H;
    float *h = s->h + (int64_t)t0 * H;
    if (nt > 0) m->be->rmsnorm(m->be->ctx, s->x + (int64_t)t0 * H, norm, h, nt, H, m->enc.cfg->rms_norm_eps);
    T5G_TRY(describe(dt, H, N, H, (N + g->p - 1) / g->p, g->ctx_all));
    T5G_TRY(describe(dx, H, N, g->nb, g->nb, g->ctx_2d));
    gemr2d(g, H, N, h, dt, xb, dx);
    return 0;
}

static int layer_2d(const struct t5g_enc2d *g, t5g_state *s, int l, int N, int t0, int nt, float *xb, float *yb,
                    float *gb, float *ub) {
    const t5g_model *m = s->m;
    const t5g_layer_weights *L = &m->enc.layers[l];
    float *const *w = g->w + (size_t)l * W_COUNT;
    int H = g->H, qw = g->qw, kvw = g->kvw, I = g->I;
    /* self-attention: q/k/v as PSGEMMs, attention on this rank's heads, o_proj as a PSGEMM */
    T5G_TRY(norm_to_2d(g, s, L->pre_self_attn_layernorm, N, t0, nt, xb));
    T5G_TRY(gemm_t(g, qw, N, H, w[W_Q], xb, yb));
    T5G_TRY(to_heads(g, qw, g->qw_loc, N, yb, s->q, 0));
    T5G_TRY(gemm_t(g, kvw, N, H, w[W_K], xb, yb));
    T5G_TRY(to_heads(g, kvw, g->kvw_loc, N, yb, s->k, 1));
    T5G_TRY(gemm_t(g, kvw, N, H, w[W_V], xb, yb));
    T5G_TRY(to_heads(g, kvw, g->kvw_loc, N, yb, s->v, 1));
    t5g_self_attend(s, &m->enc, L, s->B_enc, s->Le, 0, s->Le, s->k, s->v, s->d_enc_valid, 0, l);
    int dh[9], dx[9];
    T5G_TRY(describe(dh, qw, N, g->qw_loc, N, g->ctx_heads));
    T5G_TRY(describe(dx, qw, N, g->nb, g->nb, g->ctx_2d));
    gemr2d(g, qw, N, s->att, dh, xb, dx);
    T5G_TRY(gemm_t(g, H, N, qw, w[W_O], xb, yb));
    T5G_TRY(finish(g, s, yb, N, t0, nt, L->post_self_attn_layernorm));
    /* GeGLU MLP: gate and up share the 2-D layout, so the activation is elementwise on the blocks */
    T5G_TRY(norm_to_2d(g, s, L->pre_feedforward_layernorm, N, t0, nt, xb));
    T5G_TRY(gemm_t(g, I, N, H, w[W_GATE], xb, gb));
    T5G_TRY(gemm_t(g, I, N, H, w[W_UP], xb, ub));
    size_t ng = (size_t)loc(I, g->nb, g->myrow, g->pr) * (size_t)loc(N, g->nb, g->mycol, g->pc);
    if (ng) m->be->gelu_mul(m->be->ctx, gb, ub, gb, ng);
    T5G_TRY(gemm_t(g, H, N, I, w[W_DOWN], gb, yb));
    return finish(g, s, yb, N, t0, nt, L->post_feedforward_layernorm);
}

int t5g_enc2d_layers(t5g_state *s) {
    const t5g_model *m = s->m;
    const struct t5g_enc2d *g = m->enc2d;
    int64_t N64 = (int64_t)s->B_enc * s->Le;
    T5G_CHECK(N64 * (g->H > g->I ? g->H : g->I) < ((int64_t)1 << 31),
              "the 2-D encoder layout addresses a batch of %lld tokens x width %d with 32-bit ScaLAPACK indices; "
              "split the batch",
              (long long)N64, g->H > g->I ? g->H : g->I);
    int N = (int)N64, p = g->p, nbt = (N + p - 1) / p;
    int t0 = g->rank * nbt < N ? g->rank * nbt : N, nt = loc(N, nbt, g->rank, p);
    int wmax = g->H > g->qw ? g->H : g->qw;
    if (g->kvw > wmax) wmax = g->kvw;
    int64_t nx = local_2d(g, wmax, N), ng = local_2d(g, g->I, N);
    struct t5g_enc2d *gm = m->enc2d; /* the buffer is the layout's scratch: one pass at a time per model */
    size_t need = (size_t)(2 * nx + 2 * ng);
    if (need > gm->act_cap) {
        free(gm->act);
        gm->act = t5g_malloc(sizeof(float) * need, "2-D encoder activations");
        gm->act_cap = gm->act ? need : 0;
    }
    float *buf = gm->act;
    T5G_CHECK(buf, "out of memory for the 2-D encoder layout's blocks; use a smaller batch");
    int rc = 0;
    for (int l = 0; l < g->layers && !rc; l++)
        rc = layer_2d(g, s, l, N, t0, nt, buf, buf + nx, buf + 2 * nx, buf + 2 * nx + ng);
    if (rc) s->stats.sim_seconds += t5g_simwire_end();
    T5G_TRY(rc);
    /* every rank gets the whole residual stream back (the final norm and the 1-D cross K/V follow) */
    int *cnt = malloc(sizeof(int) * 2 * p);
    if (!cnt) {
        s->stats.sim_seconds += t5g_simwire_end();
        return T5G_FAIL("out of memory (2-D layout)");
    }
    for (int r = 0; r < p; r++) {
        int a = r * nbt < N ? r * nbt : N;
        cnt[r] = loc(N, nbt, r, p) * g->H;
        cnt[p + r] = a * g->H;
    }
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, s->x, cnt, cnt + p, MPI_FLOAT, g->tp);
    s->stats.sim_seconds += t5g_simwire_end();
    free(cnt);
    return 0;
}
#endif
