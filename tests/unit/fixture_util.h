/* fixture_util.h - reading the committed reference dumps (tests/fixtures/<kind>/<case>/) and
 * comparing with them; shared by the model tests. */
#ifndef T5G_FIXTURE_UTIL_H
#define T5G_FIXTURE_UTIL_H
#include "core/fileio.h"
#include <cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* root[key] as a [B, L] int32 matrix (NULL if the key is missing); caller frees. */
static inline int32_t *fixture_matrix(const cJSON *root, const char *key, int *B, int *L) {
    *B = 0;
    *L = 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!a) return NULL;
    *B = cJSON_GetArraySize(a);
    *L = cJSON_GetArraySize(cJSON_GetArrayItem(a, 0));
    int32_t *v = malloc(sizeof(int32_t) * (size_t)(*B > 0 ? *B : 1) * (size_t)(*L > 0 ? *L : 1));
    if (!v) return NULL;
    for (int i = 0; i < *B; i++) {
        const cJSON *row = cJSON_GetArrayItem(a, i);
        for (int j = 0; j < *L; j++) v[i * *L + j] = cJSON_GetArrayItem(row, j)->valueint;
    }
    return v;
}

/* dir/name parsed as JSON (NULL if unreadable). */
static inline cJSON *fixture_json(const char *dir, const char *name) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *text = t5g_read_file(p, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

/* dir/name as exactly n float32 values (NULL if missing or of another size). */
static inline float *fixture_f32(const char *dir, const char *name, size_t n) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    size_t len = 0;
    char *b = t5g_read_file(p, &len);
    if (b && len != n * sizeof(float)) {
        free(b);
        b = NULL;
    }
    return (float *)b;
}

/* max |a-b| over the rows whose mask is 1 (mask NULL: all rows); a NaN anywhere gives INFINITY. */
static inline double fixture_maxdiff(const float *a, const float *b, int rows, int width, const int32_t *mask) {
    double m = 0;
    for (int r = 0; r < rows; r++) {
        if (mask && !mask[r]) continue;
        for (int i = 0; i < width; i++) {
            double d = fabs((double)a[(size_t)r * width + i] - b[(size_t)r * width + i]);
            if (d != d) return INFINITY;
            if (d > m) m = d;
        }
    }
    return m;
}
#endif
