/* forward.c - the T5Gemma forward pass (docs/model.md, Encoder and decoder), one function per
 * sublayer.  Every projection is one GEMM over all tokens of the batch; attention runs per
 * sequence and head.  Under tensor parallelism each rank holds its heads / FFN columns /
 * vocab rows and the row-split projections (o_proj, down_proj, embedding) are summed with
 * one all-reduce each (docs/model.md, Tensor parallelism). */
#include "model/state.h"
#include "model/t5gemma2.h"
#include "model/scalapack_layout.h"
#include "core/err.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROUND16(n) (((n) + 15) & ~(int64_t)15)

/* Scratch sizes (floats) of a state; shared by t5g_state_new and the planner. */
typedef struct {
    int Ld;
    int64_t He, kvw_d, qw, kvw, H, ni, enc_tok, dec_tok, T, nh, Lk;
    int64_t dec_keys; /* self-cache rows: B_cap·Tmax, or B_cap·(Le+Tmax) for T5Gemma 2's merged keys */
} state_dims;

static void dims_of(const t5g_config *c, const t5g_shard *E, const t5g_shard *D, int B_enc, int Le, int B_cap, int Tmax,
                    state_dims *d) {
    d->Ld = c->dec.num_hidden_layers;
    d->He = c->enc.hidden_size;
    int64_t Hd = c->dec.hidden_size, qe = (int64_t)E->nh * c->enc.head_dim, qd = (int64_t)D->nh * c->dec.head_dim;
    int64_t kvw_e = (int64_t)E->nkv * c->enc.head_dim;
    d->kvw_d = (int64_t)D->nkv * c->dec.head_dim;
    d->qw = qe > qd ? qe : qd;
    d->kvw = kvw_e > d->kvw_d ? kvw_e : d->kvw_d;
    d->H = d->He > Hd ? d->He : Hd;
    d->ni = E->ni > D->ni ? E->ni : D->ni;
    d->enc_tok = (int64_t)B_enc * Le;
    d->dec_tok = (int64_t)B_cap * Tmax;
    d->T = d->enc_tok > d->dec_tok ? d->enc_tok : d->dec_tok;
    d->nh = E->nh > D->nh ? E->nh : D->nh;
    d->Lk = Le > Tmax ? Le : Tmax;
    d->dec_keys = (int64_t)B_cap * (Tmax + (c->version == 2 ? Le : 0));
}

/* The state's float buffers: ONE table gives their sizes to the planner (t5g_state_memory) and
 * to the allocator (t5g_state_new), so the two cannot disagree.  Sizes in floats; a per-layer
 * buffer exists once per decoder layer; each buffer starts 16-float aligned. */
enum {
    S_ENC_OUT,
    S_CROSS_K,
    S_CROSS_V,
    S_SELF_K,
    S_SELF_V,
    S_X,
    S_H,
    S_Q,
    S_ATT,
    S_K,
    S_V,
    S_GATE,
    S_UP,
    S_SCORES,
    S_PERM,
    S_COUNT
};
typedef struct {
    int64_t n;     /* floats */
    int per_layer; /* one per decoder layer */
    int kind;      /* which t5g_state_mem figure it counts in: 0 cross K/V, 1 self K/V, 2 activations */
} state_buf;

static void state_layout(const state_dims *d, state_buf b[S_COUNT]) {
    const state_buf t[S_COUNT] = {
        [S_ENC_OUT] = {d->enc_tok * d->He, 0, 2},
        [S_CROSS_K] = {d->enc_tok * d->kvw_d, 1, 0},
        [S_CROSS_V] = {d->enc_tok * d->kvw_d, 1, 0},
        [S_SELF_K] = {d->dec_keys * d->kvw_d, 1, 1},
        [S_SELF_V] = {d->dec_keys * d->kvw_d, 1, 1},
        [S_X] = {d->T * d->H, 0, 2},
        [S_H] = {d->T * d->H, 0, 2},
        [S_Q] = {d->T * d->qw, 0, 2},
        [S_ATT] = {d->T * d->qw, 0, 2},
        [S_K] = {d->T * d->kvw, 0, 2},
        [S_V] = {d->T * d->kvw, 0, 2},
        [S_GATE] = {d->T * d->ni, 0, 2},
        [S_UP] = {d->T * d->ni, 0, 2},
        [S_SCORES] = {d->nh * d->Lk * d->Lk, 0, 2},
        [S_PERM] = {d->dec_keys * d->kvw_d, 0, 2},
    };
    memcpy(b, t, sizeof t);
}

