/* gen_options.c - see gen_options.h */
#include "cli/gen_options.h"
#include "core/json.h"
#include "cli/common.h"
#include "core/err.h"
#include "core/fingerprint.h"
#include "generate/search.h"
#include "generate/stop_strings.h"
#include "text/tokenizer.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_gen_init(cli_gen_flags *g, int batch, int beams, double lp, int gnmt) {
    memset(g, 0, sizeof *g);
    t5g_gen_defaults(&g->o);
    g->def_batch = batch;
    g->def_beams = beams;
    g->def_lp = lp;
    g->def_gnmt = gnmt;
    g->batch = batch;
    g->beams = -1; /* not given: the command's default, or 1 with --sample */
    g->lp = lp;
    g->max_new = g->o.max_new_tokens;
    g->early = "false";
    g->temperature = 1.0;
    g->topk = g->o.top_k;
    g->topp = 1.0;
    g->nrs = 1;
}

int cli_gen_specs(cli_gen_flags *g, arg_spec *specs) {
    snprintf(g->help[0], sizeof g->help[0], "requests per batch (default %d)", g->def_batch);
    snprintf(g->help[1], sizeof g->help[1], "beam search with K beams (default %d%s)", g->def_beams,
             g->def_beams > 1 ? "; 1 = greedy" : "");
    snprintf(g->help[2], sizeof g->help[2], "length penalty alpha (default %g)", g->def_lp);
    snprintf(g->help[3], sizeof g->help[3], "hf: score/len^alpha; gnmt: score/((5+len)/6)^alpha (T5) (default %s)",
             g->def_gnmt ? "gnmt" : "hf");
    char names[96];
    snprintf(g->help[4], sizeof g->help[4],
             "decoding strategy: %s (default %s; --beams K > 1 and --sample also choose)",
             t5g_strategy_names("|", names, sizeof names), g->def_beams > 1 ? "beam" : "greedy");
    /* a logits processor's flag writes straight into g->o (whose defaults t5g_gen_defaults set) */
    const arg_spec v[] = {
        {"--batch-size", ARG_INT, &g->batch, g->help[0]},
        {"--max-tokens-per-batch", ARG_INT, &g->mtpb, "padded input tokens per batch (default unlimited)"},
        {"--max-new-tokens", ARG_INT, &g->max_new, "generated tokens per request (default 128)"},
        {"--search", ARG_STR, &g->search, g->help[4]},
        {"--beams", ARG_INT, &g->beams, g->help[1]},
        {"--length-penalty", ARG_FLOAT, &g->lp, g->help[2]},
        {"--length-penalty-form", ARG_STR, &g->lp_form, g->help[3]},
        {"--gnmt-penalty", ARG_FLAG, &g->gnmt_alias, "same as --length-penalty-form gnmt (older spelling)"},
        {"--hf-penalty", ARG_FLAG, &g->hf_alias, "same as --length-penalty-form hf (older spelling)"},
        {"--early-stopping", ARG_STR, &g->early, "false|true|never (HF semantics, default false)"},
        {"--sample", ARG_FLAG, &g->sample, "same as --search sample (HF do_sample)"},
        {"--temperature", ARG_FLOAT, &g->temperature, "sampling temperature (default 1)"},
        {"--top-k", ARG_INT, &g->topk, "sampling top-k (default 50; 0 = all)"},
        {"--top-p", ARG_FLOAT, &g->topp, "sampling top-p (default 1 = off)"},
        {"--seed", ARG_INT, &g->seed, "sampling seed (per request: seed and id)"},
        {"--scores", ARG_FLAG, &g->scores,
         "greedy/sampling: write each output's log-probability (\"score\"; beam always has it)"},
        {"--token-scores", ARG_FLAG, &g->token_scores,
         "write each generated token's log-probability (\"token_logprobs\"; HF output_scores)"},
        {"--num-return-sequences", ARG_INT, &g->nrs, "beam: also write the N best (\"hypotheses\"; default 1)"},
        {"--min-new-tokens", ARG_INT, &g->o.min_new_tokens, "no eos before N generated tokens (HF min_new_tokens)"},
        {"--repetition-penalty", ARG_F32, &g->o.repetition_penalty, "HF repetition_penalty (default 1 = off)"},
        {"--no-repeat-ngram-size", ARG_INT, &g->o.no_repeat_ngram_size,
         "no n-gram of this size twice in an output (HF; 0 = off)"},
        {"--eos-token-ids", ARG_STR, &g->eos_ids, "stop ids, e.g. 1,107 (HF eos_token_id; default: the checkpoint's)"},
        {"--stop-strings", ARG_STR, &g->stop_strings,
         "JSON list, e.g. '[\"\\n\\n\", \"###\"]': stop once one is generated (HF stop_strings)"},
        {"--target-prefix", ARG_STR, &g->target_prefix,
         "text every output starts with (forced; CTranslate2 target_prefix)"},
    };
    _Static_assert(sizeof v / sizeof v[0] <= CLI_GEN_NSPECS, "raise CLI_GEN_NSPECS in gen_options.h");
    memcpy(specs, v, sizeof v);
    return (int)(sizeof v / sizeof v[0]);
}

