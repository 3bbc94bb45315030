/* cmd_forward.c - `t5g forward -m MODEL.h5 -i BATCH.json -o DIR [--tp T]`: the backbone on
 * one padded batch.  BATCH.json holds the four inputs under their Hugging Face or their
 * KerasHub names (lists of equal-length int rows; masks optional; keys: KEYS below).  Rank 0
 * of TP group 0 writes DIR/{encoder_out,decoder_out,logits}.npy (NumPy, '<f4', shapes
 * [B, L, width]; with --f32 also the same bytes as raw .f32 files) and DIR/meta.json, and
 * prints each row's argmax ids. */
#include "cli/args.h"
#include "core/json.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "core/fileio.h"
#include "io/jsonl.h"
#include "io/npy.h"
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The four inputs: {HF name, KerasHub name}. */
static const char *const KEYS[4][2] = {{"input_ids", "encoder_token_ids"},
                                       {"attention_mask", "encoder_padding_mask"},
                                       {"decoder_input_ids", "decoder_token_ids"},
                                       {"decoder_attention_mask", "decoder_padding_mask"}};

/* rows of ints (the JSON list a, input `key`) -> int32 [B, L]; B/L must agree with *B, *L when
 * those are > 0. */
static int32_t *json_matrix(const cJSON *a, const char *key, int *B, int *L) {
    T5G_CHECK_NULL(cJSON_IsArray(a) && cJSON_GetArraySize(a) > 0, "batch \"%s\" must be a non-empty list of rows", key);
    int b = cJSON_GetArraySize(a), l = cJSON_GetArraySize(cJSON_GetArrayItem(a, 0));
    T5G_CHECK_NULL(*B <= 0 || *B == b, "batch \"%s\" has %d rows, expected %d", key, b, *B);
    T5G_CHECK_NULL(*L <= 0 || *L == l, "batch \"%s\" rows have %d entries, expected %d", key, l, *L);
    T5G_CHECK_NULL(l > 0, "batch \"%s\" rows are empty", key);
    T5G_CHECK_NULL((int64_t)b * l <= JSONL_MAX_INPUT_IDS, "batch \"%s\" has %d x %d ids, more than the limit of %d",
                   key, b, l, JSONL_MAX_INPUT_IDS);
    int32_t *v = t5g_malloc(sizeof(int32_t) * (size_t)b * l, key);
    if (!v) return NULL;
    int i = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, a) { /* walking the lists once: GetArrayItem per entry is quadratic */
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != l) {
            free(v);
            T5G_FAIL("batch \"%s\" row %d must be a list of %d ints", key, i, l);
            return NULL;
        }
        int j = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, row) {
            double x = cJSON_IsNumber(e) ? e->valuedouble : NAN;
            if (!(x >= INT32_MIN && x <= INT32_MAX && x == floor(x))) { /* also NaN, 1e999 and 2.5 */
                free(v);
                T5G_FAIL("batch \"%s\"[%d][%d] is not an integer id", key, i, j);
                return NULL;
            }
            v[(size_t)i * l + j++] = (int32_t)x;
        }
        i++;
    }
    *B = b;
    *L = l;
    return v;
}

static int write_f32(const char *dir, const char *name, const float *x, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    t5g_outfile o;
    T5G_TRY(t5g_out_open(&o, path, "wb"));
    if (fwrite(x, sizeof(float), n, o.f) != n) {
        t5g_out_abort(&o);
        return T5G_FAIL("write error on %s", path);
    }
    return t5g_out_commit(&o);
}

typedef struct {
    int B, Le, Ld;
    int32_t *ids, *mask, *dids, *dmask;
} batch;

/* Input k of the batch under either name (NULL if absent); error if both names are given. */
static int find_input(const cJSON *root, const char *path, int k, const cJSON **item, const char **name) {
    const cJSON *hf = cJSON_GetObjectItemCaseSensitive(root, KEYS[k][0]);
    const cJSON *kh = cJSON_GetObjectItemCaseSensitive(root, KEYS[k][1]);
    T5G_CHECK(!hf || !kh,
              "%s gives both \"%s\" and \"%s\" (the same input under its Hugging Face and KerasHub "
              "names); give one",
              path, KEYS[k][0], KEYS[k][1]);
    *item = hf ? hf : kh;
    *name = hf || !kh ? KEYS[k][0] : KEYS[k][1];
    return 0;
}

/* Every key is one of KEYS: a misspelt mask would otherwise be ignored and change the result. */
static int check_keys(const cJSON *root, const char *path) {
    T5G_CHECK(cJSON_IsObject(root), "%s must hold one JSON object with the inputs (see t5g forward --help)", path);
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        int known = 0;
        for (int k = 0; k < 4; k++) known |= !strcmp(it->string, KEYS[k][0]) || !strcmp(it->string, KEYS[k][1]);
        T5G_CHECK(known,
                  "%s has the key \"%.60s\", which is not an input; the keys are input_ids|encoder_token_ids, "
                  "attention_mask|encoder_padding_mask, decoder_input_ids|decoder_token_ids, "
                  "decoder_attention_mask|decoder_padding_mask",
                  path, it->string);
    }
    return 0;
}

