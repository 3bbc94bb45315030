/* logits_process.h - Hugging Face's logits processors that users set most (generate's
 * repetition_penalty, no_repeat_ngram_size, min_new_tokens), applied in HF's order to one
 * decoder row's slice of the vocabulary before the search strategy chooses. */
#ifndef T5G_LOGITS_PROCESS_H
#define T5G_LOGITS_PROCESS_H
#include "generate/generate.h"

/* The processors' settings are in range (t5g_gen_validate calls it); 0 or -1 with the error. */
int t5g_process_validate(const t5g_gen_opts *o);
/* Whether any processor is on for these options. */
int t5g_processing_on(const t5g_gen_opts *o);

/* Process one row in place.  x: this rank's logits [v0, v0 + nv) of the row; ids[0..n): the
 * decoder ids so far, the start token first (HF's decoder input_ids).  lse: NAN for raw logits
 * (greedy, sampling: HF applies the processors to the logits), else the row's log-sum-exp over
 * the whole vocabulary (beam search: HF applies them to the log-softmax; x is then changed so
 * that x - lse is the processed log-probability).  prompt: the decoder prompt's length (start token
 * and forced prefix; min_new_tokens counts after it, as HF's prompt_length_to_skip).  Needs
 * scratch of n ints. */
void t5g_process_row(const t5g_gen_opts *o, const int *eos, int n_eos, float *x, int nv, int v0, const int32_t *ids,
                     int n, int prompt, float lse, int32_t *scratch);
#endif
