/* test_plan.c - the planner's weight memory equals what loading really costs: the resident
 * set grows by the planned bytes (within 2%) when a model is materialized, for T = 1 and
 * for rank 0 of T = 2 and 4; invalid layouts and sizes are refused clearly. */
#include <stdlib.h>
#include "testutil.h"
#include "t5g.h"
#include "plan/plan.h"
#include <string.h>
#include <unistd.h>

static int64_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = -1;
    fclose(f);
    return (int64_t)res * sysconf(_SC_PAGESIZE);
}

static void check_rss(int T) {
    t5g_config c;
    CU_ASSERT_EQUAL_FATAL(t5g_config_preset("tiny", &c), 0);
    /* ~40 M parameters: large enough that the weights dominate the RSS change */
    c.enc.vocab_size = c.dec.vocab_size = 8000;
    c.enc.hidden_size = c.dec.hidden_size = 512;
    c.enc.intermediate_size = c.dec.intermediate_size = 1536;
    c.enc.num_attention_heads = c.dec.num_attention_heads = 8;
    c.enc.num_key_value_heads = c.dec.num_key_value_heads = 4;
    c.enc.head_dim = c.dec.head_dim = 64;
    c.enc.num_hidden_layers = c.dec.num_hidden_layers = 4;
    c.dec.cross_attention_hidden_size = 512;
    t5g_machine mach = {100, 20, 10, 3, 5, 1, 0};
    t5g_plan p = {0};
    p.tp = T; p.nodes = 1; p.ranks_per_node = T; p.batch = 1; p.src_len = 16; p.tgt_len = 8; p.beams = 1; p.dtype_bytes = 4;
    CU_ASSERT_EQUAL_FATAL(t5g_plan_compute(&c, &mach, &p), 0);
    t5g_comm comm;
    t5g_comm_self(&comm);
    comm.tp_size = T;  /* rank 0 of a T-way group (random init needs no collectives) */
    int64_t before = rss_bytes();
    t5g_model *m = t5g_model_random(&c, 1, &comm);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    int64_t grew = rss_bytes() - before;
    double ratio = (double)grew / (double)p.weights;
    printf("\n    T=%d planned weights %.1f MiB, resident growth %.1f MiB (ratio %.4f)", T, p.weights / 1048576.0,
           grew / 1048576.0, ratio);
    /* under ASan (make test SANITIZE=1) the growth also holds shadow memory (up to 1/8) and redzones */
    double hi = getenv("T5G_SANITIZE") ? 1.15 : 1.02;
    CU_ASSERT(ratio > 0.98 && ratio < hi);
    CU_ASSERT(m->weight_bytes >= p.weights && m->weight_bytes < p.weights * 1.01);  /* alignment padding only */
    t5g_model_free(m);
}

static void test_rss(void) { check_rss(1); check_rss(2); check_rss(4); printf("\n"); }

static void test_refusals(void) {
    t5g_config c;
    CU_ASSERT_EQUAL_FATAL(t5g_config_preset("t5gemma_27b", &c), 0);
    t5g_machine mach = {100, 20, 10, 3, 5, 1, 0};
    t5g_plan p = {0};
    p.nodes = 1; p.ranks_per_node = 8; p.batch = 1; p.src_len = 16; p.tgt_len = 8; p.beams = 1; p.dtype_bytes = 2;
    p.tp = 3;
    CU_ASSERT_EQUAL(t5g_plan_compute(&c, &mach, &p), -1);   /* 3 does not divide 8 ranks */
    p.tp = 8;
    CU_ASSERT_EQUAL(t5g_plan_compute(&c, &mach, &p), 0);
    /* 48 heads at TP 8: 6 per rank; weights scale ~1/T */
    t5g_plan q = p;
    q.tp = 1; q.ranks_per_node = 1;
    CU_ASSERT_EQUAL(t5g_plan_compute(&c, &mach, &q), 0);
    CU_ASSERT(q.weights > 7.5 * p.weights && q.weights < 8.1 * p.weights);
    CU_ASSERT(p.allreduces_per_step == 3.0 * c.dec.num_hidden_layers + 4);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(1);
    static CU_TestInfo tests[] = {{"planned weight bytes == resident growth", test_rss},
                                  {"invalid layouts, scaling with T", test_refusals}, CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"plan", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    int rc = t5g_test_main(suites);
    MPI_Finalize();
    return rc;
}