void t5g_state_memory(const t5g_config *c, const t5g_shard *E, const t5g_shard *D, int B_enc, int Le, int B_cap,
                      int Tmax, t5g_state_mem *m) {
    state_dims d;
    dims_of(c, E, D, B_enc, Le, B_cap, Tmax, &d);
    state_buf b[S_COUNT];
    state_layout(&d, b);
    int64_t bytes[3] = {0, 0, 0};
    for (int i = 0; i < S_COUNT; i++) bytes[b[i].kind] += 4 * ROUND16(b[i].n) * (b[i].per_layer ? d.Ld : 1);
    m->cross_kv = bytes[0];
    m->self_kv = bytes[1];
    m->activations = bytes[2];
    if (c->version == 2) m->activations += t5g2_mask_bytes(B_cap, Le, Tmax);
    m->total = m->cross_kv + m->self_kv + m->activations;
}

t5g_state *t5g_state_new(const t5g_model *m, int B_enc, int Le, int B_cap, int Tmax) {
    T5G_CHECK_NULL(m, "t5g_state_new: no model");
    T5G_CHECK_NULL(B_enc > 0 && Le > 0 && B_cap > 0 && Tmax > 0, "batch sizes and lengths must be positive");
    t5g_state *s = t5g_calloc(1, sizeof *s, "state");
    if (!s) return NULL;
    state_dims d;
    dims_of(&m->cfg, &m->enc.sh, &m->dec.sh, B_enc, Le, B_cap, Tmax, &d);
    t5g_state_mem mem;
    t5g_state_memory(&m->cfg, &m->enc.sh, &m->dec.sh, B_enc, Le, B_cap, Tmax, &mem);
    int Ld = d.Ld;
    int64_t enc_tok = d.enc_tok, dec_tok = d.dec_tok, T = d.T;
    s->m = m;
    s->B_enc = B_enc;
    s->Le = Le;
    s->B_cap = B_cap;
    s->Tmax = Tmax;
    s->cap_tokens = T;
    s->key0 = m->cfg.version == 2 ? Le : 0;
    s->row_keys = s->key0 + Tmax;
    int64_t total = mem.total / 4;
    s->buf = m->be->alloc(m->be->ctx, (size_t)total * sizeof(float));
    s->dbuf = m->be->alloc(m->be->ctx, (size_t)enc_tok + (size_t)dec_tok + 64 + sizeof(int32_t) * (size_t)T);
    if (!s->buf || !s->dbuf) {
        T5G_FAIL("out of memory: the state for %d x %d encoder and %d x %d decoder tokens needs %.2f GiB; use a "
                 "smaller batch",
                 B_enc, Le, B_cap, Tmax, total * 4.0 / 1073741824.0);
        t5g_state_free(s);
        return NULL;
    }
    s->d_enc_valid = s->dbuf;
    s->d_dec_valid = s->dbuf + enc_tok;
    s->d_ids = (int32_t *)(s->dbuf + ((enc_tok + dec_tok + 63) & ~(int64_t)63));
    m->be->zero(m->be->ctx, s->dbuf, (size_t)enc_tok + (size_t)dec_tok);
    s->cross_k = calloc(Ld, sizeof(float *));
    s->cross_v = calloc(Ld, sizeof(float *));
    s->self_k = calloc(Ld, sizeof(float *));
    s->self_v = calloc(Ld, sizeof(float *));
    s->enc_valid = calloc(enc_tok, 1);
    s->dec_valid = calloc(dec_tok, 1);
    s->cross_row = calloc(B_cap, sizeof(int));
    s->perm_rows = calloc(B_cap, sizeof(int));
    s->perm_valid = calloc(dec_tok, 1);
    if (!s->cross_k || !s->cross_v || !s->self_k || !s->self_v || !s->enc_valid || !s->dec_valid || !s->cross_row ||
        !s->perm_rows || !s->perm_valid) {
        t5g_state_free(s);
        T5G_FAIL("out of memory allocating the decoder state");
        return NULL;
    }
    /* carve the one allocation in the order of the layout table */
    float **one[S_COUNT] = {[S_ENC_OUT] = &s->enc_out, [S_X] = &s->x,           [S_H] = &s->h,      [S_Q] = &s->q,
                            [S_ATT] = &s->att,         [S_K] = &s->k,           [S_V] = &s->v,      [S_GATE] = &s->gate,
                            [S_UP] = &s->up,           [S_SCORES] = &s->scores, [S_PERM] = &s->perm};
    float **layered[S_COUNT] = {
        [S_CROSS_K] = s->cross_k, [S_CROSS_V] = s->cross_v, [S_SELF_K] = s->self_k, [S_SELF_V] = s->self_v};
    state_buf lay[S_COUNT];
    state_layout(&d, lay);
    float *p = s->buf;
    for (int i = 0; i < S_COUNT; i++) {
        for (int l = 0; l < (lay[i].per_layer ? Ld : 1); l++) {
            if (lay[i].per_layer) layered[i][l] = p;
            else *one[i] = p;
            p += ROUND16(lay[i].n);
        }
    }
    if (m->cfg.version == 2 && t5g2_state_init(s)) {
        t5g_state_free(s);
        return NULL;
    }
    return s;
}

