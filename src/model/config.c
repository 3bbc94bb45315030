/* config.c - T5Gemma config: HF JSON in/out, presets, validation, tensor list.
 * Field names and defaults follow HF T5GemmaModuleConfig / T5GemmaConfig. */
#include "model/config.h"
#include "core/json.h"
#include "core/err.h"
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* indexed by t5g_position_encoding */
static const char *const POSITION_NAMES[] = {"rope", "t5_relative_bias", "none"};
_Static_assert(sizeof POSITION_NAMES / sizeof POSITION_NAMES[0] == T5G_POS_COUNT, "one name per position encoding");

const char *t5g_position_encoding_name(t5g_position_encoding p) {
    return p >= 0 && p < T5G_POS_COUNT ? POSITION_NAMES[p] : "?";
}

/* "config WHERE.position_encoding": one of the names */
static int parse_position_encoding(const cJSON *pe, t5g_stack_config *s, const char *where) {
    for (int k = 0; k < T5G_POS_COUNT; k++)
        if (cJSON_IsString(pe) && !strcmp(pe->valuestring, POSITION_NAMES[k])) {
            s->position_encoding = (t5g_position_encoding)k;
            return 0;
        }
    char names[128] = "";
    for (int k = 0; k < T5G_POS_COUNT; k++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s\"%s\"", k ? ", " : "", POSITION_NAMES[k]);
    return T5G_FAIL("config %s.position_encoding must be one of %s", where, names);
}

/* T5GemmaModuleConfig defaults (the Gemma 2 2B shape); T5Gemma 2 starts from these too. */
void t5g_stack_defaults(t5g_stack_config *s) {
    memset(s, 0, sizeof *s);
    t5g_stack_set_shape(
        s, &(t5g_stack_shape){
               .V = 256000, .H = 2304, .I = 9216, .L = 26, .nh = 8, .nkv = 4, .hd = 256, .qpas = 256, .W = 4096});
    s->rms_norm_eps = 1e-6f;
    s->rope_theta = 10000.0f;
    s->attn_logit_softcapping = 50.0f;
    s->final_logit_softcapping = 30.0f;
    s->rel_num_buckets = 32;
    s->rel_max_distance = 128;
}

void t5g_stack_set_shape(t5g_stack_config *s, const t5g_stack_shape *sh) {
    s->vocab_size = sh->V;
    s->hidden_size = sh->H;
    s->intermediate_size = sh->I;
    s->num_hidden_layers = sh->L;
    s->num_attention_heads = sh->nh;
    s->num_key_value_heads = sh->nkv;
    s->head_dim = sh->hd;
    s->query_pre_attn_scalar = (float)sh->qpas;
    s->sliding_window = sh->W;
}

void t5g_config_gemma_tokens(t5g_config *c, int end_of_turn) {
    c->pad_token_id = 0;
    c->bos_token_id = 2;
    c->decoder_start_token_id = 2;
    c->eos_token_ids[0] = 1;
    c->eos_token_ids[1] = end_of_turn;
    c->n_eos = c->dec.vocab_size > end_of_turn ? 2 : 1;
    c->tie_word_embeddings = 1;
}

/* layer_types default: sliding for even layers, full for odd (as HF). */
static void default_layer_types(t5g_stack_config *s) {
    for (int l = 0; l < T5G_MAX_LAYERS; l++) s->layer_sliding[l] = (l % 2) == 0;
}

static int get_int(const cJSON *o, const char *key, int *dst, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return 0;
    T5G_CHECK(cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 2e9,
              "config %s.%s must be an integer", where, key);
    *dst = (int)v->valuedouble;
    return 0;
}

/* Float field; JSON null disables a soft-cap (stored as 0). */
static int get_float(const cJSON *o, const char *key, float *dst, int null_ok, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) return 0;
    if (cJSON_IsNull(v)) {
        T5G_CHECK(null_ok, "config %s.%s must be a number, not null", where, key);
        *dst = 0;
        return 0;
    }
    T5G_CHECK(cJSON_IsNumber(v), "config %s.%s must be a number", where, key);
    *dst = (float)v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *o, const char *key, int *dst, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return 0;
    T5G_CHECK(cJSON_IsBool(v), "config %s.%s must be true or false", where, key);
    *dst = cJSON_IsTrue(v);
    return 0;
}

