/* fileio.c - see fileio.h */
#include "core/fileio.h"
#include "core/err.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *t5g_read_file(const char *path, size_t *len) {
    T5G_CHECK_NULL(path && *path, "no file name given");
    FILE *f = fopen(path, "rb");
    T5G_CHECK_NULL(f, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        T5G_FAIL("out of memory reading %s", path);
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                fclose(f);
                T5G_FAIL("out of memory reading %s", path);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        T5G_FAIL("read error on %s", path);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int t5g_out_open(t5g_outfile *o, const char *path, const char *mode) {
    T5G_CHECK(o && path && *path, "no output file name given");
    T5G_CHECK(strlen(path) < sizeof o->path, "output path too long: %s", path);
    memset(o, 0, sizeof *o);
    snprintf(o->path, sizeof o->path, "%s", path);
    struct stat st;
    if (!strcmp(path, "-") || (stat(path, &st) == 0 && !S_ISREG(st.st_mode))) {
        /* stdout, /dev/null, a pipe: write directly (renaming onto a device would replace it) */
        o->direct = 1;
        o->f = !strcmp(path, "-") ? stdout : fopen(path, mode ? mode : "wb");
        T5G_CHECK(o->f, "cannot write %s: %s", path, strerror(errno));
        return 0;
    }
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%d", path, (int)getpid());
    o->f = fopen(o->tmp, mode ? mode : "wb");
    int e = errno;
    /* the hint only where the folder is to blame (not ENOMEM: fopen's own allocation failed) */
    int folder = e == ENOENT || e == ENOTDIR || e == EACCES || e == EPERM || e == EROFS;
    T5G_CHECK(o->f, "cannot create %s: %s%s", o->tmp, strerror(e),
              folder ? " (does the folder exist and is it writable?)" : "");
    return 0;
}

int t5g_out_commit(t5g_outfile *o) {
    T5G_CHECK(o && o->f, "output file is not open");
    if (o->direct) {
        int bad = fflush(o->f) != 0 || ferror(o->f);
        if (o->f != stdout) bad |= fclose(o->f) != 0;
        o->f = NULL;
        return bad ? T5G_FAIL("write error on %s", o->path) : 0;
    }
    int bad = fflush(o->f) != 0 || ferror(o->f);
    if (!bad) fsync(fileno(o->f));
    bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (bad) {
        unlink(o->tmp);
        return T5G_FAIL("write error on %s (disk full?)", o->path);
    }
    if (rename(o->tmp, o->path) != 0) {
        int e = errno;
        unlink(o->tmp);
        return T5G_FAIL("cannot rename %s to %s: %s", o->tmp, o->path, strerror(e));
    }
    return 0;
}

void t5g_out_abort(t5g_outfile *o) {
    if (!o) return;
    if (o->direct) {
        if (o->f && o->f != stdout) fclose(o->f);
        o->f = NULL;
        return;
    }
    if (o->f) {
        fclose(o->f);
        o->f = NULL;
    }
    if (o->tmp[0]) unlink(o->tmp);
    o->tmp[0] = 0;
}

int t5g_mkdirs(const char *path) {
    char buf[4096];
    T5G_CHECK(path && strlen(path) < sizeof buf, "bad directory name");
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return T5G_FAIL("cannot create directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return T5G_FAIL("cannot create directory %s: %s", buf, strerror(errno));
    return 0;
}

long t5g_cut_torn_tail(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? 0 : T5G_FAIL("cannot open %s: %s", path, strerror(errno));
    long keep = 0, size = 0;
    char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < got; i++)
            if (buf[i] == '\n') keep = size + (long)i + 1;
        size += (long)got;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) return T5G_FAIL("read error on %s", path);
    if (keep == size) return 0;
    if (truncate(path, keep) != 0) return T5G_FAIL("cannot cut the torn last line of %s: %s", path, strerror(errno));
    return size - keep;
}

int t5g_remove_if_exists(const char *path) {
    if (unlink(path) == 0 || errno == ENOENT) return 0;
    return T5G_FAIL("cannot remove %s: %s", path, strerror(errno));
}
