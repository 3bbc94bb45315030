/* args.c - see args.h */
#include "cli/args.h"
#include "core/err.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_is(const char *names, const char *arg) {
    size_t n = strlen(arg);
    for (const char *p = names; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, arg, n)) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

static void print_help(const char *usage, const arg_spec *specs, int nspecs) {
    printf("%s\n\noptions:\n", usage);
    for (int i = 0; i < nspecs; i++) printf("  %-24s %s\n", specs[i].name, specs[i].help ? specs[i].help : "");
}

int args_parse(int argc, char **argv, const arg_spec *specs, int nspecs, const char *usage, const char **pos,
               int maxpos, int *npos) {
    int np = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { print_help(usage, specs, nspecs); return 1; }
        if (a[0] != '-' || a[1] == 0) {
            T5G_CHECK(np < maxpos, "unexpected argument '%s' (see --help)", a);
            pos[np++] = a;
            continue;
        }
        const arg_spec *s = NULL;
        for (int k = 0; k < nspecs && !s; k++) if (name_is(specs[k].name, a)) s = &specs[k];
        T5G_CHECK(s, "unknown option '%s' (see --help)", a);
        if (s->kind == ARG_FLAG) { *(int *)s->dst = 1; continue; }
        T5G_CHECK(i + 1 < argc, "option %s needs a value", a);
        const char *v = argv[++i];
        char *end;
        errno = 0;
        if (s->kind == ARG_STR) *(const char **)s->dst = v;
        else if (s->kind == ARG_INT) {
            long x = strtol(v, &end, 10);
            T5G_CHECK(*v && !*end && !errno && x >= -2147483647L && x <= 2147483647L, "option %s needs an integer, got '%s'", a, v);
            *(int *)s->dst = (int)x;
        } else {
            double x = strtod(v, &end);
            T5G_CHECK(*v && !*end && !errno && isfinite(x), "option %s needs a finite number, got '%s'", a, v);
            *(double *)s->dst = x;
        }
    }
    if (npos) *npos = np;
    return 0;
}

int args_check_layout(int tp, int threads) {
    T5G_CHECK(tp >= 0, "--tp must be >= 1 (or left out: all ranks), got %d", tp);
    T5G_CHECK(threads >= 0 && threads <= 4096, "--threads must be in 1..4096 (or left out: cores / ranks), got %d", threads);
    return 0;
}

int args_check_range(const char *flag, long v, long lo, long hi) {
    T5G_CHECK(v >= lo && v <= hi, "%s must be in %ld..%ld, got %ld", flag, lo, hi, v);
    return 0;
}

void args_print_error(void) {
    /* before MPI_Init every rank of mpirun/srun parses the same flags: one message is enough */
    const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *r = getenv(vars[i]);
        if (r && strcmp(r, "0")) return;
    }
    t5g_print_error();
}
