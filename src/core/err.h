/* err.h - error reporting for the whole library.
 *
 * Convention: a function that can fail returns int (0 = ok, -1 = error) or a pointer
 * (NULL = error) and records a one-line message with T5G_FAIL / T5G_CHECK.  The CLI
 * prints it as "t5g: error: <message>" and exits non-zero.  With T5G_DEBUG=1 in the
 * environment the message is prefixed with the file:line that raised it (llm.c style). */
#ifndef T5G_ERR_H
#define T5G_ERR_H
#include <stdarg.h>
#include <stddef.h>

/* Record an error (printf-style).  Always returns -1 so it can be returned directly. */
int t5g_error_at(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Last error message of this thread ("" if none). */
const char *t5g_last_error(void);
/* Clear the last error. */
void t5g_clear_error(void);

#define T5G_FAIL(...) t5g_error_at(__FILE__, __LINE__, __VA_ARGS__)
/* Check a condition; on failure record the message and return -1 from the caller. */
#define T5G_CHECK(cond, ...)                                                                                           \
    do {                                                                                                               \
        if (!(cond)) return T5G_FAIL(__VA_ARGS__);                                                                     \
    } while (0)
/* Same, for functions returning a pointer. */
#define T5G_CHECK_NULL(cond, ...)                                                                                      \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            T5G_FAIL(__VA_ARGS__);                                                                                     \
            return NULL;                                                                                               \
        }                                                                                                              \
    } while (0)
/* Propagate a failure from a callee that already recorded its message. */
#define T5G_TRY(expr)                                                                                                  \
    do {                                                                                                               \
        if ((expr) != 0) return -1;                                                                                    \
    } while (0)

/* malloc/calloc that record "out of memory (N bytes for WHAT)" on failure. */
void *t5g_malloc(size_t n, const char *what);
void *t5g_calloc(size_t count, size_t size, const char *what);

/* Print "t5g: error: <last error>" to stderr (used by the CLI). */
void t5g_print_error(void);

#endif
