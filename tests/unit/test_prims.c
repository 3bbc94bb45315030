/* test_prims.c - every primitive of the CPU backend against values computed by the
 * transformers T5Gemma code (tests/fixtures/prims/prims.json, tests/reference/make_prim_fixtures.py):
 * RMSNorm(1+w), rotate-half RoPE, tanh GELU, soft-cap, masked float32 softmax, attention
 * with GQA / window / soft-cap / padding, the sqrt(H) embedding scale, and the T5
 * relative-position buckets (relbias.json: HF T5Attention's function, numpy-checked). */
#include "testutil.h"
#include "t5g.h"
#include "core/fileio.h"
#include <cJSON.h>
#include <math.h>
#include <string.h>

static cJSON *g_prims, *g_rel;
static const t5g_backend *be;

static float *floats(const cJSON *a, int *n) {  /* flatten nested lists */
    int cap = 64, k = 0;
    float *v = malloc(sizeof(float) * cap);
    const cJSON *stack[8];
    int idx[8], d = 0;
    stack[0] = a; idx[0] = 0;
    while (d >= 0) {
        const cJSON *cur = stack[d];
        if (idx[d] >= cJSON_GetArraySize(cur)) { d--; if (d >= 0) idx[d]++; continue; }
        const cJSON *e = cJSON_GetArrayItem(cur, idx[d]);
        if (cJSON_IsArray(e)) { stack[++d] = e; idx[d] = 0; continue; }
        if (k == cap) v = realloc(v, sizeof(float) * (cap *= 2));
        v[k++] = cJSON_IsTrue(e) ? 1.0f : cJSON_IsFalse(e) ? 0.0f : (float)e->valuedouble;
        idx[d]++;
    }
    if (n) *n = k;
    return v;
}

static double maxdiff(const float *a, const float *b, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void test_rmsnorm(void) {
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g_prims, "rmsnorm")) {
        int nx, nw, ny;
        float *x = floats(cJSON_GetObjectItem(c, "x"), &nx), *w = floats(cJSON_GetObjectItem(c, "w"), &nw),
              *y = floats(cJSON_GetObjectItem(c, "y"), &ny), *o = malloc(sizeof(float) * nx);
        be->rmsnorm(be->ctx, x, w, o, nx / nw, nw, (float)cJSON_GetObjectItem(c, "eps")->valuedouble);
        CU_ASSERT(maxdiff(o, y, ny) <= 1e-6 * 8);
        free(x); free(w); free(y); free(o);
    }
}

static void test_rope(void) {
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g_prims, "rope")) {
        int hd = cJSON_GetObjectItem(c, "head_dim")->valueint, np, nx, ny;
        float *pos = floats(cJSON_GetObjectItem(c, "positions"), &np), *x = floats(cJSON_GetObjectItem(c, "x"), &nx),
              *y = floats(cJSON_GetObjectItem(c, "y"), &ny);
        float theta = (float)cJSON_GetObjectItem(c, "theta")->valuedouble;
        double worst = 0;
        for (int t = 0; t < np; t++) {  /* one token at a time: position = pos0 */
            float row[512];
            memcpy(row, x + t * hd, sizeof(float) * hd);
            be->rope(be->ctx, row, 1, hd, 1, hd, 1, (int)pos[t], theta);
            worst = fmax(worst, maxdiff(row, y + t * hd, hd));
        }
        printf("\n    rope hd=%d theta=%g positions up to %d: max|d| %.2e", hd, theta, (int)pos[np - 1], worst);
        CU_ASSERT(worst <= 2e-5);  /* cos/sin of float32 angles up to 3e4 rad: libm vs torch ulps */
        free(pos); free(x); free(y);
    }
}

static void test_gelu_softcap(void) {
    cJSON *g = cJSON_GetObjectItem(g_prims, "gelu_tanh");
    int n;
    float *x = floats(cJSON_GetObjectItem(g, "x"), &n), *y = floats(cJSON_GetObjectItem(g, "y"), NULL);
    float *one = malloc(sizeof(float) * n), *o = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) one[i] = 1.0f;
    be->gelu_mul(be->ctx, x, one, o, n);
    double rel = 0;
    for (int i = 0; i < n; i++) rel = fmax(rel, fabs(o[i] - y[i]) / fmax(1.0, fabs(y[i])));
    CU_ASSERT(rel <= 1e-6);
    free(x); free(y); free(one); free(o);
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g_prims, "softcap")) {
        float *sx = floats(cJSON_GetObjectItem(c, "x"), &n), *sy = floats(cJSON_GetObjectItem(c, "y"), NULL);
        be->softcap(be->ctx, sx, n, (float)cJSON_GetObjectItem(c, "cap")->valuedouble);
        CU_ASSERT(maxdiff(sx, sy, n) <= 1e-5);
        free(sx); free(sy);
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g_prims, "embed_scale")) {
        int H = cJSON_GetObjectItem(c, "H")->valueint;
        CU_ASSERT_EQUAL((float)sqrt((double)H), (float)cJSON_GetObjectItem(c, "scale")->valuedouble);
    }
}

