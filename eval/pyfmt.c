/* pyfmt.c - CPython float repr (see pyfmt.h). */
#include "pyfmt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void py_repr_double(double x, char *buf, size_t n, int json) {
    if (isnan(x)) { snprintf(buf, n, "%s", json ? "NaN" : "nan"); return; }
    if (isinf(x)) { snprintf(buf, n, "%s%s", x < 0 ? "-" : "", json ? "Infinity" : "inf"); return; }
    if (x == 0) { snprintf(buf, n, "%s", signbit(x) ? "-0.0" : "0.0"); return; }
    char e[64];
    int p;
    for (p = 1; p <= 17; p++) {  /* shortest %.{p-1}e that round-trips */
        snprintf(e, sizeof e, "%.*e", p - 1, x);
        if (strtod(e, NULL) == x) break;
    }
    /* e = [-]d[.ddd]e[+-]XX : collect digits and exponent */
    int neg = e[0] == '-';
    char digits[32];
    int nd = 0;
    const char *s = e + neg;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') digits[nd++] = *s;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = 0;
    int exp10 = atoi(s + 1);
    char out[64];
    int o = 0;
    if (neg) out[o++] = '-';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 < 0) {
            out[o++] = '0'; out[o++] = '.';
            for (int i = 0; i < -exp10 - 1; i++) out[o++] = '0';
            for (int i = 0; i < nd; i++) out[o++] = digits[i];
        } else {
            for (int i = 0; i <= exp10; i++) out[o++] = i < nd ? digits[i] : '0';
            out[o++] = '.';
            if (nd > exp10 + 1) for (int i = exp10 + 1; i < nd; i++) out[o++] = digits[i];
            else out[o++] = '0';
        }
        out[o] = 0;
    } else {
        out[o++] = digits[0];
        if (nd > 1) { out[o++] = '.'; for (int i = 1; i < nd; i++) out[o++] = digits[i]; }
        o += sprintf(out + o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    }
    snprintf(buf, n, "%s", out);
}
