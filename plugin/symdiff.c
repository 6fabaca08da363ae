/* symdiff.c: NeuroDiff-style symbolic bounds of d = g - f for an isomorphic pair on the SAME
 * input. Rows are linear forms  Ld . d_k + Lf . f_k + c  over point k (f_k: f's vector there).
 * Affine layer: d' = W_g d + (W_g - W_f) f + (b_g - b_f), f' = W_f f + b_f, exactly. ReLU: h_d =
 * relu(f + d) - relu(f) is bounded by the better (by its concrete range) of the generic form
 * from both networks' relaxations (relu(z_g) <= s_g z_g + t_g, >= a_g z_g; same for f) and of
 * forms in d alone (h_d has d's sign and |h_d| <= |d|: chords of max(d,0) and min(d,0)).
 * At the input d = 0, so only Lf is concretised. Rounding is covered as in symbolic.c: every
 * float product of rows adds gamma_k |L| |W| M to the row's error term (M: bounds of d_k or
 * f_k), fl(W_g - W_f) is off by at most u |.| (its error too), relaxation coefficients on d and
 * f are exact (slopes are multiples of 2^-52 in [0, 1]) and constants rounded outward. */
#include <math.h>
#include <string.h>

#include "interval.h"
#include "sym_int.h"
#include "symkern.h"

#define SYM_ETA 1e-290
#define SYM_ESLACK (1.0 + 1.0 / 1073741824.0)

static size_t width_at(const twinn_sym *s, size_t p) { return s->off[p + 1] - s->off[p]; }

static double maxabs(double l, double h) { return fmax(fabs(l), fabs(h)); }

/* Upward-rounded max of a*x over x in [l, h] (0 when a == 0, whatever the bounds). */
static double prod_max(double a, double l, double h) {
  if (a == 0.0) return 0.0;
  return twinn_round_up(a > 0.0 ? a * h : a * l);
}

static double prod_min(double a, double l, double h) {
  if (a == 0.0) return 0.0;
  return twinn_round_down(a > 0.0 ? a * l : a * h);
}

/* Max / min of  cd * d + cf * z + cc  over the box d in [ld, ud], z in [lf, uf]. */
static double lin2_max(const sym_lin2 *c, double ld, double ud, double lf, double uf) {
  return twinn_round_up(twinn_round_up(prod_max(c->cd, ld, ud) + prod_max(c->cf, lf, uf)) + c->cc);
}

static double lin2_min(const sym_lin2 *c, double ld, double ud, double lf, double uf) {
  return twinn_round_down(twinn_round_down(prod_min(c->cd, ld, ud) + prod_min(c->cf, lf, uf)) +
                          c->cc);
}

void twinn_symdiff_weights(twinn_sym *s, size_t k) {
  const twinn_layer *lf = &s->net[0]->layers[k], *lg = &s->net[1]->layers[k];
  size_t m = lf->n_out, n = lf->n_in, o = s->off[k];
  const double *dw = s->dw[k], *db = s->db[k];
  double gm = twinn_sym_gamma(m), g2 = twinn_sym_gamma(2 * m + 4);
  for (size_t j = 0; j < m; j++) {
    double ag = 0.0, ad = 0.0, af = 0.0;
    for (size_t i = 0; i < n; i++) {
      double md = maxabs(s->lo[2][o + i], s->hi[2][o + i]);
      double mf = maxabs(s->lo[0][o + i], s->hi[0][o + i]);
      ag += fabs(lg->w[j * n + i]) * md;
      ad += fabs(dw[j * n + i]) * mf;
      af += fabs(lf->w[j * n + i]) * mf;
    }
    s->ewd[k][j] = 2.0 * (gm * ag + g2 * (ad + fabs(db[j])));
    s->ewf[k][j] = 2.0 * g2 * (af + fabs(lf->b[j]));
  }
}

