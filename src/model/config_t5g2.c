/* config_t5g2.c - T5Gemma 2 configuration: HF T5Gemma2Config JSON (text part) in and out,
 * validation, presets.  Numerics and field meanings: docs/model.md "T5Gemma 2". */
#include "model/config.h"
#include "core/json.h"
#include "core/err.h"
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* T5Gemma2TextConfig defaults (transformers 5.25 configuration_t5gemma2.py): v1's, except these. */
static void text_defaults(t5g_stack_config *s) {
    t5g_stack_defaults(s);
    s->vocab_size = 262208;
    s->rope_theta = 1000000.0f;     /* full_attention layers */
    s->rope_local_theta = 10000.0f; /* sliding_attention layers */
    s->attn_logit_softcapping = 0;  /* null */
    s->final_logit_softcapping = 0; /* null */
    s->qk_norm = 1;
}

/* layer_types default: every sliding_window_pattern-th layer (1-based) is full, the rest sliding. */
static void pattern_layer_types(t5g_stack_config *s, int pattern) {
    for (int l = 0; l < T5G_MAX_LAYERS; l++) s->layer_sliding[l] = pattern <= 0 || (l + 1) % pattern != 0;
}

/* One rope_parameters entry: rope_type default | linear (factor), rope_theta. */
static int parse_rope_entry(const cJSON *p, float *theta, float *factor, const char *where, const char *what) {
    T5G_CHECK(cJSON_IsObject(p), "config %s.%s must be an object", where, what);
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(p, "rope_type");
    int linear = cJSON_IsString(rt) && !strcmp(rt->valuestring, "linear");
    T5G_CHECK(!cJSON_IsString(rt) || linear || !strcmp(rt->valuestring, "default"),
              "config %s.%s.rope_type '%s' is not supported (default and linear RoPE only)", where, what,
              cJSON_IsString(rt) ? rt->valuestring : "?");
    if (linear) { /* HF: inv_freq /= factor */
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(p, "factor");
        T5G_CHECK(cJSON_IsNumber(f) && f->valuedouble >= 1.0,
                  "config %s.%s.factor must be a number >= 1 for linear RoPE", where, what);
        *factor = (float)f->valuedouble;
    }
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(p, "rope_theta");
    if (th && !cJSON_IsNull(th)) {
        T5G_CHECK(cJSON_IsNumber(th), "config %s.%s.rope_theta must be a number", where, what);
        *theta = (float)th->valuedouble;
    }
    return 0;
}

/* rope_parameters {"full_attention": {...}, "sliding_attention": {...}} (or the legacy keys). */
static int parse_rope(const cJSON *o, t5g_stack_config *s, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "rope_theta");
    if (cJSON_IsNumber(v)) s->rope_theta = (float)v->valuedouble;
    v = cJSON_GetObjectItemCaseSensitive(o, "rope_local_base_freq");
    if (cJSON_IsNumber(v)) s->rope_local_theta = (float)v->valuedouble;
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "rope_scaling"); /* legacy: full layers only */
    if (rs && !cJSON_IsNull(rs)) T5G_TRY(parse_rope_entry(rs, &s->rope_theta, &s->rope_factor, where, "rope_scaling"));
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(o, "rope_parameters");
    if (!rp || cJSON_IsNull(rp)) return 0;
    T5G_CHECK(cJSON_IsObject(rp), "config %s.rope_parameters must be an object", where);
    static const char *types[] = {"full_attention", "sliding_attention"};
    float *dst[] = {&s->rope_theta, &s->rope_local_theta}, *fac[] = {&s->rope_factor, &s->rope_local_factor};
    for (int k = 0; k < 2; k++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(rp, types[k]);
        char what[64];
        snprintf(what, sizeof what, "rope_parameters.%s", types[k]);
        if (p && !cJSON_IsNull(p)) T5G_TRY(parse_rope_entry(p, dst[k], fac[k], where, what));
    }
    return 0;
}

