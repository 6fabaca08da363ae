/* diff.c: forward difference intervals (ReluDiff, Paulsen et al. ICSE 2020) for g - f.
 * Affine: d' = W_g d + (W_g - W_f) z_f + (b_g - b_f), z_f f's own post-activation interval;
 * the rounded differences W_g - W_f, b_g - b_f are off by at most u relative, which twinn_iacc
 * accounts for (interval.c has the rounding argument). ReLU: both surely active -> d passes;
 * both surely inactive -> 0; else relu(z+d) - relu(z) lies between 0 and d (relu is monotone
 * and 1-Lipschitz). Sigmoid / tanh: the same with Lipschitz constants 1/4 and 1 (mean value
 * theorem). Every point is intersected with the difference of the two plain intervals.
 * Affine steps over finite boxes use twinn_interval_affine (one aggregate error term). */
#include "diff.h"

#include <float.h>
#include <math.h>

/* Intersects [*lo, *hi] with [g.lo - f.hi, g.hi - f.lo] (rounded outward). */
static void meet_plain(double *lo, double *hi, double flo, double fhi, double glo, double ghi) {
  double l = twinn_round_down(glo - fhi), h = twinn_round_up(ghi - flo);
  if (!isnan(l) && l > *lo) *lo = l;
  if (!isnan(h) && h < *hi) *hi = h;
}

static int all_finite(const double *l, const double *h, size_t n) {
  for (size_t j = 0; j < n; j++)
    if (!(fabs(l[j]) <= DBL_MAX && fabs(h[j]) <= DBL_MAX && l[j] <= h[j])) return 0;
  return 1;
}

static void affine_diff(const twinn_layer *Lf, const twinn_layer *Lg, const double *dl,
                        const double *dh, const double *zl, const double *zh, double *ol,
                        double *oh) {
  size_t i, j, n = Lf->n_in;
  if (Lf->w == Lg->w && Lf->b == Lg->b) { /* one model twice (equal-to) */
    for (j = 0; j < n && dl[j] == 0.0 && dh[j] == 0.0; j++) continue;
    if (j == n) { /* d = 0 stays exactly 0: W 0 + 0 z + 0, no rounding anywhere */
      for (i = 0; i < Lf->n_out; i++) ol[i] = oh[i] = 0.0;
      return;
    }
  }
  if (all_finite(dl, dh, n) && all_finite(zl, zh, n)) { /* the usual case: centre / radius */
    twinn_interval_affine(Lf->n_out, n, Lg->w, dl, dh, Lg->b, Lg->w, Lf->w, zl, zh, Lf->b, ol, oh);
    return;
  }
  for (i = 0; i < Lf->n_out; i++) {
    const double *wf = Lf->w + i * n, *wg = Lg->w + i * n;
    double db = Lg->b[i] - Lf->b[i];
    twinn_iacc acc;
    twinn_iacc_init(&acc, 0.0);
    twinn_iacc_add(&acc, db, 1.0, 1.0, 1);
    for (j = 0; j < n; j++) {
      twinn_iacc_add(&acc, wg[j], dl[j], dh[j], 0);
      twinn_iacc_add(&acc, wg[j] - wf[j], zl[j], zh[j], 1);
    }
    twinn_iacc_result(&acc, &ol[i], &oh[i]);
  }
}

/* d' through an activation; f*, g* are the pre-activation intervals, d* the incoming d. */
static void act_diff(twinn_layer_kind kind, double fl, double fh, double gl, double gh, double dl,
                     double dh, double *ol, double *oh) {
  double lip = kind == TWINN_LAYER_SIGMOID ? 0.25 : 1.0;
  if (kind == TWINN_LAYER_RELU && fl >= 0 && gl >= 0) {
    *ol = dl;
    *oh = dh;
    return;
  }
  if (kind == TWINN_LAYER_RELU && fh <= 0 && gh <= 0) {
    *ol = *oh = 0.0;
    return;
  }
  /* lip is a power of two, so lip * d is exact unless it underflows: one ulp outward. */
  *ol = dl < 0 ? twinn_round_down(lip * dl) : 0.0;
  *oh = dh > 0 ? twinn_round_up(lip * dh) : 0.0;
}

void twinn_diff_propagate(const twinn_net *f, const twinn_net *g, const twinn_ibounds *bf,
                          const twinn_ibounds *bg, twinn_ibounds *d) {
  size_t k, i;
  for (i = 0; i < f->n_in; i++) d->lo[i] = d->hi[i] = 0.0;
  for (k = 0; k < f->n_layers; k++) {
    const twinn_layer *Lf = &f->layers[k], *Lg = &g->layers[k];
    size_t a = bf->off[k], b = bf->off[k + 1];
    double *ol = d->lo + b, *oh = d->hi + b;
    if (Lf->kind == TWINN_LAYER_AFFINE) {
      affine_diff(Lf, Lg, d->lo + a, d->hi + a, bf->lo + a, bf->hi + a, ol, oh);
    } else {
      for (i = 0; i < Lf->n_out; i++)
        act_diff(Lf->kind, bf->lo[a + i], bf->hi[a + i], bg->lo[a + i], bg->hi[a + i], d->lo[a + i],
                 d->hi[a + i], &ol[i], &oh[i]);
    }
    for (i = 0; i < Lf->n_out; i++)
      meet_plain(&ol[i], &oh[i], bf->lo[b + i], bf->hi[b + i], bg->lo[b + i], bg->hi[b + i]);
  }
}