void t5g_state_free(t5g_state *s) {
    if (!s) return;
    const t5g_backend *be = s->m->be;
    if (s->buf) be->release(be->ctx, s->buf);
    if (s->dbuf) be->release(be->ctx, s->dbuf);
    if (s->d_out) be->release(be->ctx, s->d_out);
    free(s->cross_k);
    free(s->cross_v);
    free(s->self_k);
    free(s->self_v);
    free(s->enc_valid);
    free(s->dec_valid);
    free(s->cross_row);
    free(s->perm_rows);
    free(s->perm_valid);
    t5g2_state_release(s);
    free(s);
}

/* Sum over the TP group: NCCL on a device backend, MPI on host memory. */
static void allreduce(t5g_state *s, float *x, int64_t n) {
    const t5g_model *m = s->m;
    if (!m->be->allreduce_sum) {
        t5g_allreduce_sum(m->comm, x, n, &s->stats);
        return;
    }
    if (m->comm->tp_size <= 1 || n <= 0) return;
    double t0 = MPI_Wtime();
    t5g_dev_group g = t5g_comm_tp_group(m->comm);
    m->be->allreduce_sum(m->be->ctx, &g, x, n);
    s->stats.allreduce_seconds += MPI_Wtime() - t0; /* enqueue time: the transfer overlaps the stream */
    s->stats.allreduce_calls++;
    s->stats.allreduce_bytes += n * (int64_t)sizeof(float);
}

/* y[T, W.rows] = x[T, W.cols] · Wᵀ (W as stored: [out, in], any weight dtype) */
static void linear(const t5g_model *m, const float *x, int T, const t5g_wmat *W, float *y) {
    m->be->linear(m->be->ctx, x, T, W->cols, W, y, W->rows);
}

/* A row-split projection (o_proj, down_proj: this rank holds some input columns, the partial
 * products are summed by the all-reduce that follows).  int8 weights quantize each activation
 * row by its absolute maximum: under TP every rank sees only its slice of the row, so the
 * group's maximum is agreed first, and every rank quantizes as TP = 1 would. */
void t5g_linear_rowsplit(const t5g_model *m, const float *x, int T, const t5g_wmat *W, float *y) {
    int tp = m->comm ? m->comm->tp_size : 1;
    if (W->dtype != T5G_DT_INT8 || tp <= 1 || !m->be->linear_amax || !m->host_memory) {
        linear(m, x, T, W, y);
        return;
    }
    float stackbuf[256], *amax = T <= 256 ? stackbuf : malloc(sizeof(float) * T);
    if (!amax) {
        linear(m, x, T, W, y); /* still a valid int8 product, only not TP = 1's rounding */
        return;
    }
    for (int t = 0; t < T; t++) {
        const float *r = x + (size_t)t * W->cols;
        float a = 0.0f;
        for (int k = 0; k < W->cols; k++) {
            float v = fabsf(r[k]);
            a = v > a || v != v ? v : a; /* NaN propagates: the product must stay NaN */
        }
        amax[t] = a;
    }
    MPI_Allreduce(MPI_IN_PLACE, amax, T, MPI_FLOAT, MPI_MAX, m->comm->tp);
    m->be->linear_amax(m->be->ctx, x, T, W->cols, W, y, W->rows, amax);
    if (amax != stackbuf) free(amax);
}

