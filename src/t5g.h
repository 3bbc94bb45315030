/* t5g.h - the public C API of the T5Gemma engine (link build/libt5g.a).
 *
 *   t5g_comm comm;  t5g_comm_self(&comm);            // or t5g_comm_init(&comm, tp) under mpirun
 *   t5g_model *m = t5g_model_load("model.h5", &comm); // weights: read-only, shareable
 *   t5g_backbone_out out = {...buffers...};
 *   t5g_backbone(m, &in, &out);                       // KerasHub-style four inputs
 *   t5g_model_free(m);
 *
 * Every function returns 0 / non-NULL on success; on failure t5g_last_error() says why. */
#ifndef T5G_H
#define T5G_H
#include "core/err.h"
#include "model/config.h"
#include "model/hf_import.h"
#include "model/model.h"
#include "model/state.h"
#include "parallel/comm.h"
#include <stdint.h>

/* The four KerasHub backbone inputs (int32, row-major). Masks: 1 = token, 0 = pad. */
typedef struct {
    int B, Le, Ld;
    const int32_t *encoder_token_ids, *encoder_padding_mask; /* [B, Le] */
    const int32_t *decoder_token_ids, *decoder_padding_mask; /* [B, Ld] */
} t5g_backbone_in;

/* Outputs; any pointer may be NULL to skip it. logits are the full vocabulary (gathered
 * over the TP group) after the final soft-cap. */
typedef struct {
    float *encoder_sequence_output; /* [B, Le, He] */
    float *decoder_sequence_output; /* [B, Ld, Hd] */
    float *logits;                  /* [B, Ld, V] */
} t5g_backbone_out;

int t5g_backbone(const t5g_model *m, const t5g_backbone_in *in, t5g_backbone_out *out);
#endif
