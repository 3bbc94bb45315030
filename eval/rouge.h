/* rouge.h - placeholder until the scorer lands. */
#ifndef T5G_ROUGE_H
#define T5G_ROUGE_H
/* CLI entry: argv[0] is "rouge"; returns the process exit status. */
int rouge_cli_main(int argc, char **argv);
#endif
