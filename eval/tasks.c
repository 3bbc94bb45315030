/* tasks.c - see tasks.h.  Metric settings (documented in docs/evaluation.md):
 *   WMT14 EN-FR: sacreBLEU corpus BLEU, tokenize 13a (sacreBLEU default; primary) and intl
 *                (T5's setting), smooth exp, mixed case; per sample: sentence BLEU (13a).
 *   CNN/DM:      rouge-score rouge1/rouge2/rougeL/rougeLsum F, no stemming (T5 and HF
 *                evaluate default), plain mean; predictions get T5's " . " -> " .\n" sentence
 *                split for rougeLsum; highlights are already one sentence per line.
 *   SQuAD v2:    the official evaluate-v2.0 computation over the evaluated questions;
 *                the answer "unanswerable" means no answer (""). */
#include "tasks.h"
#include "bleu.h"
#include "pyfmt.h"
#include <ctype.h>
#include "core/err.h"
#include "rouge.h"
#include "squad.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const task_info TASKS[] = {
    /* official sets: newstest2014 en-fr, CNN/DM 3.0.0 test, SQuAD v2.0 dev */
    {"wmt14-en-fr", TASK_WMT14_EN_FR, "translate English to French: {src}", "BLEU", 28.5, 3003, "refs", "sentence_bleu",
     NULL},
    {"cnn-dailymail", TASK_CNN_DM, "summarize: {article}", "ROUGE-2", 18.2, 11490, "highlights", "rouge2_f", NULL},
    {"squad-v2", TASK_SQUAD_V2, "question: {question} context: {context}", "F1", 85.3, 11873, "answers", "f1", "exact"},
};

void task_add_float(cJSON *obj, const char *key, double v) {
    char buf[64];
    py_repr_double(v, buf, sizeof buf, 1); /* cJSON would print 15 digits: 75.9141146382502 */
    cJSON_AddRawToObject(obj, key, buf);
}

int task_is_no_answer(const char *pred, const char *no_answer) {
    size_t n = strlen(pred), k = strlen(no_answer);
    while (n && isspace((unsigned char)*pred)) {
        pred++;
        n--;
    }
    while (n && isspace((unsigned char)pred[n - 1])) n--;
    if (n == k + 1 && pred[k] == '.') n--;
    return n == k && !strncasecmp(pred, no_answer, k);
}

const task_info *task_find(const char *name) {
    for (size_t i = 0; name && i < sizeof TASKS / sizeof TASKS[0]; i++)
        if (!strcmp(TASKS[i].name, name)) return &TASKS[i];
    T5G_FAIL("unknown task '%s' (use wmt14-en-fr, cnn-dailymail or squad-v2)", name ? name : "");
    return NULL;
}

static const char *field(const cJSON *s, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *concat(const char *a, const char *b, const char *c, const char *d) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s%s", a, b, c, d);
    return s;
}

char *task_prompt(const task_info *t, const cJSON *s) {
    const char *a, *b;
    switch (t->id) {
        case TASK_WMT14_EN_FR:
            T5G_CHECK_NULL((a = field(s, "src")), "sample lacks \"src\"");
            return concat("translate English to French: ", a, "", "");
        case TASK_CNN_DM:
            T5G_CHECK_NULL((a = field(s, "article")), "sample lacks \"article\"");
            return concat("summarize: ", a, "", "");
        case TASK_SQUAD_V2:
            T5G_CHECK_NULL((a = field(s, "question")) && (b = field(s, "context")),
                           "sample lacks \"question\"/\"context\"");
            return concat("question: ", a, " context: ", b);
    }
    return NULL;
}

static int string_array(const cJSON *a, int min) {
    const cJSON *e;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < min) return 0;
    cJSON_ArrayForEach(e, a) if (!cJSON_IsString(e)) return 0;
    return 1;
}

