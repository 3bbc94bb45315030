/* test_options.c - the options beyond the released model (docs/model.md):
 *  - t5_relative_bias: the attention op adds rel_bias[bucket(j - i), h] after the scale and
 *    before the soft-cap, checked against an independent double-precision reference that
 *    takes its buckets from HF T5's function (relbias.json), not from our code;
 *  - qk_norm: q and k are RMS-normalized per head, so scaling q_proj or k_proj changes nothing;
 *  - both survive save/load and config JSON round trips;
 *  - under mpirun -np 2: a TP=2 model with both options equals the serial model;
 *  - the generation options eos_token_id lists, stop_strings and target prefixes give HF
 *    generate's ids, texts and beam scores (tests/fixtures/gen/<case>/stopping.json) with the
 *    model split over all ranks (TP = 1 alone, TP = 2 under options_np2). */
#include "testutil.h"
#include "t5g.h"
#include "core/fileio.h"
#include "fixture_util.h"
#include "stopping_check.h"
#include <cJSON.h>
#include <dirent.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static int g_rank, g_size;

static int hf_bucket(const cJSON *rel, int r, int bidir, int nb, int md) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(rel, "cases")) {
        if (cJSON_IsTrue(cJSON_GetObjectItem(c, "bidirectional")) != bidir || cJSON_GetObjectItem(c, "num_buckets")->valueint != nb ||
            cJSON_GetObjectItem(c, "max_distance")->valueint != md) continue;
        const cJSON *rl = cJSON_GetObjectItem(c, "rel"), *bk = cJSON_GetObjectItem(c, "bucket");
        for (int i = 0; i < cJSON_GetArraySize(rl); i++)
            if (cJSON_GetArrayItem(rl, i)->valueint == r) return cJSON_GetArrayItem(bk, i)->valueint;
    }
    return -1;
}

static void test_relbias_attention(void) {
    char p[512];
    snprintf(p, sizeof p, "%s/prims/relbias.json", fixtures_dir());
    char *text = t5g_read_file(p, NULL);
    cJSON *rel = text ? cJSON_Parse(text) : NULL;
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rel);
    const int T = 40, nh = 3, hd = 8, nb = 32, md = 128;
    for (int causal = 0; causal < 2; causal++) {
        float q[T * nh * hd], k[T * hd], v[T * hd], out[T * nh * hd], table[nb * nh], scr[nh * T * T];
        for (int i = 0; i < T * nh * hd; i++) q[i] = sinf(0.37f * i) * 0.8f;
        for (int i = 0; i < T * hd; i++) { k[i] = cosf(0.11f * i) * 0.9f; v[i] = sinf(0.23f * i + 1); }
        for (int i = 0; i < nb * nh; i++) table[i] = 2.0f * sinf(1.3f * i);
        t5g_attn_args a = {0};
        a.Tq = T; a.Tk = T; a.nh = nh; a.nkv = 1; a.hd = hd; a.group = nh;
        a.q = q; a.ldq = nh * hd; a.k = k; a.ldk = hd; a.v = v; a.ldv = hd; a.out = out; a.ldo = nh * hd;
        a.mask = causal ? T5G_MASK_CAUSAL : T5G_MASK_BIDIR;
        a.scale = 0.35f; a.softcap = 5.0f; a.scratch = scr;
        a.rel_table = table; a.rel_buckets = nb; a.rel_max_distance = md; a.rel_bidirectional = !causal;
        t5g_backend_cpu()->attention(t5g_backend_cpu()->ctx, &a);
        double worst = 0;
        for (int h = 0; h < nh; h++)
            for (int i = 0; i < T; i++) {
                double s[64], mx = -1e300, sum = 0;
                int n = causal ? i + 1 : T;
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++) dot += (double)q[(i * nh + h) * hd + d] * k[j * hd + d];
                    int b = hf_bucket(rel, j - i, !causal, nb, md);
                    CU_ASSERT_FATAL(b >= 0);
                    double x = dot * 0.35 + table[b * nh + h];   /* bias after the scale ... */
                    s[j] = 5.0 * tanh(x / 5.0);                   /* ... before the soft-cap */
                    mx = fmax(mx, s[j]);
                }
                for (int j = 0; j < n; j++) { s[j] = exp(s[j] - mx); sum += s[j]; }
                for (int d = 0; d < hd; d++) {
                    double o = 0;
                    for (int j = 0; j < n; j++) o += s[j] / sum * v[j * hd + d];
                    worst = fmax(worst, fabs(o - out[(i * nh + h) * hd + d]));
                }
            }
        printf("\n    relative bias, %s: max|d| vs double reference %.2e", causal ? "decoder" : "encoder", worst);
        CU_ASSERT(worst <= 1e-5);
    }
    cJSON_Delete(rel);
}

