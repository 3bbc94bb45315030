/* test_table_cache.c - the CUDA backend's cache of small device tables
 * (src/backend/cuda/table_cache.h: RoPE inverse frequencies, relative-bias buckets), run on the
 * host with a counting "device": a key is built and uploaded once, different keys get their
 * own tables, a full cache replaces its oldest entry and frees it, and a failed allocation or
 * upload leaves no entry, no leak and a cache that works on the next call. */
#include "testutil.h"
#include "backend/cuda/table_cache.h"
#include <math.h>
#include <stdint.h>

typedef struct {
    int allocs, releases, uploads, fills;
    int fail_alloc;  /* the next allocation fails */
    int fail_upload; /* the next upload fails */
} fake_dev;

static void *fake_alloc(void *ctx, size_t bytes) {
    fake_dev *f = ctx;
    if (f->fail_alloc) {
        f->fail_alloc = 0;
        T5G_FAIL("fake device out of memory");
        return NULL;
    }
    f->allocs++;
    return malloc(bytes);
}
static int fake_upload(void *ctx, void *dst, const void *src, size_t bytes) {
    fake_dev *f = ctx;
    if (f->fail_upload) {
        f->fail_upload = 0;
        T5G_FAIL("fake upload failed");
        return -1;
    }
    f->uploads++;
    memcpy(dst, src, bytes);
    return 0;
}
static void fake_release(void *ctx, void *p) {
    fake_dev *f = ctx;
    f->releases++;
    free(p);
}

static fake_dev *g_fake; /* the fill callback has no context: it counts through this */

/* a table of 4 ints: the key's first three numbers and a marker */
static void fill4(void *host, const float *key) {
    int *t = host;
    t[0] = (int)key[0];
    t[1] = (int)key[1];
    t[2] = (int)key[2];
    t[3] = 12345;
    g_fake->fills++;
}

static const int *get(t5g_table_cache *tc, fake_dev *f, float a, float b, float c) {
    const t5g_table_dev dev = {f, fake_alloc, fake_upload, fake_release};
    const float key[T5G_TABLE_KEY] = {a, b, c, 0.0f};
    g_fake = f;
    return t5g_table_get(tc, &dev, key, 4 * sizeof(int), fill4);
}

static int holds(const int *t, int a, int b, int c) {
    return t && t[0] == a && t[1] == b && t[2] == c && t[3] == 12345;
}

static void free_cache(t5g_table_cache *tc, fake_dev *f) {
    for (int i = 0; i < T5G_TABLE_SLOTS; i++)
        if (tc->slot[i].d) fake_release(f, tc->slot[i].d);
    memset(tc, 0, sizeof *tc);
}

static void test_hit_builds_once(void) {
    t5g_table_cache tc = {0};
    fake_dev f = {0};
    const int *a = get(&tc, &f, 64, 10000, 1);
    const int *b = get(&tc, &f, 64, 10000, 1);
    CU_ASSERT_TRUE(holds(a, 64, 10000, 1));
    CU_ASSERT_PTR_EQUAL(a, b);
    CU_ASSERT_EQUAL(f.fills, 1);
    CU_ASSERT_EQUAL(f.uploads, 1);
    CU_ASSERT_EQUAL(f.allocs, 1);
    free_cache(&tc, &f);
    CU_ASSERT_EQUAL(f.releases, f.allocs);
}

static void test_keys_distinct(void) {
    t5g_table_cache tc = {0};
    fake_dev f = {0};
    /* each key differs from the first in one number only, the last one in the third */
    const int *a = get(&tc, &f, 32, 2, 1);
    const int *b = get(&tc, &f, 33, 2, 1);
    const int *c = get(&tc, &f, 32, 3, 1);
    const int *d = get(&tc, &f, 32, 2, 0);
    CU_ASSERT_TRUE(holds(a, 32, 2, 1));
    CU_ASSERT_TRUE(holds(b, 33, 2, 1));
    CU_ASSERT_TRUE(holds(c, 32, 3, 1));
    CU_ASSERT_TRUE(holds(d, 32, 2, 0));
    CU_ASSERT_TRUE(a != b && a != c && a != d && b != c && b != d && c != d);
    CU_ASSERT_EQUAL(f.fills, 4);
    /* all four are found again without building */
    CU_ASSERT_PTR_EQUAL(get(&tc, &f, 32, 2, 0), d);
    CU_ASSERT_PTR_EQUAL(get(&tc, &f, 32, 2, 1), a);
    CU_ASSERT_EQUAL(f.fills, 4);
    free_cache(&tc, &f);
    CU_ASSERT_EQUAL(f.releases, f.allocs);
}

/* a theta of 1e4 and one a rounding step above must not share a table */
static void test_float_key_exact(void) {
    t5g_table_cache tc = {0};
    fake_dev f = {0};
    const int *a = get(&tc, &f, 64, 10000.0f, 1);
    const int *b = get(&tc, &f, 64, nextafterf(10000.0f, 2e4f), 1);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    CU_ASSERT_TRUE(a != b);
    CU_ASSERT_EQUAL(f.fills, 2);
    free_cache(&tc, &f);
}

