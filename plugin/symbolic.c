/* symbolic.c: DeepPoly/CROWN bounds of one network over an input box, driver of the pair
 * analysis (symdiff.c) and the public twinn_sym API. Every neuron after an affine layer is
 * bounded by back-substituting linear bounds L . v + c (an upper and a lower row) through the
 * earlier layers to the input, using the ReLU triangle relaxation (upper: chord; lower: slope 1
 * if u > -l else 0) of neurons whose bounds were computed before; the result is concretised over
 * the box and intersected with one step of interval arithmetic.
 * Soundness under rounding: rows are computed in round-to-nearest (BLAS, any summation order)
 * and carry an error term e >= 0 that bounds, over every input of the box, how far the float
 * row may be from an exact valid bound: a product L W of rows of length m has entries within
 * gamma_m |L| |W| of the exact ones, and the point multiplied by them is bounded by its known
 * bounds M, so e grows by gamma_m |L| (|W| M) (the error weights ew, precomputed per layer);
 * likewise for constants and for the ReLU step. Relaxation slopes are exact (multiples of
 * 2^-52) and intercepts rounded upward, so each relaxation is valid as stored. Error terms are
 * doubled to cover their own evaluation, the final concretisation adds gamma_{n+2} of its terms
 * and a tiny absolute eta for underflow, and ends with a directed one-ulp step.
 * Cost: rows carry only the live columns of a ReLU (packed), neurons that interval arithmetic
 * proves inactive are not back-substituted (their ReLU output is exactly 0), and the ReLU step
 * selects slopes by an exact arithmetic split of each coefficient by sign. None of these
 * changes a bound's value except through rounding, which the error terms cover.
 * Optimised slopes (twinn_sym_set_alpha_steps) only re-choose, after the analysis, the lower
 * slope ra (0 or 1) of unstable neurons for one bound_lin and restore it afterwards: any slope
 * in [0, 1] is a valid lower relaxation, and point bounds and error weights do not depend on it. */
#include "symbolic.h"

#include <math.h>
#include <string.h>

#include "interval.h"
#include "sym_int.h"
#include "symkern.h"

#define SYM_U52 (1.0 / 4503599627370496.0) /* 2^-52 */
/* Covers underflow: each float operation may lose up to 2^-1075 absolutely. */
#define SYM_ETA 1e-290
#define SYM_TINY 1e-300 /* see settle_point */
/* Relative slack on accumulated error terms, covering their float summation. */
#define SYM_ESLACK (1.0 + 1.0 / 1073741824.0)

double twinn_sym_gamma(size_t k) { return ((double)k + 1.0) * SYM_U52; }

static size_t width_at(const twinn_sym *s, size_t p) { return s->off[p + 1] - s->off[p]; }

static double maxabs(double l, double h) { return twinn_fmax(fabs(l), fabs(h)); }

twinn_status twinn_sym_supported(const twinn_net *f, const twinn_net *g, twinn_error *err) {
  if (!f) return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: no network");
  for (size_t k = 0; k < f->n_layers; k++) {
    twinn_layer_kind kind = f->layers[k].kind;
    if (kind != TWINN_LAYER_AFFINE && kind != TWINN_LAYER_RELU)
      return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, f->path, 0, 0,
                             "layer %zu: symbolic bounds handle only affine and ReLU layers", k);
  }
  if (g && !twinn_net_isomorphic(f, g))
    return twinn_error_set(err, TWINN_ERR_SEMANTIC, g->path, 0, 0,
                           "the two networks are not isomorphic (layer kinds or sizes differ)");
  return TWINN_OK;
}

void twinn_sym_free(twinn_sym *s) {
  if (!s) return;
  for (int i = 0; i < 3; i++) {
    twinn_free(s->lo[i]);
    twinn_free(s->hi[i]);
    twinn_free(s->bw[i]);
  }
  for (int w = 0; w < 2; w++) {
    twinn_free(s->rs[w]);
    twinn_free(s->rt[w]);
    twinn_free(s->ra[w]);
    twinn_free(s->ra0[w]);
    twinn_free(s->zv[w]);
    twinn_free(s->split[w]);
    twinn_free(s->beta[w]);
    twinn_free(s->plo[w]);
    twinn_free(s->phi[w]);
    twinn_free(s->osc[w]);
    twinn_free(s->a[w]);
    twinn_free(s->ad[w]);
    for (size_t k = 0; s->ew[w] && k < s->n_layers; k++) twinn_free(s->ew[w][k]);
    twinn_free(s->ew[w]);
  }
  for (size_t k = 0; k < s->n_layers; k++) {
    if (s->dw) twinn_free(s->dw[k]);
    if (s->db) twinn_free(s->db[k]);
    if (s->ewd) twinn_free(s->ewd[k]);
    if (s->ewf) twinn_free(s->ewf[k]);
  }
  twinn_free(s->dw);
  twinn_free(s->db);
  twinn_free(s->ewd);
  twinn_free(s->ewf);
  for (int i = 0; i < 5; i++) {
    for (size_t k = 0; s->pw[i] && k < s->n_layers; k++) twinn_free(s->pw[i][k]);
    twinn_free(s->pw[i]);
    for (size_t k = 0; s->cw[i] && k < s->n_layers; k++) twinn_free(s->cw[i][k]);
    twinn_free(s->cw[i]);
  }
  for (int i = 0; i < 4; i++) {
    for (size_t k = 0; k < s->n_layers; k++) {
      if (s->pb[i]) twinn_free(s->pb[i][k]);
      if (s->pe[i]) twinn_free(s->pe[i][k]);
    }
    twinn_free(s->pb[i]);
    twinn_free(s->pe[i]);
  }
  for (int i = 0; i < 3; i++) {
    twinn_free(s->mag[i]);
    twinn_free(s->live[i]);
    twinn_free(s->nlive[i]);
  }
  twinn_free(s->pack);
  twinn_free(s->cpack);
  for (int i = 0; i < 3; i++) twinn_free(s->cdirty[i]);
  for (int i = 0; i < 3; i++) {
    for (size_t k = 0; k < s->n_layers; k++) {
      if (s->wpn[i]) twinn_free(s->wpn[i][k]);
      if (s->wsa[i]) twinn_free(s->wsa[i][k]);
    }
    twinn_free(s->wpn[i]);
    twinn_free(s->wsa[i]);
  }
  for (int i = 0; i < 4; i++) twinn_free(s->am[i]);
  twinn_free(s->sel);
  twinn_free(s->blk);
  for (int h = 0; h < 2; h++)
    for (int c = 0; c < 3; c++) twinn_free(s->dl[h][c]);
  twinn_free(s->dskip);
  twinn_free(s->cst);
  twinn_free(s->er);
  twinn_free(s->coef);
  twinn_free(s->coefb);
  twinn_free(s->opt);
  twinn_free(s->opt32);
  for (int w = 0; w < 2; w++) {
    for (size_t k = 0; s->w32[w] && k < s->n_layers; k++) twinn_free(s->w32[w][k]);
    twinn_free(s->w32[w]);
  }
  twinn_free(s->vtx);
  twinn_free(s->prow);
  twinn_free(s->urow);
  twinn_free(s->tmp);
  twinn_free(s->row);
  twinn_free(s->gv);
  twinn_free(s->hs_w);
  twinn_free(s->hs_b);
  twinn_free(s->hs_s);
  twinn_free(s->hs_beta);
  twinn_free(s->hs_wm);
  twinn_free(s->c0_key);
  twinn_free(s->c0_val);
  twinn_free(s->hsx);
  twinn_free(s->hs_zi);
  twinn_free(s->hs_iw);
  twinn_free(s->and_buf);
  twinn_free(s->and_idx);
  twinn_free(s->off);
  twinn_free(s);
}

/* Per-affine-layer arrays of n_out doubles (NULL entries for ReLU layers). */
static double **layer_vectors(const twinn_net *f) {
  double **v = twinn_calloc(f->n_layers ? f->n_layers : 1, sizeof *v);
  if (!v) return NULL;
  for (size_t k = 0; k < f->n_layers; k++) {
    if (f->layers[k].kind != TWINN_LAYER_AFFINE) continue;
    v[k] = twinn_mallocarray(f->layers[k].n_out ? f->layers[k].n_out : 1, sizeof **v);
    if (!v[k]) return v; /* the caller sees the NULL through check_vectors */
  }
  return v;
}

static int check_vectors(const twinn_net *f, double **v) {
  if (!v) return 0;
  for (size_t k = 0; k < f->n_layers; k++)
    if (f->layers[k].kind == TWINN_LAYER_AFFINE && !v[k]) return 0;
  return 1;
}

/* Per-layer arrays for the layers k with pack[k]: n_out * cols doubles (cols = n_in for
 * matrices, 1 for vectors); NULL entries elsewhere. Returns 0 on out of memory. */
static int pack_vectors(twinn_sym *s, double ***v, int matrix) {
  *v = twinn_calloc(s->n_layers ? s->n_layers : 1, sizeof **v);
  if (!*v) return 0;
  for (size_t k = 0; k < s->n_layers; k++) {
    if (!s->pack[k]) continue;
    const twinn_layer *ly = &s->net[0]->layers[k];
    size_t len = ly->n_out * (matrix ? ly->n_in : 1);
    if (!((*v)[k] = twinn_mallocarray(len ? len : 1, sizeof(double)))) return 0;
  }
  return 1;
}

/* Sign parts of every affine matrix of f, g and dW (see sym_int.h). Returns 0 on out of
 * memory. */
