/* JSONL reader and request validation (generate's input): lines, ids, input_ids, duplicates. */
#include "fuzz_util.h"
#include "core/err.h"
#include "io/jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    jsonl_doc doc;
    if (jsonl_read(fz_file(d, n, ".jsonl"), &doc)) return 0;
    jsonl_doc_unique_ids(&doc);
    for (int i = 0; i < doc.n; i++) {
        char *id = NULL;
        int32_t *ids = NULL;
        size_t k = 0;
        if (!jsonl_request(&doc, i, NULL, 0, 1000, &id, &ids, &k))
            for (size_t j = 0; j < k; j++) if (ids[j] < 0 || ids[j] >= 1000) abort();  /* validated ids only */
        free(id);
        free(ids);
    }
    jsonl_free(&doc);
    return 0;
}
