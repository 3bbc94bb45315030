/* test_npy.c - src/io/npy.c: the .npy v1.0 header byte for byte (magic, version, little-endian
 * header length, the dict numpy writes for '<f4' C-order arrays, space padding and '\n' to a
 * multiple of 64), shapes of 0..3 dimensions, the data after the header, and the errors. */
#include "testutil.h"
#include "core/err.h"
#include "core/fileio.h"
#include "io/npy.h"
#include <string.h>

/* header for shape, checked against the dict text numpy.lib.format writes */
static void check_header(int ndim, const int64_t *shape, const char *dict) {
    char h[512];
    int n = t5g_npy_header(h, sizeof h, ndim, shape);
    CU_ASSERT_FATAL(n > 0);
    CU_ASSERT_EQUAL(n % 64, 0);
    CU_ASSERT_EQUAL(memcmp(h, "\x93NUMPY\x01\x00", 8), 0);
    int hlen = (unsigned char)h[8] | (unsigned char)h[9] << 8;
    CU_ASSERT_EQUAL(hlen, n - 10);
    size_t dl = strlen(dict);
    CU_ASSERT_EQUAL(memcmp(h + 10, dict, dl), 0);
    for (int i = 10 + (int)dl; i < n - 1; i++) CU_ASSERT_EQUAL(h[i], ' ');
    CU_ASSERT_EQUAL(h[n - 1], '\n');
    if (memcmp(h + 10, dict, dl)) printf("\n  got '%.*s'\n", n - 10, h + 10);
}

static void test_headers(void) {
    check_header(3, (int64_t[]){2, 3, 512}, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 512), }");
    check_header(2, (int64_t[]){7, 1}, "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 1), }");
    check_header(1, (int64_t[]){5}, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }");
    check_header(0, NULL, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }");
    check_header(3, (int64_t[]){65536, 8192, 262144},
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 8192, 262144), }");
}

static void test_file(void) {
    float x[2 * 3];
    for (int i = 0; i < 6; i++) x[i] = (float)i - 2.5f;
    const char *p = tpath("a.npy");
    CU_ASSERT_EQUAL_FATAL(t5g_npy_write_f32(p, 2, (int64_t[]){2, 3}, x), 0);
    size_t len = 0;
    char *buf = t5g_read_file(p, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_EQUAL(len, 128 + sizeof x);  /* a 128-byte header (as numpy writes for (2, 3)), then the data */
    CU_ASSERT_EQUAL(memcmp(buf + 128, x, sizeof x), 0);
    unsigned char le[4] = {0, 0, 0x20, 0xc0};  /* -2.5f, little-endian */
    CU_ASSERT_EQUAL(memcmp(buf + 128, le, 4), 0);
    free(buf);
}

static void test_errors(void) {
    char h[512];
    CU_ASSERT_EQUAL(t5g_npy_header(h, sizeof h, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "dimensions"));
    CU_ASSERT_EQUAL(t5g_npy_header(h, sizeof h, 1, (int64_t[]){-1}), -1);
    CU_ASSERT_EQUAL(t5g_npy_header(h, 32, 1, (int64_t[]){4}), -1);
    CU_ASSERT_EQUAL(t5g_npy_write_f32(tpath("no/such/dir/a.npy"), 1, (int64_t[]){1}, (float[]){1}), -1);
}

int main(void) {
    static CU_TestInfo tests[] = {{"header bytes", test_headers}, {"file", test_file}, {"errors", test_errors},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"npy", tmpdir_init, tmpdir_clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
