/* weights.c - shard plan (docs/model.md, Tensor parallelism), one arena for this rank's weight slices, the
 * name -> slice mapping shared by the loader, the random initializer and the tests. */
#include "model/model.h"
#include "core/hash.h"
#include "core/err.h"
#include "io/ckpt.h"
#include "model/scalapack_layout.h"
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int t5g_shard_plan(const t5g_stack_config *s, int r, int T, t5g_shard *o) {
    int nh = s->num_attention_heads, nkv = s->num_key_value_heads;
    T5G_CHECK(T >= 1 && r >= 0 && r < T, "bad tensor-parallel rank %d of %d", r, T);
    T5G_CHECK(nh % T == 0, "TP size %d does not divide the %d attention heads; choose a TP size that divides %d", T, nh,
              nh);
    T5G_CHECK(nkv % T == 0 || T % nkv == 0,
              "TP size %d is neither a divisor nor a multiple of the %d key/value heads; choose another TP size", T,
              nkv);
    memset(o, 0, sizeof *o);
    o->group = nh / nkv;
    o->nh = nh / T;
    o->head0 = r * o->nh;
    if (nkv % T == 0) {
        o->nkv = nkv / T;
        o->kv0 = r * o->nkv;
    } else {
        o->nkv = 1;
        o->kv0 = (int)((int64_t)r * nkv / T);
    } /* replicated on T/nkv ranks */
    int64_t I = s->intermediate_size, V = s->vocab_size;
    o->i0 = (int)(I * r / T);
    o->ni = (int)(I * (r + 1) / T) - o->i0;
    o->v0 = (int)(V * r / T);
    o->nv = (int)(V * (r + 1) / T) - o->v0;
    return 0;
}

/* Where tensor `name` lives in this rank's model, and which slice of it. */
typedef struct {
    float **dst;
    t5g_wmat *mat;
    int64_t row0, nrows, col0, ncols;
} slot;

/* a matrix slot: its data pointer is the float32 slice in the arena */
static void mat_slot(slot *o, t5g_wmat *w) {
    o->mat = w;
    o->dst = (float **)&w->data;
}

/* a matrix slot holding rows [r0, r0 + n) (a column-parallel projection: heads, FFN or vocab rows) */
static int rows_slot(slot *o, t5g_wmat *w, int64_t r0, int64_t n) {
    mat_slot(o, w);
    o->row0 = r0;
    o->nrows = n;
    return 0;
}

/* a matrix slot holding columns [c0, c0 + n) (a row-parallel projection, summed by an all-reduce) */
static int cols_slot(slot *o, t5g_wmat *w, int64_t c0, int64_t n) {
    mat_slot(o, w);
    o->col0 = c0;
    o->ncols = n;
    return 0;
}

/* layers/L/<norm name>/weight: one of the six sandwich norms */
static float **layer_norm_slot(t5g_layer_weights *L, const char *mod) {
    static const struct {
        const char *name;
        size_t off;
    } norms[] = {
        {"pre_self_attn_layernorm", offsetof(t5g_layer_weights, pre_self_attn_layernorm)},
        {"post_self_attn_layernorm", offsetof(t5g_layer_weights, post_self_attn_layernorm)},
        {"pre_cross_attn_layernorm", offsetof(t5g_layer_weights, pre_cross_attn_layernorm)},
        {"post_cross_attn_layernorm", offsetof(t5g_layer_weights, post_cross_attn_layernorm)},
        {"pre_feedforward_layernorm", offsetof(t5g_layer_weights, pre_feedforward_layernorm)},
        {"post_feedforward_layernorm", offsetof(t5g_layer_weights, post_feedforward_layernorm)},
    };
    for (size_t k = 0; k < sizeof norms / sizeof norms[0]; k++)
        if (!strcmp(mod, norms[k].name)) return (float **)((char *)L + norms[k].off);
    return NULL;
}

/* layers/L/mlp/<part>: gate/up split by FFN rows, down by FFN columns */
static int mlp_slot(t5g_layer_weights *L, const t5g_shard *sh, const char *part, slot *o) {
    if (!strcmp(part, "gate_proj")) return rows_slot(o, &L->gate_proj, sh->i0, sh->ni);
    if (!strcmp(part, "up_proj")) return rows_slot(o, &L->up_proj, sh->i0, sh->ni);
    if (!strcmp(part, "down_proj")) return cols_slot(o, &L->down_proj, sh->i0, sh->ni);
    return -1;
}

