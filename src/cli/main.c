/* main.c - `t5g <subcommand> ...`: one binary, one MPI job. */
#include "cli/cli.h"
#include "core/json.h"
#include "cli/common.h"
#include <stdio.h>
#include <string.h>

/* from the Makefile: the committed VERSION file, and the git revision when built in a git checkout */
#ifndef T5G_VERSION
#define T5G_VERSION "unknown"
#endif
#ifndef T5G_GIT_REV
#define T5G_GIT_REV "unknown"
#endif

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} command;

static const command COMMANDS[] = {
    {"info", cmd_info, "print a model's config and exact parameter count"},
    {"init", cmd_init, "write a random model (preset or config) to an HDF5 checkpoint"},
    {"convert", cmd_convert, "import a Hugging Face checkpoint directory into HDF5"},
    {"model", cmd_model, "a checkpoint's content sha256: model sha256 | model verify -m M.h5"},
    {"forward", cmd_forward, "run the backbone on a JSON batch and write the outputs"},
    {"generate", cmd_generate, "batched offline generation over a JSONL file (greedy, beam, sampling)"},
    {"eval", cmd_eval, "evaluate on WMT14 EN-FR / CNN-DailyMail / SQuAD v2 shards (resumable)"},
    {"report", cmd_report, "one table over evaluation runs vs the model card, plus a PNG chart"},
    {"plan", cmd_plan, "per-rank memory and predicted throughput of a TP/DP layout"},
    {"calibrate", cmd_calibrate, "measure GEMM, bandwidth and all-reduce numbers for t5g plan"},
    {"score", cmd_score, "BLEU / ROUGE / SQuAD v2 scorers (sacreBLEU, rouge-score, official script)"},
};
#define N_COMMANDS (int)(sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f) {
    fprintf(f, "usage: t5g <command> [options]   (run under mpirun for tensor parallelism)\n\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].help);
    fprintf(f, "  %-10s %s\n", "version", "print the version (also t5g --version)");
    fprintf(f, "\n`t5g <command> --help` lists a command's options.  forward, generate and eval also take\n"
               "--compute-type f32|bf16|bf16-act|int8: the weights' dtype in memory (default: the checkpoint's;\n"
               "bf16-act also rounds the activations to bf16 in the products, docs/checkpoint.md), and\n"
               "--encoder-layout 1d|2d|2d:RxC[:NB]: 2d runs the encoder's projections as ScaLAPACK PSGEMMs on an\n"
               "R x C grid of the TP group (default 1d; docs/planner.md).\n"
               "Options: --opt VALUE or --opt=VALUE, each at most once; -- ends the options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        if (strcmp(T5G_GIT_REV, "unknown")) printf("t5g %s (git %s)\n", T5G_VERSION, T5G_GIT_REV);
        else printf("t5g %s\n", T5G_VERSION);
        return 0;
    }
    t5g_json_init(); /* before any cJSON call: a failed allocation is noted from the first one on */
    /* --compute-type is common to the commands that load a model (src/cli/common.c) */
    const char *cmd = argv[1];
    if ((!strcmp(cmd, "forward") || !strcmp(cmd, "generate") || !strcmp(cmd, "eval")) &&
        (cli_take_compute_type(&argc, argv) || cli_take_encoder_layout(&argc, argv)))
        return 2;
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(cmd, COMMANDS[i].name)) return COMMANDS[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "t5g: error: unknown command '%s' (see t5g --help)\n", argv[1]);
    return 2;
}
