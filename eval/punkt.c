/* punkt.c - nltk.sent_tokenize (PunktSentenceTokenizer, English punkt_tab) in C.  Comments
 * name the nltk/tokenize/punkt.py code each step mirrors.  Text is handled as code points
 * (Python str indices); sentences come back as byte offsets. */
#include "punkt.h"
#include "punkt_data.h"
#include "unicode.h"
#include "core/err.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---------------------------------------------------------------- parameters */

enum { K_ABBREV = 1, K_COLLOC, K_STARTER, K_ORTHO };
/* _ORTHO_* flags: sentence-initial / -internal / unknown position, upper / lower case */
enum { ORTHO_BEG_UC = 2, ORTHO_MID_UC = 4, ORTHO_UNK_UC = 8, ORTHO_BEG_LC = 16, ORTHO_MID_LC = 32, ORTHO_UNK_LC = 64 };
#define ORTHO_UC (ORTHO_BEG_UC | ORTHO_MID_UC | ORTHO_UNK_UC)
#define ORTHO_LC (ORTHO_BEG_LC | ORTHO_MID_LC | ORTHO_UNK_LC)

typedef struct {
    const char *key; /* into the linked-in text; NULL = empty slot */
    uint32_t len;
    int kind, val;
} entry;

static struct {
    entry *slot;
    size_t mask;
    int failed;
} g_tab;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static size_t hash(int kind, const char *k, size_t n) {
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)kind;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
    return (size_t)h;
}

static entry *find_slot(int kind, const char *k, size_t n) {
    for (size_t i = hash(kind, k, n) & g_tab.mask;; i = (i + 1) & g_tab.mask) {
        entry *e = &g_tab.slot[i];
        if (!e->key || (e->kind == kind && e->len == n && !memcmp(e->key, k, n))) return e;
    }
}

/* One entry a line; key = the whole line (abbreviations, starters), or both fields of a
 * collocation ("a\tb"), or the first field of an ortho line with its integer value. */
static void add_lines(const char *text, int kind) {
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t kn = n;
        int val = 1;
        if (kind == K_ORTHO) {
            const char *tab = memchr(p, '\t', n);
            kn = tab ? (size_t)(tab - p) : n;
            val = tab ? atoi(tab + 1) : 0;
        }
        entry *e = find_slot(kind, p, kn);
        *e = (entry){p, (uint32_t)kn, kind, val};
        p += n + (nl != NULL);
    }
}

static void init_tables(void) {
    size_t lines = 0;
    const char *texts[4] = {t5g_punkt_abbrev_types, t5g_punkt_collocations, t5g_punkt_sent_starters,
                            t5g_punkt_ortho_context};
    for (int t = 0; t < 4; t++)
        for (const char *p = texts[t]; *p; p++) lines += *p == '\n';
    size_t cap = 1;
    while (cap < 2 * lines + 16) cap <<= 1;
    g_tab.slot = calloc(cap, sizeof *g_tab.slot);
    if (!g_tab.slot) {
        g_tab.failed = 1;
        return;
    }
    g_tab.mask = cap - 1;
    for (int t = 0; t < 4; t++) add_lines(texts[t], t + 1);
}

static const entry *lookup(int kind, const char *k, size_t n) {
    const entry *e = find_slot(kind, k, n);
    return e->key ? e : NULL;
}

static int ortho_of(const char *type, size_t n) {
    const entry *e = lookup(K_ORTHO, type, n);
    return e ? e->val : 0; /* defaultdict(int) */
}

/* ---------------------------------------------------------------- character classes */

/* PunktLanguageVars._re_non_word_chars (sent_end_chars less '.') */
static int non_word(uint32_t c) {
    switch (c) {
        case ')':
        case '"':
        case ';':
        case '}':
        case ']':
        case '*':
        case ':':
        case '@':
        case '\'':
        case '(':
        case '{':
        case '[':
        case 0x2018:
        case 0x2019:
        case 0x201C:
        case 0x201D:
        case 0xAB:
        case 0xBB:
        case '?':
        case '!':
            return 1;
        default:
            return 0;
    }
}

/* _re_word_start: characters a word token may not start with */
static int word_start(uint32_t c) {
    return !(c < 0x80 && c && strchr("(\"`{[:;&#*@)}]-,", (int)c));
}

