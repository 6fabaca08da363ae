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
 * relative margin of 1e-13 far above libm's error (sigmoid, tanh).
 * Affine layers over a finite box use the centre / radius form instead (twinn_interval_affine,
 * same enclosure in exact arithmetic, no per-term branches): see the comment there. */
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

void twinn_iacc_init(twinn_iacc *acc, double c) {
  acc->s_lo = acc->s_hi = c;
  acc->a_lo = acc->a_hi = fabs(c);
  acc->n = 1;
}

void twinn_iacc_add(twinn_iacc *acc, double w, double lo, double hi, int w_inexact) {
  double tlo, thi;
  /* 0 * inf would be NaN; the exact term is 0. So is w times [0, 0] (for any real w near a
   * rounded one, even one whose rounded sum overflowed): no rounding, no underflow, nothing
   * counted. A NaN w still poisons the sum. */
  if (w == 0.0 || (lo == 0.0 && hi == 0.0 && !isnan(w))) return;
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
    double e = fabs(w) * twinn_fmax(fabs(lo), fabs(hi));
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
  if (acc->n == 1 && isfinite(acc->s_lo)) { /* the constant alone: no operation, exact */
    *lo = acc->s_lo;
    *hi = acc->s_hi;
    return;
  }
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

/* Chunk of input columns whose centres / radii are kept on the stack. */
#define IV_CHUNK 128

/* Centre c and inflated radius v of each [l, h] (finite): see twinn_interval_affine. */
static void centre_radius(const double *l, const double *h, size_t n, double kap, double *c,
                          double *v) {
  for (size_t j = 0; j < n; j++) {
    double m = 0.5 * l[j] + 0.5 * h[j];
    double r1 = h[j] - m, r2 = m - l[j];
    double r = r1 > r2 ? r1 : r2; /* not fmax: a libm call here */
    double y = r + fabs(m);
    c[j] = m;
    /* y == 0 means l == h == 0: no error at all, and v = 0 keeps the products exact zeros
     * (a DBL_MIN there would make them subnormal, which is very slow on x86). */
    v[j] = y > 0.0 ? r + (kap * y + DBL_MIN) : 0.0;
  }
}

/* sum a_j x_j and sum |a_j| v_j (optionally with a_j = p_j - q_j) in four interleaved partial
 * sums, branch-free so that the compiler can vectorise them. Any summation order is covered. */
static void dot2(const double *a, const double *x, const double *v, size_t n, double *s,
                 double *t) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += a[j] * x[j], s1 += a[j + 1] * x[j + 1], s2 += a[j + 2] * x[j + 2];
    s3 += a[j + 3] * x[j + 3];
    t0 += fabs(a[j]) * v[j], t1 += fabs(a[j + 1]) * v[j + 1], t2 += fabs(a[j + 2]) * v[j + 2];
    t3 += fabs(a[j + 3]) * v[j + 3];
  }
  for (; j < n; j++) s0 += a[j] * x[j], t0 += fabs(a[j]) * v[j];
  *s += (s0 + s1) + (s2 + s3);
  *t += (t0 + t1) + (t2 + t3);
}

static void dot2_diff(const double *p, const double *q, const double *x, const double *v, size_t n,
                      double *s, double *t) {
  double s0 = 0, s1 = 0, t0 = 0, t1 = 0;
  size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    double a0 = p[j] - q[j], a1 = p[j + 1] - q[j + 1];
    s0 += a0 * x[j], s1 += a1 * x[j + 1];
    t0 += fabs(a0) * v[j], t1 += fabs(a1) * v[j + 1];
  }
  for (; j < n; j++) {
    double a0 = p[j] - q[j];
    s0 += a0 * x[j], t0 += fabs(a0) * v[j];
  }
  *s += s0 + s1;
  *t += t0 + t1;
}

static int box_finite(const double *l, const double *h, size_t n) {
  size_t j;
  for (j = 0; j < n; j++)
    if (!(fabs(l[j]) <= DBL_MAX && fabs(h[j]) <= DBL_MAX && l[j] <= h[j])) return 0;
  return 1;
}

