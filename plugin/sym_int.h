/* sym_int.h: the layout of twinn_sym, shared by symbolic.c (one network) and symdiff.c (the
 * difference of a pair). Not a public header: only those two files include it.
 * Row-major throughout; per-point arrays are flat with point k starting at off[k]. */
#ifndef TWINN_SYM_INT_H
#define TWINN_SYM_INT_H

#include <math.h>

#include "symbolic.h"

/* Target neurons back-substituted together: bounds scratch memory at 2 * SYM_BLOCK rows. */
#define SYM_BLOCK 128

/* A linear bound of one ReLU difference h_d = relu(z_f + d) - relu(z_f) in the pair's
 * variables at the ReLU's input point: h_d <= / >= cd * d + cf * z_f + cc. cd and cf are exact
 * (they are built from slopes that are multiples of 2^-52 in [0, 1]); cc is rounded outward. */
typedef struct {
  double cd, cf, cc;
} sym_lin2;

struct twinn_sym {
  const twinn_net *net[2]; /* f, g (g NULL for one network) */
  size_t n_layers, n_points, max_w;
  size_t *off; /* n_points + 1 offsets into the flat per-point arrays */
  /* Bounds per point for f, g, g - f (index TWINN_SYM_*), absent ones NULL. */
  double *lo[3], *hi[3];
  /* ReLU relaxation of each network at each ReLU input point (entries of other points unused):
   * relu(z) <= rs * z + rt and relu(z) >= ra * z on the point's bounds; rs is 0, 1 or a multiple
   * of 2^-52 in (0, 1), ra is 0 or 1, so 1 - rs and rs - ra are exact. */
  double *rs[2], *rt[2], *ra[2];
  /* Pair only: relaxation of h_d at each ReLU input point, stored by field (cd, cf, cc) so the
   * back-substitution loop reads contiguous arrays: dl[1] the upper bound, dl[0] the lower. */
  double *dl[2][3];
  /* Pair only, per ReLU input point entry: 1 where twinn_symdiff_affine left d's interval bound
   * (no back-substitution: both networks active, d narrow); h_d = d is used exactly there. */
  unsigned char *dskip;
  unsigned relax_changed; /* settle_point: bits 0, 1 if f's, g's live list at its point changed */
  int skip_active;        /* twinn_sym_set_skip_active */
  int stable_exact;       /* twinn_sym_set_stable_exact */
  int diff_only;          /* twinn_sym_set_diff_only */
  const unsigned char *dead;   /* twinn_sym_set_dead: bits over point entries, or NULL */
  const unsigned char *active; /* twinn_sym_set_active: the same, or NULL */
  /* Pair only: dw[k] = fl(W_g - W_f), db[k] = fl(b_g - b_f) of each affine layer k (else NULL). */
  double **dw, **db;
  /* Error weights of each affine layer k (n_out entries, per analysis): back-substituting
   * rows L through layer k adds  |L| . ew  (and |L_d| . ewd, |L_f| . ewf for the pair) to the
   * rows' error terms; see symbolic.c. */
  double **ew[2], **ewd, **ewf;
  signed char *split[2]; /* per ReLU input point: +1 active, -1 inactive, 0 free */
  /* max(|lo|, |hi|) of every settled point entry for f, g, g - f: the magnitudes M of the error
   * terms (set by settle_point, before any back-substitution reads them). */
  double *mag[3];
  /* Live neurons of each ReLU input point: those whose relaxation has a nonzero coefficient, for
   * f, g and the pair's rows (index 2), listed from live[i] + off[p], nlive[i][p] of them. Rows
   * are zero on the other neurons, so back-substitution carries only these columns ("packed")
   * from a ReLU step to the affine layer before it. */
  size_t *live[3], *nlive[3];
  /* pack[k]: affine layer k is followed by a ReLU, and its rows restricted to that ReLU's live
   * neurons are stored per analysis: pw[w][k], pb[w][k], pe[w][k] (W, b, error weights) for
   * network w, and for the pair pw[2..4] = W_g, dW, W_f, pb[2..3] = db, b_f, pe[2..3] = ewd, ewf
   * on the pair's live neurons. */
  unsigned char *pack;
  double **pw[5], **pb[4], **pe[4];
  /* cpack[k]: affine layer k (k >= 2) reads the output of a ReLU (layer k - 1) that follows a
   * packed affine layer. Its matrix restricted to that ReLU's live neurons (point k - 1) as
   * columns, and to the live neurons of the ReLU after it (point k + 1) as rows where pack[k]
   * (else all rows): cw[w][k] for f and g, cw[2][k] = W_g and cw[4][k] = W_f on the pair's
   * live lists (cw[3] unused: dW is read at layer 0 only). A back-substitution through it
   * computes only the columns the ReLU step below keeps (its other neurons have all-zero
   * relaxations) and hands them on packed. cdirty[i][k] (i = 0, 1, 2 for f, g, the pair): a
   * live list it depends on changed since cw was built (twinn_sym_cols_changed); built again
   * when next used. */
  unsigned char *cpack, *cdirty[3];
  double **cw[5];
  /* The next back-substitution's rows at point p are already packed on the live neurons of
   * the ReLU whose output p is (cpack[p]); each back-substitution resets it. */
  int start_packed;
  /* Sign parts of the affine matrices, exact, so that interval steps and error weights are
   * matrix-vector products (NULL entries for other layers). wpn[w] (w = 0 f, 1 g): rows
   * [max(W_j, 0) | min(W_j, 0)], m x 2n; wpn[2]: rows [W_g+ | W_g- | dW+ | dW-], m x 4n, with
   * dW = fl(W_g - W_f); wsa: |W| of f, g and dW (index 0, 1, 2). */
  double **wpn[3], **wsa[3];
  /* |W| M of the affine layer being analysed (max_w each): am[0] = |W_f| M_f, am[1] = |W_g| M_g,
   * am[2] = |dW| M_f, am[3] = |W_g| M_d, with M the magnitudes of its input point. */
  double *am[4];
  /* Scratch: ping-pong coefficient blocks (2 * SYM_BLOCK rows x max_w) for f-rows and d-rows,
   * and per-row constants and error terms. */
  double *a[2], *ad[2], *cst, *er;
  size_t *sel;  /* max_w: the neurons of a layer that get back-substituted */
  double *blk;  /* 2 * SYM_BLOCK: their back-substituted bounds (lower, then upper) */
  double *coef; /* n_in: |input coefficients| * width of the last bound_lin's upper bound */
  double *tmp;  /* 2 * max_w: the concrete input box and scratch */
  double *row;  /* 10 * max_w: full rows and per-entry terms of a ReLU step; interval steps */
  double *gv;   /* 10 * max_w: twinn_sym_gemv_pair's interleaved operands */
  /* Optimised lower slopes (twinn_sym_set_alpha_steps): rounds per bound end, the analysis'
   * own lower slopes ra0 (restored after each optimisation), the concrete values of f and g at
   * every point at a box vertex (zv, total entries each), the vertices where the last
   * bound_lin's forms attain their ends (vtx: f, g, pair; upper then lower; n_in each; then
   * two vertices of the optimisation itself), and
   * the input sensitivities of the best upper bound (coefb, n_in). */
  size_t alpha_steps;
  double *ra0[2], *zv[2], *vtx, *coefb;
  /* Optimised bounds (symopt.c): while beta_w is 0 or 1, back-substitution through network
   * beta_w adds the split multipliers beta[w] (>= 0, per ReLU input point entry) of its split
   * neurons to the rows, and those neurons stay live; -1 otherwise. opt: the optimiser's
   * scratch (allocated on first use); osc: per network and point entry, the branching scores
   * accumulated by the bound_opt calls since the last analysis; osc_set[w]: whether such a call
   * ran for network w since then (it zeroes the scores first; without one they are absent). */
  int beta_w, osc_set[2];
  double *beta[2], *opt, *osc[2];
  /* Pair workspaces: each ReLU neuron's weight in the upper end of the difference form of a
   * bound_lin (|d-coefficient| + |f-coefficient| of its output in the row, per entry of its
   * input point): bw[0] written by the objective's back-substitution (twinn_symdiff_backsub
   * with in_coef), bw[1] that of bound_lin's best upper end (bw_ok: the difference form gave
   * it), bw[2] the sum kept by twinn_sym_keep_pair_weights since the last analysis (bw_set:
   * some). */
  double *bw[3];
  int bw_cur, bw_ok, bw_set;
  size_t opt_batch; /* objectives per optimisation batch (set with opt) */
  /* Float copies of network w's large affine matrices (NULL for the others) and float scratch
   * (2 * opt_batch * max_w) for the optimiser's passes (symopt.c, opt_product). */
  float **w32[2], *opt32;
  /* Prior bounds per network (twinn_sym_set_prior), intersected at every point; NULL if none. */
  double *plo[2], *phi[2];
  int infeasible, overflow, analysed;
  /* Half-spaces s_k (w_k . x + b_k) >= 0 of the splits of neurons right after the first affine
   * layer (symhalf.c), listed at each analysis: hs_w points into the networks' weights; nhs
   * of them (at most 2 * width of point 1); hs_iw their 1 / |w_k| (n_in each, room for
   * hs_cap of them); hs_wm their sum_i |w_ki| m_i and hs_msum the sum of the m_i, where
   * m_i = max(|lo_i|, |hi_i|) over the box (kept in hsx + 4 n_in). hs_beta, the first 4 n_in
   * of hsx (5 n_in long) and hs_zi (n_in) are scratch. */
  size_t nhs, hs_cap;
  const double **hs_w;
  double *hs_b, *hs_s, *hs_beta, *hsx, *hs_iw, *hs_wm, hs_msum;
  size_t *hs_zi;
  /* The first affine layer's interval step (its gemv outputs, and the products |W| M of
   * twinn_sym_abs_products) depends on point 0's bounds alone, which regions that differ only
   * in neuron splits share: c0_key holds the bounds (lo and hi of each of f, g and d, n_in
   * each) they were computed for, c0_val the outputs (am 4 m, f and g 2 m each, d 2 m for the
   * first layer's m outputs); c0_ok once c0_val matches c0_key, c0_hit while the current
   * analysis reuses them. */
  double *c0_key, *c0_val;
  int c0_ok, c0_hit;
  /* hs_defer: the back-substitutions concretise over the box alone (their caller refines the
   * rows it chooses with twinn_sym_refine_row); fin: the last back-substitution's rows on the
   * input (2r of them, in s->a / s->ad, valid until the next one). */
  int hs_defer;
  const double *fin;
  /* Pairs: f's two final rows of the last bound (2 * n_in), their constants and error terms,
   * summed with g's into the product network's form (lin_once). */
  double *prow, pcst[2], per[2];
  /* The difference form's upper row of the last bound of a pair (n_in coefficients, then its
   * constant plus error term rounded up), urow_ok when it holds on the whole box
   * (twinn_sym_diff_upper_row). */
  double *urow;
  int urow_ok;
  size_t n_split; /* nonzero entries of split (twinn_sym_set_split, twinn_sym_clear_splits) */
  /* symand.c: rounds of the first ReLU layer's hull planes while back-substitutions use them
   * for their lower ends (0: not; certify sets it), and_opt the workspace's setting
   * (twinn_sym_set_anderson); and_buf / and_idx its scratch (allocated on first use). */
  size_t and_iters, and_opt;
  double *and_buf;
  size_t *and_idx;
};

