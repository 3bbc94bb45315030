/* cmd_score.c - `t5g score bleu|chrf|ter|rouge|squad2 ...`: the C scorers behind reference-tool CLIs. */
#include "cli/cli.h"
#include "core/err.h"
#include "cli/score.h"
#include "eval/bleu.h"
#include "eval/chrf.h"
#include "eval/ter.h"
#include "eval/rouge.h"
#include "eval/squad.h"
#include <stdio.h>
#include <string.h>

int score_help_asked(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

int score_parse_exit(int rc, const char *usage) {
    if (rc == 1 && usage) fputs(usage, stdout);
    if (rc == 1) return 0;
    t5g_print_error();
    return 2;
}

int score_run_exit(int rc) {
    if (fflush(stdout) && !rc) rc = T5G_FAIL("cannot write the output");
    if (rc) t5g_print_error();
    return rc ? 1 : 0;
}

int cmd_score(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fprintf(stderr, "usage: t5g score bleu REF [REF...] [-i HYP] [options]   (sacreBLEU 2.6)\n"
                        "       t5g score chrf REF [REF...] [-i HYP] [options]   (sacreBLEU 2.6 chrF / chrF++)\n"
                        "       t5g score ter REF [REF...] [-i HYP] [options]   (sacreBLEU 2.6 TER)\n"
                        "       t5g score rouge --targets T --predictions P [options]   (rouge-score 0.1.2)\n"
                        "       t5g score squad2 DATA.json PRED.json [options]   (evaluate-v2.0.py)\n"
                        "Each prints --help for its options.\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "bleu")) return bleu_cli_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "chrf")) return chrf_cli_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "ter")) return ter_cli_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "rouge")) return rouge_cli_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "squad2")) return squad_cli_main(argc - 1, argv + 1);
    fprintf(stderr, "t5g: error: unknown scorer '%s' (use bleu, chrf, ter, rouge or squad2)\n", argv[1]);
    return 2;
}
