/* safetensors header reader: any bytes give a handle or one error, never a crash. */
#include "fuzz_util.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    t5g_st *st = t5g_st_open(fz_file(d, n, ".safetensors"));
    for (int i = 0; st && i < t5g_st_count(st); i++) {
        const t5g_st_tensor *t = t5g_st_get(st, i);
        if (t5g_st_find(st, t->name) == NULL) abort();  /* every listed tensor is found by name */
    }
    t5g_st_close(st);
    return 0;
}
