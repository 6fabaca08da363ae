/* symdiff.c: NeuroDiff-style symbolic bounds of d = g - f for an isomorphic pair on the SAME
 * input. Rows are linear forms  Ld . d_k + Lf . f_k + c  over point k (f_k: f's vector there).
 * Affine layer: d' = W_g d + (W_g - W_f) f + (b_g - b_f), f' = W_f f + b_f, exactly. ReLU: h_d =
 * relu(f + d) - relu(f) is bounded by the better (by its concrete range) of the generic form
 * from both networks' relaxations (relu(z_g) <= s_g z_g + t_g, >= a_g z_g; same for f) and of
 * forms in d alone (h_d has d's sign and |h_d| <= |d|: chords of max(d,0) and min(d,0)).
 * At the input d = 0, so only Lf is concretised. Rounding is covered as in symbolic.c: every
 * float product of rows adds gamma_k |L| |W| M to the row's error term (M: bounds of d_k or
 * f_k), fl(W_g - W_f) is off by at most u |.| (its error too), relaxation coefficients on d and
 * f are exact (slopes are multiples of 2^-52 in [0, 1]) and constants rounded outward.
 * Rows of neurons inactive in both networks (by the bounds already computed for the layer, or
 * dead on a box containing this one: twinn_sym_set_dead) are not back-substituted: h_d = 0
 * there whatever d is, so the interval step's bound suffices. */
#include <math.h>
#include <string.h>

#include "interval.h"
#include "sym_int.h"
#include "symkern.h"

#define SYM_ETA 1e-290
#define SYM_ESLACK (1.0 + 1.0 / 1073741824.0)
/* Neurons active in both networks skip the back-substitution of d while the interval of d is
 * at most this fraction of f's width (twinn_symdiff_affine). */
#define SYM_SKIP_D 0.05

static size_t width_at(const twinn_sym *s, size_t p) { return s->off[p + 1] - s->off[p]; }

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

/* Outward-rounded a - b, exactly 0 when a == b (then the float difference is exact; rounding
 * it outward would make +-DBL_MIN, whose products are subnormal and slow). */
static double exact_diff_down(double a, double b) { return a == b ? 0.0 : twinn_round_down(a - b); }

static double exact_diff_up(double a, double b) { return a == b ? 0.0 : twinn_round_up(a - b); }

void twinn_symdiff_weights(twinn_sym *s, size_t k) {
  const twinn_layer *lf = &s->net[0]->layers[k];
  size_t m = lf->n_out;
  const double *db = s->db[k];
  double gm = twinn_sym_gamma(m), g2 = twinn_sym_gamma(2 * m + 4);
  /* am[3] = |W_g| M_d, am[2] = |dW| M_f, am[0] = |W_f| M_f (twinn_sym_abs_products). Layer 0
   * (d = 0 at its input) takes nf = cd dW + cf W_f: gm |cd| |W_g| M_d for nd (not read there)
   * and g2 (|cd| |dW| + |cf| |W_f|) M_f for nf. Deeper layers take nf = nd + fl(cf - cd) W_f
   * (twinn_symdiff_backsub), whose error is within g2 (|cd| (|W_g| + |W_f|) + |cf| |W_f|) M_f,
   * with |W_g| M_f <= am[0] + (1 + u) am[2]. */
  for (size_t j = 0; j < m; j++) {
    double pd = k == 0 ? s->am[2][j] : 2.0 * (s->am[0][j] + s->am[2][j]);
    double pf = k == 0 ? s->am[0][j] : 2.0 * s->am[0][j];
    s->ewd[k][j] = 2.0 * (gm * s->am[3][j] + g2 * (pd + fabs(db[j])));
    s->ewf[k][j] = 2.0 * g2 * (pf + fabs(lf->b[j]));
  }
}

/* One row of a pair ReLU step (see backsub_relu): the d-coefficients lam_d and f-coefficients
 * lam_f become td (d part) and tf (f part, from h's relaxation and from f's own ReLU), cv gets
 * each neuron's constant and av its error weight |lam_d| wd + |lam_f| wf. pc* / nc* are the
 * relaxation taken by positive / negative d-coefficients, sp / sn by f-coefficients; kp is 1
 * for an upper row, else 0. A function of its own with restrict pointers so that the compiler
 * vectorises it without run-time alias checks (all arrays are distinct). */
