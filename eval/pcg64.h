/* pcg64.h - numpy's default_rng(seed): SeedSequence(seed) -> PCG64 (XSL-RR 128/64), and
 * Generator.choice(n, size, replace=True) / integers(0, n) for n <= 2^32 (buffered Lemire
 * bounded draws on 32-bit halves), bit for bit, for sacreBLEU's paired bootstrap. */
#ifndef T5G_PCG64_H
#define T5G_PCG64_H
#include <stdint.h>

typedef struct {
    unsigned __int128 state, inc;
    uint64_t buf; /* buffered 64-bit draw for 32-bit values */
    int bcnt;
} pcg64;

static inline uint32_t ss_hashmix(uint32_t v, uint32_t *h) {
    v ^= *h;
    *h *= 0x931e8875u;
    v *= *h;
    return v ^ (v >> 16);
}

static inline uint32_t ss_mix(uint32_t x, uint32_t y) {
    uint32_t r = 0xca01f9ddu * x - 0x4973f715u * y;
    return r ^ (r >> 16);
}

static inline uint64_t pcg64_next(pcg64 *g) {
    const unsigned __int128 mult = ((unsigned __int128)2549297995355413924ULL << 64) + 4865540595714422341ULL;
    g->state = g->state * mult + g->inc;
    uint64_t hi = (uint64_t)(g->state >> 64), lo = (uint64_t)g->state;
    unsigned rot = (unsigned)(hi >> 58);
    uint64_t x = hi ^ lo;
    return (x >> rot) | (x << ((64 - rot) & 63));
}

/* default_rng(seed) for 0 <= seed < 2^32 (SeedSequence entropy = one 32-bit word). */
static inline void pcg64_seed(pcg64 *g, uint32_t seed) {
    uint32_t pool[4], h = 0x43b0d7e5u, w[8];
    for (int i = 0; i < 4; i++) pool[i] = ss_hashmix(i == 0 ? seed : 0, &h);
    for (int s = 0; s < 4; s++)
        for (int d = 0; d < 4; d++)
            if (s != d) pool[d] = ss_mix(pool[d], ss_hashmix(pool[s], &h));
    uint32_t hb = 0x8b51f9ddu;
    for (int i = 0; i < 8; i++) {
        uint32_t v = pool[i % 4] ^ hb;
        hb *= 0x58f38dedu;
        v *= hb;
        w[i] = v ^ (v >> 16);
    }
    uint64_t v[4];
    for (int i = 0; i < 4; i++) v[i] = (uint64_t)w[2 * i] | (uint64_t)w[2 * i + 1] << 32;
    unsigned __int128 initstate = (unsigned __int128)v[0] << 64 | v[1], initseq = (unsigned __int128)v[2] << 64 | v[3];
    g->state = 0;
    g->inc = initseq << 1 | 1;
    pcg64_next(g);
    g->state += initstate;
    pcg64_next(g);
    g->bcnt = 0;
    g->buf = 0;
}

/* integers(0, n) for 1 <= n <= 2^32 - 1, as numpy's buffered_bounded_lemire_uint32. */
static inline uint32_t pcg64_below(pcg64 *g, uint32_t n) {
    for (;;) {
        uint32_t x;
        if (!g->bcnt) g->buf = pcg64_next(g), g->bcnt = 1;
        else g->buf >>= 32, g->bcnt--;
        x = (uint32_t)g->buf;
        uint64_t m = (uint64_t)x * n;
        uint32_t left = (uint32_t)m;
        if (left >= n || left >= (uint32_t)(-n) % n) return (uint32_t)(m >> 32);
    }
}
#endif
