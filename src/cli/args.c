/* args.c - see args.h */
#include "cli/args.h"
#include "core/err.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char ARGS_HELP_RULES[] =
    "Values: --opt VALUE or --opt=VALUE (short: -o VALUE or -oVALUE); each option at most once\n"
    "(lists such as --stop may repeat); -- ends the options; long names are not abbreviated.";

/* 1 if arg (len n) is one of the '|'-separated names */
static int name_is(const char *names, const char *arg, size_t n) {
    for (const char *p = names; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, arg, n)) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

static int find_spec(const arg_spec *specs, int nspecs, const char *arg, size_t n) {
    for (int k = 0; k < nspecs; k++)
        if (name_is(specs[k].name, arg, n)) return k;
    return -1;
}

/* "  NAME   help" with the help wrapped at word boundaries under its first column */
static void print_option(const char *name, const char *help) {
    const int col = 27, width = 100 - col;
    printf("  %-24s ", name);
    if (strlen(name) > 24) printf("\n%*s", col, "");
    const char *p = help ? help : "";
    while (*p) {
        int n = (int)strlen(p);
        if (n > width) {
            n = width;
            while (n > 0 && p[n] != ' ') n--;
            if (n == 0) n = width;
        }
        printf("%.*s\n", n, p);
        p += n;
        while (*p == ' ') p++;
        if (*p) printf("%*s", col, "");
    }
    if (!help || !*help) printf("\n");
}

static void print_help(const char *usage, const arg_spec *specs, int nspecs) {
    printf("%s\n\noptions:\n", usage);
    for (int i = 0; i < nspecs; i++) print_option(specs[i].name, specs[i].help);
    print_option("-h|--help", "this help");
    printf("\n%s\n", ARGS_HELP_RULES);
}

/* Store value v (NULL for a flag) of the flag typed as `as` into spec s. */
static int store(const arg_spec *s, const char *as, const char *v) {
    char *end;
    errno = 0;
    switch (s->kind) {
        case ARG_FLAG:
            *(int *)s->dst = 1;
            return 0;
        case ARG_STR:
            *(const char **)s->dst = v;
            return 0;
        case ARG_STRS: {
            arg_strs *l = s->dst;
            T5G_CHECK(l->n < ARGS_MAX_LIST, "option %s is given more than %d times", as, ARGS_MAX_LIST);
            l->v[l->n++] = v;
            return 0;
        }
        case ARG_INT: {
            long x = strtol(v, &end, 10);
            T5G_CHECK(*v && !*end && !errno && x >= -2147483647L && x <= 2147483647L,
                      "option %s needs an integer, got '%s'", as, v);
            *(int *)s->dst = (int)x;
            return 0;
        }
        case ARG_FLOAT:
        case ARG_F32: {
            double x = strtod(v, &end);
            T5G_CHECK(*v && !*end && !errno && isfinite(x) && (s->kind == ARG_FLOAT || fabs(x) <= 3.4e38),
                      "option %s needs a finite number, got '%s'", as, v);
            if (s->kind == ARG_F32) *(float *)s->dst = (float)x;
            else *(double *)s->dst = x;
            return 0;
        }
    }
    return T5G_FAIL("option %s: unknown kind", as);
}

typedef struct {
    int argc, i;
    char **argv;
    const arg_spec *specs;
    int nspecs;
    char seen[ARGS_MAX_SPECS][64]; /* how each flag was first typed ("" = not yet; repeats are errors) */
} parser;

/* One option: spec k, typed as `as` (length n), with an inline value (after '=' or a short
 * option's letters) or NULL. */
static int take(parser *p, int k, const char *as, size_t n, const char *inline_val) {
    const arg_spec *s = &p->specs[k];
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), as);
    if (p->seen[k][0] && s->kind != ARG_STRS) {
        if (!strcmp(p->seen[k], name)) return T5G_FAIL("option %s is given twice; give it once", name);
        return T5G_FAIL("option %s is given twice (as %s and %s); give it once", s->name, p->seen[k], name);
    }
    snprintf(p->seen[k], sizeof p->seen[k], "%s", name);
    if (s->kind == ARG_FLAG) {
        T5G_CHECK(!inline_val, "option %s takes no value (got '%s')", name, inline_val);
        return store(s, name, NULL);
    }
    if (inline_val) return store(s, name, inline_val);
    T5G_CHECK(p->i + 1 < p->argc, "option %s needs a value", name);
    return store(s, name, p->argv[++p->i]);
}

/* -abc: short flags may be bundled; a short option that takes a value takes the rest of the
 * word (-oFILE) or the next argument. */
static int take_short(parser *p, const char *a) {
    for (const char *c = a + 1; *c; c++) {
        char one[3] = {'-', *c, 0};
        int k = find_spec(p->specs, p->nspecs, one, 2);
        if (k < 0) {
            if (c == a + 1) return T5G_FAIL("unknown option '%s' (see --help)", a);
            return T5G_FAIL("unknown option '%s' in '%s' (see --help)", one, a);
        }
        if (p->specs[k].kind == ARG_FLAG) {
            T5G_TRY(take(p, k, one, 2, NULL));
            continue;
        }
        return take(p, k, one, 2, c[1] ? c + 1 : NULL);
    }
    return 0;
}

int args_parse(int argc, char **argv, const arg_spec *specs, int nspecs, const char *usage, const char **pos,
               int maxpos, int *npos) {
    T5G_CHECK(nspecs >= 0 && nspecs <= ARGS_MAX_SPECS, "args_parse: %d specs (at most %d)", nspecs, ARGS_MAX_SPECS);
    parser p = {.argc = argc, .argv = argv, .specs = specs, .nspecs = nspecs, .seen = {{0}}};
    int np = 0, options_done = 0;
    for (p.i = 1; p.i < argc; p.i++) {
        const char *a = argv[p.i];
        if (!options_done && !strcmp(a, "--")) {
            options_done = 1;
            continue;
        }
        if (!options_done && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
            print_help(usage, specs, nspecs);
            return 1;
        }
        if (options_done || a[0] != '-' || a[1] == 0) {
            T5G_CHECK(np < maxpos, "unexpected argument '%s' (see --help)", a);
            pos[np++] = a;
            continue;
        }
        int k = find_spec(specs, nspecs, a, strlen(a)); /* whole word first: also "-np"-style names */
        if (k >= 0) {
            T5G_TRY(take(&p, k, a, strlen(a), NULL));
            continue;
        }
        if (a[1] != '-') {
            T5G_TRY(take_short(&p, a));
            continue;
        }
        const char *eq = strchr(a, '=');
        k = eq ? find_spec(specs, nspecs, a, (size_t)(eq - a)) : -1;
        T5G_CHECK(k >= 0, "unknown option '%.*s' (see --help)", (int)(eq ? eq - a : (long)strlen(a)), a);
        T5G_TRY(take(&p, k, a, (size_t)(eq - a), eq + 1));
    }
    if (npos) *npos = np;
    return 0;
}

int args_check_layout(int tp, int threads) {
    T5G_CHECK(tp >= 0, "--tp must be >= 1 (or left out: all ranks), got %d", tp);
    T5G_CHECK(threads >= 0 && threads <= 4096, "--threads must be in 1..4096 (or left out: cores / ranks), got %d",
              threads);
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

int args_exit(int rc) {
    if (rc < 0) args_print_error();
    return rc < 0 ? 2 : 0;
}
