/* json.h - cJSON parsing that tells a failed allocation from bad text.
 *
 * cJSON_Parse returns NULL for both: a reader that then says "invalid JSON" blames a good file,
 * and a JSONL reader under --on-error skip would drop a good line.  The library routes cJSON's
 * allocations through a hook that notes a failure (per thread), so a caller can tell which it
 * was and say "out of memory" instead. */
#ifndef T5G_JSON_H
#define T5G_JSON_H
#include <cJSON.h>
#include <stddef.h>

/* Installs the allocation hooks (once, thread-safe); every function here calls it, and so should a
 * program before its first cJSON call (t5g's main does), so that no failure goes unnoted. */
void t5g_json_init(void);

/* Parses text[0 .. len) (len = strlen(text) for a C string); `whole`: nothing but white space may
 * follow the value.  Returns the tree, or NULL with *oom = 1 when memory ran out (the error is
 * recorded: "out of memory parsing WHAT") or *oom = 0 when the text is not JSON (*end, when
 * given, then points where it went wrong; no error is recorded: the caller names the file). */
cJSON *t5g_json_parse(const char *text, size_t len, const char **end, int whole, int *oom, const char *what);

/* The tree as text (cJSON_Print, or cJSON_PrintUnformatted when !formatted), or NULL with "out of
 * memory" recorded when printing failed or when a cJSON allocation of this thread failed since
 * the last check (a Create* / Add* that failed leaves its item out: the tree would be printed
 * without it).  A failure stays noted, so a tree built around the missing text fails too. */
char *t5g_json_print(const cJSON *tree, int formatted, const char *what);

/* 1 when a cJSON allocation of this thread failed since the last call (cJSON_Print, Create*,
 * Add*: they return NULL or false, or leave the item out); clears the note. */
int t5g_json_alloc_failed(void);

#endif