/* re_boundary_realignment's closing characters */
static int closing(uint32_t c) {
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}' || c == 0x2018 || c == 0x2019 || c == 0x201C ||
           c == 0x201D || c == 0xAB || c == 0xBB;
}

/* NLTK 3.10 compiles Punkt's patterns with the third-party `regex` module (nltk.redos), whose
 * classes differ from Python str methods: \s is Unicode White_Space (not U+001C..U+001F),
 * \d is Nd, and [^\W\d] is Alphabetic | Mark | Pc | Join_Control less Nd, i.e. categories
 * L*, M*, Nl, Pc plus the Other_Alphabetic symbols below (equal to `regex` on every code
 * point assigned in Unicode 14; utf8proc supplies the categories). */
static int rx_space(uint32_t c) {
    return py_isspace(c) && !(c >= 0x1C && c <= 0x1F);
}

static int rx_digit(uint32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    return utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_ND;
}

static int alpha_like(uint32_t c) {
    if (c < 0x80) return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';
    if ((c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
        (c >= 0x1F170 && c <= 0x1F189) || c == 0x200C || c == 0x200D)
        return 1;
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_ME) || k == UTF8PROC_CATEGORY_NL ||
           k == UTF8PROC_CATEGORY_PC;
}

/* _re_multi_char_punct  (?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)  at t[i] (t has n code points): its length or 0 */
static size_t multi_char(const uint32_t *t, size_t n, size_t i) {
    if (i >= n) return 0;
    size_t j = i;
    if (t[i] == '-') {
        while (j < n && t[j] == '-') j++;
        return j - i >= 2 ? j - i : 0;
    }
    if (t[i] != '.') return 0;
    while (j < n && t[j] == '.') j++;
    if (j - i >= 2) return j - i;
    size_t pairs = 0;
    for (j = i; j + 1 < n && t[j] == '.' && rx_space(t[j + 1]); j += 2) pairs++;
    if (pairs >= 2 && i + 2 * pairs < n && t[i + 2 * pairs] == '.') return 2 * pairs + 1;
    if (pairs >= 3) return 2 * pairs - 1; /* backtrack one pair: its '.' ends the match */
    return 0;
}

/* ---------------------------------------------------------------- tokens */

typedef struct {
    size_t a, b;     /* code points [a, b) of the text */
    size_t ba, bb;   /* the same as bytes */
    size_t type_off; /* type (lower-cased, or "##number##") in the type buffer */
    size_t type_len;
    int period_final, sentbreak, abbr, ellipsis;
} token;

typedef struct {
    const char *s;     /* the text (UTF-8) */
    const uint32_t *t; /* its code points */
    const size_t *off; /* byte offset of each code point (+ one past the end) */
    size_t n;
    token *tok;
    size_t ntok, cap;
    u8buf types;
} ctx;

/* PunktToken._RE_NUMERIC  ^-?[\.,]?\d[\d,\.-]*\.?$  on a lower-cased token */
static int numeric(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i < n && (s[i] == '.' || s[i] == ',')) i++;
    if (i >= n) return 0;
    size_t k = i;
    if (!rx_digit(u8_next(s, n, &k))) return 0;
    while (k < n) {
        uint32_t c = u8_next(s, n, &k);
        if (!(rx_digit(c) || c == ',' || c == '.' || c == '-')) return 0;
    }
    return 1;
}

/* room for one more element in the array *p of n used out of *cap (doubling from `first`) */
static int grow(void **p, size_t n, size_t *cap, size_t elem, size_t first) {
    if (n < *cap) return 0;
    size_t want = *cap ? 2 * *cap : first;
    void *q = realloc(*p, want * elem);
    T5G_CHECK(q, "out of memory (sentence splitter)");
    *p = q;
    *cap = want;
    return 0;
}

static int add_token(ctx *c, size_t a, size_t b) {
    T5G_TRY(grow((void **)&c->tok, c->ntok, &c->cap, sizeof *c->tok, 64));
    token *k = &c->tok[c->ntok++];
    memset(k, 0, sizeof *k);
    k->a = a;
    k->b = b;
    k->ba = c->off[a];
    k->bb = c->off[b];
    size_t at = c->types.n;
    T5G_TRY(py_lower(c->s + k->ba, k->bb - k->ba, &c->types));
    if (numeric(c->types.p + at, c->types.n - at)) { /* _get_type */
        c->types.n = at;
        T5G_TRY(u8buf_put(&c->types, "##number##", 10));
    }
    k->type_off = at;
    k->type_len = c->types.n - at;
    k->period_final = c->t[b - 1] == '.';
    return 0;
}

