/* jsonl.c - see jsonl.h */
#include "io/jsonl.h"
#include "core/json.h"
#include "core/hash.h"
#include "core/err.h"
#include "core/fileio.h"
#include "text/tokenizer.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <unistd.h>

/* First invalid UTF-8 byte offset in s[0..n), or -1. */
static long bad_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        int k = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
        if (k < 0 || i + k >= n + (k == 0)) return (long)i;
        if (k && (c == 0xC0 || c == 0xC1 || c > 0xF4)) return (long)i;
        for (int j = 1; j <= k; j++)
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80) return (long)i;
        i += k + 1;
    }
    return -1;
}

/* A JSON string escape \u0000 in the line: cJSON would cut the text there. */
static int has_nul_escape(const char *p) {
    for (const char *q = strstr(p, "u0000"); q; q = strstr(q + 1, "u0000")) {
        int bs = 0;
        for (const char *b = q - 1; b >= p && *b == '\\'; b--) bs++;
        if (bs % 2 == 1) return 1;
    }
    return 0;
}

/* Parse one line; NULL with *why set when it is not exactly one JSON value. */
const char JSONL_OUT_OF_MEMORY[] = "out of memory";

cJSON *jsonl_parse_line(const char *p, size_t n, const char **why) {
    *why = NULL;
    if (bad_utf8((const unsigned char *)p, n) >= 0) {
        *why = "not valid UTF-8";
        return NULL;
    }
    const char *end = NULL;
    int oom;
    cJSON *it = t5g_json_parse(p, strlen(p), &end, 0, &oom, "an input line");
    if (!it) {
        *why = oom ? JSONL_OUT_OF_MEMORY : "not valid JSON";
        return NULL;
    }
    while (end && (*end == ' ' || *end == '\t' || *end == '\r')) end++;
    if (end && *end) {
        cJSON_Delete(it);
        *why = "not valid JSON (characters after the value)";
        return NULL;
    }
    if (has_nul_escape(p)) {
        cJSON_Delete(it);
        *why = "a string holds \\u0000 (NUL), which text cannot carry";
        return NULL;
    }
    return it;
}

static int grow_doc(jsonl_doc *d, size_t *cap) {
    if ((size_t)d->n < *cap) return 0;
    *cap *= 2;
    cJSON **ni = realloc(d->items, sizeof(cJSON *) * *cap);
    if (ni) d->items = ni;
    int *nl = realloc(d->lineno, sizeof(int) * *cap);
    if (nl) d->lineno = nl;
    const char **nw = realloc(d->why, sizeof(char *) * *cap);
    if (nw) d->why = nw;
    return ni && nl && nw ? 0 : T5G_FAIL("out of memory reading %s", d->path);
}

int jsonl_read(const char *path, jsonl_doc *d) {
    memset(d, 0, sizeof *d);
    d->path = path;
    size_t len;
    char *buf = t5g_read_file(path, &len);
    if (!buf) return -1;
    size_t cap = 1024;
    d->items = malloc(sizeof(cJSON *) * cap);
    d->lineno = malloc(sizeof(int) * cap);
    d->why = malloc(sizeof(char *) * cap);
    if (!d->items || !d->lineno || !d->why) {
        free(buf);
        jsonl_free(d);
        return T5G_FAIL("out of memory reading %s", path);
    }
    char *p = buf;
    for (int line = 1; p < buf + len; line++) {
        char *e = memchr(p, '\n', (size_t)(buf + len - p));
        if (!e) e = buf + len;
        *e = 0;
        char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (*q) {
            if (grow_doc(d, &cap)) {
                free(buf);
                jsonl_free(d);
                return -1;
            }
            d->items[d->n] = jsonl_parse_line(p, (size_t)(e - p), &d->why[d->n]);
            d->lineno[d->n++] = line;
            if (d->why[d->n - 1] == JSONL_OUT_OF_MEMORY) {
                free(buf);
                jsonl_free(d);
                return -1;
            }
        }
        p = e + 1;
    }
    free(buf);
    return 0;
}