static inline __attribute__((always_inline)) void
pair_pass(size_t n, double kp, const double *restrict lam_d, const double *restrict lam_f,
          const double *restrict pcd, const double *restrict pcf, const double *restrict pcc,
          const double *restrict ncd, const double *restrict ncf, const double *restrict ncc,
          const double *restrict sp, const double *restrict sn, const double *restrict rt,
          const double *restrict wd, const double *restrict wf, double *restrict td,
          double *restrict tf, double *restrict cv, double *restrict av) {
  double kn = 1.0 - kp;
  for (size_t j = 0; j < n; j++) {
    double pd = 0.5 * (lam_d[j] + fabs(lam_d[j])), qd = lam_d[j] - pd;
    double pf = 0.5 * (lam_f[j] + fabs(lam_f[j])), qf = lam_f[j] - pf;
    td[j] = pd * pcd[j] + qd * ncd[j];
    tf[j] = (pd * pcf[j] + qd * ncf[j]) + (pf * sp[j] + qf * sn[j]);
    cv[j] = (pd * pcc[j] + qd * ncc[j]) + (kp * pf + kn * qf) * rt[j];
    av[j] = fabs(lam_d[j]) * wd[j] + fabs(lam_f[j]) * wf[j];
  }
}

/* ReLU step of the pair back-substitution at ReLU input point p: rows (cd, cf) at point p + 1
 * become (nd, nf) at point p, on the pair's live neurons only when `packed`. Same exact sign
 * split and vectorisable layout as symbolic.c's backsub_relu. Rounding: each product of a
 * coefficient with a slope is off by u of itself, td and tf sum at most two nonzero products
 * (one of pos / neg is 0), so the row's values move by at most gamma_2 (|td| M_d + |tf| M_f)
 * summed over the neurons, with |td| <= |lam_d| max(|pcd|, |ncd|) and likewise for tf; the
 * constants are 2n terms summed in any order, within gamma_{2n+2} of the sum of their
 * magnitudes, each at most |lam_d| max(|pcc|, |ncc|) + |lam_f| |rt|. Both bounds are linear in
 * |lam|: wd and wf (computed once per step) hold their weights, so one product per
 * coefficient gives the row's error (the factor 2 covers the rounding of that computation). */
