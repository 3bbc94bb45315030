/* hf_import.c - t5g_convert_hf: import a Hugging Face T5Gemma / T5Gemma 2 checkpoint directory
 * into our HDF5 checkpoint (docs/checkpoint.md); `t5g convert` is its command line.  Every
 * expected tensor is checked (present, shape, dtype, finite, tied copies equal) before anything is
 * written; the output appears only when the whole file is complete.  It lives with the model (not
 * in io/) because it needs the model's config and tensor list, and io/ sits below the model. */
#include "model/hf_import.h"
#include "core/json.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/progress.h"
#include "io/ckpt.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "model/model.h"
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LM_HEAD   "lm_head.out_proj.weight"
#define DEC_EMBED "model.decoder.embed_tokens.weight"
#define ENC_EMBED "model.encoder.embed_tokens.weight"

/* Tied copies a checkpoint may store: {copy, original}.  T5Gemma ties the LM head to the decoder
 * embedding; T5Gemma 2 ties the decoder embedding (with its eoi row) and the LM head to the
 * encoder's one shared embedding. */
static const char *const TIED_V1[][2] = {{LM_HEAD, DEC_EMBED}};
static const char *const TIED_V2[][2] = {
    {LM_HEAD, ENC_EMBED},
    {DEC_EMBED, ENC_EMBED},
    {"model.decoder.embed_tokens.eoi_embedding", "model.encoder.embed_tokens.eoi_embedding"}};

/* A tensor by its save_pretrained name; T5Gemma 2 encoder text tensors may also be stored under
 * "model.encoder.text_model." (the in-memory module path, which transformers accepts too). */
static const t5g_st_tensor *find_hf(const t5g_st *st, const char *name) {
    const t5g_st_tensor *t = t5g_st_find(st, name);
    if (t || strncmp(name, "model.encoder.", 14)) return t;
    char alt[200];
    snprintf(alt, sizeof alt, "model.encoder.text_model.%s", name + 14);
    return t5g_st_find(st, alt);
}

/* T5Gemma 2's vision tower and projector: not converted (t5g runs the text model). */
static int is_vision(const char *name) {
    return !strncmp(name, "model.encoder.vision_tower.", 27) ||
           !strncmp(name, "model.encoder.multi_modal_projector.", 36);
}

/* Parse DIR/NAME as JSON; 1 when the file does not exist (optional files). */
static int read_json(const char *dir, const char *name, cJSON **out) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *out = NULL;
    if (access(path, F_OK) != 0) return 1;
    size_t len;
    char *txt = t5g_read_file(path, &len);
    if (!txt) return -1;
    const char *end = NULL;
    int oom;
    *out = t5g_json_parse(txt, len, &end, 0, &oom, path);
    long at = end ? (long)(end - txt) : -1L;
    free(txt);
    if (oom) return -1;
    T5G_CHECK(*out, "%s is not valid JSON (near byte %ld)", path, at);
    return 0;
}

/* generation_config.json (what HF generate uses) overrides the config's special ids. */
static int apply_generation_config(const char *dir, t5g_config *c) {
    cJSON *g;
    int rc = read_json(dir, "generation_config.json", &g);
    if (rc) return rc < 0 ? -1 : 0;
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(g, "eos_token_id");
    if (cJSON_IsNumber(eos)) {
        c->eos_token_ids[0] = eos->valueint;
        c->n_eos = 1;
    } else if (cJSON_IsArray(eos) && cJSON_GetArraySize(eos) >= 1 && cJSON_GetArraySize(eos) <= T5G_MAX_EOS) {
        c->n_eos = 0;
        for (const cJSON *e = eos->child; e; e = e->next)
            if (cJSON_IsNumber(e)) c->eos_token_ids[c->n_eos++] = e->valueint;
        if (!c->n_eos) rc = T5G_FAIL("%s/generation_config.json: eos_token_id lists no integers", dir);
    }
    const char *keys[] = {"decoder_start_token_id", "bos_token_id", "pad_token_id"};
    int *dst[] = {&c->decoder_start_token_id, &c->bos_token_id, &c->pad_token_id};
    for (int k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, keys[k]);
        if (cJSON_IsNumber(v)) *dst[k] = v->valueint;
    }
    cJSON_Delete(g);
    return rc ? rc : t5g_config_validate(c);
}

