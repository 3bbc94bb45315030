/* test_ckpt_mpi.c - parallel checkpoint reads, as tensor parallelism does them (docs/model.md, Tensor parallelism).
 * Run: ./build/tests/test_ckpt_mpi   or   mpirun --oversubscribe -np 2|4 ./build/tests/test_ckpt_mpi
 * Rank 0 writes a float32 and a bfloat16 checkpoint; every rank opens them together
 * (MPI-IO) and reads only its slice of each tensor: q rows by head, k rows by kv head (or
 * the replicated kv head when T > nkv), o columns by head, MLP rows/columns in uneven
 * ranges, embedding vocab rows; norms whole.  Each rank checks every value, that its
 * requested byte count is exactly its share, and (from /proc/self/io) how many bytes it
 * really read from the file; rank 0 prints the bytes per rank. */
#include "core/err.h"
#include "io/ckpt.h"
#include "testutil.h"
#include <string.h>
#include <unistd.h>

#define H 320
#define NH 8
#define NKV 2
#define HD 64
#define I 1000
#define V 3001

static int g_rank, g_np;
static char g_dir[64];

typedef struct {
    const char *name;
    int64_t rows, cols; /* cols 0: 1-D */
    char split;         /* 'h' rows by head, 'k' rows by kv head, 'o' cols by head, 'r' rows, 'c' cols, '-' whole */
} tensor_def;

static const tensor_def TENSORS[] = {
    {"model/encoder/layers/0/self_attn/q_proj/weight", NH * HD, H, 'h'},
    {"model/encoder/layers/0/self_attn/k_proj/weight", NKV * HD, H, 'k'},
    {"model/encoder/layers/0/self_attn/o_proj/weight", H, NH * HD, 'o'},
    {"model/encoder/layers/0/mlp/up_proj/weight", I, H, 'r'},
    {"model/encoder/layers/0/mlp/down_proj/weight", H, I, 'c'},
    {"model/encoder/embed_tokens/weight", V, H, 'r'},
    {"model/encoder/norm/weight", H, 0, '-'},
};
#define NT (int)(sizeof TENSORS / sizeof TENSORS[0])

static float val(int t, int64_t i, int64_t j) { return (float)((t * 7919 + i * 131 + j * 17) % 2001 - 1000) / 37.0f; }

/* [lo, hi) of rank r out of T for n items (uneven allowed). */
static void range(int64_t n, int r, int T, int64_t *lo, int64_t *hi) {
    *lo = n * r / T;
    *hi = n * (r + 1) / T;
}

/* This rank's slice of tensor t: rows [r0, r0+nr) x cols [c0, c0+nc). */
static void slice(const tensor_def *d, int r, int T, int64_t *r0, int64_t *nr, int64_t *c0, int64_t *nc) {
    int64_t lo, hi, cols = d->cols ? d->cols : 1;
    *r0 = 0; *nr = d->rows; *c0 = 0; *nc = cols;
    switch (d->split) {
    case 'h': range(NH, r, T, &lo, &hi); *r0 = lo * HD; *nr = (hi - lo) * HD; break;
    case 'o': range(NH, r, T, &lo, &hi); *c0 = lo * HD; *nc = (hi - lo) * HD; break;
    case 'k':
        if (NKV % T == 0) { range(NKV, r, T, &lo, &hi); *r0 = lo * HD; *nr = (hi - lo) * HD; }
        else { *r0 = (int64_t)r * NKV / T * HD; *nr = HD; } /* T % NKV == 0: replicated kv head */
        break;
    case 'r': range(d->rows, r, T, &lo, &hi); *r0 = lo; *nr = hi - lo; break;
    case 'c': range(cols, r, T, &lo, &hi); *c0 = lo; *nc = hi - lo; break;
    default: break;
    }
}

