/* cmd_eval.c - `t5g eval --task T -m MODEL.h5 --data DIR --out results/RUN [...]` under
 * mpirun: generation over the task's shards (eval/harness.c), then rank 0 scores everything
 * with the C scorers and writes results.json, samples.jsonl, summary.md and lm_eval.json (temp + rename). */
#include "cli/args.h"
#include "core/json.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/gen_options.h"
#include "core/fileio.h"
#include "core/fingerprint.h"
#include "core/sha256.h"
#include "io/ckpt.h"
#include "eval/harness.h"
#include "eval/lmeval.h"
#include "text/tokenizer.h"
#include <blis.h>
#include <dirent.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef T5G_GIT_REV
#define T5G_GIT_REV "unknown"
#endif

typedef struct {
    const char *task, *model, *data, *out, *device, *no_answer, *tokenizer;
    int tp, threads, limit, max_input, quiet;
    cli_gen_flags g; /* the generation flags shared with generate (gen_options.h) */
} eval_args;

static void iso_now(char *buf, size_t n) {
    time_t t = time(NULL);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
}

static int parse(int argc, char **argv, eval_args *a) {
    memset(a, 0, sizeof *a);
    /* T5 recipe defaults (docs/evaluation.md): beam 4, alpha 0.6 with the GNMT/T5 penalty, 128 new tokens */
    cli_gen_init(&a->g, 16, 4, 0.6, 1);
    a->max_input = 512;
    a->device = "cpu";
    a->no_answer = SQUAD_NO_ANSWER;
    char tasks[1024]; /* the registered names, "a | b | c" */
    task_names(tasks, sizeof tasks, " | ", " | ");
    arg_spec specs[16 + CLI_GEN_NSPECS] = {
        {"--task", ARG_STR, &a->task, tasks},
        {"-m|--model", ARG_STR, &a->model, "HDF5 checkpoint (with its tokenizer)"},
        {"--tokenizer", ARG_STR, &a->tokenizer, "SentencePiece model (default: the checkpoint's), as generate"},
        {"--data", ARG_STR, &a->data, "prepared data folder (datasets/prepare.py --out)"},
        {"--out", ARG_STR, &a->out, "run folder, e.g. results/RUN (rerun to resume)"},
        {"--tp", ARG_INT, &a->tp, "tensor-parallel size (default: all ranks)"},
        {"--threads", ARG_INT, &a->threads, "BLIS threads per rank"},
        {"--limit", ARG_INT, &a->limit, "only samples with index < N (marked not reportable)"},
        {"--max-input-tokens", ARG_INT, &a->max_input, "prompts are truncated to this (default 512, T5)"},
        {"--no-answer", ARG_STR, &a->no_answer,
         "squad-v2: the answer meaning no answer (default unanswerable; case, a final '.' ignored)"},
        {"-q|--quiet", ARG_FLAG, &a->quiet, "no progress output"},
        {"--device", ARG_STR, &a->device, "cpu (default) or cuda (build with make CUDA=1)"},
    };
    int ns = 12;
    ns += cli_gen_specs(&a->g, specs + ns);
    int rc = args_parse(argc, argv, specs, ns,
                        "usage: mpirun -np N t5g eval --task TASK -m MODEL.h5 --data DIR --out results/RUN [options]",
                        NULL, 0, NULL);
    if (rc) return rc;
    T5G_CHECK(a->task && a->model && a->data && a->out, "--task, -m, --data and --out are required (see --help)");
    T5G_CHECK(a->max_input >= 1 && a->limit >= 0, "--max-input-tokens must be >= 1 and --limit >= 0");
    T5G_CHECK(*a->no_answer, "--no-answer must not be empty");
    T5G_TRY(args_check_layout(a->tp, a->threads));
    return cli_gen_finish(&a->g);
}

