/* cli.h - subcommands of build/t5g.  Each returns the process exit status
 * (0 ok, 1 runtime error, 2 usage error); argv[0] is the subcommand name. */
#ifndef T5G_CLI_H
#define T5G_CLI_H
int cmd_info(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_model(int argc, char **argv);
#endif
