/* fingerprint.c - see fingerprint.h */
#include "core/fingerprint.h"
#include "core/json.h"
#include "core/err.h"
#include "core/fileio.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

cJSON *t5g_fingerprint_new(const char *kind) {
    t5g_json_init(); /* the record's Add* calls are then checked by t5g_json_print */
    cJSON *fp = cJSON_CreateObject();
    T5G_CHECK_NULL(fp, "out of memory building the run record");
    cJSON_AddNumberToObject(fp, "format_version", T5G_RUN_FORMAT_VERSION);
    cJSON_AddStringToObject(fp, "kind", kind);
    return fp;
}

void t5g_fingerprint_add_float(cJSON *fp, const char *key, float v) {
    char buf[40];
    for (int prec = 1; prec <= 9; prec++) { /* shortest digits that read back as v (0.6, not 0.6000000238) */
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    cJSON_AddStringToObject(fp, key, buf);
}

static char *value_text(const cJSON *v) {
    if (!v) return strdup("(absent)");
    return cJSON_PrintUnformatted(v);
}

/* First field whose value differs between a and b (keys of either), or NULL. */
static const char *first_difference(const cJSON *a, const cJSON *b) {
    const cJSON *x;
    cJSON_ArrayForEach(x, a) {
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
        if (!y || !cJSON_Compare(x, y, 1)) return x->string;
    }
    cJSON_ArrayForEach(x, b) if (!cJSON_GetObjectItemCaseSensitive(a, x->string)) return x->string;
    return NULL;
}

int t5g_fingerprint_check(const char *path, const cJSON *fp, int outputs_exist, const char *fresh_hint) {
    /* a field that failed to go into fp would be compared as absent */
    T5G_CHECK(fp && !t5g_json_alloc_failed(), "out of memory building the run record");
    if (access(path, F_OK) != 0) {
        T5G_CHECK(!outputs_exist,
                  "outputs of an earlier run exist but %s (the record of its model, data and settings) does not: "
                  "cannot tell whether they belong to this run; %s",
                  path, fresh_hint);
        return 0;
    }
    char *text = t5g_read_file(path, NULL);
    if (!text) return -1;
    int oom;
    cJSON *old = t5g_json_parse(text, strlen(text), NULL, 0, &oom, path);
    free(text);
    if (oom) return -1;
    T5G_CHECK(cJSON_IsObject(old), "%s is not a run fingerprint (JSON object); %s", path, fresh_hint);
    const char *key = first_difference(fp, old);
    if (!key) {
        cJSON_Delete(old);
        return 0;
    }
    char *was = value_text(cJSON_GetObjectItemCaseSensitive(old, key));
    char *now = value_text(cJSON_GetObjectItemCaseSensitive(fp, key));
    T5G_FAIL("%s: this run's %s is %s but the outputs there were made with %s; %s", path, key, now ? now : "?",
             was ? was : "?", fresh_hint);
    free(was);
    free(now);
    cJSON_Delete(old);
    return -1;
}

int t5g_fingerprint_write(const char *path, const cJSON *fp) {
    char *text = t5g_json_print(fp, 1, "the run record");
    if (!text) return -1;
    t5g_outfile o;
    if (t5g_out_open(&o, path, "w")) {
        free(text);
        return -1;
    }
    int bad = fprintf(o.f, "%s\n", text) < 0;
    free(text);
    if (bad) {
        t5g_out_abort(&o);
        return T5G_FAIL("write error on %s", path);
    }
    return t5g_out_commit(&o);
}