int t5g_config_parse_stack(const cJSON *o, t5g_stack_config *s, const char *where) {
    T5G_CHECK(cJSON_IsObject(o), "config field '%s' must be an object", where);
    T5G_TRY(get_int(o, "vocab_size", &s->vocab_size, where));
    T5G_TRY(get_int(o, "hidden_size", &s->hidden_size, where));
    T5G_TRY(get_int(o, "intermediate_size", &s->intermediate_size, where));
    T5G_TRY(get_int(o, "num_hidden_layers", &s->num_hidden_layers, where));
    T5G_TRY(get_int(o, "num_attention_heads", &s->num_attention_heads, where));
    T5G_TRY(get_int(o, "num_key_value_heads", &s->num_key_value_heads, where));
    T5G_TRY(get_int(o, "head_dim", &s->head_dim, where));
    T5G_TRY(get_float(o, "query_pre_attn_scalar", &s->query_pre_attn_scalar, 0, where));
    T5G_TRY(get_float(o, "rms_norm_eps", &s->rms_norm_eps, 0, where));
    T5G_TRY(get_float(o, "rope_theta", &s->rope_theta, 0, where));
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(o, "rope_parameters"); /* transformers v5 */
    if (cJSON_IsObject(rp)) {
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(rp, "rope_type");
        T5G_CHECK(!cJSON_IsString(rt) || !strcmp(rt->valuestring, "default"),
                  "config %s.rope_parameters.rope_type '%s' is not supported (only default RoPE)", where,
                  rt->valuestring);
        T5G_TRY(get_float(rp, "rope_theta", &s->rope_theta, 0, where));
    }
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "rope_scaling");
    T5G_CHECK(!rs || cJSON_IsNull(rs), "config %s.rope_scaling is not supported (only default RoPE)", where);
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(o, "sliding_window");
    if (sw && cJSON_IsNull(sw)) s->sliding_window = 0; /* null: no window at all */
    else T5G_TRY(get_int(o, "sliding_window", &s->sliding_window, where));
    T5G_TRY(get_float(o, "attn_logit_softcapping", &s->attn_logit_softcapping, 1, where));
    T5G_TRY(get_float(o, "final_logit_softcapping", &s->final_logit_softcapping, 1, where));
    T5G_TRY(get_int(o, "cross_attention_hidden_size", &s->cross_attention_hidden_size, where));
    T5G_TRY(get_bool(o, "qk_norm", &s->qk_norm, where));
    T5G_TRY(get_int(o, "relative_attention_num_buckets", &s->rel_num_buckets, where));
    T5G_TRY(get_int(o, "relative_attention_max_distance", &s->rel_max_distance, where));
    const cJSON *pe = cJSON_GetObjectItemCaseSensitive(o, "position_encoding");
    if (pe && !cJSON_IsNull(pe)) T5G_TRY(parse_position_encoding(pe, s, where));
    const cJSON *ew = cJSON_GetObjectItemCaseSensitive(o, "encoder_window");
    if (ew && !cJSON_IsNull(ew)) {
        T5G_CHECK(cJSON_IsString(ew) && (!strcmp(ew->valuestring, "inclusive") || !strcmp(ew->valuestring, "strict")),
                  "config %s.encoder_window must be \"inclusive\" or \"strict\"", where);
        s->window_strict = !strcmp(ew->valuestring, "strict");
    }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "hidden_activation");
    T5G_CHECK(!act || cJSON_IsNull(act) ||
                  (cJSON_IsString(act) &&
                   (!strcmp(act->valuestring, "gelu_pytorch_tanh") || !strcmp(act->valuestring, "gelu_approximate"))),
              "config %s.hidden_activation must be gelu_pytorch_tanh", where);
    const cJSON *ab = cJSON_GetObjectItemCaseSensitive(o, "attention_bias");
    T5G_CHECK(!ab || !cJSON_IsTrue(ab), "config %s.attention_bias=true is not supported", where);
    default_layer_types(s);
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(o, "layer_types");
    if (lt && !cJSON_IsNull(lt)) {
        T5G_CHECK(cJSON_IsArray(lt), "config %s.layer_types must be a list", where);
        int n = cJSON_GetArraySize(lt);
        T5G_CHECK(n == s->num_hidden_layers, "config %s.layer_types has %d entries but num_hidden_layers is %d", where,
                  n, s->num_hidden_layers);
        T5G_CHECK(n <= T5G_MAX_LAYERS, "config %s has %d layers; at most %d are supported", where, n, T5G_MAX_LAYERS);
        for (int l = 0; l < n; l++) {
            const cJSON *e = cJSON_GetArrayItem(lt, l);
            T5G_CHECK(cJSON_IsString(e), "config %s.layer_types[%d] must be a string", where, l);
            if (!strcmp(e->valuestring, "sliding_attention")) s->layer_sliding[l] = 1;
            else if (!strcmp(e->valuestring, "full_attention")) s->layer_sliding[l] = 0;
            else
                return T5G_FAIL("config %s.layer_types[%d] '%s' is unknown (sliding_attention|full_attention)", where,
                                l, e->valuestring);
        }
    }
    return 0;
}