static int parse_text(const cJSON *o, t5g_stack_config *s, const char *where, int is_encoder) {
    T5G_CHECK(cJSON_IsObject(o), "config (model_type t5gemma2) needs an object '%s'", where);
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(o, "sliding_window_pattern");
    int pattern = cJSON_IsNumber(pat) ? pat->valueint : 6;
    text_defaults(s);
    /* the shared parser fills the HF fields; v1-only ones keep their T5Gemma 2 meaning below */
    cJSON *copy = cJSON_Duplicate(o, 1);
    T5G_CHECK(copy, "out of memory parsing the config");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "rope_parameters");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "rope_theta");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "rope_scaling");
    int rc = t5g_config_parse_stack(copy, s, where);
    cJSON_Delete(copy);
    T5G_TRY(rc);
    if (!cJSON_GetObjectItemCaseSensitive(o, "layer_types")) pattern_layer_types(s, pattern);
    T5G_TRY(parse_rope(o, s, where));
    T5G_CHECK(s->position_encoding == T5G_POS_ROPE, "config %s.position_encoding must be rope for T5Gemma 2", where);
    s->qk_norm = 1; /* always on in T5Gemma 2 */
    /* transformers' T5Gemma 2 attention never passes attn_logit_softcapping to its attention
     * function: the field is read but has no effect, so it has none here either */
    s->attn_logit_softcapping = 0;
    s->window_split = is_encoder;
    s->window_strict = 0;
    return 0;
}

static int get_id(const cJSON *o, const char *key, int *dst) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return 0;
    T5G_CHECK(cJSON_IsNumber(v), "config %s must be an integer", key);
    *dst = v->valueint;
    return 0;
}

static int get_eos(const cJSON *o, t5g_config *c, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "eos_token_id");
    if (!v || cJSON_IsNull(v)) return 0;
    if (cJSON_IsNumber(v)) {
        c->eos_token_ids[0] = v->valueint;
        c->n_eos = 1;
        return 0;
    }
    int k = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
    T5G_CHECK(k >= 1 && k <= T5G_MAX_EOS, "config %s.eos_token_id must be an id or a list of 1..%d ids", where,
              T5G_MAX_EOS);
    for (int i = 0; i < k; i++) {
        const cJSON *e = cJSON_GetArrayItem(v, i);
        T5G_CHECK(cJSON_IsNumber(e), "config %s.eos_token_id[%d] must be an integer", where, i);
        c->eos_token_ids[i] = e->valueint;
    }
    c->n_eos = k;
    return 0;
}

int t5g2_config_parse(const cJSON *root, t5g_config *c) {
    memset(c, 0, sizeof *c);
    c->version = 2;
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(root, "encoder");
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    T5G_CHECK(cJSON_IsObject(enc) && cJSON_IsObject(dec),
              "config (model_type t5gemma2) needs \"encoder\" and \"decoder\" objects");
    T5G_TRY(parse_text(cJSON_GetObjectItemCaseSensitive(enc, "text_config"), &c->enc, "encoder.text_config", 1));
    T5G_TRY(parse_text(dec, &c->dec, "decoder", 0));
    c->dec.cross_attention_hidden_size = c->enc.hidden_size;
    /* HF T5Gemma2Config: special ids from the decoder unless given at the top level */
    c->pad_token_id = 0;
    c->bos_token_id = 2;
    c->eos_token_ids[0] = 1;
    c->n_eos = 1;
    T5G_TRY(get_id(dec, "pad_token_id", &c->pad_token_id));
    T5G_TRY(get_id(dec, "bos_token_id", &c->bos_token_id));
    T5G_TRY(get_eos(dec, c, "decoder"));
    T5G_TRY(get_id(root, "pad_token_id", &c->pad_token_id));
    T5G_TRY(get_id(root, "bos_token_id", &c->bos_token_id));
    T5G_TRY(get_eos(root, c, "top level"));
    c->decoder_start_token_id = c->bos_token_id; /* generate: no decoder_start_token_id -> bos */
    T5G_TRY(get_id(root, "decoder_start_token_id", &c->decoder_start_token_id));
    /* the model reads config.eoi_token_index, which HF overwrites with encoder.eoi_token_index;
     * encoder.image_token_index is overwritten with the top-level one */
    c->eoi_token_index = 256000;
    c->image_token_index = 256001;
    T5G_TRY(get_id(root, "eoi_token_index", &c->eoi_token_index));
    T5G_TRY(get_id(enc, "eoi_token_index", &c->eoi_token_index));
    T5G_TRY(get_id(root, "image_token_index", &c->image_token_index));
    c->tie_word_embeddings = 1;
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(root, "tie_word_embeddings");
    T5G_CHECK(!cJSON_IsFalse(tie), "config tie_word_embeddings=false: T5Gemma 2 shares one embedding (untied heads are "
                                   "not supported)");
    return 0;
}