static void batch_free(batch *b) {
    free(b->ids);
    free(b->mask);
    free(b->dids);
    free(b->dmask);
    memset(b, 0, sizeof *b);
}

static int read_batch(const char *path, batch *b) {
    memset(b, 0, sizeof *b);
    char *text = t5g_read_file(path, NULL);
    if (!text) return -1;
    int oom;
    cJSON *root = t5g_json_parse(text, strlen(text), NULL, 1, &oom, path); /* 1: nothing may follow the object */
    free(text);
    if (oom) return -1;
    T5G_CHECK(root, "%s is not valid JSON", path);
    const cJSON *item[4];
    const char *name[4];
    int rc = check_keys(root, path);
    for (int k = 0; k < 4 && !rc; k++) rc = find_input(root, path, k, &item[k], &name[k]);
    for (int k = 0; k < 4 && !rc; k += 2)
        if (!item[k]) rc = T5G_FAIL("batch JSON lacks \"%s\" (or \"%s\")", KEYS[k][0], KEYS[k][1]);
    int32_t **dst[4] = {&b->ids, &b->mask, &b->dids, &b->dmask};
    int *len[4] = {&b->Le, &b->Le, &b->Ld, &b->Ld};
    const int order[4] = {0, 2, 1, 3}; /* ids first: their shapes are what the masks must match */
    for (int i = 0; i < 4 && !rc; i++) {
        int k = order[i];
        if (item[k] && !(*dst[k] = json_matrix(item[k], name[k], &b->B, len[k]))) rc = -1;
    }
    cJSON_Delete(root);
    if (rc) batch_free(b);
    return rc;
}

/* Every rank of the TP group: the batch that its rank 0 read. */
static int share_batch(const t5g_comm *c, batch *b) {
    int dims[3] = {b->B, b->Le, b->Ld}, has[2] = {b->mask != NULL, b->dmask != NULL};
    MPI_Bcast(dims, 3, MPI_INT, 0, c->tp);
    MPI_Bcast(has, 2, MPI_INT, 0, c->tp);
    int fail = 0;
    if (c->tp_rank != 0) {
        b->B = dims[0];
        b->Le = dims[1];
        b->Ld = dims[2];
        size_t ne = (size_t)b->B * b->Le, nd = (size_t)b->B * b->Ld;
        b->ids = t5g_malloc(sizeof(int32_t) * ne, "input_ids");
        b->dids = t5g_malloc(sizeof(int32_t) * nd, "decoder_input_ids");
        b->mask = has[0] ? t5g_malloc(sizeof(int32_t) * ne, "attention_mask") : NULL;
        b->dmask = has[1] ? t5g_malloc(sizeof(int32_t) * nd, "decoder_attention_mask") : NULL;
        fail = !b->ids || !b->dids || (has[0] && !b->mask) || (has[1] && !b->dmask);
    }
    if (t5g_any_failed(c->tp, fail)) return fail ? -1 : T5G_FAIL("another rank of the tensor-parallel group failed");
    MPI_Bcast(b->ids, b->B * b->Le, MPI_INT32_T, 0, c->tp);
    MPI_Bcast(b->dids, b->B * b->Ld, MPI_INT32_T, 0, c->tp);
    if (has[0]) MPI_Bcast(b->mask, b->B * b->Le, MPI_INT32_T, 0, c->tp);
    if (has[1]) MPI_Bcast(b->dmask, b->B * b->Ld, MPI_INT32_T, 0, c->tp);
    return 0;
}

static void outputs_free(t5g_backbone_out *o) {
    free(o->encoder_sequence_output);
    free(o->decoder_sequence_output);
    free(o->logits);
}

static int outputs_alloc(const t5g_model *m, const batch *b, t5g_backbone_out *o) {
    o->encoder_sequence_output = malloc(sizeof(float) * b->B * b->Le * m->cfg.enc.hidden_size);
    o->decoder_sequence_output = malloc(sizeof(float) * b->B * b->Ld * m->cfg.dec.hidden_size);
    o->logits = malloc(sizeof(float) * b->B * b->Ld * m->cfg.dec.vocab_size);
    T5G_CHECK(o->encoder_sequence_output && o->decoder_sequence_output && o->logits, "out of memory for the outputs");
    return 0;
}

/* DIR/NAME.npy, and with raw also DIR/NAME.f32 */
static int write_array(const char *dir, const char *name, int raw, int64_t d0, int64_t d1, int64_t d2, const float *x) {
    char path[4096];
    int64_t shape[3] = {d0, d1, d2};
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    T5G_TRY(t5g_npy_write_f32(path, 3, shape, x));
    snprintf(path, sizeof path, "%s.f32", name);
    return raw ? write_f32(dir, path, x, (size_t)(d0 * d1 * d2)) : 0;
}