/* PunktLanguageVars.word_tokenize on the line t[a, b) (findall of _word_tokenizer_re) */
static int word_tokenize(ctx *c, size_t a, size_t b) {
    const uint32_t *t = c->t;
    for (size_t i = a; i < b;) {
        size_t m = multi_char(t, b, i);
        if (m) {
            T5G_TRY(add_token(c, i, i + m));
            i += m;
        } else if (!rx_space(t[i]) && word_start(t[i])) { /* (?=WordStart)\S+?(?=end of word) */
            size_t j = i + 1;
            while (
                j < b && !rx_space(t[j]) && !non_word(t[j]) && !multi_char(t, b, j) &&
                !(t[j] == ',' && (j + 1 == b || rx_space(t[j + 1]) || non_word(t[j + 1]) || multi_char(t, b, j + 1))))
                j++;
            T5G_TRY(add_token(c, i, j));
            i = j;
        } else if (!rx_space(t[i])) {
            T5G_TRY(add_token(c, i, i + 1));
            i++;
        } else i++;
    }
    return 0;
}

/* PunktBaseClass._tokenize_words on t[a, b): lines split at "\n", blank lines skipped */
static int tokenize_words(ctx *c, size_t a, size_t b) {
    c->ntok = 0;
    c->types.n = 0;
    for (size_t i = a; i <= b;) {
        size_t e = i;
        while (e < b && c->t[e] != '\n') e++;
        int blank = 1;
        for (size_t k = i; k < e && blank; k++) blank = py_isspace(c->t[k]);
        if (!blank) T5G_TRY(word_tokenize(c, i, e));
        i = e + 1;
    }
    return 0;
}

static const char *type_of(const ctx *c, const token *k) {
    return c->types.p + k->type_off;
}

/* type_no_period; with `sentperiod`, type_no_sentperiod */
static size_t type_len_np(const ctx *c, const token *k, int sentperiod) {
    if (sentperiod && !k->sentbreak) return k->type_len;
    return k->type_len > 1 && type_of(c, k)[k->type_len - 1] == '.' ? k->type_len - 1 : k->type_len;
}

static int tok_is(const ctx *c, const token *k, const char *chars) {
    return k->b - k->a == 1 && c->t[k->a] < 0x80 && c->t[k->a] && strchr(chars, (int)c->t[k->a]);
}

/* _first_pass_annotation */
static int first_pass(ctx *c, token *k) {
    const uint32_t *t = c->t;
    size_t len = k->b - k->a;
    if (tok_is(c, k, ".?!")) {
        k->sentbreak = 1;
        return 0;
    }
    size_t dots = 0;
    while (dots < len && t[k->a + dots] == '.') dots++;
    if (dots == len && len >= 2) { /* _RE_ELLIPSIS */
        k->ellipsis = 1;
        return 0;
    }
    if (!k->period_final || (len >= 2 && t[k->b - 2] == '.')) return 0;
    u8buf low = {0}; /* tok[:-1].lower(), and its part after the last '-' */
    int rc = py_lower(c->s + k->ba, c->off[k->b - 1] - k->ba, &low);
    if (!rc) {
        size_t cut = low.n;
        while (cut > 0 && low.p[cut - 1] != '-') cut--;
        const char *all = low.p ? low.p : "";
        if (lookup(K_ABBREV, all, low.n) || lookup(K_ABBREV, all + cut, low.n - cut)) k->abbr = 1;
        else k->sentbreak = 1;
    }
    u8buf_free(&low);
    return rc;
}

enum { ORTHO_FALSE, ORTHO_TRUE, ORTHO_UNKNOWN };

static int first_upper(const ctx *c, const token *k) {
    return py_isupper(c->t[k->a]);
}

/* _ortho_heuristic */
static int ortho_heuristic(const ctx *c, const token *k) {
    if (tok_is(c, k, ";:,.!?")) return ORTHO_FALSE;
    int oc = ortho_of(type_of(c, k), type_len_np(c, k, 1));
    if (first_upper(c, k) && (oc & ORTHO_LC) && !(oc & ORTHO_MID_UC)) return ORTHO_TRUE;
    if (py_islower(c->t[k->a]) && ((oc & ORTHO_UC) || !(oc & ORTHO_BEG_LC))) return ORTHO_FALSE;
    return ORTHO_UNKNOWN;
}

