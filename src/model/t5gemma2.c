/* t5gemma2.c - T5Gemma 2's decoder attention (docs/model.md "T5Gemma 2").
 *
 * The decoder attends in ONE softmax over [its own keys; the encoder's keys]; both come from the
 * layer's self_attn k_proj/v_proj (+ k_norm), the decoder keys with RoPE, the encoder keys without.
 * Each decoder cache row holds [Le encoder keys | Tmax decoder keys] (key0 = Le), so the existing
 * attention op sees one contiguous key buffer per row.  Which keys a query may see (causal, sliding
 * window on the decoder keys only, padding on both) is written into a per-query key mask, and the
 * op runs with the plain bidirectional rule: a masked score becomes -inf, exp() = 0 exactly, as
 * HF's finfo.min mask does.  Under tensor parallelism every rank holds its own kv heads of the same
 * layout; masks are identical on all ranks. */
#include "model/t5gemma2.h"
#include "core/err.h"
#include <stdlib.h>
#include <string.h>

float t5g_rope_theta(const t5g_stack_config *c, int layer) {
    return c->layer_sliding[layer] && c->rope_local_theta > 0 ? c->rope_local_theta : c->rope_theta;
}

int t5g_rope(const t5g_model *m, const t5g_stack_config *c, int layer, float *x, int T, int ld, int nheads, int Tq,
             int pos0) {
    float theta = t5g_rope_theta(c, layer);
    float factor = c->layer_sliding[layer] ? c->rope_local_factor : c->rope_factor;
    if (factor <= 0) {
        m->be->rope(m->be->ctx, x, T, ld, nheads, c->head_dim, Tq, pos0, theta);
        return 0;
    }
    T5G_CHECK(m->be->rope_scaled,
              "linear RoPE scaling (rope_type linear) is not implemented on the %s backend; use "
              "--device cpu",
              m->be->name);
    m->be->rope_scaled(m->be->ctx, x, T, ld, nheads, c->head_dim, Tq, pos0, theta, factor);
    return 0;
}

int64_t t5g2_mask_bytes(int B_cap, int Le, int Tmax) {
    return 2 * (int64_t)B_cap * (Le + Tmax);
}

/* Grow the host and backend mask buffers to n bytes (only when a step needs more). */
static int mask_reserve(t5g_state *s, size_t n) {
    if (n <= s->mvalid_cap) return 0;
    const t5g_backend *be = s->m->be;
    unsigned char *h = realloc(s->mvalid, n);
    T5G_CHECK(h, "out of memory for %zu bytes of attention masks; use a smaller batch", n);
    s->mvalid = h;
    if (s->d_mvalid) be->release(be->ctx, s->d_mvalid);
    s->d_mvalid = be->alloc(be->ctx, n);
    s->mvalid_cap = s->d_mvalid ? n : 0;
    T5G_CHECK(s->d_mvalid, "out of backend memory for %zu bytes of attention masks; use a smaller batch", n);
    return 0;
}

int t5g2_state_init(t5g_state *s) {
    const t5g_config *c = &s->m->cfg;
    T5G_CHECK(s->m->be->rope_scaled || (c->enc.rope_factor <= 0 && c->enc.rope_local_factor <= 0 &&
                                        c->dec.rope_factor <= 0 && c->dec.rope_local_factor <= 0),
              "linear RoPE scaling (rope_type linear) is not implemented on the %s backend; use --device cpu",
              s->m->be->name);
    return mask_reserve(s, (size_t)t5g2_mask_bytes(s->B_cap, s->Le, s->Tmax));
}

void t5g2_state_release(t5g_state *s) {
    free(s->mvalid);
    if (s->d_mvalid) s->m->be->release(s->m->be->ctx, s->d_mvalid);
    s->mvalid = s->d_mvalid = NULL;
    s->mvalid_cap = 0;
}

void t5g2_embed_eoi(const t5g_model *m, const t5g_stack_weights *sw, const int32_t *ids, int T, float *x) {
    int H = sw->cfg->hidden_size, eoi = m->cfg.eoi_token_index;
    for (int t = 0; t < T; t++)
        if (ids[t] == eoi)
            m->be->copy(m->be->ctx, x + (int64_t)t * H, sw->eoi_embedding, sizeof(float) * H, T5G_COPY_D2D);
}

