/* sha256.c - see sha256.h.  FIPS 180-4 §6.2 in portable C, plus the x86 SHA extensions
 * (SHA-NI) when the CPU has them: ~5-10x faster, which matters for multi-GB checkpoints. */
#include "core/sha256.h"
#include "core/err.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static inline uint32_t rotr(uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

/* One 64-byte block into the chaining state (§6.2.2). */
static void compress_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

static void compress_c(uint32_t h[8], const uint8_t *p, size_t nblocks) {
    for (; nblocks; nblocks--, p += 64) compress_block(h, p);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

/* The same rounds with sha256rnds2/msg1/msg2 (Intel's SHA extensions white paper layout):
 * the state lives as ABEF/CDGH, 4 rounds per group of 16, the schedule in m[0..3]. */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_ni(uint32_t h[8], const uint8_t *p, size_t nblocks) {
    const __m128i BSWAP = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);  /* CDAB */
    __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B); /* EFGH */
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                        /* ABEF */
    s1 = _mm_blend_epi16(s1, t, 0xF0);                                             /* CDGH */
    for (; nblocks; nblocks--, p += 64) {
        __m128i abef = s0, cdgh = s1, m[4];
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) {
            if (i < 4) m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), BSWAP);
            __m128i cur = m[i & 3];
            __m128i msg = _mm_add_epi32(cur, _mm_loadu_si128((const __m128i *)&K[4 * i]));
            s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
            if (i >= 3 && i < 15) { /* W for the next group */
                __m128i *nx = &m[(i + 1) & 3];
                *nx = _mm_add_epi32(*nx, _mm_alignr_epi8(cur, m[(i - 1) & 3], 4));
                *nx = _mm_sha256msg2_epu32(*nx, cur);
            }
            s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(msg, 0x0E));
            if (i >= 1 && i < 13) m[(i - 1) & 3] = _mm_sha256msg1_epu32(m[(i - 1) & 3], cur);
        }
        s0 = _mm_add_epi32(s0, abef);
        s1 = _mm_add_epi32(s1, cdgh);
    }
    t = _mm_shuffle_epi32(s0, 0x1B);                                  /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1);                                 /* DCHG */
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, s1, 0xF0)); /* back to h[0..3] = A..D */
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(s1, t, 8));    /* h[4..7] = E..H */
}

static int cpu_has_sha_ni(void) {
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    int sha = (b >> 29) & 1;
    __cpuid(1, a, b, c, d);
    return sha && (c >> 19 & 1) && (c >> 9 & 1); /* SHA, SSE4.1, SSSE3 */
}
#else
static int cpu_has_sha_ni(void) {
    return 0;
}
static void compress_ni(uint32_t h[8], const uint8_t *p, size_t nblocks) {
    compress_c(h, p, nblocks);
}
#endif

static int sha_mode = -1; /* -1 = not decided yet, 0 = portable C, 1 = SHA-NI */

int t5g_sha256_use_hw(int enable) {
    sha_mode = enable && cpu_has_sha_ni();
    return sha_mode;
}

static void compress(uint32_t h[8], const uint8_t *p, size_t nblocks) {
    if (!nblocks) return;
    if (sha_mode < 0) sha_mode = cpu_has_sha_ni() && !getenv("T5G_SHA256_PORTABLE");
    if (sha_mode) compress_ni(h, p, nblocks);
    else compress_c(h, p, nblocks);
}

void t5g_sha256_init(t5g_sha256_ctx *c) {
    static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, H0, sizeof H0);
    c->bytes = 0;
    c->fill = 0;
}

void t5g_sha256_update(t5g_sha256_ctx *c, const void *data, size_t len) {
    if (!len) return; /* data may be NULL then (memcpy from NULL is undefined even for 0 bytes) */
    const uint8_t *p = data;
    c->bytes += len;
    if (c->fill) { /* top up the pending block first */
        size_t take = 64 - c->fill < len ? 64 - c->fill : len;
        memcpy(c->block + c->fill, p, take);
        c->fill += take;
        p += take;
        len -= take;
        if (c->fill < 64) return;
        compress(c->h, c->block, 1);
        c->fill = 0;
    }
    compress(c->h, p, len / 64);
    p += len / 64 * 64;
    len %= 64;
    memcpy(c->block, p, len);
    c->fill = len;
}

void t5g_sha256_final(t5g_sha256_ctx *c, uint8_t out[32]) {
    uint64_t bits = c->bytes * 8;
    /* padding (§5.1.1): 0x80, zeros up to 56 mod 64, then the 64-bit big-endian bit length */
    uint8_t pad[72] = {0x80};
    size_t npad = (c->fill < 56 ? 56 : 120) - c->fill;
    for (int i = 0; i < 8; i++) pad[npad + i] = (uint8_t)(bits >> (56 - 8 * i));
    t5g_sha256_update(c, pad, npad + 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

void t5g_sha256_hex(const uint8_t digest[32], char hex[65]) {
    static const char X[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = X[digest[i] >> 4];
        hex[2 * i + 1] = X[digest[i] & 15];
    }
    hex[64] = 0;
}

int t5g_sha256_buf(const void *data, size_t len, char hex[65]) {
    T5G_CHECK(hex && (data || len == 0), "t5g_sha256_buf: NULL argument");
    t5g_sha256_ctx c;
    uint8_t d[32];
    t5g_sha256_init(&c);
    t5g_sha256_update(&c, data, len);
    t5g_sha256_final(&c, d);
    t5g_sha256_hex(d, hex);
    return 0;
}

int t5g_sha256_file(const char *path, char hex[65]) {
    T5G_CHECK(path && *path && hex, "t5g_sha256_file: no file name given");
    FILE *f = fopen(path, "rb");
    T5G_CHECK(f, "cannot open %s to hash it: %s", path, strerror(errno));
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    if (!buf) {
        fclose(f);
        return T5G_FAIL("out of memory hashing %s", path);
    }
    t5g_sha256_ctx c;
    t5g_sha256_init(&c);
    size_t got;
    while ((got = fread(buf, 1, CHUNK, f)) > 0) t5g_sha256_update(&c, buf, got);
    int bad = ferror(f);
    fclose(f);
    free(buf);
    T5G_CHECK(!bad, "read error while hashing %s (is it a directory, or was it truncated?)", path);
    uint8_t d[32];
    t5g_sha256_final(&c, d);
    t5g_sha256_hex(d, hex);
    return 0;
}
