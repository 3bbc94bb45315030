/* args.h - a tiny flag parser shared by the subcommands: declare the flags, parse, and
 * every unknown flag or missing value is a clear usage error. */
#ifndef T5G_ARGS_H
#define T5G_ARGS_H

typedef enum { ARG_STR, ARG_INT, ARG_FLOAT, ARG_FLAG } arg_kind;

typedef struct {
    const char *name;    /* "--seed" (aliases: "-o|--out") */
    arg_kind kind;
    void *dst;           /* const char ** / int * / double * / int * (flag set to 1) */
    const char *help;
} arg_spec;

/* Parse argv[1..argc); positional arguments go to pos[0..*npos) (max maxpos).
 * Returns 0, 1 if --help was printed, or -1 on error (message recorded). */
int args_parse(int argc, char **argv, const arg_spec *specs, int nspecs, const char *usage, const char **pos,
               int maxpos, int *npos);
/* --tp (0 = all ranks) and --threads (0 = default) are not negative. */
int args_check_layout(int tp, int threads);
/* lo <= v <= hi, else "FLAG must be in lo..hi". */
int args_check_range(const char *flag, long v, long lo, long hi);

/* t5g_print_error on the launcher's rank 0 only (flag errors come before MPI_Init). */
void args_print_error(void);

/* Upper bounds that keep sizes computed from the flags inside int (and memory sane). */
#define T5G_MAX_BATCH 65536
#define T5G_MAX_NEW_TOKENS 65536
#endif
