/* test_t5gemma2.c - T5Gemma 2 (text) against Hugging Face transformers (eager, float32).
 * For every tests/fixtures/t5g2/<case>/ (tests/reference/make_t5g2_fixtures.py): convert hf/ with
 * `build/t5g convert` (vision tower skipped with a note), run the backbone on batch.json and compare
 * encoder output, decoder output and logits at valid positions (max |Δ| <= 1e-4); greedy and beam
 * sequences identical to HF generate.  Run alone it uses one rank; under `mpirun -np 2` the same
 * checks run with TP = 2 (the ids must still be identical).  One rank also checks: parameter count
 * = the checkpoint's text tensors, v1/v2 config-weights mismatches (convert and load) give one clear
 * error, image tokens are rejected. */
#include "mpi_testutil.h"
#include "fixture_util.h"
#include "t5g.h"
#include "core/fileio.h"
#include "generate/generate.h"
#include "io/ckpt.h"
#include "io/safetensors.h"
#include <cJSON.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static const char *CASES[] = {"basic", "window", "tp", "linear"};
#define NCASES 4

/* Convert on rank 0 (the file is shared); every rank loads its slice. */
static t5g_model *convert_from(const char *name, const char *hf, char *dir, size_t n) {
    snprintf(dir, n, "%s/t5g2/%s", fixtures_dir(), name);
    char h5[512], cmd[2048];
    snprintf(h5, sizeof h5, "/tmp/t5g_t5g2_%d_%s_%d.h5", g_job, name, g_comm.world_size);
    int ok = 1;
    if (g_comm.world_rank == 0) {
        snprintf(cmd, sizeof cmd, "./build/t5g convert --hf %s/%s -o %s > /dev/null", dir, hf, h5);
        ok = system(cmd) == 0;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok) return NULL;
    t5g_model *m = t5g_model_load(h5, &g_comm);
    if (!m) printf("\n  load %s failed: %s\n", h5, t5g_last_error());
    return m;
}

static t5g_model *convert_and_load(const char *name, char *dir, size_t n) { return convert_from(name, "hf", dir, n); }

static void forward_case(const char *name, const char *hf) {
    char dir[512];
    t5g_model *m = convert_from(name, hf, dir, sizeof dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->cfg.version, 2);
    double d[3];
    fixture_forward_diff(m, dir, d);
    double de = d[0], dd = d[1], dl = d[2];
    printf("\n    %-7s TP=%d max|d| encoder %.2e decoder %.2e logits %.2e (%s)", name, g_comm.tp_size, de, dd, dl, hf);
    CU_ASSERT(de <= 1e-4);
    CU_ASSERT(dd <= 1e-4);
    CU_ASSERT(dl <= 1e-4);
    t5g_model_free(m);
}

static int same_ids(const t5g_request *r, cJSON *want) {
    int n = cJSON_GetArraySize(want);
    if (r->nout != n) return 0;
    for (int i = 0; i < n; i++)
        if (r->out[i] != cJSON_GetArrayItem(want, i)->valueint) return 0;
    return 1;
}

static void print_ids(const char *what, int row, const t5g_request *r, cJSON *want) {
    printf("\n      %s row %d ours:", what, row);
    for (int i = 0; i < r->nout; i++) printf(" %d", r->out[i]);
    printf("  hf:");
    for (int i = 0; i < cJSON_GetArraySize(want); i++) printf(" %d", cJSON_GetArrayItem(want, i)->valueint);
}

