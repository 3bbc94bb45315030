/* table_cache.h - small constant tables on a device, each built from a few numbers (the RoPE
 * inverse frequencies of a head width / theta / scaling factor; the relative-bias buckets of a
 * bucket count / maximum distance / direction).  A table is built on the host and uploaded
 * the first time its key is asked for, then found again by the key.
 *
 * Plain C over three callbacks (allocate, upload, release), so the caching itself (hits,
 * eviction, every failure path) is tested on the host (tests/unit/test_table_cache.c) while the
 * CUDA backend passes cudaMalloc / cudaMemcpy / cudaFree. */
#ifndef T5G_TABLE_CACHE_H
#define T5G_TABLE_CACHE_H
#include "core/err.h"
#include <stdlib.h>
#include <string.h>

#define T5G_TABLE_SLOTS 8 /* distinct keys kept per cache; more replace the oldest */
#define T5G_TABLE_KEY   4 /* numbers per key; unused ones are 0 */

typedef struct {
    float key[T5G_TABLE_KEY]; /* compared bit for bit */
    void *d;                  /* the device table; NULL: empty slot, matches nothing */
} t5g_table_slot;

typedef struct {
    t5g_table_slot slot[T5G_TABLE_SLOTS];
    int next; /* the slot the next new key goes to (round robin) */
} t5g_table_cache;

typedef struct {
    void *ctx;
    void *(*alloc)(void *ctx, size_t bytes);                            /* NULL + t5g_last_error() */
    int (*upload)(void *ctx, void *dst, const void *src, size_t bytes); /* 0, or -1 + t5g_last_error() */
    void (*release)(void *ctx, void *p);
} t5g_table_dev;

/* writes the table of `key` (the bytes asked for) into host memory */
typedef void (*t5g_table_fill)(void *host, const float *key);

/* The device table for key (`bytes` long, written by fill on a miss).  NULL on failure, with
 * the reason in t5g_last_error(); the cache then holds no entry for key, and the next call tries
 * again. */
static inline const void *t5g_table_get(t5g_table_cache *tc, const t5g_table_dev *dev, const float *key, size_t bytes,
                                        t5g_table_fill fill) {
    size_t key_bytes = sizeof(float) * T5G_TABLE_KEY;
    for (int i = 0; i < T5G_TABLE_SLOTS; i++)
        if (tc->slot[i].d && !memcmp(tc->slot[i].key, key, key_bytes)) return tc->slot[i].d;
    if (!bytes) {
        T5G_FAIL("a device table of 0 bytes was asked for");
        return NULL;
    }
    t5g_table_slot *s = &tc->slot[tc->next];
    tc->next = (tc->next + 1) % T5G_TABLE_SLOTS;
    if (s->d) dev->release(dev->ctx, s->d); /* waits for queued work that may still read it */
    s->d = NULL;
    void *host = t5g_malloc(bytes, "device table (host copy)");
    void *d = host ? dev->alloc(dev->ctx, bytes) : NULL;
    if (d) {
        fill(host, key);
        if (dev->upload(dev->ctx, d, host, bytes)) {
            dev->release(dev->ctx, d);
            d = NULL;
        }
    }
    free(host);
    if (!d) return NULL;
    memcpy(s->key, key, key_bytes);
    s->d = d;
    return d;
}

#endif