/* ReLU step of the pair back-substitution at ReLU input point p. */
static void backsub_relu(twinn_sym *s, size_t p, size_t r, const double *cd, const double *cf,
                         double *nd, double *nf) {
  size_t n = width_at(s, p), o = s->off[p];
  const double *rs = s->rs[0] + o, *rt = s->rt[0] + o, *ra = s->ra[0] + o;
  const double *lof = s->lo[0] + o, *hif = s->hi[0] + o;
  const double *lod = s->lo[2] + o, *hid = s->hi[2] + o;
  const sym_lin2 *dup = s->dup + o, *dlo = s->dlo + o;
  for (size_t i = 0; i < 2 * r; i++) {
    int up = i < r;
    const double *sd = cd + i * n, *sf = cf + i * n;
    double *td = nd + i * n, *tf = nf + i * n;
    double cacc = 0.0, cmag = 0.0, emag = 0.0;
    for (size_t j = 0; j < n; j++) {
      double ld = sd[j], lf = sf[j];
      double vd = 0.0, p1 = 0.0, p2 = 0.0;
      if (ld != 0.0) {
        const sym_lin2 *rel = (ld > 0.0) == up ? &dup[j] : &dlo[j];
        vd = ld * rel->cd;
        p1 = ld * rel->cf;
        if (rel->cc != 0.0) {
          double ct = ld * rel->cc;
          cacc += ct;
          cmag += fabs(ct);
        }
      }
      if (lf != 0.0) {
        int upper_relax = (lf > 0.0) == up;
        p2 = lf * (upper_relax ? rs[j] : ra[j]);
        if (upper_relax && rt[j] != 0.0) {
          double ct = lf * rt[j];
          cacc += ct;
          cmag += fabs(ct);
        }
      }
      td[j] = vd;
      tf[j] = p1 + p2;
      emag += fabs(vd) * maxabs(lod[j], hid[j]) + (fabs(p1) + fabs(p2)) * maxabs(lof[j], hif[j]);
    }
    s->er[i] +=
        2.0 * (twinn_sym_gamma(2) * emag + twinn_sym_gamma(2 * n + 2) * (fabs(s->cst[i]) + cmag));
    s->cst[i] += cacc;
  }
}

void twinn_symdiff_backsub(twinn_sym *s, size_t p, size_t r, double *lo, double *hi,
                           double *in_coef) {
  const twinn_net *f = s->net[0], *g = s->net[1];
  double *cd = s->ad[0], *cf = s->a[0], *nd = s->ad[1], *nf = s->a[1];
  for (size_t q = p; q > 0; q--) {
    size_t k = q - 1, n = width_at(s, k), m = width_at(s, q);
    if (f->layers[k].kind == TWINN_LAYER_AFFINE) {
      const double *ewd = s->ewd[k], *ewf = s->ewf[k];
      for (size_t i = 0; i < 2 * r; i++) {
        double acc = 0.0;
        for (size_t j = 0; j < m; j++)
          acc += fabs(cd[i * m + j]) * ewd[j] + fabs(cf[i * m + j]) * ewf[j];
        s->er[i] += 2.0 * (acc + twinn_sym_gamma(2 * m + 3) * fabs(s->cst[i]));
      }
      twinn_symk_gemv_f64(2 * r, m, cd, m, s->db[k], 1.0, s->cst);
      twinn_symk_gemv_f64(2 * r, m, cf, m, f->layers[k].b, 1.0, s->cst);
      twinn_symk_gemm_f64(2 * r, m, n, cd, m, g->layers[k].w, n, 0.0, nd, n);
      twinn_symk_gemm_f64(2 * r, m, n, cd, m, s->dw[k], n, 0.0, nf, n);
      twinn_symk_gemm_f64(2 * r, m, n, cf, m, f->layers[k].w, n, 1.0, nf, n);
    } else {
      backsub_relu(s, k, r, cd, cf, nd, nf);
    }
    double *t = cd;
    cd = nd;
    nd = t;
    t = cf;
    cf = nf;
    nf = t;
  }
  /* d = 0 at the input: the d-coefficients drop out exactly. */
  size_t n_in = f->n_in;
  for (size_t i = 0; i < r; i++) {
    hi[i] = twinn_sym_concretise(s, cf + i * n_in, s->cst[i], s->er[i], 1);
    lo[i] = twinn_sym_concretise(s, cf + (r + i) * n_in, s->cst[r + i], s->er[r + i], 0);
  }
  if (in_coef)
    for (size_t i = 0; i < n_in; i++) in_coef[i] = fabs(cf[i]) * (s->hi[0][i] - s->lo[0][i]);
}