/* layers/L/{self,cross}_attn/<part>: q/k/v split by heads (rows), o by head columns */
static int attn_slot(t5g_attn_weights *A, const t5g_shard *sh, int64_t hd, const char *part, slot *o) {
    if (!strcmp(part, "q_proj")) return rows_slot(o, &A->q_proj, sh->head0 * hd, sh->nh * hd);
    if (!strcmp(part, "k_proj")) return rows_slot(o, &A->k_proj, sh->kv0 * hd, sh->nkv * hd);
    if (!strcmp(part, "v_proj")) return rows_slot(o, &A->v_proj, sh->kv0 * hd, sh->nkv * hd);
    if (!strcmp(part, "o_proj")) return cols_slot(o, &A->o_proj, sh->head0 * hd, sh->nh * hd);
    o->dst = !strcmp(part, "q_norm") ? &A->q_norm : !strcmp(part, "k_norm") ? &A->k_norm : NULL;
    return o->dst ? 0 : -1;
}

/* rest = "layers/L/MODULE/PART" of one stack */
static int layer_slot(t5g_stack_weights *sw, const char *rest, slot *o) {
    char mod[48], part[48];
    int l;
    if (sscanf(rest, "layers/%d/%47[^/]/%47[^/]", &l, mod, part) != 3 || l < 0 || l >= sw->cfg->num_hidden_layers)
        return -1;
    t5g_layer_weights *L = &sw->layers[l];
    if (!strcmp(part, "weight")) {
        o->dst = layer_norm_slot(L, mod);
        return o->dst ? 0 : -1;
    }
    if (!strcmp(mod, "mlp")) return mlp_slot(L, &sw->sh, part, o);
    t5g_attn_weights *A = !strcmp(mod, "self_attn")    ? &L->self_attn
                          : !strcmp(mod, "cross_attn") ? &L->cross_attn
                                                       : NULL;
    return A ? attn_slot(A, &sw->sh, sw->cfg->head_dim, part, o) : -1;
}

/* rest = the name after "model/<stack>/" */
static int stack_slot(t5g_stack_weights *sw, const char *rest, slot *o) {
    const t5g_shard *sh = &sw->sh;
    if (!strcmp(rest, "embed_tokens/weight")) return rows_slot(o, &sw->embed_tokens, sh->v0, sh->nv);
    if (!strcmp(rest, "relative_attention_bias/weight")) {
        o->dst = &sw->rel_bias;
        o->col0 = sh->head0;
        o->ncols = sh->nh;
        return 0;
    }
    o->dst = !strcmp(rest, "norm/weight")                  ? &sw->norm
             : !strcmp(rest, "embed_tokens/eoi_embedding") ? &sw->eoi_embedding /* T5Gemma 2 */
                                                           : NULL;
    return o->dst ? 0 : layer_slot(sw, rest, o);
}

static int resolve(t5g_model *m, const t5g_tensor_spec *t, slot *o) {
    char stack[16];
    o->mat = NULL;
    o->dst = NULL;
    o->row0 = 0;
    o->nrows = t->shape[0];
    o->col0 = 0;
    o->ncols = t->ndim == 2 ? t->shape[1] : 1;
    t5g_stack_weights *sw = NULL;
    if (sscanf(t->name, "model/%15[^/]/", stack) == 1)
        sw = !strcmp(stack, "encoder") ? &m->enc : !strcmp(stack, "decoder") ? &m->dec : NULL;
    if (sw && !stack_slot(sw, t->name + 7 + strlen(stack), o)) return 0;
    return T5G_FAIL("internal: no slot for tensor %s", t->name);
}

/* Bytes of one slice in the arena (64-byte aligned): matrices in the compute dtype (int8:
 * values, then one float scale per row), everything else float32. */
static int64_t slot_bytes(const slot *s, t5g_dtype dt) {
    int64_t n = s->nrows * s->ncols;
    if (!s->mat || dt == T5G_DT_F32) return (n * 4 + 63) & ~(int64_t)63;
    if (dt == T5G_DT_BF16) return (n * 2 + 63) & ~(int64_t)63;
    return ((n + 63) & ~(int64_t)63) + ((s->nrows * 4 + 63) & ~(int64_t)63);
}

static int dtype_usable(const t5g_backend *be, t5g_dtype dt, int act_bf16);

