/* test_safetensors.c - the safetensors reader (dtypes, shards, every malformed header) and
 * `t5g convert` on hand-written tiny HF directories, plus the committed HF fixtures
 * (tests/fixtures/fwd/<case>/hf) when present.  A minimal safetensors writer lives here. */
#include "cli/cli.h"
#include "core/err.h"
#include "io/ckpt.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "testutil.h"
#include <cJSON.h>
#include <dirent.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static int has_msg(const char *s) { return strstr(t5g_last_error(), s) != NULL; }

static void write_text(const char *path, const char *txt) {
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(txt, f);
    fclose(f);
}

/* ---- a minimal safetensors writer ---- */

typedef struct {
    const char *name, *dtype;
    int ndim;
    int64_t shape[2];
    const void *data;
} st_entry;

static size_t dtype_size(const char *dt) {
    return !strcmp(dt, "F32") || !strcmp(dt, "I32") ? 4 : !strcmp(dt, "I64") ? 8 : 2;
}

static size_t entry_bytes(const st_entry *e) {
    size_t n = dtype_size(e->dtype);
    for (int d = 0; d < e->ndim; d++) n *= (size_t)e->shape[d];
    return n;
}

/* Raw file: 8-byte length field (hlen), header text, data. */
static void write_raw(const char *path, uint64_t hlen, const char *json, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    unsigned char lb[8];
    for (int i = 0; i < 8; i++) lb[i] = (unsigned char)(hlen >> (8 * i));
    fwrite(lb, 1, 8, f);
    fwrite(json, 1, strlen(json), f);
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static void write_st(const char *path, const st_entry *e, int n) {
    cJSON *h = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(h, "__metadata__");
    cJSON_AddStringToObject(meta, "format", "pt");
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *t = cJSON_AddObjectToObject(h, e[i].name);
        cJSON_AddStringToObject(t, "dtype", e[i].dtype);
        cJSON *s = cJSON_AddArrayToObject(t, "shape");
        for (int d = 0; d < e[i].ndim; d++) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)e[i].shape[d]));
        cJSON *o = cJSON_AddArrayToObject(t, "data_offsets");
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
        off += entry_bytes(&e[i]);
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
    }
    char *js = cJSON_PrintUnformatted(h);
    size_t hl = strlen(js), pad = (8 - hl % 8) % 8; /* the format pads the header with spaces */
    char *hdr = malloc(hl + pad + 1);
    memcpy(hdr, js, hl);
    memset(hdr + hl, ' ', pad);
    hdr[hl + pad] = 0;
    unsigned char *data = malloc(off + 1);
    for (int i = 0, o = 0; i < n; i++) {
        memcpy(data + o, e[i].data, entry_bytes(&e[i]));
        o += (int)entry_bytes(&e[i]);
    }
    write_raw(path, hl + pad, hdr, data, off);
    free(hdr);
    free(data);
    free(js);
    cJSON_Delete(h);
}

/* ---- reader ---- */