static t5g_config options_config(void) {
    t5g_config c;
    t5g_config_preset("tiny", &c);
    c.enc.qk_norm = c.dec.qk_norm = 1;
    c.enc.position_encoding = c.dec.position_encoding = T5G_POS_T5_RELATIVE_BIAS;
    c.enc.rel_num_buckets = c.dec.rel_num_buckets = 16;
    c.enc.rel_max_distance = c.dec.rel_max_distance = 20;
    return c;
}

static void run(const t5g_model *m, float *logits) {
    int32_t enc[2 * 9] = {2, 5, 9, 33, 61, 8, 7, 0, 0, 2, 44, 12, 19, 25, 6, 301, 77, 4};
    int32_t em[2 * 9] = {1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    int32_t dec[2 * 5] = {2, 17, 18, 19, 20, 2, 40, 41, 42, 43};
    t5g_backbone_in in = {2, 9, 5, enc, em, dec, NULL};
    t5g_backbone_out out = {NULL, NULL, logits};
    CU_ASSERT_EQUAL_FATAL(t5g_backbone(m, &in, &out), 0);
}

static void scale_tensor(t5g_model *m, const char *suffix, float f) {
    for (int l = 0; l < m->cfg.enc.num_hidden_layers; l++) {
        float *w = !strcmp(suffix, "q") ? m->enc.layers[l].self_attn.q_proj.data : m->enc.layers[l].self_attn.k_proj.data;
        int rows = (!strcmp(suffix, "q") ? m->enc.sh.nh : m->enc.sh.nkv) * m->cfg.enc.head_dim;
        for (int i = 0; i < rows * m->cfg.enc.hidden_size; i++) w[i] *= f;
    }
}

static void test_qk_norm_and_roundtrip(void) {
    t5g_config c = options_config();
    t5g_comm self;
    t5g_comm_self(&self);
    t5g_model *m = t5g_model_random(&c, 11, &self);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    int n = 2 * 5 * c.dec.vocab_size;
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    run(m, a);
    scale_tensor(m, "q", 3.0f);
    scale_tensor(m, "k", 0.25f);
    run(m, b);
    double d = 0;
    for (int i = 0; i < n; i++) d = fmax(d, fabs(a[i] - b[i]));
    printf("\n    qk_norm: scaling q_proj x3 and k_proj x0.25 moves logits by %.2e", d);
    CU_ASSERT(d <= 1e-4);
    /* without qk_norm the same scaling must matter (the check above is not vacuous) */
    m->cfg.enc.qk_norm = 0;
    run(m, b);
    d = 0;
    for (int i = 0; i < n; i++) d = fmax(d, fabs(a[i] - b[i]));
    CU_ASSERT(d > 1e-2);
    m->cfg.enc.qk_norm = 1;
    scale_tensor(m, "q", 1.0f / 3.0f);
    scale_tensor(m, "k", 4.0f);
    /* save / load / config JSON keep the options */
    char path[128];
    snprintf(path, sizeof path, "/tmp/t5g_options_%d.h5", (int)getpid());
    CU_ASSERT_EQUAL_FATAL(t5g_model_save(m, path, "float32"), 0);
    t5g_model *r = t5g_model_load(path, &self);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(r->cfg.enc.position_encoding == T5G_POS_T5_RELATIVE_BIAS && r->cfg.dec.qk_norm && r->cfg.dec.rel_num_buckets == 16 && r->cfg.enc.rel_max_distance == 20);
    run(r, b);
    d = 0;
    for (int i = 0; i < n; i++) d = fmax(d, fabs(a[i] - b[i]));
    CU_ASSERT(d <= 1e-4);
    unlink(path);
    free(a); free(b);
    t5g_model_free(m);
    t5g_model_free(r);
}

/* position_encoding "none": without positions (and without windows) the encoder is permutation
 * equivariant: permuting the tokens permutes its outputs; with RoPE it is not (not vacuous) */
static double permutation_gap(t5g_position_encoding pe) {
    t5g_config c;
    t5g_config_preset("tiny", &c);
    c.enc.position_encoding = c.dec.position_encoding = pe;
    for (int l = 0; l < T5G_MAX_LAYERS; l++) c.enc.layer_sliding[l] = c.dec.layer_sliding[l] = 0;
    t5g_comm self;
    t5g_comm_self(&self);
    t5g_model *m = t5g_model_random(&c, 5, &self);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    enum { L = 7 };
    int32_t enc[L] = {2, 5, 9, 33, 61, 8, 7}, perm[L] = {0, 3, 1, 6, 2, 5, 4}, encp[L], em[L] = {1, 1, 1, 1, 1, 1, 1};
    int32_t dec[2] = {2, 17};
    for (int i = 0; i < L; i++) encp[i] = enc[perm[i]];
    int H = c.enc.hidden_size;
    float *a = malloc(sizeof(float) * L * H), *b = malloc(sizeof(float) * L * H);
    t5g_backbone_in in = {1, L, 2, enc, em, dec, NULL}, inp = {1, L, 2, encp, em, dec, NULL};
    t5g_backbone_out out = {a, NULL, NULL}, outp = {b, NULL, NULL};
    CU_ASSERT_EQUAL_FATAL(t5g_backbone(m, &in, &out), 0);
    CU_ASSERT_EQUAL_FATAL(t5g_backbone(m, &inp, &outp), 0);
    double d = 0;
    for (int i = 0; i < L; i++)
        for (int h = 0; h < H; h++) d = fmax(d, fabs(b[i * H + h] - a[perm[i] * H + h]));
    free(a);
    free(b);
    t5g_model_free(m);
    return d;
}

static void test_no_position_encoding(void) {
    double none = permutation_gap(T5G_POS_NONE), rope = permutation_gap(T5G_POS_ROPE);
    printf("\n    permuted tokens: encoder outputs permuted within %.2e without positions, %.2e with RoPE", none, rope);
    CU_ASSERT(none <= 1e-5);
    CU_ASSERT(rope > 1e-3);
    t5g_config c;
    t5g_config_preset("tiny", &c);
    c.enc.position_encoding = T5G_POS_NONE;
    char *json = t5g_config_to_json(&c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"none\""));
    t5g_config r;
    CU_ASSERT_EQUAL(t5g_config_from_json(json, &r), 0);
    CU_ASSERT_EQUAL(r.enc.position_encoding, T5G_POS_NONE);
    free(json);
}

