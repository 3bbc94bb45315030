/* progress.h - progress on stderr: a redrawn bar with rate and ETA on a terminal, a
 * one-line status every few seconds otherwise (batch logs stay readable). */
#ifndef T5G_PROGRESS_H
#define T5G_PROGRESS_H
#include <stdint.h>

typedef struct {
    const char *label;
    int64_t total, done, tokens;
    double t0, last;
    int tty, enabled;
} t5g_progress;

void t5g_progress_start(t5g_progress *p, const char *label, int64_t total, int enabled);
/* Add finished items and generated tokens; redraws at most a few times per second. */
void t5g_progress_add(t5g_progress *p, int64_t items, int64_t tokens);
void t5g_progress_finish(t5g_progress *p);
double t5g_now(void);
#endif
