/* cmd_generate.c - `t5g generate -m MODEL.h5 -i in.jsonl -o out.jsonl [...]` under mpirun.
 *
 * Input lines: {"id": ..., "prompt": "..."} or {"id": ..., "input_ids": [...]} ("text": the older
 * name of "prompt"), optionally "target_prefix" (text or ids).  Output lines: {"id", "prediction",
 * "output_ids", ...} as in eval's predictions (docs/generation.md "Output lines").
 * The input is streamed (gen_stream.h): world rank 0 indexes it in fixed chunks of lines and
 * checks the ids are unique; DP group d (of D) owns chunks k % D == d, validates their lines
 * before anyone generates, then reads, tokenizes and runs one chunk at a time.  Its TP rank 0
 * appends results to OUT.part<d> as each batch finishes (a crash loses only the batches in
 * flight); at the end world rank 0 merges OUT (from an earlier run) and the parts into OUT in
 * input order one chunk at a time (temp file + rename) and removes the parts.
 * OUT.run.json records what the results depend on (model, tokenizer and input sha256, every
 * decoding setting).  --resume continues only a run with the same record (torn last lines of
 * the parts are cut first), merges what is there into OUT first (so every file is in chunk
 * order again, whatever DP size wrote the parts) and skips the lines with a result; without
 * --resume the old OUT and parts are removed first, so nothing stale can win the merge. */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/gen_options.h"
#include "io/jsonl.h"
#include "cli/gen_stream.h"
#include "core/fileio.h"
#include "core/fingerprint.h"
#include "core/sha256.h"
#include "io/ckpt.h"
#include "core/progress.h"
#include "generate/runner.h"
#include "text/tokenizer.h"
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *model, *in, *out, *tokenizer, *on_error, *device;
    int tp, threads, resume, truncate, max_input, no_bos, add_eos, quiet;
    cli_gen_flags g; /* the generation flags shared with eval (gen_options.h); g.o the options */
} gen_args;

static int parse_gen_args(int argc, char **argv, gen_args *a) {
    memset(a, 0, sizeof *a);
    a->on_error = "stop";
    a->device = "cpu";
    a->max_input = 8192;
    cli_gen_init(&a->g, 32, 1, 1.0, 0); /* HF generate's defaults: greedy, len^1 */
    arg_spec specs[16 + CLI_GEN_NSPECS] = {
        {"-m|--model", ARG_STR, &a->model, "HDF5 checkpoint"},
        {"-i|--input", ARG_STR, &a->in,
         "input JSONL ({\"id\",\"prompt\"} or {\"id\",\"input_ids\"}, optional \"target_prefix\")"},
        {"-o|--out", ARG_STR, &a->out, "output JSONL"},
        {"--tp", ARG_INT, &a->tp, "tensor-parallel size (default: all ranks)"},
        {"--threads", ARG_INT, &a->threads, "BLIS threads per rank"},
        {"--resume", ARG_FLAG, &a->resume, "skip ids already in the output"},
        {"--on-error", ARG_STR, &a->on_error, "bad input line: stop (default) or skip"},
        {"--max-input-tokens", ARG_INT, &a->max_input, "longest encoder input (default 8192)"},
        {"--truncate", ARG_FLAG, &a->truncate, "truncate longer inputs with a warning (default: error)"},
        {"--no-bos", ARG_FLAG, &a->no_bos, "do not prepend <bos> to text inputs"},
        {"--add-eos", ARG_FLAG, &a->add_eos, "append <eos> to text inputs"},
        {"--tokenizer", ARG_STR, &a->tokenizer, "SentencePiece model (default: the checkpoint's)"},
        {"-q|--quiet", ARG_FLAG, &a->quiet, "no progress output"},
        {"--device", ARG_STR, &a->device, "cpu (default) or cuda (build with make CUDA=1)"},
    };
    int ns = 14;
    ns += cli_gen_specs(&a->g, specs + ns);
    int rc =
        args_parse(argc, argv, specs, ns,
                   "usage: mpirun -np N t5g generate -m MODEL.h5 -i IN.jsonl -o OUT.jsonl [options]", NULL, 0, NULL);
    if (rc) return rc;
    T5G_CHECK(a->model && a->in && a->out, "-m, -i and -o are required (see --help)");
    T5G_CHECK(!strcmp(a->on_error, "stop") || !strcmp(a->on_error, "skip"), "--on-error must be stop or skip");
    T5G_CHECK(a->max_input >= 1, "--max-input-tokens must be >= 1");
    T5G_TRY(args_check_layout(a->tp, a->threads));
    return cli_gen_finish(&a->g);
}

