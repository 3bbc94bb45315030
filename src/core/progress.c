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
    p->bytes = 0;
}

void t5g_progress_start_bytes(t5g_progress *p, const char *label, int64_t total_bytes, int enabled) {
    t5g_progress_start(p, label, total_bytes, enabled);
    p->bytes = 1;
}

/* n bytes as "123 B", "4.5 MiB", "1.23 GiB" */
static void fmt_bytes(char *buf, size_t cap, double n) {
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (n >= 1024 && u < 4) {
        n /= 1024;
        u++;
    }
    snprintf(buf, cap, u == 0 ? "%.0f %s" : n < 10 ? "%.2f %s" : "%.1f %s", n, unit[u]);
}

static void draw_bytes(t5g_progress *p, int final, double el, double rate, double eta, int pct) {
    char done[32], total[32], r[32];
    fmt_bytes(done, sizeof done, (double)p->done);
    fmt_bytes(total, sizeof total, (double)p->total);
    fmt_bytes(r, sizeof r, rate);
    if (final) fprintf(stderr, "%s%s: %s in %.1f s (%s/s)\n", p->tty ? "\r\033[K" : "", p->label, done, el, r);
    else if (p->tty)
        fprintf(stderr, "\r\033[K%s: %s / %s (%d%%), %s/s, ETA %02d:%02d:%02d", p->label, done, total, pct, r,
                (int)eta / 3600, (int)eta / 60 % 60, (int)eta % 60);
    else
        fprintf(stderr, "%s: %s / %s (%d%%), %s/s, elapsed %.0f s, ETA %.0f s\n", p->label, done, total, pct, r, el,
                eta);
}

static void draw(t5g_progress *p, int final) {
    double el = t5g_now() - p->t0, rate = el > 0 ? p->done / el : 0, tps = el > 0 ? p->tokens / el : 0;
    double eta = rate > 0 && p->total > p->done ? (p->total - p->done) / rate : 0;
    int pct = p->total > 0 ? (int)(100.0 * p->done / p->total) : 100;
    if (pct > 100) pct = 100; /* a byte total may be an estimate (a TP rank's share) */
    if (p->bytes) {
        draw_bytes(p, final, el, rate, eta, pct);
    } else if (p->tty) {
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
    if (now - p->last >= (p->tty ? 0.2 : p->bytes ? 5.0 : 10.0)) {
        p->last = now;
        draw(p, 0);
    }
}

void t5g_progress_finish(t5g_progress *p) {
    if (p->enabled) draw(p, 1);
}