static int make_signs(twinn_sym *s) {
  for (int i = 0; i < (s->net[1] ? 3 : 1); i++) {
    s->wpn[i] = twinn_calloc(s->n_layers ? s->n_layers : 1, sizeof(double *));
    s->wsa[i] = twinn_calloc(s->n_layers ? s->n_layers : 1, sizeof(double *));
    if (!s->wpn[i] || !s->wsa[i]) return 0;
    for (size_t k = 0; k < s->n_layers; k++) {
      const twinn_layer *ly = &s->net[i == 1 ? 1 : 0]->layers[k];
      if (ly->kind != TWINN_LAYER_AFFINE) continue;
      size_t m = ly->n_out, n = ly->n_in, nw = m * n, parts = i == 2 ? 2 : 1;
      const double *w = i == 2 ? s->dw[k] : ly->w;
      double *p = s->wpn[i][k] = twinn_mallocarray(nw ? 2 * parts * nw : 1, sizeof(double));
      double *a = s->wsa[i][k] = twinn_mallocarray(nw ? nw : 1, sizeof(double));
      if (!p || !a) return 0;
      for (size_t j = 0; j < nw; j++) a[j] = fabs(w[j]);
      /* Row j: [max(W_j, 0) | min(W_j, 0)], after [W_g+ | W_g-] of the same row for the pair. */
      for (size_t part = 0; part < parts; part++) {
        const double *src = part + 1 < parts ? s->net[1]->layers[k].w : w;
        for (size_t j = 0; j < m; j++) {
          double *dst = p + j * 2 * parts * n + part * 2 * n;
          for (size_t c = 0; c < n; c++) {
            double v = src[j * n + c];
            dst[c] = v > 0.0 ? v : 0.0;
            dst[n + c] = v < 0.0 ? v : 0.0;
          }
        }
      }
    }
  }
  return 1;
}

/* The pair's layer differences fl(W_g - W_f), fl(b_g - b_f) (their rounding is accounted for
 * where they are used). */
static int make_deltas(twinn_sym *s) {
  const twinn_net *f = s->net[0], *g = s->net[1];
  s->dw = twinn_calloc(s->n_layers ? s->n_layers : 1, sizeof *s->dw);
  s->db = twinn_calloc(s->n_layers ? s->n_layers : 1, sizeof *s->db);
  if (!s->dw || !s->db) return 0;
  for (size_t k = 0; k < s->n_layers; k++) {
    const twinn_layer *lf = &f->layers[k], *lg = &g->layers[k];
    if (lf->kind != TWINN_LAYER_AFFINE) continue;
    size_t nw = lf->n_out * lf->n_in;
    s->dw[k] = twinn_mallocarray(nw ? nw : 1, sizeof(double));
    s->db[k] = twinn_mallocarray(lf->n_out ? lf->n_out : 1, sizeof(double));
    if (!s->dw[k] || !s->db[k]) return 0;
    for (size_t i = 0; i < nw; i++) s->dw[k][i] = lg->w[i] - lf->w[i];
    for (size_t i = 0; i < lf->n_out; i++) s->db[k][i] = lg->b[i] - lf->b[i];
  }
  return 1;
}

twinn_sym *twinn_sym_new(const twinn_net *f, const twinn_net *g) {
  if (twinn_sym_supported(f, g, NULL) != TWINN_OK) return NULL;
  twinn_sym *s = twinn_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->net[0] = f;
  s->net[1] = g;
  s->beta_w = -1;
  s->n_layers = f->n_layers;
  s->n_points = f->n_layers + 1;
  s->off = twinn_mallocarray(s->n_points + 1, sizeof *s->off);
  if (!s->off) goto fail;
  s->off[0] = 0;
  s->max_w = f->n_in;
  for (size_t p = 0; p < s->n_points; p++) {
    size_t w = p == 0 ? f->n_in : f->layers[p - 1].n_out;
    if (w > s->max_w) s->max_w = w;
    s->off[p + 1] = s->off[p] + w;
  }
  size_t total = s->off[s->n_points] ? s->off[s->n_points] : 1;
  size_t mw = s->max_w ? s->max_w : 1;
  int n_nets = g ? 2 : 1;
  for (int i = 0; i < (g ? 3 : 1); i++) {
    s->lo[i] = twinn_mallocarray(total, sizeof(double));
    s->hi[i] = twinn_mallocarray(total, sizeof(double));
    if (!s->lo[i] || !s->hi[i]) goto fail;
  }
  for (int w = 0; w < n_nets; w++) {
    s->rs[w] = twinn_mallocarray(total, sizeof(double));
    s->rt[w] = twinn_mallocarray(total, sizeof(double));
    s->ra[w] = twinn_mallocarray(total, sizeof(double));
    s->ra0[w] = twinn_mallocarray(total, sizeof(double));
    s->zv[w] = twinn_mallocarray(total, sizeof(double));
    s->split[w] = twinn_calloc(total, 1);
    s->ew[w] = layer_vectors(f);
    if (!s->rs[w] || !s->rt[w] || !s->ra[w] || !s->ra0[w] || !s->zv[w] || !s->split[w] ||
        !check_vectors(f, s->ew[w]))
      goto fail;
  }
  for (int i = 0; i < 2; i++) {
    s->a[i] = twinn_mallocarray(2 * SYM_BLOCK * mw, sizeof(double));
    if (!s->a[i]) goto fail;
    if (g && !(s->ad[i] = twinn_mallocarray(2 * SYM_BLOCK * mw, sizeof(double)))) goto fail;
  }
  if (g) {
    for (int h = 0; h < 2; h++)
      for (int c = 0; c < 3; c++)
        if (!(s->dl[h][c] = twinn_mallocarray(total, sizeof(double)))) goto fail;
    if (!(s->dskip = twinn_calloc(total ? total : 1, 1))) goto fail;
    for (int i = 0; i < 3; i++)
      if (!(s->bw[i] = twinn_calloc(total ? total : 1, sizeof(double)))) goto fail;
    s->ewd = layer_vectors(f);
    s->ewf = layer_vectors(f);
    if (!check_vectors(f, s->ewd) || !check_vectors(f, s->ewf) || !make_deltas(s)) goto fail;
  }
  s->pack = twinn_calloc(s->n_layers ? s->n_layers : 1, 1);
  if (!s->pack) goto fail;
  for (size_t k = 0; k + 1 < s->n_layers; k++)
    s->pack[k] =
        f->layers[k].kind == TWINN_LAYER_AFFINE && f->layers[k + 1].kind == TWINN_LAYER_RELU;
  for (int i = 0; i < (g ? 3 : 1); i++) {
    s->mag[i] = twinn_mallocarray(total, sizeof(double));
    s->live[i] = twinn_mallocarray(total, sizeof(size_t));
    s->nlive[i] = twinn_calloc(s->n_points, sizeof(size_t));
    if (!s->mag[i] || !s->live[i] || !s->nlive[i]) goto fail;
  }
  for (int i = 0; i < (g ? 5 : 1); i++)
    if (!pack_vectors(s, &s->pw[i], 1)) goto fail;
  s->cpack = twinn_calloc(s->n_layers ? s->n_layers : 1, 1);
  if (!s->cpack) goto fail;
  for (size_t k = 2; k < s->n_layers; k++)
    s->cpack[k] = f->layers[k].kind == TWINN_LAYER_AFFINE &&
                  f->layers[k - 1].kind == TWINN_LAYER_RELU && s->pack[k - 2];
  for (int i = 0; i < (g ? 5 : 2); i++) {
    if (i == 3 || (!g && i == 1)) continue;
    s->cw[i] = twinn_calloc(s->n_layers ? s->n_layers : 1, sizeof(double *));
    if (!s->cw[i]) goto fail;
    for (size_t k = 0; k < s->n_layers; k++) {
      size_t len = s->cpack[k] ? f->layers[k].n_out * f->layers[k].n_in : 0;
      if (len && !(s->cw[i][k] = twinn_mallocarray(len, sizeof(double)))) goto fail;
    }
  }
  for (int i = 0; i < (g ? 3 : 1); i++) {
    if (!(s->cdirty[i] = twinn_mallocarray(s->n_layers ? s->n_layers : 1, 1))) goto fail;
    memset(s->cdirty[i], 1, s->n_layers ? s->n_layers : 1);
  }
  for (int i = 0; i < (g ? 4 : 1); i++)
    if (!pack_vectors(s, &s->pb[i], 0) || !pack_vectors(s, &s->pe[i], 0)) goto fail;
  if (!make_signs(s)) goto fail;
  for (int i = 0; i < 4; i++)
    if (!(s->am[i] = twinn_mallocarray(mw, sizeof(double)))) goto fail;
  s->sel = twinn_mallocarray(mw, sizeof(size_t));
  s->blk = twinn_mallocarray(2 * SYM_BLOCK, sizeof(double));
  if (!s->sel || !s->blk) goto fail;
  s->cst = twinn_mallocarray(2 * SYM_BLOCK, sizeof(double));
  s->er = twinn_mallocarray(2 * SYM_BLOCK, sizeof(double));
  s->coef = twinn_calloc(f->n_in ? f->n_in : 1, sizeof(double));
  s->coefb = twinn_calloc(f->n_in ? f->n_in : 1, sizeof(double));
  s->vtx = twinn_calloc(8 * (f->n_in ? f->n_in : 1), sizeof(double));
  s->prow = twinn_calloc(2 * (f->n_in ? f->n_in : 1), sizeof(double));
  s->urow = twinn_calloc(f->n_in + 1, sizeof(double));
  s->tmp = twinn_mallocarray(2 * mw, sizeof(double));
  s->row = twinn_mallocarray(10 * mw, sizeof(double));
  s->gv = twinn_mallocarray(10 * mw, sizeof(double));
  if (!s->cst || !s->er || !s->coef || !s->coefb || !s->vtx || !s->prow || !s->urow || !s->tmp ||
      !s->row || !s->gv)
    goto fail;
  size_t nh = s->n_points > 2 ? 2 * width_at(s, 1) : 1;
  s->hs_w = twinn_mallocarray(nh, sizeof *s->hs_w);
  s->hs_b = twinn_mallocarray(nh, sizeof(double));
  s->hs_s = twinn_mallocarray(nh, sizeof(double));
  s->hs_beta = twinn_mallocarray(nh, sizeof(double));
  s->hs_wm = twinn_mallocarray(nh, sizeof(double));
  s->hsx = twinn_mallocarray(5 * (f->n_in ? f->n_in : 1), sizeof(double));
  s->hs_zi = twinn_mallocarray(f->n_in ? f->n_in : 1, sizeof(size_t));
  if (!s->hs_w || !s->hs_b || !s->hs_s || !s->hs_beta || !s->hs_wm || !s->hsx || !s->hs_zi)
    goto fail;
  s->c0_key = twinn_mallocarray(6 * (f->n_in ? f->n_in : 1), sizeof(double));
  s->c0_val = twinn_mallocarray(10 * (mw ? mw : 1), sizeof(double));
  if (!s->c0_key || !s->c0_val) goto fail;
  return s;
fail:
  twinn_sym_free(s);
  return NULL;
}