/* The ReLU steps of the back-substitutions (symbolic.c's and symdiff.c's backsub_relu, with
 * their inlined row loops) get an AVX2 clone (common.h's TWINN_HOT). */
#define SYM_HOT TWINN_HOT

/* max(a, b) of two magnitudes for the error weights, inline (fmax is a library call unless
 * NaN semantics are given up). A NaN b gives NaN, which ends as an infinite bound (sound); a
 * NaN a gives b, as fmax does. */
static inline double sym_max(double a, double b) { return a > b ? a : b; }

/* Sums over n entries in four interleaved partial sums, so that the compiler can vectorise
 * them (a single running sum is a serial chain of additions). Every use bounds its rounding
 * for any summation order. sym_dot_abs is  sum |x_j| w_j. */
static inline double sym_sum(const double *x, size_t n) {
  double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
  size_t j = 0;
  for (; j + 4 <= n; j += 4) a0 += x[j], a1 += x[j + 1], a2 += x[j + 2], a3 += x[j + 3];
  for (; j < n; j++) a0 += x[j];
  return (a0 + a1) + (a2 + a3);
}

static inline double sym_sum_abs(const double *x, size_t n) {
  double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    a0 += fabs(x[j]), a1 += fabs(x[j + 1]);
    a2 += fabs(x[j + 2]), a3 += fabs(x[j + 3]);
  }
  for (; j < n; j++) a0 += fabs(x[j]);
  return (a0 + a1) + (a2 + a3);
}

