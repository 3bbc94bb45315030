/* test_scalapack_mpi.c - the 2-D block-cyclic encoder layout (src/model/scalapack_layout.c,
 * --encoder-layout 2d) under mpirun -np 1, 2, 4.  For every forward fixture the TP size can split,
 * on its batch repeated to 4x the rows, the encoder output, decoder output and logits with the 2-D
 * layout (the automatic grid, and every R x C grid of the TP size with small blocks, so that blocks
 * wrap around the grid) must match the 1-D TP layout within the TP tests' tolerance (1e-5 relative
 * to the tensor's scale) with identical arg-max.  Also: bad specs, a grid that does not match the
 * TP size and non-float32 weights fail with one clear message.  Exits 77 (skip) when this build
 * has no ScaLAPACK. */
#include "mpi_testutil.h"
#include "fixture_util.h"
#include "t5g.h"
#include "core/fileio.h"
#include "model/scalapack_layout.h"
#include <cJSON.h>
#include <dirent.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static char g_h5[512];

static int argmax(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

typedef fixture_batch batch;

/* the fixture's batch with every row repeated `rep` times (more tokens than blocks on the grid) */
static void load_batch(const char *dir, int rep, batch *b) {
    fixture_batch f;
    CU_ASSERT_EQUAL_FATAL(fixture_batch_load(dir, &f), 0);
    *b = f;
    b->B = f.B * rep;
    int32_t *src[4] = {f.ids, f.mask, f.dids, f.dmask}, **out[4] = {&b->ids, &b->mask, &b->dids, &b->dmask};
    for (int k = 0; k < 4; k++) {
        int L = k < 2 ? b->Le : b->Ld;
        *out[k] = malloc(sizeof(int32_t) * b->B * L);
        for (int r = 0; r < b->B; r++)
            memcpy(*out[k] + (size_t)r * L, src[k] + (size_t)(r % f.B) * L, sizeof(int32_t) * L);
    }
    fixture_batch_free(&f);
}

typedef struct {
    float *e, *d, *l;
} outputs;

static int run(const t5g_model *m, const batch *b, outputs *o) {
    int He = m->cfg.enc.hidden_size, Hd = m->cfg.dec.hidden_size, V = m->cfg.dec.vocab_size;
    o->e = malloc(sizeof(float) * b->B * b->Le * He);
    o->d = malloc(sizeof(float) * b->B * b->Ld * Hd);
    o->l = malloc(sizeof(float) * b->B * b->Ld * V);
    t5g_backbone_in in = {b->B, b->Le, b->Ld, b->ids, b->mask, b->dids, b->dmask};
    t5g_backbone_out out = {o->e, o->d, o->l};
    return t5g_backbone(m, &in, &out);
}

static void free_outputs(outputs *o) {
    free(o->e);
    free(o->d);
    free(o->l);
}

/* worst |2-D - 1-D| / max(1, max|1-D|) over the three outputs, and whether every arg-max agrees */
static double compare(const t5g_model *m, const batch *b, const outputs *x, const outputs *ref, int *same_argmax) {
    int He = m->cfg.enc.hidden_size, Hd = m->cfg.dec.hidden_size, V = m->cfg.dec.vocab_size;
    const float *a[3] = {x->e, x->d, x->l}, *r[3] = {ref->e, ref->d, ref->l};
    int64_t n[3] = {(int64_t)b->B * b->Le * He, (int64_t)b->B * b->Ld * Hd, (int64_t)b->B * b->Ld * V};
    double worst = 0;
    for (int k = 0; k < 3; k++) {
        double err = 0, scale = 1;
        for (int64_t i = 0; i < n[k]; i++) {
            err = fmax(err, fabs(a[k][i] - r[k][i]));
            scale = fmax(scale, fabs(r[k][i]));
        }
        worst = fmax(worst, err / scale);
    }
    *same_argmax = 1;
    for (int t = 0; t < b->B * b->Ld; t++)
        if (b->dmask[t] && argmax(x->l + (int64_t)t * V, V) != argmax(ref->l + (int64_t)t * V, V)) *same_argmax = 0;
    return worst;
}

static void run_case(const char *dir, const char *name) {
    snprintf(g_h5, sizeof g_h5, "/tmp/t5g_sl_%d_%s.h5", g_job, name);
    int ok = g_comm.world_rank != 0 || fixture_convert(dir, g_h5) == 0;
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    CU_ASSERT_FATAL(ok);
    batch b;
    load_batch(dir, 4, &b);
    /* float32 weights in memory for both (a bfloat16 checkpoint is widened; PSGEMM needs float32) */
    t5g_model *one = t5g_model_load_as(g_h5, &g_comm, NULL, "f32"), *two = t5g_model_load_as(g_h5, &g_comm, NULL, "f32");
    CU_ASSERT_PTR_NOT_NULL_FATAL(one);
    CU_ASSERT_PTR_NOT_NULL_FATAL(two);
    outputs ref;
    CU_ASSERT_EQUAL_FATAL(run(one, &b, &ref), 0);
    /* the automatic grid with its default blocks, then every R x C = p with blocks of 3 to 5 */
    char specs[16][32];
    int ns = 0, p = g_comm.tp_size;
    snprintf(specs[ns++], 32, "2d");
    for (int r = 1; r <= p && ns < 16; r++)
        if (p % r == 0) snprintf(specs[ns++], 32, "2d:%dx%d:%d", r, p / r, 3 + r % 3);
    for (int i = 0; i < ns; i++) {
        t5g_enc_layout lay;
        CU_ASSERT_EQUAL_FATAL(t5g_enc_layout_parse(specs[i], &lay), 0);
        t5g_enc2d_detach(two);
        CU_ASSERT_EQUAL_FATAL(t5g_enc2d_attach(two, &lay), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(two->enc2d); /* the encoder really takes the 2-D path */
        outputs o;
        CU_ASSERT_EQUAL(run(two, &b, &o), 0);
        int same = 0;
        double w = compare(two, &b, &o, &ref, &same), wmax = 0;
        int all_same = 0;
        MPI_Allreduce(&w, &wmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        char d[96];
        if (g_comm.world_rank == 0)
            printf("\n  %-10s TP=%d %-14s %-40s max|2D-1D| scaled %.2e", name, p, specs[i],
                   t5g_enc2d_describe(two, d, sizeof d), wmax);
        CU_ASSERT(wmax <= 1e-5);
        CU_ASSERT(all_same);
        free_outputs(&o);
    }
    free_outputs(&ref);
    t5g_model_free(one);
    t5g_model_free(two);
    fixture_batch_free(&b);
    mpi_unlink_shared(g_h5);
}

static void test_fixtures(void) {
    /* the fixtures that split at TP <= 4 (mha, gqa, ...) must not all vanish */
    CU_ASSERT(mpi_each_fwd_fixture(run_case) >= 2);
}

/* bad specs, a grid of the wrong size, weights that PSGEMM cannot take: one clear error each */
static void test_errors(void) {
    t5g_enc_layout lay;
    const char *bad[] = {"3d", "2d:", "2d:2", "2d:2x", "2d:0x2", "2d:2x2:", "2d:2x2:0", "2d:2x2:4:1", "2dx", "1d ", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CU_ASSERT_EQUAL(t5g_enc_layout_parse(bad[i], &lay), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "--encoder-layout"));
    }
    CU_ASSERT_EQUAL(t5g_enc_layout_parse("2d:1x4:16", &lay), 0);
    CU_ASSERT(lay.two_d == 1 && lay.pr == 1 && lay.pc == 4 && lay.nb == 16);
    CU_ASSERT_EQUAL(t5g_enc_layout_parse("1d", &lay), 0);
    CU_ASSERT_EQUAL(lay.two_d, 0);
    int pr, pc;
    t5g_enc2d_auto_grid(4, &pr, &pc);
    CU_ASSERT(pr == 2 && pc == 2);
    t5g_enc2d_auto_grid(8, &pr, &pc);
    CU_ASSERT(pr == 2 && pc == 4);
    t5g_enc2d_auto_grid(7, &pr, &pc);
    CU_ASSERT(pr == 1 && pc == 7);

    char dir[512];
    snprintf(dir, sizeof dir, "%s/fwd/mha", fixtures_dir());
    snprintf(g_h5, sizeof g_h5, "/tmp/t5g_sl_%d_err.h5", g_job);
    int ok = 1;
    if (g_comm.world_rank == 0) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "./build/t5g convert --hf %s/hf -o %s > /dev/null", dir, g_h5);
        ok = system(cmd) == 0;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    CU_ASSERT_FATAL(ok);
    t5g_model *m = t5g_model_load(g_h5, &g_comm);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    t5g_enc_layout wrong = {1, g_comm.tp_size + 1, 1, 0};
    CU_ASSERT_EQUAL(t5g_enc2d_attach(m, &wrong), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "the grid has"));
    CU_ASSERT_PTR_NULL(m->enc2d);
    t5g_model_free(m);
    m = t5g_model_load_as(g_h5, &g_comm, NULL, "bf16");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    t5g_enc_layout two = {1, 0, 0, 0};
    CU_ASSERT_EQUAL(t5g_enc2d_attach(m, &two), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "float32"));
    t5g_model_free(m);
    mpi_unlink_shared(g_h5);
}