int t5g2_config_validate(const t5g_config *c) {
    T5G_CHECK(c->enc.hidden_size == c->dec.hidden_size,
              "config: T5Gemma 2 needs equal encoder and decoder hidden_size (%d vs %d)", c->enc.hidden_size,
              c->dec.hidden_size);
    T5G_CHECK(c->enc.vocab_size == c->dec.vocab_size,
              "config: T5Gemma 2 needs equal encoder and decoder vocab_size (%d vs %d)", c->enc.vocab_size,
              c->dec.vocab_size);
    T5G_CHECK(c->enc.qk_norm && c->dec.qk_norm && c->enc.position_encoding == T5G_POS_ROPE &&
                  c->dec.position_encoding == T5G_POS_ROPE,
              "config: T5Gemma 2 stacks use QK-norm and RoPE");
    T5G_CHECK(c->enc.rope_local_theta > 0 && c->dec.rope_local_theta > 0,
              "config: rope_parameters.sliding_attention.rope_theta must be positive");
    return 0;
}

static cJSON *text_to_json(const t5g_stack_config *s) {
    cJSON *o = t5g_config_stack_to_json(s, 0);
    if (!o) return NULL;
    static const char *v1_only[] = {"rope_theta",
                                    "is_decoder",
                                    "qk_norm",
                                    "position_encoding",
                                    "encoder_window",
                                    "relative_attention_num_buckets",
                                    "relative_attention_max_distance",
                                    "model_type"};
    for (size_t k = 0; k < sizeof v1_only / sizeof *v1_only; k++)
        cJSON_DeleteItemFromObjectCaseSensitive(o, v1_only[k]);
    cJSON *rp = cJSON_AddObjectToObject(o, "rope_parameters");
    cJSON *full = cJSON_AddObjectToObject(rp, "full_attention"),
          *slide = cJSON_AddObjectToObject(rp, "sliding_attention");
    cJSON_AddStringToObject(full, "rope_type", s->rope_factor > 0 ? "linear" : "default");
    cJSON_AddNumberToObject(full, "rope_theta", s->rope_theta);
    if (s->rope_factor > 0) cJSON_AddNumberToObject(full, "factor", s->rope_factor);
    cJSON_AddStringToObject(slide, "rope_type", s->rope_local_factor > 0 ? "linear" : "default");
    cJSON_AddNumberToObject(slide, "rope_theta", s->rope_local_theta);
    if (s->rope_local_factor > 0) cJSON_AddNumberToObject(slide, "factor", s->rope_local_factor);
    return o;
}

char *t5g2_config_to_json(const t5g_config *c) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model_type", "t5gemma2");
    cJSON *enc = cJSON_AddObjectToObject(o, "encoder");
    cJSON_AddStringToObject(enc, "model_type", "t5gemma2_encoder");
    cJSON_AddNumberToObject(enc, "eoi_token_index", c->eoi_token_index);
    cJSON *tc = text_to_json(&c->enc), *dc = text_to_json(&c->dec);
    if (tc) cJSON_AddStringToObject(tc, "model_type", "t5gemma2_text");
    if (dc) cJSON_AddStringToObject(dc, "model_type", "t5gemma2_decoder");
    cJSON_AddItemToObject(enc, "text_config", tc);
    cJSON_AddItemToObject(o, "decoder", dc);
    t5g_config_tokens_to_json(o, c);
    cJSON_AddNumberToObject(o, "eoi_token_index", c->eoi_token_index);
    cJSON_AddNumberToObject(o, "image_token_index", c->image_token_index);
    cJSON_AddBoolToObject(o, "tie_word_embeddings", 1);
    cJSON_AddBoolToObject(o, "is_encoder_decoder", 1);
    char *s = t5g_json_print(tc && dc ? o : NULL, 1, "the model config");
    cJSON_Delete(o);
    return s;
}