twinn_status twinn_sym_set_split(twinn_sym *s, int which, size_t layer, size_t neuron, int phase,
                                 twinn_error *err) {
  if (which < 0 || which > 1 || !s->net[which])
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "split: no network %d", which);
  if (layer >= s->n_layers || s->net[which]->layers[layer].kind != TWINN_LAYER_RELU ||
      neuron >= width_at(s, layer))
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0,
                           "split: layer %zu neuron %zu is not a ReLU neuron", layer, neuron);
  signed char *sp = &s->split[which][s->off[layer] + neuron];
  s->n_split -= *sp != 0;
  *sp = (signed char)(phase > 0 ? 1 : phase < 0 ? -1 : 0);
  s->n_split += *sp != 0;
  return TWINN_OK;
}

void twinn_sym_clear_splits(twinn_sym *s) {
  for (int w = 0; w < 2; w++)
    if (s->split[w]) memset(s->split[w], 0, s->off[s->n_points]);
  s->n_split = 0;
}

void twinn_sym_relu_relax(double l, double u, double *rs, double *rt, double *ra) {
  if (l >= 0.0) {
    *rs = 1.0, *rt = 0.0, *ra = 1.0;
  } else if (u <= 0.0) {
    *rs = 0.0, *rt = 0.0, *ra = 0.0;
  } else {
    /* Rounding the chord slope to a multiple of 2^-52 keeps 1 - s exact; the intercept is then
     * chosen so the line lies above relu at both ends, which by convexity suffices. */
    double s = (u / (u - l) + 1.0) - 1.0;
    double t1 = twinn_round_up(-s * l), t2 = twinn_round_up(u * (1.0 - s));
    *rs = s;
    *rt = twinn_fmax(t1, t2);
    *ra = u > -l ? 1.0 : 0.0;
  }
}

double twinn_sym_concretise_box(const twinn_sym *s, const double *row, double c, double e, int up) {
  size_t n = s->net[0]->n_in;
  const double *blo = s->lo[0], *bhi = s->hi[0];
  const double *ph = up ? bhi : blo, *pl = up ? blo : bhi; /* taken by a > 0 / a < 0 */
  /* Branch-free, in four partial sums so that it vectorises: a = pos + neg exactly (one of them
   * is 0), so pos * ph + neg * pl is exactly the product the sign of a selects (the box is
   * finite); any summation order is covered by gamma. */
  double v0 = c, v1 = 0.0, v2 = 0.0, v3 = 0.0, m0 = fabs(c), m1 = 0.0, m2 = 0.0, m3 = 0.0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    double p0 = 0.5 * (row[i] + fabs(row[i])), p1 = 0.5 * (row[i + 1] + fabs(row[i + 1]));
    double p2 = 0.5 * (row[i + 2] + fabs(row[i + 2])), p3 = 0.5 * (row[i + 3] + fabs(row[i + 3]));
    double t0 = p0 * ph[i] + (row[i] - p0) * pl[i];
    double t1 = p1 * ph[i + 1] + (row[i + 1] - p1) * pl[i + 1];
    double t2 = p2 * ph[i + 2] + (row[i + 2] - p2) * pl[i + 2];
    double t3 = p3 * ph[i + 3] + (row[i + 3] - p3) * pl[i + 3];
    v0 += t0, v1 += t1, v2 += t2, v3 += t3;
    m0 += fabs(t0), m1 += fabs(t1), m2 += fabs(t2), m3 += fabs(t3);
  }
  for (; i < n; i++) {
    double p0 = 0.5 * (row[i] + fabs(row[i])), t0 = p0 * ph[i] + (row[i] - p0) * pl[i];
    v0 += t0, m0 += fabs(t0);
  }
  double val = (v0 + v1) + (v2 + v3), mag = (m0 + m1) + (m2 + m3);
  double extra = (2.0 * twinn_sym_gamma(n + 2) * mag + e + SYM_ETA) * SYM_ESLACK;
  double r = up ? twinn_round_up(val + extra) : twinn_round_down(val - extra);
  if (isnan(r)) r = up ? INFINITY : -INFINITY;
  return r;
}

/* One row of backsub_relu: coefficients src become dst (sp / sn: the slopes that positive /
 * negative coefficients take), av gets each entry's error weight, cv its constant (kp: 1 for
 * an upper row, else 0). Restrict pointers: all arrays are distinct. */
static inline __attribute__((always_inline)) void
relu_pass(size_t n, double kp, const double *restrict src, const double *restrict sp,
          const double *restrict sn, const double *restrict rt, const double *restrict wt,
          double *restrict dst, double *restrict av, double *restrict cv) {
  double kn = 1.0 - kp;
  for (size_t j = 0; j < n; j++) {
    double lam = src[j];
    double pos = 0.5 * (lam + fabs(lam)), neg = lam - pos;
    dst[j] = pos * sp[j] + neg * sn[j];
    av[j] = fabs(lam) * wt[j];
    cv[j] = (kp * pos + kn * neg) * rt[j];
  }
}

/* ReLU step of a back-substitution for network w at ReLU input point p: rows cur (2r x n) are
 * replaced by nxt; the upper rows take the upper relaxation where their coefficient is >= 0.
 * With `packed` nxt keeps only the live columns (in live[] order, row stride nlive), else all
 * n (dead neurons have all-zero relaxations, so their columns come out 0).
 * This is the hot loop, written to vectorise: lam is split into pos = (lam + |lam|) / 2 and
 * neg = lam - pos, both exact (one is 0), so pos * A + neg * B is exactly lam times the slope
 * its sign selects, without a branch; per-entry constants go to a scratch array and are summed
 * afterwards (any summation order is covered by the gamma factors). Rounding: each new
 * coefficient is one product, within u of itself, so the row's value moves by at most
 * gamma_1 |lam| max(|rs|, |ra|) M per entry; the constants are n terms, within gamma_{n+2} of
 * their magnitudes, each at most |lam| |rt|. Both are linear in |lam|, with weights computed
 * once per step (the factor 2 covers the rounding of that computation). Only an overflowing
 * |lam| > 2^1023 breaks the split, into NaN, which ends as an infinite bound. */
SYM_HOT static void backsub_relu(twinn_sym *s, int w, size_t p, size_t r, const double *cur,
                                 double *nxt, int packed, int packed_in) {
  size_t n = width_at(s, p), o = s->off[p], nl = s->nlive[w][p], mw = s->max_w;
  const double *rs = s->rs[w] + o, *rt = s->rt[w] + o, *ra = s->ra[w] + o, *mg = s->mag[w] + o;
  const size_t *lv = s->live[w] + o;
  double *av = s->row + mw, *cv = s->row + 2 * mw, *wt = s->row + 3 * mw;
  double g1 = twinn_sym_gamma(1), gc = twinn_sym_gamma(n + 2);
  /* The rows' columns: all n neurons, or with packed_in the live ones alone (cpack; ix maps a
   * column to its neuron): the same sums without the dead neurons' terms, exact zeros. */
  size_t m = n;
  const size_t *ix = NULL;
  if (packed_in) {
    double *prs = s->row + 4 * mw, *pra = s->row + 5 * mw, *prt = s->row + 6 * mw;
    TWINN_ASSERT(packed);
    for (size_t c = 0; c < nl; c++) prs[c] = rs[lv[c]], pra[c] = ra[lv[c]], prt[c] = rt[lv[c]];
    rs = prs, ra = pra, rt = prt, m = nl, ix = lv;
  }
  for (size_t c = 0; c < m; c++)
    wt[c] = g1 * sym_max(fabs(rs[c]), fabs(ra[c])) * mg[ix ? ix[c] : c] + gc * fabs(rt[c]);
  for (size_t i = 0; i < 2 * r; i++) {
    int up = i < r;
    const double *src = cur + i * m, *sp = up ? rs : ra, *sn = up ? ra : rs;
    double *dst = packed && !ix ? s->row : nxt + i * m;
    relu_pass(m, up ? 1.0 : 0.0, src, sp, sn, rt, wt, dst, av, cv);
    if (s->beta_w == w) /* symopt.c: + beta s z (upper rows), - beta s z (lower rows) */
      for (size_t c = 0; c < m; c++) {
        size_t x = o + (ix ? ix[c] : c);
        double bt = s->beta[w][x];
        if (bt == 0.0 || !s->split[w][x]) continue;
        dst[c] += (up ? bt : -bt) * (double)s->split[w][x];
        av[c] += g1 * fabs(dst[c]) * s->mag[w][x]; /* the sum's rounding */
      }
    if (packed && !ix)
      for (size_t c = 0; c < nl; c++) nxt[i * nl + c] = s->row[lv[c]];
    s->er[i] += 2.0 * (sym_sum(av, m) + gc * fabs(s->cst[i]));
    s->cst[i] += sym_sum(cv, m);
  }
}

