/* mt19937.h - the Mersenne Twister as numpy's legacy RandomState and CPython's random module
 * use it, so resampling reproduces their random streams exactly.
 *   numpy.random.seed(s)      = mt_seed(s)            (init_genrand)
 *   random.Random(n), n >= 0  = mt_seed_array(32-bit words of n, least significant first;
 *                               [0] for n = 0)         (init_by_array)
 *   random.random()           = mt_py_random()         (53-bit double from two draws) */
#ifndef T5G_MT19937_H
#define T5G_MT19937_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t mt[624];
    int pos;
} mt19937;

static inline void mt_seed(mt19937 *r, uint32_t seed) {
    r->mt[0] = seed;
    for (int i = 1; i < 624; i++) r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->pos = 624;
}

static inline void mt_seed_array(mt19937 *r, const uint32_t *key, size_t len) {
    mt_seed(r, 19650218u);
    size_t i = 1, j = 0;
    for (size_t k = len > 624 ? len : 624; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
        i++, j++;
        if (i >= 624) r->mt[0] = r->mt[623], i = 1;
        if (j >= len) j = 0;
    }
    for (size_t k = 623; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
        i++;
        if (i >= 624) r->mt[0] = r->mt[623], i = 1;
    }
    r->mt[0] = 0x80000000u;
}

static inline uint32_t mt_next(mt19937 *r) {
    if (r->pos >= 624) {
        for (int k = 0; k < 624; k++) {
            uint32_t y = (r->mt[k] & 0x80000000u) | (r->mt[(k + 1) % 624] & 0x7fffffffu);
            r->mt[k] = r->mt[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1) ? 0x9908b0dfu : 0);
        }
        r->pos = 0;
    }
    uint32_t y = r->mt[r->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
}

static inline double mt_py_random(mt19937 *r) {
    uint32_t a = mt_next(r) >> 5, b = mt_next(r) >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}
#endif
