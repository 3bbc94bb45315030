/* json.c - cJSON allocation hooks and a parse that reports running out of memory (json.h). */
#include "core/json.h"
#include "core/err.h"
#include <pthread.h>
#include <stdlib.h>

static _Thread_local int alloc_failed;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void *json_malloc(size_t n) {
    void *p = malloc(n);
    if (!p) alloc_failed = 1;
    return p;
}

static void install_hooks(void) {
    cJSON_Hooks h = {json_malloc, free};
    cJSON_InitHooks(&h);
}

void t5g_json_init(void) {
    pthread_once(&hooks_once, install_hooks);
}

int t5g_json_alloc_failed(void) {
    t5g_json_init();
    int f = alloc_failed;
    alloc_failed = 0;
    return f;
}

cJSON *t5g_json_parse(const char *text, size_t len, const char **end, int whole, int *oom, const char *what) {
    t5g_json_init();
    int noted = alloc_failed; /* a note about a tree being built stays for its print */
    alloc_failed = 0;
    const char *stop = NULL;
    /* `whole` is checked here: cJSON's own check needs the NUL inside len */
    cJSON *root = text ? cJSON_ParseWithLengthOpts(text, len, &stop, 0) : NULL;
    *oom = !root && alloc_failed;
    alloc_failed = noted;
    if (*oom) T5G_FAIL("out of memory parsing %s", what ? what : "JSON");
    if (!root && !stop) stop = cJSON_GetErrorPtr();
    if (root && whole) {
        while (stop < text + len && (unsigned char)*stop <= 32) stop++; /* cJSON's white space */
        if (stop < text + len) {
            cJSON_Delete(root);
            root = NULL;
        }
    }
    if (end) *end = stop;
    return root;
}

char *t5g_json_print(const cJSON *tree, int formatted, const char *what) {
    t5g_json_init();
    char *text = NULL;
    if (tree && !alloc_failed) text = formatted ? cJSON_Print(tree) : cJSON_PrintUnformatted(tree);
    int failed = alloc_failed || (tree && !text);
    if (!failed && tree) return text;
    free(text);
    alloc_failed = failed; /* stays noted: a tree that was to hold this text is incomplete too */
    if (failed) T5G_FAIL("out of memory building %s", what ? what : "JSON");
    else T5G_FAIL("internal: no JSON tree for %s", what ? what : "JSON");
    return NULL;
}
