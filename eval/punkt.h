/* punkt.h - nltk.sent_tokenize(text) (NLTK 3.10's PunktSentenceTokenizer with the English
 * punkt_tab parameters) in C, for rouge-score's --split_summaries.
 *
 * The parameters (abbreviations, collocations, frequent sentence starters, orthographic
 * contexts) are the English tables of NLTK's punkt_tab data package, shipped in
 * eval/punkt_english/ (Apache-2.0, see the LICENSE note there) and linked into the library.
 * Every step mirrors nltk/tokenize/punkt.py: the period-context regex, the word tokenizer
 * regex, the first and second annotation passes (collocation, orthographic and sentence
 * starter heuristics, initials and numbers) and the realignment of closing quotes and
 * brackets.  Character classes follow CPython 3.11's str (re \s, \w, \d, isupper, islower,
 * lower()).  Checked against nltk.sent_tokenize by tests/unit/test_punkt.c on the fixtures
 * of tests/reference/make_punkt_fixtures.py. */
#ifndef T5G_PUNKT_H
#define T5G_PUNKT_H
#include <stddef.h>

typedef struct {
    size_t start, end; /* byte offsets into the text: text[start:end] is one sentence */
} punkt_span;

/* Sentences of s[0..n) (valid UTF-8) in order, as nltk.sent_tokenize returns them (an empty
 * sentence can occur, as in NLTK).  *spans is malloc'ed (free it); 0 or -1 (error recorded). */
int punkt_sentences(const char *s, size_t n, punkt_span **spans, size_t *count);

#endif