/* _second_pass_annotation of k1 followed by k2 */
static int second_pass(ctx *c, token *k1, const token *k2) {
    if (!k1->period_final) return 0;
    const char *typ = type_of(c, k1), *next = type_of(c, k2);
    size_t tn = type_len_np(c, k1, 0), nn = type_len_np(c, k2, 1);
    int initial = k1->b - k1->a == 2 && c->t[k1->a + 1] == '.' && alpha_like(c->t[k1->a]);
    u8buf key = {0}; /* collocation heuristic */
    int rc = u8buf_put(&key, typ, tn) || u8buf_putc(&key, '\t') || u8buf_put(&key, next, nn);
    int colloc = !rc && lookup(K_COLLOC, key.p, key.n);
    u8buf_free(&key);
    if (rc) return -1;
    if (colloc) {
        k1->sentbreak = 0;
        k1->abbr = 1;
        return 0;
    }
    if ((k1->abbr || k1->ellipsis) && !initial) { /* orthographic, then sentence starter heuristic */
        if (ortho_heuristic(c, k2) == ORTHO_TRUE) {
            k1->sentbreak = 1;
            return 0;
        }
        if (first_upper(c, k2) && lookup(K_STARTER, next, nn)) {
            k1->sentbreak = 1;
            return 0;
        }
    }
    if (initial || (tn == 10 && !memcmp(typ, "##number##", 10))) { /* initials and ordinals */
        int s = ortho_heuristic(c, k2);
        if (s == ORTHO_FALSE) {
            k1->sentbreak = 0;
            k1->abbr = 1;
            return 0;
        }
        if (s == ORTHO_UNKNOWN && initial && first_upper(c, k2) && !(ortho_of(next, nn) & ORTHO_LC)) {
            k1->sentbreak = 0;
            k1->abbr = 1;
        }
    }
    return 0;
}

/* text_contains_sentbreak(text[a:b]): a sentence break before the last token */
static int contains_sentbreak(ctx *c, size_t a, size_t b, int *yes) {
    T5G_TRY(tokenize_words(c, a, b));
    for (size_t k = 0; k < c->ntok; k++) T5G_TRY(first_pass(c, &c->tok[k]));
    *yes = 0;
    for (size_t k = 0; k + 1 < c->ntok && !*yes; k++) {
        T5G_TRY(second_pass(c, &c->tok[k], &c->tok[k + 1]));
        *yes = c->tok[k].sentbreak;
    }
    return 0;
}

/* ---------------------------------------------------------------- sentences */

typedef struct {
    size_t start, stop;
} slice;

typedef struct {
    slice *v;
    size_t n, cap;
} slices;

static int push(slices *l, size_t start, size_t stop) {
    T5G_TRY(grow((void **)&l->v, l->n, &l->cap, sizeof *l->v, 32));
    l->v[l->n++] = (slice){start, stop};
    return 0;
}

/* period_context_re at t[i]: [.?!](?=(?P<after_tok>NonWord|\s+(?P<next_tok>\S+))).
 * Returns 1 with *after_end and *next_tok (0 = no next_tok group). */
static int period_context(const uint32_t *t, size_t n, size_t i, size_t *after_end, size_t *next_tok) {
    if (!(t[i] == '.' || t[i] == '?' || t[i] == '!') || i + 1 >= n) return 0;
    if (non_word(t[i + 1])) {
        *after_end = i + 2;
        *next_tok = 0;
        return 1;
    }
    size_t j = i + 1;
    while (j < n && rx_space(t[j])) j++;
    if (j == i + 1 || j == n) return 0;
    *next_tok = j;
    while (j < n && !rx_space(t[j])) j++;
    *after_end = j;
    return 1;
}

/* _get_last_whitespace_index(text[a:b]) (string.whitespace: ASCII only; 0 when none) */
static size_t last_ascii_space(const uint32_t *t, size_t a, size_t b) {
    for (size_t i = b; i > a + 1; i--) {
        uint32_t c = t[i - 1];
        if (c == ' ' || (c >= '\t' && c <= '\r')) return i - 1 - a;
    }
    return 0;
}