static int load_config(const char *dir, t5g_config *c) {
    struct stat sb;
    T5G_CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode),
              "--hf %s is not a directory (give the folder that holds "
              "config.json and the .safetensors files)",
              dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *txt = t5g_read_file(path, NULL);
    if (!txt) return -1;
    int rc = t5g_config_from_json(txt, c);
    free(txt);
    if (rc) {
        char msg[900];
        snprintf(msg, sizeof msg, "%s", t5g_last_error());
        return T5G_FAIL("%s: %s", path, msg);
    }
    return apply_generation_config(dir, c);
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static void hf_name(const char *ours, char *hf, size_t n) {
    snprintf(hf, n, "%s", ours);
    for (char *p = hf; *p; p++)
        if (*p == '/') *p = '.';
}

/* Every expected tensor present with the right shape and a readable dtype; nothing else but a
 * tied lm_head.  *all_bf16 = 1 when every expected tensor is stored as BF16. */
static int check_tensors(t5g_st *st, const char *dir, const t5g_config *c, const t5g_tensor_spec *sp, int n,
                         int *all_bf16, int *n_vision) {
    int nst = t5g_st_count(st);
    char *used = t5g_calloc((size_t)nst + 1, 1, "tensor marks");
    if (!used) return -1;
    const t5g_st_tensor *first = t5g_st_get(st, 0);
    int rc = 0;
    *all_bf16 = 1;
    for (int i = 0; i < n && !rc; i++) {
        char name[160];
        hf_name(sp[i].name, name, sizeof name);
        const t5g_st_tensor *t = find_hf(st, name);
        char want[64], got[200];
        shape_str(want, sizeof want, sp[i].ndim, sp[i].shape);
        if (!t) {
            rc = T5G_FAIL("%s lacks tensor %s (config.json implies shape %s); is config.json the one of these weights?",
                          dir, name, want);
            break;
        }
        used[t - first] = 1;
        int same = t->ndim == sp[i].ndim && t->shape[0] == sp[i].shape[0] &&
                   (sp[i].ndim == 1 || t->shape[1] == sp[i].shape[1]);
        if (!same) {
            shape_str(got, sizeof got, t->ndim, t->shape);
            rc =
                T5G_FAIL("%s: tensor %s has shape %s, but config.json implies %s", t5g_st_file(st, t), name, got, want);
        } else if (t->dtype == T5G_ST_OTHER) {
            rc = T5G_FAIL("%s: tensor %s has dtype %s; t5g converts only F32, F16 and BF16 weights", t5g_st_file(st, t),
                          name, t->dtype_name);
        }
        if (t->dtype != T5G_ST_BF16) *all_bf16 = 0;
    }
    /* anything left over (besides tied copies, checked later, and T5Gemma 2's vision part) is unknown */
    int v2 = c->version == 2, ntied = v2 ? 3 : 1;
    for (int k = 0; k < ntied; k++) {
        const t5g_st_tensor *lm = find_hf(st, v2 ? TIED_V2[k][0] : TIED_V1[k][0]);
        if (lm) used[lm - first] = 1;
    }
    char list[600] = "";
    int unknown = 0;
    *n_vision = 0;
    for (int i = 0; i < nst && !rc; i++) {
        if (used[i]) continue;
        if (v2 && is_vision(t5g_st_get(st, i)->name)) {
            (*n_vision)++;
            continue;
        }
        if (unknown++ < 4)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", unknown > 1 ? ", " : "",
                     t5g_st_get(st, i)->name);
    }
    if (unknown && !rc)
        rc = T5G_FAIL("%s has %d tensor(s) that a T5Gemma model with this config.json does not use: %s%s "
                      "(a different architecture or a classification head?)",
                      dir, unknown, list, unknown > 4 ? ", ..." : "");
    free(used);
    return rc;
}

