/* sha256.h - SHA-256 (FIPS 180-4) of buffers and files, for recording which model file a
 * result came from.  Streaming: a file is hashed in fixed-size blocks, so a multi-GB
 * checkpoint needs no more memory than a small one.  Digests are lowercase hex, the same
 * text `sha256sum` prints. */
#ifndef T5G_SHA256_H
#define T5G_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];     /* chaining state */
    uint64_t bytes;    /* total message length so far */
    uint8_t block[64]; /* pending partial block */
    size_t fill;       /* bytes used in block */
} t5g_sha256_ctx;

void t5g_sha256_init(t5g_sha256_ctx *c);
void t5g_sha256_update(t5g_sha256_ctx *c, const void *data, size_t len);
/* Finish: 32-byte digest to out (the context must be re-initialised before reuse). */
void t5g_sha256_final(t5g_sha256_ctx *c, uint8_t out[32]);

/* Use the x86 SHA extensions when the CPU has them (the default; T5G_SHA256_PORTABLE=1 in the
 * environment turns them off).  Returns 1 if they are now in use.  Tests call it to check
 * both code paths against the same vectors. */
int t5g_sha256_use_hw(int enable);

/* 32 bytes -> 64 lowercase hex digits + NUL. */
void t5g_sha256_hex(const uint8_t digest[32], char hex[65]);
/* Digest of one buffer as hex.  Returns 0, or -1 (error recorded) on NULL arguments. */
int t5g_sha256_buf(const void *data, size_t len, char hex[65]);
/* Digest of a whole file as hex.  Returns 0, or -1 with "cannot open/read PATH" recorded. */
int t5g_sha256_file(const char *path, char hex[65]);

#endif