/* HF generate's greedy and beam (4 beams, lp 1.0, early_stopping False) sequences, ids identical. */
static void generate_case(const char *name) {
    char dir[512];
    t5g_model *m = convert_and_load(name, dir, sizeof dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    cJSON *gen = fixture_json(dir, "gen.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gen);
    cJSON *reqs = cJSON_GetObjectItem(gen, "requests");
    int B = cJSON_GetArraySize(reqs);
    for (int mode = 0; mode < 2; mode++) {
        cJSON *want = mode == 0 ? cJSON_GetObjectItem(gen, "greedy")
                                : cJSON_GetObjectItem(cJSON_GetObjectItem(gen, "beam"), "sequences");
        t5g_request *r = calloc(B, sizeof *r);
        int32_t **bufs = calloc(B, sizeof *bufs);
        for (int b = 0; b < B; b++) {
            cJSON *row = cJSON_GetArrayItem(reqs, b);
            r[b].index = b;
            r[b].n = cJSON_GetArraySize(row);
            bufs[b] = malloc(sizeof(int32_t) * r[b].n);
            for (int i = 0; i < r[b].n; i++) bufs[b][i] = cJSON_GetArrayItem(row, i)->valueint;
            r[b].ids = bufs[b];
        }
        t5g_gen_opts o;
        t5g_gen_defaults(&o);
        o.max_new_tokens = cJSON_GetObjectItem(gen, "max_new_tokens")->valueint;
        if (mode == 1) {
            o.search = "beam";
            o.num_beams = 4;
            o.length_penalty = 1.0f;
            o.early_stopping = T5G_EARLY_FALSE;
        }
        int rc = t5g_generate_batch(m, r, B, &o);
        if (rc) printf("\n  generate failed: %s\n", t5g_last_error());
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        int same = 0;
        double worst = 0;
        cJSON *scores = cJSON_GetObjectItem(cJSON_GetObjectItem(gen, "beam"), "sequences_scores");
        for (int b = 0; b < B; b++) {
            int ok = same_ids(&r[b], cJSON_GetArrayItem(want, b));
            same += ok;
            if (mode == 1) {  /* HF's sequences_scores: sum of log-probs / len^lp */
                double d = fabs(r[b].score - cJSON_GetArrayItem(scores, b)->valuedouble);
                worst = d > worst || d != d ? d : worst;
            }
            if (!ok) print_ids(mode ? "beam" : "greedy", b, &r[b], cJSON_GetArrayItem(want, b));
            free(r[b].out);
            free(bufs[b]);
        }
        printf("\n    %-7s TP=%d %s: %d/%d sequences identical to HF generate", name, g_comm.tp_size,
               mode ? "beam(4)" : "greedy", same, B);
        if (mode == 1) printf(", max |score - HF| %.2e", worst);
        CU_ASSERT_EQUAL(same, B);
        CU_ASSERT(worst <= 1e-4);
        free(r);
        free(bufs);
    }
    cJSON_Delete(gen);
    t5g_model_free(m);
}

/* Sampling (temperature / top-k / top-p, per-request seeds) through the same search code: no HF
 * reference (torch RNG), but the ids must not depend on the TP size: the TP model and a one-rank
 * model of the same checkpoint draw the same tokens; and they are valid ids that stop at eos. */
static void sample_case(const char *name) {
    char dir[512];
    t5g_model *m = convert_and_load(name, dir, sizeof dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    char h5[512];
    snprintf(h5, sizeof h5, "/tmp/t5g_t5g2_%d_%s_%d.h5", g_job, name, g_comm.world_size);
    t5g_comm self;
    t5g_comm_self(&self);
    t5g_model *one = t5g_model_load(h5, &self);
    CU_ASSERT_PTR_NOT_NULL_FATAL(one);
    cJSON *gen = fixture_json(dir, "gen.json");
    cJSON *reqs = cJSON_GetObjectItem(gen, "requests");
    int B = cJSON_GetArraySize(reqs), same = 0, n_eos = 0;
    t5g_request r[8], q[8];
    int32_t ids[8][64];
    CU_ASSERT_FATAL(B <= 8);
    for (int b = 0; b < B; b++) {
        cJSON *row = cJSON_GetArrayItem(reqs, b);
        memset(&r[b], 0, sizeof r[b]);
        r[b].index = b;
        r[b].seed = 1000 + b;
        r[b].n = cJSON_GetArraySize(row);
        for (int i = 0; i < r[b].n; i++) ids[b][i] = cJSON_GetArrayItem(row, i)->valueint;
        r[b].ids = ids[b];
        q[b] = r[b];
    }
    t5g_gen_opts o;
    t5g_gen_defaults(&o);
    o.search = "sample";
    o.max_new_tokens = 12;
    o.temperature = 0.7f;
    o.top_k = 20;
    o.top_p = 0.9f;
    CU_ASSERT_EQUAL_FATAL(t5g_generate_batch(m, r, B, &o), 0);
    CU_ASSERT_EQUAL_FATAL(t5g_generate_batch(one, q, B, &o), 0);
    for (int b = 0; b < B; b++) {
        int ok = r[b].nout == q[b].nout && r[b].nout > 0 && !memcmp(r[b].out, q[b].out, sizeof(int32_t) * r[b].nout);
        for (int i = 0; i < r[b].nout; i++) ok &= r[b].out[i] >= 0 && r[b].out[i] < m->cfg.dec.vocab_size;
        n_eos += r[b].nout > 0 && r[b].out[r[b].nout - 1] == 1;
        same += ok;
        free(r[b].out);
        free(q[b].out);
    }
    printf("\n    %-7s TP=%d sampling: %d/%d rows identical to the one-rank model (%d stopped at eos)", name,
           g_comm.tp_size, same, B, n_eos);
    CU_ASSERT_EQUAL(same, B);
    cJSON_Delete(gen);
    t5g_model_free(one);
    t5g_model_free(m);
}

static void test_sample(void) {
    for (int i = 0; i < NCASES; i++) sample_case(CASES[i]);
}

static void test_forward(void) {
    for (int i = 0; i < NCASES; i++) forward_case(CASES[i], "hf");
    /* the same checkpoint with the encoder's tensors under model.encoder.text_model. */
    forward_case("basic", "hf_text_model");
}

static void test_generate(void) {
    for (int i = 0; i < NCASES; i++) generate_case(CASES[i]);
}

/* ---- one-rank checks ---- */

/* t5g_config_param_count = the text tensors of the HF checkpoint (vision tower excluded). */
static void test_param_count(void) {
    if (g_comm.world_size > 1) return;
    for (int i = 0; i < NCASES; i++) {
        char dir[512], p[600];
        snprintf(dir, sizeof dir, "%s/t5g2/%s/hf", fixtures_dir(), CASES[i]);
        snprintf(p, sizeof p, "%s/config.json", dir);
        char *txt = t5g_read_file(p, NULL);
        t5g_config c;
        CU_ASSERT_EQUAL_FATAL(t5g_config_from_json(txt, &c), 0);
        free(txt);
        t5g_st *st = t5g_st_open(dir);
        CU_ASSERT_PTR_NOT_NULL_FATAL(st);
        int64_t text = 0;
        for (int k = 0; k < t5g_st_count(st); k++) {
            const t5g_st_tensor *t = t5g_st_get(st, k);
            if (!strstr(t->name, "vision_tower") && !strstr(t->name, "multi_modal_projector")) text += t->numel;
        }
        t5g_st_close(st);
        CU_ASSERT_EQUAL(t5g_config_param_count(&c), text);
    }
    /* presets parse, validate and round-trip through JSON */
    const char *names[] = {"t5gemma-2-270m-270m", "t5gemma-2-1b-1b", "t5gemma-2-4b-4b", "tiny-t5g2"};
    for (int i = 0; i < 4; i++) {
        t5g_config c, back;
        CU_ASSERT_EQUAL_FATAL(t5g_config_preset(names[i], &c), 0);
        CU_ASSERT_EQUAL(c.version, 2);
        CU_ASSERT_EQUAL(t5g_config_validate(&c), 0);
        char *js = t5g_config_to_json(&c);
        CU_ASSERT_EQUAL_FATAL(t5g_config_from_json(js, &back), 0);
        free(js);
        CU_ASSERT_EQUAL(t5g_config_param_count(&back), t5g_config_param_count(&c));
        CU_ASSERT_EQUAL(back.enc.rope_local_theta, c.enc.rope_local_theta);
        CU_ASSERT_EQUAL(back.dec.rope_factor, c.dec.rope_factor);
        /* the released configs: linear factor 8 on full layers, none on sliding layers */
        CU_ASSERT_EQUAL(c.enc.rope_factor, i < 3 ? 8.0f : 0.0f);
        CU_ASSERT_EQUAL(c.dec.rope_local_factor, 0.0f);
        CU_ASSERT_EQUAL(back.enc.window_split, 1);
        CU_ASSERT_EQUAL(back.dec.window_split, 0);
        printf("\n    %-20s %lld parameters (text)", names[i], (long long)t5g_config_param_count(&c));
    }
}

/* Bad T5Gemma 2 configs: one clear error naming the field. */
static void test_bad_configs(void) {
    if (g_comm.world_size > 1) return;
    char p[600];
    snprintf(p, sizeof p, "%s/t5g2/basic/hf/config.json", fixtures_dir());
    char *txt = t5g_read_file(p, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(txt);
    struct { const char *from, *to, *msg; } bad[] = {
        {"\"rope_type\": \"default\"", "\"rope_type\": \"yarn\"", "rope_type 'yarn' is not supported"},
        {"\"hidden_size\": 32", "\"hidden_size\": 48", "equal encoder and decoder hidden_size"},
        {"\"model_type\": \"t5gemma2\"", "\"model_type\": \"t5gemma3\"", "expected 't5gemma'"},
        {"\"tie_word_embeddings\": true,\n  \"transformers_version\"", "\"tie_word_embeddings\": false,\n  \"transformers_version\"",
         "tie_word_embeddings=false"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char *at = strstr(txt, bad[k].from);
        CU_ASSERT_PTR_NOT_NULL_FATAL(at);
        size_t n = strlen(txt) + 64;
        char *mod = malloc(n);
        snprintf(mod, n, "%.*s%s%s", (int)(at - txt), txt, bad[k].to, at + strlen(bad[k].from));
        t5g_config c;
        CU_ASSERT_NOT_EQUAL(t5g_config_from_json(mod, &c), 0);
        printf("\n    %s", t5g_last_error());
        CU_ASSERT(strstr(t5g_last_error(), bad[k].msg) != NULL);
        free(mod);
    }
    /* a legacy rope_scaling object applies to the full layers, as HF's config does */
    char *at = strstr(txt, "\"sliding_window\": 4");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    size_t n = strlen(txt) + 128;
    char *mod = malloc(n);
    snprintf(mod, n, "%.*s\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 8.0}, %s", (int)(at - txt), txt, at);
    t5g_config c;
    CU_ASSERT_EQUAL(t5g_config_from_json(mod, &c), 0);
    CU_ASSERT(c.dec.rope_factor == 8.0f && c.dec.rope_local_factor == 0);
    free(mod);
    free(txt);
}

/* t5g plan / state sizing: the self cache holds [Le encoder | Tmax decoder] keys per row */
static void test_state_memory(void) {
    if (g_comm.world_size > 1) return;
    t5g_config c;
    CU_ASSERT_EQUAL_FATAL(t5g_config_preset("t5gemma-2-1b-1b", &c), 0);
    t5g_shard e, d;
    CU_ASSERT_EQUAL_FATAL(t5g_shard_plan(&c.enc, 0, 1, &e), 0);
    CU_ASSERT_EQUAL_FATAL(t5g_shard_plan(&c.dec, 0, 1, &d), 0);
    t5g_state_mem mem;
    int B = 8, K = 4, Le = 512, Tmax = 129;
    t5g_state_memory(&c, &e, &d, B, Le, B * K, Tmax, &mem);
    int64_t kvw = (int64_t)d.nkv * c.dec.head_dim, L = c.dec.num_hidden_layers;
    int64_t want = 4 * 2 * L * (((int64_t)B * K * (Le + Tmax) * kvw + 15) & ~15LL);
    CU_ASSERT_EQUAL(mem.self_kv, want);
    printf("\n    1b-1b, batch %d x %d beams, Le %d, Tmax %d: self+merged cache %.3f GiB, cross k/v %.3f GiB", B, K, Le,
           Tmax, mem.self_kv / 1073741824.0, mem.cross_kv / 1073741824.0);
}

/* run a command; its combined output in out (rc returned) */
static int run_cmd(const char *cmd, char *out, size_t n) {
    char full[3072];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *f = popen(full, "r");
    if (!f) return -1;
    size_t k = fread(out, 1, n - 1, f);
    out[k] = 0;
    return pclose(f);
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* config of one generation, weights of the other -> one clear error naming the mismatch */
static void test_version_mismatch(void) {
    if (g_comm.world_size > 1) return;
    char cmd[2048], out[4096];
    const char *fx = fixtures_dir();
    const char *d = tpath("v2cfg_v1w"), *e = tpath("v1cfg_v2w");
    snprintf(cmd, sizeof cmd, "mkdir -p %s %s && cp %s/t5g2/basic/hf/config.json %s/ && cp %s/fwd/mha/hf/model.safetensors %s/"
             " && cp %s/fwd/mha/hf/config.json %s/ && cp %s/t5g2/basic/hf/model.safetensors %s/",
             d, e, fx, d, fx, d, fx, e, fx, e);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "./build/t5g convert --hf %s -o %s", d, tpath("x.h5"));
    CU_ASSERT_NOT_EQUAL(run_cmd(cmd, out, sizeof out), 0);
    printf("\n    %s", out);
    CU_ASSERT(strstr(out, "t5g: error:") && strstr(out, "T5Gemma 2") && strstr(out, "weights are T5Gemma (v1)"));
    CU_ASSERT_EQUAL(count_lines(out), 1);
    CU_ASSERT(access(tpath("x.h5"), F_OK) != 0);
    snprintf(cmd, sizeof cmd, "./build/t5g convert --hf %s -o %s", e, tpath("y.h5"));
    CU_ASSERT_NOT_EQUAL(run_cmd(cmd, out, sizeof out), 0);
    printf("    %s", out);
    CU_ASSERT(strstr(out, "t5g: error:") && strstr(out, "weights are T5Gemma 2"));
    CU_ASSERT_EQUAL(count_lines(out), 1);
    CU_ASSERT(access(tpath("y.h5"), F_OK) != 0);
    /* an HDF5 checkpoint whose config says v1 but whose tensors are v2 (and the reverse) */
    for (int k = 0; k < 2; k++) {
        t5g_config c;
        CU_ASSERT_EQUAL_FATAL(t5g_config_preset(k ? "tiny-t5g2" : "tiny", &c), 0);
        char *js = t5g_config_to_json(&c);
        const char *path = tpath(k ? "v2cfg.h5" : "v1cfg.h5");
        t5g_ckpt_writer *w = t5g_ckpt_create(path, js, "float32");
        free(js);
        CU_ASSERT_PTR_NOT_NULL_FATAL(w);
        float z[64] = {0};
        int64_t shape[2] = {64, 1};
        const char *other = k ? "model/decoder/layers/0/cross_attn/q_proj/weight" : "model/encoder/embed_tokens/eoi_embedding";
        CU_ASSERT_EQUAL(t5g_ckpt_write(w, other, 1, shape, z), 0);
        CU_ASSERT_EQUAL(t5g_ckpt_finish(w), 0);
        t5g_comm self;
        t5g_comm_self(&self);
        t5g_model *m = t5g_model_load(path, &self);
        CU_ASSERT_PTR_NULL(m);
        printf("    load: %s\n", t5g_last_error());
        CU_ASSERT(strstr(t5g_last_error(), k ? "weights are T5Gemma (v1)" : "weights are T5Gemma 2") != NULL);
        t5g_model_free(m);
    }
}

/* the vision tower is skipped with a note; image placeholders in the input are one clear error */
static void test_text_only(void) {
    if (g_comm.world_size > 1) return;
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "./build/t5g convert --hf %s/t5g2/basic/hf -o %s", fixtures_dir(), tpath("basic.h5"));
    CU_ASSERT_EQUAL(run_cmd(cmd, out, sizeof out), 0);
    CU_ASSERT(strstr(out, "vision tensors") != NULL);
    t5g_model *m = t5g_model_load(tpath("basic.h5"), &g_comm);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    t5g_state *s = t5g_state_new(m, 1, 4, 1, 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int32_t ids[4] = {5, 6, m->cfg.image_token_index, 1};
    CU_ASSERT_NOT_EQUAL(t5g_encode(s, ids, NULL), 0);
    CU_ASSERT(strstr(t5g_last_error(), "image") != NULL);
    ids[2] = 7;
    CU_ASSERT_EQUAL(t5g_encode(s, ids, NULL), 0);
    t5g_state_free(s);
    t5g_model_free(m);
}

/* `t5g generate` on a converted T5Gemma 2 checkpoint (input_ids JSONL): beam ids as HF's */
static void test_cli_generate(void) {
    if (g_comm.world_size > 1) return;
    char dir[512], cmd[3072], out[4096];
    snprintf(dir, sizeof dir, "%s/t5g2/window", fixtures_dir());
    cJSON *gen = fixture_json(dir, "gen.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gen);
    cJSON *reqs = cJSON_GetObjectItem(gen, "requests"), *want = cJSON_GetObjectItem(cJSON_GetObjectItem(gen, "beam"), "sequences");
    FILE *f = fopen(tpath("in.jsonl"), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int b = 0; b < cJSON_GetArraySize(reqs); b++) {
        char *row = cJSON_PrintUnformatted(cJSON_GetArrayItem(reqs, b));
        fprintf(f, "{\"id\":\"r%d\",\"input_ids\":%s}\n", b, row);
        free(row);
    }
    fclose(f);
    snprintf(cmd, sizeof cmd, "./build/t5g convert --hf %s/hf -o %s > /dev/null && ./build/t5g generate -m %s -i %s -o %s "
             "--beams 4 --max-new-tokens %d -q", dir, tpath("w.h5"), tpath("w.h5"), tpath("in.jsonl"), tpath("out.jsonl"),
             cJSON_GetObjectItem(gen, "max_new_tokens")->valueint);
    CU_ASSERT_EQUAL_FATAL(run_cmd(cmd, out, sizeof out), 0);
    char *text = t5g_read_file(tpath("out.jsonl"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    int rows = 0, same = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), rows++) {
        cJSON *o = cJSON_Parse(line);
        int b = atoi(cJSON_GetObjectItem(o, "id")->valuestring + 1);
        cJSON *ids = cJSON_GetObjectItem(o, "output_ids"), *w = cJSON_GetArrayItem(want, b);
        int ok = cJSON_GetArraySize(ids) == cJSON_GetArraySize(w);
        for (int i = 0; ok && i < cJSON_GetArraySize(w); i++)
            ok = cJSON_GetArrayItem(ids, i)->valueint == cJSON_GetArrayItem(w, i)->valueint;
        same += ok;
        cJSON_Delete(o);
    }
    printf("\n    t5g generate --beams 4: %d/%d rows identical to HF", same, rows);
    CU_ASSERT_EQUAL(rows, cJSON_GetArraySize(reqs));
    CU_ASSERT_EQUAL(same, rows);
    free(text);
    cJSON_Delete(gen);
}

int main(int argc, char **argv) {
    if (mpi_test_init(&argc, &argv, 0)) return 2;
    static CU_TestInfo tests[] = {{"forward vs HF (encoder, decoder, logits)", test_forward},
                                  {"greedy and beam ids vs HF generate", test_generate},
                                  {"sampling ids independent of the TP size", test_sample},
                                  {"parameter counts and presets", test_param_count},
                                  {"bad T5Gemma 2 configs", test_bad_configs},
                                  {"state / plan sizing of the merged cache", test_state_memory},
                                  {"v1/v2 config-weights mismatch", test_version_mismatch},
                                  {"text only: vision skipped, image ids rejected", test_text_only},
                                  {"t5g generate CLI", test_cli_generate},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"t5gemma2", tmpdir_init, tmpdir_clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    int rc = mpi_test_run(suites);
    if (g_comm.world_rank == 0)  /* the converted checkpoints of convert_from */
        for (int i = 0; i < NCASES; i++) {
            char h5[512];
            snprintf(h5, sizeof h5, "/tmp/t5g_t5g2_%d_%s_%d.h5", g_job, CASES[i], g_comm.world_size);
            unlink(h5);
        }
    return mpi_test_end(rc);
}