void twinn_symdiff_affine(twinn_sym *s, size_t k) {
  const twinn_layer *lf = &s->net[0]->layers[k], *lg = &s->net[1]->layers[k];
  size_t m = lf->n_out, n = lf->n_in, o = s->off[k];
  const double *dw = s->dw[k], *db = s->db[k];
  double *lo = s->lo[2] + s->off[k + 1], *hi = s->hi[2] + s->off[k + 1];
  for (size_t j0 = 0; j0 < m; j0 += SYM_BLOCK) {
    size_t r = m - j0 < SYM_BLOCK ? m - j0 : SYM_BLOCK;
    for (size_t i = 0; i < r; i++) {
      size_t j = j0 + i;
      double inexact = fabs(db[j]);
      for (size_t c = 0; c < n; c++)
        inexact += fabs(dw[j * n + c]) * maxabs(s->lo[0][o + c], s->hi[0][o + c]);
      for (int h = 0; h < 2; h++) {
        size_t row = (size_t)h * r + i;
        memcpy(s->ad[0] + row * n, lg->w + j * n, n * sizeof(double));
        memcpy(s->a[0] + row * n, dw + j * n, n * sizeof(double));
        s->cst[row] = db[j];
        /* fl(W_g - W_f) and fl(b_g - b_f) are within u of the exact differences. */
        s->er[row] = 2.0 * twinn_sym_gamma(0) * inexact;
      }
    }
    twinn_symdiff_backsub(s, k, r, lo + j0, hi + j0, NULL);
  }
  /* One step of interval arithmetic on d' = W_g d + dW f + db, as in ReluDiff. */
  for (size_t j = 0; j < m; j++) {
    double vl = db[j], vh = db[j], mag = fabs(db[j]);
    for (size_t i = 0; i < n; i++) {
      double a = lg->w[j * n + i], b = dw[j * n + i];
      double ld = s->lo[2][o + i], ud = s->hi[2][o + i], l0 = s->lo[0][o + i], u0 = s->hi[0][o + i];
      double t1 = a > 0.0 ? a * ld : a * ud, t2 = a > 0.0 ? a * ud : a * ld;
      double t3 = b > 0.0 ? b * l0 : b * u0, t4 = b > 0.0 ? b * u0 : b * l0;
      vl += t1 + t3;
      vh += t2 + t4;
      mag += fmax(fabs(t1), fabs(t2)) + fmax(fabs(t3), fabs(t4));
    }
    double extra = (2.0 * twinn_sym_gamma(2 * n + 4) * mag + SYM_ETA) * SYM_ESLACK;
    lo[j] = fmax(lo[j], twinn_round_down(vl - extra));
    hi[j] = fmin(hi[j], twinn_round_up(vh + extra));
  }
}

void twinn_symdiff_relu(twinn_sym *s, size_t k) {
  size_t n = width_at(s, k), o = s->off[k], o1 = s->off[k + 1];
  for (size_t j = 0; j < n; j++) {
    size_t x = o + j;
    double lf = s->lo[0][x], uf = s->hi[0][x], lg = s->lo[1][x], ug = s->hi[1][x];
    double ld = s->lo[2][x], ud = s->hi[2][x];
    double sf = s->rs[0][x], tf = s->rt[0][x], af = s->ra[0][x];
    double sg = s->rs[1][x], tg = s->rt[1][x], ag = s->ra[1][x];
    /* Generic: relu(z_g) - relu(z_f) with z_g = z_f + d and both networks' relaxations. */
    sym_lin2 gu = {sg, sg - af, tg}, gl = {ag, ag - sf, -tf};
    /* In d alone. */
    sym_lin2 du, dl;
    if (ld >= 0.0) {
      du = (sym_lin2){1.0, 0.0, 0.0};
      dl = (sym_lin2){0.0, 0.0, 0.0};
    } else if (ud <= 0.0) {
      du = (sym_lin2){0.0, 0.0, 0.0};
      dl = (sym_lin2){1.0, 0.0, 0.0};
    } else {
      double s1, t1, s2, t2, a;
      twinn_sym_relu_relax(ld, ud, &s1, &t1, &a);
      /* min(d, 0) = -relu(-d) >= -(s2 (-d) + t2) = s2 d - t2. */
      twinn_sym_relu_relax(-ud, -ld, &s2, &t2, &a);
      du = (sym_lin2){s1, 0.0, t1};
      dl = (sym_lin2){s2, 0.0, -t2};
    }
    double ugen = lin2_max(&gu, ld, ud, lf, uf), udon = lin2_max(&du, ld, ud, lf, uf);
    double lgen = lin2_min(&gl, ld, ud, lf, uf), ldon = lin2_min(&dl, ld, ud, lf, uf);
    s->dup[x] = ugen <= udon ? gu : du;
    s->dlo[x] = lgen >= ldon ? gl : dl;
    double hl = twinn_round_down(fmax(lg, 0.0) - fmax(uf, 0.0));
    double hh = twinn_round_up(fmax(ug, 0.0) - fmax(lf, 0.0));
    s->lo[2][o1 + j] = fmax(fmax(lgen, ldon), hl);
    s->hi[2][o1 + j] = fmin(fmin(ugen, udon), hh);
  }
}
