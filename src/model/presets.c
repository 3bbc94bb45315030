/* presets.c - named model shapes (the released v1 shapes, the brief's sizes, tiny
 * test shapes) and the checkpoint tensor list / exact parameter count. */
#include "model/config.h"
#include "core/err.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;                      /* our name; KerasHub spelling (underscores) is accepted too */
    int H, I, L, nh, nkv, hd, qpas;        /* encoder */
    int dH, dI, dL, dnh, dnkv, dhd, dqpas; /* decoder; 0 = same as encoder */
    int V, W;
} preset;

static const preset PRESETS[] = {
    /* released T5Gemma v1 (HF ids google/t5gemma-<x>-*); l-l and xl-xl head splits inferred from
     * their widths (README.md, "Presets") */
    {"t5gemma-s-s", 512, 1024, 8, 8, 8, 64, 64, 0, 0, 0, 0, 0, 0, 0, 256000, 4096},
    {"t5gemma-b-b", 768, 2048, 12, 12, 12, 64, 64, 0, 0, 0, 0, 0, 0, 0, 256000, 4096},
    {"t5gemma-l-l", 1024, 2816, 24, 16, 16, 64, 64, 0, 0, 0, 0, 0, 0, 0, 256000, 4096},
    {"t5gemma-ml-ml", 1152, 6912, 26, 4, 4, 256, 256, 0, 0, 0, 0, 0, 0, 0, 256000, 4096},
    {"t5gemma-xl-xl", 2048, 5120, 24, 32, 32, 64, 64, 0, 0, 0, 0, 0, 0, 0, 256000, 4096},
    {"t5gemma-2b-2b", 2304, 9216, 26, 8, 4, 256, 256, 0, 0, 0, 0, 0, 0, 0, 256000, 4096},
    {"t5gemma-9b-9b", 3584, 14336, 42, 16, 8, 256, 256, 0, 0, 0, 0, 0, 0, 0, 256000, 4096},
    {"t5gemma-9b-2b", 3584, 14336, 42, 16, 8, 256, 256, 2304, 9216, 26, 8, 4, 256, 256, 256000, 4096},
    /* the project brief's size tables (README.md): MHA, head_dim 128, layers per stack */
    {"t5gemma_2b", 2048, 8192, 24, 16, 16, 128, 128, 0, 0, 0, 0, 0, 0, 0, 256000, 4096},
    {"t5gemma_7b", 4096, 16384, 32, 32, 32, 128, 128, 0, 0, 0, 0, 0, 0, 0, 256000, 4096},
    {"t5gemma_27b", 6144, 24576, 40, 48, 48, 128, 128, 0, 0, 0, 0, 0, 0, 0, 256000, 4096},
    /* tiny shapes for tests and benchmarks (GQA, qpas != hd, nh*hd != H, short window) */
    {"tiny", 64, 128, 2, 4, 2, 24, 32, 0, 0, 0, 0, 0, 0, 0, 512, 8},
    {"tiny-unbalanced", 96, 192, 3, 4, 2, 16, 16, 64, 128, 2, 4, 4, 16, 16, 512, 8},
};
#define N_PRESETS (int)(sizeof PRESETS / sizeof PRESETS[0])

const char *t5g_config_preset_names(void) {
    static char buf[1024];
    if (!buf[0])
        for (int i = 0; i < N_PRESETS; i++)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? ", " : "", PRESETS[i].name);
    if (!strstr(buf, t5g2_config_preset_names()))
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ", %s", t5g2_config_preset_names());
    return buf;
}

/* "t5gemma_s_s" (KerasHub) and "t5gemma-s-s" name the same preset; brief names keep '_'. */
static int name_matches(const char *want, const char *have) {
    if (!strcmp(want, have)) return 1;
    if (strlen(want) != strlen(have) || strncmp(have, "t5gemma-", 8)) return 0;
    for (size_t i = 0; want[i]; i++) {
        char a = want[i] == '_' ? '-' : want[i];
        if (a != have[i]) return 0;
    }
    return 1;
}