static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static void test_dtypes(void) {
    float a[6] = {1.0f, -2.5f, 1.00390625f, 1.01171875f, 3.14159265f, -0.0f};
    uint16_t h[9] = {0x3C00, 0xC100, 0x0001, 0x03FF, 0x7BFF, 0x7C00, 0xFC00, 0x8000, 0x7E00};
    uint16_t b[4] = {0x3F80, 0xC040, 0x0001, 0x7F7F};
    st_entry e[] = {{"a", "F32", 2, {2, 3}, a}, {"h", "F16", 1, {9}, h}, {"b", "BF16", 2, {2, 2}, b}};
    const char *p = tpath("dt.safetensors");
    write_st(p, e, 3);
    t5g_st *st = t5g_st_open(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(t5g_st_count(st), 3);
    const t5g_st_tensor *ta = t5g_st_find(st, "a"), *th = t5g_st_find(st, "h"), *tb = t5g_st_find(st, "b");
    CU_ASSERT_FATAL(ta && th && tb && !t5g_st_find(st, "__metadata__") && !t5g_st_find(st, "zz"));
    CU_ASSERT(ta->ndim == 2 && ta->shape[0] == 2 && ta->shape[1] == 3 && ta->dtype == T5G_ST_F32);
    CU_ASSERT(th->dtype == T5G_ST_F16 && tb->dtype == T5G_ST_BF16 && tb->numel == 4);
    float f[9];
    uint16_t u[9];
    CU_ASSERT_EQUAL(t5g_st_read_f32(st, ta, f), 0);
    CU_ASSERT_EQUAL(memcmp(f, a, sizeof a), 0);
    /* F32 -> bf16: round to nearest even (ties 1+2^-8 -> 1.0, 1+3*2^-8 -> 1+2^-6) */
    CU_ASSERT_EQUAL(t5g_st_read_bf16(st, ta, u), 0);
    uint16_t want_u[6] = {0x3F80, 0xC020, 0x3F80, 0x3F82, 0x4049, 0x8000};
    CU_ASSERT_EQUAL(memcmp(u, want_u, sizeof want_u), 0);
    /* F16 -> f32: exact, subnormals / inf / -0 / NaN */
    CU_ASSERT_EQUAL(t5g_st_read_f32(st, th, f), 0);
    float want_h[8] = {1.0f, -2.5f, ldexpf(1, -24), 1023 * ldexpf(1, -24), 65504.0f, INFINITY, -INFINITY, -0.0f};
    for (int i = 0; i < 8; i++) CU_ASSERT_EQUAL(bits(f[i]), bits(want_h[i]));
    CU_ASSERT(isnan(f[8]));
    CU_ASSERT_EQUAL(t5g_st_read_bf16(st, th, u), 0);
    CU_ASSERT(u[0] == 0x3F80 && u[1] == 0xC020 && u[5] == 0x7F80 && (u[8] & 0x7FFF) > 0x7F80);
    /* BF16: bits kept exactly, widened exactly */
    CU_ASSERT_EQUAL(t5g_st_read_bf16(st, tb, u), 0);
    CU_ASSERT_EQUAL(memcmp(u, b, sizeof b), 0);
    CU_ASSERT_EQUAL(t5g_st_read_f32(st, tb, f), 0);
    for (int i = 0; i < 4; i++) CU_ASSERT_EQUAL(bits(f[i]), (uint32_t)b[i] << 16);
    /* a range */
    CU_ASSERT_EQUAL(t5g_st_read_f32_range(st, th, 1, 2, f), 0);
    CU_ASSERT(f[0] == -2.5f && f[1] == ldexpf(1, -24));
    CU_ASSERT_EQUAL(t5g_st_read_f32_range(st, th, 8, 2, f), -1);
    t5g_st_close(st);
}

/* Two shards + index, opened through the directory. */
static void test_shards(void) {
    const char *d = tpath("sharded");
    mkdir(d, 0755);
    float x[4] = {1, 2, 3, 4}, y[2] = {5, 6};
    st_entry e1[] = {{"x", "F32", 2, {2, 2}, x}}, e2[] = {{"y", "F32", 1, {2}, y}};
    char p1[600], p2[600], idx[600];
    snprintf(p1, sizeof p1, "%s/model-00001-of-00002.safetensors", d);
    snprintf(p2, sizeof p2, "%s/model-00002-of-00002.safetensors", d);
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", d);
    write_st(p1, e1, 1);
    write_st(p2, e2, 1);
    write_text(idx, "{\"metadata\": {\"total_size\": 24}, \"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\","
                    " \"y\": \"model-00002-of-00002.safetensors\"}}");
    t5g_st *st = t5g_st_open(d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(t5g_st_count(st), 2);
    float f[4];
    CU_ASSERT_EQUAL(t5g_st_read_f32(st, t5g_st_find(st, "y"), f), 0);
    CU_ASSERT(f[0] == 5 && f[1] == 6);
    CU_ASSERT_EQUAL(t5g_st_read_f32(st, t5g_st_find(st, "x"), f), 0);
    CU_ASSERT(f[3] == 4);
    CU_ASSERT_STRING_EQUAL(t5g_st_file(st, t5g_st_find(st, "y")), p2);
    t5g_st_close(st);
    /* the map names the wrong shard for y */
    write_text(idx, "{\"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\", \"y\": \"model-00001-of-00002.safetensors\"}}");
    CU_ASSERT_PTR_NULL(t5g_st_open(d));
    CU_ASSERT(has_msg("weight_map puts 'y' in model-00001-of-00002.safetensors"));
    /* a shard that is not there */
    write_text(idx, "{\"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\", \"y\": \"gone.safetensors\"}}");
    CU_ASSERT_PTR_NULL(t5g_st_open(d));
    CU_ASSERT(has_msg("cannot open") && has_msg("gone.safetensors"));
    /* the same tensor in two shards */
    write_st(p2, e1, 1);
    write_text(idx, "{\"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\", \"z\": \"model-00002-of-00002.safetensors\"}}");
    CU_ASSERT_PTR_NULL(t5g_st_open(d));
    CU_ASSERT(has_msg("tensor 'x' appears twice"));
    /* a directory with neither file */
    CU_ASSERT_PTR_NULL(t5g_st_open(t5g_tmpdir()));
    CU_ASSERT(has_msg("neither model.safetensors nor model.safetensors.index.json"));
}

/* Each malformed file: open fails with a message naming the file and (where there is one) the tensor. */
static void bad(const char *file, uint64_t hlen, const char *json, size_t ndata, const char *m1, const char *m2) {
    static unsigned char zeros[64];
    const char *p = tpath(file);
    write_raw(p, hlen ? hlen : strlen(json), json, zeros, ndata);
    t5g_clear_error();
    t5g_st *st = t5g_st_open(p);
    CU_ASSERT_PTR_NULL(st);
    t5g_st_close(st);
    CU_ASSERT(has_msg(p) && has_msg(m1) && (!m2 || has_msg(m2)));
    printf("\n    -> %s", t5g_last_error());
}

static void test_bad_headers(void) {
    const char *ok = "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}";
    bad("hlen.st", 4000, ok, 8, "header length 4000 runs past the end of the file", NULL);
    bad("overlap.st", 0, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                         " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12, "overlap", "'b'");
    bad("pasteof.st", 0, "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 8,
        "run past the end of the file", "'w'");
    bad("size.st", 0, "{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8,
        "has 8 bytes in data_offsets but shape x F32 needs 12", "'w'");
    bad("json.st", 0, "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], ", 8, "malformed safetensors header JSON", NULL);
    bad("dtype.st", 0, "{\"w\": {\"dtype\": \"Q4_K\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8,
        "unknown dtype 'Q4_K'", "'w'");
    bad("keys.st", 0, "{\"w\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8, "data_offsets", "'w'");
    bad("neg.st", 0, "{\"w\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8, "bad shape", "'w'");
    bad("rev.st", 0, "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 0]}}", 8, "bad data_offsets", "'w'");
    bad("dup.st", 0, "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                     " \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, "appears twice", "'w'");
    bad("array.st", 0, "[1, 2]", 0, "not a JSON object", NULL);
    const char *tiny = tpath("tiny.st");
    write_text(tiny, "abc");
    CU_ASSERT_PTR_NULL(t5g_st_open(tiny));
    CU_ASSERT(has_msg("is not a safetensors file"));
    /* a valid file with an integer tensor opens, but reading that tensor is an error */
    int64_t iv[2] = {1, 2};
    st_entry e[] = {{"ids", "I64", 1, {2}, iv}};
    const char *p = tpath("i64.st");
    write_st(p, e, 1);
    t5g_st *st = t5g_st_open(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    float f[2];
    CU_ASSERT_EQUAL(t5g_st_read_f32(st, t5g_st_find(st, "ids"), f), -1);
    CU_ASSERT(has_msg("'ids' has dtype I64") && has_msg(p));
    t5g_st_close(st);
    printf("\n");
}

/* ---- converter on hand-written HF directories ---- */

/* Unbalanced encoder/decoder (the 9b-2b pattern), GQA, nh*hd != H. */
static const char *TINY_CONFIG =
    "{\"model_type\": \"t5gemma\", \"eos_token_id\": 1, \"torch_dtype\": \"bfloat16\","
    " \"encoder\": {\"vocab_size\": 40, \"hidden_size\": 16, \"intermediate_size\": 24, \"num_hidden_layers\": 2,"
    " \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"head_dim\": 6, \"query_pre_attn_scalar\": 6},"
    " \"decoder\": {\"vocab_size\": 40, \"hidden_size\": 12, \"intermediate_size\": 20, \"num_hidden_layers\": 1,"
    " \"num_attention_heads\": 3, \"num_key_value_heads\": 3, \"head_dim\": 4, \"query_pre_attn_scalar\": 4}}";

enum { LM_NONE, LM_TIED, LM_UNTIED };
typedef struct {
    const char *dtype;  /* source dtype F32 / F16 / BF16 */
    const char *skip;   /* HF name left out */
    const char *extra;  /* unknown HF name added */
    const char *reshape; /* HF name written with one row too many */
    int lm_head, shards, tokenizer;
} model_opts;

/* Source value k of tensor t: random bf16/f16-representable-or-not patterns. */
static uint32_t g_rng;
static uint32_t rnd(void) { g_rng = g_rng * 1664525u + 1013904223u; return g_rng >> 8; }

static uint16_t rnd_half_bits(int bf16) {
    for (;;) { /* any finite pattern */
        uint16_t h = (uint16_t)rnd();
        if (bf16 ? ((h >> 7) & 0xff) != 0xff : ((h >> 10) & 0x1f) != 0x1f) return h;
    }
}

/* Write an HF directory for TINY_CONFIG; returns the tensor specs (caller frees). */
static t5g_tensor_spec *make_model(const char *dir, const model_opts *o, int *nspec, void ***data) {
    mkdir(dir, 0755);
    char path[600];
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_text(path, TINY_CONFIG);
    t5g_config c;
    CU_ASSERT_FATAL(t5g_config_from_json(TINY_CONFIG, &c) == 0);
    t5g_tensor_spec *sp;
    CU_ASSERT_FATAL(t5g_config_tensors(&c, &sp, nspec) == 0);
    int n = *nspec;
    st_entry *e = calloc((size_t)n + 2, sizeof *e);
    char (*names)[160] = calloc((size_t)n + 2, sizeof *names);
    *data = calloc((size_t)n + 2, sizeof(void *));
    int m = 0, esz = !strcmp(o->dtype, "F32") ? 4 : 2;
    g_rng = 12345;
    for (int i = 0; i < n; i++) {
        snprintf(names[m], sizeof names[m], "%s", sp[i].name);
        for (char *p = names[m]; *p; p++)
            if (*p == '/') *p = '.';
        if (o->skip && !strcmp(o->skip, names[m])) continue;
        int64_t rows = sp[i].shape[0] + (o->reshape && !strcmp(o->reshape, names[m])), cols = sp[i].ndim == 2 ? sp[i].shape[1] : 1;
        unsigned char *buf = malloc((size_t)(rows * cols) * (size_t)esz);
        for (int64_t k = 0; k < rows * cols; k++) {
            if (esz == 4) {
                float v = (float)((int)(rnd() % 20001) - 10000) * 1.2345e-4f;
                memcpy(buf + 4 * k, &v, 4);
            } else {
                uint16_t h = rnd_half_bits(!strcmp(o->dtype, "BF16"));
                memcpy(buf + 2 * k, &h, 2);
            }
        }
        (*data)[i] = buf;
        e[m] = (st_entry){names[m], o->dtype, sp[i].ndim, {rows, cols}, buf};
        m++;
    }
    const void *emb = NULL;
    for (int i = 0; i < n; i++)
        if (!strcmp(sp[i].name, "model/decoder/embed_tokens/weight")) emb = (*data)[i];
    void *lm = NULL;
    if (o->lm_head != LM_NONE) {
        size_t nb = (size_t)c.dec.vocab_size * (size_t)c.dec.hidden_size * (size_t)esz;
        lm = malloc(nb);
        memcpy(lm, emb, nb);
        if (o->lm_head == LM_UNTIED) ((unsigned char *)lm)[nb - 2] ^= 1;
        e[m++] = (st_entry){"lm_head.out_proj.weight", o->dtype, 2, {c.dec.vocab_size, c.dec.hidden_size}, lm};
    }
    float extra[3] = {1, 2, 3};
    if (o->extra) e[m++] = (st_entry){o->extra, "F32", 1, {3}, extra};
    if (!o->shards) {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        write_st(path, e, m);
    } else { /* first half / second half + index */
        char p2[600], idx[600];
        int h = m / 2;
        snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
        snprintf(p2, sizeof p2, "%s/model-00002-of-00002.safetensors", dir);
        write_st(path, e, h);
        write_st(p2, e + h, m - h);
        cJSON *root = cJSON_CreateObject(), *wm = cJSON_AddObjectToObject(root, "weight_map");
        for (int i = 0; i < m; i++)
            cJSON_AddStringToObject(wm, e[i].name, i < h ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        char *js = cJSON_Print(root);
        snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", dir);
        write_text(idx, js);
        free(js);
        cJSON_Delete(root);
    }
    if (o->tokenizer) {
        snprintf(path, sizeof path, "%s/tokenizer.model", dir);
        write_text(path, "not really a sentencepiece model\n");
        snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
        write_text(path, "{\"add_bos_token\": false, \"add_eos_token\": true}");
        snprintf(path, sizeof path, "%s/generation_config.json", dir);
        write_text(path, "{\"eos_token_id\": [1, 7], \"decoder_start_token_id\": 3}");
    }
    free(lm);
    free(e);
    free(names);
    return sp;
}

static void free_model(t5g_tensor_spec *sp, int n, void **data) {
    for (int i = 0; i < n; i++) free(data[i]);
    free(data);
    free(sp);
}

static int run_convert(const char *dir, const char *out, const char *dtype) {
    char *argv[8] = {"convert", "--hf", (char *)dir, "-o", (char *)out, NULL, NULL, NULL};
    int argc = 5;
    if (dtype) { argv[5] = "--dtype"; argv[6] = (char *)dtype; argc = 7; }
    t5g_clear_error();
    return cmd_convert(argc, argv);
}

/* Source value -> what the checkpoint must return (float32 after widening). */
static float expected(const void *src, int64_t k, const char *sdt, int out_bf16) {
    float v;
    uint16_t h;
    if (!strcmp(sdt, "F32")) memcpy(&v, (const char *)src + 4 * k, 4);
    else {
        memcpy(&h, (const char *)src + 2 * k, 2);
        v = !strcmp(sdt, "F16") ? t5g_f16_to_f32(h) : t5g_bf16_to_f32(h);
    }
    return out_bf16 ? t5g_bf16_to_f32(t5g_f32_to_bf16(v)) : v;
}

/* make_model in the folder tpath(name) (*dir); out = that folder's name + ".h5", for the conversion. */
static t5g_tensor_spec *make_model_in(const char *name, const model_opts *o, const char **dir, char *out,
                                      size_t out_size, int *n, void ***data) {
    *dir = tpath(name);
    snprintf(out, out_size, "%s.h5", *dir);
    return make_model(*dir, o, n, data);
}

/* Convert and compare every tensor bit for bit with what the source implies. */
static void convert_and_check(const char *name, model_opts o, const char *dtype, const char *want_dtype) {
    const char *dir;
    char out[600];
    int n;
    void **data;
    t5g_tensor_spec *sp = make_model_in(name, &o, &dir, out, sizeof out, &n, &data);
    CU_ASSERT_EQUAL_FATAL(run_convert(dir, out, dtype), 0);
    t5g_ckpt *c = t5g_ckpt_open(out, MPI_COMM_SELF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(t5g_ckpt_dtype(c), want_dtype);
    int obf = !strcmp(want_dtype, "bfloat16"), bad = 0;
    for (int i = 0; i < n; i++) {
        int64_t cnt = sp[i].shape[0] * (sp[i].ndim == 2 ? sp[i].shape[1] : 1);
        float *buf = malloc((size_t)cnt * 4);
        CU_ASSERT_EQUAL(t5g_ckpt_read(c, sp[i].name, sp[i].ndim, sp[i].shape, 0, sp[i].shape[0], 0,
                                      sp[i].ndim == 2 ? sp[i].shape[1] : 1, buf), 0);
        for (int64_t k = 0; k < cnt; k++) bad += bits(buf[k]) != bits(expected(data[i], k, o.dtype, obf));
        free(buf);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(!t5g_ckpt_has(c, "lm_head/out_proj/weight"));
    t5g_config cfg;
    CU_ASSERT_EQUAL(t5g_config_from_json(t5g_ckpt_config_json(c), &cfg), 0);
    CU_ASSERT(cfg.enc.hidden_size == 16 && cfg.dec.hidden_size == 12 && cfg.dec.cross_attention_hidden_size == 16);
    unsigned char *spm;
    size_t len;
    long long bos = -1, eos = -1;
    if (o.tokenizer) {
        CU_ASSERT_EQUAL(t5g_ckpt_read_bytes(c, "tokenizer/spm_model", &spm, &len), 0);
        CU_ASSERT(len == 33 && !memcmp(spm, "not really", 10));
        free(spm);
        CU_ASSERT(t5g_ckpt_attr_int(c, "add_bos_token", &bos) == 0 && bos == 0);
        CU_ASSERT(t5g_ckpt_attr_int(c, "add_eos_token", &eos) == 0 && eos == 1);
        CU_ASSERT(cfg.n_eos == 2 && cfg.eos_token_ids[1] == 7 && cfg.decoder_start_token_id == 3);
    } else {
        CU_ASSERT_EQUAL(t5g_ckpt_read_bytes(c, "tokenizer/spm_model", &spm, &len), 1);
        CU_ASSERT_EQUAL(t5g_ckpt_attr_int(c, "add_bos_token", &bos), 1);
        CU_ASSERT(cfg.n_eos == 1 && cfg.eos_token_ids[0] == 1 && cfg.decoder_start_token_id == 2);
    }
    t5g_ckpt_close(c);
    free_model(sp, n, data);
}

static void test_convert_bf16(void) {
    convert_and_check("m_bf16", (model_opts){.dtype = "BF16", .tokenizer = 1, .lm_head = LM_TIED}, NULL, "bfloat16");
}
static void test_convert_f32_to_bf16(void) {
    convert_and_check("m_f32", (model_opts){.dtype = "F32", .shards = 1}, "bf16", "bfloat16");
}
static void test_convert_f16(void) {
    convert_and_check("m_f16", (model_opts){.dtype = "F16", .lm_head = LM_TIED, .shards = 1}, NULL, "float32");
}
static void test_convert_bf16_to_f32(void) {
    convert_and_check("m_bf16_f32", (model_opts){.dtype = "BF16"}, "f32", "float32");
}

/* Conversion fails with a message; no output (nor temp file) is left behind. */
static void convert_fails(const char *name, model_opts o, const char *m1, const char *m2) {
    const char *dir;
    char out[600];
    int n;
    void **data;
    t5g_tensor_spec *sp = make_model_in(name, &o, &dir, out, sizeof out, &n, &data);
    free_model(sp, n, data);
    CU_ASSERT_EQUAL(run_convert(dir, out, NULL), 1);
    CU_ASSERT(has_msg(m1) && (!m2 || has_msg(m2)));
    printf("\n    -> %s", t5g_last_error());
    CU_ASSERT(access(out, F_OK) != 0);
    DIR *dd = opendir(t5g_tmpdir());
    struct dirent *de;
    int tmp = 0;
    while ((de = readdir(dd))) tmp += strstr(de->d_name, ".tmp.") != NULL;
    closedir(dd);
    CU_ASSERT_EQUAL(tmp, 0);
}

static void test_convert_errors(void) {
    convert_fails("e_missing", (model_opts){.dtype = "BF16", .skip = "model.decoder.layers.0.cross_attn.k_proj.weight"},
                  "lacks tensor model.decoder.layers.0.cross_attn.k_proj.weight", "[12, 16]");
    convert_fails("e_unknown", (model_opts){.dtype = "BF16", .extra = "score.out_proj.bias"}, "score.out_proj.bias",
                  "does not use");
    convert_fails("e_untied", (model_opts){.dtype = "BF16", .lm_head = LM_UNTIED}, "untied lm_head is not supported", NULL);
    convert_fails("e_shape", (model_opts){.dtype = "F32", .reshape = "model.encoder.layers.1.mlp.down_proj.weight"},
                  "model.encoder.layers.1.mlp.down_proj.weight has shape [17, 24]", "implies [16, 24]");
    /* late failure (tokenizer_config.json is read after every tensor is written): the writer
     * is aborted, so no output either */
    const char *dir = tpath("e_late");
    char out[600], cfg[600];
    snprintf(out, sizeof out, "%s.h5", dir);
    int n;
    void **data;
    t5g_tensor_spec *sp = make_model(dir, &(model_opts){.dtype = "BF16", .tokenizer = 1}, &n, &data);
    free_model(sp, n, data);
    snprintf(cfg, sizeof cfg, "%s/tokenizer_config.json", dir);
    write_text(cfg, "{\"add_bos_token\": tru");
    CU_ASSERT_EQUAL(run_convert(dir, out, NULL), 1);
    CU_ASSERT(has_msg("tokenizer_config.json is not valid JSON"));
    CU_ASSERT(access(out, F_OK) != 0);
    unlink(cfg); /* optional file: without it the conversion works */
    CU_ASSERT_EQUAL(run_convert(dir, out, NULL), 0);
    CU_ASSERT_EQUAL(unlink(out), 0);
    snprintf(cfg, sizeof cfg, "%s/generation_config.json", dir);
    write_text(cfg, "{\"eos_token_id\": [1, 700]}");
    CU_ASSERT_EQUAL(run_convert(dir, out, NULL), 1);
    CU_ASSERT(has_msg("eos_token_id 700 is outside the vocabulary"));
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    write_text(cfg, "{\"model_type\": \"t5gemma\", \"tie_word_embeddings\": false}");
    CU_ASSERT_EQUAL(run_convert(dir, out, NULL), 1);
    CU_ASSERT(has_msg("tie_word_embeddings=false but there is no lm_head.out_proj.weight"));
    unlink(cfg);
    CU_ASSERT_EQUAL(run_convert(dir, out, NULL), 1);
    CU_ASSERT(has_msg("cannot open") && has_msg("config.json"));
    /* usage errors */
    CU_ASSERT_EQUAL(run_convert(dir, out, "f16"), 2);
    char *argv[] = {"convert", "--hf", (char *)dir, NULL};
    CU_ASSERT_EQUAL(cmd_convert(3, argv), 2);
    printf("\n");
}

/* Every tensor of a converted checkpoint equals the source tensor (bits, after widening). */
static int diff_against_source(t5g_ckpt *c, const char *hf, const t5g_config *cfg) {
    t5g_st *st = t5g_st_open(hf);
    t5g_tensor_spec *sp;
    int n, bad = 0;
    if (!st || t5g_config_tensors(cfg, &sp, &n)) return -1;
    for (int i = 0; i < n; i++) {
        char name[160];
        snprintf(name, sizeof name, "%s", sp[i].name);
        for (char *p = name; *p; p++)
            if (*p == '/') *p = '.';
        const t5g_st_tensor *t = t5g_st_find(st, name);
        float *a = malloc((size_t)t->numel * 4), *b = malloc((size_t)t->numel * 4);
        int64_t cols = sp[i].ndim == 2 ? sp[i].shape[1] : 1;
        if (t5g_ckpt_read(c, sp[i].name, sp[i].ndim, sp[i].shape, 0, sp[i].shape[0], 0, cols, a) ||
            t5g_st_read_f32(st, t, b) || memcmp(a, b, (size_t)t->numel * 4))
            bad++;
        free(a);
        free(b);
    }
    free(sp);
    t5g_st_close(st);
    return bad;
}

/* The HF fixtures made by tests/reference (real transformers checkpoints), when present. */
static void test_convert_fixtures(void) {
    char base[600];
    snprintf(base, sizeof base, "%s/fwd", fixtures_dir());
    DIR *d = opendir(base);
    int seen = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char hf[1200], out[1300], cfgp[1300];
        if (de->d_name[0] == '.') continue;
        snprintf(hf, sizeof hf, "%s/%s/hf", base, de->d_name);
        snprintf(cfgp, sizeof cfgp, "%s/config.json", hf);
        if (access(cfgp, R_OK) != 0) continue;
        snprintf(out, sizeof out, "%s/fixture_%s.h5", t5g_tmpdir(), de->d_name);
        int rc = run_convert(hf, out, NULL);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc) printf("\n    fixture %s: %s", de->d_name, t5g_last_error());
        t5g_ckpt *c = rc ? NULL : t5g_ckpt_open(out, MPI_COMM_SELF);
        CU_ASSERT(rc || c != NULL);
        t5g_config cfg;
        CU_ASSERT(!c || t5g_config_from_json(t5g_ckpt_config_json(c), &cfg) == 0);
        CU_ASSERT(!c || diff_against_source(c, hf, &cfg) == 0);
        t5g_ckpt_close(c);
        seen++;
    }
    if (d) closedir(d);
    printf("\n    converted %d HF fixture(s) from %s\n", seen, base);
    CU_ASSERT(seen >= 6);  /* the committed fixtures: zero converted would pass vacuously */
}

static CU_TestInfo st_tests[] = {
    {"F32 / F16 / BF16 reads and conversions", test_dtypes},
    {"sharded index, directory resolution", test_shards},
    {"malformed files", test_bad_headers},
    CU_TEST_INFO_NULL};
static CU_TestInfo conv_tests[] = {
    {"bf16 source -> bf16 (bits exact), tokenizer, generation config, tied lm_head", test_convert_bf16},
    {"f32 source (sharded) -> --dtype bf16 (rounded)", test_convert_f32_to_bf16},
    {"f16 source (sharded) -> f32", test_convert_f16},
    {"bf16 source -> --dtype f32", test_convert_bf16_to_f32},
    {"missing / unknown / untied / misshaped tensors, bad configs", test_convert_errors},
    {"HF fixtures under tests/fixtures/fwd/*/hf", test_convert_fixtures},
    CU_TEST_INFO_NULL};
static CU_SuiteInfo suites[] = {{"safetensors", tmpdir_init, NULL, NULL, NULL, st_tests},
                                {"convert", NULL, tmpdir_clean, NULL, NULL, conv_tests},
                                CU_SUITE_INFO_NULL};

int main(void) { return t5g_test_main(suites); }