void twinn_sym_concretise_rows(twinn_sym *s, const double *rows, size_t r, double *lo, double *hi) {
  size_t n = s->net[0]->n_in;
  s->fin = rows;
  for (size_t i = 0; i < r; i++) {
    const double *ru = rows + i * n, *rl = rows + (r + i) * n;
    hi[i] = twinn_sym_concretise_box(s, ru, s->cst[i], s->er[i], 1);
    lo[i] = twinn_sym_concretise_box(s, rl, s->cst[r + i], s->er[r + i], 0);
    if (!s->hs_defer && isfinite(lo[i]) && isfinite(hi[i]))
      twinn_sym_refine_row(s, i, r, &lo[i], &hi[i]);
  }
}

void twinn_sym_refine_row(twinn_sym *s, size_t i, size_t r, double *lo, double *hi) {
  size_t n = s->net[0]->n_in;
  if (!s->nhs) return;
  if (isfinite(*hi)) *hi = twinn_symhalf_concretise(s, s->fin + i * n, s->cst[i], s->er[i], 1, *hi);
  if (isfinite(*lo))
    *lo = twinn_symhalf_concretise(s, s->fin + (r + i) * n, s->cst[r + i], s->er[r + i], 0, *lo);
}

void twinn_sym_record_vertex(const twinn_sym *s, const double *rows, size_t r, double *v) {
  size_t n = s->net[0]->n_in;
  const double *lo = s->lo[0], *hi = s->hi[0], *up = rows, *dn = rows + r * n;
  for (size_t i = 0; i < n; i++) {
    v[i] = up[i] > 0.0 ? hi[i] : lo[i];
    v[n + i] = dn[i] > 0.0 ? lo[i] : hi[i];
  }
}

void twinn_sym_backsub(twinn_sym *s, int w, size_t p, size_t r, double *lo, double *hi,
                       double *in_coef) {
  const twinn_net *net = s->net[w];
  double *cur = s->a[0], *nxt = s->a[1];
  /* cur holds only the live columns of point q: of the ReLU it feeds (an affine step's input,
   * see backsub_relu) or of the ReLU whose output it is (cpack, a ReLU step's input) */
  int packed = s->start_packed;
  s->start_packed = 0;
  double *keep = twinn_symand_applies(s, w, p) && r <= SYM_BLOCK ? twinn_symand_rows(s, w) : NULL;
  for (size_t q = p; q > 0; q--) {
    const twinn_layer *ly = &net->layers[q - 1];
    if (q == 2 && keep) { /* the lower rows on the first ReLU's outputs (full width), for the
                           * hull planes (symand.c) */
      size_t m = width_at(s, 2);
      if (packed) { /* packed on the live neurons of point 1 (cpack) */
        size_t nc = s->nlive[w][1];
        const size_t *lv = s->live[w] + s->off[1];
        memset(keep, 0, r * m * sizeof(double));
        for (size_t i = 0; i < r; i++)
          for (size_t c = 0; c < nc; c++) keep[i * m + lv[c]] = cur[(r + i) * nc + c];
      } else {
        memcpy(keep, cur + r * m, r * m * sizeof(double));
      }
      memcpy(keep + SYM_BLOCK * m, s->cst + r, r * sizeof(double));
      memcpy(keep + SYM_BLOCK * m + SYM_BLOCK, s->er + r, r * sizeof(double));
    }
    size_t n = width_at(s, q - 1), m = width_at(s, q);
    if (ly->kind == TWINN_LAYER_AFFINE) {
      const double *wm = ly->w, *bv = ly->b, *ew = s->ew[w][q - 1];
      if (packed) {
        m = s->nlive[w][q];
        wm = s->pw[w][q - 1];
        bv = s->pb[w][q - 1];
        ew = s->pe[w][q - 1];
      }
      for (size_t i = 0; i < 2 * r; i++) {
        double acc = sym_dot_abs(cur + i * m, ew, m);
        s->er[i] += 2.0 * (acc + twinn_sym_gamma(width_at(s, q) + 1) * fabs(s->cst[i]));
      }
      twinn_symk_gemv_f64(2 * r, m, cur, m, bv, 1.0, s->cst);
      /* Only the columns of the ReLU below that are live (cpack), where the rows match. */
      if (s->cpack[q - 1] && (packed || !s->pack[q - 1])) {
        size_t nc = s->nlive[w][q - 2];
        twinn_sym_cols_ready(s, w, q - 1);
        twinn_symk_gemm_f64(2 * r, m, nc, cur, m, s->cw[w][q - 1], nc, 0.0, nxt, nc);
        packed = 1;
      } else {
        twinn_symk_gemm_f64(2 * r, m, n, cur, m, wm, n, 0.0, nxt, n);
        packed = 0;
      }
    } else {
      int in = packed;
      packed = q >= 2 && s->pack[q - 2];
      backsub_relu(s, w, q - 1, r, cur, nxt, packed, in);
    }
    double *t = cur;
    cur = nxt;
    nxt = t;
  }
  size_t n_in = net->n_in;
  twinn_sym_concretise_rows(s, cur, r, lo, hi);
  if (keep) twinn_symand_bound_rows(s, w, r, lo);
  if (in_coef) {
    for (size_t i = 0; i < n_in; i++) in_coef[i] = fabs(cur[i]) * (s->hi[0][i] - s->lo[0][i]);
    twinn_sym_record_vertex(s, cur, r, s->vtx + (size_t)w * 2 * n_in);
  }
}

static void abs_products(twinn_sym *s, size_t k) {
  const twinn_layer *ly = &s->net[0]->layers[k];
  size_t m = ly->n_out, n = ly->n_in, o = s->off[k];
  twinn_symk_gemv_f64(m, n, s->wsa[0][k], n, s->mag[0] + o, 0.0, s->am[0]);
  if (!s->net[1]) return;
  twinn_symk_gemv_f64(m, n, s->wsa[1][k], n, s->mag[1] + o, 0.0, s->am[1]);
  twinn_symk_gemv_f64(m, n, s->wsa[2][k], n, s->mag[0] + o, 0.0, s->am[2]);
  twinn_symk_gemv_f64(m, n, s->wsa[1][k], n, s->mag[2] + o, 0.0, s->am[3]);
}

/* Whether the first layer's interval step may reuse c0_val (point 0's bounds are c0_key's);
 * otherwise makes c0_key theirs, for the outputs the step will store. */
static int c0_check(twinn_sym *s) {
  size_t n = s->net[0]->n_in, nb = s->net[1] ? 3 : 1;
  int same = s->c0_ok;
  for (size_t i = 0; i < nb && same; i++)
    same = memcmp(s->c0_key + 2 * i * n, s->lo[i], n * sizeof(double)) == 0 &&
           memcmp(s->c0_key + (2 * i + 1) * n, s->hi[i], n * sizeof(double)) == 0;
  if (same) return 1;
  s->c0_ok = 0;
  for (size_t i = 0; i < nb; i++) {
    memcpy(s->c0_key + 2 * i * n, s->lo[i], n * sizeof(double));
    memcpy(s->c0_key + (2 * i + 1) * n, s->hi[i], n * sizeof(double));
  }
  return 0;
}

/* For layer k = 0: when reusing, copies slot `slot` (len entries) of c0_val into dst and
 * returns 1; else returns 0 (the caller computes dst and twinn_sym_c0_put stores it). */
int twinn_sym_c0_get(const twinn_sym *s, size_t k, size_t slot, double *dst, size_t len) {
  if (k != 0 || !s->c0_hit) return 0;
  memcpy(dst, s->c0_val + slot * len, len * sizeof(double));
  return 1;
}
void twinn_sym_c0_put(twinn_sym *s, size_t k, size_t slot, const double *src, size_t len) {
  if (k == 0) memcpy(s->c0_val + slot * len, src, len * sizeof(double));
}

void twinn_sym_abs_products(twinn_sym *s, size_t k) {
  size_t m = s->net[0]->layers[k].n_out;
  if (twinn_sym_c0_get(s, k, 0, s->am[0], m)) {
    if (s->net[1])
      for (int i = 1; i < 4; i++) twinn_sym_c0_get(s, k, (size_t)i, s->am[i], m);
    return;
  }
  abs_products(s, k);
  for (int i = 0; i < (s->net[1] ? 4 : 1); i++) twinn_sym_c0_put(s, k, (size_t)i, s->am[i], m);
}

/* Error weights of affine layer k of network w from the bounds M of point k (see the top). */
static void affine_weights(twinn_sym *s, int w, size_t k) {
  const twinn_layer *ly = &s->net[w]->layers[k];
  size_t m = ly->n_out;
  for (size_t j = 0; j < m; j++)
    s->ew[w][k][j] =
        2.0 * (twinn_sym_gamma(m) * s->am[w][j] + twinn_sym_gamma(m + 1) * fabs(ly->b[j]));
}

void twinn_sym_gemv_pair(twinn_sym *s, size_t r, size_t m, const double *a, const double *xl,
                         const double *xh, double *vl, double *vh) {
  double *x2 = s->gv, *y2 = s->gv + 8 * s->max_w;
  TWINN_ASSERT(m <= 4 * s->max_w && r <= s->max_w);
  for (size_t q = 0; q < m; q++) x2[2 * q] = xl[q], x2[2 * q + 1] = xh[q];
  for (size_t j = 0; j < r; j++) y2[2 * j] = vl[j], y2[2 * j + 1] = vh[j];
  twinn_symk_gemm_f64(r, m, 2, a, m, x2, 2, 1.0, y2, 2);
  for (size_t j = 0; j < r; j++) vl[j] = y2[2 * j], vh[j] = y2[2 * j + 1];
}

