/* pyjson.c - JSON reader with Python json.loads semantics (see pyjson.h). */
#include "pyjson.h"
#include "unicode.h"
#include "core/err.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PJ_MAX_DEPTH 900 /* CPython's json stops near its recursion limit (1000) */

typedef struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
} block;

struct pj_doc {
    block *blocks;
    pj_value root;
};

typedef struct {
    const char *t;
    size_t n, i;
    const char *what;
    pj_doc *doc;
    int depth;
} parser;

static void *arena_alloc(pj_doc *d, size_t size) {
    size = (size + 15) & ~(size_t)15;
    block *b = d->blocks;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > (1u << 20) ? size : (1u << 20);
        b = malloc(sizeof *b + cap);
        if (!b) {
            T5G_FAIL("out of memory (%zu bytes) while reading JSON", cap);
            return NULL;
        }
        b->next = d->blocks;
        b->used = 0;
        b->cap = cap;
        d->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

/* Python-style message: "<what>: invalid JSON: <msg>: line L column C (char N)" */
static int fail_at(parser *p, size_t at, const char *msg) {
    size_t line = 1, col = 1, chars = 0;
    for (size_t i = 0; i < at && i < p->n; i++) {
        if (((unsigned char)p->t[i] & 0xC0) == 0x80) continue; /* count code points */
        chars++;
        if (p->t[i] == '\n') {
            line++;
            col = 1;
        } else col++;
    }
    return T5G_FAIL("%s: invalid JSON: %s: line %zu column %zu (char %zu)", p->what, msg, line, col, chars);
}

static void skip_ws(parser *p) {
    while (p->i < p->n && (p->t[p->i] == ' ' || p->t[p->i] == '\t' || p->t[p->i] == '\n' || p->t[p->i] == '\r')) p->i++;
}

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static int parse_string(parser *p, pj_value *v) {
    size_t start = p->i++; /* opening quote */
    u8buf b = {0};
    while (1) {
        if (p->i >= p->n) {
            u8buf_free(&b);
            return fail_at(p, start, "Unterminated string starting at");
        }
        unsigned char c = (unsigned char)p->t[p->i];
        if (c == '"') break;
        if (c < 0x20) {
            u8buf_free(&b);
            return fail_at(p, p->i, "Invalid control character at");
        }
        if (c != '\\') {
            size_t j = p->i + 1;
            while (j < p->n && p->t[j] != '"' && p->t[j] != '\\' && (unsigned char)p->t[j] >= 0x20) j++;
            if (u8buf_put(&b, p->t + p->i, j - p->i)) {
                u8buf_free(&b);
                return -1;
            }
            p->i = j;
            continue;
        }
        if (p->i + 1 >= p->n) {
            u8buf_free(&b);
            return fail_at(p, start, "Unterminated string starting at");
        }
        char e = p->t[p->i + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            if (u8buf_putc(&b, map[simple - "\"\\/bfnrt"])) {
                u8buf_free(&b);
                return -1;
            }
            p->i += 2;
            continue;
        }
        unsigned u, u2;
        if (e != 'u' || p->i + 6 > p->n || hex4(p->t + p->i + 2, &u)) {
            u8buf_free(&b);
            return fail_at(p, p->i, e == 'u' ? "Invalid \\uXXXX escape" : "Invalid \\escape");
        }
        size_t esc = p->i;
        p->i += 6;
        if (u >= 0xD800 && u <= 0xDBFF && p->i + 6 <= p->n && p->t[p->i] == '\\' && p->t[p->i + 1] == 'u' &&
            !hex4(p->t + p->i + 2, &u2) && u2 >= 0xDC00 && u2 <= 0xDFFF) {
            u = 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
            p->i += 6;
        } else if (u >= 0xD800 && u <= 0xDFFF) {
            u8buf_free(&b);
            return fail_at(p, esc, "lone surrogate escape (valid for Python, not representable in UTF-8)");
        }
        if (u8buf_putcp(&b, u)) {
            u8buf_free(&b);
            return -1;
        }
    }
    p->i++;
    v->type = PJ_STR;
    v->n = b.n;
    char *s = arena_alloc(p->doc, b.n + 1);
    if (!s) {
        u8buf_free(&b);
        return -1;
    }
    if (b.n) memcpy(s, b.p, b.n);
    s[b.n] = 0;
    v->s = s;
    u8buf_free(&b);
    return 0;
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Python's NUMBER_RE: -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)? ; int unless fraction/exponent. */
static int parse_number(parser *p, pj_value *v) {
    size_t s = p->i, i = p->i;
    if (i < p->n && p->t[i] == '-') i++;
    if (i + 8 <= p->n && !memcmp(p->t + i, "Infinity", 8) && i > s) {
        v->type = PJ_FLOAT;
        v->num = -INFINITY;
        v->s = p->t + s;
        v->n = 9;
        p->i = i + 8;
        return 0;
    }
    if (i >= p->n || !is_digit(p->t[i])) return fail_at(p, s, "Expecting value");
    if (p->t[i] == '0') i++;
    else
        while (i < p->n && is_digit(p->t[i])) i++;
    int is_float = 0;
    if (i + 1 < p->n && p->t[i] == '.' && is_digit(p->t[i + 1])) {
        is_float = 1;
        i++;
        while (i < p->n && is_digit(p->t[i])) i++;
    }
    if (i < p->n && (p->t[i] == 'e' || p->t[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->n && (p->t[j] == '+' || p->t[j] == '-')) j++;
        if (j < p->n && is_digit(p->t[j])) {
            is_float = 1;
            while (j < p->n && is_digit(p->t[j])) j++;
            i = j;
        }
    }
    char tmp[512];
    size_t len = i - s;
    char *num = len < sizeof tmp ? tmp : malloc(len + 1);
    if (!num) return T5G_FAIL("out of memory reading a JSON number");
    memcpy(num, p->t + s, len);
    num[len] = 0;
    v->type = is_float ? PJ_FLOAT : PJ_INT;
    v->num = strtod(num, NULL); /* correctly rounded, as Python's float() */
    if (num != tmp) free(num);
    v->s = p->t + s;
    v->n = len;
    p->i = i;
    return 0;
}

static int parse_value(parser *p, pj_value *v);

/* Doubles the temporary member arrays (keys only for an object). */
static int grow_members(pj_value **vals, pj_value **keys, size_t *cap) {
    size_t ncap = *cap * 2;
    pj_value *nv = realloc(*vals, ncap * sizeof **vals);
    T5G_CHECK(nv, "out of memory reading JSON");
    *vals = nv;
    if (*keys) {
        pj_value *nk = realloc(*keys, ncap * sizeof **keys);
        T5G_CHECK(nk, "out of memory reading JSON");
        *keys = nk;
    }
    *cap = ncap;
    return 0;
}

/* An object member's `"key":` (Python's error messages). */
static int parse_key(parser *p, pj_value *key) {
    skip_ws(p);
    if (p->i >= p->n || p->t[p->i] != '"') return fail_at(p, p->i, "Expecting property name enclosed in double quotes");
    T5G_TRY(parse_string(p, key));
    skip_ws(p);
    if (p->i >= p->n || p->t[p->i] != ':') return fail_at(p, p->i, "Expecting ':' delimiter");
    p->i++;
    return 0;
}

/* The members after the opening bracket, up to and including the closing one. */
static int parse_members(parser *p, pj_value **vals, pj_value **keys, size_t *cnt, char close) {
    size_t cap = 8;
    skip_ws(p);
    if (p->i < p->n && p->t[p->i] == close) {
        p->i++;
        return 0;
    }
    while (1) {
        if (*cnt == cap) T5G_TRY(grow_members(vals, keys, &cap));
        memset(&(*vals)[*cnt], 0, sizeof **vals);
        if (*keys) memset(&(*keys)[*cnt], 0, sizeof **keys);
        if (*keys) T5G_TRY(parse_key(p, &(*keys)[*cnt]));
        skip_ws(p);
        T5G_TRY(parse_value(p, &(*vals)[*cnt]));
        (*cnt)++;
        skip_ws(p);
        int sep = p->i < p->n ? p->t[p->i] : 0;
        if (sep != ',' && sep != close) return fail_at(p, p->i, "Expecting ',' delimiter");
        p->i++;
        if (sep == close) return 0;
    }
}

/* Members are parsed into a growable temporary array, then copied into the arena. */
static int parse_container(parser *p, pj_value *v, int is_obj) {
    size_t open = p->i++;
    if (++p->depth > PJ_MAX_DEPTH) return fail_at(p, open, "nesting too deep");
    size_t cnt = 0;
    pj_value *vals = malloc(8 * sizeof *vals), *keys = is_obj ? malloc(8 * sizeof *keys) : NULL;
    int rc = !vals || (is_obj && !keys) ? T5G_FAIL("out of memory reading JSON") : 0;
    if (!rc) rc = parse_members(p, &vals, &keys, &cnt, is_obj ? '}' : ']');
    if (!rc) {
        v->type = is_obj ? PJ_OBJ : PJ_ARR;
        v->count = cnt;
        v->items = arena_alloc(p->doc, (cnt ? cnt : 1) * sizeof *vals);
        v->keys = is_obj ? arena_alloc(p->doc, (cnt ? cnt : 1) * sizeof *keys) : NULL;
        if (!v->items || (is_obj && !v->keys)) rc = -1;
    }
    if (!rc && cnt) memcpy(v->items, vals, cnt * sizeof *vals);
    if (!rc && cnt && is_obj) memcpy(v->keys, keys, cnt * sizeof *keys);
    free(vals);
    free(keys);
    p->depth--;
    return rc;
}

static int literal(const parser *p, const char *word) {
    size_t k = strlen(word);
    return p->i + k <= p->n && !memcmp(p->t + p->i, word, k);
}

static int parse_value(parser *p, pj_value *v) {
    memset(v, 0, sizeof *v);
    if (p->i >= p->n) return fail_at(p, p->i, "Expecting value");
    char c = p->t[p->i];
    if (c == '"') return parse_string(p, v);
    if (c == '{') return parse_container(p, v, 1);
    if (c == '[') return parse_container(p, v, 0);
    static const struct {
        const char *w;
        pj_type t;
        int nan_inf;
    } lits[] = {{"null", PJ_NULL, 0},
                {"true", PJ_TRUE, 0},
                {"false", PJ_FALSE, 0},
                {"NaN", PJ_FLOAT, 1},
                {"Infinity", PJ_FLOAT, 2}};
    for (size_t k = 0; k < sizeof lits / sizeof lits[0]; k++) {
        if (!literal(p, lits[k].w)) continue;
        v->type = lits[k].t;
        v->s = p->t + p->i;
        v->n = strlen(lits[k].w);
        if (lits[k].nan_inf) v->num = lits[k].nan_inf == 1 ? NAN : INFINITY;
        p->i += v->n;
        return 0;
    }
    return parse_number(p, v);
}

pj_doc *pj_parse(const char *text, size_t n, const char *what) {
    T5G_CHECK_NULL(text, "no JSON text given");
    if (!what) what = "JSON input";
    size_t bad;
    if (u8_validate(text, n, &bad)) {
        size_t line = 1;
        for (size_t i = 0; i < bad; i++) line += text[i] == '\n';
        T5G_FAIL("%s: invalid UTF-8 at byte offset %zu (line %zu, byte 0x%02X); save the file as UTF-8", what, bad,
                 line, (unsigned char)text[bad]);
        return NULL;
    }
    pj_doc *d = calloc(1, sizeof *d);
    T5G_CHECK_NULL(d, "out of memory reading JSON");
    parser p = {text, n, 0, what, d, 0};
    if (n >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
        fail_at(&p, 0, "Unexpected UTF-8 BOM (decode using utf-8-sig)");
        pj_free(d);
        return NULL;
    }
    skip_ws(&p);
    if (parse_value(&p, &d->root)) {
        pj_free(d);
        return NULL;
    }
    skip_ws(&p);
    if (p.i < n) {
        fail_at(&p, p.i, "Extra data");
        pj_free(d);
        return NULL;
    }
    return d;
}

const pj_value *pj_root(const pj_doc *d) {
    return d ? &d->root : NULL;
}

void pj_free(pj_doc *d) {
    if (!d) return;
    for (block *b = d->blocks, *nx; b; b = nx) {
        nx = b->next;
        free(b);
    }
    free(d);
}

const pj_value *pj_get(const pj_value *obj, const char *key) {
    if (!obj || obj->type != PJ_OBJ || !key) return NULL;
    size_t k = strlen(key);
    for (size_t i = obj->count; i-- > 0;)
        if (pj_str_eq(&obj->keys[i], key, k)) return &obj->items[i];
    return NULL;
}

int pj_str_eq(const pj_value *v, const char *s, size_t n) {
    return v && v->type == PJ_STR && v->n == n && (n == 0 || !memcmp(v->s, s, n));
}

const char *pj_type_name(const pj_value *v) {
    if (!v) return "missing";
    switch (v->type) {
        case PJ_NULL:
            return "None";
        case PJ_FALSE:
        case PJ_TRUE:
            return "bool";
        case PJ_INT:
            return "int";
        case PJ_FLOAT:
            return "float";
        case PJ_STR:
            return "str";
        case PJ_ARR:
            return "list";
        default:
            return "dict";
    }
}
