/* bench_gen.c - time t5g generation in-process on given token ids (used by bench/peers.py,
 * so that t5g, transformers and CTranslate2 are all timed without their model loading).
 *
 * usage: bench_gen -m MODEL.h5 --ids IDS.txt --batch B [--beams K] [--new N] [--threads T]
 *                  [--reps R] [--out OUT.txt]
 * IDS.txt: one request per line, space-separated encoder ids (the first B lines are used).
 * Prints one line per repetition: "rep I seconds S tokens N", then "maxrss_kb K".
 * OUT.txt: the generated ids of the last repetition, one line per request. */
#include "bench_util.h"
#include "t5g.h"
#include "cli/args.h"
#include "core/err.h"
#include "core/progress.h"
#include "generate/generate.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int read_ids(const char *path, int B, int32_t **ids, int **len) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    *ids = malloc(sizeof(int32_t) * (size_t)B * 8192);
    *len = calloc(B, sizeof(int));
    char *line = NULL;
    size_t cap = 0;
    int b = 0;
    while (b < B && getline(&line, &cap, f) > 0) {
        char *p = line, *end;
        for (long v = strtol(p, &end, 10); end != p && (*len)[b] < 8192; v = strtol(p, &end, 10)) {
            (*ids)[(size_t)b * 8192 + (*len)[b]++] = (int32_t)v;
            p = end;
        }
        b++;
    }
    free(line);
    fclose(f);
    return b == B ? 0 : -1;
}

#define USAGE                                                                                                          \
    "usage: bench_gen -m MODEL.h5 --ids IDS.txt --batch B [--beams K] [--new N] [--threads T] [--reps R] [--out F]\n"  \
    "                 [--compute-type T]"

int main(int argc, char **argv) {
    const char *model = NULL, *idsf = NULL, *outf = NULL, *ct = NULL;
    int B = 1, K = 1, N = 32, threads = 0, reps = 3;
    arg_spec specs[] = {
        {"-m", ARG_STR, &model, "the model (.h5), required"},
        {"--ids", ARG_STR, &idsf, "encoder ids, one request a line (the first B lines are used), required"},
        {"--batch", ARG_INT, &B, "requests (default 1)"},
        {"--beams", ARG_INT, &K, "beam size; 1 = greedy (default)"},
        {"--new", ARG_INT, &N, "generated tokens per request (default 32)"},
        {"--threads", ARG_INT, &threads, "threads (default 0: all cores)"},
        {"--reps", ARG_INT, &reps, "repetitions (default 3)"},
        {"--out", ARG_STR, &outf, "write the generated ids of the last repetition here, one line per request"},
        {"--compute-type", ARG_STR, &ct, "the weights' dtype in memory (default: as stored)"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), USAGE, NULL, 0, NULL);
    if (rc) return args_exit(rc);
    if (!model || !idsf) return args_exit(T5G_FAIL("bench_gen needs -m MODEL.h5 and --ids IDS.txt (see --help)"));
    if (args_check_range("--batch", B, 1, T5G_MAX_BATCH) || args_check_range("--beams", K, 1, 1024) ||
        args_check_range("--new", N, 1, T5G_MAX_NEW_TOKENS) || args_check_range("--threads", threads, 0, 4096) ||
        args_check_range("--reps", reps, 1, 1000))
        return args_exit(-1);
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(threads);
    t5g_comm comm;
    t5g_comm_self(&comm);
    t5g_model *m = t5g_model_load_as(model, &comm, NULL, ct);
    int32_t *ids;
    int *len;
    if (!m || read_ids(idsf, B, &ids, &len)) {
        fprintf(stderr, "bench_gen: %s\n", m ? "cannot read the ids file" : t5g_last_error());
        return 1;
    }
    t5g_gen_opts o;
    bench_gen_opts(&o, B, K, N);
    t5g_request *r = calloc(B, sizeof *r);
    for (int rep = 0; rep < reps; rep++) {
        for (int b = 0; b < B; b++) {
            free(r[b].out);
            memset(&r[b], 0, sizeof r[b]);
            r[b].index = b;
            r[b].ids = ids + (size_t)b * 8192;
            r[b].n = len[b];
        }
        double t0 = t5g_now();
        if (t5g_generate_batch(m, r, B, &o)) {
            fprintf(stderr, "bench_gen: %s\n", t5g_last_error());
            return 1;
        }
        double t = t5g_now() - t0;
        long toks = 0;
        for (int b = 0; b < B; b++) toks += r[b].nout;
        printf("rep %d seconds %.6f tokens %ld\n", rep, t, toks);
        fflush(stdout);
    }
    if (outf) {
        FILE *f = fopen(outf, "w");
        for (int b = 0; f && b < B; b++) {
            for (int i = 0; i < r[b].nout; i++) fprintf(f, i ? " %d" : "%d", r[b].out[i]);
            fprintf(f, "\n");
        }
        if (f) fclose(f);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("maxrss_kb %ld\n", ru.ru_maxrss);
    t5g_model_free(m);
    MPI_Finalize();
    return 0;
}