/* under mpirun -np 2: TP=2 with both options == serial */
static void test_tp(void) {
    if (g_size < 2) { printf("\n    (run under mpirun -np 2 for the TP check)"); return; }
    t5g_config c = options_config();
    t5g_comm tp, self;
    CU_ASSERT_EQUAL_FATAL(t5g_comm_init(&tp, g_size), 0);
    t5g_comm_self(&self);
    t5g_model *a = t5g_model_random(&c, 11, &tp), *b = t5g_model_random(&c, 11, &self);
    CU_ASSERT_FATAL(a && b);
    int n = 2 * 5 * c.dec.vocab_size;
    float *la = malloc(sizeof(float) * n), *lb = malloc(sizeof(float) * n);
    run(a, la);
    run(b, lb);
    double d = 0, scale = 1;
    for (int i = 0; i < n; i++) { d = fmax(d, fabs(la[i] - lb[i])); scale = fmax(scale, fabs(lb[i])); }
    if (g_rank == 0) printf("\n    TP=%d with qk_norm + relative bias vs serial: max|d| %.2e", g_size, d);
    CU_ASSERT(d / scale <= 1e-5);
    free(la); free(lb);
    t5g_model_free(a); t5g_model_free(b);
    t5g_comm_free(&tp);
}

/* stopping.json at TP = all ranks (1 alone, 2 under options_np2) */
static void test_stopping_tp(void) {
    char names[64][256];
    int n = fixture_cases("gen", names, 64);  /* sorted: the same order on every rank */
    t5g_comm tp;
    CU_ASSERT_EQUAL_FATAL(t5g_comm_init(&tp, g_size), 0);
    stopping_stats st = {0};
    int cases = 0;
    for (int i = 0; i < n; i++) {
        char dir[1024], h5[256];
        snprintf(dir, sizeof dir, "%s/gen/%s", fixtures_dir(), names[i]);
        snprintf(h5, sizeof h5, "/tmp/t5g_options_gen_%d.h5", (int)getpid());
        MPI_Bcast(h5, sizeof h5, MPI_CHAR, 0, MPI_COMM_WORLD);  /* rank 0's name */
        int bad = g_rank == 0 && fixture_convert(dir, h5) != 0;
        MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
        CU_ASSERT_FATAL(!bad);
        t5g_model *m = t5g_model_load(h5, &tp);
        MPI_Barrier(MPI_COMM_WORLD);
        if (g_rank == 0) unlink(h5);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        cJSON *gen = fixture_json(dir, "gen.json");
        int B = 0, L = 0, B2 = 0, L2 = 0;
        int32_t *ids = fixture_matrix(gen, "input_ids", &B, &L), *mask = fixture_matrix(gen, "attention_mask", &B2, &L2);
        CU_ASSERT_FATAL(ids && mask && B == B2 && L == L2 && B <= 64);
        int len[64] = {0};
        for (int b = 0; b < B; b++)
            for (int t = 0; t < L; t++) len[b] += mask[b * L + t];
        CU_ASSERT_EQUAL(stopping_check_case(m, dir, ids, len, B, L, &st), 0);
        free(ids);
        free(mask);
        cJSON_Delete(gen);
        t5g_model_free(m);
        cases++;
    }
    printf("\n    TP=%d: %d cases, %d stopping/prefix runs, %d rows compared with HF, max |beam score diff| %.2e", g_size, cases, st.runs,
           st.rows, st.worst);
    CU_ASSERT(cases >= 3 && st.runs >= 24);
    CU_ASSERT(st.fffd <= 1);  /* the one known U+FFFD row (stopping_check.h) */
    CU_ASSERT(st.worst < 1e-4);
    t5g_comm_free(&tp);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    t5g_cpu_setup(1);
    if (g_rank != 0 && !freopen("/dev/null", "w", stdout)) return 2;
    static CU_TestInfo tests[] = {{"relative bias in attention == double reference", test_relbias_attention},
                                  {"qk_norm scale invariance, save/load round trip", test_qk_norm_and_roundtrip},
                                  {"position_encoding none: permutation equivariant encoder", test_no_position_encoding},
                                  {"TP with both options == serial", test_tp},
                                  {"eos ids / stop strings / target prefix == HF at TP = ranks", test_stopping_tp},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"options", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    int rc = t5g_test_main(suites), any = 0;
    MPI_Allreduce(&rc, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any;
}