static int parse_eos_ids(const char *s, t5g_gen_opts *o) {
    const char *p = s;
    o->n_eos = 0;
    T5G_CHECK(*p, "--eos-token-ids needs a comma-separated list of ids, e.g. 1,107");
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        T5G_CHECK(end != p && !errno && v >= 0 && v < (1L << 30) && (*end == ',' || !*end),
                  "--eos-token-ids: '%s' is not a comma-separated list of ids (e.g. 1,107)", s);
        T5G_CHECK(o->n_eos < T5G_MAX_EOS, "--eos-token-ids: at most %d ids", T5G_MAX_EOS);
        o->eos_token_ids[o->n_eos++] = (int)v;
        p = *end ? end + 1 : end;
        T5G_CHECK(*end != ',' || *p, "--eos-token-ids: '%s' ends with a comma", s);
    }
    return 0;
}

/* the penalty form: --length-penalty-form, or an older alias, or the command's default */
static int penalty_form(const cli_gen_flags *g, int *gnmt) {
    int given = (g->lp_form != NULL) + g->gnmt_alias + g->hf_alias;
    T5G_CHECK(given <= 1, "give the length-penalty form once: --length-penalty-form hf|gnmt (--gnmt-penalty and "
                          "--hf-penalty are its older spellings)");
    *gnmt = g->def_gnmt;
    if (g->gnmt_alias) *gnmt = 1;
    if (g->hf_alias) *gnmt = 0;
    if (g->lp_form) {
        T5G_CHECK(!strcmp(g->lp_form, "hf") || !strcmp(g->lp_form, "gnmt"),
                  "--length-penalty-form must be hf or gnmt, got '%s'", g->lp_form);
        *gnmt = !strcmp(g->lp_form, "gnmt");
    }
    return 0;
}

/* The strategy and its beam count: --search NAME (--sample is --search sample), else beam search
 * with --beams K > 1 (or the command's default), else greedy.  A strategy without beams takes 1. */
static int search_strategy(const cli_gen_flags *g, const t5g_strategy **st, int *beams) {
    T5G_CHECK(!(g->sample && g->beams > 1), "--sample and --beams > 1 cannot be combined");
    T5G_CHECK(g->beams == -1 || g->beams >= 1, "--beams must be >= 1, got %d", g->beams);
    T5G_CHECK(!g->sample || !g->search || !strcmp(g->search, "sample"),
              "--sample is --search sample: it cannot be combined with --search %s", g->search);
    *beams = g->beams > 0 ? g->beams : g->def_beams;
    const char *name = g->search ? g->search : g->sample ? "sample" : *beams > 1 ? "beam" : "greedy";
    *st = t5g_strategy_find(name);
    if (!*st) {
        char names[256];
        return T5G_FAIL("--search: no strategy '%s' (the strategies: %s)", name,
                        t5g_strategy_names(", ", names, sizeof names));
    }
    if ((*st)->beams) return 0;
    T5G_CHECK(g->beams <= 1, "--search %s uses no beams: drop --beams %d", name, g->beams);
    *beams = 1;
    return 0;
}

