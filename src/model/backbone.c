/* backbone.c - one-shot forward over the four inputs (encoder, then the whole decoder
 * sequence in one pass), for tests, `t5g forward` and library users. */
#include "t5g.h"
#include <stdlib.h>
#include <string.h>

int t5g_backbone(const t5g_model *m, const t5g_backbone_in *in, t5g_backbone_out *out) {
    T5G_CHECK(m && in && out, "t5g_backbone: NULL argument");
    T5G_CHECK(in->B > 0 && in->Le > 0 && in->Ld > 0, "t5g_backbone: batch and lengths must be positive");
    T5G_CHECK(in->encoder_token_ids && in->decoder_token_ids, "t5g_backbone: token ids are required");
    t5g_state *s = t5g_state_new(m, in->B, in->Le, in->B, in->Ld);
    if (!s) return -1;
    int rc = -1, V = m->cfg.dec.vocab_size, nv = m->dec.sh.nv, Hd = m->cfg.dec.hidden_size;
    int64_t T = (int64_t)in->B * in->Ld;
    float *local = out->logits ? malloc(sizeof(float) * T * nv) : NULL;
    float *hidden = out->decoder_sequence_output ? out->decoder_sequence_output : malloc(sizeof(float) * T * Hd);
    if ((out->logits && !local) || !hidden) {
        T5G_FAIL("out of memory for the logits");
        goto done;
    }
    if (t5g_encode(s, in->encoder_token_ids, in->encoder_padding_mask)) goto done;
    if (out->encoder_sequence_output)
        m->be->copy(m->be->ctx, out->encoder_sequence_output, s->enc_out,
                    sizeof(float) * in->B * in->Le * m->cfg.enc.hidden_size, T5G_COPY_D2H);
    if (t5g_decode(s, in->decoder_token_ids, in->decoder_padding_mask, in->Ld, hidden, local, 0)) goto done;
    if (out->logits) {
        /* gather the vocab slices: rank r holds columns [v0, v0+nv) of every row */
        const t5g_comm *c = m->comm;
        int T5 = c->tp_size;
        int *counts = malloc(sizeof(int) * T5), *displs = malloc(sizeof(int) * T5);
        float *all = malloc(sizeof(float) * T * V);
        if (!counts || !displs || !all) {
            free(counts);
            free(displs);
            free(all);
            T5G_FAIL("out of memory");
            goto done;
        }
        for (int r = 0; r < T5; r++) {
            t5g_shard sh;
            t5g_shard_plan(&m->cfg.dec, r, T5, &sh);
            counts[r] = (int)(T * sh.nv);
            displs[r] = (int)(T * sh.v0);
        }
        if (T5 > 1) MPI_Allgatherv(local, counts[c->tp_rank], MPI_FLOAT, all, counts, displs, MPI_FLOAT, c->tp);
        else memcpy(all, local, sizeof(float) * T * V);
        for (int r = 0; r < T5; r++) { /* [rank][T][nv_r] -> [T][V] */
            int nvr = counts[r] / (int)T, v0 = displs[r] / (int)T;
            for (int64_t t = 0; t < T; t++)
                memcpy(out->logits + t * V + v0, all + displs[r] + t * nvr, sizeof(float) * nvr);
        }
        free(counts);
        free(displs);
        free(all);
    }
    rc = 0;
done:
    free(local);
    if (hidden != out->decoder_sequence_output) free(hidden);
    t5g_state_free(s);
    return rc;
}
