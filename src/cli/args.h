/* args.h - the flag parser shared by the subcommands (getopt_long rules): declare the flags,
 * parse, and every unknown or repeated flag or missing value is one clear usage error.
 *
 *   --opt VALUE and --opt=VALUE; a short alias as -o VALUE or -oVALUE; a bare -- ends the
 *   options (everything after it is positional); positional arguments may come anywhere.
 *   A flag given twice is an error (not "the last one wins": a script that sets a flag and
 *   a user who appends another value would otherwise get one of them silently); flags of
 *   kind ARG_STRS are lists and may repeat.  Long names are never abbreviated (--beam is
 *   not --beams): a later flag with the same prefix would change what an old script means. */
#ifndef T5G_ARGS_H
#define T5G_ARGS_H

/* ARG_FLOAT stores a double, ARG_F32 the same number rounded to a float (a float field of the
 * library's structs, as t5g_gen_opts' penalties) */
typedef enum { ARG_STR, ARG_INT, ARG_FLOAT, ARG_F32, ARG_FLAG, ARG_STRS } arg_kind;

/* Destination of an ARG_STRS flag: each occurrence appends its value (up to ARGS_MAX_LIST). */
#define ARGS_MAX_LIST 64
typedef struct {
    const char *v[ARGS_MAX_LIST];
    int n;
} arg_strs;

typedef struct {
    const char *name; /* "--seed" (aliases: "-o|--out") */
    arg_kind kind;
    void *dst; /* const char ** / int * / double * / float * / int * (flag set to 1) / arg_strs * */
    const char *help;
} arg_spec;

/* At most this many specs per command. */
#define ARGS_MAX_SPECS 128

/* Parse argv[1..argc); positional arguments go to pos[0..*npos) (max maxpos).
 * Returns 0, 1 if --help was printed, or -1 on error (message recorded). */
int args_parse(int argc, char **argv, const arg_spec *specs, int nspecs, const char *usage, const char **pos,
               int maxpos, int *npos);
/* The sentence every --help ends with (how values, repeats and -- work). */
extern const char ARGS_HELP_RULES[];
/* --tp (0 = all ranks) and --threads (0 = default) are not negative. */
int args_check_layout(int tp, int threads);
/* lo <= v <= hi, else "FLAG must be in lo..hi". */
int args_check_range(const char *flag, long v, long lo, long hi);

/* t5g_print_error on the launcher's rank 0 only (flag errors come before MPI_Init). */
void args_print_error(void);
/* The exit code after a non-zero parse result: 0 after --help (rc > 0), else 2 with the error
 * printed by args_print_error. */
int args_exit(int rc);

/* Upper bounds that keep sizes computed from the flags inside int (and memory sane). */
#define T5G_MAX_BATCH      65536
#define T5G_MAX_NEW_TOKENS 65536
#endif