/* Token ids may be an int or a list of ints (eos_token_id: [1, 107]). */
static int get_ids(const cJSON *o, const char *key, int *ids, int *n, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (cJSON_IsNumber(v)) {
        ids[0] = v->valueint;
        *n = 1;
        return 0;
    }
    T5G_CHECK(cJSON_IsArray(v), "config %s.%s must be an id or a list of ids", where, key);
    int k = cJSON_GetArraySize(v);
    T5G_CHECK(k >= 1 && k <= T5G_MAX_EOS, "config %s.%s must list 1..%d ids", where, key, T5G_MAX_EOS);
    for (int i = 0; i < k; i++) {
        const cJSON *e = cJSON_GetArrayItem(v, i);
        T5G_CHECK(cJSON_IsNumber(e), "config %s.%s[%d] must be an integer", where, key, i);
        ids[i] = e->valueint;
    }
    *n = k;
    return 0;
}

static int parse_top(const cJSON *root, t5g_config *c) {
    T5G_CHECK(cJSON_IsObject(root), "config is not a JSON object");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (cJSON_IsString(mt) && !strcmp(mt->valuestring, "t5gemma2")) return t5g2_config_parse(root, c);
    T5G_CHECK(!mt || (cJSON_IsString(mt) && !strcmp(mt->valuestring, "t5gemma")),
              "config model_type is '%s', expected 't5gemma' (T5Gemma) or 't5gemma2' (T5Gemma 2)",
              cJSON_IsString(mt) ? mt->valuestring : "?");
    c->version = 1;
    c->eoi_token_index = c->image_token_index = -1;
    t5g_stack_defaults(&c->enc);
    default_layer_types(&c->enc);
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(root, "encoder");
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    if (enc) T5G_TRY(t5g_config_parse_stack(enc, &c->enc, "encoder"));
    if (dec) {
        t5g_stack_defaults(&c->dec);
        T5G_TRY(t5g_config_parse_stack(dec, &c->dec, "decoder"));
    } else c->dec = c->enc;                                  /* HF: decoder defaults to a copy of the encoder */
    c->dec.cross_attention_hidden_size = c->enc.hidden_size; /* HF constructor overrides the file */
    c->enc.cross_attention_hidden_size = 0;
    /* special ids: top level, else the decoder's, else Gemma defaults */
    c->pad_token_id = 0;
    c->bos_token_id = 2;
    c->eos_token_ids[0] = 1;
    c->n_eos = 1;
    if (dec) {
        T5G_TRY(get_int(dec, "pad_token_id", &c->pad_token_id, "decoder"));
        T5G_TRY(get_int(dec, "bos_token_id", &c->bos_token_id, "decoder"));
        T5G_TRY(get_ids(dec, "eos_token_id", c->eos_token_ids, &c->n_eos, "decoder"));
    }
    T5G_TRY(get_int(root, "pad_token_id", &c->pad_token_id, "top level"));
    T5G_TRY(get_int(root, "bos_token_id", &c->bos_token_id, "top level"));
    T5G_TRY(get_ids(root, "eos_token_id", c->eos_token_ids, &c->n_eos, "top level"));
    c->decoder_start_token_id = c->bos_token_id; /* HF _shift_right / generate fallback */
    T5G_TRY(get_int(root, "decoder_start_token_id", &c->decoder_start_token_id, "top level"));
    c->tie_word_embeddings = 1;
    T5G_TRY(get_bool(root, "tie_word_embeddings", &c->tie_word_embeddings, "top level"));
    return 0;
}

