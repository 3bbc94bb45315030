/* tokenizer.c - Gemma SentencePiece tokenizer: input checks, bos/eos, id range checks.
 * The SentencePiece calls themselves live in spm_shim.cc (C++). */
#include "text/tokenizer.h"

#include <stdlib.h>
#include <utf8proc.h>

#include "core/err.h"
#include "text/spm_shim.h"

struct t5g_tokenizer {
    t5g_spm *spm;
    int vocab, pad, eos, bos, unk;
};

static t5g_tokenizer *wrap(t5g_spm *spm) {
    if (!spm) return NULL;
    t5g_tokenizer *tok = t5g_calloc(1, sizeof *tok, "tokenizer");
    if (!tok) {
        t5g_spm_free(spm);
        return NULL;
    }
    tok->spm = spm;
    tok->vocab = t5g_spm_vocab_size(spm);
    t5g_spm_special_ids(spm, &tok->pad, &tok->eos, &tok->bos, &tok->unk);
    return tok;
}

t5g_tokenizer *t5g_tokenizer_from_file(const char *path) {
    T5G_CHECK_NULL(path, "tokenizer model path is NULL");
    return wrap(t5g_spm_load_file(path));
}

t5g_tokenizer *t5g_tokenizer_from_bytes(const void *data, size_t len) {
    return wrap(t5g_spm_load_bytes(data, len));
}

void t5g_tokenizer_free(t5g_tokenizer *tok) {
    if (!tok) return;
    t5g_spm_free(tok->spm);
    free(tok);
}

int t5g_tokenizer_vocab_size(const t5g_tokenizer *tok) {
    return tok ? tok->vocab : -1;
}
int t5g_tokenizer_pad_id(const t5g_tokenizer *tok) {
    return tok ? tok->pad : -1;
}
int t5g_tokenizer_eos_id(const t5g_tokenizer *tok) {
    return tok ? tok->eos : -1;
}
int t5g_tokenizer_bos_id(const t5g_tokenizer *tok) {
    return tok ? tok->bos : -1;
}
int t5g_tokenizer_unk_id(const t5g_tokenizer *tok) {
    return tok ? tok->unk : -1;
}

static int check_id(const t5g_tokenizer *tok, int32_t id) {
    T5G_CHECK(tok, "tokenizer is NULL");
    T5G_CHECK(id >= 0 && id < tok->vocab, "token id %d is out of range (vocabulary has %d ids)", (int)id, tok->vocab);
    return 0;
}

const char *t5g_tokenizer_piece(const t5g_tokenizer *tok, int32_t id) {
    if (check_id(tok, id) != 0) return NULL;
    return t5g_spm_id_to_piece(tok->spm, id);
}

int32_t t5g_tokenizer_piece_id(const t5g_tokenizer *tok, const char *piece) {
    T5G_CHECK(tok && piece, "tokenizer or piece is NULL");
    int id = t5g_spm_piece_to_id(tok->spm, piece);
    T5G_CHECK(id >= 0, "the tokenizer vocabulary has no piece '%s'", piece);
    return id;
}

int t5g_tokenizer_is_special(const t5g_tokenizer *tok, int32_t id) {
    if (check_id(tok, id) != 0) return -1;
    int type = t5g_spm_piece_type(tok->spm, id);
    return type == T5G_SPM_CONTROL || type == T5G_SPM_UNKNOWN;
}

/* Strict UTF-8 check (no overlongs, surrogates or code points above U+10FFFF, as utf8proc and
 * SentencePiece define it).  Returns the offset of the first bad byte, or len if all valid. */
static size_t utf8_bad_offset(const char *text, size_t len) {
    size_t i = 0;
    while (i < len) {
        if ((unsigned char)text[i] < 0x80) {  // ASCII fast path
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        size_t rest = len - i;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)rest, &cp);
        if (k <= 0) return i;
        i += (size_t)k;
    }
    return len;
}

int t5g_tokenizer_encode(const t5g_tokenizer *tok, const char *text, size_t len, int flags, int32_t **ids, size_t *n) {
    T5G_CHECK(tok && ids && n && (text || len == 0), "tokenizer encode: NULL argument");
    T5G_CHECK((flags & ~(T5G_TOK_ADD_BOS | T5G_TOK_ADD_EOS)) == 0, "tokenizer encode: unknown flags 0x%x",
              (unsigned)flags);
    const int bos = (flags & T5G_TOK_ADD_BOS) != 0, eos = (flags & T5G_TOK_ADD_EOS) != 0;
    T5G_CHECK(!bos || tok->bos >= 0, "cannot add <bos>: the tokenizer model defines no bos id");
    T5G_CHECK(!eos || tok->eos >= 0, "cannot add <eos>: the tokenizer model defines no eos id");
    size_t bad = utf8_bad_offset(text, len);
    T5G_CHECK(bad == len,
              "input text is not valid UTF-8 at byte offset %zu (byte 0x%02X); re-encode it as "
              "UTF-8 (e.g. iconv -f latin1 -t utf-8)",
              bad, (unsigned char)text[bad]);
    size_t k = 0;
    int32_t *v = t5g_spm_encode(tok->spm, text ? text : "", len, (size_t)bos, (size_t)eos, &k);
    if (!v) return -1;
    if (bos) v[0] = tok->bos;
    if (eos) v[bos + k] = tok->eos;
    *ids = v;
    *n = k + (size_t)bos + (size_t)eos;
    return 0;
}

char *t5g_tokenizer_decode(const t5g_tokenizer *tok, const int32_t *ids, size_t n, int flags, size_t *len) {
    T5G_CHECK_NULL(tok && (ids || n == 0), "tokenizer decode: NULL argument");
    T5G_CHECK_NULL((flags & ~T5G_TOK_KEEP_SPECIAL) == 0, "tokenizer decode: unknown flags 0x%x", (unsigned)flags);
    for (size_t i = 0; i < n; i++)
        T5G_CHECK_NULL(ids[i] >= 0 && ids[i] < tok->vocab,
                       "cannot decode token id %d at position %zu: valid ids are 0..%d", (int)ids[i], i,
                       tok->vocab - 1);
    size_t dummy;
    static const int32_t none[1] = {0};
    return t5g_spm_decode(tok->spm, n ? ids : none, n, !(flags & T5G_TOK_KEEP_SPECIAL), len ? len : &dummy);
}