static int write_file(const char *path, const char *dtype) {
    t5g_ckpt_writer *w = t5g_ckpt_create(path, "{\"model_type\": \"t5gemma\"}", dtype);
    if (!w) return -1;
    for (int t = 0; t < NT; t++) {
        const tensor_def *d = &TENSORS[t];
        int64_t cols = d->cols ? d->cols : 1, shape[2] = {d->rows, cols};
        float *buf = malloc((size_t)(d->rows * cols) * sizeof *buf);
        for (int64_t i = 0; i < d->rows; i++)
            for (int64_t j = 0; j < cols; j++) buf[i * cols + j] = val(t, i, j);
        int rc = t5g_ckpt_write(w, d->name, d->cols ? 2 : 1, shape, buf);
        free(buf);
        if (rc) { t5g_ckpt_abort(w); return -1; }
    }
    return t5g_ckpt_finish(w);
}

/* Bytes this process has read through read()/pread() so far (Linux /proc/self/io rchar). */
static long long rchar(void) {
    FILE *f = fopen("/proc/self/io", "r");
    long long v = -1;
    char key[64];
    long long x;
    while (f && fscanf(f, "%63[^:]: %lld\n", key, &x) == 2)
        if (!strcmp(key, "rchar")) v = x;
    if (f) fclose(f);
    return v;
}

