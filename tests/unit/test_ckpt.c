/* test_ckpt.c - HDF5 checkpoint: round trips (f32, bf16), slices, bytes-read counting, and
 * every bad input (missing/non-HDF5/truncated file, wrong format or version, missing
 * tensor, wrong shape or dtype, corrupt chunk, interrupted writer). */
#include "core/err.h"
#include "io/ckpt.h"
#include "testutil.h"
#include <fcntl.h>
#include <hdf5.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static int exists(const char *p) { return access(p, F_OK) == 0; }
static int has_msg(const char *s) { return strstr(t5g_last_error(), s) != NULL; }

/* deterministic non-trivial values (not exact in bf16) */
static float val(int64_t i, int64_t j) { return (float)((i * 37 + j * 11) % 101 - 50) / 7.0f + (float)i * 1e-3f; }

#define R 70
#define C 300 /* crosses the 64 x 256 chunk tiles */
#define N1 100
static const char *CFG = "{\"model_type\": \"t5gemma\"}";

static float g_w[R * C], g_v[N1];

static void fill(void) {
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) g_w[i * C + j] = val(i, j);
    for (int i = 0; i < N1; i++) g_v[i] = val(i, 3);
}

/* Write a small checkpoint: a 2-D tensor, a 1-D tensor, a byte blob. */
static int write_ckpt(const char *path, const char *dtype, int checksum) {
    fill();
    t5g_ckpt_writer *w = t5g_ckpt_create(path, CFG, dtype);
    if (!w) return -1;
    int64_t s2[2] = {R, C}, s1[1] = {N1};
    unsigned char blob[5] = {1, 2, 3, 250, 0};
    if (t5g_ckpt_set_checksum(w, checksum) || t5g_ckpt_write(w, "model/a/weight", 2, s2, g_w) ||
        t5g_ckpt_write(w, "model/norm/weight", 1, s1, g_v) || t5g_ckpt_write_bytes(w, "tokenizer/spm_model", blob, 5) ||
        t5g_ckpt_write_attr_int(w, "add_bos_token", 1)) {
        t5g_ckpt_abort(w);
        return -1;
    }
    return t5g_ckpt_finish(w);
}

static float expect(float v, int bf16) { return bf16 ? t5g_bf16_to_f32(t5g_f32_to_bf16(v)) : v; }

