/* tokenizer.h - the Gemma SentencePiece tokenizer (C API over libsentencepiece).
 *
 * Ids are exactly those of `spm_encode --output_format=id` and of the Python sentencepiece
 * package for the same model (tests/unit/test_tokenizer.c checks this on a BPE and a unigram
 * model).  bos/eos conventions for T5Gemma are in docs/tokenizer.md.
 *
 * Input text must be valid UTF-8: encode rejects anything else with the byte offset of the
 * first bad byte (SentencePiece itself would silently turn each bad byte into U+FFFD, so
 * decode(encode(x)) would not give x back).
 *
 * Thread safety: after loading, a tokenizer is read-only; any number of threads may call
 * encode/decode/lookups on the same tokenizer at once (libsentencepiece's Encode/Decode are
 * const and keep no shared mutable state, google/sentencepiece#657).  Loading and
 * t5g_tokenizer_free must not overlap other calls on the same object.  Error messages are
 * per thread (core/err.h). */
#ifndef T5G_TOKENIZER_H
#define T5G_TOKENIZER_H
#include <stddef.h>
#include <stdint.h>

typedef struct t5g_tokenizer t5g_tokenizer;

/* encode flags */
enum { T5G_TOK_ADD_BOS = 1, T5G_TOK_ADD_EOS = 2 };
/* decode flags */
enum { T5G_TOK_KEEP_SPECIAL = 1 };

/* Load a SentencePiece model (.model file, or the serialized bytes stored in a checkpoint's
 * tokenizer/spm_model; the bytes are copied).  NULL + error on a missing/corrupt model. */
t5g_tokenizer *t5g_tokenizer_from_file(const char *path);
t5g_tokenizer *t5g_tokenizer_from_bytes(const void *data, size_t len);
void t5g_tokenizer_free(t5g_tokenizer *tok);

/* Number of pieces (valid ids are 0 .. vocab_size-1). */
int t5g_tokenizer_vocab_size(const t5g_tokenizer *tok);
/* Reserved ids read from the model (Gemma: pad 0, eos 1, bos 2, unk 3); -1 if undefined. */
int t5g_tokenizer_pad_id(const t5g_tokenizer *tok);
int t5g_tokenizer_eos_id(const t5g_tokenizer *tok);
int t5g_tokenizer_bos_id(const t5g_tokenizer *tok);
int t5g_tokenizer_unk_id(const t5g_tokenizer *tok);

/* Piece string of an id (valid as long as tok lives); NULL + error if out of range. */
const char *t5g_tokenizer_piece(const t5g_tokenizer *tok, int32_t id);
/* Id of an exact piece string (e.g. "<end_of_turn>"); -1 + error if there is none. */
int32_t t5g_tokenizer_piece_id(const t5g_tokenizer *tok, const char *piece);
/* 1 if id is a control or unknown piece (pad/eos/bos/unk ...), else 0; -1 if out of range. */
int t5g_tokenizer_is_special(const t5g_tokenizer *tok, int32_t id);

/* Encode text[0..len) (valid UTF-8; NUL bytes inside are allowed).  flags: T5G_TOK_ADD_BOS
 * prepends bos, T5G_TOK_ADD_EOS appends eos (error if the model defines none).  On success
 * *ids is a malloc'd array of *n ids (free() it; non-NULL even when *n == 0).  0 / -1. */
int t5g_tokenizer_encode(const t5g_tokenizer *tok, const char *text, size_t len, int flags, int32_t **ids, size_t *n);

/* Decode ids into a malloc'd NUL-terminated string (free() it); *len (if non-NULL) gets its
 * length in bytes.  By default control and unknown pieces (pad, eos, bos, unk) are skipped,
 * as HF's decode(skip_special_tokens=True) does; user-defined pieces such as <mask> or
 * <start_of_turn> are ordinary text and kept.  With T5G_TOK_KEEP_SPECIAL every special id is
 * spelled as its piece ("<bos>", "<unk>"), like skip_special_tokens=False.  An id outside
 * 0..vocab_size-1 is an error naming its position.  NULL on error. */
char *t5g_tokenizer_decode(const t5g_tokenizer *tok, const int32_t *ids, size_t n, int flags, size_t *len);

#endif