int t5g2_check_text_only(const t5g_model *m, const int32_t *ids, int64_t T) {
    int img = m->cfg.image_token_index;
    for (int64_t t = 0; t < T && img >= 0; t++)
        T5G_CHECK(ids[t] != img,
                  "encoder input holds the image token %d (at flat position %lld): T5Gemma 2 image "
                  "inputs are not supported, t5g runs the text model only; remove image placeholders",
                  img, (long long)t);
    return 0;
}

void t5g2_cross_kv(t5g_state *s, int l) {
    const t5g_model *m = s->m;
    const t5g_stack_config *c = m->dec.cfg;
    const t5g_attn_weights *A = &m->dec.layers[l].self_attn;
    int T = s->B_enc * s->Le;
    m->be->linear(m->be->ctx, s->enc_out, T, A->k_proj.cols, &A->k_proj, s->cross_k[l], A->k_proj.rows);
    m->be->linear(m->be->ctx, s->enc_out, T, A->v_proj.cols, &A->v_proj, s->cross_v[l], A->v_proj.rows);
    m->be->rmsnorm(m->be->ctx, s->cross_k[l], A->k_norm, s->cross_k[l], T * m->dec.sh.nkv, c->head_dim,
                   c->rms_norm_eps);
}

int t5g2_fill_rows(t5g_state *s) {
    const t5g_model *m = s->m;
    int64_t kvw = (int64_t)m->dec.sh.nkv * m->dec.cfg->head_dim, n = (int64_t)s->Le * kvw;
    for (int l = 0; l < m->dec.cfg->num_hidden_layers; l++)
        for (int b = 0; b < s->B_dec; b++) {
            int64_t dst = (int64_t)b * s->row_keys * kvw, src = (int64_t)s->cross_row[b] * n;
            m->be->copy(m->be->ctx, s->self_k[l] + dst, s->cross_k[l] + src, sizeof(float) * n, T5G_COPY_D2D);
            m->be->copy(m->be->ctx, s->self_v[l] + dst, s->cross_v[l] + src, sizeof(float) * n, T5G_COPY_D2D);
        }
    return 0;
}

/* Layout: [type: 0 full, 1 sliding][row b][query i][key j < Lk], Lk = Le + past + Tq. */
int t5g2_decode_masks(t5g_state *s, int Tq) {
    const t5g_stack_config *c = s->m->dec.cfg;
    int rows = s->B_dec, Le = s->Le, past = s->past, W = c->sliding_window;
    int64_t Lk = (int64_t)Le + past + Tq, per = (int64_t)rows * Tq * Lk;
    T5G_TRY(mask_reserve(s, (size_t)(2 * per)));
    for (int b = 0; b < rows; b++) {
        const unsigned char *ev = s->enc_valid + (int64_t)s->cross_row[b] * Le;
        const unsigned char *dv = s->dec_valid + (int64_t)b * s->Tmax;
        for (int i = 0; i < Tq; i++) {
            unsigned char *full = s->mvalid + ((int64_t)b * Tq + i) * Lk, *slide = full + per;
            int p = past + i; /* absolute position of this query */
            memcpy(full, ev, (size_t)Le);
            memcpy(slide, ev, (size_t)Le); /* encoder keys: padding only, never windowed */
            for (int t = 0; t < past + Tq; t++) {
                unsigned char ok = dv[t] && t <= p;
                full[Le + t] = ok;
                slide[Le + t] = ok && (W <= 0 || t > p - W);
            }
        }
    }
    s->m->be->copy(s->m->be->ctx, s->d_mvalid, s->mvalid, (size_t)(2 * per), T5G_COPY_H2D);
    return 0;
}