/* the planner's cost model: no communication on one rank (the 2-D path still pays its local copies);
 * latency-bound small batches favour 1-D; 2-D wins only where the 1-D all-reduces dominate */
static void test_cost_model(void) {
    t5g_enc2d_cost_in in = {.tokens = 1024, .hidden = 512, .q_width = 512, .kv_width = 512, .ffn = 1024, .layers = 8,
                            .p = 1, .ranks_per_node = 1, .gemm_gflops = 50, .intra_lat_us = 2, .intra_bw_gbs = 5,
                            .inter_lat_us = 20, .inter_bw_gbs = 1};
    t5g_enc2d_cost c;
    t5g_enc2d_predict(&in, &c);
    CU_ASSERT_EQUAL(c.words_1d, 0);
    CU_ASSERT_EQUAL(c.words_2d, 0);
    CU_ASSERT(c.s_2d > c.s_1d);
    in.p = 4;
    in.ranks_per_node = 2;
    t5g_enc2d_predict(&in, &c);
    CU_ASSERT(c.pr == 2 && c.pc == 2);
    CU_ASSERT(c.steps_2d > c.steps_1d);
    CU_ASSERT(c.s_2d > c.s_1d);
    /* 16 ranks on 16 nodes, a slow fabric, 262,144 tokens of a 27b-wide encoder: 2-D moves less */
    t5g_enc2d_cost_in big = {.tokens = 262144, .hidden = 6144, .q_width = 6144, .kv_width = 6144, .ffn = 24576,
                             .layers = 1, .p = 16, .ranks_per_node = 1, .gemm_gflops = 1000, .intra_lat_us = 2,
                             .intra_bw_gbs = 5, .inter_lat_us = 5, .inter_bw_gbs = 0.1};
    t5g_enc2d_predict(&big, &c);
    CU_ASSERT(c.pr == 4 && c.pc == 4);
    CU_ASSERT(c.words_2d < c.words_1d);
    CU_ASSERT(c.s_2d < c.s_1d);
}

int main(int argc, char **argv) {
    if (mpi_test_init(&argc, &argv, 0)) return 2;
    if (!t5g_enc2d_built_in()) {
        printf("SKIP: this build has no ScaLAPACK (make SCALAPACK=1 with libscalapack-openmpi-dev)\n");
        return mpi_test_end(77);
    }
    static CU_TestInfo tests[] = {{"2-D layout matches 1-D TP on every fixture", test_fixtures},
                                  {"bad layouts fail cleanly", test_errors},
                                  {"cost model", test_cost_model},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"scalapack_layout", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return mpi_test_end(mpi_test_run(suites));
}