int cli_gen_finish(cli_gen_flags *g) {
    t5g_gen_opts *o = &g->o;
    T5G_CHECK(!strcmp(g->early, "false") || !strcmp(g->early, "true") || !strcmp(g->early, "never"),
              "--early-stopping must be false, true or never");
    const t5g_strategy *st;
    int beams;
    T5G_TRY(search_strategy(g, &st, &beams));
    T5G_TRY(args_check_range("--batch-size", g->batch, 1, T5G_MAX_BATCH));
    T5G_TRY(args_check_range("--max-new-tokens", g->max_new, 1, T5G_MAX_NEW_TOKENS));
    T5G_TRY(args_check_range("--max-tokens-per-batch", g->mtpb, 0, 1L << 30));
    T5G_TRY(penalty_form(g, &o->gnmt_penalty));
    o->batch_size = g->batch;
    o->max_new_tokens = g->max_new;
    o->max_tokens_per_batch = g->mtpb;
    o->search = st->name;
    o->num_beams = beams;
    o->length_penalty = (float)g->lp;
    o->early_stopping = !strcmp(g->early, "true")    ? T5G_EARLY_TRUE
                        : !strcmp(g->early, "never") ? T5G_EARLY_NEVER
                                                     : T5G_EARLY_FALSE;
    o->temperature = (float)g->temperature;
    o->top_k = g->topk;
    o->top_p = (float)g->topp;
    o->seed = (uint64_t)g->seed;
    o->scores = g->scores;
    o->token_scores = g->token_scores;
    o->num_return_sequences = g->nrs;
    if (g->eos_ids) T5G_TRY(parse_eos_ids(g->eos_ids, o));
    if (g->target_prefix) T5G_CHECK(*g->target_prefix, "--target-prefix must not be empty");
    if (g->stop_strings) { /* syntax now; the matcher needs the tokenizer (cli_gen_prepare) */
        int oom;
        cJSON *j = t5g_json_parse(g->stop_strings, strlen(g->stop_strings), NULL, 0, &oom, "--stop-strings"), *e;
        if (oom) return -1;
        int ok = cJSON_IsArray(j) && cJSON_GetArraySize(j) >= 1;
        cJSON_ArrayForEach(e, j) ok &= cJSON_IsString(e) && e->valuestring[0];
        cJSON_Delete(j);
        T5G_CHECK(ok, "--stop-strings must be a JSON list of non-empty strings, e.g. '[\"\\n\\n\", \"###\"]'");
    }
    return t5g_gen_validate(o);
}

static t5g_tokenizer *load_tokenizer(const t5g_model *m, const char *path) {
    if (path) return t5g_tokenizer_from_file(path);
    T5G_CHECK_NULL(m->spm_model,
                   "--stop-strings and --target-prefix need a tokenizer: the checkpoint has none (pass --tokenizer)");
    return t5g_tokenizer_from_bytes(m->spm_model, m->spm_model_len);
}

int cli_gen_prepare(cli_gen_flags *g, const t5g_model *m, const char *tokenizer_path) {
    if (!g->stop_strings && !g->target_prefix) return 0;
    t5g_tokenizer *tok = load_tokenizer(m, tokenizer_path);
    if (!tok) return -1;
    int rc = 0;
    if (g->target_prefix) {
        size_t n = 0;
        rc = t5g_tokenizer_encode(tok, g->target_prefix, strlen(g->target_prefix), 0, &g->prefix_ids, &n);
        if (!rc && n > (size_t)T5G_MAX_NEW_TOKENS)
            rc = T5G_FAIL("--target-prefix has %zu tokens, at most %d", n, T5G_MAX_NEW_TOKENS);
        g->o.target_prefix = g->prefix_ids;
        g->o.n_target_prefix = (int)n;
    }
    if (!rc && g->stop_strings) {
        int oom;
        cJSON *j = t5g_json_parse(g->stop_strings, strlen(g->stop_strings), NULL, 0, &oom, "--stop-strings"), *e;
        const char *v[T5G_MAX_STOP_STRINGS];
        int n = 0;
        cJSON_ArrayForEach(e, j) if (n < T5G_MAX_STOP_STRINGS) v[n++] = e->valuestring;
        if (oom) rc = -1; /* checked before (cli_gen_finish): only memory can fail it now */
        else if (cJSON_GetArraySize(j) > T5G_MAX_STOP_STRINGS)
            rc = T5G_FAIL("--stop-strings: at most %d strings", T5G_MAX_STOP_STRINGS);
        else if (!(g->stop = t5g_stop_strings_new(tok, v, n))) rc = -1;
        g->o.stop_strings = g->stop;
        cJSON_Delete(j);
    }
    t5g_tokenizer_free(tok);
    return rc;
}

