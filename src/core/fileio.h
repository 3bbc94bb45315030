/* fileio.h - whole-file reads and crash-safe output files.
 * Output is written to "<path>.tmp.<pid>" and renamed into place by t5g_out_commit, so a
 * failed run never leaves a half-written file under the final name. */
#ifndef T5G_FILEIO_H
#define T5G_FILEIO_H
#include <stdio.h>
#include <stddef.h>

/* Read a whole file; returns a NUL-terminated malloc'd buffer (size in *len) or NULL. */
char *t5g_read_file(const char *path, size_t *len);

typedef struct {
    FILE *f;
    char path[4096];
    char tmp[4096 + 32];
    int direct; /* "-" (stdout) or a non-regular file such as /dev/null: no temp + rename */
} t5g_outfile;

int t5g_out_open(t5g_outfile *o, const char *path, const char *mode);
int t5g_out_commit(t5g_outfile *o); /* fflush + fsync + close + rename */
void t5g_out_abort(t5g_outfile *o); /* close + unlink the temp file (safe to call twice) */

/* Create a directory and its parents (like mkdir -p). */
int t5g_mkdirs(const char *path);

/* A file appended to line by line may end in a torn line after a kill mid-write: cut it back
 * to its last '\n' before appending again (a missing file is fine).  Returns the number of
 * bytes cut (0 when the file was whole), or -1 with the error recorded. */
long t5g_cut_torn_tail(const char *path);
/* Remove a regular file if it exists; 0, or -1 with the error recorded. */
int t5g_remove_if_exists(const char *path);

#endif