const char *jsonl_why(const jsonl_doc *d, int i) {
    return d->why && d->why[i] ? d->why[i] : "not valid JSON";
}

void jsonl_free(jsonl_doc *d) {
    for (int i = 0; i < d->n; i++) cJSON_Delete(d->items[i]);
    free(d->items);
    free(d->lineno);
    free(d->why);
    memset(d, 0, sizeof *d);
}

/* 1 when the item's "id" is a string or an integer that JSON readers all print the same way */
static int valid_id(const cJSON *id) {
    if (cJSON_IsString(id)) return 1;
    return cJSON_IsNumber(id) && isfinite(id->valuedouble) && id->valuedouble == floor(id->valuedouble) &&
           fabs(id->valuedouble) <= 9007199254740992.0;
}

char *jsonl_id(const cJSON *item) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
    T5G_CHECK_NULL(cJSON_IsString(id) || cJSON_IsNumber(id), "line has no \"id\" (string or integer)");
    T5G_CHECK_NULL(valid_id(id), "\"id\" must be a string or an integer (up to 2^53), not %g", id->valuedouble);
    char *s = cJSON_PrintUnformatted(id);
    T5G_CHECK_NULL(s, "out of memory reading an id");
    return s;
}

char *jsonl_result_id(const cJSON *item, const char *path, long long line) {
    char *s = jsonl_id(item);
    if (s || valid_id(cJSON_GetObjectItemCaseSensitive(item, "id"))) return s; /* NULL here: out of memory */
    T5G_FAIL("%s:%lld: result line without a valid id; start fresh (delete it)", path, line);
    return NULL;
}

int jsonl_encode_text(const char *path, long long line, const char *key, const char *text, const t5g_tokenizer *tok,
                      int flags, int vocab, int32_t **ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    int rc = 0;
    if (!tok)
        rc = T5G_FAIL("%s:%lld: \"%s\" input needs a tokenizer (the checkpoint has none; pass --tokenizer)", path, line,
                      key);
    else if (!*text) rc = T5G_FAIL("%s:%lld: empty \"%s\"", path, line, key);
    else if (t5g_tokenizer_encode(tok, text, strlen(text), flags, ids, n)) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", t5g_last_error());
        rc = T5G_FAIL("%s:%lld: %s", path, line, msg);
    }
    for (size_t j = 0; !rc && j < *n; j++)
        if ((*ids)[j] < 0 || (*ids)[j] >= vocab)
            rc = T5G_FAIL(
                "%s:%lld: token id %d is outside the model's vocabulary (%d): tokenizer and model do not match", path,
                line, (*ids)[j], vocab);
    if (rc) {
        free(*ids);
        *ids = NULL;
    }
    return rc;
}

int jsonl_request_item(const char *path, long long line, const cJSON *it, const char *why, const t5g_tokenizer *tok,
                       int flags, int vocab, char **id_json, int32_t **ids, size_t *n) {
    *id_json = NULL;
    *ids = NULL;
    *n = 0;
    T5G_CHECK(it, "%s:%lld: %s", path, line, why ? why : "not valid JSON");
    T5G_CHECK(cJSON_IsObject(it), "%s:%lld: a line must be a JSON object", path, line);
    char *idj = jsonl_id(it);
    if (!idj) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", t5g_last_error());
        return T5G_FAIL("%s:%lld: %s", path, line, msg);
    }
    /* "prompt"; "text" is its older name (docs/generation.md: output keys) */
    const char *key = cJSON_HasObjectItem(it, "prompt") ? "prompt" : "text";
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(it, key),
                *arr = cJSON_GetObjectItemCaseSensitive(it, "input_ids");
    int rc = 0;
    if (cJSON_IsString(text)) {
        rc = jsonl_encode_text(path, line, key, text->valuestring, tok, flags, vocab, ids, n);
    } else if (cJSON_IsArray(arr)) {
        int k = cJSON_GetArraySize(arr),
            j = 0; /* GetArraySize walks the list once; GetArrayItem per id would be quadratic */
        const cJSON *e;
        if (k == 0) rc = T5G_FAIL("%s:%lld: empty \"input_ids\"", path, line);
        else if (k > JSONL_MAX_INPUT_IDS)
            rc = T5G_FAIL("%s:%lld: \"input_ids\" has %d ids, more than the limit of %d per request", path, line, k,
                          JSONL_MAX_INPUT_IDS);
        else if (!(*ids = malloc(sizeof(int32_t) * k))) rc = T5G_FAIL("out of memory");
        cJSON_ArrayForEach(e, arr) {
            if (rc) break;
            double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
            if (!(v >= 0 && v < vocab && v == floor(v))) /* also false for NaN and 1e999 (inf) */
                rc = T5G_FAIL("%s:%lld: input_ids[%d] is not a token id in [0, %d)", path, line, j, vocab);
            else (*ids)[j++] = (int32_t)v;
        }
        *n = (size_t)k;
    } else {
        rc = T5G_FAIL("%s:%lld: a line needs \"prompt\" (string) or \"input_ids\" (list)", path, line);
    }
    if (rc) {
        free(idj);
        free(*ids);
        *ids = NULL;
        return -1;
    }
    *id_json = idj;
    return 0;
}