/* Bounds of point k + 1 of network w after affine layer k, first step: interval arithmetic
 * from point k, as b + W+ lo + W- hi and b + W+ hi + W- lo. Each is a float sum of at most
 * 2n + 1 nonzero terms (products by the zero entries of W+ / W- are exact zeros) in any order:
 * within gamma_{2n+1} of their magnitudes, which |b| + |W| M bounds. */
static void affine_interval(twinn_sym *s, int w, size_t k) {
  const twinn_layer *ly = &s->net[w]->layers[k];
  size_t m = ly->n_out, n = ly->n_in;
  double *lo = s->lo[w] + s->off[k + 1], *hi = s->hi[w] + s->off[k + 1];
  const double *plo = s->lo[w] + s->off[k], *phi = s->hi[w] + s->off[k];
  double *vl = s->row, *vh = s->row + s->max_w;
  memcpy(vl, ly->b, m * sizeof(double));
  memcpy(vh, ly->b, m * sizeof(double));
  double *xl = s->row + 2 * s->max_w, *xh = xl + 2 * n;
  memcpy(xl, plo, n * sizeof(double));
  memcpy(xl + n, phi, n * sizeof(double));
  memcpy(xh, phi, n * sizeof(double));
  memcpy(xh + n, plo, n * sizeof(double));
  if (!twinn_sym_c0_get(s, k, 4 + 2 * (size_t)w, vl, m) ||
      !twinn_sym_c0_get(s, k, 5 + 2 * (size_t)w, vh, m)) {
    twinn_sym_gemv_pair(s, m, 2 * n, s->wpn[w][k], xl, xh, vl, vh);
    twinn_sym_c0_put(s, k, 4 + 2 * (size_t)w, vl, m);
    twinn_sym_c0_put(s, k, 5 + 2 * (size_t)w, vh, m);
  }
  for (size_t j = 0; j < m; j++) {
    double mag = fabs(ly->b[j]) + s->am[w][j];
    double extra = (2.0 * twinn_sym_gamma(2 * n + 4) * mag + SYM_ETA) * SYM_ESLACK;
    lo[j] = twinn_round_down(vl[j] - extra);
    hi[j] = twinn_round_up(vh[j] + extra);
  }
}

/* Second step: intersection with back-substitution in blocks of SYM_BLOCK neurons. Before a
 * ReLU, neurons that the interval step proves inactive in f and g, or that are dead on a box
 * containing this one (twinn_sym_set_dead), are skipped: their ReLU outputs are exactly 0 (also
 * h_d) whatever their bounds, and back-substitution is most of the cost. (Skipping stable active
 * ones too loosens g - f: its interval step needs their bounds.) */
static void affine_backsub(twinn_sym *s, int w, size_t k) {
  const twinn_layer *ly = &s->net[w]->layers[k];
  size_t m = ly->n_out, n = ly->n_in, nr = 0, o = s->off[k + 1];
  double *lo = s->lo[w] + o, *hi = s->hi[w] + o;
  for (size_t j = 0; j < m; j++) {
    int keep = !s->pack[k] || ((hi[j] > 0.0 || (s->net[1] && s->hi[1 - w][o + j] > 0.0)) &&
                               !twinn_sym_skip_row(s, o + j));
    if (keep) s->sel[nr++] = j;
  }
  for (size_t j0 = 0; j0 < nr; j0 += SYM_BLOCK) {
    size_t r = nr - j0 < SYM_BLOCK ? nr - j0 : SYM_BLOCK;
    /* The rows on the live neurons of the ReLU before (cpack): the others' outputs are 0. */
    size_t nc = s->cpack[k] ? s->nlive[w][k - 1] : n;
    const size_t *lv = s->cpack[k] ? s->live[w] + s->off[k - 1] : NULL;
    for (size_t i = 0; i < r; i++) {
      size_t j = s->sel[j0 + i];
      const double *wr = ly->w + j * n;
      double *up = s->a[0] + i * nc, *dn = s->a[0] + (r + i) * nc;
      if (lv) {
        for (size_t c = 0; c < nc; c++) up[c] = dn[c] = wr[lv[c]];
      } else {
        memcpy(up, wr, n * sizeof(double));
        memcpy(dn, wr, n * sizeof(double));
      }
      s->cst[i] = s->cst[r + i] = ly->b[j];
      s->er[i] = s->er[r + i] = 0.0;
    }
    s->start_packed = lv != NULL;
    s->hs_defer = 1;
    twinn_sym_backsub(s, w, k, r, s->blk, s->blk + SYM_BLOCK, NULL);
    s->hs_defer = 0;
    for (size_t i = 0; i < r; i++) {
      size_t j = s->sel[j0 + i];
      lo[j] = twinn_fmax(lo[j], s->blk[i]);
      hi[j] = twinn_fmin(hi[j], s->blk[SYM_BLOCK + i]);
      /* Split half-spaces (symhalf.c) only where the neuron is still unstable before a ReLU
       * or at the output: elsewhere its relaxation is exact whatever the bounds. */
      if (s->nhs && (!s->pack[k] || (lo[j] < 0.0 && hi[j] > 0.0))) {
        twinn_sym_refine_row(s, i, r, &s->blk[i], &s->blk[SYM_BLOCK + i]);
        lo[j] = twinn_fmax(lo[j], s->blk[i]);
        hi[j] = twinn_fmin(hi[j], s->blk[SYM_BLOCK + i]);
      }
    }
  }
}

/* Pair: g = f + d at point p, so each of the three bounds tightens the others. */
static void tighten_pair(twinn_sym *s, size_t p) {
  size_t o = s->off[p], n = width_at(s, p);
  double *lf = s->lo[0] + o, *uf = s->hi[0] + o, *lg = s->lo[1] + o, *ug = s->hi[1] + o;
  double *ld = s->lo[2] + o, *ud = s->hi[2] + o;
  for (size_t j = 0; j < n; j++) {
    lg[j] = twinn_fmax(lg[j], twinn_round_down(lf[j] + ld[j]));
    ug[j] = twinn_fmin(ug[j], twinn_round_up(uf[j] + ud[j]));
    ld[j] = twinn_fmax(ld[j], twinn_round_down(lg[j] - uf[j]));
    ud[j] = twinn_fmin(ud[j], twinn_round_up(ug[j] - lf[j]));
    lf[j] = twinn_fmax(lf[j], twinn_round_down(lg[j] - ud[j]));
    uf[j] = twinn_fmin(uf[j], twinn_round_up(ug[j] - ld[j]));
  }
}

/* Lists the live neurons of network w's ReLU at point p from its relaxation; returns 1 if the
 * list changed. */
int twinn_sym_relax_live(twinn_sym *s, int w, size_t p) {
  size_t o = s->off[p], n = width_at(s, p), nl = 0;
  int changed = 0;
  for (size_t j = 0; j < n; j++) /* rt alone can be nonzero when a tiny chord slope rounds to 0. */
    if (s->rs[w][o + j] != 0.0 || s->ra[w][o + j] != 0.0 || s->rt[w][o + j] != 0.0 ||
        (s->beta_w == w && s->beta[w][o + j] != 0.0)) {
      changed |= nl >= s->nlive[w][p] || s->live[w][o + nl] != j;
      s->live[w][o + nl++] = j;
    }
  changed |= nl != s->nlive[w][p];
  s->nlive[w][p] = nl;
  if (changed) twinn_sym_cols_changed(s, w, p);
  return changed;
}

void twinn_sym_cols_changed(twinn_sym *s, int i, size_t p) {
  if (p >= 1) s->cdirty[i][p - 1] = 1;
  if (p + 1 < s->n_layers) s->cdirty[i][p + 1] = 1;
}

void twinn_sym_cols_ready(twinn_sym *s, int i, size_t k) {
  if (!s->cdirty[i][k]) return;
  size_t n = width_at(s, k), nc = s->nlive[i][k - 1], m = width_at(s, k + 1);
  const size_t *lc = s->live[i] + s->off[k - 1], *lr = NULL;
  if (s->pack[k]) {
    m = s->nlive[i][k + 1];
    lr = s->live[i] + s->off[k + 1];
  }
  for (int t = 0; t < (i < 2 ? 1 : 2); t++) {
    const double *src = i < 2 ? s->net[i]->layers[k].w : s->net[t ? 0 : 1]->layers[k].w;
    double *dst = s->cw[i < 2 ? i : 2 + 2 * t][k];
    for (size_t r = 0; r < m; r++) {
      const double *row = src + (lr ? lr[r] : r) * n;
      for (size_t c = 0; c < nc; c++) dst[r * nc + c] = row[lc[c]];
    }
  }
  s->cdirty[i][k] = 0;
}

/* Splits, tightening, emptiness and overflow checks and ReLU relaxations of point p. Returns 0
 * when the analysis must stop (infeasible or overflow). */
