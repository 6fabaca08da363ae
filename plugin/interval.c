/* interval.c: interval bound propagation with outward rounding by explicit error terms.
 * Soundness argument (u = 2^-53, no fesetround, so it is thread-safe): a float sum of n
 * products plus a constant differs from the exact sum by at most gamma_{n+1} * sum |terms|
 * (Higham, Thm 3.1; gamma_k = k u / (1 - k u)). twinn_iacc keeps the float sums s of the lower /
 * upper end terms and the float sums a of their absolute values; a under-estimates the exact
 * magnitude sum by at most a factor (1 - gamma_k), and coefficients known only to relative u
 * add u |w| max|x| to the error, which is also summed into a. With K = 2n + 2 terms counted,
 * gamma_K / (1 - gamma_K) <= 2 K u covers all of it; fl(2Ku * a) loses at most a factor (1-u),
 * which the slack in K absorbs; (n+2) DBL_MIN covers underflowed products; each final
 * subtraction / addition is rounded once more outward by one ulp. An infinite magnitude sum
 * (overflow or infinite input) gives an infinite bound. Activations are exact (ReLU) or use a
 * relative margin of 1e-13 far above libm's error (sigmoid, tanh). */
#include "interval.h"

#include <float.h>
#include <math.h>

twinn_status twinn_ibounds_init(twinn_ibounds *b, const twinn_net *net) {
  size_t k, total = 0;
  b->n_points = net->n_layers + 1;
  b->lo = b->hi = NULL;
  b->off = twinn_mallocarray(b->n_points + 1, sizeof *b->off);
  if (!b->off) goto fail;
  for (k = 0; k < b->n_points; k++) {
    b->off[k] = total;
    total += twinn_net_width_at(net, k);
  }
  b->off[b->n_points] = total;
  b->lo = twinn_mallocarray(total ? total : 1, sizeof *b->lo);
  b->hi = twinn_mallocarray(total ? total : 1, sizeof *b->hi);
  if (!b->lo || !b->hi) goto fail;
  return TWINN_OK;
fail:
  twinn_ibounds_release(b);
  return TWINN_ERR_NOMEM;
}

void twinn_ibounds_release(twinn_ibounds *b) {
  twinn_free(b->off);
  twinn_free(b->lo);
  twinn_free(b->hi);
  b->off = NULL;
  b->lo = b->hi = NULL;
  b->n_points = 0;
}

double twinn_round_down(double x) { return nextafter(x, -INFINITY); }
double twinn_round_up(double x) { return nextafter(x, INFINITY); }

void twinn_iacc_init(twinn_iacc *acc, double c) {
  acc->s_lo = acc->s_hi = c;
  acc->a_lo = acc->a_hi = fabs(c);
  acc->n = 1;
}

void twinn_iacc_add(twinn_iacc *acc, double w, double lo, double hi, int w_inexact) {
  double tlo, thi;
  if (w == 0.0) return; /* 0 * inf would be NaN; the exact term is 0 */
  if (w > 0) {
    tlo = w * lo;
    thi = w * hi;
  } else {
    tlo = w * hi;
    thi = w * lo;
  }
  acc->s_lo += tlo;
  acc->s_hi += thi;
  acc->a_lo += fabs(tlo);
  acc->a_hi += fabs(thi);
  acc->n++;
  if (w_inexact) {
    double e = fabs(w) * fmax(fabs(lo), fabs(hi));
    acc->a_lo += e;
    acc->a_hi += e;
    acc->n++;
  }
}

void twinn_iacc_add_interval(twinn_iacc *acc, double lo, double hi) {
  acc->s_lo += lo;
  acc->s_hi += hi;
  acc->a_lo += fabs(lo);
  acc->a_hi += fabs(hi);
  acc->n++;
}

/* The rigorous error bound of a sum with magnitude budget a over n counted terms. */
static double sum_error(double a, size_t n) {
  double k = 2.0 * (double)n + 2.0;
  double e = (k * DBL_EPSILON) * a; /* DBL_EPSILON = 2u, so this is 2 K u a; k*eps is exact */
  return twinn_round_up(e + ((double)n + 2.0) * DBL_MIN);
}

void twinn_iacc_result(const twinn_iacc *acc, double *lo, double *hi) {
  double l = -INFINITY, h = INFINITY;
  if (isfinite(acc->a_lo) && isfinite(acc->s_lo))
    l = twinn_round_down(acc->s_lo - sum_error(acc->a_lo, acc->n));
  if (isfinite(acc->a_hi) && isfinite(acc->s_hi))
    h = twinn_round_up(acc->s_hi + sum_error(acc->a_hi, acc->n));
  *lo = isnan(l) ? -INFINITY : l;
  *hi = isnan(h) ? INFINITY : h;
}

static void act_bounds(twinn_layer_kind kind, double lo, double hi, double *olo, double *ohi) {
  const double m = 1e-13;
  switch (kind) {
  case TWINN_LAYER_RELU:
    *olo = lo > 0 ? lo : 0.0;
    *ohi = hi > 0 ? hi : 0.0;
    return;
  case TWINN_LAYER_SIGMOID: {
    double a = 1.0 / (1.0 + exp(-lo)), b = 1.0 / (1.0 + exp(-hi));
    a = a * (1.0 - m) - DBL_MIN;
    b = b * (1.0 + m) + DBL_MIN;
    *olo = isnan(a) || a < 0 ? 0.0 : a;
    *ohi = isnan(b) || b > 1 ? 1.0 : b;
    return;
  }
  case TWINN_LAYER_TANH: {
    double a = tanh(lo), b = tanh(hi);
    a = a - m * fabs(a) - DBL_MIN;
    b = b + m * fabs(b) + DBL_MIN;
    *olo = isnan(a) || a < -1 ? -1.0 : a;
    *ohi = isnan(b) || b > 1 ? 1.0 : b;
    return;
  }
  case TWINN_LAYER_AFFINE: break;
  }
  *olo = -INFINITY;
  *ohi = INFINITY;
}

void twinn_interval_propagate(const twinn_net *net, const double *in_lo, const double *in_hi,
                              twinn_ibounds *b) {
  size_t k, i, j;
  for (i = 0; i < net->n_in; i++) {
    b->lo[i] = isnan(in_lo[i]) ? -INFINITY : in_lo[i];
    b->hi[i] = isnan(in_hi[i]) ? INFINITY : in_hi[i];
  }
  for (k = 0; k < net->n_layers; k++) {
    const twinn_layer *L = &net->layers[k];
    const double *xl = b->lo + b->off[k], *xh = b->hi + b->off[k];
    double *yl = b->lo + b->off[k + 1], *yh = b->hi + b->off[k + 1];
    if (L->kind == TWINN_LAYER_AFFINE) {
      for (i = 0; i < L->n_out; i++) {
        twinn_iacc acc;
        const double *w = L->w + i * L->n_in;
        twinn_iacc_init(&acc, L->b[i]);
        for (j = 0; j < L->n_in; j++) twinn_iacc_add(&acc, w[j], xl[j], xh[j], 0);
        twinn_iacc_result(&acc, &yl[i], &yh[i]);
      }
    } else {
      for (i = 0; i < L->n_out; i++) act_bounds(L->kind, xl[i], xh[i], &yl[i], &yh[i]);
    }
  }
}
