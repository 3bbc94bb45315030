/* test_ckpt_hash.c - the checkpoint content sha256 (io/ckpt_hash.c, docs/checkpoint.md):
 * stored by every writer and equal to what reading the file back recomputes (f32, bf16, int8,
 * byte blobs, integer attributes); independent of the HDF5 layout (chunk tiles, checksums,
 * write order); changed by any tensor value, name, shape, the config or an attribute, not by
 * "producer"; a file without it (an older checkpoint) reports "absent", and the run
 * fingerprint then falls back to the file's sha256. */
#include "core/err.h"
#include "core/sha256.h"
#include "io/ckpt.h"
#include "testutil.h"
#include <hdf5.h>
#include <math.h>
#include <string.h>

#define R 70
#define C 300
static float g_w[R * C], g_v[40];

typedef struct {
    const char *dtype, *cfg;
    int checksum, chunk, reversed, tweak, rename_norm, bos;
} variant;

/* a checkpoint: a matrix (int8 + scales in an int8 file), a vector, a blob, an int attribute */
static int write_variant(const char *path, const variant *v) {
    for (int i = 0; i < R * C; i++) g_w[i] = (float)((i * 37) % 101 - 50) / 7.0f;
    for (int i = 0; i < 40; i++) g_v[i] = 1.0f + 0.01f * (float)i;
    if (v->tweak) g_v[7] = nextafterf(g_v[7], 2.0f);  /* one ulp */
    t5g_ckpt_writer *w = t5g_ckpt_create(path, v->cfg ? v->cfg : "{\"model_type\": \"t5gemma\"}", v->dtype);
    if (!w) return -1;
    int64_t s2[2] = {R, C}, s1[1] = {40};
    unsigned char blob[5] = {1, 2, 3, 250, 0};
    int rc = t5g_ckpt_set_checksum(w, v->checksum);
    if (!rc && v->chunk) rc = t5g_ckpt_set_chunk(w, 16, 64);
    int8_t q[R * C];
    float scale[R];
    for (int r = 0; r < R; r++) scale[r] = t5g_int8_quantize(g_w + r * C, C, t5g_int8_amax(g_w + r * C, C), q + r * C);
    const char *norm = v->rename_norm ? "model/norm2/weight" : "model/norm/weight";
    for (int k = 0; k < 3 && !rc; k++) {
        int step = v->reversed ? 2 - k : k;
        if (step == 0) rc = !strcmp(v->dtype, "int8") ? t5g_ckpt_write_i8(w, "model/a/weight", s2, q, scale)
                                                       : t5g_ckpt_write(w, "model/a/weight", 2, s2, g_w);
        if (step == 1) rc = t5g_ckpt_write(w, norm, 1, s1, g_v);
        if (step == 2) rc = t5g_ckpt_write_bytes(w, "tokenizer/spm_model", blob, 5);
    }
    if (!rc) rc = t5g_ckpt_write_attr_int(w, "add_bos_token", v->bos);
    if (rc) { t5g_ckpt_abort(w); return -1; }
    return t5g_ckpt_finish(w);
}