static int settle_point(twinn_sym *s, size_t p) {
  size_t o = s->off[p], n = width_at(s, p);
  int n_nets = s->net[1] ? 2 : 1;
  int relu = p < s->n_layers && s->net[0]->layers[p].kind == TWINN_LAYER_RELU;
  s->relax_changed = 0;
  if (relu)
    for (int w = 0; w < n_nets; w++)
      for (size_t j = 0; j < n; j++) {
        if (s->split[w][o + j] > 0) s->lo[w][o + j] = twinn_fmax(s->lo[w][o + j], 0.0);
        if (s->split[w][o + j] < 0) s->hi[w][o + j] = twinn_fmin(s->hi[w][o + j], 0.0);
        if (twinn_sym_is_dead(s, o + j)) s->hi[w][o + j] = twinn_fmin(s->hi[w][o + j], 0.0);
        if (twinn_sym_is_active(s, o + j)) s->lo[w][o + j] = twinn_fmax(s->lo[w][o + j], 0.0);
      }
  for (int w = 0; w < n_nets; w++) /* twinn_sym_set_prior: bounds over a superset, still sound */
    if (s->plo[w])
      for (size_t j = 0; j < n; j++) {
        s->lo[w][o + j] = twinn_fmax(s->lo[w][o + j], s->plo[w][o + j]);
        s->hi[w][o + j] = twinn_fmin(s->hi[w][o + j], s->phi[w][o + j]);
      }
  if (s->net[1]) tighten_pair(s, p);
  for (int i = 0; i < (s->net[1] ? 3 : 1); i++)
    for (size_t j = 0; j < n; j++) {
      double l = s->lo[i][o + j], h = s->hi[i][o + j];
      /* Bounds within SYM_TINY of 0 move outward to 0 or +-SYM_TINY (sound: the interval only
       * grows). Outward rounding turns an exact 0 into +-DBL_MIN, and its products with weights
       * are subnormal, which costs this CPU a microcode assist per operation: on ACAS Xu fp16
       * twins the interval step of g - f ran 7x slower per flop than f's. */
      if (fabs(l) < SYM_TINY) l = s->lo[i][o + j] = l < 0.0 ? -SYM_TINY : 0.0;
      if (fabs(h) < SYM_TINY) h = s->hi[i][o + j] = h > 0.0 ? SYM_TINY : 0.0;
      /* Sound bounds that cross prove that no input of the box reaches this point. */
      if (l > h) s->infeasible = 1;
      if (!isfinite(l) || !isfinite(h)) s->overflow = 1;
    }
  if (s->infeasible || s->overflow) return 0;
  for (int i = 0; i < (s->net[1] ? 3 : 1); i++)
    for (size_t j = 0; j < n; j++) s->mag[i][o + j] = maxabs(s->lo[i][o + j], s->hi[i][o + j]);
  if (relu)
    for (int w = 0; w < n_nets; w++) {
      for (size_t j = 0; j < n; j++) {
        twinn_sym_relu_relax(s->lo[w][o + j], s->hi[w][o + j], &s->rs[w][o + j], &s->rt[w][o + j],
                             &s->ra[w][o + j]);
        /* A pair's neuron split active in this network and inactive in the other: the region
         * is a sliver where 0 <= z_w <= -d (tighten_pair gave z_w that range), but the
         * identity relu(z_w) = z_w, concretised over the box, would span z_w's whole range
         * (about 1 on MNIST against 1e-3). The constants 0 <= relu(z_w) <= hi keep the sliver
         * narrow (sound: z_w is in [lo, hi] with lo >= 0). Measured on mnist_256x4 fp16 img0
         * with one first-layer neuron split so: L-inf bound 0.99 with the identity, 0.053
         * with the constants (0.053 with the phases equal). */
        if (n_nets == 2 && s->split[w][o + j] > 0 && s->split[1 - w][o + j] < 0)
          s->rs[w][o + j] = 0.0, s->rt[w][o + j] = s->hi[w][o + j], s->ra[w][o + j] = 0.0;
      }
      if (twinn_sym_relax_live(s, w, p)) s->relax_changed |= 1u << w;
    }
  return 1;
}

/* The error weights of the packed rows of affine layer k - 1 (per analysis, unlike the rows),
 * for f, g and the pair's rows as bits 0, 1, 2 of mask select. */
static void pack_errors(twinn_sym *s, size_t k, unsigned mask) {
  if (k == 0 || !s->pack[k - 1]) return;
  size_t o = s->off[k];
  for (int w = 0; w < (s->net[1] ? 3 : 1); w++) {
    if (!(mask >> w & 1u)) continue;
    const size_t *lv = s->live[w] + o;
    for (size_t c = 0; c < s->nlive[w][k]; c++)
      if (w < 2) {
        s->pe[w][k - 1][c] = s->ew[w][k - 1][lv[c]];
      } else {
        s->pe[2][k - 1][c] = s->ewd[k - 1][lv[c]];
        s->pe[3][k - 1][c] = s->ewf[k - 1][lv[c]];
      }
  }
}

/* Packs the rows of affine layer k - 1 on the live neurons of the ReLU at point k (pack[]), for
 * f, g and the pair's rows as bits 0, 1, 2 of mask select. */
void twinn_sym_pack_layer(twinn_sym *s, size_t k, unsigned mask) {
  if (k == 0 || !s->pack[k - 1]) return;
  size_t n = width_at(s, k - 1), o = s->off[k];
  for (int w = 0; w < (s->net[1] ? 3 : 1); w++) {
    if (!(mask >> w & 1u)) continue;
    const size_t *lv = s->live[w] + o;
    for (size_t c = 0; c < s->nlive[w][k]; c++) {
      size_t j = lv[c];
      if (w < 2) {
        const twinn_layer *ly = &s->net[w]->layers[k - 1];
        memcpy(s->pw[w][k - 1] + c * n, ly->w + j * n, n * sizeof(double));
        s->pb[w][k - 1][c] = ly->b[j];
        continue;
      }
      memcpy(s->pw[2][k - 1] + c * n, s->net[1]->layers[k - 1].w + j * n, n * sizeof(double));
      memcpy(s->pw[3][k - 1] + c * n, s->dw[k - 1] + j * n, n * sizeof(double));
      memcpy(s->pw[4][k - 1] + c * n, s->net[0]->layers[k - 1].w + j * n, n * sizeof(double));
      s->pb[2][k - 1][c] = s->db[k - 1][j];
      s->pb[3][k - 1][c] = s->net[0]->layers[k - 1].b[j];
    }
  }
  pack_errors(s, k, mask);
}

twinn_status twinn_sym_analyse(twinn_sym *s, const double *lo, const double *hi, twinn_error *err) {
  size_t n_in = s->net[0]->n_in;
  int n_nets = s->net[1] ? 2 : 1;
  s->analysed = 0;
  s->infeasible = s->overflow = 0;
  for (size_t i = 0; i < n_in; i++)
    if (!isfinite(lo[i]) || !isfinite(hi[i]) || lo[i] > hi[i])
      return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0,
                             "symbolic: input %zu has an empty or unbounded range", i);
  for (int w = 0; w < n_nets; w++) {
    memcpy(s->lo[w], lo, n_in * sizeof(double));
    memcpy(s->hi[w], hi, n_in * sizeof(double));
  }
  if (s->net[1])
    for (size_t i = 0; i < n_in; i++) s->lo[2][i] = s->hi[2][i] = 0.0;
  s->analysed = 1;
  twinn_symhalf_collect(s);
  for (int w = 0; w < n_nets; w++) s->osc_set[w] = 0; /* branching scores: none yet */
  s->bw_ok = s->bw_set = 0;
  size_t k = 0;
  if (settle_point(s, 0))
    for (; k < s->n_layers; k++) {
      size_t o = s->off[k], o1 = s->off[k + 1], n = width_at(s, k);
      if (s->net[0]->layers[k].kind == TWINN_LAYER_RELU) {
        for (int w = 0; w < n_nets; w++)
          for (size_t j = 0; j < n; j++) {
            s->lo[w][o1 + j] = twinn_fmax(s->lo[w][o + j], 0.0);
            s->hi[w][o1 + j] = twinn_fmax(s->hi[w][o + j], 0.0);
          }
        /* Rows are packed again only where a live list changed since they were packed (every
         * change of one is followed by a packing: here, symopt.c, set_slopes); their error
         * weights are this analysis' own. */
        unsigned changed = s->relax_changed;
        if (s->net[1] && twinn_symdiff_relu(s, k, 1)) changed |= 4u;
        twinn_sym_pack_layer(s, k, changed);
        pack_errors(s, k, 7u & ~changed);
      } else {
        if (k == 0) s->c0_hit = c0_check(s);
        twinn_sym_abs_products(s, k);
        for (int w = 0; w < n_nets; w++) affine_weights(s, w, k);
        for (int w = 0; w < n_nets; w++) affine_interval(s, w, k);
        affine_backsub(s, 0, k);
        if (s->net[1]) {
          twinn_symdiff_weights(s, k);
          twinn_symdiff_affine(s, k);
          /* Before a ReLU, g's bounds come from f + (g - f) (settle_point's tightening) and
           * its interval step: g's own back-substitution would rarely be tighter (twins differ
           * little) and costs about a sixth of the analysis (measured on ACAS Xu). */
          if (!s->pack[k]) affine_backsub(s, 1, k);
        }
        if (k == 0) s->c0_ok = 1, s->c0_hit = 0; /* c0_val now holds the step's outputs */
      }
      if (!settle_point(s, k + 1)) {
        k++;
        break;
      }
    }
  /* After an overflow or an empty region, later points get the trivial bounds. */
  for (int i = 0; i < (s->net[1] ? 3 : 1); i++)
    for (size_t j = s->off[k + 1]; j < s->off[s->n_points]; j++) {
      s->lo[i][j] = -INFINITY;
      s->hi[i][j] = INFINITY;
    }
  return TWINN_OK;
}

int twinn_sym_infeasible(const twinn_sym *s) { return s->analysed && s->infeasible; }

/* The product network: two linear forms of the same inputs, each a pair of final rows
 * (2 n_in: the upper row, then the lower; constants cst[2], error terms er[2]), summed before
 * the box is concretised, so that what both networks do alike cancels. rows += add, with the
 * sum's rounding (2^-53 |sum| per coefficient times the box's largest |x_i|, and of the
 * constants, doubled) added to er. s gives the box. */
