/* pyjson: Python's json.loads semantics (the SQuAD files). */
#include "fuzz_util.h"
#include "eval/pyjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    pj_doc *doc = pj_parse((const char *)d, n, "fuzz input");
    if (doc) {
        const pj_value *root = pj_root(doc);
        pj_type_name(root);
        pj_get(root, "data");
    }
    pj_free(doc);
    return 0;
}
