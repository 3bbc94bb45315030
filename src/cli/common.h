/* common.h - shared set-up for the subcommands that run the model under MPI. */
#ifndef T5G_CLI_COMMON_H
#define T5G_CLI_COMMON_H
#include "t5g.h"
#include "generate/generate.h"
#include <cJSON.h>

/* MPI_Init (if needed), BLIS set-up, TP/DP split.  Returns 0 or -1 (error recorded). */
int cli_mpi_begin(int *argc, char ***argv, int tp, int threads, t5g_comm *comm);
/* Print the error once (rank 0 of the world, or every rank if they disagree) and finalize. */
int cli_mpi_end(t5g_comm *comm, int failed);
/* Config from exactly one of --preset / --config / -m; error if none or several. */
int cli_load_config(const char *preset, const char *config_file, const char *model_file, t5g_config *cfg);
/* Take --compute-type f32|bf16|int8 (or --compute-type=X) out of argv (forward / generate /
 * eval: the weights' dtype in memory, default the checkpoint's storage dtype) for
 * cli_load_model.  Returns 0, or -1 after printing one error line for a bad value. */
int cli_take_compute_type(int *argc, char **argv);
/* The same for --encoder-layout 1d|2d|2d:RxC|2d:RxC:NB (docs/planner.md, ScaLAPACK): cli_load_model
 * then gives the model the 2-D encoder layout. */
int cli_take_encoder_layout(int *argc, char **argv);
/* Load the model on --device cpu|cuda (GPU chosen by the node-local rank), in --compute-type;
 * progress (bytes read, rate, ETA) on world rank 0's stderr when progress is set (not -q). */
t5g_model *cli_load_model(const char *path, const char *device, t5g_comm *comm, int progress);
#endif