/* Build the skeleton: shard plans, layer arrays, one arena with every slice. */
static t5g_model *model_alloc(const t5g_config *cfg, t5g_comm *comm, const t5g_backend *be, t5g_dtype wdt,
                              int act_bf16) {
    T5G_CHECK_NULL(cfg && comm, "t5g_model: NULL argument");
    if (t5g_config_validate(cfg)) return NULL;
    T5G_CHECK_NULL(cfg->tie_word_embeddings, "untied LM heads are not supported (tie_word_embeddings must be true)");
    t5g_model *m = t5g_calloc(1, sizeof *m, "model");
    if (!m) return NULL;
    m->cfg = *cfg;
    m->comm = comm;
    m->be = be ? be : t5g_backend_cpu();
    m->host_memory = m->be == t5g_backend_cpu();
    m->wdtype = wdt;
    m->act_bf16 = act_bf16;
    t5g_tensor_spec *specs = NULL; /* before the first goto fail: fail frees it */
    int n = 0;
    if (dtype_usable(m->be, wdt, act_bf16)) goto fail;
    m->add_bos = 1; /* GemmaTokenizer defaults */
    m->enc.cfg = &m->cfg.enc;
    m->dec.cfg = &m->cfg.dec;
    if (t5g_shard_plan(&m->cfg.enc, comm->tp_rank, comm->tp_size, &m->enc.sh) ||
        t5g_shard_plan(&m->cfg.dec, comm->tp_rank, comm->tp_size, &m->dec.sh) ||
        !(m->enc.layers = t5g_calloc(m->cfg.enc.num_hidden_layers, sizeof(t5g_layer_weights), "layers")) ||
        !(m->dec.layers = t5g_calloc(m->cfg.dec.num_hidden_layers, sizeof(t5g_layer_weights), "layers")) ||
        t5g_config_tensors(&m->cfg, &specs, &n))
        goto fail;
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        slot s;
        if (resolve(m, &specs[i], &s)) goto fail;
        total += slot_bytes(&s, wdt);
    }
    m->weight_bytes = total;
    if (!(m->arena = m->be->alloc(m->be->ctx, (size_t)m->weight_bytes))) {
        T5G_FAIL("out of memory: this rank needs %.2f GiB for its weights; use more tensor-parallel ranks",
                 m->weight_bytes / 1073741824.0);
        goto fail;
    }
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        slot s;
        resolve(m, &specs[i], &s);
        *s.dst = (float *)((char *)m->arena + off);
        if (s.mat) {
            s.mat->dtype = wdt;
            s.mat->act_bf16 = act_bf16;
            s.mat->rows = (int)s.nrows;
            s.mat->cols = (int)s.ncols;
            s.mat->ld = (int)s.ncols;
            s.mat->scale = wdt == T5G_DT_INT8
                               ? (float *)((char *)m->arena + off + ((s.nrows * s.ncols + 63) & ~(int64_t)63))
                               : NULL;
        }
        off += slot_bytes(&s, wdt);
    }
    free(specs);
    return m;
fail:
    free(specs);
    t5g_model_free(m);
    return NULL;
}

int t5g_model_visit(t5g_model *m, t5g_tensor_visitor fn, void *ctx) {
    T5G_CHECK(m && fn, "t5g_model_visit: NULL argument");
    t5g_tensor_spec *specs;
    int n;
    T5G_TRY(t5g_config_tensors(&m->cfg, &specs, &n));
    for (int i = 0; i < n; i++) {
        slot s;
        if (resolve(m, &specs[i], &s) || fn(ctx, &specs[i], s.row0, s.nrows, s.col0, s.ncols, *s.dst)) {
            free(specs);
            return -1;
        }
    }
    free(specs);
    return 0;
}

/* The same walk handing over the slot (loaders and the saver need the matrix and its dtype). */
typedef int (*slot_visitor)(void *ctx, const t5g_tensor_spec *t, const slot *s);
static int visit_slots(t5g_model *m, slot_visitor fn, void *ctx) {
    t5g_tensor_spec *specs;
    int n;
    T5G_TRY(t5g_config_tensors(&m->cfg, &specs, &n));
    for (int i = 0; i < n; i++) {
        slot s;
        if (resolve(m, &specs[i], &s) || fn(ctx, &specs[i], &s)) {
            free(specs);
            return -1;
        }
    }
    free(specs);
    return 0;
}

/* ---- weight dtype in memory (the compute type) ---- */

/* linear_lowp.c: 0 if this CPU has a kernel for dt (not included from backend/cpu/linear.h,
 * whose bf16 helpers duplicate io/ckpt.h's) */