static inline double sym_dot_abs(const double *x, const double *w, size_t n) {
  double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    a0 += fabs(x[j]) * w[j], a1 += fabs(x[j + 1]) * w[j + 1];
    a2 += fabs(x[j + 2]) * w[j + 2], a3 += fabs(x[j + 3]) * w[j + 3];
  }
  for (; j < n; j++) a0 += fabs(x[j]) * w[j];
  return (a0 + a1) + (a2 + a3);
}

/* The live list of index i (0 f, 1 g, 2 the pair's rows) at ReLU input point p changed: the
 * column-packed matrices that depend on it are stale. */
void twinn_sym_cols_changed(twinn_sym *s, int i, size_t p);
/* Layer k's column-packed matrices of index i (cpack[k]), built again if stale. */
void twinn_sym_cols_ready(twinn_sym *s, int i, size_t k);

/* gamma(k) = (k + 1) 2^-52, an upper bound of the classic gamma_k = k u / (1 - k u). */
double twinn_sym_gamma(size_t k);
/* Back-substitutes 2r rows (the first r bounding from above, the last r from below) from point
 * p of network w down to the input and writes the concretised bounds into lo/hi (r each).
 * a holds the rows at point p (row stride = width of p); cst/er their constants and error terms.
 * in_coef (n_in) gets |coefficient| * box width of the first row's input form unless NULL. */