typedef struct {
    size_t at, after_end, next_tok;
} period_match;

/* One yielded (match, context) of _match_potential_end_contexts: the context is text[ctx_a:after_end]. */
static int consider(ctx *c, const period_match *m, size_t ctx_a, size_t *last_break, slices *out) {
    int br;
    T5G_TRY(contains_sentbreak(c, ctx_a, m->after_end, &br));
    if (!br) return 0;
    T5G_TRY(push(out, *last_break, m->at + 1));
    *last_break = m->next_tok ? m->next_tok : m->at + 1;
    return 0;
}

/* _slices_from_text */
static int slices_from_text(ctx *c, slices *out) {
    const uint32_t *t = c->t;
    size_t n = c->n, last_break = 0;
    slice prev = {0, 0};
    period_match pm = {0, 0, 0}, m;
    int have_prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (!period_context(t, n, i, &m.after_end, &m.next_tok)) continue;
        m.at = i;
        size_t idx = last_ascii_space(t, prev.stop, i);
        idx = idx ? idx + prev.stop + 1 : prev.start;
        slice word = {idx, i};
        if (have_prev && prev.stop <= word.start) T5G_TRY(consider(c, &pm, prev.start, &last_break, out));
        pm = m;
        prev = word;
        have_prev = 1;
    }
    if (have_prev) T5G_TRY(consider(c, &pm, prev.start, &last_break, out));
    size_t end = n;
    while (end > 0 && py_isspace(t[end - 1])) end--; /* len(text.rstrip()) */
    return push(out, last_break, end);
}

/* _realign_boundaries */
static int realign(const ctx *c, const slices *in, slices *out) {
    const uint32_t *t = c->t;
    size_t shift = 0;
    for (size_t k = 0; k < in->n; k++) {
        slice s1 = {in->v[k].start + shift, in->v[k].stop};
        if (k + 1 == in->n) {
            if (s1.start < s1.stop) T5G_TRY(push(out, s1.start, s1.stop));
            continue;
        }
        slice s2 = in->v[k + 1]; /* re_boundary_realignment.match(text[s2]) */
        size_t p = s2.start;
        while (p < s2.stop && closing(t[p])) p++;
        size_t r = p - s2.start, e = p;
        while (e < s2.stop && rx_space(t[e])) e++;
        int ok = r > 0 && (e > p || p == s2.stop || (p + 1 < s2.stop && t[p] == '-' && t[p + 1] == '-'));
        if (ok) {
            T5G_TRY(push(out, s1.start, s2.start + r));
            shift = e - s2.start;
        } else {
            shift = 0;
            if (s1.start < s1.stop) T5G_TRY(push(out, s1.start, s1.stop));
        }
    }
    return 0;
}

int punkt_sentences(const char *s, size_t n, punkt_span **spans, size_t *count) {
    T5G_CHECK(s && spans && count, "punkt_sentences: NULL argument");
    *spans = NULL;
    *count = 0;
    pthread_once(&g_once, init_tables);
    T5G_CHECK(!g_tab.failed, "out of memory (sentence splitter tables)");
    ctx c = {.s = s};
    uint32_t *t = malloc((n + 1) * sizeof *t);
    size_t *off = malloc((n + 1) * sizeof *off);
    slices raw = {0}, done = {0};
    int rc = t && off ? 0 : T5G_FAIL("out of memory (sentence splitter, %zu bytes)", n);
    for (size_t i = 0; !rc && i < n;) {
        off[c.n] = i;
        t[c.n++] = u8_next(s, n, &i);
    }
    if (!rc) {
        off[c.n] = n;
        c.t = t;
        c.off = off;
        rc = slices_from_text(&c, &raw);
    }
    if (!rc) rc = realign(&c, &raw, &done);
    if (!rc && done.n) {
        *spans = malloc(done.n * sizeof **spans);
        if (!*spans) rc = T5G_FAIL("out of memory (sentence splitter)");
        for (size_t k = 0; !rc && k < done.n; k++) {
            size_t a = done.v[k].start, b = done.v[k].stop;
            (*spans)[k] = (punkt_span){off[a], off[b < a ? a : b]};
        }
        if (!rc) *count = done.n;
    }
    free(t);
    free(off);
    free(raw.v);
    free(done.v);
    free(c.tok);
    u8buf_free(&c.types);
    return rc;
}