/* Centre / radius form. With m the number of terms (products and constant), kap = (m + 4) 2^-52
 * = (2m + 8) u. Input x_j lies in [c_j - r*_j, c_j + r*_j], r*_j = max(h - c, c - l) exactly,
 * and r_j = fl(r*_j) >= r*_j / (1 + 2u) (a subtraction that underflows is exact). The exact
 * row is within Y +- R, Y = b + sum a c, R = sum |a| r* <= (1 + 2u) sum |a| r; fl(Y) is within
 * gamma_m (|b| + sum |a| |c|) of Y; a coefficient a = fl(p - q) is within 2u |a| of p - q,
 * adding 2u |a| (|c| + r*). All of that is below  T = kap |b| + sum |a| (r + kap (r + |c|)),
 * as gamma_m + 2u <= kap. v_j is that inflated radius, computed with four roundings (the
 * DBL_MIN addend covers their underflow; an input that is exactly 0 needs none); the float T loses
 * at most a factor 1 - gamma_{m+1} more; rad = T (1 + 2 kap) + (m + 2) DBL_MIN covers these
 * factors, its own two roundings and underflowed products, and each end takes a final one-ulp
 * outward step. */
void twinn_interval_affine(size_t n_out, size_t n_in, const double *w1, const double *l1,
                           const double *h1, const double *b1, const double *w2, const double *w3,
                           const double *l2, const double *h2, const double *b2, double *lo,
                           double *hi) {
  double c1[IV_CHUNK], v1[IV_CHUNK], c2[IV_CHUNK], v2[IV_CHUNK];
  size_t i, j0, m = n_in * (w2 ? 2 : 1) + 1;
  double kap = ((double)m + 4.0) * DBL_EPSILON, eta = ((double)m + 2.0) * DBL_MIN;
  for (i = 0; i < n_out; i++) { /* lo accumulates Y, hi accumulates T */
    double b = b2 ? b1[i] - b2[i] : b1[i];
    lo[i] = b;
    hi[i] = kap * fabs(b);
  }
  for (j0 = 0; j0 < n_in; j0 += IV_CHUNK) {
    size_t nj = n_in - j0 < IV_CHUNK ? n_in - j0 : IV_CHUNK;
    centre_radius(l1 + j0, h1 + j0, nj, kap, c1, v1);
    if (w2) centre_radius(l2 + j0, h2 + j0, nj, kap, c2, v2);
    for (i = 0; i < n_out; i++) {
      dot2(w1 + i * n_in + j0, c1, v1, nj, &lo[i], &hi[i]);
      if (w2) dot2_diff(w2 + i * n_in + j0, w3 + i * n_in + j0, c2, v2, nj, &lo[i], &hi[i]);
    }
  }
  for (i = 0; i < n_out; i++) {
    double rad = (hi[i] + hi[i] * (2.0 * kap)) + eta;
    double l = twinn_round_down(lo[i] - rad), h = twinn_round_up(lo[i] + rad);
    lo[i] = isnan(l) ? -INFINITY : l;
    hi[i] = isnan(h) ? INFINITY : h;
  }
}

/* Per-term accumulation: the path for boxes with infinite (or inverted) ends. */
static void affine_terms(const twinn_layer *L, const double *xl, const double *xh, double *yl,
                         double *yh) {
  size_t i, j;
  for (i = 0; i < L->n_out; i++) {
    twinn_iacc acc;
    const double *w = L->w + i * L->n_in;
    twinn_iacc_init(&acc, L->b[i]);
    for (j = 0; j < L->n_in; j++) twinn_iacc_add(&acc, w[j], xl[j], xh[j], 0);
    twinn_iacc_result(&acc, &yl[i], &yh[i]);
  }
}

void twinn_interval_propagate(const twinn_net *net, const double *in_lo, const double *in_hi,
                              twinn_ibounds *b) {
  size_t k, i;
  for (i = 0; i < net->n_in; i++) {
    b->lo[i] = isnan(in_lo[i]) ? -INFINITY : in_lo[i];
    b->hi[i] = isnan(in_hi[i]) ? INFINITY : in_hi[i];
  }
  for (k = 0; k < net->n_layers; k++) {
    const twinn_layer *L = &net->layers[k];
    const double *xl = b->lo + b->off[k], *xh = b->hi + b->off[k];
    double *yl = b->lo + b->off[k + 1], *yh = b->hi + b->off[k + 1];
    if (L->kind != TWINN_LAYER_AFFINE) {
      for (i = 0; i < L->n_out; i++) act_bounds(L->kind, xl[i], xh[i], &yl[i], &yh[i]);
    } else if (box_finite(xl, xh, L->n_in)) {
      twinn_interval_affine(L->n_out, L->n_in, L->w, xl, xh, L->b, NULL, NULL, NULL, NULL, NULL, yl,
                            yh);
    } else {
      affine_terms(L, xl, xh, yl, yh);
    }
  }
}