/* x += RMSNorm(allreduce(partial)) : the tail of every sublayer (the sandwich norm). */
void t5g_finish_sublayer(t5g_state *s, const t5g_stack_config *c, float *partial, const float *post_norm, float *x,
                         int T) {
    const t5g_model *m = s->m;
    int H = c->hidden_size;
    allreduce(s, partial, (int64_t)T * H);
    m->be->rmsnorm(m->be->ctx, partial, post_norm, partial, T, H, c->rms_norm_eps);
    m->be->add(m->be->ctx, x, partial, (size_t)T * H);
}

static float attn_scale(const t5g_stack_config *c) {
    return (float)(1.0 / sqrt((double)c->query_pre_attn_scalar));
}

/* Fill the per-sequence attention arguments shared by self- and cross-attention. */
void t5g_attn_common(t5g_attn_args *a, const t5g_stack_weights *sw, float *scores) {
    memset(a, 0, sizeof *a);
    a->nh = sw->sh.nh;
    a->nkv = sw->sh.nkv;
    a->hd = sw->cfg->head_dim;
    a->group = sw->sh.group;
    a->head0 = sw->sh.head0;
    a->kv0 = sw->sh.kv0;
    a->scale = attn_scale(sw->cfg);
    a->softcap = sw->cfg->attn_logit_softcapping;
    a->scratch = scores;
}

/* The layer's position encoding, applied in this one place (config.h t5g_position_encoding):
 * RoPE rotates the T rows of q and k, whose tokens sit at positions past..past+Tq-1 of their
 * row (positions ignore padding); T5's relative bias is added by the attention op
 * to the scaled scores (bidirectional buckets in the encoder); none does nothing. */
static void position_encoding(const t5g_model *m, t5g_state *s, const t5g_stack_weights *sw, int layer, int is_decoder,
                              int T, int Tq, int past, t5g_attn_args *a) {
    const t5g_stack_config *c = sw->cfg;
    int hd = c->head_dim;
    switch (c->position_encoding) {
        case T5G_POS_ROPE:
            t5g_rope(m, c, layer, s->q, T, sw->sh.nh * hd, sw->sh.nh, Tq, past);
            t5g_rope(m, c, layer, s->k, T, sw->sh.nkv * hd, sw->sh.nkv, Tq, past);
            break;
        case T5G_POS_T5_RELATIVE_BIAS:
            a->rel_table = sw->rel_bias;
            a->rel_buckets = c->rel_num_buckets;
            a->rel_max_distance = c->rel_max_distance;
            a->rel_bidirectional = !is_decoder;
            break;
        case T5G_POS_NONE:
        case T5G_POS_COUNT: /* not an encoding: the number of them */
            break;
    }
}

/* Self-attention of one layer over rows of Tq new tokens each (encoder: the whole sequence;
 * decoder: appended to the cache), q/k/v already projected into s->q, s->k, s->v (this rank's
 * heads); output in s->att.  kc/vc: cache [rows][Tcap][kvw]; valid: [rows][Tcap].  Shared with
 * the 2-D encoder layout (src/model/scalapack_layout.c), which projects differently. */