static int write_outputs(const char *dir, int raw, const t5g_model *m, const batch *b, const t5g_backbone_out *o) {
    int He = m->cfg.enc.hidden_size, Hd = m->cfg.dec.hidden_size, V = m->cfg.dec.vocab_size;
    T5G_TRY(t5g_mkdirs(dir));
    T5G_TRY(write_array(dir, "encoder_out", raw, b->B, b->Le, He, o->encoder_sequence_output));
    T5G_TRY(write_array(dir, "decoder_out", raw, b->B, b->Ld, Hd, o->decoder_sequence_output));
    T5G_TRY(write_array(dir, "logits", raw, b->B, b->Ld, V, o->logits));
    char path[4096];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    t5g_outfile f;
    T5G_TRY(t5g_out_open(&f, path, "w"));
    fprintf(f.f, "{\"B\": %d, \"Le\": %d, \"Ld\": %d, \"He\": %d, \"Hd\": %d, \"V\": %d}\n", b->B, b->Le, b->Ld, He, Hd,
            V);
    T5G_TRY(t5g_out_commit(&f));
    for (int r = 0; r < b->B; r++) { /* argmax per position, ties -> lowest id */
        printf("row %d argmax:", r);
        for (int t = 0; t < b->Ld; t++) {
            const float *l = o->logits + ((size_t)r * b->Ld + t) * V;
            int best = 0;
            for (int v = 1; v < V; v++)
                if (l[v] > l[best]) best = v;
            printf(" %d", best);
        }
        printf("\n");
    }
    return 0;
}

typedef struct {
    const char *model, *in, *out, *device;
    int tp, threads, raw, quiet;
} forward_args;

static int parse(int argc, char **argv, forward_args *a) {
    memset(a, 0, sizeof *a);
    a->device = "cpu";
    arg_spec specs[] = {
        {"-m|--model", ARG_STR, &a->model, "HDF5 checkpoint"},
        {"-i|--input", ARG_STR, &a->in,
         "batch JSON: one object with input_ids|encoder_token_ids, decoder_input_ids|"
         "decoder_token_ids (required), attention_mask|encoder_padding_mask, "
         "decoder_attention_mask|decoder_padding_mask (optional; 1 = token, 0 = pad); "
         "Hugging Face or KerasHub names, one spelling per input; each a list of "
         "equal-length rows of ints"},
        {"-o|--out", ARG_STR, &a->out,
         "output directory: encoder_out.npy [B, Le, He], decoder_out.npy [B, Ld, Hd], "
         "logits.npy [B, Ld, V] (NumPy float32), meta.json"},
        {"--f32", ARG_FLAG, &a->raw, "also write the raw little-endian float32 files (encoder_out.f32, ...)"},
        {"-q|--quiet", ARG_FLAG, &a->quiet, "no progress output (model loading)"},
        {"--tp", ARG_INT, &a->tp, "tensor-parallel size (default: all ranks)"},
        {"--threads", ARG_INT, &a->threads, "BLIS threads per rank (default: cores bound to the rank)"},
        {"--device", ARG_STR, &a->device, "cpu (default) or cuda (build with make CUDA=1)"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]),
                        "usage: t5g forward -m MODEL.h5 -i BATCH.json -o DIR [--tp T] [--f32] [-q]", NULL, 0, NULL);
    if (rc) return rc;
    T5G_CHECK(a->model && a->in && a->out, "-m, -i and -o are required (see --help)");
    return args_check_layout(a->tp, a->threads);
}

int cmd_forward(int argc, char **argv) {
    forward_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return args_exit(rc);
    t5g_comm comm;
    int fail = cli_mpi_begin(&argc, &argv, a.tp, a.threads, &comm) != 0;
    if (t5g_any_failed(MPI_COMM_WORLD, fail)) return cli_mpi_end(NULL, fail);
    batch b = {0};
    t5g_model *m = NULL;
    t5g_backbone_out o = {0};
    /* only rank 0 of each TP group reads the input; the group gets it by broadcast */
    if (comm.tp_rank == 0) fail = read_batch(a.in, &b) != 0;
    if (t5g_any_failed(comm.world, fail)) goto done;
    fail = share_batch(&comm, &b) != 0;
    if (t5g_any_failed(comm.world, fail)) goto done;
    m = cli_load_model(a.model, a.device, &comm, !a.quiet);
    fail = !m;
    if (t5g_any_failed(comm.world, fail)) goto done;
    t5g_backbone_in bi = {b.B, b.Le, b.Ld, b.ids, b.mask, b.dids, b.dmask};
    fail = outputs_alloc(m, &b, &o) != 0;
    /* input errors (ids >= vocab) are found identically on every rank before any collective */
    if (!fail) fail = t5g_backbone(m, &bi, &o) != 0;
    if (t5g_any_failed(comm.world, fail)) goto done;
    if (comm.world_rank == 0) fail = write_outputs(a.out, a.raw, m, &b, &o) != 0;
done:
    batch_free(&b);
    outputs_free(&o);
    t5g_model_free(m);
    return cli_mpi_end(&comm, fail);
}