/* Anything in OUT/predictions or a results.json: outputs of an earlier run. */
static int has_outputs(const char *out) {
    char p[4200];
    snprintf(p, sizeof p, "%s/results.json", out);
    if (access(p, F_OK) == 0) return 1;
    snprintf(p, sizeof p, "%s/predictions", out);
    DIR *d = opendir(p);
    struct dirent *e;
    int any = 0;
    while (d && !any && (e = readdir(d))) any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    return any;
}

/* OUT/run.json: what the predictions there depend on.  Batch size and the TP/DP layout are
 * left out on purpose: predictions do not depend on them (any layout may resume a run). */
static int check_fingerprint(const eval_cfg *c, const cli_gen_flags *g, const t5g_model *m, const eval_stats *st,
                             const char *model_sha, const char *tok_path) {
    char tok[65] = "none", path[4200], hint[4400];
    if (tok_path) T5G_TRY(t5g_sha256_file(tok_path, tok)); /* --tokenizer, as generate records it */
    else if (m->spm_model) t5g_sha256_buf(m->spm_model, m->spm_model_len, tok);
    cJSON *fp = t5g_fingerprint_new("eval");
    T5G_CHECK(fp, "out of memory");
    cJSON_AddStringToObject(fp, "task", c->task->name);
    cJSON_AddStringToObject(fp, "model_sha256", model_sha);
    if (m->wdtype != T5G_DT_F32)
        cJSON_AddStringToObject(fp, "compute_type", t5g_compute_type_name(m->wdtype, m->act_bf16)); /* --compute-type */
    cJSON_AddStringToObject(fp, "tokenizer_sha256", tok);
    cJSON_AddStringToObject(fp, "data_sha256", st->data_sha256);
    cJSON_AddNumberToObject(fp, "limit", c->limit);
    cJSON_AddStringToObject(fp, "search", cli_gen_search_name(&c->gen));
    cJSON_AddNumberToObject(fp, "num_beams", c->gen.num_beams);
    t5g_fingerprint_add_float(fp, "length_penalty", c->gen.length_penalty);
    cJSON_AddBoolToObject(fp, "gnmt_penalty", c->gen.gnmt_penalty);
    cJSON_AddNumberToObject(fp, "early_stopping", c->gen.early_stopping);
    cJSON_AddNumberToObject(fp, "max_new_tokens", c->gen.max_new_tokens);
    cli_gen_record(fp, g);
    cJSON_AddNumberToObject(fp, "max_input_tokens", c->max_input);
    cJSON_AddNumberToObject(fp, "tokenizer_flags", c->tok_flags);
    cJSON_AddStringToObject(fp, "prompt", c->task->prompt_prefix);
    snprintf(path, sizeof path, "%s/run.json", c->out);
    snprintf(hint, sizeof hint, "delete %s or choose another --out to start fresh", c->out);
    int stored = access(path, F_OK) == 0;
    int rc = t5g_fingerprint_check(path, fp, has_outputs(c->out), hint);
    if (!rc && !stored) rc = t5g_fingerprint_write(path, fp);
    cJSON_Delete(fp);
    return rc;
}

static void fill_cfg(const eval_args *a, const t5g_model *m, const task_info *t, eval_cfg *c) {
    memset(c, 0, sizeof *c);
    c->task = t;
    c->data = a->data;
    c->out = a->out;
    c->limit = a->limit;
    c->max_input = a->max_input;
    c->vocab = m->cfg.enc.vocab_size;
    c->tok_flags = (m->add_bos ? T5G_TOK_ADD_BOS : 0) | (m->add_eos ? T5G_TOK_ADD_EOS : 0);
    c->gen = a->g.o;
}

