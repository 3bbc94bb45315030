/* failmalloc.c - LD_PRELOAD shim that makes exactly one allocation fail (tests/shell/test_alloc_fail.sh).
 *
 *   T5G_FAIL_ALLOC_AT=N       the Nth counted call of malloc / calloc / realloc / posix_memalign /
 *                             aligned_alloc / memalign returns NULL (ENOMEM); every other call succeeds
 *   T5G_ALLOC_COUNT_FILE=PATH at exit, the number of counted calls is written to PATH (to know
 *                             the range of N to sweep)
 *   T5G_FAIL_ALLOC_TRACE=1    the failed call's stack to stderr (to find the code that mishandled it)
 *   T5G_FAIL_ALLOC_OWN=1      count only the calls made straight from the program's own code
 *                             (return address inside the executable, which holds all of libt5g.a;
 *                             strdup / strndup called from there count too): for commands that
 *                             start MPI or HDF5, whose internal allocation failures abort and are
 *                             not ours to handle
 *
 * Only the calls made while the program's main() runs are counted: the shim wraps
 * __libc_start_main, so the dynamic loader, libc and the constructors of MPI, HDF5, libstdc++ and
 * the other libraries (whose own allocation failures are not ours to handle) allocate freely.
 * Counting stops when exit() reaches the shim's atexit handler (registered before main, so it runs
 * after every handler the program registered).  Calls from every thread are counted (atomically).
 * strdup, fopen, getline... allocate through malloc and so are counted too.  The shim prints nothing.
 * It acts in the process it was preloaded into only: it removes its variables (LD_PRELOAD too)
 * from the environment before main, so the programs that process starts run as usual.
 *
 * dlsym may itself call calloc/malloc before the real functions are known: those calls are
 * served from a static arena, and free/realloc recognise its pointers. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

static _Alignas(64) char arena[64 * 1024];
static size_t arena_used;
static int resolving;

static atomic_int armed;
static atomic_long calls;
static long fail_at = -1;
static int own_only;
static int trace;
static char count_path[4096];
static uintptr_t exe_lo, exe_hi; /* the executable's code */

static int in_arena(const void *p) {
    return (const char *)p >= arena && (const char *)p < arena + sizeof arena;
}

static void *arena_alloc(size_t n) {
    size_t off = (arena_used + 15) & ~(size_t)15;
    if (off + n > sizeof arena) return NULL;
    arena_used = off + n;
    return arena + off;
}

static void resolve(void) {
    if (real_malloc || resolving) return;
    resolving = 1;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_free = dlsym(RTLD_NEXT, "free");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    resolving = 0;
}

/* 1 when this call (made from the code at RET) is the one to fail */
static int should_fail_from(const void *ret) {
    if (!atomic_load_explicit(&armed, memory_order_relaxed)) return 0;
    if (own_only && ((uintptr_t)ret < exe_lo || (uintptr_t)ret >= exe_hi)) return 0;
    long n = atomic_fetch_add(&calls, 1) + 1;
    if (n != fail_at) return 0;
    if (trace) {
        void *pc[32];
        backtrace_symbols_fd(pc, backtrace(pc, 32), 2);
    }
    errno = ENOMEM;
    return 1;
}
#define should_fail() should_fail_from(__builtin_return_address(0))

void *malloc(size_t n) {
    resolve();
    if (!real_malloc) return arena_alloc(n);
    if (should_fail()) return NULL;
    return real_malloc(n);
}

void *calloc(size_t c, size_t n) {
    resolve();
    if (!real_calloc) return arena_alloc(c * n); /* arena bytes are zero and never reused */
    if (should_fail()) return NULL;
    return real_calloc(c, n);
}

void *realloc(void *p, size_t n) {
    resolve();
    if (in_arena(p) || !real_realloc) {
        void *q = real_malloc ? real_malloc(n) : arena_alloc(n);
        size_t left = p ? (size_t)(arena + sizeof arena - (char *)p) : 0;
        if (q && p) memcpy(q, p, n < left ? n : left); /* the old size is unknown: copy what may be it */
        return q;
    }
    if (should_fail()) return NULL;
    return real_realloc(p, n);
}

void free(void *p) {
    resolve();
    if (!p || in_arena(p)) return;
    if (real_free) real_free(p);
}

int posix_memalign(void **out, size_t align, size_t n) {
    resolve();
    if (should_fail()) return ENOMEM;
    return real_posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n) {
    resolve();
    if (should_fail()) return NULL;
    return real_aligned_alloc(align, n);
}

void *memalign(size_t align, size_t n) {
    resolve();
    if (should_fail()) return NULL;
    return real_memalign(align, n);
}

/* the executable is the first object dl_iterate_phdr reports: its executable segments */
static int find_exe(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    (void)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (!exe_lo || lo < exe_lo) exe_lo = lo;
        if (lo + ph->p_memsz > exe_hi) exe_hi = lo + ph->p_memsz;
    }
    return 1;
}

static char *dup_n(const char *s, size_t n, const void *ret) {
    size_t len = strnlen(s, n);
    resolve();
    if (should_fail_from(ret)) return NULL;
    char *d = real_malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = 0;
    return d;
}

char *strdup(const char *s) {
    return dup_n(s, (size_t)-1, __builtin_return_address(0));
}

char *strndup(const char *s, size_t n) {
    return dup_n(s, n, __builtin_return_address(0));
}

static void report(void) {
    atomic_store(&armed, 0);
    if (!count_path[0]) return;
    const char *path = count_path;
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%ld\n", atomic_load(&calls));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    if (write(fd, buf, (size_t)len) < 0) {
    }
    close(fd);
}

typedef int (*main_fn)(int, char **, char **);
static main_fn real_main;

static int counted_main(int argc, char **argv, char **envp) {
    const char *at = getenv("T5G_FAIL_ALLOC_AT");
    if (at && *at) fail_at = strtol(at, NULL, 10);
    const char *own = getenv("T5G_FAIL_ALLOC_OWN");
    own_only = own && *own && strcmp(own, "0") != 0;
    const char *tr = getenv("T5G_FAIL_ALLOC_TRACE");
    trace = tr && *tr && strcmp(tr, "0") != 0;
    dl_iterate_phdr(find_exe, NULL);
    const char *cp = getenv("T5G_ALLOC_COUNT_FILE");
    if (cp) snprintf(count_path, sizeof count_path, "%s", cp);
    /* this process only: not the programs it starts (Open MPI's orted, gnuplot), which would
     * fail their own allocations and overwrite the count */
    unsetenv("LD_PRELOAD");
    unsetenv("T5G_FAIL_ALLOC_AT");
    unsetenv("T5G_FAIL_ALLOC_OWN");
    unsetenv("T5G_FAIL_ALLOC_TRACE");
    unsetenv("T5G_ALLOC_COUNT_FILE");
    atexit(report);
    atomic_store(&armed, 1);
    int rc = real_main(argc, argv, envp);
    report();
    return rc;
}

typedef int (*start_fn)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void), void *);

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end) {
    start_fn real_start = (start_fn)dlsym(RTLD_NEXT, "__libc_start_main");
    real_main = main;
    return real_start(counted_main, argc, argv, init, fini, rtld_fini, stack_end);
}