int t5g_cpu_dtype_check(t5g_dtype dt);
int t5g_cpu_bf16act_check(void);

int t5g_dtype_parse(const char *s, t5g_dtype *dt) {
    T5G_CHECK(s && dt, "t5g_dtype_parse: NULL argument");
    if (!strcmp(s, "f32") || !strcmp(s, "float32")) *dt = T5G_DT_F32;
    else if (!strcmp(s, "bf16") || !strcmp(s, "bfloat16")) *dt = T5G_DT_BF16;
    else if (!strcmp(s, "int8")) *dt = T5G_DT_INT8;
    else return T5G_FAIL("--compute-type must be f32, bf16 or int8, not '%s'", s);
    return 0;
}

int t5g_compute_type_parse(const char *s, t5g_dtype *dt, int *act_bf16) {
    T5G_CHECK(s && dt && act_bf16, "t5g_compute_type_parse: NULL argument");
    *act_bf16 = 0;
    /* CTranslate2's compute_type=bfloat16 rounds the activations, t5g's bf16 does not: the
     * ambiguous name is refused rather than given one meaning silently */
    T5G_CHECK(strcmp(s, "bfloat16"),
              "--compute-type bfloat16 is ambiguous: use bf16 (bf16 weights, float32 "
              "activations: exact against a float32 run of the bf16 weights) or bf16-act (activations rounded to "
              "bf16 in the products, as CTranslate2's compute_type=bfloat16)");
    if (!strcmp(s, "bf16-act")) {
        *dt = T5G_DT_BF16;
        *act_bf16 = 1;
        return 0;
    }
    if (!strcmp(s, "f32") || !strcmp(s, "float32")) *dt = T5G_DT_F32;
    else if (!strcmp(s, "bf16")) *dt = T5G_DT_BF16;
    else if (!strcmp(s, "int8")) *dt = T5G_DT_INT8;
    else return T5G_FAIL("--compute-type must be f32, bf16, bf16-act or int8, not '%s'", s);
    return 0;
}

const char *t5g_compute_type_name(t5g_dtype dt, int act_bf16) {
    return dt == T5G_DT_BF16 && act_bf16 ? "bf16-act" : t5g_dtype_name(dt);
}

int t5g_tensor_is_matrix(const char *name) {
    size_t n = strlen(name);
    return (n > 12 && !strcmp(name + n - 12, "_proj/weight")) ||
           (n > 19 && !strcmp(name + n - 19, "embed_tokens/weight"));
}

const char *t5g_dtype_name(t5g_dtype dt) {
    return dt == T5G_DT_BF16 ? "bf16" : dt == T5G_DT_INT8 ? "int8" : "f32";
}

/* a kernel for dt on this backend and CPU, else one clear error (a device backend's linear
 * takes f32 and bf16 weights; int8 quantizes the activations on the CPU) */
static int dtype_usable(const t5g_backend *be, t5g_dtype dt, int act_bf16) {
    if (dt == T5G_DT_F32) return 0;
    if (act_bf16) {
        T5G_CHECK(be == t5g_backend_cpu(),
                  "compute type bf16-act has no kernel on the %s backend; use --device cpu, "
                  "or --compute-type bf16 with --device %s",
                  be->name, be->name);
        return t5g_cpu_bf16act_check();
    }
    if (be != t5g_backend_cpu()) {
        T5G_CHECK(dt == T5G_DT_BF16,
                  "compute type %s has no kernel on the %s backend; use --device cpu, or "
                  "--compute-type f32 or bf16 with --device %s",
                  t5g_dtype_name(dt), be->name, be->name);
        return 0;
    }
    return t5g_cpu_dtype_check(dt);
}

/* A producer of float32 rows [row, row+nrows) x cols [col, col+ncols) of a full tensor. */
typedef int (*rows_fn)(void *arg, int64_t row, int64_t nrows, int64_t col, int64_t ncols, float *dst);

/* Fill a bf16 / int8 matrix slot (host memory) from float32 rows a block at a time (peak:
 * one block, never a float32 copy of the tensor).  bf16: round to nearest even (exact for
 * a bf16 source).  int8: each row's scale comes from the whole row, also when this rank
 * holds a column slice, so every TP size quantizes to the same weights. */
