/* pool.h - the CPU backend's persistent thread team for the decode path.
 *
 * Why not an OpenMP `parallel for` per op: a decode step runs ~100 small ops, and each
 * fork/join waits at its barrier for the slowest thread; when another process holds a core,
 * that thread is descheduled for whole time slices and every op stalls.  Here work is cut
 * into chunks that threads claim one at a time, and the caller returns as soon as every
 * chunk is done: a thread that wakes late finds nothing left and costs nothing.
 * Idle workers spin briefly, then sleep (they leave the cores to BLIS during prefill). */
#ifndef T5G_CPU_POOL_H
#define T5G_CPU_POOL_H
#include <stdint.h>

/* Work on chunks [c0, c1) of a job (a chunk is whatever the caller's unit is). */
typedef void (*t5g_pool_fn)(void *ctx, int64_t c0, int64_t c1);

/* Threads of the team including the caller (1 = run everything on the caller). Called by
 * t5g_cpu_setup; safe to call again between jobs. */
void t5g_pool_set_threads(int threads);
int t5g_pool_threads(void);

/* Run fn over chunks 0..n-1, `grain` chunks per claim, on the team; returns when all are
 * done.  Nested calls (from inside a job) and tiny jobs run serially on the caller. */
void t5g_pool_for(int64_t n, int64_t grain, t5g_pool_fn fn, void *ctx);

/* This thread's index in the team (0 = the caller) while it runs a job chunk. */
int t5g_pool_thread_index(void);
#endif
