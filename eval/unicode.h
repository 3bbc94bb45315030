/* unicode.h - Python `str` semantics on UTF-8 byte strings, for the scorers.
 *
 * The reference tools run on CPython 3.11 (Unicode 14.0 for str methods) and, for the
 * sacreBLEU `intl` tokenizer, on the third-party `regex` module (Unicode 17.0).  utf8proc
 * (Unicode 15.0) supplies categories and case mappings; small generated tables correct
 * the version differences, so every function below gives the same answer as the
 * reference for every code point (checked exhaustively in tests/unit/test_bleu.c).
 *
 * Strings are (pointer, length) pairs; embedded NUL bytes are ordinary characters, as
 * in Python.  Functions that decode assume valid UTF-8: check with u8_validate first. */
#ifndef T5G_UNICODE_H
#define T5G_UNICODE_H
#include <stddef.h>
#include <stdint.h>

/* ---- growable byte buffer ---- */
typedef struct {
    char *p;
    size_t n, cap;
} u8buf;
int u8buf_reserve(u8buf *b, size_t extra);        /* 0 ok, -1 out of memory (error recorded) */
int u8buf_put(u8buf *b, const char *s, size_t n); /* append bytes (keeps a NUL after p[n]) */
int u8buf_putc(u8buf *b, char c);
int u8buf_putcp(u8buf *b, uint32_t cp); /* append one code point as UTF-8 */
/* append s as Python json.dumps writes a str (ensure_ascii=False: only \" \\ and controls escaped) */
int u8buf_put_json_str(u8buf *b, const char *s);
void u8buf_free(u8buf *b);

/* ---- UTF-8 ---- */
/* 0 if s[0..n) is valid UTF-8 as Python's strict codec sees it (no surrogates, no
 * overlong forms, <= U+10FFFF); else -1 with *bad = byte offset of the first bad sequence. */
int u8_validate(const char *s, size_t n, size_t *bad);
/* Decode the code point at s[*i] (valid UTF-8; a sequence cut by the end at n comes back as
 * its lead byte) and advance *i. */
uint32_t u8_next(const char *s, size_t n, size_t *i);
/* Start offset of the code point that ends just before byte i (i > 0). */
size_t u8_prev(const char *s, size_t i);

/* ---- Python 3.11 str predicates ---- */
int py_isspace(uint32_t cp);         /* str.isspace / split() / strip() whitespace (= re \s) */
int py_isalnum(uint32_t cp);         /* str.isalnum */
int py_isword(uint32_t cp);          /* re \w on str: isalnum or '_' */
int py_isupper(uint32_t cp);         /* str.isupper of one character */
int py_islower(uint32_t cp);         /* str.islower of one character */
int py_iscased(uint32_t cp);         /* Unicode Cased (for the final-sigma rule of lower()) */
int py_iscaseignorable(uint32_t cp); /* Unicode Case_Ignorable */

/* ---- regex-module classes (Unicode 17.0) used by sacreBLEU's intl tokenizer ---- */
enum { RX_OTHER = 0, RX_P = 1, RX_S = 2, RX_N = 3 }; /* \p{P}, \p{S}, \p{N} */
int rx_class(uint32_t cp);

/* ---- Python str operations ---- */
size_t py_rstrip_len(const char *s, size_t n); /* length of s.rstrip() */
size_t py_lstrip_off(const char *s, size_t n); /* offset where s.lstrip() starts */
/* " ".join(s.split()) appended to out. */
int py_split_join(const char *s, size_t n, u8buf *out);
/* s.split(): calls fn(tok, len, ctx) for each token; stops with -1 if fn returns non-zero. */
int py_split_each(const char *s, size_t n, int (*fn)(const char *, size_t, void *), void *ctx);
/* s.lower() appended to out: full mapping (U+0130 -> "i\u0307") and the final-sigma rule. */
int py_lower(const char *s, size_t n, u8buf *out);

#endif