static const char *untied_what(const char *copy) {
    return strcmp(copy, LM_HEAD) ? "decoder embedding" : "lm_head";
}

/* A stored tied copy (lm_head, ...) must equal its original; compared block-wise as float32.
 * tie_word_embeddings=false is accepted when the stored copy is in fact equal. */
static int check_tied(t5g_st *st, const char *copy, const char *orig) {
    const t5g_st_tensor *lm = find_hf(st, copy), *emb = find_hf(st, orig);
    if (!lm) return 0;
    T5G_CHECK(emb && lm->ndim == emb->ndim && lm->numel == emb->numel && lm->shape[0] == emb->shape[0],
              "%s: %s has a different shape from %s: untied %s is not supported", t5g_st_file(st, lm), copy, orig,
              untied_what(copy));
    T5G_CHECK(lm->dtype != T5G_ST_OTHER, "%s: %s has dtype %s; expected F32, F16 or BF16", t5g_st_file(st, lm), copy,
              lm->dtype_name);
    enum { BLK = 1 << 20 };
    float *a = t5g_malloc(2 * (size_t)BLK * sizeof(float), "lm_head comparison"), *b = a + BLK;
    if (!a) return -1;
    int rc = 0;
    for (int64_t i0 = 0; i0 < lm->numel && !rc; i0 += BLK) {
        int64_t m = lm->numel - i0 < BLK ? lm->numel - i0 : BLK;
        rc = t5g_st_read_f32_range(st, lm, i0, m, a) || t5g_st_read_f32_range(st, emb, i0, m, b) ? -1 : 0;
        for (int64_t i = 0; i < m && !rc; i++)
            if (memcmp(&a[i], &b[i], 4) != 0)
                rc = T5G_FAIL("%s: %s differs from %s (first at element %lld): untied %s is not supported",
                              t5g_st_file(st, lm), copy, orig, (long long)(i0 + i), untied_what(copy));
    }
    free(a);
    return rc;
}

/* int8 output: a projection / embedding quantized per row (symmetric, scale = amax/127) in
 * blocks of rows, so peak memory is the int8 tensor plus one 4 MB block */
static int copy_int8(t5g_st *st, t5g_ckpt_writer *w, const t5g_tensor_spec *sp, const t5g_st_tensor *t) {
    int64_t rows = sp->shape[0], cols = sp->shape[1], blk = cols > 0 ? (1 << 20) / cols : rows;
    if (blk < 1) blk = 1;
    float *buf = t5g_malloc(sizeof(float) * (size_t)(blk * cols + 1), sp->name);
    int8_t *q = t5g_malloc((size_t)(rows * cols + 1), sp->name);
    float *scale = t5g_malloc(sizeof(float) * (size_t)(rows + 1), sp->name);
    int rc = buf && q && scale ? 0 : -1;
    for (int64_t r = 0; r < rows && !rc; r += blk) {
        int64_t b = rows - r < blk ? rows - r : blk;
        rc = t5g_st_read_f32_range(st, t, r * cols, b * cols, buf);
        for (int64_t i = 0; i < b && !rc; i++) {
            float amax = t5g_int8_amax(buf + i * cols, cols);
            if (!isfinite(amax))
                rc = T5G_FAIL("%s: tensor %s has a non-finite value in row %lld; it cannot be quantized to int8",
                              t5g_st_file(st, t), t->name, (long long)(r + i));
            else scale[r + i] = t5g_int8_quantize(buf + i * cols, cols, amax, q + (r + i) * cols);
        }
    }
    if (!rc) rc = t5g_ckpt_write_i8(w, sp->name, sp->shape, q, scale);
    free(buf);
    free(q);
    free(scale);
    return rc;
}

