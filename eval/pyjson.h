/* pyjson.h - JSON reader with Python json.loads semantics, for the SQuAD scorer and the
 * parity fixtures.
 *
 * Why not cJSON: the official SQuAD script's output depends on details cJSON drops —
 * int vs float numbers (a threshold read as `0` prints `0`, as `0.0` prints `0.0`),
 * strings with \u0000, duplicate keys (last value wins, Python dict order), and the
 * NaN/Infinity literals Python accepts.  Lone surrogates (legal for Python, not
 * representable in UTF-8) are rejected with an error. */
#ifndef T5G_PYJSON_H
#define T5G_PYJSON_H
#include <stddef.h>

typedef enum { PJ_NULL, PJ_FALSE, PJ_TRUE, PJ_INT, PJ_FLOAT, PJ_STR, PJ_ARR, PJ_OBJ } pj_type;

typedef struct pj_value pj_value;
struct pj_value {
    pj_type type;
    const char *s;   /* PJ_STR: decoded UTF-8 (NUL-terminated, may hold NULs); PJ_INT/PJ_FLOAT: source text */
    size_t n;        /* byte length of s */
    double num;      /* PJ_INT/PJ_FLOAT: value (Python float(text); ints rounded to double) */
    size_t count;    /* PJ_ARR/PJ_OBJ: number of members as written (duplicates included) */
    pj_value *items; /* PJ_ARR: elements; PJ_OBJ: values */
    pj_value *keys;  /* PJ_OBJ: keys (PJ_STR) */
};

typedef struct pj_doc pj_doc;

/* Parse text[0..n).  `what` names the input in error messages ("predictions file x.json").
 * Returns NULL with one error line, e.g. "x.json: invalid JSON at line 3 column 7: Expecting ',' delimiter". */
pj_doc *pj_parse(const char *text, size_t n, const char *what);
const pj_value *pj_root(const pj_doc *d);
void pj_free(pj_doc *d);

/* Member of an object by key, last occurrence (Python dict semantics); NULL if absent. */
const pj_value *pj_get(const pj_value *obj, const char *key);
/* 1 if the string value equals (s, n). */
int pj_str_eq(const pj_value *v, const char *s, size_t n);
/* Python type name of a value, for error messages ("str", "int", "list", "dict", ...). */
const char *pj_type_name(const pj_value *v);

#endif
