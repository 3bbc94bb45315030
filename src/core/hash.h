/* hash.h - the project's one string hash and one integer mixer.
 * FNV-1a (64-bit, offset 14695981039346656037, prime 1099511628211): hash tables and the
 * per-request sampling seed.  SplitMix64's finaliser: counter-based random numbers (sampling
 * draws, random weights), the same value whatever thread, rank or batch asks. */
#ifndef T5G_HASH_H
#define T5G_HASH_H
#include <stddef.h>
#include <stdint.h>

static inline uint64_t t5g_fnv1a64_bytes(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static inline uint64_t t5g_fnv1a64_str(const char *s) {
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static inline uint64_t t5g_splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
#endif
