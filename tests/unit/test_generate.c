/* test_generate.c - generation against Hugging Face `generate` fixtures
 * (tests/fixtures/gen/<case>/gen.json, made by tests/reference/make_gen_fixtures.py):
 * greedy sequences identical; beam search (several length penalties / early_stopping modes)
 * sequences identical and scores within 1e-4; incremental decoding equals a full recompute;
 * sampling reproducible for a seed whatever the batch composition; eos_token_id lists, stop
 * strings and target prefixes (stopping_check.h). */
#include "testutil.h"
#include "fixture_util.h"
#include "t5g.h"
#include "core/fileio.h"
#include "generate/generate.h"
#include "generate/search.h"
#include "stopping_check.h"
#include <cJSON.h>
#include <dirent.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    t5g_model *m;
    cJSON *gen;
    int B, L;
    int32_t *ids;   /* [B, L] */
    int *len;       /* valid length per row */
    const char *dir; /* the fixture folder */
} gcase;

static int load_case(const char *dir, gcase *g) {
    char cmd[2048], h5[512], p[1024];
    snprintf(h5, sizeof h5, "/tmp/t5g_gen_%d.h5", (int)getpid());
    snprintf(cmd, sizeof cmd, "./build/t5g convert --hf %s/hf -o %s > /dev/null", dir, h5);
    if (system(cmd) != 0) return -1;
    static t5g_comm self;
    t5g_comm_self(&self);
    g->m = t5g_model_load(h5, &self);
    unlink(h5);
    if (!g->m) { printf("load: %s\n", t5g_last_error()); return -1; }
    snprintf(p, sizeof p, "%s/gen.json", dir);
    char *text = t5g_read_file(p, NULL);
    g->gen = cJSON_Parse(text);
    free(text);
    cJSON *ids = cJSON_GetObjectItem(g->gen, "input_ids"), *mask = cJSON_GetObjectItem(g->gen, "attention_mask");
    g->B = cJSON_GetArraySize(ids);
    g->L = cJSON_GetArraySize(cJSON_GetArrayItem(ids, 0));
    g->ids = malloc(sizeof(int32_t) * g->B * g->L);
    g->len = calloc(g->B, sizeof(int));
    for (int b = 0; b < g->B; b++)
        for (int t = 0; t < g->L; t++) {
            g->ids[b * g->L + t] = cJSON_GetArrayItem(cJSON_GetArrayItem(ids, b), t)->valueint;
            g->len[b] += cJSON_GetArrayItem(cJSON_GetArrayItem(mask, b), t)->valueint;
        }
    return 0;
}

static void free_case(gcase *g) {
    t5g_model_free(g->m);
    cJSON_Delete(g->gen);
    free(g->ids);
    free(g->len);
}

static void make_requests(gcase *g, t5g_request *r, uint64_t seed) {
    for (int b = 0; b < g->B; b++) {
        memset(&r[b], 0, sizeof r[b]);
        r[b].index = b;
        r[b].ids = g->ids + b * g->L;
        r[b].n = g->len[b];
        r[b].seed = seed * 1000003u + (uint64_t)b;
    }
}

/* HF row [start, tok_1..tok_len, filler...] vs our generated ids; len < 0: up to the first eos. */
static int same_sequence(cJSON *row, const t5g_request *r, int len, const t5g_model *m) {
    int n = cJSON_GetArraySize(row);
    if (len < 0) {  /* greedy: HF pads after eos */
        for (len = 0; len + 1 < n; len++) {
            int id = cJSON_GetArrayItem(row, len + 1)->valueint, eos = 0;
            for (int i = 0; i < m->cfg.n_eos; i++) eos |= id == m->cfg.eos_token_ids[i];
            if (eos) { len++; break; }
        }
    }
    if (len != r->nout || len + 1 > n) return 0;
    for (int t = 0; t < len; t++)
        if (cJSON_GetArrayItem(row, t + 1)->valueint != r->out[t]) return 0;
    return 1;
}

static void print_seq(const char *what, const t5g_request *r) {
    printf("\n    %s:", what);
    for (int i = 0; i < r->nout; i++) printf(" %d", r->out[i]);
}

static void check_greedy(gcase *g) {
    t5g_gen_opts o;
    t5g_gen_defaults(&o);
    o.max_new_tokens = cJSON_GetObjectItem(g->gen, "max_new_tokens")->valueint;
    t5g_request r[64];
    make_requests(g, r, 0);
    CU_ASSERT_EQUAL_FATAL(t5g_generate_batch(g->m, r, g->B, &o), 0);
    cJSON *ref = cJSON_GetObjectItem(g->gen, "greedy");
    for (int b = 0; b < g->B; b++) {
        int ok = same_sequence(cJSON_GetArrayItem(ref, b), &r[b], -1, g->m);
        if (!ok) print_seq("greedy mismatch, ours", &r[b]);
        CU_ASSERT(ok);
        free(r[b].out);
    }
}

