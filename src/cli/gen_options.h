/* gen_options.h - the generation flags of `t5g generate` and `t5g eval`: one table, one
 * validation, one record of the settings.  Both commands list the same flags in --help; only
 * some defaults differ (eval follows the T5 recipe: 4 beams, alpha 0.6, the GNMT penalty form).
 * docs/generation.md documents every flag. */
#ifndef T5G_CLI_GEN_OPTIONS_H
#define T5G_CLI_GEN_OPTIONS_H
#include "cli/args.h"
#include "generate/generate.h"
#include <cJSON.h>

typedef struct t5g_tokenizer t5g_tokenizer;
typedef struct t5g_stop_strings t5g_stop_strings;

typedef struct {
    t5g_gen_opts o; /* the result, after cli_gen_finish (and cli_gen_prepare) */
    /* command defaults */
    int def_batch, def_beams, def_gnmt;
    double def_lp;
    /* flag values as parsed */
    int batch, beams, max_new, mtpb, sample, topk, seed, scores, token_scores, nrs;
    int gnmt_alias, hf_alias;
    double lp, temperature, topp;
    const char *early, *lp_form, *eos_ids, *stop_strings, *target_prefix, *search;
    /* made by cli_gen_prepare */
    t5g_stop_strings *stop;
    int32_t *prefix_ids;
    char help[5][160]; /* help lines that name the command's defaults (and the registered strategies) */
} cli_gen_flags;

/* Room for the arg_spec entries cli_gen_specs writes (it returns how many; a static assertion
 * in gen_options.c keeps its table within this). */
#define CLI_GEN_NSPECS 40

/* Defaults of one command: batch size, beams, length penalty, GNMT form (1) or HF (0). */
void cli_gen_init(cli_gen_flags *g, int batch, int beams, double lp, int gnmt);
/* Write the shared flags into specs[0..n), n <= CLI_GEN_NSPECS; returns n. */
int cli_gen_specs(cli_gen_flags *g, arg_spec *specs);
/* After args_parse: check the flags and fill g->o (except what needs the tokenizer). */
int cli_gen_finish(cli_gen_flags *g);
/* On every rank, once the model is loaded: tokenize --target-prefix and build the
 * --stop-strings matcher from the tokenizer (tokenizer_path, or the checkpoint's own). */
int cli_gen_prepare(cli_gen_flags *g, const t5g_model *m, const char *tokenizer_path);
void cli_gen_free(cli_gen_flags *g);
/* Loads the model on every rank (cli_load_model) and prepares g against it (cli_gen_prepare: stop strings,
 * --target-prefix).  If either fails on any rank, frees both everywhere and returns NULL on every rank. */
t5g_model *cli_gen_load_model(cli_gen_flags *g, const char *model, const char *device, const char *tokenizer_path,
                              t5g_comm *comm, int progress);

/* the strategy's name in the registry (search.h): "greedy", "beam", "sample", ... */
const char *cli_gen_search_name(const t5g_gen_opts *o);
/* Record the options beyond the ones each command records itself (the logits processors that
 * are on, eos ids, stop strings, target prefix, and for eval the sampling settings) in a run record. */
void cli_gen_record(cJSON *fp, const cli_gen_flags *g);

/* A request's own forced prefix from its input line: "target_prefix" as text (tokenized
 * without bos/eos) or as a list of ids.  *ids = NULL when the line has none. */
int cli_request_prefix(const cJSON *item, const t5g_tokenizer *tok, int vocab, int32_t **ids, int *n);
#endif