int task_check_sample(const task_info *t, const cJSON *s) {
    T5G_CHECK(cJSON_IsObject(s), "a sample must be a JSON object");
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(s, "index");
    T5G_CHECK(cJSON_IsNumber(ix) && ix->valuedouble >= 0 && ix->valuedouble <= 2147483647.0 &&
                  ix->valuedouble == floor(ix->valuedouble),
              "sample lacks \"index\" (an integer >= 0)");
    switch (t->id) {
        case TASK_WMT14_EN_FR:
            T5G_CHECK(field(s, "src"), "sample lacks \"src\" (string)");
            T5G_CHECK(string_array(cJSON_GetObjectItemCaseSensitive(s, "refs"), 1),
                      "sample lacks \"refs\" (a list of strings)");
            break;
        case TASK_CNN_DM:
            T5G_CHECK(field(s, "article"), "sample lacks \"article\" (string)");
            T5G_CHECK(field(s, "highlights"), "sample lacks \"highlights\" (string)");
            break;
        case TASK_SQUAD_V2:
            T5G_CHECK(field(s, "question") && field(s, "context"), "sample lacks \"question\"/\"context\" (strings)");
            T5G_CHECK(string_array(cJSON_GetObjectItemCaseSensitive(s, "answers"), 0),
                      "sample's \"answers\" must be a list of strings ([] when unanswerable)");
            break;
    }
    return 0;
}

/* ---- WMT14: corpus BLEU (13a and intl), sentence BLEU per sample ---- */
static int score_wmt(task_sample *s, int n, cJSON *m, double *primary) {
    const cJSON *r0 = cJSON_GetObjectItem(s[0].sample, "refs");
    int nrefs = cJSON_GetArraySize(r0);
    T5G_CHECK(nrefs >= 1, "wmt14 samples need \"refs\"");
    const char **hyps = malloc(sizeof(char *) * n);
    const char ***streams = calloc(nrefs, sizeof(char **));
    int rc = hyps && streams ? 0 : T5G_FAIL("out of memory scoring %d samples", n);
    for (int r = 0; r < nrefs && !rc; r++)
        if (!(streams[r] = malloc(sizeof(char *) * n))) rc = T5G_FAIL("out of memory scoring %d samples", n);
    for (int i = 0; i < n && !rc; i++) {
        hyps[i] = s[i].prediction;
        const cJSON *refs = cJSON_GetObjectItem(s[i].sample, "refs");
        if (cJSON_GetArraySize(refs) != nrefs)
            rc = T5G_FAIL("sample %d has %d references, expected %d", i, cJSON_GetArraySize(refs), nrefs);
        for (int r = 0; r < nrefs && !rc; r++) streams[r][i] = cJSON_GetArrayItem(refs, r)->valuestring;
    }
    const char *names[2] = {"bleu", "bleu_intl"};
    for (int k = 0; k < 2 && !rc; k++) {
        bleu_opts o;
        bleu_opts_default(&o);
        o.tokenize = k ? BLEU_TOK_INTL : BLEU_TOK_13A;
        bleu_score sc;
        char sig[256], text[1024];
        rc = bleu_corpus(hyps, NULL, n, (const char *const *const *)streams, NULL, nrefs, &o, &sc);
        if (rc) break;
        bleu_signature(&o, sc.nrefs, 0, sig, sizeof sig);
        bleu_format(&sc, &o, 2, 0, 0, 0, text, sizeof text);
        cJSON *b = cJSON_AddObjectToObject(m, names[k]);
        task_add_float(b, "score", sc.score);
        cJSON_AddStringToObject(b, "signature", sig);
        cJSON_AddStringToObject(b, "text", text);
        task_add_float(b, "bp", sc.bp);
        cJSON_AddNumberToObject(b, "sys_len", (double)sc.sys_len);
        cJSON_AddNumberToObject(b, "ref_len", (double)sc.ref_len);
        if (k == 0) *primary = sc.score;
    }
    /* per-sample sentence BLEU (13a, effective order as sacrebleu.sentence_bleu) */
    for (int i = 0; i < n && !rc; i++) {
        bleu_opts o;
        bleu_opts_default(&o);
        o.effective_order = 1;
        const char *refs[16];
        for (int r = 0; r < nrefs && r < 16; r++) refs[r] = streams[r][i];
        bleu_score sc;
        rc = bleu_sentence(hyps[i], refs, nrefs < 16 ? nrefs : 16, &o, &sc);
        s[i].metric = sc.score;
    }
    for (int r = 0; streams && r < nrefs; r++) free(streams[r]);
    free(streams);
    free(hyps);
    return rc;
}

