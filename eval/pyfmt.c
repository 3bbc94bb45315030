/* pyfmt.c - CPython float repr (see pyfmt.h). */
#include "pyfmt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Build "d.ddde<exp>" from a digit string and try whether it reads back as x. */
static int digits_roundtrip(const char *dig, int nd, int exp10, double x) {
    char s[48];
    int o = 0;
    s[o++] = dig[0];
    if (nd > 1) {
        s[o++] = '.';
        memcpy(s + o, dig + 1, (size_t)nd - 1);
        o += nd - 1;
    }
    snprintf(s + o, sizeof s - (size_t)o, "e%d", exp10);
    return strtod(s, NULL) == x;
}

/* Add delta (+1/-1) to the last of nd digits, carrying/borrowing; may change exp10/nd.
 * Returns 0 when the result leaves the p-digit range (e.g. 1.0 - 1 ulp of decimal). */
static int bump_digits(char *dig, int nd, int *exp10, int delta) {
    int i = nd - 1;
    if (delta > 0) {
        while (i >= 0 && dig[i] == '9') dig[i--] = '0';
        if (i < 0) {
            dig[0] = '1';
            for (int k = 1; k < nd; k++) dig[k] = '0';
            (*exp10)++;
            return 1;
        }
        dig[i]++;
    } else {
        while (i >= 0 && dig[i] == '0') dig[i--] = '9';
        if (i < 0) return 0;
        dig[i]--;
        if (dig[0] == '0') { /* 1000 -> 0999: one digit shorter, keep p digits with a 9 */
            if (nd == 1) return 0;
            memmove(dig, dig + 1, (size_t)nd - 1);
            dig[nd - 1] = '9';
            (*exp10)--;
        }
    }
    return 1;
}

/* Shortest digits that round-trip (Python's repr, David Gay mode 0).  The correctly
 * rounded p-digit string is tried first; at binade edges the rounding interval is
 * asymmetric, so its decimal neighbours are tried too (the nearest one may miss while
 * the other side fits). */
static void shortest_digits(double ax, char *dig, int *nd_out, int *exp_out) {
    char e[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, ax);
        int nd = 0;
        const char *s = e;
        for (; *s && *s != 'e'; s++)
            if (*s >= '0' && *s <= '9') dig[nd++] = *s;
        int exp10 = atoi(s + 1);
        if (strtod(e, NULL) == ax || p == 17) {
            *nd_out = nd;
            *exp_out = exp10;
            return;
        }
        for (int delta = -1; delta <= 1; delta += 2) {
            char d2[32];
            int e2 = exp10;
            memcpy(d2, dig, (size_t)nd);
            if (bump_digits(d2, nd, &e2, delta) && digits_roundtrip(d2, nd, e2, ax)) {
                memcpy(dig, d2, (size_t)nd);
                *nd_out = nd;
                *exp_out = e2;
                return;
            }
        }
    }
}

void py_repr_double(double x, char *buf, size_t n, int json) {
    if (!buf || n == 0) return;
    if (isnan(x)) {
        snprintf(buf, n, "%s", json ? "NaN" : "nan");
        return;
    }
    if (isinf(x)) {
        snprintf(buf, n, "%s%s", x < 0 ? "-" : "", json ? "Infinity" : "inf");
        return;
    }
    if (x == 0) {
        snprintf(buf, n, "%s", signbit(x) ? "-0.0" : "0.0");
        return;
    }
    char digits[32];
    int nd = 0, exp10 = 0;
    shortest_digits(fabs(x), digits, &nd, &exp10);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = 0;
    char out[64];
    int o = 0;
    if (x < 0) out[o++] = '-';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = 0; i < -exp10 - 1; i++) out[o++] = '0';
            for (int i = 0; i < nd; i++) out[o++] = digits[i];
        } else {
            for (int i = 0; i <= exp10; i++) out[o++] = i < nd ? digits[i] : '0';
            out[o++] = '.';
            if (nd > exp10 + 1)
                for (int i = exp10 + 1; i < nd; i++) out[o++] = digits[i];
            else out[o++] = '0';
        }
        out[o] = 0;
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (int i = 1; i < nd; i++) out[o++] = digits[i];
        }
        o += sprintf(out + o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    }
    snprintf(buf, n, "%s", out);
}

void py_format_fixed(double x, int prec, char *buf, size_t n) {
    if (!buf || n == 0) return;
    if (isnan(x)) {
        snprintf(buf, n, "nan");
        return;
    } /* glibc may print "-nan" */
    if (isinf(x)) {
        snprintf(buf, n, "%s", x < 0 ? "-inf" : "inf");
        return;
    }
    snprintf(buf, n, "%.*f", prec < 0 ? 0 : prec, x);
}