static int tok_flags(const gen_args *a, const t5g_model *m) {
    return (a->no_bos ? 0 : (m->add_bos ? T5G_TOK_ADD_BOS : 0)) | (a->add_eos || m->add_eos ? T5G_TOK_ADD_EOS : 0);
}

/* What the results depend on; batch size and the TP/DP layout are left out on purpose:
 * results do not depend on them (tests/shell/test_cli.sh checks TP 1/2/4 and resumed runs). */
static cJSON *gen_fingerprint(const gen_args *a, const t5g_model *m, int tok_flags) {
    char h[65];
    cJSON *fp = t5g_fingerprint_new("generate");
    if (!fp || t5g_ckpt_model_sha256(a->model, h)) {
        cJSON_Delete(fp);
        return NULL;
    } /* stored at convert */
    cJSON_AddStringToObject(fp, "model_sha256", h);
    if (m->wdtype != T5G_DT_F32)
        cJSON_AddStringToObject(fp, "compute_type", t5g_compute_type_name(m->wdtype, m->act_bf16)); /* --compute-type */
    if (a->tokenizer && t5g_sha256_file(a->tokenizer, h)) {
        cJSON_Delete(fp);
        return NULL;
    }
    if (!a->tokenizer) {
        if (m->spm_model) t5g_sha256_buf(m->spm_model, m->spm_model_len, h);
        else snprintf(h, sizeof h, "none");
    }
    cJSON_AddStringToObject(fp, "tokenizer_sha256", h);
    if (t5g_sha256_file(a->in, h)) {
        cJSON_Delete(fp);
        return NULL;
    }
    cJSON_AddStringToObject(fp, "input_sha256", h);
    const t5g_gen_opts *o = &a->g.o;
    cJSON_AddStringToObject(fp, "search", cli_gen_search_name(o));
    cJSON_AddNumberToObject(fp, "num_beams", o->num_beams);
    t5g_fingerprint_add_float(fp, "length_penalty", o->length_penalty);
    cJSON_AddBoolToObject(fp, "gnmt_penalty", o->gnmt_penalty);
    cJSON_AddStringToObject(fp, "early_stopping", a->g.early);
    cJSON_AddNumberToObject(fp, "max_new_tokens", o->max_new_tokens);
    t5g_fingerprint_add_float(fp, "temperature", o->temperature);
    cJSON_AddNumberToObject(fp, "top_k", o->top_k);
    t5g_fingerprint_add_float(fp, "top_p", o->top_p);
    cJSON_AddNumberToObject(fp, "seed", a->g.seed);
    cJSON_AddNumberToObject(fp, "max_input_tokens", a->max_input);
    cJSON_AddBoolToObject(fp, "truncate", a->truncate);
    cJSON_AddNumberToObject(fp, "tokenizer_flags", tok_flags);
    cJSON_AddBoolToObject(fp, "scores", o->scores); /* lines with and without "score" must not mix */
    cJSON_AddBoolToObject(fp, "token_scores", o->token_scores);
    cJSON_AddNumberToObject(fp, "num_return_sequences", o->num_return_sequences);
    cli_gen_record(fp, &a->g);
    cJSON_AddStringToObject(fp, "output_text_key", "prediction"); /* "text" before: lines of both must not mix */
    return fp;
}

static int plain_file(const char *path) {
    struct stat st;
    return strcmp(path, "-") && (stat(path, &st) != 0 || S_ISREG(st.st_mode));
}

/* World rank 0, before inputs are read: --resume continues only the same run (torn tails
 * of its parts are cut back).  Writes nothing else. */
static int check_output(const gen_args *a, const cJSON *fp) {
    T5G_CHECK(plain_file(a->out) || !a->resume, "--resume needs a regular output file, not %s", a->out);
    if (!plain_file(a->out) || !a->resume) return 0;
    char fpath[4200], hint[4400];
    snprintf(fpath, sizeof fpath, "%s.run.json", a->out);
    snprintf(hint, sizeof hint, "rerun without --resume to start fresh (replaces %s) or write to another -o", a->out);
    char **parts = NULL;
    int np = 0;
    T5G_TRY(jsonl_part_paths(a->out, &parts, &np));
    int rc = t5g_fingerprint_check(fpath, fp, access(a->out, F_OK) == 0 || np > 0, hint);
    for (int k = 0; k < np && !rc; k++) {
        long cut = t5g_cut_torn_tail(parts[k]);
        if (cut > 0)
            fprintf(stderr, "t5g: warning: %s: cut a torn last line of %ld bytes (that request is redone)\n", parts[k],
                    cut);
        rc = cut < 0 ? -1 : 0;
    }
    jsonl_free_paths(parts, np);
    return rc;
}

