/* pyfmt.h - print doubles as CPython does. */
#ifndef T5G_PYFMT_H
#define T5G_PYFMT_H
#include <stddef.h>
/* repr(x) / json.dumps(x): shortest round-tripping digits; fixed notation for decimal
 * exponent -4 <= e < 16 (always with a fractional digit, "40.0"), else "1e-05" style;
 * "inf", "-inf", "nan" as Python (json.dumps prints Infinity/NaN: use json=1). */
void py_repr_double(double x, char *buf, size_t n, int json);
/* f"{x:.{prec}f}" (correctly rounded like glibc; nan/inf spelled as Python: "nan", "inf", "-inf").
 * Needs n >= 312 + prec for the largest doubles. */
void py_format_fixed(double x, int prec, char *buf, size_t n);
#endif
