/* test_tokenizer.c - SentencePiece tokenizer against spm_encode / Python sentencepiece ids.
 * Fixtures: tests/fixtures/tokenizer (made by tests/reference/make_tokenizer_fixtures.py). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/fileio.h"
#include "testutil.h"
#include "text/tokenizer.h"

/* ---- fixture helpers ---- */

typedef struct {
    char *buf;     /* file contents, '\n' replaced by NUL */
    char **line;   /* line starts */
    size_t n;
} lines_t;

static int read_lines(const char *name, lines_t *L) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tokenizer/%s", fixtures_dir(), name);
    size_t len = 0;
    memset(L, 0, sizeof *L);
    L->buf = t5g_read_file(path, &len);
    if (!L->buf) return -1;
    L->line = malloc((len + 1) * sizeof *L->line);
    for (size_t i = 0, start = 0; i < len; i++) {
        if (L->buf[i] != '\n') continue;
        L->buf[i] = 0;
        L->line[L->n++] = L->buf + start;
        start = i + 1;
    }
    return 0;
}

static void free_lines(lines_t *L) {
    free(L->buf);
    free(L->line);
}

/* Parses "12 5 7" into ids; returns the count. */
static size_t parse_ids(const char *s, int32_t *ids, size_t cap) {
    size_t n = 0;
    char *end;
    for (;;) {
        long v = strtol(s, &end, 10);
        if (end == s || n == cap) break;
        ids[n++] = (int32_t)v;
        s = end;
    }
    return n;
}

static t5g_tokenizer *load_model(const char *kind) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tokenizer/%s.model", fixtures_dir(), kind);
    t5g_tokenizer *tok = t5g_tokenizer_from_file(path);
    if (!tok) fprintf(stderr, "load %s: %s\n", path, t5g_last_error());
    return tok;
}

static t5g_tokenizer *load_model_bytes(const char *kind) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tokenizer/%s.model", fixtures_dir(), kind);
    size_t len = 0;
    char *bytes = t5g_read_file(path, &len);
    if (!bytes) return NULL;
    t5g_tokenizer *tok = t5g_tokenizer_from_bytes(bytes, len);
    free(bytes);  /* the tokenizer keeps its own copy */
    return tok;
}

