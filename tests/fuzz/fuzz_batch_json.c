/* forward's batch-JSON reader (read_batch is static in cmd_forward.c: included here). */
#include "fuzz_util.h"
#include "../../src/cli/cmd_forward.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    batch b;
    if (!read_batch(fz_file(d, n, ".json"), &b) && (b.B < 1 || b.Le < 1 || b.Ld < 1)) abort();
    free(b.ids); free(b.mask); free(b.dids); free(b.dmask);  /* the caller frees, as cmd_forward does */
    return 0;
}
