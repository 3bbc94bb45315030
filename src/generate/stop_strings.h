/* stop_strings.h - Hugging Face `generate(stop_strings=...)` (StopStringCriteria, transformers
 * 5.25 generation/stopping_criteria.py) over one tokenizer's vocabulary.
 *
 * Each token id stands for its bytes as HF's byte-fallback matching mode sees them (the Gemma
 * tokenizers): a `<0xNN>` piece is the byte NN, any other piece is its text with U+2581 read as
 * a space; special pieces (`<bos>`, `<eos>`) count as their literal spelling.  A row stops
 * after the token that completes a stop string, under HF's rule on token boundaries: some
 * occurrence of the string in the bytes of the decoder ids (start token and forced prefix
 * included) must END INSIDE THE LAST TOKEN.  The last token may run past the string's end
 * ("st" + "opera" stops on "stop"); an occurrence that ends before the last token does not
 * stop (generation already went on past it).  HF looks at the last max(len(string)) tokens
 * only; so does this.  Ids the tokenizer does not have match nothing (HF's dummy entry). */
#ifndef T5G_STOP_STRINGS_H
#define T5G_STOP_STRINGS_H
#include <stdint.h>

typedef struct t5g_tokenizer t5g_tokenizer;
typedef struct t5g_stop_strings t5g_stop_strings;

/* strings[0..n): non-empty UTF-8 stop strings (1..T5G_MAX_STOP_STRINGS of at most
 * T5G_MAX_STOP_LEN bytes).  NULL + error on a bad list. */
#define T5G_MAX_STOP_STRINGS 64
#define T5G_MAX_STOP_LEN     256
t5g_stop_strings *t5g_stop_strings_new(const t5g_tokenizer *tok, const char *const *strings, int n);
void t5g_stop_strings_free(t5g_stop_strings *s);

/* 1 if the decoder ids hist[0..n) followed by `last` complete a stop string, else 0. */
int t5g_stop_strings_hit(const t5g_stop_strings *s, const int32_t *hist, int n, int32_t last);
#endif