SYM_HOT static void backsub_relu(twinn_sym *s, size_t p, size_t r, const double *cd,
                                 const double *cf, double *nd, double *nf, int packed,
                                 int packed_in, double *rec) {
  size_t n = width_at(s, p), o = s->off[p], nl = s->nlive[2][p], mw = s->max_w;
  const double *rs = s->rs[0] + o, *rt = s->rt[0] + o, *ra = s->ra[0] + o;
  const double *mgf = s->mag[0] + o, *mgd = s->mag[2] + o;
  const size_t *lv = s->live[2] + o;
  double *wd = s->row + 2 * mw, *wf = s->row + 3 * mw, *cv = s->row + 4 * mw, *av = s->row + 5 * mw;
  double g2 = twinn_sym_gamma(2), gc = twinn_sym_gamma(2 * n + 2);
  /* h_d's upper (u) and lower (l) relaxations, fields cd, cf, cc. The rows' columns: all n
   * neurons, or with packed_in the live ones alone (cpack; ix maps a column to its neuron, and
   * the relaxations are gathered), as symbolic.c's backsub_relu. */
  const double *u[3], *l[3];
  size_t m = n;
  const size_t *ix = NULL;
  for (size_t t = 0; t < 3; t++) u[t] = s->dl[1][t] + o, l[t] = s->dl[0][t] + o;
  if (packed_in) {
    double *q = s->gv; /* 9 arrays of nl */
    TWINN_ASSERT(packed);
    for (size_t t = 0; t < 9; t++) {
      const double *from = t < 3 ? u[t] : t < 6 ? l[t - 3] : t == 6 ? rs : t == 7 ? ra : rt;
      for (size_t c = 0; c < nl; c++) q[t * mw + c] = from[lv[c]];
    }
    for (size_t t = 0; t < 3; t++) u[t] = q + t * mw, l[t] = q + (3 + t) * mw;
    rs = q + 6 * mw, ra = q + 7 * mw, rt = q + 8 * mw, m = nl, ix = lv;
  }
  for (size_t c = 0; c < m; c++) {
    size_t j = ix ? ix[c] : c;
    double md = sym_max(fabs(u[0][c]), fabs(l[0][c]));
    double mf = sym_max(fabs(u[1][c]), fabs(l[1][c]));
    double mc = sym_max(fabs(u[2][c]), fabs(l[2][c]));
    wd[c] = g2 * (md * mgd[j] + mf * mgf[j]) + gc * mc;
    wf[c] = g2 * sym_max(fabs(rs[c]), fabs(ra[c])) * mgf[j] + gc * fabs(rt[c]);
  }
  if (rec && ix) memset(rec, 0, n * sizeof(double)); /* dead neurons: no coefficients */
  for (size_t i = 0; i < 2 * r; i++) {
    int up = i < r;
    /* Upper rows take the upper relaxation where the coefficient is positive. */
    const double *const *pc = up ? u : l, *const *nc = up ? l : u;
    double *td = packed && !ix ? s->row : nd + i * m,
           *tf = packed && !ix ? s->row + mw : nf + i * m;
    pair_pass(m, up ? 1.0 : 0.0, cd + i * m, cf + i * m, pc[0], pc[1], pc[2], nc[0], nc[1], nc[2],
              up ? rs : ra, up ? ra : rs, rt, wd, wf, td, tf, cv, av);
    if (packed && !ix)
      for (size_t c = 0; c < nl; c++) {
        nd[i * nl + c] = s->row[lv[c]];
        nf[i * nl + c] = s->row[mw + lv[c]];
      }
    s->er[i] += 2.0 * (sym_sum(av, m) + gc * fabs(s->cst[i]));
    s->cst[i] += sym_sum(cv, m);
    if (rec && i == 0) /* the first upper row's weights of the neurons' outputs */
      for (size_t c = 0; c < m; c++) rec[ix ? ix[c] : c] = fabs(cd[c]) + fabs(cf[c]);
  }
}