/* write v to path; its stored hash (which must equal the recomputed one) into hex */
static void hash_of(const char *path, const variant *v, char hex[65]) {
    CU_ASSERT_EQUAL_FATAL(write_variant(path, v), 0);
    t5g_ckpt *c = t5g_ckpt_open(path, MPI_COMM_SELF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char again[65];
    CU_ASSERT_EQUAL(t5g_ckpt_stored_sha256(c, hex), 0);
    CU_ASSERT_EQUAL(t5g_ckpt_compute_sha256(c, again, 0), 0);
    CU_ASSERT_STRING_EQUAL(hex, again);
    t5g_ckpt_close(c);
}

static void test_layout_independent(void) {
    const char *dtypes[] = {"float32", "bfloat16", "int8"};
    for (int d = 0; d < 3; d++) {
        char a[65], b[65], c[65];
        variant base = {.dtype = dtypes[d], .checksum = 1, .bos = 1};
        hash_of(tpath("base.h5"), &base, a);
        variant other = base;
        other.checksum = 0;
        other.chunk = 1;
        hash_of(tpath("layout.h5"), &other, b);
        CU_ASSERT_STRING_EQUAL(a, b);  /* chunks and checksums are layout, not content */
        other.reversed = 1;
        hash_of(tpath("order.h5"), &other, c);
        CU_ASSERT_STRING_EQUAL(a, c);  /* so is the order the tensors were written in */
    }
}

static void test_content_changes_it(void) {
    const char *dtypes[] = {"float32", "int8"};
    for (int d = 0; d < 2; d++) {
        char base[65], h[65];
        variant v = {.dtype = dtypes[d], .checksum = 1, .bos = 1};
        hash_of(tpath("b.h5"), &v, base);
        variant t = v; t.tweak = 1;
        hash_of(tpath("t.h5"), &t, h);
        CU_ASSERT_STRING_NOT_EQUAL(base, h);  /* one ulp of one value */
        t = v; t.rename_norm = 1;
        hash_of(tpath("n.h5"), &t, h);
        CU_ASSERT_STRING_NOT_EQUAL(base, h);
        t = v; t.cfg = "{\"model_type\": \"t5gemma\", \"x\": 1}";
        hash_of(tpath("c.h5"), &t, h);
        CU_ASSERT_STRING_NOT_EQUAL(base, h);
        t = v; t.bos = 0;
        hash_of(tpath("a.h5"), &t, h);
        CU_ASSERT_STRING_NOT_EQUAL(base, h);
    }
    char f[65], b[65];  /* the same values stored as float32 and as bfloat16 are different content */
    hash_of(tpath("f.h5"), &(variant){.dtype = "float32", .checksum = 1}, f);
    hash_of(tpath("bf.h5"), &(variant){.dtype = "bfloat16", .checksum = 1}, b);
    CU_ASSERT_STRING_NOT_EQUAL(f, b);
}

/* set (or delete, value NULL) a root string attribute in place, as another tool would */
static void set_root_str(const char *path, const char *name, const char *value) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    if (H5Aexists(f, name) > 0) H5Adelete(f, name);
    if (value) {
        hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
        H5Tset_size(t, strlen(value) + 1);
        hid_t a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, t, value);
        H5Aclose(a);
        H5Sclose(sp);
        H5Tclose(t);
    }
    H5Fclose(f);
}

static void test_producer_and_old_files(void) {
    char h[65], got[65], again[65], file[65];
    const char *p = tpath("old.h5");
    hash_of(p, &(variant){.dtype = "float32", .checksum = 1, .bos = 1}, h);
    set_root_str(p, "producer", "another tool 2.0");  /* not content */
    t5g_ckpt *c = t5g_ckpt_open(p, MPI_COMM_SELF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(t5g_ckpt_compute_sha256(c, got, 0), 0);
    CU_ASSERT_STRING_EQUAL(got, h);
    t5g_ckpt_close(c);
    set_root_str(p, "content_sha256", NULL);  /* a checkpoint from before the attribute */
    c = t5g_ckpt_open(p, MPI_COMM_SELF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(t5g_ckpt_stored_sha256(c, got), 1);
    CU_ASSERT_EQUAL(t5g_ckpt_compute_sha256(c, again, 0), 0);
    CU_ASSERT_STRING_EQUAL(again, h);  /* the attribute itself is not part of the content */
    t5g_ckpt_close(c);
    CU_ASSERT_EQUAL(t5g_ckpt_model_sha256(p, got), 0);  /* run records: the whole file's sha256, as before */
    CU_ASSERT_EQUAL(t5g_sha256_file(p, file), 0);
    CU_ASSERT_STRING_EQUAL(got, file);
    set_root_str(p, "content_sha256", "not a hash");
    c = t5g_ckpt_open(p, MPI_COMM_SELF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(t5g_ckpt_stored_sha256(c, got), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "content_sha256"));
    t5g_ckpt_close(c);
    CU_ASSERT_EQUAL(t5g_ckpt_model_sha256(p, got), -1);
    set_root_str(p, "content_sha256", h);  /* restored: the fingerprint takes it without reading the data */
    CU_ASSERT_EQUAL(t5g_ckpt_model_sha256(p, got), 0);
    CU_ASSERT_STRING_EQUAL(got, h);
}

int main(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    static CU_TestInfo tests[] = {{"stored = recomputed, layout-independent", test_layout_independent},
                                  {"content changes it", test_content_changes_it},
                                  {"producer, old files, fingerprint", test_producer_and_old_files},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"ckpt_hash", tmpdir_init, tmpdir_clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