void t5g_self_attend(t5g_state *s, const t5g_stack_weights *sw, const t5g_layer_weights *L, int rows, int Tq, int past,
                     int Tcap, float *kc, float *vc, const unsigned char *valid, int is_decoder, int layer) {
    const t5g_model *m = s->m;
    const t5g_stack_config *c = sw->cfg;
    int T = rows * Tq, hd = c->head_dim;
    int qw = sw->sh.nh * hd, kvw = sw->sh.nkv * hd;
    const t5g_attn_weights *A = &L->self_attn;
    if (c->qk_norm) { /* per-head RMSNorm before RoPE (docs/model.md, Options) */
        m->be->rmsnorm(m->be->ctx, s->q, A->q_norm, s->q, T * sw->sh.nh, hd, c->rms_norm_eps);
        m->be->rmsnorm(m->be->ctx, s->k, A->k_norm, s->k, T * sw->sh.nkv, hd, c->rms_norm_eps);
    }
    int sliding = c->layer_sliding[layer] && c->sliding_window > 0;
    t5g_attn_args a;
    t5g_attn_common(&a, sw, s->scores);
    position_encoding(m, s, sw, layer, is_decoder, T, Tq, past, &a);
    for (int b = 0; kc != s->k && b < rows; b++) { /* append this step's K/V to the cache */
        m->be->copy(m->be->ctx, kc + ((int64_t)b * Tcap + past) * kvw, s->k + (int64_t)b * Tq * kvw,
                    sizeof(float) * Tq * kvw, T5G_COPY_D2D);
        m->be->copy(m->be->ctx, vc + ((int64_t)b * Tcap + past) * kvw, s->v + (int64_t)b * Tq * kvw,
                    sizeof(float) * Tq * kvw, T5G_COPY_D2D);
    }
    a.Tq = Tq;
    a.Tk = past + Tq;
    a.q = s->q;
    a.ldq = qw;
    a.k = kc;
    a.ldk = kvw;
    a.v = vc;
    a.ldv = kvw;
    a.out = s->att;
    a.ldo = qw;
    a.key_valid = valid;
    a.q_pos0 = past;
    a.window = c->sliding_window;
    a.mask = is_decoder ? (sliding ? T5G_MASK_CAUSAL_WINDOW : T5G_MASK_CAUSAL)
                        : (!sliding           ? T5G_MASK_BIDIR
                           : c->window_split  ? T5G_MASK_BIDIR_WINDOW_SPLIT
                           : c->window_strict ? T5G_MASK_BIDIR_WINDOW_STRICT
                                              : T5G_MASK_BIDIR_WINDOW);
    /* every row of the batch in one call: row b's keys are cache row b */
    m->be->attention_batch(m->be->ctx, &a, rows, (int64_t)Tq * qw, (int64_t)Tq * qw, (int64_t)Tcap * kvw, Tcap, NULL);
}

/* Self-attention sublayer: norm, the q/k/v projections of this rank's heads, attention, o_proj
 * and the all-reduce. */
static void self_attention(const t5g_model *m, t5g_state *s, const t5g_stack_weights *sw, const t5g_layer_weights *L,
                           int rows, int Tq, int past, int Tcap, float *kc, float *vc, const unsigned char *valid,
                           int is_decoder, int layer) {
    const t5g_stack_config *c = sw->cfg;
    int T = rows * Tq, H = c->hidden_size;
    const t5g_attn_weights *A = &L->self_attn;
    m->be->rmsnorm(m->be->ctx, s->x, L->pre_self_attn_layernorm, s->h, T, H, c->rms_norm_eps);
    linear(m, s->h, T, &A->q_proj, s->q);
    linear(m, s->h, T, &A->k_proj, s->k);
    linear(m, s->h, T, &A->v_proj, s->v);
    t5g_self_attend(s, sw, L, rows, Tq, past, Tcap, kc, vc, valid, is_decoder, layer);
    t5g_linear_rowsplit(m, s->att, T, &A->o_proj, s->h);
    t5g_finish_sublayer(s, c, s->h, L->post_self_attn_layernorm, s->x, T);
}

/* Cross-attention: queries from the decoder, K/V precomputed from the encoder output. */
static void cross_attention(const t5g_model *m, t5g_state *s, const t5g_layer_weights *L, int layer, int rows, int Tq) {
    const t5g_stack_weights *sw = &m->dec;
    const t5g_stack_config *c = sw->cfg;
    int T = rows * Tq, H = c->hidden_size, hd = c->head_dim;
    int qw = sw->sh.nh * hd, kvw = sw->sh.nkv * hd;
    m->be->rmsnorm(m->be->ctx, s->x, L->pre_cross_attn_layernorm, s->h, T, H, c->rms_norm_eps);
    linear(m, s->h, T, &L->cross_attn.q_proj, s->q);
    t5g_attn_args a;
    t5g_attn_common(&a, sw, s->scores);
    a.Tq = Tq;
    a.Tk = s->Le;
    a.q = s->q;
    a.ldq = qw;
    a.k = s->cross_k[layer];
    a.ldk = kvw;
    a.v = s->cross_v[layer];
    a.ldv = kvw;
    a.out = s->att;
    a.ldo = qw;
    a.key_valid = s->d_enc_valid;
    a.mask = T5G_MASK_BIDIR; /* no RoPE, no window */
    /* decoder row b reads encoder row cross_row[b] (beams of one request share it) */
    m->be->attention_batch(m->be->ctx, &a, rows, (int64_t)Tq * qw, (int64_t)Tq * qw, (int64_t)s->Le * kvw, s->Le,
                           s->cross_row);
    t5g_linear_rowsplit(m, s->att, T, &L->cross_attn.o_proj, s->h);
    t5g_finish_sublayer(s, c, s->h, L->post_cross_attn_layernorm, s->x, T);
}

