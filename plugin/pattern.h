/* pattern.h: a derivative-free local search (compass / pattern search) in a box: each coordinate
 * moves by +-step times its width when that lowers the objective; the step halves when no move
 * helps, or after a few sweeps that kept moving (the search may creep by tiny gains), from 1/4
 * of the box down to 2^-24 of it. Used where gradients are too coarse: counterexamples in thin
 * slivers (attack.c) and maxima of |g - f| at the kinks of ReLU twins (quant.c). */
#ifndef TWINN_PATTERN_H
#define TWINN_PATTERN_H

#include <stddef.h>

#include "twinn.h"

/* The objective at x: *value (lower is better). Setting *stop ends the search at once (the
 * caller found what it looked for); a status other than TWINN_OK ends it with that status. */
typedef twinn_status (*twinn_pattern_fn)(void *ctx, const double *x, double *value, int *stop);

/* Minimises fn from x (n values inside [lo, hi]), whose value is *value. Afterwards x is the
 * best point found and *value its value, except after a stop by fn (*stopped = 1): then x is
 * the point fn stopped at and *value the best value before it. Also stops, normally, when
 * deadline > 0 and twinn_clock_now() passes it. q is scratch of n doubles. Returns fn's first
 * failing status (x and *value as after a stop), else TWINN_OK. */
twinn_status twinn_pattern_search(size_t n, const double *lo, const double *hi, double *x,
                                  double *value, double *q, twinn_pattern_fn fn, void *ctx,
                                  double deadline, int *stopped);

#endif
