/* t5gemma2.h - the T5Gemma 2 parts of the forward pass (t5gemma2.c) and the helpers of forward.c
 * they share.  Numerics: docs/model.md "T5Gemma 2". */
#ifndef T5G_T5GEMMA2_H
#define T5G_T5GEMMA2_H
#include "model/state.h"

/* forward.c: x += RMSNorm(allreduce(partial)); attention arguments common to every call. */
void t5g_finish_sublayer(t5g_state *s, const t5g_stack_config *c, float *partial, const float *post_norm, float *x,
                         int T);
/* a row-split projection (o_proj, down_proj): int8 under TP agrees on row maxima (forward.c) */
void t5g_linear_rowsplit(const t5g_model *m, const float *x, int T, const t5g_wmat *W, float *y);
void t5g_attn_common(t5g_attn_args *a, const t5g_stack_weights *sw, float *scores);
/* self-attention on q/k/v already in s->q, s->k, s->v (this rank's heads): qk-norm, position
 * encoding, attention into s->att (also the 2-D encoder layout's, scalapack_layout.c) */
void t5g_self_attend(t5g_state *s, const t5g_stack_weights *sw, const t5g_layer_weights *L, int rows, int Tq, int past,
                     int Tcap, float *kc, float *vc, const unsigned char *valid, int is_decoder, int layer);
/* RoPE base of a layer: sliding layers use rope_local_theta when set (T5Gemma 2). */
float t5g_rope_theta(const t5g_stack_config *c, int layer);
/* RoPE of a layer in place (its base, and HF's linear scaling when the config has it). */
int t5g_rope(const t5g_model *m, const t5g_stack_config *c, int layer, float *x, int T, int ld, int nheads, int Tq,
             int pos0);

/* Bytes of the per-query key masks a state keeps for single-token steps. */
int64_t t5g2_mask_bytes(int B_cap, int Le, int Tmax);
int t5g2_state_init(t5g_state *s);
void t5g2_state_release(t5g_state *s);
/* Rows of ids equal to eoi_token_index take eoi_embedding (unscaled), as HF's embedding does. */
void t5g2_embed_eoi(const t5g_model *m, const t5g_stack_weights *sw, const int32_t *ids, int T, float *x);
/* Image placeholders in a text-only engine: one clear error. */
int t5g2_check_text_only(const t5g_model *m, const int32_t *ids, int64_t T);
/* Decoder layer l's k/v projections (k_norm on keys, no RoPE) of the encoder output. */
void t5g2_cross_kv(t5g_state *s, int l);
/* Copy each decoder row's encoder keys/values into the first Le keys of its cache row. */
int t5g2_fill_rows(t5g_state *s);
/* Key masks of this step for both layer types ([self causal/window | encoder padding]). */
int t5g2_decode_masks(t5g_state *s, int Tq);
/* One merged self+cross attention sublayer (pre-norm .. post-norm + residual). */
void t5g2_merged_attention(t5g_state *s, const t5g_layer_weights *L, int layer, int rows, int Tq);
#endif