int t5g_config_from_json(const char *json, t5g_config *c) {
    T5G_CHECK(json && c, "t5g_config_from_json: NULL argument");
    memset(c, 0, sizeof *c);
    const char *at = NULL;
    int oom;
    cJSON *root = t5g_json_parse(json, strlen(json), &at, 0, &oom, "the model config");
    if (!root) {
        if (oom) return -1;
        return T5G_FAIL("config is not valid JSON (near byte %ld); check the config.json file",
                        at ? (long)(at - json) : -1L);
    }
    int rc = parse_top(root, c);
    cJSON_Delete(root);
    if (rc) return rc;
    return t5g_config_validate(c);
}

static int validate_stack(const t5g_stack_config *s, const char *w) {
    T5G_CHECK(s->vocab_size > 0 && s->hidden_size > 0 && s->intermediate_size > 0 && s->head_dim > 0,
              "config %s: vocab_size, hidden_size, intermediate_size and head_dim must be positive", w);
    T5G_CHECK(s->num_hidden_layers > 0 && s->num_hidden_layers <= T5G_MAX_LAYERS,
              "config %s.num_hidden_layers must be 1..%d", w, T5G_MAX_LAYERS);
    T5G_CHECK(s->num_attention_heads > 0 && s->num_key_value_heads > 0 &&
                  s->num_attention_heads % s->num_key_value_heads == 0,
              "config %s: num_attention_heads (%d) must be a positive multiple of num_key_value_heads (%d)", w,
              s->num_attention_heads, s->num_key_value_heads);
    T5G_CHECK(s->head_dim % 2 == 0, "config %s.head_dim must be even for RoPE", w);
    T5G_CHECK(s->query_pre_attn_scalar > 0, "config %s.query_pre_attn_scalar must be positive", w);
    T5G_CHECK(s->rms_norm_eps > 0, "config %s.rms_norm_eps must be positive", w);
    T5G_CHECK(s->rope_theta > 0, "config %s.rope_theta must be positive", w);
    T5G_CHECK(s->sliding_window >= 0, "config %s.sliding_window must be >= 0", w);
    if (s->position_encoding == T5G_POS_T5_RELATIVE_BIAS)
        T5G_CHECK(s->rel_num_buckets >= 2 && s->rel_max_distance >= 2,
                  "config %s: relative_attention_num_buckets and _max_distance must be >= 2", w);
    return 0;
}

int t5g_config_validate(const t5g_config *c) {
    T5G_CHECK(c, "no config");
    T5G_TRY(validate_stack(&c->enc, "encoder"));
    T5G_TRY(validate_stack(&c->dec, "decoder"));
    T5G_CHECK(c->dec.cross_attention_hidden_size == c->enc.hidden_size,
              "config decoder.cross_attention_hidden_size must equal encoder.hidden_size");
    T5G_CHECK(c->n_eos >= 1, "config needs at least one eos_token_id");
    int V = c->dec.vocab_size;
    for (int i = 0; i < c->n_eos; i++)
        T5G_CHECK(c->eos_token_ids[i] >= 0 && c->eos_token_ids[i] < V,
                  "config eos_token_id %d is outside the vocabulary (%d)", c->eos_token_ids[i], V);
    T5G_CHECK(c->pad_token_id >= 0 && c->pad_token_id < c->enc.vocab_size,
              "config pad_token_id is outside the vocabulary");
    T5G_CHECK(c->decoder_start_token_id >= 0 && c->decoder_start_token_id < V,
              "config decoder_start_token_id is outside the vocabulary");
    return c->version == 2 ? t5g2_config_validate(c) : 0;
}