void cli_gen_free(cli_gen_flags *g) {
    t5g_stop_strings_free(g->stop);
    free(g->prefix_ids);
    g->stop = NULL;
    g->prefix_ids = NULL;
}

const char *cli_gen_search_name(const t5g_gen_opts *o) {
    const t5g_strategy *st = t5g_strategy_of(o);
    return st ? st->name : o->search;
}

/* The logits-processor settings that are on; none when all are off, so runs from before these
 * options keep their fingerprints. */
static void record_processors(cJSON *fp, const t5g_gen_opts *o) {
    if (o->min_new_tokens > 0) cJSON_AddNumberToObject(fp, "min_new_tokens", o->min_new_tokens);
    if (o->repetition_penalty != 1.0f) {
        char v[32];
        snprintf(v, sizeof v, "%g", o->repetition_penalty); /* 1.3, not 1.29999995 */
        cJSON_AddNumberToObject(fp, "repetition_penalty", atof(v));
    }
    if (o->no_repeat_ngram_size > 0) cJSON_AddNumberToObject(fp, "no_repeat_ngram_size", o->no_repeat_ngram_size);
}

void cli_gen_record(cJSON *fp, const cli_gen_flags *g) {
    const t5g_gen_opts *o = &g->o;
    record_processors(fp, o);
    const t5g_strategy *st = t5g_strategy_of(o);
    if (st && st->sampling && !cJSON_HasObjectItem(fp, "temperature")) {
        t5g_fingerprint_add_float(fp, "temperature", o->temperature);
        cJSON_AddNumberToObject(fp, "top_k", o->top_k);
        t5g_fingerprint_add_float(fp, "top_p", o->top_p);
        cJSON_AddNumberToObject(fp, "seed", g->seed);
    }
    if (o->n_eos > 0) {
        cJSON *a = cJSON_AddArrayToObject(fp, "eos_token_ids");
        for (int i = 0; i < o->n_eos; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(o->eos_token_ids[i]));
    }
    if (g->stop_strings) cJSON_AddItemToObject(fp, "stop_strings", cJSON_Parse(g->stop_strings));
    if (g->target_prefix) cJSON_AddStringToObject(fp, "target_prefix", g->target_prefix);
}

int cli_request_prefix(const cJSON *item, const t5g_tokenizer *tok, int vocab, int32_t **ids, int *n) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(item, "target_prefix");
    *ids = NULL;
    *n = 0;
    if (!p) return 0;
    if (cJSON_IsString(p)) {
        T5G_CHECK(tok, "\"target_prefix\" text needs a tokenizer (the checkpoint has none; pass --tokenizer)");
        size_t k = 0;
        T5G_TRY(t5g_tokenizer_encode(tok, p->valuestring, strlen(p->valuestring), 0, ids, &k));
        *n = (int)k;
    } else {
        T5G_CHECK(cJSON_IsArray(p), "\"target_prefix\" must be text or a list of token ids");
        int k = cJSON_GetArraySize(p), j = 0;
        T5G_CHECK(k <= T5G_MAX_NEW_TOKENS, "\"target_prefix\" has %d ids, at most %d", k, T5G_MAX_NEW_TOKENS);
        *ids = malloc(sizeof(int32_t) * (k ? k : 1));
        T5G_CHECK(*ids, "out of memory");
        const cJSON *e;
        cJSON_ArrayForEach(e, p) {
            double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
            if (!(v >= 0 && v < vocab && v == floor(v))) {
                free(*ids);
                *ids = NULL;
                return T5G_FAIL("target_prefix[%d] is not a token id in [0, %d)", j, vocab);
            }
            (*ids)[j++] = (int32_t)v;
        }
        *n = k;
    }
    if (*n > 0) return 0;
    free(*ids); /* an empty prefix: none */
    *ids = NULL;
    return 0;
}

t5g_model *cli_gen_load_model(cli_gen_flags *g, const char *model, const char *device, const char *tokenizer_path,
                              t5g_comm *comm, int progress) {
    t5g_model *m = cli_load_model(model, device, comm, progress);
    int fail = !m || cli_gen_prepare(g, m, tokenizer_path) != 0;
    if (!t5g_any_failed(comm->world, fail)) return m;
    cli_gen_free(g);
    t5g_model_free(m);
    return NULL;
}
