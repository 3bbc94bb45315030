/* progress.h - progress on stderr: a redrawn bar with rate and ETA on a terminal, a
 * one-line status every few seconds otherwise (batch logs stay readable).  Two kinds: items
 * (+ generated tokens) for generate / eval, and bytes for convert, model loading and hashing. */
#ifndef T5G_PROGRESS_H
#define T5G_PROGRESS_H
#include <stdint.h>

typedef struct {
    const char *label;
    int64_t total, done, tokens;
    double t0, last;
    int tty, enabled, bytes;
} t5g_progress;

void t5g_progress_start(t5g_progress *p, const char *label, int64_t total, int enabled);
/* The same, counting bytes: "1.2/3.4 GiB (35%), 250 MiB/s, ETA 00:00:09". */
void t5g_progress_start_bytes(t5g_progress *p, const char *label, int64_t total_bytes, int enabled);
/* Add finished items (or bytes) and generated tokens; redraws at most a few times per second
 * on a terminal, every 10 s (items) or 5 s (bytes) otherwise. */
void t5g_progress_add(t5g_progress *p, int64_t items, int64_t tokens);
/* The last line (always, when enabled). */
void t5g_progress_finish(t5g_progress *p);
double t5g_now(void);
#endif
