/* fingerprint.h - what a resumable run's results depend on (model and tokenizer bytes, data,
 * every decoding setting, file format), recorded next to its outputs.  A rerun that resumes
 * into the same place must have the same fingerprint: otherwise finished outputs of one run
 * would be mixed with outputs of another under the new run's settings. */
#ifndef T5G_FINGERPRINT_H
#define T5G_FINGERPRINT_H
#include <cJSON.h>

/* Bump when the output files change meaning. */
#define T5G_RUN_FORMAT_VERSION 1

/* {"format_version": N, "kind": kind}; the caller adds the fields (strings or numbers). */
cJSON *t5g_fingerprint_new(const char *kind);
/* Add a float setting as its shortest round-trip text (0.6, not 0.60000002). */
void t5g_fingerprint_add_float(cJSON *fp, const char *key, float v);

/* Compare fp with the fingerprint stored at path.
 *   stored and equal: 0;
 *   stored and different: -1, error naming the first differing field, both values and
 *     fresh_hint (how to start fresh);
 *   not stored: outputs_exist ? -1 (cannot tell what made them) : 0. */
int t5g_fingerprint_check(const char *path, const cJSON *fp, int outputs_exist, const char *fresh_hint);
/* Write fp to path (temp file + rename). */
int t5g_fingerprint_write(const char *path, const cJSON *fp);
#endif