static void check_roundtrip(const char *dtype) {
    int bf = !strcmp(dtype, "bfloat16");
    const char *p = tpath(bf ? "rt_bf16.h5" : "rt_f32.h5");
    CU_ASSERT_EQUAL_FATAL(write_ckpt(p, dtype, 1), 0);
    CU_ASSERT(exists(p));
    t5g_ckpt *c = t5g_ckpt_open(p, MPI_COMM_SELF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(t5g_ckpt_dtype(c), dtype);
    CU_ASSERT_STRING_EQUAL(t5g_ckpt_config_json(c), CFG);
    CU_ASSERT(t5g_ckpt_has(c, "model/a/weight"));
    CU_ASSERT(!t5g_ckpt_has(c, "model/b/weight"));
    CU_ASSERT(!t5g_ckpt_has(c, "nothere/x"));
    int nd;
    int64_t sh[2];
    CU_ASSERT_EQUAL(t5g_ckpt_shape(c, "model/a/weight", &nd, sh), 0);
    CU_ASSERT(nd == 2 && sh[0] == R && sh[1] == C);
    long long v = 0;
    CU_ASSERT_EQUAL(t5g_ckpt_attr_int(c, "add_bos_token", &v), 0);
    CU_ASSERT_EQUAL(v, 1);
    CU_ASSERT_EQUAL(t5g_ckpt_attr_int(c, "add_eos_token", &v), 1);
    int64_t s2[2] = {R, C}, s1[1] = {N1};
    static float out[R * C];
    int64_t esz = bf ? 2 : 4, bytes = 0;
    /* whole tensor */
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/a/weight", 2, s2, 0, R, 0, C, out), 0);
    bytes += (int64_t)R * C * esz;
    int bad = 0;
    for (int i = 0; i < R * C; i++) bad += memcmp(&out[i], &(float){expect(g_w[i], bf)}, 4) != 0;
    CU_ASSERT_EQUAL(bad, 0);
    /* row slice, column slice, inner block (crossing chunk edges) */
    int64_t sl[3][4] = {{10, 40, 0, C}, {0, R, 100, 160}, {63, 3, 255, 2}};
    for (int k = 0; k < 3; k++) {
        memset(out, 0xff, sizeof out);
        CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/a/weight", 2, s2, sl[k][0], sl[k][1], sl[k][2], sl[k][3], out), 0);
        bytes += sl[k][1] * sl[k][3] * esz;
        bad = 0;
        for (int64_t i = 0; i < sl[k][1]; i++)
            for (int64_t j = 0; j < sl[k][3]; j++)
                bad += out[i * sl[k][3] + j] != expect(g_w[(sl[k][0] + i) * C + sl[k][2] + j], bf);
        CU_ASSERT_EQUAL(bad, 0);
    }
    /* 1-D range */
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/norm/weight", 1, s1, 20, 30, 0, 1, out), 0);
    bytes += 30 * esz;
    bad = 0;
    for (int i = 0; i < 30; i++) bad += out[i] != expect(g_v[20 + i], bf);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(t5g_ckpt_bytes_read(c), bytes);
    unsigned char *blob;
    size_t len;
    CU_ASSERT_EQUAL(t5g_ckpt_read_bytes(c, "tokenizer/spm_model", &blob, &len), 0);
    CU_ASSERT(len == 5 && blob[3] == 250 && blob[4] == 0);
    free(blob);
    CU_ASSERT_EQUAL(t5g_ckpt_read_bytes(c, "tokenizer/none", &blob, &len), 1);
    t5g_ckpt_close(c);
}

static void test_roundtrip_f32(void) { check_roundtrip("float32"); }
static void test_roundtrip_bf16(void) { check_roundtrip("bfloat16"); }

/* bf16 bit patterns written as they are come back widened bit-exactly (<< 16). */
static void test_bf16_bits_exact(void) {
    const char *p = tpath("bits.h5");
    enum { NB = 64 * 1024 };
    static uint16_t bits[NB];
    int n = 0;
    for (uint32_t h = 0; h < 65536; h++)
        if (((h >> 7) & 0xff) != 0xff && n < NB) bits[n++] = (uint16_t)h; /* every finite pattern */
    t5g_ckpt_writer *w = t5g_ckpt_create(p, CFG, "bfloat16");
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    int64_t sh[2] = {n / 256, 256};
    CU_ASSERT_EQUAL(t5g_ckpt_write_bf16(w, "x", 2, sh, bits), 0);
    CU_ASSERT_EQUAL(t5g_ckpt_finish(w), 0);
    t5g_ckpt *c = t5g_ckpt_open(p, MPI_COMM_SELF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    static float out[NB];
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "x", 2, sh, 0, sh[0], 0, 256, out), 0);
    int bad = 0;
    for (int i = 0; i < sh[0] * 256; i++) {
        uint32_t u;
        memcpy(&u, &out[i], 4);
        bad += u != (uint32_t)bits[i] << 16;
    }
    CU_ASSERT_EQUAL(bad, 0);
    t5g_ckpt_close(c);
    /* a float32 file refuses raw bf16 */
    w = t5g_ckpt_create(tpath("f32only.h5"), CFG, "float32");
    CU_ASSERT_EQUAL(t5g_ckpt_write_bf16(w, "x", 2, sh, bits), -1);
    t5g_ckpt_abort(w);
    CU_ASSERT(!exists(tpath("f32only.h5")));
}

/* ---- bad input ---- */

