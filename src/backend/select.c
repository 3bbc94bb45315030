/* select.c - backend by name (--device cpu|cuda). */
#include "backend/backend.h"
#include "core/err.h"
#include <string.h>

const t5g_backend *t5g_backend_by_name(const char *name, int local_rank) {
    if (!name || !strcmp(name, "cpu")) return t5g_backend_cpu();
    if (!strcmp(name, "cuda")) {
        const t5g_backend *b = t5g_backend_cuda(local_rank);
#ifndef T5G_CUDA
        if (!b) T5G_FAIL("this t5g was built without CUDA; rebuild with `make CUDA=1` or use --device cpu");
#endif
        return b; /* the CUDA backend records its own error (no device, driver too old) */
    }
    T5G_FAIL("unknown --device '%s' (use cpu or cuda)", name);
    return NULL;
}