void twinn_sym_backsub(twinn_sym *s, int w, size_t p, size_t r, double *lo, double *hi,
                       double *in_coef);
/* Concretises row `row` (coefficients on the input) over the box alone; upper (up=1) or lower.
 * twinn_sym_concretise_rows adds the half-spaces of first-layer splits. */
double twinn_sym_concretise_box(const twinn_sym *s, const double *row, double c, double e, int up);
/* Concretises the 2r rows on the input (upper rows first; constants and errors in s->cst /
 * s->er) into hi / lo, over the box and the half-spaces unless hs_defer; records them as fin. */
void twinn_sym_concretise_rows(twinn_sym *s, const double *rows, size_t r, double *lo, double *hi);
/* Tightens *lo / *hi, the box bounds of rows r + i / i of fin, with the half-spaces. */
void twinn_sym_refine_row(twinn_sym *s, size_t i, size_t r, double *lo, double *hi);
/* symhalf.c: lists the half-spaces of the current splits (at the start of an analysis). */
void twinn_symhalf_collect(twinn_sym *s);
/* A bound at least as tight as `plain` (the box bound of the same row) over the box and the
 * half-spaces. */
double twinn_symhalf_concretise(const twinn_sym *s, const double *row, double c, double e, int up,
                                double plain);

/* am[] for affine layer k (needs the magnitudes of point k). */
void twinn_sym_abs_products(twinn_sym *s, size_t k);
/* The first layer's cached interval-step outputs (see c0_key): for k = 0 while the analysis
 * reuses them, copies slot `slot` (len entries) into dst and returns 1, else 0;
 * twinn_sym_c0_put stores a computed slot (for k = 0 only). Slots: 0-3 am, 4-5 f's two
 * products, 6-7 g's, 8-9 d's. */
int twinn_sym_c0_get(const twinn_sym *s, size_t k, size_t slot, double *dst, size_t len);
void twinn_sym_c0_put(twinn_sym *s, size_t k, size_t slot, const double *src, size_t len);
/* symdiff.c: the pair. Error weights of affine layer k (needs am[] of layer k). */
void twinn_symdiff_weights(twinn_sym *s, size_t k);
/* Bounds of g - f at point k + 1 after affine layer k (blocked back-substitution). */
void twinn_symdiff_affine(twinn_sym *s, size_t k);
/* Relaxations of h_d at ReLU input point k (from both networks' current relaxations) and,
 * if bounds, the difference bounds at point k + 1. Returns 1 if the pair's live list of the
 * point changed. */