static cJSON *decoding_json(const eval_cfg *c, const cli_gen_flags *g) {
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "search", cli_gen_search_name(&c->gen));
    cJSON_AddNumberToObject(d, "num_beams", c->gen.num_beams);
    char lp[32];
    snprintf(lp, sizeof lp, "%g", c->gen.length_penalty); /* 0.6, not 0.60000002 */
    cJSON_AddNumberToObject(d, "length_penalty", atof(lp));
    cJSON_AddStringToObject(d, "length_penalty_form",
                            c->gen.gnmt_penalty ? "T5/GNMT ((5+len)/6)^alpha" : "HF len^alpha");
    cJSON_AddStringToObject(d, "early_stopping",
                            c->gen.early_stopping == T5G_EARLY_TRUE    ? "true"
                            : c->gen.early_stopping == T5G_EARLY_NEVER ? "never"
                                                                       : "false");
    cJSON_AddNumberToObject(d, "max_new_tokens", c->gen.max_new_tokens);
    cli_gen_record(d, g);
    cJSON_AddNumberToObject(d, "max_input_tokens", c->max_input);
    cJSON_AddNumberToObject(d, "batch_size", c->gen.batch_size);
    cJSON_AddStringToObject(d, "prompt", c->task->prompt_prefix);
    cJSON_AddBoolToObject(d, "add_bos", (c->tok_flags & T5G_TOK_ADD_BOS) != 0);
    return d;
}

static cJSON *versions_json(void) {
    cJSON *v = cJSON_CreateObject();
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(mpi, &len);
    char *nl = strchr(mpi, '\n');
    if (nl) *nl = 0;
    char *comma = strchr(mpi, ',');
    if (comma) *comma = 0;
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    char h5[32];
    snprintf(h5, sizeof h5, "%u.%u.%u", maj, min, rel);
    cJSON_AddStringToObject(v, "t5g", T5G_GIT_REV);
    cJSON_AddStringToObject(v, "mpi", mpi);
    cJSON_AddStringToObject(v, "blis", bli_info_get_version_str());
    cJSON_AddStringToObject(v, "hdf5", h5);
    return v;
}

/* samples.jsonl: enough to rescore offline */
static int write_samples(const char *dir, const task_info *t, const task_sample *s, int n) {
    char p[4200];
    snprintf(p, sizeof p, "%s/samples.jsonl", dir);
    t5g_outfile o;
    T5G_TRY(t5g_out_open(&o, p, "w"));
    for (int i = 0; i < n; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToObject(x, "id", cJSON_Duplicate(cJSON_GetObjectItem(s[i].sample, "id"), 1));
        char *prompt = task_prompt(t, s[i].sample);
        cJSON_AddStringToObject(x, "prompt", prompt ? prompt : "");
        free(prompt);
        cJSON_AddStringToObject(x, "prediction", s[i].prediction);
        cJSON *refs = cJSON_Duplicate(cJSON_GetObjectItem(s[i].sample, t->refs_key), 1);
        if (!cJSON_IsArray(refs)) { /* always a list (CNN/DM has one highlights string) */
            cJSON *one = cJSON_CreateArray();
            cJSON_AddItemToArray(one, refs ? refs : cJSON_CreateString(""));
            refs = one;
        }
        cJSON_AddItemToObject(x, "references", refs);
        if (t->sample_metric2) task_add_float(x, t->sample_metric2, s[i].metric2);
        task_add_float(x, t->sample_metric, s[i].metric);
        char *line = t5g_json_print(x, 0, "a sample line");
        cJSON_Delete(x);
        if (!line) {
            t5g_out_abort(&o);
            return -1;
        }
        if (fprintf(o.f, "%s\n", line) < 0) {
            free(line);
            t5g_out_abort(&o);
            return T5G_FAIL("write error on %s", p);
        }
        free(line);
    }
    return t5g_out_commit(&o);
}

static int write_text(const char *dir, const char *name, const char *text) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    t5g_outfile o;
    T5G_TRY(t5g_out_open(&o, p, "w"));
    if (fputs(text, o.f) < 0) {
        t5g_out_abort(&o);
        return T5G_FAIL("write error on %s", p);
    }
    return t5g_out_commit(&o);
}

typedef struct {
    const eval_args *a;
    const t5g_model *m;
    const t5g_comm *comm;
    const eval_cfg *cfg;
    const char *start;
    double wall;
    int64_t tokens;
    const char *model_sha256;
    const eval_stats *st;
} run_info;