/* GeGLU MLP on the FFN columns of this rank. */
static void mlp(const t5g_model *m, t5g_state *s, const t5g_stack_config *c, const t5g_layer_weights *L, int ni,
                int T) {
    int H = c->hidden_size;
    m->be->rmsnorm(m->be->ctx, s->x, L->pre_feedforward_layernorm, s->h, T, H, c->rms_norm_eps);
    linear(m, s->h, T, &L->gate_proj, s->gate);
    linear(m, s->h, T, &L->up_proj, s->up);
    m->be->gelu_mul(m->be->ctx, s->gate, s->up, s->gate, (size_t)T * ni);
    t5g_linear_rowsplit(m, s->gate, T, &L->down_proj, s->h);
    t5g_finish_sublayer(s, c, s->h, L->post_feedforward_layernorm, s->x, T);
}

/* x = E[ids] * float32(sqrt(H)), vocab-parallel. */
static void embed(const t5g_model *m, t5g_state *s, const t5g_stack_weights *sw, const int32_t *ids, int T, float *x) {
    int H = sw->cfg->hidden_size;
    float scale = (float)sqrt((double)H);
    m->be->copy(m->be->ctx, s->d_ids, ids, sizeof(int32_t) * T, T5G_COPY_H2D);
    m->be->embed(m->be->ctx, &sw->embed_tokens, sw->sh.v0, s->d_ids, T, scale, x);
    allreduce(s, x, (int64_t)T * H);
    if (sw->eoi_embedding) t5g2_embed_eoi(m, sw, ids, T, x);
}

static int check_ids(const int32_t *ids, int64_t n, int V, const char *what) {
    for (int64_t i = 0; i < n; i++)
        T5G_CHECK(ids[i] >= 0 && ids[i] < V, "%s id %d at position %lld is outside the vocabulary [0, %d)", what,
                  ids[i], (long long)i, V);
    return 0;
}

int t5g_encode(t5g_state *s, const int32_t *ids, const int32_t *mask) {
    T5G_CHECK(s && ids, "t5g_encode: NULL argument");
    const t5g_model *m = s->m;
    const t5g_stack_weights *E = &m->enc;
    const t5g_stack_config *c = E->cfg;
    int T = s->B_enc * s->Le, H = c->hidden_size;
    T5G_TRY(check_ids(ids, T, c->vocab_size, "encoder input"));
    if (m->cfg.version == 2) T5G_TRY(t5g2_check_text_only(m, ids, T));
    for (int t = 0; t < T; t++) {
        T5G_CHECK(!mask || mask[t] == 0 || mask[t] == 1, "encoder attention_mask must hold 0/1 values");
        s->enc_valid[t] = mask ? (unsigned char)mask[t] : ids[t] != m->cfg.pad_token_id;
    }
    m->be->copy(m->be->ctx, s->d_enc_valid, s->enc_valid, (size_t)T, T5G_COPY_H2D);
    embed(m, s, E, ids, T, s->x);
    if (m->enc2d) T5G_TRY(t5g_enc2d_layers(s)); /* opt-in 2-D layout (docs/planner.md, ScaLAPACK) */
    for (int l = 0; l < c->num_hidden_layers && !m->enc2d; l++) {
        const t5g_layer_weights *L = &E->layers[l];
        /* the encoder attends over its own K/V scratch (no cache to keep) */
        self_attention(m, s, E, L, s->B_enc, s->Le, 0, s->Le, s->k, s->v, s->d_enc_valid, 0, l);
        mlp(m, s, c, L, E->sh.ni, T);
    }
    m->be->rmsnorm(m->be->ctx, s->x, E->norm, s->enc_out, T, H, c->rms_norm_eps);
    /* cross-attention K/V of every decoder layer, once per request */
    const t5g_stack_weights *D = &m->dec;
    for (int l = 0; l < D->cfg->num_hidden_layers && m->cfg.version == 2; l++) t5g2_cross_kv(s, l);
    for (int l = 0; l < D->cfg->num_hidden_layers && m->cfg.version != 2; l++) {
        linear(m, s->enc_out, T, &D->layers[l].cross_attn.k_proj, s->cross_k[l]);
        linear(m, s->enc_out, T, &D->layers[l].cross_attn.v_proj, s->cross_v[l]);
    }
    s->B_dec = s->B_enc < s->B_cap ? s->B_enc : s->B_cap;
    for (int b = 0; b < s->B_cap; b++) s->cross_row[b] = b < s->B_enc ? b : 0;
    s->past = 0;
    T5G_TRY(m->be->sync(m->be->ctx)); /* any op's failure since the last sync (backend.h) */
    return m->cfg.version == 2 ? t5g2_fill_rows(s) : 0;
}

