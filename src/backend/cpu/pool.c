/* pool.c - see pool.h.
 *
 * One job at a time.  The job's claim state is one 64-bit word: generation (16 bits) |
 * number of claims (24) | next claim (24).  A worker claims with a compare-and-swap that
 * also checks the generation, so a worker that slept through a whole job can never take a
 * claim of the next one with the old job's description.  The caller publishes a job only
 * after every claim of the previous one has completed, so the description a worker reads
 * after a successful claim is stable until it reports that claim done. */
#define _GNU_SOURCE
#include "backend/cpu/pool.h"
#include <immintrin.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_THREADS 256
#define SPIN_ROUNDS 20000 /* ~50-100 us of polling before a worker sleeps */
#define YIELD_AFTER 2000  /* ~5-10 us of pause-spinning between yields of the core */

static struct {
    _Atomic uint64_t state; /* gen:16 | nclaims:24 | next:24 */
    _Atomic uint32_t wake;  /* futex word: bumped for every job */
    _Atomic int64_t done;   /* claims completed in the current job */
    _Atomic int sleepers;
    t5g_pool_fn fn;
    void *ctx;
    int64_t n, grain;
    int threads; /* team size including the caller */
    int started; /* workers running */
    pthread_t tid[MAX_THREADS];
    pthread_mutex_t lock; /* serialises set_threads against itself */
} P = {.threads = 1, .lock = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local int in_job = 0;
static _Thread_local int my_index = 0;

int t5g_pool_thread_index(void) {
    return my_index;
}
int t5g_pool_threads(void) {
    return P.threads;
}

static uint64_t st_gen(uint64_t s) {
    return s >> 48;
}
static uint64_t st_nclaims(uint64_t s) {
    return (s >> 24) & 0xffffff;
}
static uint64_t st_next(uint64_t s) {
    return s & 0xffffff;
}

static void futex_wait(_Atomic uint32_t *w, uint32_t v) {
    syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}
static void futex_wake_all(_Atomic uint32_t *w) {
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

/* Claim and run chunks of generation gen until none are left. */
static void work(uint64_t gen) {
    for (;;) {
        uint64_t s = atomic_load_explicit(&P.state, memory_order_acquire);
        if (st_gen(s) != gen || st_next(s) >= st_nclaims(s)) return;
        if (!atomic_compare_exchange_weak_explicit(&P.state, &s, s + 1, memory_order_acq_rel, memory_order_relaxed))
            continue;
        int64_t c0 = (int64_t)st_next(s) * P.grain, c1 = c0 + P.grain;
        if (c1 > P.n) c1 = P.n;
        in_job = 1;
        P.fn(P.ctx, c0, c1);
        in_job = 0;
        atomic_fetch_add_explicit(&P.done, 1, memory_order_release);
    }
}

static void *worker(void *arg) {
    my_index = (int)(intptr_t)arg;
    uint64_t seen = st_gen(atomic_load(&P.state));
    for (;;) {
        uint32_t w = atomic_load_explicit(&P.wake, memory_order_acquire);
        if (my_index >= P.threads) { /* the team shrank: park until it grows (threads are never destroyed) */
            futex_wait(&P.wake, w);
            seen = st_gen(atomic_load(&P.state));
            continue;
        }
        uint64_t s = atomic_load_explicit(&P.state, memory_order_acquire);
        if (st_gen(s) != seen) {
            seen = st_gen(s);
            work(seen);
            continue;
        }
        int spun = 0;
        for (; spun < SPIN_ROUNDS; spun++) {
            if (st_gen(atomic_load_explicit(&P.state, memory_order_acquire)) != seen) break;
            if (spun % YIELD_AFTER == YIELD_AFTER - 1) sched_yield(); /* let a caller sharing this core run */
            else _mm_pause();
        }
        if (spun < SPIN_ROUNDS) continue;
        atomic_fetch_add(&P.sleepers, 1);
        if (st_gen(atomic_load_explicit(&P.state, memory_order_acquire)) == seen) futex_wait(&P.wake, w);
        atomic_fetch_sub(&P.sleepers, 1);
    }
    return NULL;
}

void t5g_pool_set_threads(int threads) {
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    pthread_mutex_lock(&P.lock);
    P.threads = threads;
    for (; P.started < threads - 1; P.started++) {
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 8 << 20);
        if (pthread_create(&P.tid[P.started], &at, worker, (void *)(intptr_t)(P.started + 1)) != 0) {
            pthread_attr_destroy(&at);
            P.threads = P.started + 1; /* fewer threads than asked: still correct */
            break;
        }
        pthread_detach(P.tid[P.started]);
        pthread_attr_destroy(&at);
    }
    atomic_fetch_add(&P.wake, 1);
    futex_wake_all(&P.wake);
    pthread_mutex_unlock(&P.lock);
}

void t5g_pool_for(int64_t n, int64_t grain, t5g_pool_fn fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int64_t claims = (n + grain - 1) / grain;
    if (in_job || P.threads <= 1 || claims <= 1) { /* nested or tiny: inline */
        fn(ctx, 0, n);
        return;
    }
    while (claims > 0xffffff) {
        grain *= 2;
        claims = (n + grain - 1) / grain;
    }
    P.fn = fn;
    P.ctx = ctx;
    P.n = n;
    P.grain = grain;
    atomic_store_explicit(&P.done, 0, memory_order_relaxed);
    uint64_t gen = (st_gen(atomic_load(&P.state)) + 1) & 0xffff;
    atomic_store_explicit(&P.state, gen << 48 | (uint64_t)claims << 24, memory_order_release);
    atomic_fetch_add_explicit(&P.wake, 1, memory_order_release);
    if (atomic_load(&P.sleepers) > 0) futex_wake_all(&P.wake);
    work(gen);
    /* wait only for claims that a worker already holds; after a short spin, yield: when another
     * process took a core, the worker holding the last claim may be waiting for this very core */
    for (int spin = 0; atomic_load_explicit(&P.done, memory_order_acquire) < claims; spin++) {
        if (spin < YIELD_AFTER) _mm_pause();
        else sched_yield();
    }
}