static void fill_stack(t5g_stack_config *s, const t5g_stack_shape *sh) {
    t5g_stack_defaults(s);
    t5g_stack_set_shape(s, sh);
    for (int l = 0; l < T5G_MAX_LAYERS; l++) s->layer_sliding[l] = (l % 2) == 0;
}

int t5g_config_preset(const char *name, t5g_config *c) {
    T5G_CHECK(name && c, "no preset name given");
    for (int i = 0; i < N_PRESETS; i++) {
        const preset *p = &PRESETS[i];
        if (!name_matches(name, p->name)) continue;
        memset(c, 0, sizeof *c);
        fill_stack(&c->enc, &(t5g_stack_shape){p->V, p->H, p->I, p->L, p->nh, p->nkv, p->hd, p->qpas, p->W});
        if (p->dH)
            fill_stack(&c->dec, &(t5g_stack_shape){p->V, p->dH, p->dI, p->dL, p->dnh, p->dnkv, p->dhd, p->dqpas, p->W});
        else c->dec = c->enc;
        c->dec.cross_attention_hidden_size = c->enc.hidden_size;
        t5g_config_gemma_tokens(c, 107); /* <end_of_turn> of the Gemma vocabulary */
        c->version = 1;
        c->eoi_token_index = c->image_token_index = -1;
        return 0;
    }
    int rc2 = t5g2_config_preset(name, c);
    if (rc2 <= 0) return rc2;
    return T5G_FAIL("unknown preset '%s'; known presets: %s", name, t5g_config_preset_names());
}

/* Append one tensor spec. */
static void add(t5g_tensor_spec *v, int *n, int64_t r, int64_t cols, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void add(t5g_tensor_spec *v, int *n, int64_t r, int64_t cols, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v[*n].name, sizeof v[*n].name, fmt, ap);
    va_end(ap);
    v[*n].ndim = cols ? 2 : 1;
    v[*n].shape[0] = r;
    v[*n].shape[1] = cols ? cols : 1;
    (*n)++;
}

/* q/k/v/o (+ optional q_norm/k_norm) of one attention module; kv_in = width k/v read from. */
static void add_attn(t5g_tensor_spec *v, int *n, const char *pfx, const t5g_stack_config *s, int kv_in, int qk_norm) {
    int64_t H = s->hidden_size, q = (int64_t)s->num_attention_heads * s->head_dim,
            kv = (int64_t)s->num_key_value_heads * s->head_dim;
    add(v, n, q, H, "%s/q_proj/weight", pfx);
    add(v, n, kv, kv_in, "%s/k_proj/weight", pfx);
    add(v, n, kv, kv_in, "%s/v_proj/weight", pfx);
    add(v, n, H, q, "%s/o_proj/weight", pfx);
    if (qk_norm) {
        add(v, n, s->head_dim, 0, "%s/q_norm/weight", pfx);
        add(v, n, s->head_dim, 0, "%s/k_norm/weight", pfx);
    }
}