/* World rank 0, once every input line checked out: record the run; without --resume the old
 * output and any stale parts go first, so nothing of another run can win the merge.  With
 * --resume, OUT and the parts are merged first; done gets the lines that have a result. */
static int start_output(const gen_args *a, const cJSON *fp, const jsonl_index *ix, uint8_t *done) {
    if (!plain_file(a->out)) return 0;
    char fpath[4200];
    snprintf(fpath, sizeof fpath, "%s.run.json", a->out);
    if (a->resume && access(fpath, F_OK) == 0) return jsonl_merge_chunks(a->in, a->out, ix, done);
    char **parts = NULL;
    int np = 0, rc = 0;
    T5G_TRY(jsonl_part_paths(a->out, &parts, &np));
    if (!a->resume) {
        rc = t5g_remove_if_exists(a->out);
        for (int k = 0; k < np && !rc; k++) rc = t5g_remove_if_exists(parts[k]);
    }
    jsonl_free_paths(parts, np);
    return rc ? rc : t5g_fingerprint_write(fpath, fp);
}

/* Every rank: the index from world rank 0 (which scanned the input and checked the ids). */
static int share_index(const gen_args *a, const t5g_comm *c, jsonl_index *ix, int *fail) {
    if (c->world_rank == 0) {
        *fail = jsonl_scan(a->in, ix) != 0;
        if (!*fail && ix->n == 0) *fail = T5G_FAIL("%s has no input lines", a->in) != 0;
    }
    if (t5g_any_failed(c->world, *fail)) return -1;
    *fail = gen_stream_bcast_index(ix, c->world) != 0;
    return *fail;
}

static uint8_t *bitmap(const jsonl_index *ix) {
    return calloc((size_t)(ix->n + 8) / 8, 1);
}

/* This group's lines still to generate (for the progress line). */
static int64_t count_todo(const jsonl_index *ix, const t5g_comm *c, const uint8_t *bad, const uint8_t *done) {
    int64_t todo = 0;
    for (int64_t k = c->dp_rank; k < ix->nchunks; k += c->dp_size) {
        int64_t first, end;
        jsonl_chunk_range(ix, k, &first, &end);
        for (int64_t i = first; i < end; i++) todo += !jsonl_bit(bad, i) && !jsonl_bit(done, i);
    }
    return todo;
}

/* This group's chunks in order; TP rank 0 reads them, every rank of the group runs them. */
static int run_chunks(const gen_args *a, t5g_comm *comm, const t5g_model *m, const gen_stream_cfg *gc,
                      const jsonl_index *ix, const uint8_t *bad, const uint8_t *done, FILE *part, t5g_progress *prog) {
    for (int64_t k = comm->dp_rank; k < ix->nchunks; k += comm->dp_size) {
        gen_chunk ch = {0};
        int fail = comm->tp_rank == 0 && gen_stream_read_chunk(gc, ix, k, bad, done, &ch) != 0;
        if (t5g_any_failed(comm->tp, fail))
            return fail ? -1 : T5G_FAIL("another rank of the tensor-parallel group failed");
        t5g_jsonl_sink sc = {part, ch.ids_json, gc->tok, m, "prediction", 1, 0};
        fail = t5g_run_requests(m, comm, ch.in, ch.n, &a->g.o, t5g_jsonl_sink_write, &sc, prog) != 0;
        gen_chunk_free(&ch);
        if (fail) return -1; /* t5g_run_requests agreed on it within the group */
    }
    return 0;
}

/* TP rank 0: --tokenizer, else the checkpoint's; none at all is fine for id inputs. */
static int open_tokenizer(const gen_args *a, const t5g_model *m, t5g_tokenizer **tok) {
    if (a->tokenizer) *tok = t5g_tokenizer_from_file(a->tokenizer);
    else if (m->spm_model) *tok = t5g_tokenizer_from_bytes(m->spm_model, m->spm_model_len);
    else t5g_clear_error();
    return (a->tokenizer || m->spm_model) && !*tok ? -1 : 0;
}