static void add_rows(const twinn_sym *s, double *rows, double *cst, double *er, const double *add,
                     const double *acst, const double *aer) {
  size_t n = s->net[0]->n_in;
  const double *blo = s->lo[0], *bhi = s->hi[0];
  for (int k = 0; k < 2; k++) {
    double *row = rows + (size_t)k * n, extra = 0.0;
    const double *ar = add + (size_t)k * n;
    for (size_t i = 0; i < n; i++) {
      row[i] += ar[i];
      extra += fabs(row[i]) * twinn_fmax(fabs(blo[i]), fabs(bhi[i]));
    }
    cst[k] += acst[k];
    extra = twinn_round_up((extra + fabs(cst[k])) * 0x1p-52 * (1.0 + 1e-10));
    er[k] = twinn_round_up(twinn_round_up(er[k] + aer[k]) + extra);
  }
}

/* The ends [*lo, *hi] of add_rows' sum over the box of s; with its split half-spaces too (each
 * row holds on the region, so their sum does) where s has them and the box bound already beats
 * best_lo / best_hi (they are costly: a fifth of a MNIST region's time). Non-finite constants
 * or error terms leave the end as it was. */
static void rows_ends(const twinn_sym *s, const double *rows, const double *cst, const double *er,
                      double best_lo, double best_hi, double *lo, double *hi) {
  size_t n = s->net[0]->n_in;
  for (int k = 0; k < 2; k++) {
    const double *row = rows + (size_t)k * n;
    double v;
    if (!isfinite(cst[k]) || !isfinite(er[k])) continue;
    v = twinn_sym_concretise_box(s, row, cst[k], er[k], k == 0);
    if (s->nhs && isfinite(v) && (k == 0 ? v < best_hi : v > best_lo))
      v = twinn_symhalf_concretise(s, row, cst[k], er[k], k == 0, v);
    if (k == 0)
      *hi = v;
    else
      *lo = v;
  }
}

/* A pair's product-network form of  c_f . f + c_g . g : f's final rows (kept in s->prow by
 * lin_once) plus g's (s->fin, just computed). Where the twins are far apart (a pruned twin, not
 * fine-tuned) it beats both the difference form, whose ReLU steps relax a wide d, and the
 * separate bounds. */
static void product_rows(twinn_sym *s) {
  add_rows(s, s->prow, s->pcst, s->per, s->fin, s->cst, s->er);
}

/* One bound of  c_f . f + c_g . g  with the current relaxations (see twinn_sym_bound_lin); sets
 * s->coef and points *vlo / *vhi at the vertices (in s->vtx) where the ends are attained. */
static int all_zero(const double *c, size_t n) {
  for (size_t j = 0; j < n; j++)
    if (c[j] != 0.0) return 0;
  return 1;
}

/* After the difference form's back-substitution (its rows in s->fin, r = 1) with upper end h:
 * its upper row into s->urow, valid on the whole box unless split constraints shaped it. */
static void keep_upper_row(twinn_sym *s, double h) {
  size_t n_in = s->net[0]->n_in;
  s->urow_ok = 0;
  if (!isfinite(h) || s->nhs || s->n_split) return;
  for (size_t i = 0; i < n_in; i++)
    if (!isfinite(s->urow[i] = s->fin[i])) return;
  s->urow[n_in] = twinn_round_up(s->cst[0] + s->er[0]);
  s->urow_ok = isfinite(s->urow[n_in]);
}

int twinn_sym_diff_upper_row(const twinn_sym *s, double *row) {
  if (!s->urow_ok) return 0;
  memcpy(row, s->urow, (s->net[0]->n_in + 1) * sizeof(double));
  return 1;
}

static void lin_once(twinn_sym *s, const double *c_f, const double *c_g, double *lo, double *hi,
                     const double **vlo, const double **vhi) {
  size_t L = s->n_layers, n_out = width_at(s, L), n_in = s->net[0]->n_in;
  double l1, h1;
  s->bw_cur = 0;
  /* Without g terms the difference form is f's own bound again (top-1 constraints of a pair);
   * without f terms f's part is exactly 0 and its back-substitution is skipped. */
  if (c_g && all_zero(c_g, n_out)) c_g = NULL;
  int f_part = !c_g || !all_zero(c_f, n_out);
  /* twinn_sym_set_diff_only: the difference form's back-substitution alone (below). */
  int d_only = s->diff_only && c_g && f_part;
  if (d_only) {
    l1 = -INFINITY, h1 = INFINITY;
    memset(s->coef, 0, n_in * sizeof(double));
    *vhi = s->vtx + 4 * n_in;
    *vlo = s->vtx + 5 * n_in;
  } else if (f_part) {
    memcpy(s->a[0], c_f, n_out * sizeof(double));
    memcpy(s->a[0] + n_out, c_f, n_out * sizeof(double));
    s->cst[0] = s->cst[1] = s->er[0] = s->er[1] = 0.0;
    twinn_sym_backsub(s, 0, L, 1, &l1, &h1, s->coef);
    *vhi = s->vtx;
    *vlo = s->vtx + n_in;
    if (c_g) { /* f's final rows, for the product network's form below */
      memcpy(s->prow, s->fin, 2 * n_in * sizeof(double));
      s->pcst[0] = s->cst[0], s->pcst[1] = s->cst[1];
      s->per[0] = s->er[0], s->per[1] = s->er[1];
    }
  } else {
    l1 = h1 = 0.0;
    memset(s->coef, 0, n_in * sizeof(double));
    *vhi = s->vtx + 2 * n_in; /* g's, recorded below */
    *vlo = s->vtx + 3 * n_in;
  }
  if (!c_g) {
    *lo = l1;
    *hi = h1;
    return;
  }
  double l2, h2, l3, h3;
  double *coef_g = s->tmp, *coef_d = s->tmp + s->max_w;
  memcpy(s->a[0], c_g, n_out * sizeof(double));
  memcpy(s->a[0] + n_out, c_g, n_out * sizeof(double));
  s->cst[0] = s->cst[1] = s->er[0] = s->er[1] = 0.0;
  if (d_only) {
    l2 = -INFINITY, h2 = INFINITY;
    memset(coef_g, 0, n_in * sizeof(double));
  } else {
    twinn_sym_backsub(s, 1, L, 1, &l2, &h2, coef_g);
  }
  double sep_lo = twinn_round_down(l1 + l2), sep_hi = twinn_round_up(h1 + h2);
  double prod_lo = -INFINITY, prod_hi = INFINITY;
  if (f_part && !d_only) product_rows(s); /* before the difference form's rows replace g's */
  /* The rewritten form's f-coefficients c_f + c_g are rounded: u |c| M each, doubled. */
  const double *mlo = s->lo[0] + s->off[L], *mhi = s->hi[0] + s->off[L];
  double e0 = 0.0;
  for (size_t j = 0; j < n_out; j++) {
    double c = c_f[j] + c_g[j];
    s->a[0][j] = s->a[0][n_out + j] = c;
    s->ad[0][j] = s->ad[0][n_out + j] = c_g[j];
    e0 += fabs(c) * maxabs(mlo[j], mhi[j]);
  }
  s->cst[0] = s->cst[1] = 0.0;
  s->er[0] = s->er[1] = 2.0 * twinn_sym_gamma(0) * e0;
  twinn_symdiff_backsub(s, L, 1, &l3, &h3, coef_d);
  keep_upper_row(s, h3);
  if (f_part && !d_only)
    rows_ends(s, s->prow, s->pcst, s->per, twinn_fmax(sep_lo, l3), twinn_fmin(sep_hi, h3), &prod_lo,
              &prod_hi);
  *lo = twinn_fmax(twinn_fmax(sep_lo, l3), prod_lo);
  *hi = twinn_fmin(twinn_fmin(sep_hi, h3), prod_hi);
  s->bw_cur = h3 <= sep_hi && h3 <= prod_hi;
  if (l3 >= sep_lo) *vlo = s->vtx + 5 * n_in;
  if (prod_hi < twinn_fmin(sep_hi, h3)) { /* the summed form's sensitivities (its row in s->prow) */
    for (size_t i = 0; i < n_in; i++) s->coef[i] = fabs(s->prow[i]) * (s->hi[0][i] - s->lo[0][i]);
  } else if (h3 <= sep_hi) {
    *vhi = s->vtx + 4 * n_in;
    memcpy(s->coef, coef_d, n_in * sizeof(double));
  } else {
    for (size_t i = 0; i < n_in; i++) s->coef[i] += coef_g[i];
  }
}

void twinn_sym_set_alpha_steps(twinn_sym *s, size_t steps) { s->alpha_steps = steps; }

void twinn_sym_set_skip_active(twinn_sym *s, int on) { s->skip_active = on != 0; }

void twinn_sym_set_stable_exact(twinn_sym *s, int on) { s->stable_exact = on != 0; }

void twinn_sym_set_diff_only(twinn_sym *s, int on) { s->diff_only = on != 0; }

void twinn_sym_set_dead(twinn_sym *s, const unsigned char *bits) { s->dead = bits; }

size_t twinn_sym_dead_bytes(const twinn_sym *s) { return (s->off[s->n_points] + 7) / 8; }

void twinn_sym_set_active(twinn_sym *s, const unsigned char *bits) { s->active = bits; }

/* The bits of the ReLU inputs whose bounds (upper ends when upper, else lower ends) are <= 0
 * (upper) or >= 0 in every network. */