cJSON *t5g_config_stack_to_json(const t5g_stack_config *s, int is_decoder) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model_type", "t5_gemma_module");
    cJSON_AddNumberToObject(o, "vocab_size", s->vocab_size);
    cJSON_AddNumberToObject(o, "hidden_size", s->hidden_size);
    cJSON_AddNumberToObject(o, "intermediate_size", s->intermediate_size);
    cJSON_AddNumberToObject(o, "num_hidden_layers", s->num_hidden_layers);
    cJSON_AddNumberToObject(o, "num_attention_heads", s->num_attention_heads);
    cJSON_AddNumberToObject(o, "num_key_value_heads", s->num_key_value_heads);
    cJSON_AddNumberToObject(o, "head_dim", s->head_dim);
    cJSON_AddNumberToObject(o, "query_pre_attn_scalar", s->query_pre_attn_scalar);
    cJSON_AddNumberToObject(o, "rms_norm_eps", s->rms_norm_eps);
    cJSON_AddNumberToObject(o, "rope_theta", s->rope_theta);
    cJSON_AddNumberToObject(o, "sliding_window", s->sliding_window);
    cJSON_AddStringToObject(o, "hidden_activation", "gelu_pytorch_tanh");
    if (s->attn_logit_softcapping > 0) cJSON_AddNumberToObject(o, "attn_logit_softcapping", s->attn_logit_softcapping);
    else cJSON_AddNullToObject(o, "attn_logit_softcapping");
    if (s->final_logit_softcapping > 0)
        cJSON_AddNumberToObject(o, "final_logit_softcapping", s->final_logit_softcapping);
    else cJSON_AddNullToObject(o, "final_logit_softcapping");
    cJSON_AddBoolToObject(o, "is_decoder", is_decoder);
    if (is_decoder) cJSON_AddNumberToObject(o, "cross_attention_hidden_size", s->cross_attention_hidden_size);
    cJSON *lt = cJSON_AddArrayToObject(o, "layer_types");
    for (int l = 0; l < s->num_hidden_layers; l++)
        cJSON_AddItemToArray(lt, cJSON_CreateString(s->layer_sliding[l] ? "sliding_attention" : "full_attention"));
    cJSON_AddBoolToObject(o, "qk_norm", s->qk_norm);
    cJSON_AddStringToObject(o, "position_encoding", t5g_position_encoding_name(s->position_encoding));
    cJSON_AddStringToObject(o, "encoder_window", s->window_strict ? "strict" : "inclusive");
    cJSON_AddNumberToObject(o, "relative_attention_num_buckets", s->rel_num_buckets);
    cJSON_AddNumberToObject(o, "relative_attention_max_distance", s->rel_max_distance);
    return o;
}

void t5g_config_tokens_to_json(cJSON *o, const t5g_config *c) {
    cJSON_AddNumberToObject(o, "vocab_size", c->dec.vocab_size);
    cJSON_AddNumberToObject(o, "pad_token_id", c->pad_token_id);
    cJSON_AddNumberToObject(o, "bos_token_id", c->bos_token_id);
    cJSON_AddNumberToObject(o, "decoder_start_token_id", c->decoder_start_token_id);
    cJSON *eos = cJSON_AddArrayToObject(o, "eos_token_id");
    for (int i = 0; i < c->n_eos; i++) cJSON_AddItemToArray(eos, cJSON_CreateNumber(c->eos_token_ids[i]));
}

char *t5g_config_to_json(const t5g_config *c) {
    T5G_CHECK_NULL(c, "t5g_config_to_json: NULL config");
    if (c->version == 2) return t5g2_config_to_json(c);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model_type", "t5gemma");
    cJSON_AddItemToObject(o, "encoder", t5g_config_stack_to_json(&c->enc, 0));
    cJSON_AddItemToObject(o, "decoder", t5g_config_stack_to_json(&c->dec, 1));
    t5g_config_tokens_to_json(o, c);
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tie_word_embeddings);
    cJSON_AddBoolToObject(o, "is_encoder_decoder", 1);
    char *s = t5g_json_print(o, 1, "the model config");
    cJSON_Delete(o);
    return s;
}