/* TP rank 0: OUT.part<d>, appended to as batches finish. */
static int open_part(const gen_args *a, const t5g_comm *c, FILE **part) {
    char path[4200];
    snprintf(path, sizeof path, "%s.part%d", a->out, c->dp_rank);
    *part = fopen(path, "a");
    T5G_CHECK(*part, "cannot write %s (does the folder exist?)", path);
    return 0;
}

/* Every rank: this group's chunks under one progress line; closes the part file. */
static int generate_chunks(const gen_args *a, t5g_comm *comm, const t5g_model *m, const gen_stream_cfg *gc,
                           const jsonl_index *ix, const uint8_t *bad, const uint8_t *done, FILE **part) {
    t5g_progress prog;
    char label[64]; /* world rank 0 reports its own DP group (groups get equal shares of chunks) */
    if (comm->dp_size > 1) snprintf(label, sizeof label, "generate [DP group 1 of %d]", comm->dp_size);
    else snprintf(label, sizeof label, "generate");
    t5g_progress_start(&prog, label, count_todo(ix, comm, bad, done), comm->world_rank == 0 && !a->quiet);
    int rc = run_chunks(a, comm, m, gc, ix, bad, done, *part, &prog);
    if (comm->world_rank == 0 && !a->quiet) t5g_progress_finish(&prog);
    if (*part) fclose(*part);
    *part = NULL;
    return rc;
}

int cmd_generate(int argc, char **argv) {
    gen_args a;
    int rc = parse_gen_args(argc, argv, &a);
    if (rc) return args_exit(rc);
    t5g_comm comm;
    int fail = cli_mpi_begin(&argc, &argv, a.tp, a.threads, &comm) != 0;
    if (t5g_any_failed(MPI_COMM_WORLD, fail)) return cli_mpi_end(NULL, fail);
    t5g_model *m = cli_gen_load_model(&a.g, a.model, a.device, a.tokenizer, &comm, !a.quiet);
    if (!m) return cli_mpi_end(&comm, 1);
    cJSON *fp = NULL;
    if (comm.world_rank == 0) fail = !(fp = gen_fingerprint(&a, m, tok_flags(&a, m))) || check_output(&a, fp);
    if (t5g_any_failed(comm.world, fail)) {
        cJSON_Delete(fp);
        cli_gen_free(&a.g);
        t5g_model_free(m);
        return cli_mpi_end(&comm, fail);
    }
    t5g_tokenizer *tok = NULL;
    jsonl_index ix = {0};
    uint8_t *bad = NULL, *done = NULL;
    FILE *part = NULL;
    if (share_index(&a, &comm, &ix, &fail)) goto done;
    bad = bitmap(&ix);
    done = bitmap(&ix);
    fail = !bad || !done ? T5G_FAIL("out of memory") != 0 : 0;
    if (!fail && comm.tp_rank == 0) fail = open_tokenizer(&a, m, &tok) != 0;
    gen_stream_cfg gc = {a.in,
                         tok,
                         tok_flags(&a, m),
                         m->cfg.enc.vocab_size,
                         m->cfg.dec.vocab_size,
                         a.max_input,
                         a.truncate,
                         !strcmp(a.on_error, "skip"),
                         (uint64_t)a.g.seed};
    if (!fail && comm.tp_rank == 0) fail = gen_stream_validate(&gc, &ix, comm.dp_rank, comm.dp_size, bad) != 0;
    int any = t5g_any_failed(comm.world, fail); /* every rank takes part in both checks */
    if (!any && comm.world_rank == 0) fail = start_output(&a, fp, &ix, done) != 0;
    if (any || t5g_any_failed(comm.world, fail)) goto done;
    MPI_Bcast(done, (int)((ix.n + 8) / 8), MPI_UINT8_T, 0, comm.world);
    if (comm.tp_rank == 0) fail = open_part(&a, &comm, &part) != 0;
    if (t5g_any_failed(comm.world, fail)) goto done;
    fail = generate_chunks(&a, &comm, m, &gc, &ix, bad, done, &part) != 0;
    if (t5g_any_failed(comm.world, fail)) goto done;
    if (comm.world_rank == 0) fail = jsonl_merge_chunks(a.in, a.out, &ix, NULL) != 0;
done:
    if (part) fclose(part);
    free(bad);
    free(done);
    jsonl_index_free(&ix);
    t5g_tokenizer_free(tok);
    cli_gen_free(&a.g);
    t5g_model_free(m);
    cJSON_Delete(fp);
    return cli_mpi_end(&comm, fail);
}
