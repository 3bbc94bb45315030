/* squad.h - placeholder until the scorer lands. */
#ifndef T5G_SQUAD_H
#define T5G_SQUAD_H
/* CLI entry: argv[0] is "squad"; returns the process exit status. */
int squad_cli_main(int argc, char **argv);
#endif
