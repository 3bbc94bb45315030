/* tasks.c - see tasks.h: the registry of tasks, the calls every task shares (argument and
 * "index" checks, the results object) and the helpers the task files use.  Each task's
 * prompt, sample check, scoring and lm-eval metrics are in its own file, eval/task_*.c;
 * their metric settings are documented in docs/evaluation.md. */
#include "tasks.h"
#include "pyfmt.h"
#include "core/err.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The registered tasks, in the order listings show them.  A new task: its file and one line
 * in each list. */
extern const task_info task_wmt14_en_fr, task_cnn_dailymail, task_squad_v2;
static const task_info *const TASKS[] = {&task_wmt14_en_fr, &task_cnn_dailymail, &task_squad_v2};

#define NTASKS ((int)(sizeof TASKS / sizeof TASKS[0]))

int task_count(void) {
    return NTASKS;
}

const task_info *task_at(int i) {
    return i >= 0 && i < NTASKS ? TASKS[i] : NULL;
}

void task_names(char *buf, size_t cap, const char *sep, const char *last) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < NTASKS; i++) {
        int w = snprintf(buf + k, cap - k, "%s%s", i == 0 ? "" : i + 1 < NTASKS ? sep : last, TASKS[i]->name);
        if (w < 0 || k + (size_t)w >= cap) break; /* truncated: buf holds what fitted */
        k += (size_t)w;
    }
}

const task_info *task_find(const char *name) {
    for (int i = 0; name && i < NTASKS; i++)
        if (!strcmp(TASKS[i]->name, name)) return TASKS[i];
    char names[1024];
    task_names(names, sizeof names, ", ", " or ");
    T5G_FAIL("unknown task '%s' (use %s)", name ? name : "", names);
    return NULL;
}

void task_opts_default(task_opts *o) {
    o->no_answer = SQUAD_NO_ANSWER;
}

char *task_prompt(const task_info *t, const cJSON *s) {
    return t->prompt(s);
}

int task_check_sample(const task_info *t, const cJSON *s) {
    T5G_CHECK(cJSON_IsObject(s), "a sample must be a JSON object");
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(s, "index");
    T5G_CHECK(cJSON_IsNumber(ix) && ix->valuedouble >= 0 && ix->valuedouble <= 2147483647.0 &&
                  ix->valuedouble == floor(ix->valuedouble),
              "sample lacks \"index\" (an integer >= 0)");
    return t->check_sample(s);
}

int task_score(const task_info *t, task_sample *s, int n, const task_opts *opt, cJSON **metrics, double *primary) {
    T5G_CHECK(t && s && opt && metrics && primary, "task_score: NULL argument");
    T5G_CHECK(n > 0, "no samples to score");
    cJSON *m = cJSON_CreateObject();
    if (t->score(s, n, opt, m, primary)) {
        cJSON_Delete(m);
        return -1;
    }
    *metrics = m;
    return 0;
}

/* ---- helpers ---- */
void task_add_float(cJSON *obj, const char *key, double v) {
    char buf[64];
    py_repr_double(v, buf, sizeof buf, 1); /* cJSON would print 15 digits: 75.9141146382502 */
    cJSON_AddRawToObject(obj, key, buf);
}

int task_is_no_answer(const char *pred, const char *no_answer) {
    size_t n = strlen(pred), k = strlen(no_answer);
    while (n && isspace((unsigned char)*pred)) {
        pred++;
        n--;
    }
    while (n && isspace((unsigned char)pred[n - 1])) n--;
    if (n == k + 1 && pred[k] == '.') n--;
    return n == k && !strncasecmp(pred, no_answer, k);
}

const char *task_field(const cJSON *s, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *task_concat(const char *a, const char *b, const char *c, const char *d) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
    char *s = t5g_malloc(n, "a prompt");
    if (s) snprintf(s, n, "%s%s%s%s", a, b, c, d);
    return s;
}

int task_string_array(const cJSON *a, int min) {
    const cJSON *e;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < min) return 0;
    cJSON_ArrayForEach(e, a) if (!cJSON_IsString(e)) return 0;
    return 1;
}

/* T5's rougeLsum preparation, for targets and predictions alike: one sentence per line */
char *task_t5_sentences(const char *s) {
    size_t n = strlen(s);
    char *o = malloc(n + 1), *p = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n + 1 && s[i] == ' ' && s[i + 1] == '.' && s[i + 2] == ' ') {
            memcpy(p, " .\n", 3);
            p += 3;
            i += 2;
        } else *p++ = s[i];
    }
    *p = 0;
    return o;
}