static int phase_bits(const twinn_sym *s, int upper, unsigned char *bits) {
  int n_nets = s->net[1] ? 2 : 1;
  if (!s->analysed || s->infeasible || s->overflow) return 0;
  memset(bits, 0, twinn_sym_dead_bytes(s));
  for (size_t p = 0; p < s->n_layers; p++) {
    if (s->net[0]->layers[p].kind != TWINN_LAYER_RELU) continue;
    for (size_t x = s->off[p]; x < s->off[p + 1]; x++) {
      int in = 1;
      for (int w = 0; w < n_nets && in; w++) in = upper ? s->hi[w][x] <= 0.0 : s->lo[w][x] >= 0.0;
      if (in) bits[x >> 3] |= (unsigned char)(1u << (x & 7));
    }
  }
  return 1;
}

int twinn_sym_dead_bits(const twinn_sym *s, unsigned char *bits) { return phase_bits(s, 1, bits); }

int twinn_sym_active_bits(const twinn_sym *s, unsigned char *bits) {
  return phase_bits(s, 0, bits);
}

void twinn_sym_set_anderson(twinn_sym *s, size_t rounds) { s->and_opt = rounds; }

/* Values of f (and g) at every point for input x, in plain float: they only guide the choice
 * of slopes. */
static void eval_points(twinn_sym *s, const double *x) {
  for (int w = 0; w < (s->net[1] ? 2 : 1); w++) {
    double *z = s->zv[w];
    memcpy(z, x, s->net[w]->n_in * sizeof(double));
    for (size_t k = 0; k < s->n_layers; k++) {
      const twinn_layer *ly = &s->net[w]->layers[k];
      double *in = z + s->off[k], *out = z + s->off[k + 1];
      if (ly->kind == TWINN_LAYER_AFFINE) {
        memcpy(out, ly->b, ly->n_out * sizeof(double));
        twinn_symk_gemv_f64(ly->n_out, ly->n_in, ly->w, ly->n_in, in, 1.0, out);
      } else {
        for (size_t j = 0; j < ly->n_out; j++) out[j] = in[j] > 0.0 ? in[j] : 0.0;
      }
    }
  }
}

/* Lower slopes of the unstable ReLUs (bounds straddling 0) of f and g: those of relu at the
 * values zv when from_values, else the analysis' own (ra0); then the pair's relaxations, live
 * lists and packed rows that depend on them. The point bounds and error weights stay: they do
 * not depend on the slopes, and every slope in [0, 1] gives a valid lower relaxation. */
static void set_slopes(twinn_sym *s, int from_values) {
  for (size_t k = 0; k < s->n_layers; k++) {
    if (s->net[0]->layers[k].kind != TWINN_LAYER_RELU) continue;
    size_t o = s->off[k], n = width_at(s, k);
    unsigned changed = 0;
    for (int w = 0; w < (s->net[1] ? 2 : 1); w++) {
      const double *lo = s->lo[w] + o, *hi = s->hi[w] + o, *z = s->zv[w] + o;
      for (size_t j = 0; j < n; j++)
        s->ra[w][o + j] =
            from_values && lo[j] < 0.0 && hi[j] > 0.0 ? (z[j] > 0.0 ? 1.0 : 0.0) : s->ra0[w][o + j];
      if (twinn_sym_relax_live(s, w, k)) changed |= 1u << w;
    }
    if (s->net[1] && twinn_symdiff_relu(s, k, 0)) changed |= 4u;
    if (changed) twinn_sym_pack_layer(s, k, changed);
  }
}

/* The neuron weights of the upper end just computed become bound_lin's (bw[1]); bounds where
 * the difference form did not give the upper end (or without c_g) leave none. */
static void keep_weights(twinn_sym *s) {
  s->bw_ok = s->bw[0] && s->bw_cur;
  if (s->bw_ok) memcpy(s->bw[1], s->bw[0], s->off[s->n_points] * sizeof(double));
}

void twinn_sym_keep_pair_weights(twinn_sym *s, double weight) {
  size_t total = s->off[s->n_points];
  if (!s->bw_ok || !s->analysed) return;
  if (!s->bw_set) memset(s->bw[2], 0, total * sizeof(double));
  s->bw_set = 1;
  for (size_t j = 0; j < total; j++) s->bw[2][j] += weight * s->bw[1][j];
}

const double *twinn_sym_pair_weights(const twinn_sym *s, size_t point) {
  if (!s->bw_set || !s->analysed || point >= s->n_points) return NULL;
  return s->bw[2] + s->off[point];
}

twinn_status twinn_sym_bound_lin(twinn_sym *s, const double *c_f, const double *c_g, double *lo,
                                 double *hi, twinn_error *err) {
  if (!s->analysed)
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: bound before analyse");
  if (c_g && !s->net[1])
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: c_g without g");
  size_t n_in = s->net[0]->n_in, total = s->off[s->n_points];
  memset(s->coef, 0, n_in * sizeof(double));
  *lo = -INFINITY;
  *hi = INFINITY;
  s->bw_ok = 0;
  s->urow_ok = 0;
  if (s->overflow || s->infeasible) return TWINN_OK;
  const double *vlo, *vhi;
  lin_once(s, c_f, c_g, lo, hi, &vlo, &vhi);
  keep_weights(s);
  if (!s->alpha_steps) return TWINN_OK;
  /* Each end in turn: slopes from the vertex where the last bound of that end was attained,
   * until the vertex repeats. Every round's bounds are sound; the tightest are kept. */
  double *x = s->vtx + 6 * n_in, *x_hi = s->vtx + 7 * n_in; /* lin_once rewrites vtx[0..6n) */
  memcpy(x_hi, vhi, n_in * sizeof(double));
  memcpy(s->coefb, s->coef, n_in * sizeof(double));
  for (int w = 0; w < (s->net[1] ? 2 : 1); w++) memcpy(s->ra0[w], s->ra[w], total * sizeof(double));
  for (int end = 0; end < 2; end++) {
    if (end)
      memcpy(x, x_hi, n_in * sizeof(double));
    else
      memcpy(x, vlo, n_in * sizeof(double));
    for (size_t t = 0; t < s->alpha_steps; t++) {
      double l, h;
      const double *nlo, *nhi;
      eval_points(s, x);
      set_slopes(s, 1);
      lin_once(s, c_f, c_g, &l, &h, &nlo, &nhi);
      *lo = twinn_fmax(*lo, l);
      if (h < *hi) {
        *hi = h;
        memcpy(s->coefb, s->coef, n_in * sizeof(double));
        keep_weights(s);
      }
      const double *nx = end ? nhi : nlo;
      if (!memcmp(nx, x, n_in * sizeof(double))) break;
      memcpy(x, nx, n_in * sizeof(double));
    }
  }
  set_slopes(s, 0);
  memcpy(s->coef, s->coefb, n_in * sizeof(double));
  return TWINN_OK;
}

/* One network's final rows of  c . f  (one plain back-substitution over the box alone: no
 * optimised slopes, no half-spaces) into rows (2 n_in), cst[2], er[2]. 0 if the analysis has
 * no bounds (overflow, infeasible). */
static int forms(twinn_sym *s, const double *c, double *rows, double *cst, double *er) {
  size_t L = s->n_layers, n_out = width_at(s, L), n_in = s->net[0]->n_in;
  double l, h;
  if (s->overflow || s->infeasible) return 0;
  memcpy(s->a[0], c, n_out * sizeof(double));
  memcpy(s->a[0] + n_out, c, n_out * sizeof(double));
  s->cst[0] = s->cst[1] = s->er[0] = s->er[1] = 0.0;
  s->hs_defer = 1; /* the box alone: the half-spaces' refinement would be wasted here */
  twinn_sym_backsub(s, 0, L, 1, &l, &h, NULL);
  s->hs_defer = 0;
  memcpy(rows, s->fin, 2 * n_in * sizeof(double));
  cst[0] = s->cst[0], cst[1] = s->cst[1];
  er[0] = s->er[0], er[1] = s->er[1];
  return 1;
}

void twinn_sym_sum_bounds(twinn_sym *sa, const double *c_a, twinn_sym *sb, const double *c_b,
                          double *a, double *b, double *lo, double *hi) {
  size_t n_in = sa->net[0]->n_in;
  double ca[2], ea[2], cb[2], eb[2];
  *lo = -INFINITY;
  *hi = INFINITY;
  if (sa->net[1] || sb->net[1] || sb->net[0]->n_in != n_in || !sa->analysed || !sb->analysed ||
      memcmp(sa->lo[0], sb->lo[0], n_in * sizeof(double)) != 0 ||
      memcmp(sa->hi[0], sb->hi[0], n_in * sizeof(double)) != 0 || !forms(sa, c_a, a, ca, ea) ||
      !forms(sb, c_b, b, cb, eb))
    return;
  add_rows(sa, a, ca, ea, b, cb, eb);
  /* Each workspace's half-spaces are its own network's splits: the box alone. */
  rows_ends(sa, a, ca, ea, INFINITY, -INFINITY, lo, hi);
}

const double *twinn_sym_input_coef(const twinn_sym *s) { return s->coef; }

const double *twinn_sym_point_lo(const twinn_sym *s, int which, size_t point) {
  if (which < 0 || which > 2 || point >= s->n_points || !s->lo[which] || !s->analysed) return NULL;
  return s->lo[which] + s->off[point];
}

const double *twinn_sym_point_hi(const twinn_sym *s, int which, size_t point) {
  if (which < 0 || which > 2 || point >= s->n_points || !s->hi[which] || !s->analysed) return NULL;
  return s->hi[which] + s->off[point];
}

const double *twinn_sym_out_lo(const twinn_sym *s, int which) {
  return twinn_sym_point_lo(s, which, s->n_layers);
}

const double *twinn_sym_out_hi(const twinn_sym *s, int which) {
  return twinn_sym_point_hi(s, which, s->n_layers);
}