int jsonl_request(const jsonl_doc *d, int i, const t5g_tokenizer *tok, int flags, int vocab, char **id_json,
                  int32_t **ids, size_t *n) {
    return jsonl_request_item(d->path, d->lineno[i], d->items[i], jsonl_why(d, i), tok, flags, vocab, id_json, ids, n);
}

/* ---- string set (open addressing) ---- */
static uint64_t hs(const char *s) {
    return t5g_fnv1a64_str(s);
}

int str_set_add(str_set *s, const char *key) {
    if (s->n * 2 >= s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        char **ns = calloc(nc, sizeof(char *));
        if (!ns) return T5G_FAIL("out of memory");
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i]) {
                size_t j = hs(s->slot[i]) & (nc - 1);
                while (ns[j]) j = (j + 1) & (nc - 1);
                ns[j] = s->slot[i];
            }
        free(s->slot);
        s->slot = ns;
        s->cap = nc;
    }
    size_t j = hs(key) & (s->cap - 1);
    while (s->slot[j]) {
        if (!strcmp(s->slot[j], key)) return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = strdup(key);
    if (!s->slot[j]) return T5G_FAIL("out of memory");
    s->n++;
    return 1;
}

int str_set_has(const str_set *s, const char *key) {
    if (!s->cap) return 0;
    size_t j = hs(key) & (s->cap - 1);
    while (s->slot[j]) {
        if (!strcmp(s->slot[j], key)) return 1;
        j = (j + 1) & (s->cap - 1);
    }
    return 0;
}

void str_set_free(str_set *s) {
    for (size_t i = 0; i < s->cap; i++) free(s->slot[i]);
    free(s->slot);
    memset(s, 0, sizeof *s);
}

/* ---- duplicate ids ---- */
static int by_ref(const void *a, const void *b) {
    const jsonl_id_ref *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c) return c;
    if (x->file != y->file) return x->file - y->file;
    return x->line - y->line;
}

int jsonl_check_unique(jsonl_id_ref *v, size_t n, const char *const *files) {
    if (n < 2) return 0;
    qsort(v, n, sizeof *v, by_ref);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(v[i - 1].id, v[i].id))
            return T5G_FAIL("%s:%d: id %s already used at %s:%d (ids must be unique)", files[v[i].file], v[i].line,
                            v[i].id, files[v[i - 1].file], v[i - 1].line);
    return 0;
}