/* T5's rougeLsum preparation, for targets and predictions alike: one sentence per line */
char *task_t5_sentences(const char *s) {
    size_t n = strlen(s);
    char *o = malloc(n + 1), *p = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n + 1 && s[i] == ' ' && s[i + 1] == '.' && s[i + 2] == ' ') {
            memcpy(p, " .\n", 3);
            p += 3;
            i += 2;
        } else *p++ = s[i];
    }
    *p = 0;
    return o;
}

static int score_cnn(task_sample *s, int n, cJSON *m, double *primary) {
    rouge_type types[4];
    int nt = 0;
    T5G_TRY(rouge_parse_types("rouge1,rouge2,rougeL,rougeLsum", types, 4, &nt));
    rouge_scorer *sc = rouge_scorer_new(types, nt, 0);
    T5G_CHECK(sc, "cannot create the ROUGE scorer");
    rouge_score *rows = malloc(sizeof(rouge_score) * n * nt);
    int rc = rows ? 0 : T5G_FAIL("out of memory");
    for (int i = 0; i < n && !rc; i++) {
        const char *hl = field(s[i].sample, "highlights");
        char *pred = task_t5_sentences(s[i].prediction), *tgt = hl ? task_t5_sentences(hl) : NULL;
        if (!tgt || !pred) rc = T5G_FAIL("sample %d lacks \"highlights\"", i);
        else rc = rouge_score_pair(sc, tgt, strlen(tgt), pred, strlen(pred), rows + (size_t)i * nt);
        free(pred);
        free(tgt);
        if (!rc) s[i].metric = rows[(size_t)i * nt + 1].fmeasure * 100; /* ROUGE-2 F */
    }
    rouge_score mean[4];
    if (!rc) rc = rouge_mean(rows, n, nt, mean);
    for (int t = 0; t < nt && !rc; t++) {
        char name[32];
        cJSON *o = cJSON_AddObjectToObject(m, rouge_type_name(types[t], name, sizeof name));
        task_add_float(o, "precision", mean[t].precision * 100);
        task_add_float(o, "recall", mean[t].recall * 100);
        task_add_float(o, "fmeasure", mean[t].fmeasure * 100);
    }
    if (!rc) {
        cJSON_AddBoolToObject(m, "stemming", 0);
        cJSON_AddStringToObject(m, "aggregation", "mean");
        cJSON_AddStringToObject(m, "scale", "x100 (F-measure in percent)");
        cJSON_AddStringToObject(m, "sentence_split",
                                "T5's ' . ' -> ' .\\n' on highlights and predictions (highlights' own newlines kept)");
        *primary = mean[1].fmeasure * 100;
    }
    free(rows);
    rouge_scorer_free(sc);
    return rc;
}

