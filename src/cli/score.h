/* score.h - the `t5g score ...` command lines (src/cli/score_*.c) on top of the scorers in eval/.
 * Each takes argv[0] = its metric name and returns the exit status (0 ok, 1 error, 2 usage). */
#ifndef T5G_CLI_SCORE_H
#define T5G_CLI_SCORE_H

/* Shared by the scorer mains: 1 if -h or --help is among argv[1..] (the usage is printed
 * whatever else is given, as the reference tools do). */
int score_help_asked(int argc, char **argv);
/* Exit status after parsing: rc 1 (help) prints usage (if not NULL) and gives 0, any other
 * non-zero rc prints the recorded error and gives 2. */
int score_parse_exit(int rc, const char *usage);
/* Exit status of a run: stdout flushed (a write error is an error), the error printed; 0 or 1. */
int score_run_exit(int rc);

/* `t5g score bleu`: the sacreBLEU CLI for one system or --paired-bs (score_bleu.c). */
int bleu_cli_main(int argc, char **argv);
/* `t5g score chrf` / `t5g score ter`: the sacreBLEU CLI with -m chrf / -m ter (score_chrf.c, score_ter.c). */
int chrf_cli_main(int argc, char **argv);
int ter_cli_main(int argc, char **argv);
/* `t5g score squad2`: the official evaluate-v2.0.py command line (score_squad.c). */
int squad_cli_main(int argc, char **argv);

/* CLI: `t5g score rouge ...`; argv[0] is "rouge"; returns the exit status (0 ok, 1 error,
 * 2 usage).  Input and output formats are described by `t5g score rouge --help`:
 *
 *   Inputs: one example per line ("\n" ends a line; a final newline is optional; "\r" is
 *   ordinary text).  Plain text: the two-character escape \n stands for a newline inside
 *   the summary (rougeLsum sentence break) and \\ for one backslash; any other backslash
 *   is kept.  Files ending in .jsonl (or --input-format jsonl): each line is one JSON
 *   string, e.g. "First sentence.\nSecond one."  Files must be valid UTF-8.
 *   Text output (default): per type one line "<type> mean P <p> R <r> F <f>", and with
 *   --bootstrap also "<type> low|mid|high P <p> R <r> F <f>"; numbers are Python repr().
 *   JSON output: exactly Python's json.dumps(d, indent=1) for
 *     d = {"examples": N, "use_stemmer": bool,
 *          "scores": {type: {"precision": p, "recall": r, "fmeasure": f}, ...},
 *          ["bootstrap": {"n_samples": B, "seed": S, "confidence_interval": ci,
 *                         "scores": {type: {"low": {...}, "mid": {...}, "high": {...}}}}]}
 *   --per-example FILE: CSV "id,<type>-P,<type>-R,<type>-F,..." (types in the order given),
 *   one row per example, id from 0, values as Python repr() (rouge_score/io.py's layout but
 *   full precision instead of %f).
 *   -o FILE / --per-example FILE: written to a temp file and renamed (no half-written
 *   results); "-" is stdout, and an existing non-regular file (/dev/null, a FIFO) is
 *   written in place.  Errors: one line "t5g: error: ..." naming the file and line. */
int rouge_cli_main(int argc, char **argv);

/* rouge-score 0.1.2's own command line (--target_filepattern=... --output_filename=...) and
 * CSV; see score_rouge_compat.c.  rouge_compat_wanted: 1 if argv uses any of its flags. */
int rouge_compat_wanted(int argc, char **argv);
int rouge_compat_main(int argc, char **argv);

#endif
