/* err.c - thread-local last-error message (see err.h). */
#include "core/err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char g_msg[1024];

int t5g_error_at(const char *file, int line, const char *fmt, ...) {
    char body[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    const char *dbg = getenv("T5G_DEBUG");
    if (dbg && *dbg && strcmp(dbg, "0") != 0) snprintf(g_msg, sizeof g_msg, "%s:%d: %s", file, line, body);
    else snprintf(g_msg, sizeof g_msg, "%s", body);
    return -1;
}

const char *t5g_last_error(void) {
    return g_msg;
}
void t5g_clear_error(void) {
    g_msg[0] = 0;
}

void *t5g_malloc(size_t n, const char *what) {
    void *p = malloc(n ? n : 1);
    if (!p) T5G_FAIL("out of memory (%zu bytes for %s); use a smaller batch or more ranks", n, what);
    return p;
}

void *t5g_calloc(size_t count, size_t size, const char *what) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) T5G_FAIL("out of memory (%zu x %zu bytes for %s); use a smaller batch or more ranks", count, size, what);
    return p;
}

void t5g_print_error(void) {
    fprintf(stderr, "t5g: error: %s\n", g_msg[0] ? g_msg : "unknown error");
}