int t5g_decoder_rows(t5g_state *s, const int *cross_row, int B_dec) {
    T5G_CHECK(s && cross_row, "t5g_decoder_rows: NULL argument");
    T5G_CHECK(B_dec > 0 && B_dec <= s->B_cap, "decoder rows %d exceed the state's capacity %d", B_dec, s->B_cap);
    for (int b = 0; b < B_dec; b++) {
        T5G_CHECK(cross_row[b] >= 0 && cross_row[b] < s->B_enc, "decoder row %d reads encoder row %d of %d", b,
                  cross_row[b], s->B_enc);
        s->cross_row[b] = cross_row[b];
    }
    s->B_dec = B_dec;
    s->past = 0;
    return s->m->cfg.version == 2 ? t5g2_fill_rows(s) : 0;
}

int t5g_decode(t5g_state *s, const int32_t *ids, const int32_t *mask, int Tq, float *hidden, float *logits,
               int last_only) {
    T5G_CHECK(s && ids, "t5g_decode: NULL argument");
    const t5g_model *m = s->m;
    const t5g_stack_weights *D = &m->dec;
    const t5g_stack_config *c = D->cfg;
    int rows = s->B_dec, T = rows * Tq, H = c->hidden_size;
    T5G_CHECK(Tq > 0 && s->past + Tq <= s->Tmax, "decoder length %d exceeds the state's maximum %d", s->past + Tq,
              s->Tmax);
    T5G_TRY(check_ids(ids, T, c->vocab_size, "decoder input"));
    for (int b = 0; b < rows; b++)
        for (int t = 0; t < Tq; t++) {
            int32_t v = mask ? mask[b * Tq + t] : 1;
            T5G_CHECK(v == 0 || v == 1, "decoder attention_mask must hold 0/1 values");
            s->dec_valid[(int64_t)b * s->Tmax + s->past + t] = (unsigned char)v;
        }
    m->be->copy(m->be->ctx, s->d_dec_valid, s->dec_valid, (size_t)rows * s->Tmax, T5G_COPY_H2D);
    int v2 = m->cfg.version == 2; /* T5Gemma 2: shared embedding, merged self+cross attention */
    const t5g_stack_weights *E = v2 ? &m->enc : D;
    embed(m, s, E, ids, T, s->x);
    if (v2) T5G_TRY(t5g2_decode_masks(s, Tq));
    for (int l = 0; l < c->num_hidden_layers; l++) {
        const t5g_layer_weights *L = &D->layers[l];
        if (v2) {
            t5g2_merged_attention(s, L, l, rows, Tq);
        } else {
            self_attention(m, s, D, L, rows, Tq, s->past, s->Tmax, s->self_k[l], s->self_v[l], s->d_dec_valid, 1, l);
            cross_attention(m, s, L, l, rows, Tq);
        }
        mlp(m, s, c, L, D->sh.ni, T);
    }
    s->past += Tq;
    /* final norm: only the rows the caller needs (each row's last token for generation) */
    int nout = last_only ? rows : T;
    float *src = s->x;
    if (last_only && Tq > 1) {
        for (int b = 0; b < rows; b++)
            m->be->copy(m->be->ctx, s->h + (int64_t)b * H, s->x + ((int64_t)b * Tq + Tq - 1) * H, sizeof(float) * H,
                        T5G_COPY_D2D);
        src = s->h;
    }
    /* outputs are host buffers: a device backend stages them in d_out and copies back */
    size_t nh = (size_t)nout * H, nl = logits ? (size_t)nout * D->sh.nv : 0;
    if (!m->host_memory && (hidden || logits) && nl + nh > s->d_out_cap) {
        if (s->d_out) m->be->release(m->be->ctx, s->d_out);
        s->d_out = m->be->alloc(m->be->ctx, sizeof(float) * (nl + nh));
        s->d_out_cap = s->d_out ? nl + nh : 0;
        T5G_CHECK(s->d_out, "out of device memory for %zu output floats; use a smaller batch", nl + nh);
    }
    float *out = m->host_memory ? (hidden ? hidden : s->h) : (hidden ? s->d_out + nl : s->h);
    float *lg = m->host_memory ? logits : s->d_out;
    m->be->rmsnorm(m->be->ctx, src, D->norm, out, nout, H, c->rms_norm_eps); /* row-wise: in place on h is fine */
    if (logits) {
        /* tied LM head: logits = dec_out · E_decᵀ over this rank's vocab rows, then soft-cap */
        const t5g_wmat *LM = &E->embed_tokens;
        if (c->final_logit_softcapping > 0 && m->be->linear_softcap) /* one pass over the logits */
            m->be->linear_softcap(m->be->ctx, out, nout, LM->cols, LM, lg, LM->rows, c->final_logit_softcapping);
        else {
            linear(m, out, nout, LM, lg);
            if (c->final_logit_softcapping > 0) m->be->softcap(m->be->ctx, lg, nl, c->final_logit_softcapping);
        }
    }
    if (!m->host_memory) {
        if (logits) m->be->copy(m->be->ctx, logits, lg, sizeof(float) * nl, T5G_COPY_D2H);
        if (hidden) m->be->copy(m->be->ctx, hidden, out, sizeof(float) * nh, T5G_COPY_D2H);
    }
    return m->be->sync(m->be->ctx); /* any op's failure since the last sync (backend.h) */
}

