/* common.h - shared set-up for the subcommands that run the model under MPI. */
#ifndef T5G_CLI_COMMON_H
#define T5G_CLI_COMMON_H
#include "t5g.h"

/* MPI_Init (if needed), BLIS set-up, TP/DP split.  Returns 0 or -1 (error recorded). */
int cli_mpi_begin(int *argc, char ***argv, int tp, int threads, t5g_comm *comm);
/* Print the error once (rank 0 of the world, or every rank if they disagree) and finalize. */
int cli_mpi_end(t5g_comm *comm, int failed);
/* Config from exactly one of --preset / --config / -m; error if none or several. */
int cli_load_config(const char *preset, const char *config_file, const char *model_file, t5g_config *cfg);
/* Load the model on --device cpu|cuda (GPU chosen by the node-local rank). */
t5g_model *cli_load_model(const char *path, const char *device, t5g_comm *comm);
#endif