/* Reportable means the official full set: no --limit, the manifest's sample count equal to
 * the official one (and all of them evaluated), the raw files' sha256 recorded.  "" if so. */
static void reportable_reason(const run_info *ri, int n, char *why, size_t cap) {
    const eval_cfg *c = ri->cfg;
    const eval_stats *st = ri->st;
    why[0] = 0;
    if (c->limit) snprintf(why, cap, "--limit %d: a subset", c->limit);
    else if (st->manifest_samples != c->task->official_samples || n != c->task->official_samples)
        snprintf(why, cap, "%d samples; the official %s set has %ld", n, c->task->name, c->task->official_samples);
    else if (!st->sources_hashed) snprintf(why, cap, "the data manifest records no sha256 of the raw files");
}

/* The "model", "decoding", "layout", "versions", "time" and "throughput" parts of results.json. */
static void add_run_details(cJSON *r, const run_info *ri, int n) {
    const eval_cfg *c = ri->cfg;
    struct stat st;
    if (stat(ri->a->model, &st)) st.st_size = 0;
    cJSON *mo = cJSON_AddObjectToObject(r, "model");
    cJSON_AddStringToObject(mo, "path", ri->a->model);
    cJSON_AddStringToObject(mo, "sha256", ri->model_sha256);
    cJSON_AddNumberToObject(mo, "bytes", (double)st.st_size);
    char *cfg = t5g_config_to_json(&ri->m->cfg);
    /* our own JSON: it fails to parse only when memory runs out, which the print of r then reports */
    cJSON_AddItemToObject(mo, "config", cfg ? cJSON_Parse(cfg) : NULL);
    free(cfg);
    cJSON_AddItemToObject(r, "decoding", decoding_json(c, &ri->a->g));
    cJSON *lay = cJSON_AddObjectToObject(r, "layout");
    cJSON_AddNumberToObject(lay, "ranks", ri->comm->world_size);
    cJSON_AddNumberToObject(lay, "tp", ri->comm->tp_size);
    cJSON_AddNumberToObject(lay, "dp", ri->comm->dp_size);
    cJSON_AddNumberToObject(lay, "threads_per_rank", bli_thread_get_num_threads());
    cJSON_AddItemToObject(r, "versions", versions_json());
    char end[32];
    iso_now(end, sizeof end);
    cJSON *tm = cJSON_AddObjectToObject(r, "time");
    cJSON_AddStringToObject(tm, "start", ri->start);
    cJSON_AddStringToObject(tm, "end", end);
    cJSON_AddNumberToObject(tm, "wall_seconds", ri->wall);
    cJSON *th = cJSON_AddObjectToObject(r, "throughput");
    cJSON_AddNumberToObject(th, "generated_tokens", (double)ri->tokens);
    cJSON_AddNumberToObject(th, "tokens_per_second", ri->wall > 0 ? ri->tokens / ri->wall : 0);
    cJSON_AddNumberToObject(th, "samples_per_second", ri->wall > 0 ? n / ri->wall : 0);
    cJSON_AddStringToObject(th, "note", "this invocation only (a resumed run counts the work it did itself)");
}

/* results.json as text (with its final newline); takes `metrics`.  NULL if out of memory. */
static char *results_text(const run_info *ri, int n, const char *why, double primary, cJSON *metrics) {
    const eval_cfg *c = ri->cfg;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "task", c->task->name);
    cJSON_AddBoolToObject(r, "reportable", !why[0]);
    if (why[0]) cJSON_AddStringToObject(r, "not_reportable_because", why);
    if (c->limit) cJSON_AddNumberToObject(r, "limit", c->limit);
    else cJSON_AddNullToObject(r, "limit");
    cJSON *pr = cJSON_AddObjectToObject(r, "primary");
    cJSON_AddStringToObject(pr, "name", c->task->primary);
    task_add_float(pr, "value", primary);
    cJSON_AddNumberToObject(pr, "model_card", c->task->model_card);
    cJSON_AddItemToObject(r, "metrics", metrics);
    add_run_details(r, ri, n);
    cJSON_AddNumberToObject(r, "samples", n);
    char *json = t5g_json_print(r, 1, "results.json");
    cJSON_Delete(r);
    if (!json) return NULL;
    size_t len = strlen(json);
    char *text = realloc(json, len + 2);
    if (!text) {
        free(json);
        return NULL;
    }
    text[len] = '\n';
    text[len + 1] = 0;
    return text;
}

