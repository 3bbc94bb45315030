/* bleu.h - placeholder until the scorer lands. */
#ifndef T5G_BLEU_H
#define T5G_BLEU_H
/* CLI entry: argv[0] is "bleu"; returns the process exit status. */
int bleu_cli_main(int argc, char **argv);
#endif