static void add_stack(t5g_tensor_spec *v, int *n, const char *which, const t5g_stack_config *s, int enc_H) {
    int64_t H = s->hidden_size, I = s->intermediate_size;
    int dec = enc_H > 0;
    add(v, n, s->vocab_size, H, "model/%s/embed_tokens/weight", which);
    if (s->position_encoding == T5G_POS_T5_RELATIVE_BIAS)
        add(v, n, s->rel_num_buckets, s->num_attention_heads, "model/%s/relative_attention_bias/weight", which);
    for (int l = 0; l < s->num_hidden_layers; l++) {
        char pfx[96];
        snprintf(pfx, sizeof pfx, "model/%s/layers/%d/self_attn", which, l);
        add_attn(v, n, pfx, s, (int)H, s->qk_norm);
        if (dec) {
            snprintf(pfx, sizeof pfx, "model/%s/layers/%d/cross_attn", which, l);
            add_attn(v, n, pfx, s, enc_H, 0);
        }
        add(v, n, I, H, "model/%s/layers/%d/mlp/gate_proj/weight", which, l);
        add(v, n, I, H, "model/%s/layers/%d/mlp/up_proj/weight", which, l);
        add(v, n, H, I, "model/%s/layers/%d/mlp/down_proj/weight", which, l);
        static const char *norms[] = {"pre_self_attn_layernorm",   "post_self_attn_layernorm",
                                      "pre_cross_attn_layernorm",  "post_cross_attn_layernorm",
                                      "pre_feedforward_layernorm", "post_feedforward_layernorm"};
        for (int k = 0; k < 6; k++) {
            if (!dec && (k == 2 || k == 3)) continue;
            add(v, n, H, 0, "model/%s/layers/%d/%s/weight", which, l, norms[k]);
        }
    }
    add(v, n, H, 0, "model/%s/norm/weight", which);
}

/* T5Gemma 2 (docs/model.md): one embedding (the encoder's, with the eoi row) shared by the decoder
 * and the LM head; q_norm/k_norm everywhere; no cross-attention modules (the decoder's self_attn
 * k/v projections also read the encoder output). */
static void add_stack_v2(t5g_tensor_spec *v, int *n, const char *which, const t5g_stack_config *s, int is_encoder) {
    int64_t H = s->hidden_size, I = s->intermediate_size;
    if (is_encoder) {
        add(v, n, s->vocab_size, H, "model/%s/embed_tokens/weight", which);
        add(v, n, H, 0, "model/%s/embed_tokens/eoi_embedding", which);
    }
    static const char *norms[] = {"pre_self_attn_layernorm", "post_self_attn_layernorm", "pre_feedforward_layernorm",
                                  "post_feedforward_layernorm"};
    for (int l = 0; l < s->num_hidden_layers; l++) {
        char pfx[96];
        snprintf(pfx, sizeof pfx, "model/%s/layers/%d/self_attn", which, l);
        add_attn(v, n, pfx, s, (int)H, 1);
        add(v, n, I, H, "model/%s/layers/%d/mlp/gate_proj/weight", which, l);
        add(v, n, I, H, "model/%s/layers/%d/mlp/up_proj/weight", which, l);
        add(v, n, H, I, "model/%s/layers/%d/mlp/down_proj/weight", which, l);
        for (int k = 0; k < 4; k++) add(v, n, H, 0, "model/%s/layers/%d/%s/weight", which, l, norms[k]);
    }
    add(v, n, H, 0, "model/%s/norm/weight", which);
}

int t5g_config_tensors(const t5g_config *c, t5g_tensor_spec **specs, int *n) {
    T5G_CHECK(c && specs && n, "t5g_config_tensors: NULL argument");
    int cap = 8 + 20 * (c->enc.num_hidden_layers + c->dec.num_hidden_layers);
    t5g_tensor_spec *v = t5g_calloc((size_t)cap, sizeof *v, "tensor list");
    if (!v) return -1;
    *n = 0;
    if (c->version == 2) {
        add_stack_v2(v, n, "encoder", &c->enc, 1);
        add_stack_v2(v, n, "decoder", &c->dec, 0);
        *specs = v;
        return 0;
    }
    add_stack(v, n, "encoder", &c->enc, 0);
    add_stack(v, n, "decoder", &c->dec, c->enc.hidden_size);
    *specs = v;
    return 0;
}

int64_t t5g_config_param_count(const t5g_config *c) {
    t5g_tensor_spec *v;
    int n;
    if (!c || t5g_config_tensors(c, &v, &n)) return -1;
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += v[i].shape[0] * v[i].shape[1];
    free(v);
    return total;
}