void twinn_symdiff_backsub(twinn_sym *s, size_t p, size_t r, double *lo, double *hi,
                           double *in_coef) {
  const twinn_net *f = s->net[0], *g = s->net[1];
  double *cd = s->ad[0], *cf = s->a[0], *nd = s->ad[1], *nf = s->a[1];
  int packed = s->start_packed; /* the rows hold only the pair's live columns of point q */
  s->start_packed = 0;
  for (size_t q = p; q > 0; q--) {
    size_t k = q - 1, n = width_at(s, k), m = width_at(s, q);
    if (f->layers[k].kind == TWINN_LAYER_AFFINE) {
      const double *ewd = s->ewd[k], *ewf = s->ewf[k], *db = s->db[k], *bf = f->layers[k].b;
      const double *wg = g->layers[k].w, *dw = s->dw[k], *wf = f->layers[k].w;
      if (packed) {
        m = s->nlive[2][q];
        ewd = s->pe[2][k], ewf = s->pe[3][k], db = s->pb[2][k], bf = s->pb[3][k];
        wg = s->pw[2][k], dw = s->pw[3][k], wf = s->pw[4][k];
      }
      for (size_t i = 0; i < 2 * r; i++) {
        double acc = sym_dot_abs(cd + i * m, ewd, m) + sym_dot_abs(cf + i * m, ewf, m);
        s->er[i] += 2.0 * (acc + twinn_sym_gamma(2 * width_at(s, q) + 3) * fabs(s->cst[i]));
      }
      twinn_symk_gemv_f64(2 * r, m, cd, m, db, 1.0, s->cst);
      twinn_symk_gemv_f64(2 * r, m, cf, m, bf, 1.0, s->cst);
      int cols = 0; /* the products' columns packed (cpack) */
      if (k > 0) {
        /* nd = cd W_g and nf = cd dW + cf W_f = nd + (cf - cd) W_f: two products, not three
         * (the error weights above cover the cancellation's rounding). cd takes cf - cd in
         * place: its error term is already added, and it is the next step's scratch. Only
         * the columns of the ReLU below that are live (cpack), where the rows match. */
        size_t len = 2 * r * m;
        cols = s->cpack[k] && (packed || !s->pack[k]);
        if (cols) {
          twinn_sym_cols_ready(s, 2, k);
          n = s->nlive[2][k - 1];
          wg = s->cw[2][k];
          wf = s->cw[4][k];
        }
        twinn_symk_gemm_f64(2 * r, m, n, cd, m, wg, n, 0.0, nd, n);
        for (size_t e = 0; e < len; e++) cd[e] = cf[e] - cd[e];
        memcpy(nf, nd, 2 * r * n * sizeof(double));
        twinn_symk_gemm_f64(2 * r, m, n, cd, m, wf, n, 1.0, nf, n);
      } else { /* d = 0 at the input: the d-coefficients are not read (below). */
        twinn_symk_gemm_f64(2 * r, m, n, cd, m, dw, n, 0.0, nf, n);
        twinn_symk_gemm_f64(2 * r, m, n, cf, m, wf, n, 1.0, nf, n);
      }
      packed = cols;
    } else {
      int in = packed;
      packed = k >= 1 && s->pack[k - 1];
      backsub_relu(s, k, r, cd, cf, nd, nf, packed, in,
                   in_coef && s->bw[0] ? s->bw[0] + s->off[k] : NULL);
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
  twinn_sym_concretise_rows(s, cf, r, lo, hi);
  if (in_coef) {
    for (size_t i = 0; i < n_in; i++) in_coef[i] = fabs(cf[i]) * (s->hi[0][i] - s->lo[0][i]);
    twinn_sym_record_vertex(s, cf, r, s->vtx + 4 * n_in);
  }
}

void twinn_symdiff_affine(twinn_sym *s, size_t k) {
  const twinn_layer *lf = &s->net[0]->layers[k], *lg = &s->net[1]->layers[k];
  size_t m = lf->n_out, n = lf->n_in, o = s->off[k], nr = 0;
  const double *dw = s->dw[k], *db = s->db[k];
  const double *hf = s->hi[0] + s->off[k + 1], *hg = s->hi[1] + s->off[k + 1];
  const double *pf = s->lo[0] + s->off[k + 1], *pg = s->lo[1] + s->off[k + 1];
  double *lo = s->lo[2] + s->off[k + 1], *hi = s->hi[2] + s->off[k + 1];
  /* One step of interval arithmetic on d' = W_g d + dW f + db, as in ReluDiff, by sign parts
   * as in symbolic.c's affine_interval: at most 2n + 1 nonzero terms of each sign part pair,
   * bounded by |db| + |W_g| M_d + |dW| M_f. */
  double *vl = s->row, *vh = s->row + s->max_w;
  const double *ld = s->lo[2] + o, *ud = s->hi[2] + o, *l0 = s->lo[0] + o, *u0 = s->hi[0] + o;
  memcpy(vl, db, m * sizeof(double));
  memcpy(vh, db, m * sizeof(double));
  double *xl = s->row + 2 * s->max_w, *xh = xl + 4 * n;
  const double *parts[2][4] = {{ld, ud, l0, u0}, {ud, ld, u0, l0}};
  for (int h = 0; h < 2; h++)
    for (size_t q = 0; q < 4; q++) memcpy((h ? xh : xl) + q * n, parts[h][q], n * sizeof(double));
  if (!twinn_sym_c0_get(s, k, 8, vl, m) || !twinn_sym_c0_get(s, k, 9, vh, m)) {
    twinn_sym_gemv_pair(s, m, 4 * n, s->wpn[2][k], xl, xh, vl, vh);
    twinn_sym_c0_put(s, k, 8, vl, m);
    twinn_sym_c0_put(s, k, 9, vh, m);
  }
  for (size_t j = 0; j < m; j++) {
    double mag = fabs(db[j]) + s->am[3][j] + s->am[2][j];
    double extra = (2.0 * twinn_sym_gamma(4 * n + 6) * mag + SYM_ETA) * SYM_ESLACK;
    lo[j] = twinn_round_down(vl[j] - extra);
    hi[j] = twinn_round_up(vh[j] + extra);
    /* Where both networks' neurons are inactive before a ReLU, h_d = 0 whatever d is: no need
     * to back-substitute (the interval bound suffices). With skip_active, also where both are
     * active (f by its bounds, g by its own or by f's plus this interval bound of d) and d's
     * interval is narrow against f's width (SYM_SKIP_D): there h_d = d exactly, and
     * twinn_symdiff_relu relaxes it so (dskip), so d's bounds only feed the interval steps of
     * the next layer (g's too, through g = f + d), whose unsettled neurons back-substitute
     * anyway. Without the width test, int8 twins lost g's bounds: acasxu_1_4 int8 p1 went
     * from 11 817 regions to a timeout. Neurons active in both networks on a box containing
     * this one (twinn_sym_set_active) skip it too where d's interval is so narrow: their
     * phases stay settled (settle_point clamps both to >= 0). `twinn bound` on acasxu_4_1 fp16
     * p1, output 0 closed: the same 272-273 k boxes, 83 s -> 65-69 s. Without the width test
     * acasxu_1_4 int8 p1 (30 s) no longer closed (L-inf upper end 2.533e-2 against 2.381e-2). */
    if (s->pack[k] &&
        (twinn_sym_is_active(s, s->off[k + 1] + j) ||
         (s->skip_active && pf[j] >= 0.0 &&
          (pg[j] >= 0.0 || twinn_round_down(pf[j] + lo[j]) >= 0.0))) &&
        hi[j] - lo[j] <= SYM_SKIP_D * (hf[j] - pf[j])) {
      s->dskip[s->off[k + 1] + j] = 1;
      continue;
    }
    s->dskip[s->off[k + 1] + j] = 0;
    if (!s->pack[k] || ((hf[j] > 0.0 || hg[j] > 0.0) && !twinn_sym_skip_row(s, s->off[k + 1] + j)))
      s->sel[nr++] = j;
  }
  for (size_t j0 = 0; j0 < nr; j0 += SYM_BLOCK) {
    size_t r = nr - j0 < SYM_BLOCK ? nr - j0 : SYM_BLOCK;
    /* The rows on the pair's live neurons of the ReLU before (cpack), as symbolic.c's. */
    size_t nc = s->cpack[k] ? s->nlive[2][k - 1] : n;
    const size_t *lv = s->cpack[k] ? s->live[2] + s->off[k - 1] : NULL;
    for (size_t i = 0; i < r; i++) {
      size_t j = s->sel[j0 + i];
      double inexact = fabs(db[j]) + s->am[2][j]; /* |db| + |dW| M_f */
      const double *wgr = lg->w + j * n, *dwr = dw + j * n;
      for (int h = 0; h < 2; h++) {
        size_t row = (size_t)h * r + i;
        double *rd = s->ad[0] + row * nc, *rf = s->a[0] + row * nc;
        if (lv) {
          for (size_t c = 0; c < nc; c++) rd[c] = wgr[lv[c]], rf[c] = dwr[lv[c]];
        } else {
          memcpy(rd, wgr, n * sizeof(double));
          memcpy(rf, dwr, n * sizeof(double));
        }
        s->cst[row] = db[j];
        /* fl(W_g - W_f) and fl(b_g - b_f) are within u of the exact differences. */
        s->er[row] = 2.0 * twinn_sym_gamma(0) * inexact;
      }
    }
    s->start_packed = lv != NULL;
    s->hs_defer = 1;
    twinn_symdiff_backsub(s, k, r, s->blk, s->blk + SYM_BLOCK, NULL);
    s->hs_defer = 0;
    for (size_t i = 0; i < r; i++) {
      size_t j = s->sel[j0 + i];
      lo[j] = twinn_fmax(lo[j], s->blk[i]);
      hi[j] = twinn_fmin(hi[j], s->blk[SYM_BLOCK + i]);
      /* Split half-spaces (symhalf.c) at the output only. Also where h_d's relaxation depends
       * on d's bounds (a network unstable there) until session 25: on mnist_256x4 fp16 that
       * cost more time than the tighter d bounds saved (img0 / img3 / img5 1.38 / 35.2 /
       * 3.32 s against 1.18 / 31.8 / 2.54 s without; img7's worst margin at 60 s -0.213 against
       * -0.193). f's and g's own rows keep them (without those img3 times out). */
      if (s->nhs && !s->pack[k]) {
        twinn_sym_refine_row(s, i, r, &s->blk[i], &s->blk[SYM_BLOCK + i]);
        lo[j] = twinn_fmax(lo[j], s->blk[i]);
        hi[j] = twinn_fmin(hi[j], s->blk[SYM_BLOCK + i]);
      }
    }
  }
}

int twinn_symdiff_relu(twinn_sym *s, size_t k, int bounds) {
  size_t n = width_at(s, k), o = s->off[k], o1 = s->off[k + 1], nl = 0;
  int changed = 0;
  for (size_t j = 0; j < n; j++) {
    size_t x = o + j;
    double lf = s->lo[0][x], uf = s->hi[0][x], lg = s->lo[1][x], ug = s->hi[1][x];
    double ld = s->lo[2][x], ud = s->hi[2][x];
    double sf = s->rs[0][x], tf = s->rt[0][x], af = s->ra[0][x];
    double sg = s->rs[1][x], tg = s->rt[1][x], ag = s->ra[1][x];
    /* Both neurons inactive: h_d = 0 (what the forms below give, without computing them).
     * Both active where d kept its interval bound (dskip): h_d = d exactly, since the forms'
     * choice by concrete range would pick the chord of max(d, 0) on that loose interval (13 000
     * more regions on the fp16 p1 boxes). Elsewhere both-active neurons are left to the
     * forms, which choose between d and the chord: their maxima over the bounds tie but for
     * rounding, so the last bit decides (session 22: about half the time each). Forcing d
     * there (stable_exact) cost `twinn bound` on acasxu_1_2 fp16 p1 a 50x wider upper end at
     * 5 s and made its p3 box close, which is why quant.c bounds a box both ways. */
    static const sym_lin2 zero = {0.0, 0.0, 0.0}, exact_d = {1.0, 0.0, 0.0};
    sym_lin2 u, l;
    double blo = 0.0, bhi = 0.0; /* h_d's bounds at point k + 1 (when bounds) */
    int skip = lf >= 0.0 && lg >= 0.0 && s->dskip[x];
    if (skip || (uf <= 0.0 && ug <= 0.0)) {
      u = l = skip ? exact_d : zero;
      if (skip) blo = ld, bhi = ud;
    } else {
      /* Generic: relu(z_g) - relu(z_f) with z_g = z_f + d and both networks' relaxations. */
      sym_lin2 gu = {sg, sg - af, tg}, gl = {ag, ag - sf, -tf};
      /* In d alone. */
      sym_lin2 du, dl;
      if (ld >= 0.0) {
        du = exact_d;
        dl = zero;
      } else if (ud <= 0.0) {
        du = zero;
        dl = exact_d;
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
      u = ugen <= udon ? gu : du;
      l = lgen >= ldon ? gl : dl;
      /* Both stable: the generic form is h_d exactly (twinn_sym_set_stable_exact). */
      if (s->stable_exact && (lf >= 0.0 || uf <= 0.0) && (lg >= 0.0 || ug <= 0.0)) u = gu, l = gl;
      if (bounds) {
        double hl = exact_diff_down(twinn_fmax(lg, 0.0), twinn_fmax(uf, 0.0));
        double hh = exact_diff_up(twinn_fmax(ug, 0.0), twinn_fmax(lf, 0.0));
        blo = twinn_fmax(twinn_fmax(lgen, ldon), hl);
        bhi = twinn_fmin(twinn_fmin(ugen, udon), hh);
      }
    }
    s->dl[1][0][x] = u.cd, s->dl[1][1][x] = u.cf, s->dl[1][2][x] = u.cc;
    s->dl[0][0][x] = l.cd, s->dl[0][1][x] = l.cf, s->dl[0][2][x] = l.cc;
    if (bounds) {
      s->lo[2][o1 + j] = blo;
      s->hi[2][o1 + j] = bhi;
    }
    if (u.cd != 0.0 || u.cf != 0.0 || u.cc != 0.0 || l.cd != 0.0 || l.cf != 0.0 || l.cc != 0.0 ||
        sf != 0.0 || af != 0.0 || tf != 0.0) {
      changed |= nl >= s->nlive[2][k] || s->live[2][o + nl] != j;
      s->live[2][o + nl++] = j;
    }
  }
  changed |= nl != s->nlive[2][k];
  s->nlive[2][k] = nl;
  if (changed) twinn_sym_cols_changed(s, 2, k);
  return changed;
}
