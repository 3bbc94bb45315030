/* Unicode helpers: UTF-8 walking, Python split / strip / lower. */
#include "fuzz_util.h"
#include "eval/unicode.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    const char *s = (const char *)d;
    size_t bad = 0;
    if (u8_validate(s, n, &bad) != 0) return 0;  /* the helpers take valid UTF-8 */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint32_t cp = u8_next(s, n, &j);
        if (j <= i || j > n) abort();
        if (u8_prev(s, j) != i) abort();
        py_isspace(cp); py_isalnum(cp); py_isword(cp); py_iscased(cp); py_iscaseignorable(cp); rx_class(cp);
        i = j;
    }
    if (py_lstrip_off(s, n) > n || py_rstrip_len(s, n) > n) abort();
    u8buf b = {0};
    py_split_join(s, n, &b);
    u8buf_free(&b);
    u8buf l = {0};
    py_lower(s, n, &l);
    u8buf_free(&l);
    return 0;
}
