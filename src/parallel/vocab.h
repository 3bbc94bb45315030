/* vocab.h - statistics over vocab-parallel logits (docs/model.md, Tensor parallelism): rank r of the TP group holds
 * columns [v0, v0+nv) of every row.  Nothing here gathers a full-vocabulary row. */
#ifndef T5G_VOCAB_H
#define T5G_VOCAB_H
#include "parallel/comm.h"

typedef struct {
    float value;
    int id;
} t5g_cand;
/* qsort order of candidates: value descending, then id ascending (torch.topk's tie order) */
int t5g_cand_cmp(const void *a, const void *b);

/* Per row: global argmax id (ties -> lowest id) and its logit. logits [rows, nv]. */
int t5g_vocab_argmax(t5g_comm *c, const float *logits, int rows, int nv, int v0, int *ids, float *values);
/* Per row: log Σ exp(logit) over the full vocabulary (global max, then global sum). */
int t5g_vocab_logsumexp(t5g_comm *c, const float *logits, int rows, int nv, float *lse);
/* Per row: the k best (value + offset[row]) candidates over the vocabulary, sorted by value
 * descending then id ascending (deterministic whatever T).  out [rows, k].  values are
 * transformed as (logit - lse[row]) * 1 + add[row] when lse/add are given (NULL = 0). */
int t5g_vocab_topk(t5g_comm *c, const float *logits, int rows, int nv, int v0, int k, const float *lse,
                   const float *add, t5g_cand *out);
#endif