static int fill_lowp(const t5g_model *m, const t5g_tensor_spec *t, const slot *s, rows_fn fn, void *arg) {
    t5g_wmat *W = s->mat;
    int64_t cols = t->shape[1], nc = s->ncols;
    int whole = W->dtype == T5G_DT_INT8 && nc < cols;
    int64_t wc = whole ? cols : nc, off = whole ? s->col0 : 0;
    int64_t blk = (1 << 20) / (cols > 0 ? cols : 1);
    if (blk < 1) blk = 1;
    float *buf = t5g_malloc(sizeof(float) * (size_t)(blk * wc > 0 ? blk * wc : 1), "weight conversion");
    /* device memory (bf16 only, see dtype_usable): each block is converted on the host, then copied */
    uint16_t *host16 = m->host_memory ? NULL : t5g_malloc(sizeof(uint16_t) * (size_t)(blk * nc + 1), "weight staging");
    if (!buf || (!m->host_memory && !host16)) {
        free(buf);
        return -1;
    }
    int rc = 0;
    for (int64_t r = 0; r < s->nrows && !rc; r += blk) {
        int64_t b = s->nrows - r < blk ? s->nrows - r : blk;
        rc = fn(arg, s->row0 + r, b, whole ? 0 : s->col0, wc, buf);
        if (!rc && W->dtype == T5G_DT_BF16) {
            uint16_t *d = host16 ? host16 : (uint16_t *)W->data + r * nc;
            for (int64_t i = 0; i < b * nc; i++) d[i] = t5g_f32_to_bf16(buf[i]);
            if (host16)
                m->be->copy(m->be->ctx, (uint16_t *)W->data + r * nc, host16, sizeof(uint16_t) * (size_t)(b * nc),
                            T5G_COPY_H2D);
            continue;
        }
        for (int64_t i = 0; i < b && !rc; i++) {
            const float *row = buf + i * wc;
            float amax = t5g_int8_amax(row, wc);
            if (!isfinite(amax))
                rc = T5G_FAIL("tensor %s has a non-finite value in row %lld; it cannot be quantized to int8", t->name,
                              (long long)(s->row0 + r + i));
            else W->scale[r + i] = t5g_int8_quantize(row + off, nc, amax, (int8_t *)W->data + (r + i) * nc);
        }
    }
    free(buf);
    free(host16);
    return rc;
}

void t5g_model_free(t5g_model *m) {
    if (!m) return;
    t5g_enc2d_detach(m);
    if (m->arena) m->be->release(m->be->ctx, m->arena);
    free(m->enc.layers);
    free(m->dec.layers);
    free(m->spm_model);
    free(m);
}

/* ---- loading from HDF5 ---- */
typedef struct {
    t5g_ckpt *ck;
    const t5g_model *m;
} load_ctx;

/* Fill a slice in the model's memory from a host producer (directly on the CPU backend,
 * through a host staging buffer on a device backend). */
static int stage(const t5g_model *m, float *dst, int64_t n, int (*fill)(void *, float *), void *arg) {
    if (m->host_memory) return fill(arg, dst);
    float *tmp = malloc(sizeof(float) * (size_t)(n ? n : 1));
    T5G_CHECK(tmp, "out of memory staging a tensor");
    int rc = fill(arg, tmp);
    if (!rc) m->be->copy(m->be->ctx, dst, tmp, sizeof(float) * (size_t)n, T5G_COPY_H2D);
    free(tmp);
    return rc;
}

/* A NaN or Inf weight would make every logit NaN without a word: refuse it at load. */
static int check_finite(const t5g_tensor_spec *t, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        T5G_CHECK(isfinite(x[i]), "tensor %s holds a non-finite value (%g): the checkpoint is damaged; re-convert it",
                  t->name, x[i]);
    return 0;
}

typedef struct {
    t5g_ckpt *ck;
    const t5g_tensor_spec *t;
    int64_t r0, nr, c0, nc;
} read_args;
static int read_fill(void *a, float *dst) {
    read_args *r = a;
    T5G_TRY(t5g_ckpt_read(r->ck, r->t->name, r->t->ndim, r->t->shape, r->r0, r->nr, r->c0, r->nc, dst));
    return check_finite(r->t, dst, r->nr * r->nc);
}

static int ckpt_rows(void *a, int64_t row, int64_t nrows, int64_t col, int64_t ncols, float *dst) {
    read_args *r = a;
    T5G_TRY(t5g_ckpt_read(r->ck, r->t->name, r->t->ndim, r->t->shape, row, nrows, col, ncols, dst));
    return check_finite(r->t, dst, nrows * ncols);
}