/* summary.md: the score next to the model card's, and how it was obtained. */
static void summary_text(const run_info *ri, int n, const char *why, double primary, char *md, size_t cap) {
    const eval_cfg *c = ri->cfg;
    char head[300], card[64];
    if (why[0]) snprintf(head, sizeof head, "NOT REPORTABLE (%s): not comparable with the model card", why);
    else snprintf(head, sizeof head, "reportable (the official full set)");
    if (why[0]) snprintf(card, sizeof card, "%.1f (not comparable)", c->task->model_card);
    else snprintf(card, sizeof card, "%.1f (%+.2f)", c->task->model_card, primary - c->task->model_card);
    snprintf(md, cap,
             "# %s — %s\n\n| metric | value | model card |\n|---|---|---|\n| %s | %.2f | %s |\n\n"
             "- samples: %d\n- model: `%s` (sha256 %.12s…)\n- decoding: %s, beams %d, length penalty %.2f, max new "
             "tokens %d\n"
             "- layout: %d ranks = TP %d x DP %d, %d BLIS threads per rank\n- wall time %.1f s, %.1f generated "
             "tokens/s\n- t5g %s\n",
             c->task->name, head, c->task->primary, primary, card, n, ri->a->model, ri->model_sha256,
             cli_gen_search_name(&c->gen), c->gen.num_beams, c->gen.length_penalty, c->gen.max_new_tokens,
             ri->comm->world_size, ri->comm->tp_size, ri->comm->dp_size, (int)bli_thread_get_num_threads(), ri->wall,
             ri->wall > 0 ? ri->tokens / ri->wall : 0, T5G_GIT_REV);
}

/* samples.jsonl, results.json, summary.md, then lm_eval.json (a warning only if that fails). */
static int write_outputs(const run_info *ri, const task_sample *s, int n, const char *json, const char *md) {
    const char *out = ri->cfg->out;
    T5G_TRY(write_samples(out, ri->cfg->task, s, n));
    T5G_TRY(write_text(out, "results.json", json));
    T5G_TRY(write_text(out, "summary.md", md));
    char lm[4200];
    snprintf(lm, sizeof lm, "%s/lm_eval.json", out); /* lm-evaluation-harness layout (eval/lmeval.h) */
    if (lmeval_export(out, lm)) fprintf(stderr, "t5g: warning: %s not written: %s\n", lm, t5g_last_error());
    return 0;
}

