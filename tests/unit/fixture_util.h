/* fixture_util.h - reading the committed reference dumps (tests/fixtures/<kind>/<case>/) and
 * comparing with them; shared by the model tests. */
#ifndef T5G_FIXTURE_UTIL_H
#define T5G_FIXTURE_UTIL_H
#include "testutil.h"
#include "t5g.h"
#include "core/fileio.h"
#include <cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* root[key] as a [B, L] int32 matrix (NULL if the key is missing); caller frees. */
static inline int32_t *fixture_matrix(const cJSON *root, const char *key, int *B, int *L) {
    *B = 0;
    *L = 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!a) return NULL;
    *B = cJSON_GetArraySize(a);
    *L = cJSON_GetArraySize(cJSON_GetArrayItem(a, 0));
    int32_t *v = malloc(sizeof(int32_t) * (size_t)(*B > 0 ? *B : 1) * (size_t)(*L > 0 ? *L : 1));
    if (!v) return NULL;
    for (int i = 0; i < *B; i++) {
        const cJSON *row = cJSON_GetArrayItem(a, i);
        for (int j = 0; j < *L; j++) v[i * *L + j] = cJSON_GetArrayItem(row, j)->valueint;
    }
    return v;
}

/* dir/name parsed as JSON (NULL if unreadable). */
static inline cJSON *fixture_json(const char *dir, const char *name) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *text = t5g_read_file(p, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

/* dir/name as exactly n float32 values (NULL if missing or of another size). */
static inline float *fixture_f32(const char *dir, const char *name, size_t n) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    size_t len = 0;
    char *b = t5g_read_file(p, &len);
    if (b && len != n * sizeof(float)) {
        free(b);
        b = NULL;
    }
    return (float *)b;
}

/* dir/batch.json of a forward fixture: [B, Le] encoder ids and mask, [B, Ld] decoder ids and mask. */
typedef struct {
    int B, Le, Ld;
    int32_t *ids, *mask, *dids, *dmask;
} fixture_batch;

static inline void fixture_batch_free(fixture_batch *b) {
    free(b->ids);
    free(b->mask);
    free(b->dids);
    free(b->dmask);
    memset(b, 0, sizeof *b);
}

/* 0, or -1 (nothing to free) when batch.json is unreadable, lacks a matrix or its shapes disagree. */
static inline int fixture_batch_load(const char *dir, fixture_batch *b) {
    memset(b, 0, sizeof *b);
    cJSON *root = fixture_json(dir, "batch.json");
    if (!root) return -1;
    int B1, L1, B2, L2, B3;
    b->ids = fixture_matrix(root, "input_ids", &b->B, &b->Le);
    b->mask = fixture_matrix(root, "attention_mask", &B1, &L1);
    b->dids = fixture_matrix(root, "decoder_input_ids", &B2, &b->Ld);
    b->dmask = fixture_matrix(root, "decoder_attention_mask", &B3, &L2);
    cJSON_Delete(root);
    int ok = b->ids && b->mask && b->dids && b->dmask && b->B > 0 && B1 == b->B && B2 == b->B && B3 == b->B &&
             L1 == b->Le && L2 == b->Ld;
    if (!ok) fixture_batch_free(b);
    return ok ? 0 : -1;
}

static inline int fixture_name_cmp(const void *a, const void *b) { return strcmp(a, b); }

/* The case folders of fixtures_dir()/kind, sorted by name (at most max); -1 if kind is missing. */
static inline int fixture_cases(const char *kind, char names[][256], int max) {
    char base[512];
    snprintf(base, sizeof base, "%s/%s", fixtures_dir(), kind);
    DIR *d = opendir(base);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < max;)
        if (e->d_name[0] != '.') snprintf(names[n++], 256, "%s", e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], fixture_name_cmp);
    return n;
}

/* 1 if the fixture's model (dir/hf/config.json) splits over tp ranks, else 0 (the reason is
 * t5g_last_error(); such layouts must fail cleanly), -1 if its config cannot be read. */
static inline int fixture_splits(const char *dir, int tp) {
    char p[1100];
    snprintf(p, sizeof p, "%s/hf/config.json", dir);
    t5g_config cfg;
    char *js = t5g_read_file(p, NULL);
    int ok = js && t5g_config_from_json(js, &cfg) == 0;
    free(js);
    if (!ok) return -1;
    t5g_shard sh;
    return !t5g_shard_plan(&cfg.enc, 0, tp, &sh) && !t5g_shard_plan(&cfg.dec, 0, tp, &sh);
}

/* `t5g convert` of the fixture's HF folder dir/hf into h5: system()'s status (0: converted). */
static inline int fixture_convert(const char *dir, const char *h5) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "./build/t5g convert --hf %s/hf -o %s > /dev/null", dir, h5);
    return system(cmd);
}

/* max |a-b| over the rows whose mask is 1 (mask NULL: all rows); a NaN anywhere gives INFINITY. */
static inline double fixture_maxdiff(const float *a, const float *b, int rows, int width, const int32_t *mask) {
    double m = 0;
    for (int r = 0; r < rows; r++) {
        if (mask && !mask[r]) continue;
        for (int i = 0; i < width; i++) {
            double d = fabs((double)a[(size_t)r * width + i] - b[(size_t)r * width + i]);
            if (d != d) return INFINITY;
            if (d > m) m = d;
        }
    }
    return m;
}

/* m's backbone on dir/batch.json against the dumps dir/{encoder_out,decoder_out,logits}.f32:
 * max |d| of each at the valid positions into d (asserted: the pass runs, every dump is there). */
static inline void fixture_forward_diff(t5g_model *m, const char *dir, double d[3]) {
    static const char *DUMP[3] = {"encoder_out.f32", "decoder_out.f32", "logits.f32"};
    fixture_batch fb;
    CU_ASSERT_EQUAL_FATAL(fixture_batch_load(dir, &fb), 0);
    int He = m->cfg.enc.hidden_size, Hd = m->cfg.dec.hidden_size, V = m->cfg.dec.vocab_size;
    const int rows[3] = {fb.B * fb.Le, fb.B * fb.Ld, fb.B * fb.Ld}, width[3] = {He, Hd, V};
    const int32_t *mask[3] = {fb.mask, fb.dmask, fb.dmask};
    float *got[3], *want[3];
    for (int k = 0; k < 3; k++) {
        got[k] = malloc(sizeof(float) * (size_t)rows[k] * width[k]);
        want[k] = fixture_f32(dir, DUMP[k], (size_t)rows[k] * width[k]);
    }
    t5g_backbone_in in = {fb.B, fb.Le, fb.Ld, fb.ids, fb.mask, fb.dids, fb.dmask};
    t5g_backbone_out out = {got[0], got[1], got[2]};
    int rc = t5g_backbone(m, &in, &out);
    if (rc) printf("\n  forward failed: %s\n", t5g_last_error());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_FATAL(want[0] && want[1] && want[2]);
    for (int k = 0; k < 3; k++) {
        d[k] = fixture_maxdiff(got[k], want[k], rows[k], width[k], mask[k]);
        free(got[k]);
        free(want[k]);
    }
    fixture_batch_free(&fb);
}
#endif
