/* cuda_emu.h - run the backend's CUDA kernel source on the host, for machines without a GPU.
 *
 * Include this before the kernel headers (src/backend/cuda/k*.cuh) and compile as C++17.
 * Each launch runs its blocks one after another; the threads of a block are cooperative
 * fibers (ucontext) in one OS thread.  __syncthreads and the warp shuffles are barriers
 * where a fiber gives up the CPU.  The scheduler lets one random warp run ahead to the next
 * __syncthreads before the others start (lanes in random order), so a missing barrier (a
 * warp reading shared memory another has not written yet, or overwriting what another still
 * reads) shows up as a wrong result, and a barrier that not every thread reaches is reported
 * as a deadlock.
 * Shared memory is poisoned (all bits 1: NaN / -1) before every block.
 * Not modelled: the device libm (glibc here), FMA contraction, races between barriers that
 * depend on instruction interleaving, resource limits (registers, shared-memory size) and
 * timing.  What it checks is the kernels' logic: indexing, barriers, reductions, masking,
 * the online softmax, the top-k rounds. */
#ifndef T5G_CUDA_EMU_H
#define T5G_CUDA_EMU_H
#define T5G_CUDA_EMU 1
#include <ucontext.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <functional>
#include <vector>

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
struct t5g_emu_uint3 { unsigned x, y, z; };
typedef void *cudaStream_t;

namespace t5g_emu {
enum { RUNNABLE, WAITING, DONE };
struct fiber { ucontext_t ctx; t5g_emu_uint3 tid; int lin, state; };
struct barrier { int expected, arrived; std::vector<int> waiters; };
struct warp { barrier bar; alignas(16) unsigned char slot[32][16]; };

inline std::vector<fiber> fibers;
inline std::vector<warp> warps;
inline barrier block_bar;
inline std::vector<unsigned char> smem;
inline fiber *cur;
inline ucontext_t sched;
inline std::function<void()> body;
inline t5g_emu_uint3 bid;
inline dim3 bdim, gdim;
inline long launches;
inline int focus = -1; /* the warp that runs ahead; -1: pick one */
inline uint64_t rng = 88172645463325252ull;

inline uint64_t next_rand() { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* the calling fiber waits until `expected` fibers have arrived */
inline void arrive(barrier &b) {
    if (++b.arrived == b.expected) {
        for (int w : b.waiters) fibers[w].state = RUNNABLE;
        b.waiters.clear();
        b.arrived = 0;
        if (&b == &block_bar) focus = -1; /* after __syncthreads any warp may lead */
        cur->state = RUNNABLE; /* the last one too goes back to the scheduler */
        swapcontext(&cur->ctx, &sched);
        return;
    }
    cur->state = WAITING;
    b.waiters.push_back(cur->lin);
    swapcontext(&cur->ctx, &sched);
}

/* lane l of the calling warp contributes v and receives lane src's value */
template <typename T> inline T exchange(T v, int src) {
    static_assert(sizeof(T) <= 16, "shuffle of a type wider than 16 bytes");
    warp &w = warps[cur->lin / 32];
    memcpy(w.slot[cur->lin % 32], &v, sizeof v);
    arrive(w.bar);
    T r;
    memcpy(&r, w.slot[src & 31], sizeof r);
    arrive(w.bar); /* nobody overwrites a slot before everyone has read */
    return r;
}

inline void entry() {
    body();
    cur->state = DONE; /* uc_link returns to the scheduler */
}

/* run one block: every fiber until all are done; abort on a deadlock.  Scheduling is
 * adversarial: one randomly chosen warp runs (its lanes in random order) until all of it
 * waits at __syncthreads or is done, then another - as if that warp raced ahead on a GPU. */
inline void run_block(std::vector<std::vector<char>> &stacks) {
    unsigned n = bdim.x * bdim.y * bdim.z;
    for (unsigned t = 0; t < n; t++) {
        fiber &f = fibers[t];
        f.lin = (int)t;
        f.state = RUNNABLE;
        f.tid = {t % bdim.x, (t / bdim.x) % bdim.y, t / (bdim.x * bdim.y)};
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = stacks[t].data();
        f.ctx.uc_stack.ss_size = stacks[t].size();
        f.ctx.uc_link = &sched;
        makecontext(&f.ctx, entry, 0);
    }
    focus = -1;
    std::vector<int> pick;
    for (;;) {
        pick.clear();
        if (focus >= 0)
            for (int t = focus * 32; t < focus * 32 + 32; t++)
                if (fibers[t].state == RUNNABLE) pick.push_back(t);
        if (pick.empty()) { /* the focus warp is blocked or done: choose another at random */
            int done = 0;
            for (unsigned t = 0; t < n; t++) {
                if (fibers[t].state == RUNNABLE) pick.push_back((int)t);
                done += fibers[t].state == DONE;
            }
            if (done == (int)n) return;
            if (pick.empty()) {
                fprintf(stderr, "cuda_emu: deadlock in block (%u,%u,%u): %d of %u threads wait at a barrier the "
                                "others never reach (divergent __syncthreads or shuffle)\n", bid.x, bid.y, bid.z,
                        (int)n - done, n);
                abort();
            }
            focus = pick[next_rand() % pick.size()] / 32;
            continue;
        }
        cur = &fibers[pick[next_rand() % pick.size()]];
        swapcontext(&sched, &cur->ctx);
    }
}
} // namespace t5g_emu

#define threadIdx (t5g_emu::cur->tid)
#define blockIdx (t5g_emu::bid)
#define blockDim (t5g_emu::bdim)
#define gridDim (t5g_emu::gdim)
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static /* blocks run one at a time, so one copy serves every block */
#define T5G_DYN_SMEM(name) float *name = (float *)t5g_emu::smem.data()

inline void __syncthreads() { t5g_emu::arrive(t5g_emu::block_bar); }
template <typename T> inline T __shfl_xor_sync(unsigned, T v, int mask) {
    return t5g_emu::exchange(v, (t5g_emu::cur->lin % 32) ^ mask);
}
template <typename T> inline T __shfl_sync(unsigned, T v, int src) { return t5g_emu::exchange(v, src); }

template <typename... KA, typename... A>
inline void t5g_launch(void (*k)(KA...), dim3 grid, dim3 blk, size_t smem, cudaStream_t, A... args) {
    using namespace t5g_emu;
    unsigned n = blk.x * blk.y * blk.z;
    if (n == 0 || n % 32 || n > 1024 || grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.y > 65535 || grid.z > 65535) {
        fprintf(stderr, "cuda_emu: invalid launch grid (%u,%u,%u) block (%u,%u,%u)\n", grid.x, grid.y, grid.z, blk.x, blk.y,
                blk.z);
        abort();
    }
    std::vector<std::vector<char>> stacks(n, std::vector<char>(64 * 1024));
    fibers.assign(n, fiber());
    warps.assign(n / 32, warp());
    for (auto &w : warps) w.bar.expected = 32;
    block_bar.expected = (int)n;
    block_bar.arrived = 0;
    bdim = blk;
    gdim = grid;
    body = [&] { k(args...); };
    launches++;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                t5g_emu::smem.assign(smem + 16, 0xff); /* poison */
                bid = {bx, by, bz};
                run_block(stacks);
            }
    cur = NULL;
}
template <typename... KA> inline void t5g_allow_smem(void (*)(KA...), size_t) {}
inline unsigned long long t5g_device_bit(void) { return 1; }
#endif
