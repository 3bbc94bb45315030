/* score_bleu_paired.c - `t5g score bleu REF -i BASE SYS... --paired-bs`: sacreBLEU 2.6.0's paired
 * bootstrap resampling test (sacrebleu/significance.py) for BLEU, JSON output.
 *
 * As sacreBLEU: idxs = default_rng(SACREBLEU_SEED or 12345).choice(n, size=(N, n)) - the same
 * draws for the baseline's confidence interval and for every system; per resample the float32
 * per-segment statistics are summed and BLEU computed with float32 precisions; mean = numpy's
 * pairwise-summed mean of the N scores, ci = half the distance between the sorted scores at
 * N//40 and N - N//40 - 1; p = (#{|sys - bl| - mean(|sys - bl|) > |BLEU_sys - BLEU_bl|} + 1) /
 * (N + 1). */
#include "eval/bleu.h"
#include "eval/pcg64.h"
#include "cli/score_sacrebleu.h"
#include "eval/unicode.h"
#include "core/err.h"
#include "eval/pyfmt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* numpy's pairwise summation of a contiguous float64 array (np.sum / np.mean). */
static double np_pairwise(const double *a, size_t n) {
    if (n < 8) {
        double r = 0.;
        for (size_t i = 0; i < n; i++) r += a[i];
        return r;
    }
    if (n <= 128) {
        double r[8], res;
        size_t i;
        for (int j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return np_pairwise(a, n2) + np_pairwise(a + n2, n - n2);
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* estimate_ci: (mean, half the 95% range) of the resampled scores. */
static int estimate_ci(const double *scores, size_t n, double *mean, double *ci) {
    double *s = malloc(n * sizeof *s);
    T5G_CHECK(s, "out of memory estimating the confidence interval");
    memcpy(s, scores, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    size_t lo = n / 40, hi = n - lo - 1;
    *ci = 0.5 * (s[hi] - s[lo]);
    *mean = np_pairwise(s, n) / (double)n;
    free(s);
    return 0;
}

/* Per-segment statistics: sys_len, ref_len, 4 matches, 4 totals (float32, as sacreBLEU). */
static int segment_stats(const sb_text *hyp, const sb_text *refs, size_t nrefs, const bleu_opts *o, float *st) {
    const char *r[64];
    for (size_t i = 0; i < hyp->n; i++) {
        bleu_score sc;
        for (size_t k = 0; k < nrefs; k++) r[k] = refs[k].lines[i];
        T5G_TRY(bleu_sentence(hyp->lines[i], r, nrefs, o, &sc));
        float *x = st + i * 10;
        x[0] = (float)sc.sys_len, x[1] = (float)sc.ref_len;
        for (int k = 0; k < 4; k++) x[2 + k] = (float)sc.counts[k], x[6 + k] = (float)sc.totals[k];
    }
    return 0;
}

/* BLEU of every resample: numpy float32 row sums in index order, float32 precisions. */
static int resample_scores(const float *st, const uint32_t *idx, size_t n, size_t nsamp, const bleu_opts *o,
                           double *out) {
    bleu_opts f = *o;
    f.f32_precisions = 1;
    for (size_t b = 0; b < nsamp; b++) {
        float acc[10] = {0};
        for (size_t i = 0; i < n; i++)
            for (int k = 0; k < 10; k++) acc[k] += st[(size_t)idx[b * n + i] * 10 + k];
        double c[4], t[4];
        for (int k = 0; k < 4; k++) c[k] = acc[2 + k], t[k] = acc[6 + k];
        bleu_score sc;
        T5G_TRY(bleu_compute(c, t, (long long)acc[0], (long long)acc[1], &f, &sc));
        out[b] = sc.score;
    }
    return 0;
}

/* json.dumps of PREFIX + S with ensure_ascii=True (the prefix is ASCII with nothing to escape). */
static void put_json_ascii(FILE *f, const char *prefix, const char *s) {
    size_t n = strlen(s), i = 0;
    fputc('"', f);
    fputs(prefix, f);
    while (i < n) {
        uint32_t c = u8_next(s, n, &i);
        if (c == '"' || c == '\\') fprintf(f, "\\%c", (char)c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\b') fputs("\\b", f);
        else if (c == '\f') fputs("\\f", f);
        else if (c < 0x20 || (c >= 0x7f && c < 0x10000)) fprintf(f, "\\u%04x", c);
        else if (c >= 0x10000)
            fprintf(f, "\\u%04x\\u%04x", 0xD800 + ((c - 0x10000) >> 10), 0xDC00 + ((c - 0x10000) & 0x3FF));
        else fputc((int)c, f);
    }
    fputc('"', f);
}

static void put_num(FILE *f, double x) {
    char b[64];
    py_repr_double(x, b, sizeof b, 1);
    fputs(b, f);
}

static void put_entry(FILE *f, const char *name, int baseline, double score, double p, double mean, double ci,
                      int last) {
    fputs("    {\n        \"system\": ", f);
    put_json_ascii(f, baseline ? "Baseline: " : "", name);
    fputs(",\n        \"BLEU\": {\n            \"score\": ", f);
    put_num(f, score);
    fputs(",\n            \"p_value\": ", f);
    if (baseline) fputs("null", f);
    else put_num(f, p);
    fputs(",\n            \"mean\": ", f);
    put_num(f, mean);
    fputs(",\n            \"ci\": ", f);
    put_num(f, ci);
    fprintf(f, "\n        }\n    }%s\n", last ? "" : ",");
}

int bleu_paired_bs(const sb_text *refs, size_t nrefs, const sb_text *sys, const char *const *names, size_t nsys,
                   const bleu_opts *o, int nsamp, uint32_t seed, FILE *out) {
    T5G_CHECK(nsys >= 2, "paired tests need a baseline and at least one more system after -i");
    size_t n = sys[0].n;
    T5G_CHECK(n > 0, "%s is empty (sacreBLEU: contains no sentence)", names[0]);
    uint32_t *idx = malloc((size_t)nsamp * n * sizeof *idx);
    float *bst = malloc(n * 10 * sizeof *bst), *sst = malloc(n * 10 * sizeof *sst);
    double *bl = malloc((size_t)nsamp * sizeof *bl), *sc = malloc((size_t)nsamp * sizeof *sc);
    int rc = idx && bst && sst && bl && sc ? 0 : T5G_FAIL("out of memory for %d resamples of %zu segments", nsamp, n);
    pcg64 g;
    pcg64_seed(&g, seed);
    for (size_t i = 0; !rc && i < (size_t)nsamp * n; i++) idx[i] = pcg64_below(&g, (uint32_t)n);
    const char *const *streams[64];
    const size_t *lens[64];
    for (size_t r = 0; r < nrefs; r++) streams[r] = refs[r].lines, lens[r] = refs[r].lens;
    bleu_score base;
    double mean, ci;
    char *buf = NULL;
    size_t blen = 0;
    FILE *mem = rc ? NULL : open_memstream(&buf, &blen); /* nothing printed unless all succeeds */
    if (!rc && !mem) rc = T5G_FAIL("out of memory");
    FILE *final = out;
    out = mem;
    if (!rc) rc = bleu_corpus(sys[0].lines, sys[0].lens, n, streams, lens, nrefs, o, &base);
    if (!rc) rc = segment_stats(&sys[0], refs, nrefs, o, bst);
    if (!rc) rc = resample_scores(bst, idx, n, (size_t)nsamp, o, bl);
    if (!rc) rc = estimate_ci(bl, (size_t)nsamp, &mean, &ci);
    if (!rc) {
        fputs("[\n", out);
        put_entry(out, names[0], 1, base.score, 0, mean, ci, 0);
    }
    for (size_t s = 1; !rc && s < nsys; s++) {
        bleu_score one;
        rc = bleu_corpus(sys[s].lines, sys[s].lens, n, streams, lens, nrefs, o, &one);
        if (!rc) rc = segment_stats(&sys[s], refs, nrefs, o, sst);
        if (!rc) rc = resample_scores(sst, idx, n, (size_t)nsamp, o, sc);
        if (rc) break;
        double diff = fabs(base.score - one.score), *d = bl == sc ? NULL : malloc((size_t)nsamp * sizeof *d);
        if (!d) {
            rc = T5G_FAIL("out of memory");
            break;
        }
        for (int b = 0; b < nsamp; b++) d[b] = fabs(sc[b] - bl[b]);
        double dm = np_pairwise(d, (size_t)nsamp) / nsamp;
        long c = 0;
        for (int b = 0; b < nsamp; b++) c += d[b] - dm > diff;
        free(d);
        if ((rc = estimate_ci(sc, (size_t)nsamp, &mean, &ci))) break;
        put_entry(out, names[s], 0, one.score, (double)(c + 1) / (double)(nsamp + 1), mean, ci, s == nsys - 1);
    }
    if (!rc) fputs("]\n", out);
    /* glibc's fclose of a memory stream may report success yet leave no buffer when its last realloc fails */
    if (mem && (fclose(mem) != 0 || !buf) && !rc) rc = T5G_FAIL("out of memory");
    if (!rc && fputs(buf, final) < 0) rc = T5G_FAIL("cannot write the output");
    free(buf);
    free(idx), free(bst), free(sst), free(bl), free(sc);
    return rc;
}