/* Released shapes.  Source: the Gemma 3 text configurations that T5Gemma 2 is adapted from (same
 * width, depth, heads and window per stack; encoder = decoder).  RoPE: the released 270m-270m
 * config.json (as printed by transformers) has linear factor 8 on the full layers although Gemma 3
 * 270M has none, so T5Gemma 2 applies it across the family; 1b-1b is set by that rule (its config
 * was not seen), 4b-4b as Gemma 3 4B.  `t5g convert` reads the real config.json, which wins. */
typedef struct {
    const char *name;
    t5g_stack_shape shape; /* encoder and decoder alike */
    float factor;          /* linear RoPE factor of the full layers, 0 = none */
} preset2;

static const preset2 PRESETS2[] = {
    {"t5gemma-2-270m-270m", {262144, 640, 2048, 18, 4, 1, 256, 256, 512}, 8.0f},
    {"t5gemma-2-1b-1b", {262144, 1152, 6912, 26, 4, 1, 256, 256, 512}, 8.0f},
    {"t5gemma-2-4b-4b", {262144, 2560, 10240, 34, 8, 4, 256, 256, 1024}, 8.0f},
    {"tiny-t5g2", {512, 64, 128, 3, 4, 2, 16, 16, 8}, 0}, /* tests and benchmarks */
};
#define N_PRESETS2 (int)(sizeof PRESETS2 / sizeof PRESETS2[0])

const char *t5g2_config_preset_names(void) {
    static char buf[256];
    if (!buf[0])
        for (int i = 0; i < N_PRESETS2; i++)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? ", " : "", PRESETS2[i].name);
    return buf;
}

int t5g2_config_preset(const char *name, t5g_config *c) {
    for (int i = 0; i < N_PRESETS2; i++) {
        const preset2 *p = &PRESETS2[i];
        if (strcmp(name, p->name)) continue;
        memset(c, 0, sizeof *c);
        c->version = 2;
        t5g_stack_config *s = &c->enc;
        text_defaults(s);
        t5g_stack_set_shape(s, &p->shape);
        s->rope_factor = p->factor;
        pattern_layer_types(s, 6);
        c->dec = c->enc;
        c->enc.window_split = 1;
        c->dec.cross_attention_hidden_size = c->enc.hidden_size;
        t5g_config_gemma_tokens(c, 106); /* <end_of_turn> of the Gemma 3 vocabulary */
        c->eoi_token_index = p->shape.V > 256000 ? 256000 : -1;
        c->image_token_index = p->shape.V > 256001 ? 256001 : -1;
        return 0;
    }
    return 1;
}

int t5g_check_weights_version(const t5g_config *c, int (*has)(void *ctx, const char *name), void *ctx,
                              const char *where) {
    static const char *v1 = "model/decoder/layers/0/cross_attn/q_proj/weight";
    static const char *v2 = "model/encoder/embed_tokens/eoi_embedding";
    if (c->version == 2 && has(ctx, v1))
        return T5G_FAIL("%s: the config is T5Gemma 2 (model_type t5gemma2) but the weights are T5Gemma (v1): they "
                        "hold %s; use the config.json that came with these weights",
                        where, v1);
    if (c->version != 2 && has(ctx, v2))
        return T5G_FAIL("%s: the config is T5Gemma (v1, model_type t5gemma) but the weights are T5Gemma 2: they "
                        "hold %s; use the config.json that came with these weights",
                        where, v2);
    return 0;
}