/* --scores: the greedy score is Σ log_softmax of the chosen tokens (recomputed here in double
 * from teacher-forced logits); without it no score is computed (NAN) and the ids are the same. */
static void check_greedy_scores(gcase *g) {
    const t5g_model *m = g->m;
    t5g_gen_opts o;
    t5g_gen_defaults(&o);
    o.max_new_tokens = cJSON_GetObjectItem(g->gen, "max_new_tokens")->valueint;
    t5g_request plain[64], scored[64];
    make_requests(g, plain, 0);
    make_requests(g, scored, 0);
    CU_ASSERT_EQUAL_FATAL(t5g_generate_batch(m, plain, g->B, &o), 0);
    o.scores = 1;
    o.token_scores = 1;
    CU_ASSERT_EQUAL_FATAL(t5g_generate_batch(m, scored, g->B, &o), 0);
    int nv = m->dec.sh.nv;
    double worst = 0, worst_tok = 0;
    for (int b = 0; b < g->B; b++) {
        CU_ASSERT(isnan(plain[b].score));
        CU_ASSERT_PTR_NULL(plain[b].token_lp);
        CU_ASSERT_PTR_NOT_NULL_FATAL(scored[b].token_lp);
        CU_ASSERT_EQUAL(plain[b].nout, scored[b].nout);
        CU_ASSERT(plain[b].nout == scored[b].nout && !memcmp(plain[b].out, scored[b].out, sizeof(int32_t) * plain[b].nout));
        int T = scored[b].nout;
        int32_t *dec = malloc(sizeof(int32_t) * T), *mask = malloc(sizeof(int32_t) * g->L);
        float *logits = malloc(sizeof(float) * (size_t)T * nv);
        dec[0] = m->cfg.decoder_start_token_id;
        for (int t = 1; t < T; t++) dec[t] = scored[b].out[t - 1];
        for (int t = 0; t < g->L; t++) mask[t] = t < g->len[b];
        t5g_state *s = t5g_state_new(m, 1, g->L, 1, T);
        CU_ASSERT_EQUAL_FATAL(t5g_encode(s, g->ids + b * g->L, mask), 0);
        CU_ASSERT_EQUAL_FATAL(t5g_decode(s, dec, NULL, T, NULL, logits, 0), 0);
        double ref = 0;
        for (int t = 0; t < T; t++) {
            const float *x = logits + (size_t)t * nv;
            double mx = x[0], sum = 0;
            for (int i = 1; i < nv; i++) mx = fmax(mx, x[i]);
            for (int i = 0; i < nv; i++) sum += exp(x[i] - mx);
            double lp = x[scored[b].out[t]] - mx - log(sum);
            ref += lp;
            worst_tok = fmax(worst_tok, fabs(lp - scored[b].token_lp[t]));
        }
        worst = fmax(worst, fabs(ref - scored[b].score));
        t5g_state_free(s);
        free(dec); free(mask); free(logits);
        t5g_request_clear(&plain[b]);
        t5g_request_clear(&scored[b]);
    }
    printf("\n    greedy --scores: max |score - double log-softmax sum| %.2e, per token %.2e", worst, worst_tok);
    CU_ASSERT(worst < 1e-4);
    CU_ASSERT(worst_tok < 1e-4);
}

/* min_new_tokens / repetition_penalty / no_repeat_ngram_size, greedy and beam, against HF
 * generate (options.json, made by tests/reference/make_gen_options_fixtures.py). */
