/* progress.c - see progress.h */
#include "core/progress.h"
#include <stdio.h>
#include <time.h>
#include <unistd.h>

double t5g_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void t5g_progress_start(t5g_progress *p, const char *label, int64_t total, int enabled) {
    p->label = label;
    p->total = total;
    p->done = p->tokens = 0;
    p->t0 = p->last = t5g_now();
    p->tty = isatty(2);
    p->enabled = enabled;
}

static void draw(t5g_progress *p, int final) {
    double el = t5g_now() - p->t0, rate = el > 0 ? p->done / el : 0, tps = el > 0 ? p->tokens / el : 0;
    double eta = rate > 0 && p->total > p->done ? (p->total - p->done) / rate : 0;
    int pct = p->total > 0 ? (int)(100.0 * p->done / p->total) : 100;
    if (p->tty) {
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r%s [%s] %3d%% %lld/%lld  %.1f/s  %.0f tok/s  ETA %02d:%02d:%02d%s", p->label, bar, pct,
                (long long)p->done, (long long)p->total, rate, tps, (int)eta / 3600, (int)eta / 60 % 60, (int)eta % 60,
                final ? "\n" : "");
    } else {
        fprintf(stderr, "%s: %lld/%lld done (%d%%), %.1f/s, %.0f tok/s, elapsed %.0f s, ETA %.0f s\n", p->label,
                (long long)p->done, (long long)p->total, pct, rate, tps, el, eta);
    }
    fflush(stderr);
}

void t5g_progress_add(t5g_progress *p, int64_t items, int64_t tokens) {
    p->done += items;
    p->tokens += tokens;
    if (!p->enabled) return;
    double now = t5g_now();
    if (now - p->last >= (p->tty ? 0.2 : 10.0)) { p->last = now; draw(p, 0); }
}

void t5g_progress_finish(t5g_progress *p) {
    if (p->enabled) draw(p, 1);
}
