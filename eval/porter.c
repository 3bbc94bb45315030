/* porter.c - NLTK's PorterStemmer (NLTK_EXTENSIONS mode), transcribed step by step from
 * nltk/stem/porter.py so that every quirk (rule-list "first suffix decides", the alli
 * re-run, logi's measure on word[:-3], the 2-letter *o rule) is kept. */
#include "porter.h"
#include <string.h>

typedef struct {
    char *b;  /* the word being stemmed, in the caller's output buffer */
    size_t n; /* its current length */
} word;

static int is_vowel(char c) {
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* _is_consonant: 'y' is a consonant at position 0 or after a vowel (walks back over y's). */
static int is_cons(const char *b, size_t i) {
    if (is_vowel(b[i])) return 0;
    if (b[i] != 'y') return 1;
    int negate = 0;
    while (i > 0 && b[i] == 'y') {
        negate = !negate;
        i--;
    }
    return (!is_vowel(b[i])) != negate;
}

/* Consonant flag of position i given the flag of i-1 (_consonant_flags). */
static int next_flag(const char *b, size_t i, int prev) {
    if (is_vowel(b[i])) return 0;
    if (b[i] == 'y') return i == 0 ? 1 : !prev;
    return 1;
}

/* _measure of b[0..k): number of "vc" pairs in the c/v pattern. */
static int measure(const char *b, size_t k) {
    int m = 0, prev = 1;
    for (size_t i = 0; i < k; i++) {
        int c = next_flag(b, i, prev);
        if (i > 0 && !prev && c) m++;
        prev = c;
    }
    return m;
}

static int contains_vowel(const char *b, size_t k) {
    int prev = 1;
    for (size_t i = 0; i < k; i++) {
        prev = next_flag(b, i, prev);
        if (!prev) return 1;
    }
    return 0;
}

static int ends_double_cons(const char *b, size_t k) {
    return k >= 2 && b[k - 1] == b[k - 2] && is_cons(b, k - 1);
}

/* *o: ends consonant-vowel-consonant (last not w/x/y), or (NLTK) a 2-letter vowel+consonant. */
static int ends_cvc(const char *b, size_t k) {
    if (k >= 3 && is_cons(b, k - 3) && !is_cons(b, k - 2) && is_cons(b, k - 1) && b[k - 1] != 'w' && b[k - 1] != 'x' &&
        b[k - 1] != 'y')
        return 1;
    return k == 2 && !is_cons(b, 0) && is_cons(b, 1);
}

static int ends_with(const word *w, const char *suf) {
    size_t s = strlen(suf);
    return w->n >= s && memcmp(w->b + w->n - s, suf, s) == 0;
}

/* Replace the last `cut` bytes by rep. */
static void set_tail(word *w, size_t cut, const char *rep) {
    size_t r = strlen(rep);
    memcpy(w->b + w->n - cut, rep, r);
    w->n = w->n - cut + r;
}

enum { C_NONE, C_M0, C_M1, C_ION, C_LOGI };

typedef struct {
    const char *suf, *rep;
    unsigned char cond;
} rule;

static int cond_ok(const word *w, size_t stem_len, int cond) {
    switch (cond) {
        case C_M0:
            return measure(w->b, stem_len) > 0;
        case C_M1:
            return measure(w->b, stem_len) > 1;
        case C_ION:
            return measure(w->b, stem_len) > 1 && (w->b[stem_len - 1] == 's' || w->b[stem_len - 1] == 't');
        case C_LOGI:
            return measure(w->b, w->n - 3) > 0; /* NLTK measures word[:-3] */
        default:
            return 1;
    }
}

/* _apply_rule_list: the first rule whose suffix matches decides, applied or not. */
static void apply_rules(word *w, const rule *r, size_t nr) {
    for (size_t i = 0; i < nr; i++) {
        if (!ends_with(w, r[i].suf)) continue;
        size_t s = strlen(r[i].suf);
        if (cond_ok(w, w->n - s, r[i].cond)) set_tail(w, s, r[i].rep);
        return;
    }
}

#define NRULES(a) (sizeof(a) / sizeof((a)[0]))

static void step1a(word *w) {
    static const rule r[] = {{"sses", "ss", C_NONE}, {"ies", "i", C_NONE}, {"ss", "ss", C_NONE}, {"s", "", C_NONE}};
    if (w->n == 4 && ends_with(w, "ies")) {
        set_tail(w, 3, "ie");
        return;
    } /* NLTK: dies->die */
    apply_rules(w, r, NRULES(r));
}

static void step1b(word *w) {
    if (ends_with(w, "ied")) {
        set_tail(w, 3, w->n == 4 ? "ie" : "i");
        return;
    } /* NLTK */
    if (ends_with(w, "eed")) {
        if (measure(w->b, w->n - 3) > 0) w->n--;
        return;
    }
    size_t cut = 0;
    if (ends_with(w, "ed") && contains_vowel(w->b, w->n - 2)) cut = 2;
    else if (ends_with(w, "ing") && contains_vowel(w->b, w->n - 3)) cut = 3;
    if (!cut) return;
    w->n -= cut; /* the intermediate stem; now the follow-up rules, first match decides */
    if (ends_with(w, "at") || ends_with(w, "bl") || ends_with(w, "iz")) {
        set_tail(w, 0, "e");
        return;
    }
    if (ends_double_cons(w->b, w->n)) {
        char last = w->b[w->n - 1];
        if (last != 'l' && last != 's' && last != 'z') w->n--;
        return;
    }
    if (measure(w->b, w->n) == 1 && ends_cvc(w->b, w->n)) set_tail(w, 0, "e");
}

/* NLTK: y -> i when preceded by a consonant and the stem has more than one letter. */
static void step1c(word *w) {
    if (ends_with(w, "y") && w->n - 1 > 1 && is_cons(w->b, w->n - 2)) w->b[w->n - 1] = 'i';
}

static void step2(word *w) {
    static const rule r[] = {
        {"ational", "ate", C_M0}, {"tional", "tion", C_M0}, {"enci", "ence", C_M0},   {"anci", "ance", C_M0},
        {"izer", "ize", C_M0},    {"bli", "ble", C_M0},     {"alli", "al", C_M0},     {"entli", "ent", C_M0},
        {"eli", "e", C_M0},       {"ousli", "ous", C_M0},   {"ization", "ize", C_M0}, {"ation", "ate", C_M0},
        {"ator", "ate", C_M0},    {"alism", "al", C_M0},    {"iveness", "ive", C_M0}, {"fulness", "ful", C_M0},
        {"ousness", "ous", C_M0}, {"aliti", "al", C_M0},    {"iviti", "ive", C_M0},   {"biliti", "ble", C_M0},
        {"fulli", "ful", C_M0},   {"logi", "log", C_LOGI}};
    if (ends_with(w, "alli") && measure(w->b, w->n - 4) > 0) { /* NLTK: re-run on ...al */
        set_tail(w, 4, "al");
        step2(w);
        return;
    }
    apply_rules(w, r, NRULES(r));
}

static void step3(word *w) {
    static const rule r[] = {{"icate", "ic", C_M0}, {"ative", "", C_M0}, {"alize", "al", C_M0}, {"iciti", "ic", C_M0},
                             {"ical", "ic", C_M0},  {"ful", "", C_M0},   {"ness", "", C_M0}};
    apply_rules(w, r, NRULES(r));
}

static void step4(word *w) {
    static const rule r[] = {{"al", "", C_M1},    {"ance", "", C_M1}, {"ence", "", C_M1}, {"er", "", C_M1},
                             {"ic", "", C_M1},    {"able", "", C_M1}, {"ible", "", C_M1}, {"ant", "", C_M1},
                             {"ement", "", C_M1}, {"ment", "", C_M1}, {"ent", "", C_M1},  {"ion", "", C_ION},
                             {"ou", "", C_M1},    {"ism", "", C_M1},  {"ate", "", C_M1},  {"iti", "", C_M1},
                             {"ous", "", C_M1},   {"ive", "", C_M1},  {"ize", "", C_M1}};
    apply_rules(w, r, NRULES(r));
}

static void step5a(word *w) {
    if (!ends_with(w, "e")) return;
    int m = measure(w->b, w->n - 1);
    if (m > 1 || (m == 1 && !ends_cvc(w->b, w->n - 1))) w->n--;
}

static void step5b(word *w) {
    if (ends_with(w, "ll") && measure(w->b, w->n - 1) > 1) w->n--;
}

/* NLTK's irregular_forms pool: word -> stem, checked before anything else. */
static const char *pool_lookup(const char *b, size_t n) {
    static const char *const pool[][2] = {
        {"sky", "sky"},        {"skies", "sky"},       {"dying", "die"},        {"lying", "lie"},
        {"tying", "tie"},      {"news", "news"},       {"innings", "inning"},   {"inning", "inning"},
        {"outings", "outing"}, {"outing", "outing"},   {"cannings", "canning"}, {"canning", "canning"},
        {"howe", "howe"},      {"proceed", "proceed"}, {"exceed", "exceed"},    {"succeed", "succeed"}};
    for (size_t i = 0; i < NRULES(pool); i++)
        if (strlen(pool[i][0]) == n && memcmp(pool[i][0], b, n) == 0) return pool[i][1];
    return NULL;
}

size_t porter_stem(const char *in, size_t len, char *out) {
    if (!in || !out) return (size_t)-1;
    for (size_t i = 0; i < len; i++) out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
    word w = {out, len};
    const char *irr = pool_lookup(out, len);
    if (irr) w.n = strlen(irr), memcpy(out, irr, w.n);
    else if (len > 2) {
        step1a(&w);
        step1b(&w);
        step1c(&w);
        step2(&w);
        step3(&w);
        step4(&w);
        step5a(&w);
        step5b(&w);
    }
    out[w.n] = 0;
    return w.n;
}