int twinn_symdiff_relu(twinn_sym *s, size_t k, int bounds);
/* Bounds on  cf_row . f + cd_row . (g - f)  at the output: rows already in s->a[0] / s->ad[0]
 * (2 rows: upper, lower), constants and errors set. */
void twinn_symdiff_backsub(twinn_sym *s, size_t p, size_t r, double *lo, double *hi,
                           double *in_coef);
/* Records in v the box vertex maximising row 0 of rows (n_in columns), then in v + n_in the
 * one minimising row r: where the concretised upper / lower bounds are attained. */
void twinn_sym_record_vertex(const twinn_sym *s, const double *rows, size_t r, double *v);
/* Relaxation of relu over [l, u] (l <= u), see sym_int.h's rs/rt/ra. */
void twinn_sym_relu_relax(double l, double u, double *rs, double *rt, double *ra);
/* Lists the live neurons of network w's ReLU at point p; returns 1 if the list changed. */
int twinn_sym_relax_live(twinn_sym *s, int w, size_t p);
/* Packs the rows of affine layer k - 1 on the live neurons of the ReLU at point k, for f, g and
 * the pair's rows as bits 0, 1, 2 of mask. */
void twinn_sym_pack_layer(twinn_sym *s, size_t k, unsigned mask);

/* symand.c: whether back-substitutions from point p of network w keep their rows at the first
 * ReLU's outputs for twinn_symand_bound_rows (and_iters set, p behind a second affine layer,
 * the network starting affine then ReLU). */
int twinn_symand_applies(const twinn_sym *s, int w, size_t p);
/* Where the back-substitution keeps its lower rows there (SYM_BLOCK rows of point 2's width,
 * then SYM_BLOCK constants and SYM_BLOCK errors); NULL on out of memory or when too large. */
double *twinn_symand_rows(twinn_sym *s, int w);
/* Tightens lo[i] with the hull planes' bound of kept lower row i (the optimised bounds are lower
 * ends; an upper end is the lower end of the negated objective). */
void twinn_symand_bound_rows(twinn_sym *s, int w, size_t r, double *lo);

/* vl += A xl and vh += A xh (A: r x m, row stride m), with A read once: one product by the
 * two columns interleaved in s->gv (m <= 4 max_w, r <= max_w). The interval steps are
 * products of a weight matrix by two vectors, and each of them reads the whole matrix, which
 * dominates their cost (the same products, in another summation order: the kernels' bound). */
void twinn_sym_gemv_pair(twinn_sym *s, size_t r, size_t m, const double *a, const double *xl,
                         const double *xh, double *vl, double *vh);

/* Whether entry x (point order) is a ReLU input proved inactive in every network on a box
 * containing the one analysed (twinn_sym_set_dead). */
static inline int twinn_sym_is_dead(const twinn_sym *s, size_t x) {
  return s->dead && ((unsigned)s->dead[x >> 3] >> (x & 7) & 1u);
}

/* Whether entry x (point order) is a ReLU input proved active (>= 0) in every network on a box
 * containing the one analysed (twinn_sym_set_active). */
static inline int twinn_sym_is_active(const twinn_sym *s, size_t x) {
  return s->active && ((unsigned)s->active[x >> 3] >> (x & 7) & 1u);
}

/* Whether the row of ReLU input entry x needs no back-substitution: dead (above), or inactive
 * in every network by the priors (twinn_sym_set_prior), which settle_point intersects only
 * after the layer's rows: its ReLU output (and h_d) is 0 whatever its bounds. On mnist_256x4
 * fp16 (verify, root priors) 62 % of the rows f's interval step left were so. */
static inline int twinn_sym_skip_row(const twinn_sym *s, size_t x) {
  return twinn_sym_is_dead(s, x) ||
         (s->phi[0] && s->phi[0][x] <= 0.0 && (!s->net[1] || (s->phi[1] && s->phi[1][x] <= 0.0)));
}

#endif