/* ---- SQuAD v2: the official computation over a dataset JSON built from the samples ---- */
static int score_squad(task_sample *s, int n, const task_opts *opt, cJSON *m, double *primary) {
    cJSON *data = cJSON_CreateObject(), *preds = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "version", "v2.0");
    cJSON *arts = cJSON_AddArrayToObject(data, "data");
    for (int i = 0; i < n; i++) {
        const cJSON *x = s[i].sample;
        cJSON *art = cJSON_CreateObject(), *paras = cJSON_AddArrayToObject(art, "paragraphs"),
              *p = cJSON_CreateObject();
        cJSON_AddStringToObject(art, "title", field(x, "title") ? field(x, "title") : "");
        cJSON_AddStringToObject(p, "context", field(x, "context") ? field(x, "context") : "");
        cJSON *qas = cJSON_AddArrayToObject(p, "qas"), *qa = cJSON_CreateObject();
        cJSON_AddItemToObject(qa, "id", cJSON_Duplicate(cJSON_GetObjectItem(x, "id"), 1));
        cJSON_AddStringToObject(qa, "question", field(x, "question") ? field(x, "question") : "");
        cJSON *ans = cJSON_AddArrayToObject(qa, "answers"), *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItem(x, "answers")) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "text", cJSON_IsString(a) ? a->valuestring : "");
            cJSON_AddNumberToObject(o, "answer_start", 0);
            cJSON_AddItemToArray(ans, o);
        }
        cJSON_AddItemToArray(qas, qa);
        cJSON_AddItemToArray(paras, p);
        cJSON_AddItemToArray(arts, art);
        const char *pred = task_is_no_answer(s[i].prediction, opt->no_answer) ? "" : s[i].prediction;
        cJSON_AddStringToObject(preds, field(x, "id") ? field(x, "id") : "", pred);
        /* per-sample EM / F1: max over gold answers ("" when unanswerable), as the official script */
        double em = 0, f1 = 0;
        int ng = 0;
        cJSON_ArrayForEach(a, cJSON_GetObjectItem(x, "answers")) {
            if (!cJSON_IsString(a)) continue;
            char *norm = squad_normalize_answer(a->valuestring, strlen(a->valuestring));
            int empty = !norm || !*norm;
            free(norm);
            if (empty) continue;
            ng++;
            em = fmax(em, squad_compute_exact(a->valuestring, pred));
            f1 = fmax(f1, squad_compute_f1(a->valuestring, pred));
        }
        if (!ng) {
            em = squad_compute_exact("", pred);
            f1 = squad_compute_f1("", pred);
        }
        s[i].metric = 100 * f1;
        s[i].metric2 = 100 * em;
    }
    char *dj = cJSON_PrintUnformatted(data), *pj = cJSON_PrintUnformatted(preds);
    cJSON_Delete(data);
    cJSON_Delete(preds);
    squad2_opts o;
    squad2_opts_default(&o);
    squad2_result r;
    memset(&r, 0, sizeof r);
    int rc = dj && pj ? squad2_evaluate(dj, strlen(dj), pj, strlen(pj), NULL, 0, &o, &r) : T5G_FAIL("out of memory");
    if (!rc) {
        char *txt = squad2_format(&r, 0); /* the official script's digits, kept as printed */
        cJSON *off = txt ? cJSON_Parse(txt) : NULL;
        if (!off) rc = T5G_FAIL("internal: cannot read the SQuAD result");
        else {
            cJSON_Delete(off);
            cJSON_AddRawToObject(m, "official", txt);
            cJSON *na = cJSON_AddObjectToObject(m, "no_answer");
            cJSON_AddStringToObject(na, "string", opt->no_answer);
            cJSON_AddStringToObject(na, "rule", TASK_NO_ANSWER_RULE);
            *primary = r.f1;
        }
        free(txt);
    }
    squad2_result_free(&r);
    free(dj);
    free(pj);
    return rc;
}

void task_opts_default(task_opts *o) {
    o->no_answer = SQUAD_NO_ANSWER;
}

int task_score(const task_info *t, task_sample *s, int n, const task_opts *opt, cJSON **metrics, double *primary) {
    T5G_CHECK(t && s && opt && metrics && primary, "task_score: NULL argument");
    T5G_CHECK(n > 0, "no samples to score");
    cJSON *m = cJSON_CreateObject();
    int rc = t->id == TASK_WMT14_EN_FR ? score_wmt(s, n, m, primary)
             : t->id == TASK_CNN_DM    ? score_cnn(s, n, m, primary)
                                       : score_squad(s, n, opt, m, primary);
    if (rc) {
        cJSON_Delete(m);
        return -1;
    }
    *metrics = m;
    return 0;
}