int t5g_select_rows(t5g_state *s, const int *rows, int n) {
    T5G_CHECK(s && rows, "t5g_select_rows: NULL argument");
    T5G_CHECK(n > 0 && n <= s->B_cap, "cannot keep %d decoder rows (capacity %d)", n, s->B_cap);
    const t5g_stack_weights *D = &s->m->dec;
    const t5g_backend *be = s->m->be;
    int64_t kvw = (int64_t)D->sh.nkv * D->cfg->head_dim, rowf = (int64_t)s->row_keys * kvw,
            len = (int64_t)(s->key0 + s->past) * kvw;
    int identity = n == s->B_dec;
    for (int i = 0; i < n; i++) {
        T5G_CHECK(rows[i] >= 0 && rows[i] < s->B_dec, "row %d is not a live decoder row", rows[i]);
        identity &= rows[i] == i;
    }
    if (identity) return 0;
    /* gather through preallocated scratch so repeats and permutations are safe (no per-step malloc) */
    for (int i = 0; i < n; i++) {
        s->perm_rows[i] = s->cross_row[rows[i]];
        memcpy(s->perm_valid + (int64_t)i * s->Tmax, s->dec_valid + (int64_t)rows[i] * s->Tmax, s->Tmax);
    }
    /* rows that keep their place (most beams, every row before the first finished one) are not
     * touched: only the moved rows' sources go through the scratch */
    for (int l = 0; l < D->cfg->num_hidden_layers; l++) {
        float *caches[2] = {s->self_k[l], s->self_v[l]};
        for (int w = 0; w < 2; w++) {
            for (int i = 0; i < n; i++)
                if (rows[i] != i)
                    be->copy(be->ctx, s->perm + i * len, caches[w] + rows[i] * rowf, sizeof(float) * len, T5G_COPY_D2D);
            for (int i = 0; i < n; i++)
                if (rows[i] != i)
                    be->copy(be->ctx, caches[w] + i * rowf, s->perm + i * len, sizeof(float) * len, T5G_COPY_D2D);
        }
    }
    memcpy(s->cross_row, s->perm_rows, sizeof(int) * n);
    memcpy(s->dec_valid, s->perm_valid, (size_t)n * s->Tmax);
    s->B_dec = n;
    return 0;
}