static void expect_open_fails(const char *path, const char *msg) {
    t5g_clear_error();
    t5g_ckpt *c = t5g_ckpt_open(path, MPI_COMM_SELF);
    CU_ASSERT_PTR_NULL(c);
    if (c) t5g_ckpt_close(c);
    CU_ASSERT(has_msg(msg));
    CU_ASSERT(has_msg(path));
    printf("\n    -> %s\n", t5g_last_error());
}

static void test_bad_files(void) {
    expect_open_fails(tpath("missing.h5"), "cannot open");
    const char *txt = tpath("text.h5");
    FILE *f = fopen(txt, "w");
    fputs("this is not HDF5\n", f);
    fclose(f);
    expect_open_fails(txt, "is not a t5gemma HDF5 checkpoint (not an HDF5 file)");
    /* truncated: keep the first half */
    const char *full = tpath("full.h5"), *half = tpath("half.h5");
    CU_ASSERT_EQUAL_FATAL(write_ckpt(full, "float32", 1), 0);
    struct stat sb;
    stat(full, &sb);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "head -c %lld '%s' > '%s'", (long long)sb.st_size / 2, full, half);
    CU_ASSERT_EQUAL(system(cmd), 0);
    expect_open_fails(half, "is not a t5gemma HDF5 checkpoint (HDF5 cannot open it");
    /* HDF5 must not print its own error stack: capture stderr around a failing open */
    fflush(stderr);
    int saved = dup(2), fd = open(tpath("stderr.txt"), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    dup2(fd, 2);
    t5g_ckpt *c = t5g_ckpt_open(half, MPI_COMM_SELF);
    fflush(stderr);
    dup2(saved, 2);
    close(fd);
    close(saved);
    CU_ASSERT_PTR_NULL(c);
    stat(tpath("stderr.txt"), &sb);
    CU_ASSERT_EQUAL(sb.st_size, 0);
}

/* Rewrite a root attribute of an existing file with the raw HDF5 API. */
static void set_root_attr(const char *path, const char *name, int ival, const char *sval) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    H5Adelete(f, name);
    hid_t sp = H5Screate(H5S_SCALAR), t = sval ? H5Tcopy(H5T_C_S1) : H5Tcopy(H5T_STD_I32LE);
    if (sval) H5Tset_size(t, strlen(sval) + 1);
    hid_t a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, sval ? t : H5T_NATIVE_INT, sval ? (const void *)sval : (const void *)&ival);
    H5Aclose(a);
    H5Tclose(t);
    H5Sclose(sp);
    H5Fclose(f);
}

