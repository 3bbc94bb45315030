/* config.h - T5Gemma configuration (HF field names; options and presets: docs/model.md).
 * A t5g_config is the top-level T5GemmaConfig: one t5g_stack_config for the encoder and one
 * for the decoder, plus the special token ids. */
#ifndef T5G_CONFIG_H
#define T5G_CONFIG_H
#include <stdint.h>

#define T5G_MAX_LAYERS 128
#define T5G_MAX_EOS    8

/* How attention sees token positions: rotary embeddings on q and k (Gemma), T5's bucketed
 * relative bias added to the scores, or nothing.  JSON "position_encoding": "rope" |
 * "t5_relative_bias" | "none". */
typedef enum { T5G_POS_ROPE = 0, T5G_POS_T5_RELATIVE_BIAS, T5G_POS_NONE, T5G_POS_COUNT } t5g_position_encoding;
/* Its JSON name ("rope", ...); config.c holds the one table of names. */
const char *t5g_position_encoding_name(t5g_position_encoding p);

typedef struct {
    int vocab_size;              /* V: rows of embed_tokens */
    int hidden_size;             /* H */
    int intermediate_size;       /* I: GeGLU inner width */
    int num_hidden_layers;       /* layers in this stack */
    int num_attention_heads;     /* nh */
    int num_key_value_heads;     /* nkv (nh % nkv == 0) */
    int head_dim;                /* hd, independent of H */
    float query_pre_attn_scalar; /* attention scale = qpas^-1/2 */
    float rms_norm_eps;
    float rope_theta;
    int sliding_window;                          /* W for sliding layers */
    float attn_logit_softcapping;                /* <= 0: disabled (null in JSON) */
    float final_logit_softcapping;               /* decoder only; <= 0: disabled */
    int cross_attention_hidden_size;             /* decoder: = encoder hidden size */
    unsigned char layer_sliding[T5G_MAX_LAYERS]; /* 1 = sliding_attention, 0 = full_attention */
    /* options beyond the released model (docs/model.md) */
    int qk_norm;                             /* per-head RMSNorm(1+w) on q and k before RoPE */
    t5g_position_encoding position_encoding; /* how attention sees positions (forward.c applies it) */
    int rel_num_buckets;                     /* default 32 */
    int rel_max_distance;                    /* default 128 */
    /* Encoder sliding window: transformers >= 5 allows |i-j| <= W (default, 0); the release-era
     * 4.5x code allowed |i-j| < W (1).  JSON: "encoder_window": "inclusive" | "strict". */
    int window_strict;
    /* T5Gemma 2 (docs/model.md "T5Gemma 2") */
    float rope_local_theta;               /* RoPE base of sliding layers; 0 = rope_theta (v1: one base) */
    float rope_factor, rope_local_factor; /* rope_type "linear" factor of full / sliding layers (0: none) */
    int window_split;                     /* encoder window q-(W+1)/2 < k <= q+W/2 (T5Gemma 2) */
} t5g_stack_config;

typedef struct {
    int version; /* 1 = T5Gemma (model_type t5gemma), 2 = T5Gemma 2 (t5gemma2) */
    t5g_stack_config enc, dec;
    int pad_token_id, bos_token_id, decoder_start_token_id;
    int eos_token_ids[T5G_MAX_EOS];
    int n_eos;
    int tie_word_embeddings; /* LM head = decoder embed_tokens (only 1 is supported) */
    /* T5Gemma 2: one embedding for encoder, decoder and LM head; merged decoder attention */
    int eoi_token_index;   /* rows with this id take eoi_embedding (-1: none) */
    int image_token_index; /* image placeholder id: rejected in inputs (text only; -1: none) */
} t5g_config;

/* T5Gemma 2 (config_t5g2.c): parse a T5Gemma2Config config.json root, serialize, presets. */
struct cJSON;
int t5g2_config_parse(const struct cJSON *root, t5g_config *c);
char *t5g2_config_to_json(const t5g_config *c);
int t5g2_config_preset(const char *name, t5g_config *c); /* 1 = not a T5Gemma 2 preset name */
const char *t5g2_config_preset_names(void);
int t5g2_config_validate(const t5g_config *c);
/* One clear error when the weights are of the other generation than the config (checks a telltale
 * tensor of each; names '/'-separated as in t5g_config_tensors).  where names the file or folder. */
int t5g_check_weights_version(const t5g_config *c, int (*has)(void *ctx, const char *name), void *ctx,
                              const char *where);
/* Shared by both versions (config.c): one stack's HF fields, and its JSON form. */
void t5g_stack_defaults(t5g_stack_config *s);
int t5g_config_parse_stack(const struct cJSON *o, t5g_stack_config *s, const char *where);
struct cJSON *t5g_config_stack_to_json(const t5g_stack_config *s, int is_decoder);
/* A preset's shape of one stack: vocab, hidden, intermediate, layers, heads, kv heads, head_dim,
 * query_pre_attn_scalar, sliding window.  t5g_stack_set_shape leaves every other field as it is. */
typedef struct {
    int V, H, I, L, nh, nkv, hd, qpas, W;
} t5g_stack_shape;
void t5g_stack_set_shape(t5g_stack_config *s, const t5g_stack_shape *sh);
/* The Gemma tokenizer's special ids of both versions: pad 0, bos = decoder start 2, eos 1 and
 * end_of_turn (when the vocabulary holds it); embeddings tied. */
void t5g_config_gemma_tokens(t5g_config *c, int end_of_turn);
/* "vocab_size", "pad_token_id", "bos_token_id", "decoder_start_token_id", "eos_token_id" of config.json. */
void t5g_config_tokens_to_json(struct cJSON *o, const t5g_config *c);

/* Parse an HF T5GemmaConfig config.json (top level with "encoder"/"decoder" objects; v4
 * rope_theta or v5 rope_parameters).  Applies what HF's constructor does besides reading the fields: the
 * decoder defaults to a copy of the encoder, cross_attention_hidden_size = encoder hidden size. */
int t5g_config_from_json(const char *json, t5g_config *c);
/* Serialize (HF field names, the options beyond the released model included). malloc'd string. */
char *t5g_config_to_json(const t5g_config *c);
/* Fill from a preset name (t5gemma_2b, t5gemma-2b-2b, tiny, ...); -1 with the list if unknown. */
int t5g_config_preset(const char *name, t5g_config *c);
/* Comma-separated list of preset names. */
const char *t5g_config_preset_names(void);
/* Check every field for consistency (positive sizes, nh % nkv, layer count, ...). */
int t5g_config_validate(const t5g_config *c);
/* Exact number of parameters (lm_head not counted when tied). */
int64_t t5g_config_param_count(const t5g_config *c);

/* The checkpoint's tensors in a fixed order: name (HF name with '.' -> '/'), shape. */
typedef struct {
    char name[128];
    int ndim;
    int64_t shape[2];
} t5g_tensor_spec;
/* All tensors a model with this config must contain. *specs is malloc'd. */
int t5g_config_tensors(const t5g_config *c, t5g_tensor_spec **specs, int *n);
#endif