static int load_one(void *ctx, const t5g_tensor_spec *t, const slot *s) {
    load_ctx *l = ctx;
    read_args a = {l->ck, t, s->row0, s->nrows, s->col0, s->ncols};
    const t5g_wmat *W = s->mat;
    if (!W || W->dtype == T5G_DT_F32) return stage(l->m, *s->dst, s->nrows * s->ncols, read_fill, &a);
    if (W->dtype == T5G_DT_INT8) { /* int8 stored: taken as it is, scales of the whole rows */
        int i8 = t5g_ckpt_is_int8(l->ck, t->name);
        if (i8 < 0) return -1;
        if (i8)
            return t5g_ckpt_read_i8(l->ck, t->name, t->shape, s->row0, s->nrows, s->col0, s->ncols, W->data, W->scale);
    }
    return fill_lowp(l->m, t, s, ckpt_rows, &a);
}

static int ckpt_has(void *ck, const char *name) {
    return t5g_ckpt_has(ck, name) == 1;
}

t5g_model *t5g_model_load(const char *path, t5g_comm *comm) {
    return t5g_model_load_on(path, comm, NULL);
}

t5g_model *t5g_model_load_on(const char *path, t5g_comm *comm, const t5g_backend *be) {
    return t5g_model_load_as(path, comm, be, NULL);
}

/* The compute type: the one asked for, else the checkpoint's storage dtype (f32 on a backend
 * without bf16 / int8 kernels, as before they existed). */
static int pick_dtype(t5g_ckpt *ck, const t5g_backend *be, const char *compute_type, t5g_dtype *dt, int *act) {
    *act = 0;
    if (compute_type && *compute_type) return t5g_compute_type_parse(compute_type, dt, act);
    const char *st = t5g_ckpt_dtype(ck);
    *dt = !strcmp(st, "bfloat16") ? T5G_DT_BF16 : !strcmp(st, "int8") ? T5G_DT_INT8 : T5G_DT_F32;
    if (be && be != t5g_backend_cpu()) *dt = T5G_DT_F32;
    return 0;
}

t5g_model *t5g_model_load_as(const char *path, t5g_comm *comm, const t5g_backend *be, const char *compute_type) {
    T5G_CHECK_NULL(path && comm, "t5g_model_load: NULL argument");
    t5g_ckpt *ck = t5g_ckpt_open(path, comm->tp);
    if (!ck) return NULL;
    t5g_config cfg;
    t5g_model *m = NULL;
    t5g_dtype wdt;
    int act = 0;
    if (t5g_config_from_json(t5g_ckpt_config_json(ck), &cfg)) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", t5g_last_error());
        T5G_FAIL("%s: %s", path, msg);
        goto out;
    }
    if (t5g_check_weights_version(&cfg, ckpt_has, ck, path)) goto out;
    if (pick_dtype(ck, be, compute_type, &wdt, &act)) goto out;
    m = model_alloc(&cfg, comm, be, wdt, act);
    if (!m) goto out;
    load_ctx lc = {ck, m};
    if (visit_slots(m, load_one, &lc)) {
        t5g_model_free(m);
        m = NULL;
        goto out;
    }
    if (t5g_ckpt_read_bytes(ck, "tokenizer/spm_model", &m->spm_model, &m->spm_model_len) < 0) {
        t5g_model_free(m);
        m = NULL;
        goto out;
    }
    m->bytes_read = t5g_ckpt_bytes_read(ck);
    long long v;
    if (t5g_ckpt_attr_int(ck, "add_bos_token", &v) == 0) m->add_bos = (int)v;
    if (t5g_ckpt_attr_int(ck, "add_eos_token", &v) == 0) m->add_eos = (int)v;
    t5g_clear_error();
out:
    t5g_ckpt_close(ck);
    return m;
}

