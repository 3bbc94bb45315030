/* state.h - per-request state (whisper.cpp style: the model is shared and read-only; the
 * state owns the encoder output, cross-attention K/V computed once per request, the
 * decoder self-attention KV cache, and all scratch).  Nothing is allocated per token.
 *
 * Rows: the encoder runs on B_enc sequences of Le tokens; the decoder on B_dec rows of up to
 * Tmax tokens.  cross_row[b] says which encoder row decoder row b reads, so the beams of
 * one request share its cross K/V (never copied per beam).
 * Cache layout, per layer: K/V [B_dec][row_keys][nkv_local·hd] (row-major tokens). */
#ifndef T5G_STATE_H
#define T5G_STATE_H
#include "model/model.h"

typedef struct t5g_state {
    const t5g_model *m;
    int B_enc, Le;              /* encoder rows and length of this request batch */
    int B_cap, Tmax;            /* decoder row capacity and max decoder length */
    int B_dec, past;            /* live decoder rows; tokens already in the cache */
    float *enc_out;             /* [B_enc·Le, He] after the encoder's final norm */
    unsigned char *enc_valid;   /* [B_enc·Le] 1 = real token (host; d_enc_valid: backend copy) */
    float **cross_k, **cross_v; /* per decoder layer [B_enc·Le, nkv·hd] */
    float **self_k, **self_v;   /* per decoder layer [B_cap·Tmax, nkv·hd] */
    unsigned char *dec_valid;   /* [B_cap·Tmax] (host; d_dec_valid: backend copy) */
    unsigned char *d_enc_valid, *d_dec_valid;
    int32_t *d_ids;      /* token ids of the current pass, backend memory */
    float *d_out;        /* outputs staged on a device backend (grown on demand) */
    size_t d_out_cap;    /* floats */
    unsigned char *dbuf; /* backend allocation behind d_enc_valid, d_dec_valid, d_ids */
    int *cross_row;      /* [B_cap] */
    /* scratch, sized for max(B_enc·Le, B_cap·Tmax) tokens */
    int64_t cap_tokens;
    float *x, *h, *q, *k, *v, *att, *gate, *up, *scores;
    float *perm;               /* [B_cap·Tmax·kvw] scratch for t5g_select_rows */
    int *perm_rows;            /* [B_cap] */
    unsigned char *perm_valid; /* [B_cap·Tmax] */
    float *buf;                /* one backend allocation behind the float pointers above */
    /* self-cache rows: keys [key0, key0 + Tmax) of row_keys; T5Gemma 2 puts the row's encoder keys
     * in [0, key0 = Le) (merged attention), T5Gemma has key0 = 0 */
    int key0, row_keys;
    unsigned char *mvalid, *d_mvalid; /* T5Gemma 2 per-query key masks (host, backend), mvalid_cap bytes */
    size_t mvalid_cap;
    t5g_comm_stats stats; /* this state's TP all-reduces (the model and its comm stay read-only) */
} t5g_state;

/* Bytes a state needs on a rank with these shards (the planner uses the same numbers). */
typedef struct {
    int64_t cross_kv, self_kv, activations, total;
} t5g_state_mem;
void t5g_state_memory(const t5g_config *c, const t5g_shard *enc, const t5g_shard *dec, int B_enc, int Le, int B_cap,
                      int Tmax, t5g_state_mem *m);

/* Allocate for B_enc encoder rows of Le tokens and B_cap decoder rows of up to Tmax tokens. */
t5g_state *t5g_state_new(const t5g_model *m, int B_enc, int Le, int B_cap, int Tmax);
void t5g_state_free(t5g_state *s);

/* Encoder over ids [B_enc, Le] (mask [B_enc, Le], NULL = ids != pad), then cross K/V for
 * every decoder layer.  Resets the decoder: B_dec = B_enc rows, cross_row[b] = b, past = 0. */
int t5g_encode(t5g_state *s, const int32_t *ids, const int32_t *mask);
/* Set decoder rows to read encoder rows (e.g. K beams per request); resets the cache. */
int t5g_decoder_rows(t5g_state *s, const int *cross_row, int B_dec);
/* Append Tq tokens per decoder row (ids [B_dec, Tq], mask NULL = all real), at positions
 * past..past+Tq-1.  Optional outputs: hidden [B_dec·Tq, Hd] after the final norm;
 * logits [B_dec·Tq, nv] local vocab slice after the final soft-cap; last_only = 1 computes
 * the LM head only for each row's last token (logits then [B_dec, nv]). */
int t5g_decode(t5g_state *s, const int32_t *ids, const int32_t *mask, int Tq, float *hidden, float *logits,
               int last_only);
/* Keep decoder rows rows[0..n) (in that order, repeats allowed): copies their caches and
 * cross_row; used by beam search and to drop finished sequences. */
int t5g_select_rows(t5g_state *s, const int *rows, int n);
#endif
