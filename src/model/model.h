/* model.h - T5Gemma weights (read-only after load, one rank's slice) and the forward pass.
 * Shapes below are this rank's slice; with T = 1 they are the full HF shapes [out, in].
 * The math and the tensor-parallel split: docs/model.md. */
#ifndef T5G_MODEL_H
#define T5G_MODEL_H
#include "backend/backend.h"
#include "model/config.h"
#include "parallel/comm.h"
#include <stdint.h>

/* Which rows/columns of each tensor this rank owns, for one stack (docs/model.md, Tensor parallelism). */
typedef struct {
    int head0, nh; /* query heads [head0, head0+nh) */
    int kv0, nkv;  /* kv heads [kv0, kv0+nkv) (replicated when T is a multiple of nkv) */
    int group;     /* global nh / nkv */
    int i0, ni;    /* FFN columns [i0, i0+ni) (uneven split allowed) */
    int v0, nv;    /* vocab rows [v0, v0+nv) */
} t5g_shard;

/* Compute the slice of rank r of T; fails with a clear message for invalid layouts. */
int t5g_shard_plan(const t5g_stack_config *s, int r, int T, t5g_shard *out);

typedef struct {
    t5g_wmat q_proj; /* [nh·hd, H]     rows of the local heads */
    t5g_wmat k_proj; /* [nkv·hd, H_in] H_in = He for cross-attention */
    t5g_wmat v_proj; /* [nkv·hd, H_in] */
    t5g_wmat o_proj; /* [H, nh·hd]     columns of the local heads */
    float *q_norm;   /* [hd] optional (qk_norm) */
    float *k_norm;   /* [hd] optional */
} t5g_attn_weights;

typedef struct {
    float *pre_self_attn_layernorm, *post_self_attn_layernorm; /* [H] */
    t5g_attn_weights self_attn;
    float *pre_cross_attn_layernorm, *post_cross_attn_layernorm;   /* [H] decoder only */
    t5g_attn_weights cross_attn;                                   /* decoder only */
    float *pre_feedforward_layernorm, *post_feedforward_layernorm; /* [H] */
    t5g_wmat gate_proj, up_proj;                                   /* [ni, H] */
    t5g_wmat down_proj;                                            /* [H, ni] */
} t5g_layer_weights;

typedef struct {
    const t5g_stack_config *cfg;
    t5g_shard sh;
    t5g_wmat embed_tokens;     /* [nv, H] vocab rows v0.. (decoder's doubles as the LM head) */
    float *eoi_embedding;      /* [H] T5Gemma 2 encoder only: the row of eoi_token_index (unscaled) */
    float *rel_bias;           /* [num_buckets, nh] optional (t5_relative_bias) */
    t5g_layer_weights *layers; /* [num_hidden_layers] */
    float *norm;               /* [H] final RMSNorm */
} t5g_stack_weights;

typedef struct t5g_model {
    t5g_config cfg;
    t5g_stack_weights enc, dec;
    t5g_comm *comm; /* TP group this copy belongs to (not owned) */
    const t5g_backend *be;
    int host_memory;          /* 1: weights and state live in host memory (CPU backend) */
    int64_t weight_bytes;     /* bytes of weights held by this rank */
    int64_t bytes_read;       /* checkpoint bytes this rank read at load */
    unsigned char *spm_model; /* tokenizer bytes from the checkpoint (may be NULL) */
    size_t spm_model_len;
    int add_bos, add_eos;    /* tokenizer conventions (HF tokenizer_config; default 1 / 0) */
    float *arena;            /* one allocation for all weights */
    t5g_dtype wdtype;        /* projection and embedding matrices in memory: f32, bf16 or int8 */
    int act_bf16;            /* bf16 weights: the products round the activations to bf16 (bf16-act) */
    struct t5g_enc2d *enc2d; /* optional 2-D encoder layout (model/scalapack_layout.h); NULL: 1-D */
} t5g_model;

/* Load this rank's slice from an HDF5 checkpoint (every rank of comm->tp calls it). */
t5g_model *t5g_model_load(const char *path, t5g_comm *comm);
/* The same on a chosen backend (weights in its memory); be == NULL means CPU. */
t5g_model *t5g_model_load_on(const char *path, t5g_comm *comm, const t5g_backend *be);
/* Random weights for a config (deterministic in seed; each rank draws its own slice of the
 * same full tensors, so any TP size gives the same model). */
t5g_model *t5g_model_random(const t5g_config *cfg, uint64_t seed, t5g_comm *comm);
t5g_model *t5g_model_random_on(const t5g_config *cfg, uint64_t seed, t5g_comm *comm, const t5g_backend *be);
/* The same with the weight matrices in compute_type ("f32", "bf16", "bf16-act" or "int8"; NULL: the
 * checkpoint's storage dtype on the CPU backend, f32 elsewhere); norms stay float32.  One clear
 * error for an unknown type or one without a kernel on this backend / CPU. */
t5g_model *t5g_model_load_as(const char *path, t5g_comm *comm, const t5g_backend *be, const char *compute_type);
t5g_model *t5g_model_random_as(const t5g_config *cfg, uint64_t seed, t5g_comm *comm, const t5g_backend *be,
                               const char *compute_type);
/* 1 if checkpoint tensor `name` is a weight matrix (projection or embedding table: the tensors
 * kept in the compute type and stored as int8 in an int8 checkpoint), else 0 */
int t5g_tensor_is_matrix(const char *name);
/* "f32|float32|bf16|bfloat16|int8" -> dtype (error otherwise); dtype -> "f32|bf16|int8" */
int t5g_dtype_parse(const char *s, t5g_dtype *dt);
const char *t5g_dtype_name(t5g_dtype dt);
/* --compute-type: "f32|float32|bf16|bf16-act|int8" -> weight dtype + act_bf16 (1: bf16-act, the
 * products round the activations to bf16); "bfloat16" is refused as ambiguous (error otherwise).
 * t5g_compute_type_name is the inverse (fingerprints). */
int t5g_compute_type_parse(const char *s, t5g_dtype *dt, int *act_bf16);
const char *t5g_compute_type_name(t5g_dtype dt, int act_bf16);
void t5g_model_free(t5g_model *m);
/* Write the model (T = 1 only) to an HDF5 checkpoint; dtype "float32", "bfloat16" or "int8"
 * (int8: projections and embeddings as int8 + row scales, quantized here unless already int8). */
int t5g_model_save(t5g_model *m, const char *path, const char *dtype);
/* Weight elements held by rank r of T (and how many of them are replicated, e.g. norms). */
int t5g_weight_share(const t5g_config *cfg, int r, int T, int64_t *elems, int64_t *replicated);
/* Bytes rank r of T allocates for its weights with the matrices in dt (the arena's own sizes). */
int t5g_weight_bytes(const t5g_config *cfg, int r, int T, t5g_dtype dt, int64_t *bytes);
/* Visit every tensor of this rank: name (checkpoint name), full shape, slice, pointer. */
typedef int (*t5g_tensor_visitor)(void *ctx, const t5g_tensor_spec *full, int64_t row0, int64_t nrows, int64_t col0,
                                  int64_t ncols, float *data);
int t5g_model_visit(t5g_model *m, t5g_tensor_visitor fn, void *ctx);
#endif