int jsonl_doc_unique_ids(const jsonl_doc *d) {
    jsonl_id_ref *v = calloc((size_t)d->n + 1, sizeof *v);
    T5G_CHECK(v, "out of memory checking ids of %s", d->path);
    size_t k = 0;
    for (int i = 0; i < d->n; i++) {
        const cJSON *id = cJSON_IsObject(d->items[i]) ? cJSON_GetObjectItemCaseSensitive(d->items[i], "id") : NULL;
        if (!id || !(cJSON_IsString(id) || cJSON_IsNumber(id))) continue; /* reported by the line's own check */
        v[k].id = cJSON_PrintUnformatted(id);
        v[k].line = d->lineno[i];
        if (!v[k].id) { /* a skipped id could hide a duplicate */
            for (size_t j = 0; j < k; j++) free(v[j].id);
            free(v);
            return T5G_FAIL("out of memory checking ids of %s", d->path);
        }
        k++;
    }
    const char *files[1] = {d->path};
    t5g_clear_error();
    int rc = jsonl_check_unique(v, k, files);
    for (size_t i = 0; i < k; i++) free(v[i].id);
    free(v);
    return rc;
}

/* ---- resume and merge ---- */
static int part_number(const char *name, const char *base) {
    size_t n = strlen(base);
    if (strncmp(name, base, n) || strncmp(name + n, ".part", 5)) return -1;
    const char *d = name + n + 5;
    if (!*d || strlen(d) > 6) return -1;
    for (const char *q = d; *q; q++)
        if (*q < '0' || *q > '9') return -1;
    return atoi(d);
}

int jsonl_part_paths(const char *out, char ***paths, int *n) {
    *paths = NULL;
    *n = 0;
    const char *slash = strrchr(out, '/');
    char dir[4200];
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - out), out);
    else snprintf(dir, sizeof dir, ".");
    if (!dir[0]) snprintf(dir, sizeof dir, "/");
    const char *base = slash ? slash + 1 : out;
    DIR *dp = opendir(dir);
    /* no folder: no parts (the write reports it); any other failure (ENOMEM, EMFILE) must not
     * read as "no parts", or the merge would write an output without their results */
    if (!dp && (errno == ENOENT || errno == ENOTDIR)) return 0;
    T5G_CHECK(dp, "cannot list the folder %s: %s", dir, strerror(errno));
    int maxk = -1;
    struct dirent *e;
    while ((e = readdir(dp))) {
        int k = part_number(e->d_name, base);
        if (k > maxk) maxk = k;
    }
    closedir(dp);
    char **v = calloc((size_t)maxk + 2, sizeof(char *));
    T5G_CHECK(v, "out of memory");
    int cnt = 0;
    for (int k = 0; k <= maxk; k++) { /* in part order, whatever the directory order */
        char p[4200];
        snprintf(p, sizeof p, "%s.part%d", out, k);
        if (access(p, F_OK) != 0) continue;
        v[cnt] = strdup(p);
        if (!v[cnt]) {
            jsonl_free_paths(v, cnt);
            return T5G_FAIL("out of memory listing the parts of %s", out);
        }
        cnt++;
    }
    *paths = v;
    *n = cnt;
    return 0;
}

void jsonl_free_paths(char **paths, int n) {
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
}

static int collect_file(const char *path, str_set *done) {
    if (access(path, F_OK) != 0) return 0;
    jsonl_doc d;
    T5G_TRY(jsonl_read(path, &d));
    int rc = 0;
    for (int i = 0; i < d.n && rc >= 0; i++) {
        /* a torn tail was cut before this read: a bad line now means the file was damaged */
        if (!d.items[i]) {
            rc = T5G_FAIL("%s:%d: %s: results file damaged; start fresh (delete it)", path, d.lineno[i],
                          jsonl_why(&d, i));
            break;
        }
        char *id = jsonl_result_id(d.items[i], path, d.lineno[i]);
        if (!id) {
            rc = -1;
            break;
        }
        rc = str_set_add(done, id);
        free(id);
    }
    jsonl_free(&d);
    return rc < 0 ? -1 : 0;
}

int jsonl_collect_ids(const char *out, int with_parts, str_set *done) {
    T5G_TRY(collect_file(out, done));
    if (!with_parts) return 0;
    char **parts;
    int np, rc = 0;
    T5G_TRY(jsonl_part_paths(out, &parts, &np));
    for (int k = 0; k < np && !rc; k++) rc = collect_file(parts[k], done);
    jsonl_free_paths(parts, np);
    return rc;
}