static int ids_equal(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

/* ---- ids identical to spm_encode / Python, round trip ---- */

/* Encodes every test line with tok and compares with <kind><suffix>; returns mismatches. */
static int compare_corpus(t5g_tokenizer *tok, const char *kind, const char *suffix, int flags) {
    lines_t text, want;
    char name[64];
    snprintf(name, sizeof name, "%s%s", kind, suffix);
    CU_ASSERT_FATAL(read_lines("test_corpus.txt", &text) == 0);
    CU_ASSERT_FATAL(read_lines(name, &want) == 0);
    CU_ASSERT_FATAL(text.n == want.n && text.n > 60);
    static int32_t exp[20000];
    int bad = 0;
    for (size_t i = 0; i < text.n; i++) {
        size_t ne = parse_ids(want.line[i], exp, 20000), n = 0;
        int32_t *ids = NULL;
        int rc = t5g_tokenizer_encode(tok, text.line[i], strlen(text.line[i]), flags, &ids, &n);
        if (rc != 0 || !ids_equal(ids, n, exp, ne)) {
            if (bad++ < 3)
                fprintf(stderr, "%s%s line %zu: rc %d, %zu ids, want %zu\n", kind, suffix, i + 1,
                        rc, n, ne);
        }
        free(ids);
    }
    free_lines(&text);
    free_lines(&want);
    return bad;
}

static void check_ids(const char *kind) {
    t5g_tokenizer *file = load_model(kind), *mem = load_model_bytes(kind);
    CU_ASSERT_FATAL(file != NULL && mem != NULL);
    CU_ASSERT_EQUAL(compare_corpus(file, kind, ".ids", 0), 0);
    CU_ASSERT_EQUAL(compare_corpus(mem, kind, ".ids", 0), 0);
    CU_ASSERT_EQUAL(compare_corpus(file, kind, ".bos_eos.ids", T5G_TOK_ADD_BOS | T5G_TOK_ADD_EOS),
                    0);
    t5g_tokenizer_free(file);
    t5g_tokenizer_free(mem);
}
static void test_ids_bpe(void) { check_ids("bpe"); }
static void test_ids_unigram(void) { check_ids("unigram"); }

static void check_roundtrip(const char *kind) {
    t5g_tokenizer *tok = load_model(kind);
    CU_ASSERT_FATAL(tok != NULL);
    lines_t text;
    CU_ASSERT_FATAL(read_lines("test_corpus.txt", &text) == 0);
    int bad = 0;
    for (size_t i = 0; i < text.n; i++) {
        const char *s = text.line[i];
        size_t n = 0, len = 0;
        int32_t *ids = NULL;
        CU_ASSERT_FATAL(t5g_tokenizer_encode(tok, s, strlen(s), T5G_TOK_ADD_BOS, &ids, &n) == 0);
        char *out = t5g_tokenizer_decode(tok, ids, n, 0, &len);
        if (!out || len != strlen(s) || strcmp(out, s) != 0) {
            if (bad++ < 3) fprintf(stderr, "%s round trip line %zu: '%s'\n", kind, i + 1, out);
        }
        free(out);
        free(ids);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free_lines(&text);
    t5g_tokenizer_free(tok);
}
static void test_roundtrip_bpe(void) { check_roundtrip("bpe"); }
static void test_roundtrip_unigram(void) { check_roundtrip("unigram"); }

/* bos/eos flags one at a time (the fixture has both): [bos] ids / ids [eos]. */
static void test_bos_eos_flags(void) {
    t5g_tokenizer *tok = load_model("bpe");
    CU_ASSERT_FATAL(tok != NULL);
    const char *s = "Le café est très bon.";
    int32_t *plain, *b, *e;
    size_t np, nb, ne;
    CU_ASSERT_FATAL(t5g_tokenizer_encode(tok, s, strlen(s), 0, &plain, &np) == 0);
    CU_ASSERT_FATAL(t5g_tokenizer_encode(tok, s, strlen(s), T5G_TOK_ADD_BOS, &b, &nb) == 0);
    CU_ASSERT_FATAL(t5g_tokenizer_encode(tok, s, strlen(s), T5G_TOK_ADD_EOS, &e, &ne) == 0);
    CU_ASSERT(np > 0 && nb == np + 1 && ne == np + 1);
    CU_ASSERT(b[0] == 2 && ids_equal(b + 1, nb - 1, plain, np));
    CU_ASSERT(e[ne - 1] == 1 && ids_equal(e, ne - 1, plain, np));
    free(plain);
    free(b);
    free(e);
    /* Empty text: no ids, but a valid (freeable) array; with both flags [bos, eos]. */
    CU_ASSERT_FATAL(t5g_tokenizer_encode(tok, "", 0, 0, &plain, &np) == 0);
    CU_ASSERT(np == 0 && plain != NULL);
    free(plain);
    CU_ASSERT_FATAL(t5g_tokenizer_encode(tok, NULL, 0, T5G_TOK_ADD_BOS | T5G_TOK_ADD_EOS, &b,
                                         &nb) == 0);
    CU_ASSERT(nb == 2 && b[0] == 2 && b[1] == 1);
    free(b);
    CU_ASSERT(t5g_tokenizer_encode(tok, s, strlen(s), 4, &b, &nb) == -1);
    t5g_tokenizer_free(tok);
}

/* ---- vocabulary and special ids ---- */

static void test_specials_and_pieces(void) {
    const char *kinds[] = {"bpe", "unigram"};
    for (int k = 0; k < 2; k++) {
        t5g_tokenizer *tok = load_model(kinds[k]);
        CU_ASSERT_FATAL(tok != NULL);
        CU_ASSERT_EQUAL(t5g_tokenizer_vocab_size(tok), 1000);
        CU_ASSERT_EQUAL(t5g_tokenizer_pad_id(tok), 0);
        CU_ASSERT_EQUAL(t5g_tokenizer_eos_id(tok), 1);
        CU_ASSERT_EQUAL(t5g_tokenizer_bos_id(tok), 2);
        CU_ASSERT_EQUAL(t5g_tokenizer_unk_id(tok), 3);
        CU_ASSERT_STRING_EQUAL(t5g_tokenizer_piece(tok, 2), "<bos>");
        CU_ASSERT_STRING_EQUAL(t5g_tokenizer_piece(tok, 4), "<mask>");
        CU_ASSERT_STRING_EQUAL(t5g_tokenizer_piece(tok, 106), "<start_of_turn>");
        CU_ASSERT_EQUAL(t5g_tokenizer_piece_id(tok, "<end_of_turn>"), 107);
        CU_ASSERT_EQUAL(t5g_tokenizer_piece_id(tok, "<unk>"), 3);
        CU_ASSERT_EQUAL(t5g_tokenizer_piece_id(tok, "<0x41>"), 108 + 0x41);
        CU_ASSERT_EQUAL(t5g_tokenizer_piece_id(tok, "no such piece"), -1);
        CU_ASSERT(strstr(t5g_last_error(), "no piece 'no such piece'") != NULL);
        CU_ASSERT_PTR_NULL(t5g_tokenizer_piece(tok, 1000));
        CU_ASSERT_PTR_NULL(t5g_tokenizer_piece(tok, -1));
        CU_ASSERT(strstr(t5g_last_error(), "token id -1 is out of range") != NULL);
        for (int id = 0; id < 4; id++) CU_ASSERT_EQUAL(t5g_tokenizer_is_special(tok, id), 1);
        CU_ASSERT_EQUAL(t5g_tokenizer_is_special(tok, 4), 0);   /* user-defined <mask> */
        CU_ASSERT_EQUAL(t5g_tokenizer_is_special(tok, 107), 0);
        CU_ASSERT_EQUAL(t5g_tokenizer_is_special(tok, 500), 0);
        CU_ASSERT_EQUAL(t5g_tokenizer_is_special(tok, 1000), -1);
        t5g_tokenizer_free(tok);
    }
}

/* ---- decode: special ids, bad ids ---- */

static void test_decode_specials(void) {
    t5g_tokenizer *tok = load_model("unigram");
    CU_ASSERT_FATAL(tok != NULL);
    const char *s = "Bonjour <mask> 東京";
    int32_t *ids;
    size_t n, len;
    CU_ASSERT_FATAL(t5g_tokenizer_encode(tok, s, strlen(s), 0, &ids, &n) == 0);
    int32_t seq[64];
    CU_ASSERT_FATAL(n + 6 < 64);
    seq[0] = 2;                               /* <bos> */
    memcpy(seq + 1, ids, n * sizeof *ids);
    seq[n + 1] = 3;                           /* <unk> */
    seq[n + 2] = 1;                           /* <eos> */
    seq[n + 3] = 0;                           /* <pad> <pad> */
    seq[n + 4] = 0;
    char *out = t5g_tokenizer_decode(tok, seq, n + 5, 0, &len);
    CU_ASSERT_FATAL(out != NULL);
    CU_ASSERT_STRING_EQUAL(out, s);
    CU_ASSERT_EQUAL(len, strlen(s));
    free(out);
    out = t5g_tokenizer_decode(tok, seq, n + 5, T5G_TOK_KEEP_SPECIAL, NULL);
    CU_ASSERT_FATAL(out != NULL);
    CU_ASSERT_STRING_EQUAL(out, "<bos>Bonjour <mask> 東京<unk><eos><pad><pad>");
    free(out);
    /* Nothing to decode: "" */
    out = t5g_tokenizer_decode(tok, NULL, 0, 0, &len);
    CU_ASSERT(out != NULL && len == 0 && out[0] == 0);
    free(out);
    free(ids);
    t5g_tokenizer_free(tok);
}

static void test_decode_bad_ids(void) {
    t5g_tokenizer *tok = load_model("bpe");
    CU_ASSERT_FATAL(tok != NULL);
    int32_t too_big[] = {400, 401, 1000};
    CU_ASSERT_PTR_NULL(t5g_tokenizer_decode(tok, too_big, 3, 0, NULL));
    CU_ASSERT(strstr(t5g_last_error(), "id 1000 at position 2: valid ids are 0..999") != NULL);
    int32_t negative[] = {-5};
    CU_ASSERT_PTR_NULL(t5g_tokenizer_decode(tok, negative, 1, 0, NULL));
    CU_ASSERT(strstr(t5g_last_error(), "token id -5 at position 0") != NULL);
    CU_ASSERT_PTR_NULL(t5g_tokenizer_decode(tok, too_big, 1, 8, NULL));
    /* Byte pieces that do not form UTF-8 decode to U+FFFD each (SentencePiece's rule). */
    int32_t lone[] = {108 + 0xE6, 108 + 'a'};
    char *out = t5g_tokenizer_decode(tok, lone, 2, 0, NULL);
    CU_ASSERT(out && strcmp(out, "\xEF\xBF\xBD" "a") == 0);
    free(out);
    t5g_tokenizer_free(tok);
}

/* ---- encode: invalid UTF-8 is rejected with its byte offset; NUL bytes are text ---- */

static void test_invalid_utf8(void) {
    t5g_tokenizer *tok = load_model("bpe");
    CU_ASSERT_FATAL(tok != NULL);
    static const struct { const char *s; size_t len, off; } cases[] = {
        {"abc\xff", 4, 3},                  /* never valid byte */
        {"caf\xe9 latin-1", 12, 3},         /* Latin-1 é */
        {"ok \xe6\x9d", 5, 3},              /* truncated 3-byte sequence at the end */
        {"\x80 lone continuation", 20, 0},
        {"x\xc0\xaf", 3, 1},                /* overlong '/' */
        {"\xed\xa0\x80 surrogate", 13, 0},  /* UTF-16 surrogate D800 */
        {"\xf4\x90\x80\x80", 4, 0},         /* above U+10FFFF */
        {"\xc3\xa9\xc3(", 5, 2},            /* é then a broken sequence */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t *ids = (int32_t *)1;
        size_t n = 0;
        t5g_clear_error();
        CU_ASSERT_EQUAL(t5g_tokenizer_encode(tok, cases[i].s, cases[i].len, 0, &ids, &n), -1);
        CU_ASSERT_PTR_EQUAL(ids, (int32_t *)1);  /* untouched on error */
        char want[64];
        snprintf(want, sizeof want, "not valid UTF-8 at byte offset %zu ", cases[i].off);
        if (!strstr(t5g_last_error(), want))
            fprintf(stderr, "case %zu: got '%s', want '%s'\n", i, t5g_last_error(), want);
        CU_ASSERT(strstr(t5g_last_error(), want) != NULL);
    }
    /* Embedded NUL and 4-byte characters are valid and round-trip with explicit lengths. */
    const char nul[] = "a\0b \xf0\x9f\x99\x82";
    int32_t *ids;
    size_t n, len;
    CU_ASSERT_FATAL(t5g_tokenizer_encode(tok, nul, sizeof nul - 1, 0, &ids, &n) == 0);
    CU_ASSERT_EQUAL(ids[1], 108);  /* <0x00> */
    char *out = t5g_tokenizer_decode(tok, ids, n, 0, &len);
    CU_ASSERT(out && len == sizeof nul - 1 && memcmp(out, nul, len) == 0);
    free(out);
    free(ids);
    t5g_tokenizer_free(tok);
}

/* ---- model loading errors ---- */

static void expect_load_error(t5g_tokenizer *tok, const char *what) {
    CU_ASSERT_PTR_NULL(tok);
    if (tok) t5g_tokenizer_free(tok);
    if (!strstr(t5g_last_error(), what)) fprintf(stderr, "got '%s'\n", t5g_last_error());
    CU_ASSERT(strstr(t5g_last_error(), what) != NULL);
}

static void test_bad_models(void) {
    expect_load_error(t5g_tokenizer_from_file("tests/fixtures/tokenizer/missing.model"),
                      "cannot load SentencePiece model from file "
                      "'tests/fixtures/tokenizer/missing.model'");
    expect_load_error(t5g_tokenizer_from_file(""), "path is empty");
    expect_load_error(t5g_tokenizer_from_file(NULL), "path is NULL");
    expect_load_error(t5g_tokenizer_from_bytes(NULL, 0), "bytes are empty");
    /* Not a model: text, random bytes, and the first half of a real model. */
    char path[1024];
    snprintf(path, sizeof path, "%s/tokenizer/test_corpus.txt", fixtures_dir());
    expect_load_error(t5g_tokenizer_from_file(path), "not a serialized SentencePiece model");
    expect_load_error(t5g_tokenizer_from_file("/dev/null"), "cannot load SentencePiece model from "
                      "file '/dev/null'");
    expect_load_error(t5g_tokenizer_from_file("tests"), "from file 'tests'");  /* a directory */
    unsigned char noise[4096];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 16);
    expect_load_error(t5g_tokenizer_from_bytes(noise, sizeof noise), "from 4096 bytes in memory");
    snprintf(path, sizeof path, "%s/tokenizer/bpe.model", fixtures_dir());
    size_t len = 0;
    char *bytes = t5g_read_file(path, &len);
    CU_ASSERT_FATAL(bytes != NULL);
    expect_load_error(t5g_tokenizer_from_bytes(bytes, len / 2), "not a serialized SentencePiece");
    free(bytes);
}

/* ---- concurrency and throughput ---- */

/* Encodes every line of the training corpus (6000 lines), serially and with OpenMP threads
 * sharing one tokenizer; the ids must agree.  Prints the serial throughput. */
static void check_threads_and_throughput(const char *kind) {
    t5g_tokenizer *tok = load_model(kind);
    CU_ASSERT_FATAL(tok != NULL);
    lines_t L;
    CU_ASSERT_FATAL(read_lines("train_corpus.txt", &L) == 0);
    size_t bytes = 0, tokens = 0;
    uint64_t *sums = calloc(L.n, sizeof *sums);
    struct timespec t0, t1;
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        bytes = tokens = 0;
        for (size_t i = 0; i < L.n; i++) {
            int32_t *ids;
            size_t n, len = strlen(L.line[i]);
            CU_ASSERT_FATAL(t5g_tokenizer_encode(tok, L.line[i], len, 0, &ids, &n) == 0);
            uint64_t h = n;
            for (size_t j = 0; j < n; j++) h = h * 1000003u + (uint64_t)ids[j];
            sums[i] = h;
            bytes += len;
            tokens += n;
            free(ids);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (s < best) best = s;
    }
    printf("\n    encode throughput (%s, %zu lines, best of 5): %.2f MB/s, %.0f tokens/s, "
           "%.1f us/line ",
           kind, L.n, (double)bytes / best / 1e6, (double)tokens / best, best / (double)L.n * 1e6);
    int mismatch = 0;
#pragma omp parallel for schedule(dynamic, 64) num_threads(4) reduction(+ : mismatch)
    for (size_t i = 0; i < L.n; i++) {
        int32_t *ids;
        size_t n;
        if (t5g_tokenizer_encode(tok, L.line[i], strlen(L.line[i]), 0, &ids, &n) != 0) {
            mismatch++;
            continue;
        }
        uint64_t h = n;
        for (size_t j = 0; j < n; j++) h = h * 1000003u + (uint64_t)ids[j];
        char *back = t5g_tokenizer_decode(tok, ids, n, 0, NULL);
        mismatch += h != sums[i] || !back || strcmp(back, L.line[i]) != 0;
        free(back);
        free(ids);
    }
    CU_ASSERT_EQUAL(mismatch, 0);
    free(sums);
    free_lines(&L);
    t5g_tokenizer_free(tok);
}
static void test_threads_and_throughput(void) {
    check_threads_and_throughput("bpe");
    check_threads_and_throughput("unigram");
}

static CU_TestInfo tests[] = {
    {"ids == spm_encode (bpe)", test_ids_bpe},
    {"ids == spm_encode (unigram)", test_ids_unigram},
    {"decode(encode(x)) == x (bpe)", test_roundtrip_bpe},
    {"decode(encode(x)) == x (unigram)", test_roundtrip_unigram},
    {"bos/eos flags", test_bos_eos_flags},
    {"special ids and pieces", test_specials_and_pieces},
    {"decode skips/keeps specials", test_decode_specials},
    {"decode rejects bad ids", test_decode_bad_ids},
    {"invalid UTF-8 rejected", test_invalid_utf8},
    {"bad model files", test_bad_models},
    {"threads + throughput", test_threads_and_throughput},
    CU_TEST_INFO_NULL,
};
static CU_SuiteInfo suites[] = {{"tokenizer", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
int main(void) { return t5g_test_main(suites); }