static int finish_run(const run_info *ri) {
    const eval_cfg *c = ri->cfg;
    task_sample *s = NULL;
    int n = 0;
    T5G_TRY(eval_collect(c, &s, &n));
    cJSON *metrics = NULL;
    double primary = 0;
    task_opts topt;
    task_opts_default(&topt);
    topt.no_answer = ri->a->no_answer;
    if (task_score(c->task, s, n, &topt, &metrics, &primary)) {
        eval_free_samples(s, n);
        return -1;
    }
    char why[200], md[4096];
    reportable_reason(ri, n, why, sizeof why);
    char *json = results_text(ri, n, why, primary, metrics);
    summary_text(ri, n, why, primary, md, sizeof md);
    int rc = json ? write_outputs(ri, s, n, json, md) : T5G_FAIL("out of memory");
    if (!rc && !why[0])
        printf("%s %s = %.2f (model card %.1f) over %d samples -> %s/results.json\n", c->task->name, c->task->primary,
               primary, c->task->model_card, n, c->out);
    else if (!rc)
        printf("%s %s = %.2f over %d samples [not reportable: %s] -> %s/results.json\n", c->task->name,
               c->task->primary, primary, n, why, c->out);
    free(json);
    eval_free_samples(s, n);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    eval_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return args_exit(rc);
    const task_info *task = task_find(a.task);
    if (!task) {
        args_print_error();
        return 2;
    }
    char start[32];
    iso_now(start, sizeof start);
    double t0 = t5g_now();
    t5g_comm comm;
    int fail = cli_mpi_begin(&argc, &argv, a.tp, a.threads, &comm) != 0;
    if (t5g_any_failed(MPI_COMM_WORLD, fail)) return cli_mpi_end(NULL, fail);
    char pred_dir[4200];
    snprintf(pred_dir, sizeof pred_dir, "%s/predictions", a.out);
    t5g_model *m = cli_gen_load_model(&a.g, a.model, a.device, a.tokenizer, &comm, !a.quiet);
    if (!m) return cli_mpi_end(&comm, 1);
    eval_cfg cfg;
    fill_cfg(&a, m, task, &cfg);
    t5g_tokenizer *tok = NULL;
    eval_stats st;
    /* only world rank 0 reads the data files here; the counts are broadcast */
    memset(&st, 0, sizeof st);
    fail = t5g_gen_validate(&cfg.gen) != 0;
    if (!fail && comm.tp_rank == 0) { /* before the run folder: a bad --tokenizer leaves nothing */
        if (a.tokenizer) fail = !(tok = t5g_tokenizer_from_file(a.tokenizer));
        else if (!m->spm_model)
            fail = T5G_FAIL("%s has no tokenizer (tokenizer/spm_model); pass --tokenizer or convert with a "
                            "tokenizer.model",
                            a.model) != 0;
        else fail = !(tok = t5g_tokenizer_from_bytes(m->spm_model, m->spm_model_len));
    }
    char model_sha[65] = "";
    if (!fail && comm.world_rank == 0) fail = eval_scan(&cfg, comm.dp_size, &st) != 0;
    if (!fail && comm.world_rank == 0) fail = t5g_ckpt_model_sha256(a.model, model_sha) != 0; /* stored at convert */
    /* the folder only after the model and every sample passed their checks: bad input leaves nothing */
    if (!fail && comm.world_rank == 0) fail = t5g_mkdirs(pred_dir) != 0;
    if (!fail && comm.world_rank == 0) fail = check_fingerprint(&cfg, &a.g, m, &st, model_sha, a.tokenizer) != 0;
    int64_t counts[3] = {st.num_shards, st.samples, st.samples_group0};
    MPI_Bcast(counts, 3, MPI_INT64_T, 0, comm.world);
    st.num_shards = (int)counts[0];
    st.samples = counts[1];
    st.samples_group0 = counts[2];
    if (!t5g_any_failed(comm.world, fail)) {
        t5g_progress prog;
        char label[96]; /* world rank 0 reports DP group 0's shards */
        if (comm.dp_size > 1) snprintf(label, sizeof label, "%s [DP group 1 of %d]", task->name, comm.dp_size);
        else snprintf(label, sizeof label, "%s", task->name);
        t5g_progress_start(&prog, label, st.samples_group0, comm.world_rank == 0 && !a.quiet);
        fail = eval_generate(m, &comm, tok, &cfg, &st, &prog) != 0;
        if (comm.world_rank == 0 && !a.quiet) t5g_progress_finish(&prog);
        if (!t5g_any_failed(comm.world, fail)) {
            int64_t tokens = comm.tp_rank == 0 ? st.generated_tokens : 0;
            MPI_Allreduce(MPI_IN_PLACE, &tokens, 1, MPI_INT64_T, MPI_SUM, comm.world);
            run_info ri = {&a, m, &comm, &cfg, start, t5g_now() - t0, tokens, model_sha, &st};
            if (comm.world_rank == 0) fail = finish_run(&ri) != 0;
        }
    }
    t5g_tokenizer_free(tok);
    cli_gen_free(&a.g);
    t5g_model_free(m);
    return cli_mpi_end(&comm, fail);
}