static void check_options(gcase *g) {
    char p[1100];
    snprintf(p, sizeof p, "%s/options.json", g->dir);
    char *text = t5g_read_file(p, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    cJSON *doc = cJSON_Parse(text), *run;
    free(text);
    int nruns = 0;
    double worst = 0;
    cJSON_ArrayForEach(run, cJSON_GetObjectItem(doc, "runs")) {
        t5g_gen_opts o;
        fixture_gen_opts(run, &o);
        CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItem(run, "repetition_penalty"));
        CU_ASSERT_EQUAL_FATAL(t5g_gen_validate(&o), 0);
        t5g_request r[64];
        make_requests(g, r, 0);
        CU_ASSERT_EQUAL_FATAL(t5g_generate_batch(g->m, r, g->B, &o), 0);
        cJSON *seqs = cJSON_GetObjectItem(run, "sequences"), *scores = cJSON_GetObjectItem(run, "sequences_scores");
        for (int b = 0; b < g->B; b++) {
            int ok = same_sequence(cJSON_GetArrayItem(seqs, b), &r[b], -1, g->m);
            if (!ok) {
                printf("\n    %s row %d differs from HF", cJSON_GetObjectItem(run, "name")->valuestring, b);
                print_seq("ours", &r[b]);
            }
            CU_ASSERT(ok);
            if (scores) worst = fmax(worst, fabs(r[b].score - cJSON_GetArrayItem(scores, b)->valuedouble));
            free(r[b].out);
        }
        nruns++;
    }
    printf("\n    %d option runs identical to HF, max |beam score diff| %.2e", nruns, worst);
    CU_ASSERT(nruns >= 10);
    CU_ASSERT(worst < 1e-4);
    cJSON_Delete(doc);
}

/* eos_token_id lists, stop_strings, target prefixes == HF (stopping.json) */
static void check_stopping(gcase *g) {
    stopping_stats st = {0};
    CU_ASSERT_EQUAL_FATAL(stopping_check_case(g->m, g->dir, g->ids, g->len, g->B, g->L, &st), 0);
    printf("\n    %d stopping/prefix runs, %d rows compared with HF (ids and text), max |beam score diff| %.2e", st.runs,
           st.rows, st.worst);
    CU_ASSERT(st.runs >= 8);
    CU_ASSERT(st.fffd <= 1);  /* the one known row (basic, bytes 'z' 0x82 'x'...); any other text difference fails */
    CU_ASSERT(st.worst < 1e-4);
}

static void check_beams(gcase *g) {
    cJSON *runs = cJSON_GetObjectItem(g->gen, "beam_runs"), *run;
    int nruns = 0;
    cJSON_ArrayForEach(run, runs) {
        t5g_gen_opts o;
        t5g_gen_defaults(&o);
        o.search = "beam";
        o.max_new_tokens = cJSON_GetObjectItem(g->gen, "max_new_tokens")->valueint;
        o.num_beams = cJSON_GetObjectItem(run, "num_beams")->valueint;
        o.length_penalty = (float)cJSON_GetObjectItem(run, "length_penalty")->valuedouble;
        cJSON *es = cJSON_GetObjectItem(run, "early_stopping");
        o.early_stopping = cJSON_IsTrue(es) ? T5G_EARLY_TRUE : cJSON_IsString(es) ? T5G_EARLY_NEVER : T5G_EARLY_FALSE;
        int nrs = cJSON_GetObjectItem(run, "num_return_sequences")->valueint;
        o.num_return_sequences = nrs;  /* every returned hypothesis is compared */
        o.token_scores = nruns % 2;    /* and per-token log-probabilities on every other run */
        t5g_request r[64];
        make_requests(g, r, 0);
        CU_ASSERT_EQUAL_FATAL(t5g_generate_batch(g->m, r, g->B, &o), 0);
        cJSON *seqs = cJSON_GetObjectItem(run, "sequences"), *scores = cJSON_GetObjectItem(run, "sequences_scores");
        double worst = 0, worst_lp = 0;
        for (int b = 0; b < g->B; b++) {
            CU_ASSERT_EQUAL(r[b].nhyp, nrs > 1 ? nrs : 0);
            for (int h = 0; h < nrs; h++) {
                t5g_request one = r[b];  /* hypothesis h viewed as a request */
                if (nrs > 1) {
                    one.out = r[b].hyp[h].ids;
                    one.nout = r[b].hyp[h].n;
                    one.score = r[b].hyp[h].score;
                    one.token_lp = r[b].hyp[h].token_lp;
                }
                int len = cJSON_GetArrayItem(cJSON_GetObjectItem(run, "lengths"), b * nrs + h)->valueint;
                int ok = same_sequence(cJSON_GetArrayItem(seqs, b * nrs + h), &one, len, g->m);
                worst = fmax(worst, fabs(one.score - cJSON_GetArrayItem(scores, b * nrs + h)->valuedouble));
                if (!ok) {
                    printf("\n    beam run %d row %d hyp %d (lp %.1f, early %d) mismatch", nruns, b, h, o.length_penalty, o.early_stopping);
                    print_seq("ours", &one);
                }
                CU_ASSERT(ok);
                CU_ASSERT((one.token_lp != NULL) == (o.token_scores != 0));
                if (one.token_lp) {  /* Σ token log-probs / penalty(len) is the sequence score */
                    double sum = 0;
                    for (int t = 0; t < one.nout; t++) sum += one.token_lp[t];
                    double den = o.gnmt_penalty ? pow((5.0 + one.nout) / 6.0, o.length_penalty) : pow(one.nout, o.length_penalty);
                    worst_lp = fmax(worst_lp, fabs(sum / den - one.score));
                }
            }
            t5g_request_clear(&r[b]);
        }
        if (o.token_scores) printf("\n    token log-probs: max |sum/penalty - score| %.2e", worst_lp);
        CU_ASSERT(worst_lp < 1e-4);
        printf("\n    beam run %d: K=%d lp=%.1f early=%d max|score diff| %.2e", nruns, o.num_beams, o.length_penalty,
               o.early_stopping, worst);
        CU_ASSERT(worst <= 1e-4);
        nruns++;
    }
    CU_ASSERT(nruns >= 3);
}

