/* spm_shim.h - thin C interface to libsentencepiece (spm_shim.cc is C++).
 *
 * Internal to src/text: use text/tokenizer.h instead.  Every function that can fail records
 * one line with T5G_FAIL (core/err.h) and returns NULL / -1; no C++ exception crosses this
 * boundary.  A loaded handle is read-only: encode/decode/lookups may run concurrently. */
#ifndef T5G_SPM_SHIM_H
#define T5G_SPM_SHIM_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct t5g_spm t5g_spm;

/* Piece types of the model proto.  NORMAL includes user-defined pieces (<mask>,
 * <start_of_turn>, ...): libsentencepiece 0.1.97 cannot tell them apart. */
enum { T5G_SPM_NORMAL = 0, T5G_SPM_CONTROL = 1, T5G_SPM_UNKNOWN = 2, T5G_SPM_BYTE = 3, T5G_SPM_UNUSED = 4 };

/* Load a serialized ModelProto from a file / from memory (the bytes are copied). */
t5g_spm *t5g_spm_load_file(const char *path);
t5g_spm *t5g_spm_load_bytes(const void *data, size_t len);
void t5g_spm_free(t5g_spm *h);

int t5g_spm_vocab_size(const t5g_spm *h);
/* Reserved ids as stored in the model's trainer_spec (-1 when the model has none). */
void t5g_spm_special_ids(const t5g_spm *h, int *pad, int *eos, int *bos, int *unk);
/* Caller guarantees 0 <= id < vocab size. */
int t5g_spm_piece_type(const t5g_spm *h, int id);
const char *t5g_spm_id_to_piece(const t5g_spm *h, int id);
/* Id of an exact piece string, or -1 when the vocabulary has no such piece. */
int t5g_spm_piece_to_id(const t5g_spm *h, const char *piece);

/* Encodes text[0..len) (no normalization beyond the model's own).  Returns a malloc'd array
 * of front + *n + back int32 with the ids at [front, front + *n); the caller fills the spare
 * slots (bos/eos) and frees it. */
int32_t *t5g_spm_encode(const t5g_spm *h, const char *text, size_t len, size_t front, size_t back, size_t *n);

/* Decodes ids (all must be in range).  Control and unknown pieces are dropped when
 * skip_special != 0, else rendered as their piece text (e.g. "<bos>").  Returns a malloc'd
 * NUL-terminated string of *len bytes (it may contain NUL bytes if the ids encode them). */
char *t5g_spm_decode(const t5g_spm *h, const int32_t *ids, size_t n, int skip_special, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
