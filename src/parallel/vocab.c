/* vocab.c - vocab-parallel argmax, log-sum-exp and top-k (see vocab.h). */
#include "parallel/vocab.h"
#include "core/err.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int t5g_vocab_argmax(t5g_comm *c, const float *logits, int rows, int nv, int v0, int *ids, float *values) {
    T5G_CHECK(logits && ids && rows >= 0 && nv > 0, "t5g_vocab_argmax: bad arguments");
    struct { float v; int i; } *loc = malloc(sizeof *loc * (rows ? rows : 1));
    T5G_CHECK(loc, "out of memory in argmax");
    for (int r = 0; r < rows; r++) {
        const float *x = logits + (size_t)r * nv;
        int b = 0;
        for (int i = 1; i < nv; i++) if (x[i] > x[b]) b = i;  /* strict >: first (lowest) id wins ties */
        loc[r].v = x[b];
        loc[r].i = v0 + b;
    }
    /* MAXLOC breaks ties toward the lower index, which is the lower id */
    if (c && c->tp_size > 1) MPI_Allreduce(MPI_IN_PLACE, loc, rows, MPI_FLOAT_INT, MPI_MAXLOC, c->tp);
    for (int r = 0; r < rows; r++) { ids[r] = loc[r].i; if (values) values[r] = loc[r].v; }
    free(loc);
    return 0;
}

int t5g_vocab_logsumexp(t5g_comm *c, const float *logits, int rows, int nv, float *lse) {
    T5G_CHECK(logits && lse && rows >= 0 && nv > 0, "t5g_vocab_logsumexp: bad arguments");
    float *mx = malloc(sizeof(float) * (rows ? rows : 1));
    double *sum = malloc(sizeof(double) * (rows ? rows : 1));
    T5G_CHECK(mx && sum, "out of memory in logsumexp");
    for (int r = 0; r < rows; r++) {
        const float *x = logits + (size_t)r * nv;
        float m = x[0];
        for (int i = 1; i < nv; i++) if (x[i] > m) m = x[i];
        mx[r] = m;
    }
    if (c && c->tp_size > 1) MPI_Allreduce(MPI_IN_PLACE, mx, rows, MPI_FLOAT, MPI_MAX, c->tp);
    for (int r = 0; r < rows; r++) {
        const float *x = logits + (size_t)r * nv;
        double s = 0;
        for (int i = 0; i < nv; i++) s += exp((double)x[i] - mx[r]);
        sum[r] = s;
    }
    if (c && c->tp_size > 1) MPI_Allreduce(MPI_IN_PLACE, sum, rows, MPI_DOUBLE, MPI_SUM, c->tp);
    for (int r = 0; r < rows; r++) lse[r] = (float)(mx[r] + log(sum[r]));
    free(mx);
    free(sum);
    return 0;
}

static int cand_cmp(const void *a, const void *b) {
    const t5g_cand *x = a, *y = b;
    if (x->value != y->value) return x->value > y->value ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}


int t5g_vocab_topk(t5g_comm *c, const float *logits, int rows, int nv, int v0, int k, const float *lse,
                   const float *add, t5g_cand *out) {
    T5G_CHECK(logits && out && rows >= 0 && nv > 0 && k > 0, "t5g_vocab_topk: bad arguments");
    int T = c ? c->tp_size : 1;
    int kl = k < nv ? k : nv;  /* local candidates per row */
    t5g_cand *loc = malloc(sizeof(t5g_cand) * ((size_t)rows * k + 1)), *heap = malloc(sizeof(t5g_cand) * (size_t)(kl + 1));
    t5g_cand *all = malloc(sizeof(t5g_cand) * ((size_t)rows * k * T + 1));
    T5G_CHECK(loc && heap && all, "out of memory in top-k");
    for (int r = 0; r < rows; r++) {
        const float *x = logits + (size_t)r * nv;
        float off = (add ? add[r] : 0.0f), sub = lse ? lse[r] : 0.0f;
        /* simple selection: keep a sorted buffer of the kl best (k is small: beams·2, top-k) */
        int n = 0;
        for (int i = 0; i < nv; i++) {
            float v = (x[i] - sub) + off;
            if (n == kl && !(v > heap[n - 1].value)) continue;  /* ties keep the lower id already held */
            int j = n < kl ? n++ : kl - 1;
            while (j > 0 && heap[j - 1].value < v) { heap[j] = heap[j - 1]; j--; }
            heap[j].value = v;
            heap[j].id = v0 + i;
        }
        for (int j = 0; j < k; j++) {
            if (j < n) loc[(size_t)r * k + j] = heap[j];
            else { loc[(size_t)r * k + j].value = -INFINITY; loc[(size_t)r * k + j].id = 0x7fffffff; }
        }
    }
    if (T > 1) {
        /* every rank contributes k per row; merge on every rank identically */
        int bytes = rows * k * (int)sizeof(t5g_cand);
        MPI_Allgather(loc, bytes, MPI_BYTE, all, bytes, MPI_BYTE, c->tp);
        t5g_cand *row = malloc(sizeof(t5g_cand) * (size_t)k * T);
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < T; t++) memcpy(row + t * k, all + ((size_t)t * rows + r) * k, sizeof(t5g_cand) * k);
            qsort(row, (size_t)k * T, sizeof *row, cand_cmp);
            memcpy(out + (size_t)r * k, row, sizeof(t5g_cand) * k);
        }
        free(row);
    } else {
        memcpy(out, loc, sizeof(t5g_cand) * (size_t)rows * k);
    }
    free(loc); free(heap); free(all);
    return 0;
}
