/* scalapack_hooks.h - the SIMULATED inter-node latency (T5G_SIM_LATENCY_US) for ScaLAPACK's own
 * messages in the 2-D encoder layout (scalapack_hooks.c; built with ScaLAPACK only). */
#ifndef T5G_SCALAPACK_HOOKS_H
#define T5G_SCALAPACK_HOOKS_H
#include <mpi.h>

/* Learn which node each rank of the TP group is on (collective over tp). */
int t5g_simwire_setup(MPI_Comm tp);
/* From now on, delay cross-node messages by us microseconds (0: forward only) ... */
void t5g_simwire_begin(double us);
/* ... until here; returns the seconds waited since t5g_simwire_begin. */
double t5g_simwire_end(void);
#endif