/* Masked float32 softmax through the attention op: q = e0, k_j = s_j e0, v_j = e_j, so out = p. */
static void test_softmax(void) {
    cJSON *sm = cJSON_GetObjectItem(g_prims, "softmax_masked");
    cJSON *S = cJSON_GetObjectItem(sm, "scores"), *A = cJSON_GetObjectItem(sm, "allowed"), *Y = cJSON_GetObjectItem(sm, "y");
    double worst = 0;
    for (int i = 0; i < cJSON_GetArraySize(S); i++) {
        int Tk;
        float *s = floats(cJSON_GetArrayItem(S, i), &Tk), *al = floats(cJSON_GetArrayItem(A, i), NULL), *y = floats(cJSON_GetArrayItem(Y, i), NULL);
        float *q = calloc(Tk, 4), *k = calloc((size_t)Tk * Tk, 4), *v = calloc((size_t)Tk * Tk, 4), *out = calloc(Tk, 4), *scr = calloc(Tk, 4);
        unsigned char valid[64];
        q[0] = 1;
        for (int j = 0; j < Tk; j++) { k[j * Tk] = s[j]; v[j * Tk + j] = 1; valid[j] = al[j] != 0; }
        t5g_attn_args a = {0};
        a.Tq = 1; a.Tk = Tk; a.nh = 1; a.nkv = 1; a.hd = Tk; a.group = 1;
        a.q = q; a.ldq = Tk; a.k = k; a.ldk = Tk; a.v = v; a.ldv = Tk; a.out = out; a.ldo = Tk;
        a.key_valid = valid; a.mask = T5G_MASK_BIDIR; a.scale = 1.0f; a.scratch = scr;
        be->attention(be->ctx, &a);
        worst = fmax(worst, maxdiff(out, y, Tk));
        free(s); free(al); free(y); free(q); free(k); free(v); free(out); free(scr);
    }
    CU_ASSERT(worst <= 1e-6);
}