static void test_bad_version_and_format(void) {
    const char *p = tpath("ver.h5");
    CU_ASSERT_EQUAL_FATAL(write_ckpt(p, "float32", 1), 0);
    set_root_attr(p, "format_version", 2, NULL);
    expect_open_fails(p, "has format_version 2, but this t5g reads only version 1");
    set_root_attr(p, "format_version", 1, NULL);
    set_root_attr(p, "dtype", 0, "float16");
    expect_open_fails(p, "has dtype attribute 'float16'; expected float32 or bfloat16");
    set_root_attr(p, "dtype", 0, "float32");
    set_root_attr(p, "format", 0, "something-else");
    expect_open_fails(p, "format is 'something-else'");
    /* a plain HDF5 file without our attributes */
    const char *q = tpath("plain.h5");
    hid_t f = H5Fcreate(q, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    expect_open_fails(q, "no 'format' attribute");
}

static void test_missing_shape_dtype(void) {
    const char *p = tpath("tensors.h5");
    CU_ASSERT_EQUAL_FATAL(write_ckpt(p, "bfloat16", 1), 0);
    /* add a float64 dataset and a uint16 one without the bfloat16 attribute */
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    hsize_t d[1] = {4};
    hid_t sp = H5Screate_simple(1, d, NULL);
    double dv[4] = {1, 2, 3, 4};
    uint16_t uv[4] = {1, 2, 3, 4};
    hid_t ds = H5Dcreate2(f, "f64", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dv);
    H5Dclose(ds);
    ds = H5Dcreate2(f, "u16", H5T_STD_U16LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, uv);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Fclose(f);
    t5g_ckpt *c = t5g_ckpt_open(p, MPI_COMM_SELF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    float out[R * C];
    int64_t s2[2] = {R, C}, wrong[2] = {R, C + 1}, s4[1] = {4};
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/encoder/norm/weight", 1, s4, 0, 4, 0, 1, out), -1);
    char want[300];
    snprintf(want, sizeof want, "checkpoint %s lacks tensor model/encoder/norm/weight; re-convert it", p);
    CU_ASSERT_STRING_EQUAL(t5g_last_error(), want);
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/a/weight", 2, wrong, 0, 1, 0, 1, out), -1);
    CU_ASSERT(has_msg("model/a/weight") && has_msg("[70, 300]") && has_msg("[70, 301]"));
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/a/weight", 1, s2, 0, 1, 0, 1, out), -1); /* 2-D read as 1-D */
    CU_ASSERT(has_msg("shape [70, 300]") && has_msg("needs [70]"));
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "f64", 1, s4, 0, 4, 0, 1, out), -1);
    CU_ASSERT(has_msg("f64") && has_msg("wrong dtype"));
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "u16", 1, s4, 0, 4, 0, 1, out), -1);
    CU_ASSERT(has_msg("u16") && has_msg("bfloat16"));
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/a/weight", 2, s2, 60, 20, 0, 1, out), -1); /* rows 60..80 > 70 */
    CU_ASSERT(has_msg("outside the tensor"));
    CU_ASSERT_EQUAL(t5g_ckpt_read_bytes(c, "model/a/weight", &(unsigned char *){NULL}, &(size_t){0}), -1);
    CU_ASSERT_EQUAL(t5g_ckpt_bytes_read(c), 0); /* failed reads count nothing */
    t5g_ckpt_close(c);
}

/* Flip one byte inside a stored chunk; with fletcher32 the read must fail clearly. */
static void corrupt_first_chunk(const char *path, const char *dset) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, dset, H5P_DEFAULT);
    hsize_t off[2];
    unsigned mask;
    haddr_t addr;
    hsize_t size;
    hid_t sp = H5Dget_space(d);
    CU_ASSERT_FATAL(H5Dget_chunk_info(d, sp, 0, off, &mask, &addr, &size) >= 0);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    int fd = open(path, O_RDWR);
    unsigned char b;
    CU_ASSERT_EQUAL(pread(fd, &b, 1, (off_t)(addr + size / 2)), 1);
    b ^= 0x10;
    CU_ASSERT_EQUAL(pwrite(fd, &b, 1, (off_t)(addr + size / 2)), 1);
    close(fd);
}

static void test_checksum(void) {
    const char *p = tpath("sum.h5"), *q = tpath("nosum.h5");
    CU_ASSERT_EQUAL_FATAL(write_ckpt(p, "float32", 1), 0);
    CU_ASSERT_EQUAL_FATAL(write_ckpt(q, "float32", 0), 0);
    corrupt_first_chunk(p, "model/a/weight");
    corrupt_first_chunk(q, "model/a/weight");
    static float out[R * C];
    int64_t s2[2] = {R, C};
    t5g_ckpt *c = t5g_ckpt_open(p, MPI_COMM_SELF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/a/weight", 2, s2, 0, 4, 0, 4, out), -1);
    CU_ASSERT(has_msg("model/a/weight") && has_msg("fails its checksum") && has_msg("corrupted"));
    printf("\n  corrupt chunk -> %s\n", t5g_last_error());
    /* other chunks still read */
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/a/weight", 2, s2, 64, 6, 0, 4, out), 0);
    t5g_ckpt_close(c);
    /* without checksums the same damage goes unnoticed: the read succeeds (that is why the
     * default is on) */
    c = t5g_ckpt_open(q, MPI_COMM_SELF);
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "model/a/weight", 2, s2, 0, 64, 0, 256, out), 0);
    int diff = 0;
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 256; j++) diff += out[i * 256 + j] != g_w[i * C + j];
    CU_ASSERT_EQUAL(diff, 1);
    t5g_ckpt_close(c);
}