/* Step-by-step logits equal one full decoder pass over the same tokens. */
static void check_incremental(gcase *g) {
    const t5g_model *m = g->m;
    int B = g->B, T = 8, nv = m->dec.sh.nv;
    int32_t *dec = malloc(sizeof(int32_t) * B * T);
    for (int i = 0; i < B * T; i++) dec[i] = i % T == 0 ? 2 : 3 + (i * 7) % 50;
    int32_t *mask = malloc(sizeof(int32_t) * B * g->L);
    for (int b = 0; b < B; b++) for (int t = 0; t < g->L; t++) mask[b * g->L + t] = t < g->len[b];
    t5g_state *s = t5g_state_new(m, B, g->L, B, T);
    float *full = malloc(sizeof(float) * B * T * nv), *step = malloc(sizeof(float) * B * nv);
    CU_ASSERT_EQUAL_FATAL(t5g_encode(s, g->ids, mask), 0);
    CU_ASSERT_EQUAL_FATAL(t5g_decode(s, dec, NULL, T, NULL, full, 0), 0);
    CU_ASSERT_EQUAL_FATAL(t5g_encode(s, g->ids, mask), 0);
    double worst = 0;
    int32_t col[64];
    for (int t = 0; t < T; t++) {
        for (int b = 0; b < B; b++) col[b] = dec[b * T + t];
        CU_ASSERT_EQUAL_FATAL(t5g_decode(s, col, NULL, 1, NULL, step, 1), 0);
        for (int b = 0; b < B; b++)
            for (int v = 0; v < nv; v++) worst = fmax(worst, fabs(step[b * nv + v] - full[((size_t)b * T + t) * nv + v]));
    }
    printf("\n    incremental vs full recompute: max|d| %.2e", worst);
    CU_ASSERT(worst <= 1e-4);
    t5g_state_free(s);
    free(dec); free(mask); free(full); free(step);
}

/* Same seed -> same text, alone or in a batch; another seed differs somewhere. */
static void check_sampling(gcase *g) {
    t5g_gen_opts o;
    t5g_gen_defaults(&o);
    o.search = "sample";
    o.max_new_tokens = cJSON_GetObjectItem(g->gen, "max_new_tokens")->valueint;
    o.temperature = 1.5f; o.top_k = 40; o.top_p = 0.95f;
    t5g_request all[64], one;
    make_requests(g, all, 7);
    CU_ASSERT_EQUAL_FATAL(t5g_generate_batch(g->m, all, g->B, &o), 0);
    for (int b = 0; b < g->B; b++) {
        t5g_request r[64];
        make_requests(g, r, 7);
        one = r[b];
        int rc = t5g_generate_batch(g->m, &one, 1, &o);
        if (rc) printf("\n    %s", t5g_last_error());
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_EQUAL(one.nout, all[b].nout);
        CU_ASSERT(one.nout == all[b].nout && !memcmp(one.out, all[b].out, sizeof(int32_t) * one.nout));
        free(one.out);
    }
    for (int b = 0; b < g->B; b++) free(all[b].out);
}

/* Teacher-forced on HF's sampled sequences: at every step our top-k / temperature / top-p
 * filter keeps the same token ids with the same probabilities as HF's warpers. */