/* ---- random init: counter-based, so a rank's slice equals the same slice of the full tensor ---- */
/* Standard normal from (key, index) via Box-Muller on two hashed uniforms. */
static float hashed_normal(uint64_t key, uint64_t i) {
    double u1 = ((t5g_splitmix64(key ^ (2 * i)) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    double u2 = (t5g_splitmix64(key ^ (2 * i + 1)) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

typedef struct {
    uint64_t seed;
    const t5g_model *m;
} init_ctx;
typedef struct {
    uint64_t seed;
    const t5g_tensor_spec *t;
    int64_t r0, nr, c0, nc;
} init_args;
static int init_rows(void *arg, int64_t r0, int64_t nr, int64_t c0, int64_t nc, float *dst);
static int init_fill(void *arg, float *dst) {
    init_args *a = arg;
    return init_rows(a, a->r0, a->nr, a->c0, a->nc, dst);
}

static int init_one(void *ctx, const t5g_tensor_spec *t, const slot *s) {
    init_ctx *ic = ctx;
    init_args a = {ic->seed, t, s->row0, s->nrows, s->col0, s->ncols};
    if (!s->mat || s->mat->dtype == T5G_DT_F32) return stage(ic->m, *s->dst, s->nrows * s->ncols, init_fill, &a);
    return fill_lowp(ic->m, t, s, init_rows, &a);
}

/* rows [r0, r0+nr) x cols [c0, c0+nc) of tensor a->t */
static int init_rows(void *arg, int64_t r0, int64_t nr, int64_t c0, int64_t nc, float *dst) {
    init_args *a = arg;
    const t5g_tensor_spec *t = a->t;
    uint64_t key = t5g_splitmix64(a->seed ^ t5g_fnv1a64_str(t->name));
    int64_t cols = t->ndim == 2 ? t->shape[1] : 1;
    /* scales: norms ~N(0, 0.2) so the (1+w) matters; projections 1/sqrt(fan_in); tables N(0,1)·... */
    float std;
    if (t->ndim == 1) std = 0.2f;
    else if (strstr(t->name, "embed_tokens")) std = 1.0f / sqrtf((float)cols);
    else if (strstr(t->name, "relative_attention_bias")) std = 0.5f;
    else std = 1.0f / sqrtf((float)cols);
#pragma omp parallel for schedule(static) if (nr * nc > 65536)
    for (int64_t r = 0; r < nr; r++)
        for (int64_t c = 0; c < nc; c++)
            dst[r * nc + c] = std * hashed_normal(key, (uint64_t)((r0 + r) * cols + (c0 + c)));
    return 0;
}

t5g_model *t5g_model_random(const t5g_config *cfg, uint64_t seed, t5g_comm *comm) {
    return t5g_model_random_on(cfg, seed, comm, NULL);
}

t5g_model *t5g_model_random_on(const t5g_config *cfg, uint64_t seed, t5g_comm *comm, const t5g_backend *be) {
    return t5g_model_random_as(cfg, seed, comm, be, NULL);
}

t5g_model *t5g_model_random_as(const t5g_config *cfg, uint64_t seed, t5g_comm *comm, const t5g_backend *be,
                               const char *compute_type) {
    t5g_dtype wdt = T5G_DT_F32;
    int act = 0;
    if (compute_type && *compute_type && t5g_compute_type_parse(compute_type, &wdt, &act)) return NULL;
    t5g_model *m = model_alloc(cfg, comm, be, wdt, act);
    init_ctx ic = {seed, m};
    if (m && visit_slots(m, init_one, &ic)) {
        t5g_model_free(m);
        return NULL;
    }
    return m;
}

/* ---- saving (one process holds whole tensors) ---- */
typedef struct {
    t5g_ckpt_writer *w;
    int i8;
} save_ctx;

/* widen a bf16 / int8 matrix to float32 (*out malloc'd) */
static int widen_mat(const t5g_wmat *W, float **out) {
    int64_t n = (int64_t)W->rows * W->cols;
    float *f = *out = t5g_malloc(sizeof(float) * (size_t)(n ? n : 1), "weight widening");
    if (!f) return -1;
    for (int64_t r = 0; r < W->rows; r++)
        for (int64_t c = 0; c < W->cols; c++) {
            int64_t i = r * W->ld + c;
            f[r * W->cols + c] = W->dtype == T5G_DT_BF16 ? t5g_bf16_to_f32(((const uint16_t *)W->data)[i])
                                                         : W->scale[r] * (float)((const int8_t *)W->data)[i];
        }
    return 0;
}

/* int8 file: matrices as int8 + row scales (quantized here unless already int8); the rest float32 */
static int write_one(void *ctx, const t5g_tensor_spec *t, const slot *s) {
    save_ctx *c = ctx;
    const t5g_wmat *W = s->mat;
    if (!W || (W->dtype == T5G_DT_F32 && !c->i8)) return t5g_ckpt_write(c->w, t->name, t->ndim, t->shape, *s->dst);
    if (c->i8 && W->dtype == T5G_DT_INT8) return t5g_ckpt_write_i8(c->w, t->name, t->shape, W->data, W->scale);
    float *f = W->dtype == T5G_DT_F32 ? W->data : NULL, *scale = NULL;
    if (!f && widen_mat(W, &f)) return -1;
    int8_t *q = NULL;
    int rc = 0;
    if (!c->i8) {
        rc = t5g_ckpt_write(c->w, t->name, t->ndim, t->shape, f);
    } else {
        q = t5g_malloc((size_t)W->rows * W->cols + 1, "int8 quantization");
        scale = t5g_malloc(sizeof(float) * (size_t)(W->rows + 1), "int8 scales");
        rc = q && scale ? 0 : -1;
        for (int64_t r = 0; r < W->rows && !rc; r++) {
            const float *row = f + r * W->cols;
            float amax = t5g_int8_amax(row, W->cols);
            if (!isfinite(amax))
                rc = T5G_FAIL("tensor %s has a non-finite value in row %lld; it cannot be quantized to int8", t->name,
                              (long long)r);
            else scale[r] = t5g_int8_quantize(row, W->cols, amax, q + r * W->cols);
        }
        if (!rc) rc = t5g_ckpt_write_i8(c->w, t->name, t->shape, q, scale);
    }
    if (f != W->data) free(f);
    free(q);
    free(scale);
    return rc;
}
/* saving reads the weights back on the host */

int t5g_model_save(t5g_model *m, const char *path, const char *dtype) {
    T5G_CHECK(m && path, "t5g_model_save: NULL argument");
    T5G_CHECK(m->comm->tp_size == 1, "saving needs the whole model on one rank (run without --tp)");
    T5G_CHECK(m->host_memory, "saving needs the model in host memory (load it with the CPU backend)");
    char *json = t5g_config_to_json(&m->cfg);
    if (!json) return -1;
    t5g_ckpt_writer *w = t5g_ckpt_create(path, json, dtype);
    free(json);
    if (!w) return -1;
    save_ctx sc = {w, !strcmp(dtype, "int8")};
    if (visit_slots(m, write_one, &sc) ||
        (m->spm_model && t5g_ckpt_write_bytes(w, "tokenizer/spm_model", m->spm_model, m->spm_model_len))) {
        t5g_ckpt_abort(w);
        return -1;
    }
    return t5g_ckpt_finish(w);
}

/* ---- planning: the same slot arithmetic, without allocating the weights ---- */
static int share(const t5g_config *cfg, int r, int T, t5g_dtype dt, int64_t *elems, int64_t *replicated,
                 int64_t *bytes) {
    t5g_model m = {0};
    m.cfg = *cfg;
    m.enc.cfg = &m.cfg.enc;
    m.dec.cfg = &m.cfg.dec;
    T5G_TRY(t5g_shard_plan(&m.cfg.enc, r, T, &m.enc.sh));
    T5G_TRY(t5g_shard_plan(&m.cfg.dec, r, T, &m.dec.sh));
    m.enc.layers = calloc(cfg->enc.num_hidden_layers, sizeof(t5g_layer_weights));
    m.dec.layers = calloc(cfg->dec.num_hidden_layers, sizeof(t5g_layer_weights));
    t5g_tensor_spec *specs = NULL;
    int n = 0, rc = !m.enc.layers || !m.dec.layers ? T5G_FAIL("out of memory") : t5g_config_tensors(cfg, &specs, &n);
    *elems = *bytes = 0;
    if (replicated) *replicated = 0;
    for (int i = 0; i < n && !rc; i++) {
        slot s;
        rc = resolve(&m, &specs[i], &s);
        *elems += s.nrows * s.ncols;
        *bytes += slot_bytes(&s, dt);
        if (replicated && s.nrows * s.ncols == specs[i].shape[0] * specs[i].shape[1] && T > 1)
            *replicated += s.nrows * s.ncols;
    }
    free(specs);
    free(m.enc.layers);
    free(m.dec.layers);
    return rc;
}

int t5g_weight_share(const t5g_config *cfg, int r, int T, int64_t *elems, int64_t *replicated) {
    T5G_CHECK(cfg && elems, "t5g_weight_share: NULL argument");
    int64_t bytes;
    return share(cfg, r, T, T5G_DT_F32, elems, replicated, &bytes);
}

int t5g_weight_bytes(const t5g_config *cfg, int r, int T, t5g_dtype dt, int64_t *bytes) {
    T5G_CHECK(cfg && bytes, "t5g_weight_bytes: NULL argument");
    int64_t elems;
    return share(cfg, r, T, dt, &elems, NULL, bytes);
}