/* Read this rank's slices of every tensor, check values and byte counts; rank 0 prints. */
static void check_file(const char *dtype) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s.h5", g_dir, dtype);
    int bf = !strcmp(dtype, "bfloat16"), esz = bf ? 2 : 4;
    long long io0 = rchar();
    t5g_ckpt *c = t5g_ckpt_open(path, MPI_COMM_WORLD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int64_t want_bytes = 0, total_bytes = 0, bad = 0;
    for (int t = 0; t < NT; t++) {
        const tensor_def *d = &TENSORS[t];
        int64_t r0, nr, c0, nc, cols = d->cols ? d->cols : 1, shape[2] = {d->rows, cols};
        slice(d, g_rank, g_np, &r0, &nr, &c0, &nc);
        float *buf = malloc((size_t)(nr * nc + 1) * sizeof *buf);
        CU_ASSERT_EQUAL(t5g_ckpt_read(c, d->name, d->cols ? 2 : 1, shape, r0, nr, c0, nc, buf), 0);
        for (int64_t i = 0; i < nr; i++)
            for (int64_t j = 0; j < nc; j++) {
                float v = val(t, r0 + i, c0 + j);
                bad += buf[i * nc + j] != (bf ? t5g_bf16_to_f32(t5g_f32_to_bf16(v)) : v);
            }
        free(buf);
        want_bytes += nr * nc * esz;
        total_bytes += d->rows * cols * esz;
    }
    int64_t got = t5g_ckpt_bytes_read(c);
    t5g_ckpt_close(c);
    long long io = rchar() - io0;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(got, want_bytes);
    /* the shares of the split tensors add up to each tensor exactly once; the norm is read by
     * every rank, the k_proj head is replicated when np > NKV */
    int64_t sum = 0, norm = H * esz, krep = g_np > NKV ? (int64_t)(g_np - NKV) * HD * H * esz : 0;
    MPI_Allreduce(&got, &sum, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    CU_ASSERT_EQUAL(sum, total_bytes + (g_np - 1) * norm + krep);
    /* a rank reads only the chunks of its slices: its real file reads stay near its share
     * (chunk edges, metadata); a chunking that pads edge chunks or straddles heads fails this */
    if (io >= 0) CU_ASSERT(io <= want_bytes * 5 / 4 + 128 * 1024);
    long long row[2] = {(long long)got, io}, *all = malloc(sizeof row * (size_t)g_np);
    MPI_Gather(row, 2, MPI_LONG_LONG, all, 2, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    if (g_rank == 0) {
        printf("\n    %s, %d rank(s), tensor data %lld bytes:", dtype, g_np, (long long)total_bytes);
        for (int r = 0; r < g_np; r++)
            printf("\n      rank %d: requested %lld bytes (%.1f%%), read from file %lld bytes (%.1f%%)", r, all[2 * r],
                   100.0 * (double)all[2 * r] / (double)total_bytes, all[2 * r + 1],
                   100.0 * (double)all[2 * r + 1] / (double)total_bytes);
        printf("\n");
    }
    free(all);
}

static void test_f32(void) { check_file("float32"); }
static void test_bf16(void) { check_file("bfloat16"); }

/* Every rank sees the same clear error for a missing tensor and a bad shape. */
static void test_errors(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/float32.h5", g_dir);
    t5g_ckpt *c = t5g_ckpt_open(path, MPI_COMM_WORLD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    float x[4];
    int64_t s[2] = {H, 0};
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/decoder/norm/weight", 1, s, 0, 4, 0, 1, x), -1);
    CU_ASSERT(strstr(t5g_last_error(), "lacks tensor model/decoder/norm/weight") != NULL);
    s[0] = H + 1;
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/encoder/norm/weight", 1, s, 0, 4, 0, 1, x), -1);
    CU_ASSERT(strstr(t5g_last_error(), "[320]") && strstr(t5g_last_error(), "[321]"));
    t5g_ckpt_close(c);
    /* a truncated copy fails to open on every rank (MPI-IO driver), without hanging */
    char half[160];
    snprintf(half, sizeof half, "%s/half.h5", g_dir);
    if (g_rank == 0) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "head -c 100000 '%s' > '%s'", path, half);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    c = t5g_ckpt_open(half, MPI_COMM_WORLD);
    CU_ASSERT_PTR_NULL(c);
    t5g_ckpt_close(c);
    CU_ASSERT(strstr(t5g_last_error(), "is not a t5gemma HDF5 checkpoint (HDF5 cannot open it") != NULL);
}

static int suite_init(void) {
    int rc = 0;
    if (g_rank == 0) {
        snprintf(g_dir, sizeof g_dir, "/tmp/t5g_ckmpi_XXXXXX");
        char a[128], b[128];
        rc = mkdtemp(g_dir) ? 0 : -1;
        snprintf(a, sizeof a, "%s/float32.h5", g_dir);
        snprintf(b, sizeof b, "%s/bfloat16.h5", g_dir);
        if (!rc) rc = write_file(a, "float32") || write_file(b, "bfloat16") ? -1 : 0;
        if (rc) fprintf(stderr, "rank 0: %s\n", t5g_last_error());
    }
    MPI_Bcast(g_dir, sizeof g_dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return rc;
}

static int suite_clean(void) {
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        return system(cmd) == 0 ? 0 : -1;
    }
    return 0;
}

static CU_TestInfo tests[] = {{"float32 slices per rank", test_f32},
                              {"bfloat16 slices per rank", test_bf16},
                              {"errors on every rank", test_errors},
                              CU_TEST_INFO_NULL};
static CU_SuiteInfo suites[] = {{"ckpt_mpi", suite_init, suite_clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_np);
    int fails = 2;
    if (NH % g_np || (NKV % g_np && g_np % NKV)) {
        if (!g_rank) fprintf(stderr, "test_ckpt_mpi: run with 1, 2, 4 or 8 ranks\n");
    } else if (CU_initialize_registry() == CUE_SUCCESS && CU_register_suites(suites) == CUE_SUCCESS) {
        CU_basic_set_mode(g_rank == 0 ? CU_BRM_VERBOSE : CU_BRM_SILENT);
        if (g_rank > 0) (void)!freopen("/dev/null", "w", stdout); /* one report, from rank 0 */
        CU_basic_run_tests();
        fails = (int)(CU_get_number_of_failures() + CU_get_number_of_suites_failed());
        CU_cleanup_registry();
    }
    int all = 0;
    MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (g_rank == 0) printf("test_ckpt_mpi: %d rank(s), %s\n", g_np, all ? "FAILED" : "passed");
    MPI_Finalize();
    return all ? 1 : 0;
}