static void check_sample_steps(gcase *g) {
    const t5g_model *m = g->m;
    cJSON *runs = cJSON_GetObjectItem(g->gen, "sample_runs"), *run;
    int nv = m->dec.sh.nv, V = m->cfg.dec.vocab_size, checked = 0;
    double worst = 0;
    int32_t *mask = malloc(sizeof(int32_t) * g->B * g->L);
    for (int b = 0; b < g->B; b++) for (int t = 0; t < g->L; t++) mask[b * g->L + t] = t < g->len[b];
    cJSON_ArrayForEach(run, runs) {
        float temp = (float)cJSON_GetObjectItem(run, "temperature")->valuedouble, top_p = (float)cJSON_GetObjectItem(run, "top_p")->valuedouble;
        int top_k = cJSON_GetObjectItem(run, "top_k")->valueint, k = top_k > 0 && top_k < V ? top_k : V;
        cJSON *seqs = cJSON_GetObjectItem(run, "sequences"), *steps = cJSON_GetObjectItem(run, "steps");
        for (int b = 0; b < g->B; b++) {
            cJSON *row = cJSON_GetArrayItem(steps, b), *seq = cJSON_GetArrayItem(seqs, b);
            int T = cJSON_GetArraySize(row);
            if (T == 0) continue;
            t5g_state *s = t5g_state_new(m, 1, g->L, 1, T);
            int32_t *dec = malloc(sizeof(int32_t) * T);
            for (int t = 0; t < T; t++) dec[t] = cJSON_GetArrayItem(seq, t)->valueint;
            float *logits = malloc(sizeof(float) * T * nv);
            t5g_cand *cand = malloc(sizeof(t5g_cand) * k);
            double *prob = malloc(sizeof(double) * k);
            CU_ASSERT_EQUAL_FATAL(t5g_encode(s, g->ids + b * g->L, mask + b * g->L), 0);
            CU_ASSERT_EQUAL_FATAL(t5g_decode(s, dec, NULL, T, NULL, logits, 0), 0);
            for (int t = 0; t < T; t++) {
                cJSON *st = cJSON_GetArrayItem(row, t), *kept = cJSON_GetObjectItem(st, "kept_ids"), *pr = cJSON_GetObjectItem(st, "probs");
                t5g_vocab_topk(NULL, logits + (size_t)t * nv, 1, nv, 0, k, NULL, NULL, cand);
                int keep = t5g_sample_filter(cand, k, temp, top_p, prob);
                int ok = keep == cJSON_GetArraySize(kept);
                for (int i = 0; ok && i < keep; i++) {  /* HF lists kept ids in id order */
                    int id = cJSON_GetArrayItem(kept, i)->valueint, j = 0;
                    while (j < keep && cand[j].id != id) j++;
                    if (j == keep) { ok = 0; break; }
                    worst = fmax(worst, fabs(prob[j] - cJSON_GetArrayItem(pr, i)->valuedouble));
                }
                if (!ok) printf("\n    sample step mismatch: row %d step %d keeps %d (HF %d)", b, t, keep, cJSON_GetArraySize(kept));
                CU_ASSERT(ok);
                checked++;
            }
            free(dec); free(logits); free(cand); free(prob);
            t5g_state_free(s);
        }
    }
    free(mask);
    printf("\n    %d sampling steps: same kept ids, max|prob diff| %.2e", checked, worst);
    CU_ASSERT(checked > 0);
    CU_ASSERT(worst <= 1e-5);
}

static void for_each_case(void (*fn)(gcase *)) {
    char names[64][256];
    int n = fixture_cases("gen", names, 64);
    for (int i = 0; i < n; i++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/gen/%s", fixtures_dir(), names[i]);
        gcase g = {0};
        CU_ASSERT_EQUAL_FATAL(load_case(dir, &g), 0);
        g.dir = dir;
        printf("\n  %s", names[i]);
        fn(&g);
        free_case(&g);
    }
    CU_ASSERT(n >= 2);
    printf("\n");
}

static void test_greedy(void) { for_each_case(check_greedy); }
static void test_greedy_scores(void) { for_each_case(check_greedy_scores); }
static void test_beam(void) { for_each_case(check_beams); }
static void test_options(void) { for_each_case(check_options); }
static void test_stopping(void) { for_each_case(check_stopping); }
static void test_incremental(void) { for_each_case(check_incremental); }
static void test_sampling(void) { for_each_case(check_sampling); }
static void test_sample_steps(void) { for_each_case(check_sample_steps); }

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    static CU_TestInfo tests[] = {{"greedy == HF generate", test_greedy},
                                  {"greedy --scores == log-softmax sum; none without", test_greedy_scores},
                                  {"min_new_tokens / repetition_penalty / no_repeat_ngram == HF", test_options},
                                  {"eos_token_id / stop_strings / target prefix == HF", test_stopping},
                                  {"beam search == HF generate (sequences, scores)", test_beam},
                                  {"incremental decoding == full recompute", test_incremental},
                                  {"sampling reproducible across batch composition", test_sampling},
                                  {"sampling filters == HF warpers (teacher-forced)", test_sample_steps},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"generate", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    int rc = t5g_test_main(suites);
    MPI_Finalize();
    return rc;
}
