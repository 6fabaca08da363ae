/* pattern.c: compass search in a box (pattern.h). */
#include "pattern.h"

#include <math.h>
#include <string.h>

#include "clock.h"

#define PATTERN_SWEEPS 16 /* sweeps per step size */
#define PATTERN_MIN_STEP 0x1p-24

twinn_status twinn_pattern_search(size_t n, const double *lo, const double *hi, double *x,
                                  double *value, double *q, twinn_pattern_fn fn, void *ctx,
                                  double deadline, int *stopped) {
  double step = 0.25, v = *value;
  unsigned sweeps = 0;
  twinn_status st = TWINN_OK;
  *stopped = 0;
  memcpy(q, x, n * sizeof *q);
  while (step > PATTERN_MIN_STEP) {
    int moved = 0;
    if (deadline > 0 && twinn_clock_now() > deadline) break;
    for (size_t i = 0; i < n; i++)
      for (int sg = -1; sg <= 1; sg += 2) {
        double old = q[i], w;
        q[i] = fmin(hi[i], fmax(lo[i], old + sg * step * (hi[i] - lo[i])));
        if (q[i] == old) continue;
        if ((st = fn(ctx, q, &w, stopped)) != TWINN_OK || *stopped) goto done;
        if (w < v) {
          v = w;
          moved = 1;
        } else {
          q[i] = old;
        }
      }
    if (!moved || ++sweeps == PATTERN_SWEEPS) {
      step /= 2;
      sweeps = 0;
    }
  }
done:
  /* On a stop q is the point that stopped it; otherwise the best point. */
  memcpy(x, q, n * sizeof *x);
  *value = v;
  return st;
}
