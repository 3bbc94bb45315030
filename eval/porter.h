/* porter.h - the Porter stemmer exactly as NLTK's nltk/stem/porter.py in its default
 * NLTK_EXTENSIONS mode (irregular-forms pool, NLTK's step 1a/1b/1c/2 changes), which is
 * what Google's rouge-score 0.1.2 uses for use_stemmer=True.
 *
 * Input is an ASCII word; ASCII A-Z are lower-cased first (NLTK's to_lowercase=True).
 * Bytes >= 0x80 are treated as ordinary consonant letters: NLTK works on code points and
 * would differ for non-ASCII words, but rouge-score only ever stems [a-z0-9]+ tokens.
 * Note rouge-score stems only tokens longer than 3 characters; that rule lives in
 * rouge.c, porter_stem() itself stems any word (words of <= 2 letters stay unchanged). */
#ifndef T5G_PORTER_H
#define T5G_PORTER_H
#include <stddef.h>

/* Stem word[0..len) into out, which must hold len + 1 bytes (a stem is never longer
 * than its word).  Writes a NUL-terminated string and returns its length, or
 * (size_t)-1 if word or out is NULL. */
size_t porter_stem(const char *word, size_t len, char *out);

#endif