/* A NaN or Inf weight makes every logit NaN: refuse it here rather than at the first forward. */
static int check_finite(t5g_st *st, const t5g_st_tensor *t, const void *buf, int bf16) {
    for (int64_t i = 0; i < t->numel; i++) {
        int bad = bf16 ? (((const uint16_t *)buf)[i] & 0x7F80) == 0x7F80 : !isfinite(((const float *)buf)[i]);
        T5G_CHECK(!bad, "%s: tensor %s holds a non-finite value (NaN or Inf) at element %lld; the weights are damaged",
                  t5g_st_file(st, t), t->name, (long long)i);
    }
    return 0;
}

/* Soft-capping is tanh(x / cap) * cap: a cap below zero flips the sign of every logit. */
static int check_caps(const char *dir, const t5g_config *c) {
    const t5g_stack_config *s[2] = {&c->enc, &c->dec};
    const char *names[2] = {"encoder", "decoder"};
    for (int k = 0; k < 2; k++) {
        T5G_CHECK(isfinite(s[k]->attn_logit_softcapping) && s[k]->attn_logit_softcapping >= 0,
                  "%s/config.json: %s.attn_logit_softcapping must be > 0 or null (off), got %g", dir, names[k],
                  s[k]->attn_logit_softcapping);
        T5G_CHECK(isfinite(s[k]->final_logit_softcapping) && s[k]->final_logit_softcapping >= 0,
                  "%s/config.json: %s.final_logit_softcapping must be > 0 or null (off), got %g", dir, names[k],
                  s[k]->final_logit_softcapping);
    }
    return 0;
}

/* bytes of a tensor in the source files */
static int64_t tensor_bytes(const t5g_st *st, const t5g_tensor_spec *sp) {
    char name[160];
    hf_name(sp->name, name, sizeof name);
    const t5g_st_tensor *t = find_hf(st, name);
    return t ? (int64_t)(t->end - t->begin) : 0;
}

static int copy_tensor(t5g_st *st, t5g_ckpt_writer *w, const t5g_tensor_spec *sp, int bf16, int i8) {
    char name[160];
    hf_name(sp->name, name, sizeof name);
    const t5g_st_tensor *t = find_hf(st, name);
    if (i8 && t5g_tensor_is_matrix(sp->name)) return copy_int8(st, w, sp, t);
    void *buf = t5g_malloc((size_t)t->numel * (bf16 ? 2 : 4), name);
    if (!buf) return -1;
    int rc = bf16 ? t5g_st_read_bf16(st, t, buf) : t5g_st_read_f32(st, t, buf);
    if (!rc) rc = check_finite(st, t, buf, bf16);
    if (!rc)
        rc = bf16 ? t5g_ckpt_write_bf16(w, sp->name, sp->ndim, sp->shape, buf)
                  : t5g_ckpt_write(w, sp->name, sp->ndim, sp->shape, buf);
    free(buf);
    return rc;
}

/* tokenizer.model -> tokenizer/spm_model; tokenizer_config.json's add_bos/add_eos -> root
 * attributes (GemmaTokenizer defaults 1/0 when the key is absent). */
static int copy_tokenizer(const char *dir, t5g_ckpt_writer *w, int *has_spm) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.model", dir);
    *has_spm = access(path, F_OK) == 0;
    if (*has_spm) {
        size_t len;
        char *spm = t5g_read_file(path, &len);
        if (!spm) return -1;
        int rc = t5g_ckpt_write_bytes(w, "tokenizer/spm_model", (unsigned char *)spm, len);
        free(spm);
        T5G_TRY(rc);
    }
    cJSON *tc;
    int rc = read_json(dir, "tokenizer_config.json", &tc);
    if (rc) return rc < 0 ? -1 : 0;
    const char *keys[] = {"add_bos_token", "add_eos_token"};
    int defaults[] = {1, 0};
    for (int k = 0; k < 2 && !rc; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(tc, keys[k]);
        int val = cJSON_IsBool(v) ? cJSON_IsTrue(v) : defaults[k];
        rc = t5g_ckpt_write_attr_int(w, keys[k], val);
    }
    cJSON_Delete(tc);
    return rc;
}