/* Attention cases of the transformers code (eager_attention_forward with its masks). */
static void test_attention(void) {
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g_prims, "attention")) {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        int nh = cJSON_GetObjectItem(c, "nh")->valueint, nkv = cJSON_GetObjectItem(c, "nkv")->valueint;
        int hd = cJSON_GetObjectItem(c, "head_dim")->valueint;
        cJSON *qj = cJSON_GetObjectItem(c, "q"), *kj = cJSON_GetObjectItem(c, "k"), *al = cJSON_GetObjectItem(c, "allowed");
        int Tq = cJSON_GetArraySize(cJSON_GetArrayItem(qj, 0)), Tk = cJSON_GetArraySize(cJSON_GetArrayItem(kj, 0));
        float *qh = floats(qj, NULL), *kh = floats(kj, NULL), *vh = floats(cJSON_GetObjectItem(c, "v"), NULL);
        float *ref = floats(cJSON_GetObjectItem(c, "out"), NULL), *allowed = floats(al, NULL);
        /* [heads][T][hd] -> our token-major [T][heads·hd] */
        float *q = malloc(sizeof(float) * Tq * nh * hd), *k = malloc(sizeof(float) * Tk * nkv * hd), *v = malloc(sizeof(float) * Tk * nkv * hd);
        for (int h = 0; h < nh; h++) for (int t = 0; t < Tq; t++) memcpy(q + (t * nh + h) * hd, qh + (h * Tq + t) * hd, 4 * hd);
        for (int h = 0; h < nkv; h++) for (int t = 0; t < Tk; t++) {
            memcpy(k + (t * nkv + h) * hd, kh + (h * Tk + t) * hd, 4 * hd);
            memcpy(v + (t * nkv + h) * hd, vh + (h * Tk + t) * hd, 4 * hd);
        }
        const cJSON *swj = cJSON_GetObjectItem(c, "sliding_window"), *cap = cJSON_GetObjectItem(c, "softcap");
        int W = cJSON_IsNumber(swj) ? swj->valueint : 0;
        t5g_mask_kind kind = !strncmp(name, "encoder", 7) ? (W ? T5G_MASK_BIDIR_WINDOW : T5G_MASK_BIDIR)
                           : !strncmp(name, "decoder", 7) ? (W ? T5G_MASK_CAUSAL_WINDOW : T5G_MASK_CAUSAL) : T5G_MASK_BIDIR;
        unsigned char valid[256];
        for (int j = 0; j < Tk; j++) { valid[j] = 0; for (int i = 0; i < Tq; i++) valid[j] |= allowed[i * Tk + j] != 0; }
        float *out = calloc(Tq * nh * hd, 4), *scr = calloc((size_t)nh * Tq * Tk, 4);
        t5g_attn_args a = {0};
        a.Tq = Tq; a.Tk = Tk; a.nh = nh; a.nkv = nkv; a.hd = hd; a.group = nh / nkv;
        a.q = q; a.ldq = nh * hd; a.k = k; a.ldk = nkv * hd; a.v = v; a.ldv = nkv * hd; a.out = out; a.ldo = nh * hd;
        a.key_valid = valid; a.mask = kind; a.window = W;
        a.scale = (float)cJSON_GetObjectItem(c, "scaling")->valuedouble;
        a.softcap = cJSON_IsNumber(cap) ? (float)cap->valuedouble : 0;
        a.scratch = scr;
        be->attention(be->ctx, &a);
        /* only rows with at least one allowed key are defined the same way */
        double worst = 0;
        for (int i = 0; i < Tq; i++) {
            int any = 0;
            for (int j = 0; j < Tk; j++) any |= allowed[i * Tk + j] != 0;
            if (any) worst = fmax(worst, maxdiff(out + i * nh * hd, ref + i * nh * hd, nh * hd));
        }
        printf("\n    attention %-26s max|d| %.2e", name, worst);
        CU_ASSERT(worst <= 1e-5);
        free(qh); free(kh); free(vh); free(ref); free(allowed); free(q); free(k); free(v); free(out); free(scr);
    }
}

/* T5 relative-position buckets (docs/model.md, Options) == HF T5Attention._relative_position_bucket. */
static void test_relbias(void) {
    cJSON *c;
    int cases = 0, checked = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g_rel, "cases")) {
        int bidir = cJSON_IsTrue(cJSON_GetObjectItem(c, "bidirectional")), nb = cJSON_GetObjectItem(c, "num_buckets")->valueint,
            md = cJSON_GetObjectItem(c, "max_distance")->valueint;
        cJSON *rel = cJSON_GetObjectItem(c, "rel"), *bucket = cJSON_GetObjectItem(c, "bucket");
        for (int i = 0; i < cJSON_GetArraySize(rel); i++) {
            int r = cJSON_GetArrayItem(rel, i)->valueint, want = cJSON_GetArrayItem(bucket, i)->valueint;
            int got = t5g_rel_bucket(r, bidir, nb, md);
            if (got != want) printf("\n    bucket(rel=%d, bidir=%d, n=%d, max=%d) = %d, HF %d", r, bidir, nb, md, got, want);
            CU_ASSERT_EQUAL(got, want);
            checked++;
        }
        cases++;
    }
    printf("\n    %d bucket values over %d settings", checked, cases);
    CU_ASSERT(cases >= 8);
}

int main(void) {
    be = t5g_backend_cpu();
    t5g_cpu_setup(1);
    char p[512];
    snprintf(p, sizeof p, "%s/prims/prims.json", fixtures_dir());
    char *t = t5g_read_file(p, NULL);
    g_prims = t ? cJSON_Parse(t) : NULL;
    free(t);
    snprintf(p, sizeof p, "%s/prims/relbias.json", fixtures_dir());
    t = t5g_read_file(p, NULL);
    g_rel = t ? cJSON_Parse(t) : NULL;
    free(t);
    if (!g_prims || !g_rel) { fprintf(stderr, "cannot read the prims fixtures\n"); return 1; }
    static CU_TestInfo tests[] = {{"rmsnorm (1+w)", test_rmsnorm}, {"rope rotate-half", test_rope},
                                  {"gelu tanh, softcap, embedding scale", test_gelu_softcap},
                                  {"masked float32 softmax", test_softmax}, {"attention (GQA, window, softcap, pad)", test_attention},
                                  {"T5 relative buckets", test_relbias}, CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"prims", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