static void test_full_cache_replaces_oldest(void) {
    t5g_table_cache tc = {0};
    fake_dev f = {0};
    for (int i = 0; i < T5G_TABLE_SLOTS; i++) CU_ASSERT_TRUE(holds(get(&tc, &f, i, 0, 0), i, 0, 0));
    CU_ASSERT_EQUAL(f.releases, 0);
    const int *n = get(&tc, &f, 100, 0, 0); /* one more: key 0's table is freed */
    CU_ASSERT_TRUE(holds(n, 100, 0, 0));
    CU_ASSERT_EQUAL(f.releases, 1);
    CU_ASSERT_EQUAL(f.allocs - f.releases, T5G_TABLE_SLOTS);
    int fills = f.fills;
    for (int i = 1; i < T5G_TABLE_SLOTS; i++) CU_ASSERT_TRUE(holds(get(&tc, &f, i, 0, 0), i, 0, 0));
    CU_ASSERT_EQUAL(f.fills, fills); /* keys 1..7 are still held */
    CU_ASSERT_TRUE(holds(get(&tc, &f, 0, 0, 0), 0, 0, 0));
    CU_ASSERT_EQUAL(f.fills, fills + 1); /* key 0 is built again, replacing key 1 */
    CU_ASSERT_EQUAL(f.allocs - f.releases, T5G_TABLE_SLOTS);
    free_cache(&tc, &f);
    CU_ASSERT_EQUAL(f.releases, f.allocs);
}

static void test_failed_alloc(void) {
    t5g_table_cache tc = {0};
    fake_dev f = {0};
    const int *a = get(&tc, &f, 1, 2, 3);
    f.fail_alloc = 1;
    CU_ASSERT_PTR_NULL(get(&tc, &f, 4, 5, 6));
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "fake device out of memory"));
    CU_ASSERT_EQUAL(f.fills, 1);
    CU_ASSERT_PTR_EQUAL(get(&tc, &f, 1, 2, 3), a); /* the earlier entry is untouched */
    CU_ASSERT_TRUE(holds(get(&tc, &f, 4, 5, 6), 4, 5, 6)); /* the next call builds it */
    CU_ASSERT_EQUAL(f.fills, 2);
    free_cache(&tc, &f);
    CU_ASSERT_EQUAL(f.releases, f.allocs);
}

static void test_failed_upload(void) {
    t5g_table_cache tc = {0};
    fake_dev f = {0};
    f.fail_upload = 1;
    CU_ASSERT_PTR_NULL(get(&tc, &f, 7, 8, 9));
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "fake upload failed"));
    CU_ASSERT_EQUAL(f.allocs, 1);
    CU_ASSERT_EQUAL(f.releases, 1); /* the device allocation is given back */
    for (int i = 0; i < T5G_TABLE_SLOTS; i++) CU_ASSERT_PTR_NULL(tc.slot[i].d);
    const int *t = get(&tc, &f, 7, 8, 9); /* not remembered as built: built again */
    CU_ASSERT_TRUE(holds(t, 7, 8, 9));
    CU_ASSERT_EQUAL(f.fills, 2);
    free_cache(&tc, &f);
    CU_ASSERT_EQUAL(f.releases, f.allocs);
}

/* replacing a full cache's entry and then failing: the old table is freed, the rest stay */
static void test_failure_while_full(void) {
    t5g_table_cache tc = {0};
    fake_dev f = {0};
    for (int i = 0; i < T5G_TABLE_SLOTS; i++) get(&tc, &f, i, 1, 1);
    f.fail_upload = 1;
    CU_ASSERT_PTR_NULL(get(&tc, &f, 99, 1, 1));
    CU_ASSERT_EQUAL(f.allocs - f.releases, T5G_TABLE_SLOTS - 1);
    int fills = f.fills;
    for (int i = 1; i < T5G_TABLE_SLOTS; i++) CU_ASSERT_TRUE(holds(get(&tc, &f, i, 1, 1), i, 1, 1));
    CU_ASSERT_EQUAL(f.fills, fills);
    CU_ASSERT_TRUE(holds(get(&tc, &f, 99, 1, 1), 99, 1, 1));
    free_cache(&tc, &f);
    CU_ASSERT_EQUAL(f.releases, f.allocs);
}

static void test_zero_bytes(void) {
    t5g_table_cache tc = {0};
    fake_dev f = {0};
    const t5g_table_dev dev = {&f, fake_alloc, fake_upload, fake_release};
    const float key[T5G_TABLE_KEY] = {1, 0, 0, 0};
    g_fake = &f;
    CU_ASSERT_PTR_NULL(t5g_table_get(&tc, &dev, key, 0, fill4));
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "0 bytes"));
    CU_ASSERT_EQUAL(f.allocs, 0);
    CU_ASSERT_EQUAL(f.fills, 0);
}

int main(void) {
    static CU_TestInfo tests[] = {
        {"a key is built and uploaded once", test_hit_builds_once},
        {"keys differing in one number get their own tables", test_keys_distinct},
        {"float keys compare exactly", test_float_key_exact},
        {"a full cache replaces its oldest entry", test_full_cache_replaces_oldest},
        {"a failed allocation leaves no entry", test_failed_alloc},
        {"a failed upload frees the allocation", test_failed_upload},
        {"a failure while full keeps the other entries", test_failure_while_full},
        {"a table of 0 bytes is an error", test_zero_bytes},
        CU_TEST_INFO_NULL,
    };
    static CU_SuiteInfo suites[] = {{"table_cache", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