static int write_all(t5g_st *st, const t5g_config *c, const t5g_tensor_spec *sp, int n, const t5g_convert_opts *a,
                     const char *dtype, int *has_spm) {
    char *cfg = t5g_config_to_json(c);
    if (!cfg) return -1;
    int bf16 = !strcmp(dtype, "bfloat16"), i8 = !strcmp(dtype, "int8");
    t5g_ckpt_writer *w = t5g_ckpt_create(a->out, cfg, dtype);
    free(cfg);
    if (!w) return -1;
    int rc = t5g_ckpt_set_checksum(w, a->checksum);
    int64_t total = 0; /* progress in source bytes, one step per tensor */
    for (int i = 0; i < n; i++) total += tensor_bytes(st, &sp[i]);
    char label[4200];
    snprintf(label, sizeof label, "converting %s", a->hf);
    t5g_progress p;
    t5g_progress_start_bytes(&p, label, total, !a->quiet);
    for (int i = 0; i < n && !rc; i++) {
        rc = copy_tensor(st, w, &sp[i], bf16, i8);
        t5g_progress_add(&p, tensor_bytes(st, &sp[i]), 0);
    }
    if (!rc) rc = copy_tokenizer(a->hf, w, has_spm);
    if (rc) {
        t5g_ckpt_abort(w);
        return -1;
    }
    rc = t5g_ckpt_finish(w);
    if (!rc) t5g_progress_finish(&p);
    return rc;
}

static int st_has(void *st, const char *name) {
    char hf[160];
    hf_name(name, hf, sizeof hf);
    return find_hf(st, hf) != NULL;
}

static int check_all_tied(t5g_st *st, const t5g_config *c) {
    int v2 = c->version == 2, ntied = v2 ? 3 : 1;
    for (int k = 0; k < ntied; k++)
        T5G_TRY(check_tied(st, v2 ? TIED_V2[k][0] : TIED_V1[k][0], v2 ? TIED_V2[k][1] : TIED_V1[k][1]));
    return 0;
}

int t5g_convert_hf(const t5g_convert_opts *a, t5g_convert_result *res) {
    T5G_CHECK(a && a->hf && a->out, "t5g_convert_hf: the HF directory and the output path are required");
    T5G_CHECK(!a->dtype || !strcmp(a->dtype, "float32") || !strcmp(a->dtype, "bfloat16") || !strcmp(a->dtype, "int8"),
              "t5g_convert_hf: dtype must be float32, bfloat16 or int8, not '%s'", a->dtype);
    t5g_config c;
    T5G_TRY(load_config(a->hf, &c));
    T5G_TRY(check_caps(a->hf, &c));
    t5g_st *st = t5g_st_open(a->hf);
    if (!st) return -1;
    t5g_tensor_spec *sp = NULL;
    int n = 0, all_bf16 = 0, has_spm = 0, n_vision = 0;
    int rc = t5g_check_weights_version(&c, st_has, st, a->hf);
    if (!rc) rc = t5g_config_tensors(&c, &sp, &n);
    if (!rc && !c.tie_word_embeddings && !t5g_st_find(st, LM_HEAD))
        rc = T5G_FAIL("%s/config.json sets tie_word_embeddings=false but there is no %s: untied lm_head is not "
                      "supported",
                      a->hf, LM_HEAD);
    if (!rc) rc = check_tensors(st, a->hf, &c, sp, n, &all_bf16, &n_vision);
    if (!rc) rc = check_all_tied(st, &c);
    c.tie_word_embeddings = 1; /* checked equal above: our file keeps only the decoder embedding */
    const char *dtype = a->dtype ? a->dtype : all_bf16 ? "bfloat16" : "float32";
    int64_t params = rc ? -1 : t5g_config_param_count(&c); /* before writing: it may run out of memory */
    if (!rc && params < 0) rc = -1;
    if (!rc) rc = write_all(st, &c, sp, n, a, dtype, &has_spm);
    if (!rc && res) {
        res->tensors = n;
        res->parameters = params;
        res->dtype = dtype;
        res->has_tokenizer = has_spm;
        res->vision_tensors = n_vision;
    }
    free(sp);
    t5g_st_close(st);
    return rc;
}