/* The writer leaves either the complete file or nothing. */
static void test_writer_atomic(void) {
    const char *p = tpath("atomic.h5");
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", p, (int)getpid());
    t5g_ckpt_writer *w = t5g_ckpt_create(p, CFG, "float32");
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT(exists(tmp) && !exists(p));
    int64_t sh[1] = {N1};
    CU_ASSERT_EQUAL(t5g_ckpt_write(w, "v", 1, sh, g_v), 0);
    CU_ASSERT_EQUAL(t5g_ckpt_write(w, "v", 1, sh, g_v), -1); /* duplicate name */
    CU_ASSERT(has_msg("cannot create dataset v"));
    t5g_ckpt_abort(w);
    CU_ASSERT(!exists(tmp) && !exists(p));
    CU_ASSERT_PTR_NULL(t5g_ckpt_create(tpath("no/such/dir/x.h5"), CFG, "float32"));
    CU_ASSERT(has_msg("no/such/dir/x.h5.tmp."));
    CU_ASSERT_PTR_NULL(t5g_ckpt_create(p, CFG, "float16"));
    CU_ASSERT(has_msg("float32 or bfloat16"));
    w = t5g_ckpt_create(p, CFG, "float32");
    CU_ASSERT_EQUAL(t5g_ckpt_finish(w), 0);
    CU_ASSERT(!exists(tmp) && exists(p));
}

/* 1-D and 2-D tensors with zero rows and a long config attribute survive the trip. */
static void test_edge_shapes(void) {
    const char *p = tpath("edge.h5");
    size_t n = 200000;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = 0;
    t5g_ckpt_writer *w = t5g_ckpt_create(p, big, "bfloat16");
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    int64_t z[2] = {0, 8}, one[1] = {1};
    CU_ASSERT_EQUAL(t5g_ckpt_write(w, "empty", 2, z, NULL), 0);
    CU_ASSERT_EQUAL(t5g_ckpt_write(w, "one", 1, one, &(float){-2.0f}), 0);
    CU_ASSERT_EQUAL(t5g_ckpt_finish(w), 0);
    t5g_ckpt *c = t5g_ckpt_open(p, MPI_COMM_SELF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(strlen(t5g_ckpt_config_json(c)), n);
    float o = 0;
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "empty", 2, z, 0, 0, 0, 8, NULL), 0);
    CU_ASSERT_EQUAL(t5g_ckpt_read(c, "one", 1, one, 0, 1, 0, 1, &o), 0);
    CU_ASSERT_EQUAL(o, -2.0f);
    t5g_ckpt_close(c);
    free(big);
}

static CU_TestInfo tests[] = {
    {"round trip float32 (full, rows, cols, block, 1-D, bytes)", test_roundtrip_f32},
    {"round trip bfloat16 (rounded from f32)", test_roundtrip_bf16},
    {"bf16 bits widen exactly", test_bf16_bits_exact},
    {"missing, non-HDF5, truncated file", test_bad_files},
    {"bad format_version / format", test_bad_version_and_format},
    {"missing tensor, wrong shape, wrong dtype", test_missing_shape_dtype},
    {"fletcher32 detects a corrupt chunk", test_checksum},
    {"writer: temp file + rename", test_writer_atomic},
    {"empty tensor, long config", test_edge_shapes},
    CU_TEST_INFO_NULL};
static CU_SuiteInfo suites[] = {{"ckpt", tmpdir_init, tmpdir_clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return t5g_test_main(suites); }
