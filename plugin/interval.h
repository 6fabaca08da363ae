/* interval.h: sound interval bounds of every neuron of a network over an input box, and the
 * outward-rounded accumulator that every bound computation of the engine sums with.
 * Bounds are of the real-valued function the (double) weights define; float rounding of the
 * computation itself is covered by explicit error terms (see interval.c). */
#ifndef TWINN_INTERVAL_H
#define TWINN_INTERVAL_H

#include <float.h>
#include <math.h>

#include "net.h"

/* Bounds of the vector at every point of a chain: point k is the value after layer k (point 0
 * is the input), so a ReLU layer k has pre-activation bounds at point k and post-activation
 * bounds at point k+1. lo/hi of point k start at off[k]. */
typedef struct {
  size_t n_points; /* n_layers + 1 */
  size_t *off;     /* n_points + 1 offsets, owned */
  double *lo, *hi; /* off[n_points] entries each, owned */
} twinn_ibounds;

/* Allocates bounds storage shaped for net. Release with twinn_ibounds_release. */
twinn_status twinn_ibounds_init(twinn_ibounds *b, const twinn_net *net);
void twinn_ibounds_release(twinn_ibounds *b);

/* Interval propagation from the box [in_lo, in_hi] (net->n_in entries) through all layers.
 * Never produces NaN: an undefined bound becomes -inf / +inf. */
void twinn_interval_propagate(const twinn_net *net, const double *in_lo, const double *in_hi,
                              twinn_ibounds *b);

/* Enclosure [lo, hi] (n_out entries) of  W1 x1 + b1 + (W2 - W3) x2 - b2  over x1 in [l1, h1],
 * x2 in [l2, h2] (n_in entries each, finite, l <= h), with W2 - W3 and b1 - b2 evaluated in
 * float (the enclosure is of the exact differences). W* are n_out x n_in row-major; w2, w3, l2, h2
 * NULL for no second part, b2 NULL for none. lo / hi must not alias the inputs. Centre / radius
 * form with one aggregate error term (see interval.c). */
void twinn_interval_affine(size_t n_out, size_t n_in, const double *w1, const double *l1,
                           const double *h1, const double *b1, const double *w2, const double *w3,
                           const double *l2, const double *h2, const double *b2, double *lo,
                           double *hi);

/* Outward-rounded sum  c + sum_t w_t * [lo_t, hi_t]. Add terms, then read the enclosure. */
typedef struct {
  double s_lo, s_hi; /* float sums of the lower / upper end terms */
  double a_lo, a_hi; /* float sums of the absolute values of those terms (error budget) */
  size_t n;          /* terms added so far */
} twinn_iacc;

void twinn_iacc_init(twinn_iacc *acc, double c);
/* Adds w * [lo, hi] (lo <= hi, infinities allowed). If w_inexact, w is only known to within a
 * relative error of one unit roundoff (it was computed as a rounded difference) and the
 * enclosure accounts for that too. */
void twinn_iacc_add(twinn_iacc *acc, double w, double lo, double hi, int w_inexact);
/* Adds the interval [lo, hi] itself (coefficient 1). */
void twinn_iacc_add_interval(twinn_iacc *acc, double lo, double hi);
/* An enclosure [*lo, *hi] of the exact real sum. NaN-free: undefined ends become infinite. */
void twinn_iacc_result(const twinn_iacc *acc, double *lo, double *hi);

/* Rounds down / up by at least one ulp (for results of a single rounded operation), without
 * a branch for finite x: d = |x| 2^-52 + DBL_MIN is at least ulp(x) (and exact or rounded up,
 * never below either addend), x - ulp(x) is representable, and rounding is monotone, so
 * fl(x - d) <= x - ulp(x), below every real that rounds to x. Infinities and NaN take the libm
 * path (inf - inf would be NaN). Inline: the symbolic analyses call these in their per-neuron
 * loops (a call each was 5 % of an ACAS Xu pair's profile). */
static inline double twinn_round_down(double x) {
  if (!(fabs(x) <= DBL_MAX)) return nextafter(x, -INFINITY);
  return x - (fabs(x) * DBL_EPSILON + DBL_MIN);
}

static inline double twinn_round_up(double x) {
  if (!(fabs(x) <= DBL_MAX)) return nextafter(x, INFINITY);
  return x + (fabs(x) * DBL_EPSILON + DBL_MIN);
}

/* fmax / fmin inline: libm's are calls (GCC expands them only when NaN semantics are given
 * up), and the analyses' per-neuron loops intersect bounds with them (2.9 % of an ACAS Xu
 * pair's profile). The same results: a NaN operand gives the other one (both NaN: NaN); which
 * zero max(-0, +0) gives is unspecified in C for fmax too. */
static inline double twinn_fmax(double a, double b) { return a > b || isnan(b) ? a : b; }
static inline double twinn_fmin(double a, double b) { return a < b || isnan(b) ? a : b; }

/* 1 if halving [lo, hi] at lo + (hi - lo) / 2 gives two smaller intervals (not the interval
 * itself and a point, as where the midpoint rounds to an end). */
static inline int twinn_halvable(double lo, double hi) {
  double mid = lo + (hi - lo) / 2;
  return mid > lo && mid < hi;
}

#endif
