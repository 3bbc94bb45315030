/* gnuplot.c - see gnuplot.h (moved out of report.c so the SQuAD plots share it). */
#include "gnuplot.h"
#include "core/err.h"
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A gnuplot double-quoted string (labels may hold any bytes of a folder name). */
void gp_quoted(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", f);
        else fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, f);
    }
    fputc('"', f);
}

/* A gnuplot single-quoted string (file names: no escapes, '' is a quote). */
void gp_single_quoted(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

void gp_terminal(FILE *f, int w, int h, const char *out) {
    fprintf(f,
            "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
            "  set terminal pngcairo size %d,%d font 'sans,10' noenhanced\n"
            "} else {\n  set terminal png size %d,%d noenhanced\n}\n",
            w, h, w, h);
    fputs("set output ", f);
    gp_single_quoted(f, out);
    fputc('\n', f);
}

/* First line of a log file, for an error message. */
static void first_line(const char *path, char *out, size_t cap) {
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(out, (int)cap, f)) out[strcspn(out, "\n")] = 0;
    fclose(f);
}

/* Run GNUPLOT on SCRIPT with stdout/stderr to LOG.  0, 1 (cannot start), -1 (it failed). */
static int run_gnuplot(const char *gnuplot, const char *script, const char *log) {
    posix_spawn_file_actions_t fa;
    int e = posix_spawn_file_actions_init(&fa);
    if (e) return T5G_FAIL("cannot start %s: %s", gnuplot, strerror(e));
    e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!e) e = posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!e) e = posix_spawn_file_actions_adddup2(&fa, 1, 2);
    char *argv[] = {(char *)gnuplot, (char *)script, NULL};
    pid_t pid;
    if (!e) e = posix_spawnp(&pid, gnuplot, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    /* out of memory is an error; any other failure to start means there is no such program */
    if (e == ENOMEM || e == EAGAIN) return T5G_FAIL("cannot start %s: %s", gnuplot, strerror(e));
    if (e != 0) return 1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return T5G_FAIL("waiting for %s: %s", gnuplot, strerror(errno));
    /* 127: exec failed in the child (some libcs report a missing program this way) */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return 1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    char msg[512];
    first_line(log, msg, sizeof msg);
    if (WIFEXITED(status))
        return T5G_FAIL("%s failed drawing the chart (exit status %d: %s)", gnuplot, WEXITSTATUS(status),
                        msg[0] ? msg : "no message");
    return T5G_FAIL("%s was killed by signal %d while drawing the chart", gnuplot,
                    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int gp_is_png(const char *path) {
    static const unsigned char SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char b[8];
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOMEM ? -1 : 0;
    int ok = fread(b, 1, 8, f) == 8 && !memcmp(b, SIG, 8);
    fclose(f);
    return ok;
}

/* Script + log in TMPDIR, gnuplot writes PNG.tmp.PID, renamed over PNG once it checks out. */
int gp_draw_png(const char *png, gp_script_fn fn, const void *ctx, const char *gnuplot) {
    if (!gnuplot || !*gnuplot) gnuplot = "gnuplot";
    const char *tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char script[4096], log[4096], tmp[4096 + 32];
    snprintf(script, sizeof script, "%s/t5g-gnuplot-%d.gp", tmpdir, (int)getpid());
    snprintf(log, sizeof log, "%s/t5g-gnuplot-%d.log", tmpdir, (int)getpid());
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", png, (int)getpid());
    FILE *f = fopen(script, "w");
    T5G_CHECK(f, "cannot write the gnuplot script %s: %s", script, strerror(errno));
    fn(f, tmp, ctx);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    int rc = bad ? T5G_FAIL("write error on %s", script) : run_gnuplot(gnuplot, script, log);
    int png_ok = rc == 0 ? gp_is_png(tmp) : 0;
    if (png_ok < 0) rc = T5G_FAIL("cannot read %s: %s", tmp, strerror(ENOMEM));
    else if (rc == 0 && !png_ok)
        rc = T5G_FAIL("%s wrote no PNG to %s (see its terminal list: gnuplot -e 'set terminal')", gnuplot, tmp);
    if (rc == 0 && rename(tmp, png) != 0) rc = T5G_FAIL("cannot rename %s to %s: %s", tmp, png, strerror(errno));
    unlink(script);
    unlink(log);
    if (rc != 0) unlink(tmp);
    return rc;
}