/* Queries (Tq per row) against the row's [encoder; decoder] keys with the step's key masks. */
static void merged_softmax_attention(t5g_state *s, int layer, int rows, int Tq) {
    const t5g_model *m = s->m;
    const t5g_stack_weights *sw = &m->dec;
    const t5g_stack_config *c = sw->cfg;
    int qw = sw->sh.nh * c->head_dim, kvw = sw->sh.nkv * c->head_dim;
    int64_t Lk = (int64_t)s->key0 + s->past + Tq, rowkv = (int64_t)s->row_keys * kvw;
    int sliding = c->layer_sliding[layer] && c->sliding_window > 0;
    const unsigned char *mv = s->d_mvalid + (sliding ? (int64_t)rows * Tq * Lk : 0);
    t5g_attn_args a;
    t5g_attn_common(&a, sw, s->scores);
    a.Tq = 1; /* one query per call row: each query has its own key mask */
    a.Tk = (int)Lk;
    a.ldq = qw;
    a.ldk = kvw;
    a.ldv = kvw;
    a.ldo = qw;
    a.mask = T5G_MASK_BIDIR; /* causal / window / padding are all in the key mask */
    a.q_pos0 = 0;
    if (Tq == 1) { /* a generation step: row b's query against cache row b */
        a.q = s->q;
        a.out = s->att;
        a.k = s->self_k[layer];
        a.v = s->self_v[layer];
        a.key_valid = mv;
        m->be->attention_batch(m->be->ctx, &a, rows, qw, qw, rowkv, Lk, NULL);
        return;
    }
    for (int b = 0; b < rows; b++) { /* Tq queries of row b share its keys (stride 0), not its masks */
        a.q = s->q + (int64_t)b * Tq * qw;
        a.out = s->att + (int64_t)b * Tq * qw;
        a.k = s->self_k[layer] + b * rowkv;
        a.v = s->self_v[layer] + b * rowkv;
        a.key_valid = mv + (int64_t)b * Tq * Lk;
        m->be->attention_batch(m->be->ctx, &a, Tq, qw, qw, 0, Lk, NULL);
    }
}

void t5g2_merged_attention(t5g_state *s, const t5g_layer_weights *L, int layer, int rows, int Tq) {
    const t5g_model *m = s->m;
    const t5g_stack_weights *sw = &m->dec;
    const t5g_stack_config *c = sw->cfg;
    const t5g_attn_weights *A = &L->self_attn;
    int T = rows * Tq, H = c->hidden_size, hd = c->head_dim, past = s->past;
    int qw = sw->sh.nh * hd, kvw = sw->sh.nkv * hd;
    const t5g_backend *be = m->be;
    be->rmsnorm(be->ctx, s->x, L->pre_self_attn_layernorm, s->h, T, H, c->rms_norm_eps);
    be->linear(be->ctx, s->h, T, A->q_proj.cols, &A->q_proj, s->q, A->q_proj.rows);
    be->linear(be->ctx, s->h, T, A->k_proj.cols, &A->k_proj, s->k, A->k_proj.rows);
    be->linear(be->ctx, s->h, T, A->v_proj.cols, &A->v_proj, s->v, A->v_proj.rows);
    be->rmsnorm(be->ctx, s->q, A->q_norm, s->q, T * sw->sh.nh, hd, c->rms_norm_eps);
    be->rmsnorm(be->ctx, s->k, A->k_norm, s->k, T * sw->sh.nkv, hd, c->rms_norm_eps);
    t5g_rope(m, c, layer, s->q, T, qw, sw->sh.nh, Tq, past);
    t5g_rope(m, c, layer, s->k, T, kvw, sw->sh.nkv, Tq, past);
    int64_t rowkv = (int64_t)s->row_keys * kvw, at = (int64_t)(s->key0 + past) * kvw;
    for (int b = 0; b < rows; b++) { /* append this step's decoder keys after the row's encoder keys */
        be->copy(be->ctx, s->self_k[layer] + b * rowkv + at, s->k + (int64_t)b * Tq * kvw, sizeof(float) * Tq * kvw,
                 T5G_COPY_D2D);
        be->copy(be->ctx, s->self_v[layer] + b * rowkv + at, s->v + (int64_t)b * Tq * kvw, sizeof(float) * Tq * kvw,
                 T5G_COPY_D2D);
    }
    merged_softmax_attention(s, layer, rows, Tq);
    t5g_linear_rowsplit(s->m, s->att, T, &A->o_proj, s->h);
    t5g_finish_sublayer(s, c, s->h, L->post_self_attn_layernorm, s->x, T);
}
