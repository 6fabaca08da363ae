/* exact.c: exact maxima by ReLU phase branching with certified LP bounds (exact.h).
 *
 * Affine forms. Every value of the networks is tracked as an affine form of the input,
 * a . x + a0, with an error bound e over the box: |true value - form(x)| <= e for every x of
 * the box (true = the real-valued network under the phases fixed on the current path). At the
 * input the forms are exact. An affine layer y_i = sum_j W_ij v_j + b_i computes its form in
 * double; the float coefficients differ from the exact ones by at most gamma times the sum of
 * the absolute products, so over the box
 *   e_i <= sum_j |W_ij| (e_j + gamma M_j) + gamma |b_i|,   M_j = sum_t |a_jt| X_t + |a_j0|,
 * X_t = max(|lo_t|, |hi_t|), with gamma = (m + 2) 2^-52 for m terms (above m u / (1 - m u)),
 * and the bound itself is inflated to cover its own rounding. A ReLU whose pre-activation is
 * proved >= 0 passes its form; one proved <= 0 gives the exact 0.
 *
 * Phases. A ReLU's phase is proved from the box (interval of its form, widened by e) or, under
 * the constraints of the path, from two certified LP bounds; otherwise the search branches: one
 * child assumes z >= 0, the other z <= 0, adding the constraint s (a . x + a0) + e >= 0, which
 * every true point of that child satisfies. The children cover the parent.
 *
 * Certificates. For max o(x) over P = {x in box : g_k(x) >= 0}, every y >= 0 gives
 *   max_P o <= max_box (o + sum_k y_k g_k),
 * and if max_box sum_k y_k g_k < 0 then P is empty. Both right-hand sides are concretised with
 * the outward-rounded accumulator plus a bound on the rounding of the combined coefficients.
 * GLPK supplies y: the duals of max o over P, or of the phase-1 problem max t s.t. g_k >= t.
 *
 * Fewer LPs. Most questions of a search (is this phase proved? can this leaf beat the floor?)
 * are settled by one constraint of the path: the best y >= 0 for o + y g_k alone is found in
 * closed form (one_cons_le), and certified like any other. Points the LPs returned stay known
 * while they satisfy the path's constraints: two of them on opposite sides of a pre-activation
 * leave its phase open without an LP. On acasxu_2_7 fp16 (50 boxes of property 1, output 0,
 * both signs, floor at the region's maximum) the searches took 829 k LPs and 8.9 s, now 273 k
 * and 4.9 s, every bound the same (and one tighter since simplex retries with the dual).
 *
 * Caps. A caller that holds a linear upper bound of each form over the whole box (`twinn
 * bound`'s box analysis: twinn_sym_diff_upper_row) passes it as the form's cap: below a node where
 * one constraint of the path brings a cap to the floor (one_cons_le), that form is not bounded
 * again, and a node where every form is so capped is not searched. On acasxu_4_1 fp16 p1 (60 s of
 * `twinn bound`) 5 % of the checks drop a form, and the searches of boxes with 9 to 16
 * undecided ReLUs take 349 steps each instead of 415 (the same best value from the start). */
#include "exact.h"

#include <glpk.h>
#include <math.h>
#include <string.h>

#include "clock.h"
#include "interval.h"
#include "symkern.h"

#define EX_U52 (1.0 / 4503599627370496.0) /* 2^-52 */
#define EX_INFLATE (1.0 + 1e-10)          /* covers the rounding of an error bound's own sum */
#define EX_ETA 1e-300                     /* per-product underflow allowance */
#define EX_POOL 8                         /* feasible points kept (lp_phase) */
#define EX_FEAS_TOL 1e-9     /* relative slack of a kept point's constraints (LP tolerances) */
#define EX_REACH_MARGIN 0.01 /* reach_side: a point's s a beyond e by this share of e, at least */
#define EX_MAX_CAPS 8        /* forms that can have caps */

static double gam(size_t m) { return ((double)m + 2.0) * EX_U52; }

struct twinn_exact {
  const twinn_net *net[2];
  int n_nets;
  size_t n, n_layers, max_w;
  size_t *fo, *eo;     /* per point: offset of its forms (rows of n + 1) and of its errors */
  double *form[2];     /* forms of every point of each network: row i = (a_1..a_n, a0) */
  double *err[2];      /* error bound of every form */
  signed char *ph[2];  /* phase of every pre-activation (at ReLU input points): +1, -1, 0 */
  signed char *fix[2]; /* phases fixed by the caller (twinn_exact_fix), 0 where none */
  size_t n_fixed;
  double *mag; /* affine_forms: e_j + gamma M_j of its nonzero inputs (act: their indices) */
  size_t *act;
  double *cons; /* constraint rows g_k (n + 1 each): g_k(x) >= 0 on the path */
  size_t n_cons, cap_cons;
  double *y, *v, *obj, *pt, *best, *xmax;
  double *zero;                 /* n + 1 zeros: the objective of the emptiness certificate */
  const double *lo, *hi, *c[2]; /* n_forms rows of n_out coefficients each (c[1] may be NULL) */
  size_t n_forms;
  glp_prob *lp;
  int *idx;
  double *val;
  double *feas; /* n_feas points of the box satisfying the path's constraints (EX_POOL) */
  /* Caps (twinn_exact_set_caps, for the next search only): h_j <= caps row j over the box;
   * dead[j] once the path's constraints bring form j's cap down to the floor. */
  const double *caps;
  unsigned char dead[EX_MAX_CAPS];
  double floor, upper, best_val, deadline;
  const atomic_int *cancel; /* twinn_exact_set_cancel */
  size_t n_feas, next_feas;
  int have_best, pruned, fail;
  unsigned long lps, max_lps, leaves, settled, capped;
};

twinn_exact *twinn_exact_new(const twinn_net *f, const twinn_net *g) {
  twinn_exact *x;
  size_t k, total = 0, n;
  int w;
  if (!f || (g && (!twinn_net_isomorphic(f, g) || g->n_in != f->n_in))) return NULL;
  for (k = 0; k < f->n_layers; k++)
    if (f->layers[k].kind != TWINN_LAYER_AFFINE && f->layers[k].kind != TWINN_LAYER_RELU)
      return NULL;
  if (!(x = twinn_calloc(1, sizeof *x))) return NULL;
  n = f->n_in;
  x->net[0] = f;
  x->net[1] = g;
  x->n_nets = g ? 2 : 1;
  x->n = n;
  x->n_layers = f->n_layers;
  x->max_w = twinn_net_max_width(f);
  x->fo = twinn_mallocarray(f->n_layers + 2, sizeof(size_t));
  x->eo = twinn_mallocarray(f->n_layers + 2, sizeof(size_t));
  if (!x->fo || !x->eo) goto fail;
  for (k = 0; k <= f->n_layers; k++) {
    x->eo[k] = total;
    x->fo[k] = total * (n + 1);
    total += twinn_net_width_at(f, k);
  }
  x->eo[k] = total;
  x->fo[k] = total * (n + 1);
  for (w = 0; w < x->n_nets; w++) {
    x->form[w] = twinn_mallocarray(total * (n + 1), sizeof(double));
    x->err[w] = twinn_mallocarray(total, sizeof(double));
    x->ph[w] = twinn_calloc(total, 1);
    x->fix[w] = twinn_calloc(total, 1);
    if (!x->form[w] || !x->err[w] || !x->ph[w] || !x->fix[w]) goto fail;
  }
  x->mag = twinn_mallocarray(x->max_w, sizeof(double));
  x->act = twinn_mallocarray(x->max_w, sizeof(size_t));
  x->v = twinn_mallocarray(n + 1, sizeof(double));
  x->obj = twinn_mallocarray(n + 1, sizeof(double));
  x->zero = twinn_calloc(n + 1, sizeof(double));
  x->pt = twinn_mallocarray(n, sizeof(double));
  x->best = twinn_mallocarray(n, sizeof(double));
  x->xmax = twinn_mallocarray(n, sizeof(double));
  x->feas = twinn_mallocarray(EX_POOL * n, sizeof(double));
  x->idx = twinn_mallocarray(n + 3, sizeof(int));
  x->val = twinn_mallocarray(n + 3, sizeof(double));
  if (!x->mag || !x->act || !x->v || !x->obj || !x->zero || !x->pt || !x->best || !x->xmax ||
      !x->feas || !x->idx || !x->val)
    goto fail;
  return x;
fail:
  twinn_exact_free(x);
  return NULL;
}

void twinn_exact_free(twinn_exact *x) {
  int w;
  if (!x) return;
  for (w = 0; w < 2; w++) {
    twinn_free(x->form[w]);
    twinn_free(x->err[w]);
    twinn_free(x->ph[w]);
    twinn_free(x->fix[w]);
  }
  twinn_free(x->fo);
  twinn_free(x->eo);
  twinn_free(x->mag);
  twinn_free(x->act);
  twinn_free(x->cons);
  twinn_free(x->y);
  twinn_free(x->v);
  twinn_free(x->obj);
  twinn_free(x->zero);
  twinn_free(x->pt);
  twinn_free(x->best);
  twinn_free(x->xmax);
  twinn_free(x->feas);
  twinn_free(x->idx);
  twinn_free(x->val);
  twinn_free(x);
}

/* ---- certified bounds over the box -------------------------------------------------------- */

/* Upper bound of max over the box of  o + sum_k y_k g_k  (y NULL: o alone), rounding included.
 * The maximising vertex of the float combination goes to pt if pt is not NULL. */
static double lag_upper(twinn_exact *x, const double *o, const double *y, double *pt) {
  size_t n = x->n, t, k;
  double eb = 0.0, l, h;
  twinn_iacc acc;
  for (t = 0; t <= n; t++) {
    double s = o[t], a = fabs(o[t]);
    if (y)
      for (k = 0; k < x->n_cons; k++)
        if (y[k] != 0.0) {
          double p = y[k] * x->cons[k * (n + 1) + t];
          s += p;
          a += fabs(p);
        }
    x->v[t] = s;
    /* |float combination - exact| <= gamma (K + 1) * sum of |terms| (+ underflow) */
    eb += (gam(x->n_cons + 1) * a + EX_ETA * (double)(x->n_cons + 1)) * (t < n ? x->xmax[t] : 1.0);
  }
  twinn_iacc_init(&acc, x->v[n]);
  for (t = 0; t < n; t++) {
    twinn_iacc_add(&acc, x->v[t], x->lo[t], x->hi[t], 0);
    if (pt) pt[t] = x->v[t] > 0 ? x->hi[t] : x->lo[t];
  }
  twinn_iacc_add_interval(&acc, 0.0, eb * EX_INFLATE);
  twinn_iacc_result(&acc, &l, &h);
  return h;
}

/* A question settled without an LP counts as one in the budget (a search's size in steps stays
 * what it was with LPs alone); returns r. */
static int settle(twinn_exact *x, int r) {
  x->lps++;
  x->settled++;
  return r;
}

/* Float value of max over the box of o + y g. */
static double one_cons_val(const twinn_exact *x, const double *o, const double *g, double y) {
  size_t n = x->n, t;
  double v = o[n] + y * g[n];
  for (t = 0; t < n; t++) {
    double c = o[t] + y * g[t];
    v += c > 0 ? c * x->hi[t] : c * x->lo[t];
  }
  return v;
}

/* 1 if one constraint g_k of the path alone proves max over the path of o, plus e, <= target:
 * min over y >= 0 of max_box (o + y g_k) is convex and piecewise linear in y, least at 0 or
 * where a coefficient o_t + y g_kt changes sign; the best y is certified by lag_upper. Costs
 * O(K n^2) flops against an LP's ~10 us (GLPK's per-call overhead on 5-column LPs); inputs of
 * more than EX_ONE_CONS_MAX_N dimensions skip it. Most recent constraints first: they are the
 * ones a child's questions most often turn on. */
#define EX_ONE_CONS_MAX_N 32
static int one_cons_le(twinn_exact *x, const double *o, double e, double target) {
  size_t n = x->n, k, t;
  if (n > EX_ONE_CONS_MAX_N) return 0;
  for (k = x->n_cons; k-- > 0;) {
    const double *g = x->cons + k * (n + 1);
    double best, yb = 0.0, slope = g[n], u;
    /* The slope at y = 0+: not negative, and y = 0 (the box alone) is the best. */
    for (t = 0; t < n; t++) {
      double c = o[t] != 0.0 ? o[t] : g[t];
      slope += c > 0 ? g[t] * x->hi[t] : g[t] * x->lo[t];
    }
    if (slope >= 0) continue;
    best = one_cons_val(x, o, g, 0.0);
    for (t = 0; t < n; t++) {
      double y, v;
      if (g[t] == 0.0) continue;
      y = -o[t] / g[t];
      if (!(y > 0) || !isfinite(y)) continue;
      v = one_cons_val(x, o, g, y);
      if (v < best) {
        best = v;
        yb = y;
      }
    }
    if (yb == 0.0 || !(best + e < target)) continue;
    memset(x->y, 0, x->n_cons * sizeof(double));
    x->y[k] = yb;
    u = lag_upper(x, o, x->y, NULL);
    if (twinn_round_up(u + e) <= target) return 1;
  }
  return 0;
}

/* ---- GLPK: rows mirror the constraint stack; column n + 1 is phase 1's t --------------------- */

static twinn_status lp_open(twinn_exact *x) {
  size_t t, n = x->n;
  if (!(x->lp = glp_create_prob())) return TWINN_ERR_INTERNAL;
  glp_set_obj_dir(x->lp, GLP_MAX);
  glp_add_cols(x->lp, (int)n + 1);
  for (t = 0; t < n; t++) {
    int j = (int)t + 1;
    if (x->lo[t] == x->hi[t])
      glp_set_col_bnds(x->lp, j, GLP_FX, x->lo[t], x->hi[t]);
    else
      glp_set_col_bnds(x->lp, j, GLP_DB, x->lo[t], x->hi[t]);
  }
  glp_set_col_bnds(x->lp, (int)n + 1, GLP_FX, 0.0, 0.0);
  return TWINN_OK;
}

/* Keeps the pool's points that satisfy the new constraint g (up to the LPs' tolerance: the
 * points only choose which LPs to try, never a bound). */
static void keep_feasible(twinn_exact *x, const double *g) {
  size_t n = x->n, q, t, m = 0;
  for (q = 0; q < x->n_feas; q++) {
    const double *p = x->feas + q * n;
    double v = g[n], a = fabs(g[n]);
    for (t = 0; t < n; t++) {
      v += g[t] * p[t];
      a += fabs(g[t] * p[t]);
    }
    if (v < -EX_FEAS_TOL * a) continue;
    if (m != q) memcpy(x->feas + m * n, p, n * sizeof(double));
    m++;
  }
  x->n_feas = m;
  x->next_feas = 0;
}

static void add_feasible(twinn_exact *x, const double *p) {
  size_t q = x->n_feas < EX_POOL ? x->n_feas++ : x->next_feas++ % EX_POOL;
  memcpy(x->feas + q * x->n, p, x->n * sizeof(double));
}

static twinn_status push_cons(twinn_exact *x, const double *row, double sign, double e) {
  size_t n = x->n, t;
  double *g;
  int i;
  if (x->n_cons == x->cap_cons) {
    size_t cap = x->cap_cons ? 2 * x->cap_cons : 16;
    double *c = twinn_realloc(x->cons, cap * (n + 1), sizeof(double));
    double *y = twinn_realloc(x->y, cap, sizeof(double));
    if (c) x->cons = c;
    if (y) x->y = y;
    if (!c || !y) return TWINN_ERR_NOMEM;
    x->cap_cons = cap;
  }
  g = x->cons + x->n_cons * (n + 1);
  for (t = 0; t < n; t++) g[t] = sign * row[t];
  g[n] = twinn_round_up(sign * row[n] + e); /* a larger constant only widens the set */
  x->n_cons++;
  keep_feasible(x, g);
  i = glp_add_rows(x->lp, 1);
  for (t = 0; t < n; t++) {
    x->idx[t + 1] = (int)t + 1;
    x->val[t + 1] = g[t];
  }
  x->idx[n + 1] = (int)n + 1;
  x->val[n + 1] = -1.0;
  glp_set_mat_row(x->lp, i, (int)n + 1, x->idx, x->val);
  glp_set_row_bnds(x->lp, i, GLP_LO, -g[n], 0.0);
  return TWINN_OK;
}

/* A point of the path stays one of the parent's (fewer constraints): pop keeps the pool. */
static void pop_cons(twinn_exact *x) {
  int num[2];
  num[1] = (int)x->n_cons;
  x->n_cons--;
  glp_del_rows(x->lp, 1, num);
  glp_std_basis(x->lp);
}

enum { LP_FEAS = 0, LP_EMPTY = 1 };

/* One LP's limits: its columns are the inputs (at most 16), its rows one per ReLU phase of a
 * path; such LPs take tens of iterations. */
#define EX_LP_ITERATIONS 2000
#define EX_LP_MS 500

/* Runs the simplex on the current objective; 1 on an optimum, 0 on infeasibility, -1 else.
 * Limited in iterations and time: on acasxu_1_4 fp16 (box of property 3) one of these LPs (5
 * columns) kept GLPK's simplex busy for minutes, past the call's deadline. A limit reached
 * gives -1, which the callers treat as no LP answer (a sound, looser bound). The dual simplex
 * (primal where it fails) with textbook pricing: a search pushes one constraint at a time and
 * keeps the last basis, which the new row leaves dual feasible; on 6 842 searches of
 * acasxu_4_1 fp16 p1's halves (replayed with their floors and caps), 16.2 s -> 14.7 s, the
 * same leaves, steps within 0.01 % (primal simplex, projected steepest edge before). */
static int simplex(twinn_exact *x) {
  glp_smcp sp;
  int rc, st;
  glp_init_smcp(&sp);
  sp.meth = GLP_DUALP;
  sp.pricing = GLP_PT_STD;
  sp.msg_lev = GLP_MSG_OFF;
  sp.presolve = GLP_OFF;
  sp.it_lim = EX_LP_ITERATIONS;
  sp.tm_lim = EX_LP_MS;
  x->lps++;
  rc = glp_simplex(x->lp, &sp);
  if (rc == GLP_EBADB || rc == GLP_ESING || rc == GLP_ECOND) {
    glp_std_basis(x->lp);
    rc = glp_simplex(x->lp, &sp);
  }
  /* From a kept basis GLPK can call a feasible LP infeasible (the primal simplex after
   * "perturbing LP to avoid instability", on rows of coefficients 1e-2 to 1.6e3: a path of
   * acasxu_2_7 fp16 whose phase-1 LP attains t = 8e-4 > 0) or cycle to the iteration limit on
   * 12 rows; the leaf then fell back to the box's bound (0.025 against a maximum of 2.2e-3).
   * The dual simplex (sp.meth) from the standard basis solves both; a truly empty path says
   * so again. */
  if (rc == GLP_EITLIM || (rc == 0 && glp_get_status(x->lp) == GLP_NOFEAS)) {
    glp_std_basis(x->lp);
    x->lps++;
    rc = glp_simplex(x->lp, &sp);
  }
  st = glp_get_status(x->lp);
  if (rc != 0) return -1;
  return st == GLP_OPT ? 1 : st == GLP_NOFEAS ? 0 : -1;
}

/* The multipliers of the last optimum: y_k = max(0, -dual_k) (rows are >= bounds of a maximum,
 * whose duals are <= 0). Any y >= 0 keeps the bounds sound; the sign only makes them tight. */
static void read_duals(twinn_exact *x) {
  size_t k;
  for (k = 0; k < x->n_cons; k++) {
    double d = -glp_get_row_dual(x->lp, (int)k + 1);
    x->y[k] = d > 0 && isfinite(d) ? d : 0.0;
  }
}

/* 1 if the constraints of the path are proved to have no common point in the box. */
static int proved_empty(twinn_exact *x) {
  size_t t, n = x->n;
  int r;
  for (t = 0; t < n; t++) glp_set_obj_coef(x->lp, (int)t + 1, 0.0);
  glp_set_obj_coef(x->lp, (int)n + 1, 1.0);
  glp_set_col_bnds(x->lp, (int)n + 1, GLP_UP, 0.0, 1.0);
  r = simplex(x);
  if (r == 1 && glp_get_obj_val(x->lp) < 0) {
    read_duals(x);
    /* Not x->obj: the caller's objective may live there (lp_max falls back to it). */
    r = lag_upper(x, x->zero, x->y, NULL) < 0;
  } else {
    r = 0;
  }
  glp_set_obj_coef(x->lp, (int)n + 1, 0.0);
  glp_set_col_bnds(x->lp, (int)n + 1, GLP_FX, 0.0, 0.0);
  glp_std_basis(x->lp);
  return r;
}

/* Certified upper bound *u of max of the form o over the box and the path's constraints.
 * LP_EMPTY when the constraints are proved infeasible. On an LP optimum, x->pt holds the
 * maximiser (clamped to the box) and *val its float value; else *val is NaN. */
static int lp_max(twinn_exact *x, const double *o, double *u, double *val) {
  size_t t, n = x->n;
  int r;
  *val = NAN;
  if (x->n_cons == 0) {
    *u = lag_upper(x, o, NULL, x->pt);
    *val = o[n];
    for (t = 0; t < n; t++) *val += o[t] * x->pt[t];
    return LP_FEAS;
  }
  for (t = 0; t < n; t++) glp_set_obj_coef(x->lp, (int)t + 1, o[t]);
  r = simplex(x);
  if (r == 1) {
    read_duals(x);
    *u = lag_upper(x, o, x->y, NULL);
    *val = glp_get_obj_val(x->lp) + o[n];
    for (t = 0; t < n; t++) {
      double p = glp_get_col_prim(x->lp, (int)t + 1);
      x->pt[t] = twinn_fmin(x->hi[t], twinn_fmax(x->lo[t], p));
    }
    add_feasible(x, x->pt);
    return LP_FEAS;
  }
  if (r == 0 && proved_empty(x)) return LP_EMPTY;
  *u = lag_upper(x, o, NULL, NULL); /* the box alone: sound, loose */
  return LP_FEAS;
}

/* ---- forms ------------------------------------------------------------------------------- */

static double *row_of(twinn_exact *x, int w, size_t p, size_t i) {
  return x->form[w] + x->fo[p] + i * (x->n + 1);
}

/* Forms of point k + 1 from point k through affine layer k. Only the inputs whose form or
 * error is nonzero contribute to e (listed first: an inactive ReLU's output is the exact 0);
 * a zero weight adds its underflow allowance too, which only loosens e. */
TWINN_HOT static void affine_forms(twinn_exact *x, int w, size_t k) {
  const twinn_layer *ly = &x->net[w]->layers[k];
  size_t n = x->n, i, j, t, m = 0;
  const double *ein = x->err[w] + x->eo[k];
  double *eout = x->err[w] + x->eo[k + 1], gm = gam(ly->n_in + 1), eta;
  for (j = 0; j < ly->n_in; j++) {
    const double *a = row_of(x, w, k, j);
    double mg = fabs(a[n]);
    for (t = 0; t < n; t++) mg += fabs(a[t]) * x->xmax[t];
    mg *= EX_INFLATE;
    if (mg == 0.0 && ein[j] == 0.0) continue;
    x->act[m] = j;
    x->mag[m++] = ein[j] + gm * mg; /* the term |W_ij| multiplies in e_i */
  }
  eta = EX_ETA * (double)(n + 1) * (double)m;
  /* The coefficients by one matrix product over every input (the others' rows are exact zeros:
   * their products add nothing), then the biases: n_in + 1 terms in some order, which gm covers
   * (the loop over the nonzero rows alone was 8 % of acasxu_4_1 fp16 p1's profile at 60 s; the
   * product takes 17 % less time per exact search). */
  twinn_symk_gemm_f64(ly->n_out, ly->n_in, n + 1, ly->w, ly->n_in, row_of(x, w, k, 0), n + 1, 0.0,
                      row_of(x, w, k + 1, 0), n + 1);
  for (i = 0; i < ly->n_out; i++) {
    double e = gm * fabs(ly->b[i]) + eta;
    const double *wr = ly->w + i * ly->n_in;
    row_of(x, w, k + 1, i)[n] += ly->b[i];
    for (j = 0; j < m; j++) e += fabs(wr[x->act[j]]) * x->mag[j];
    eout[i] = e * EX_INFLATE;
  }
}

/* Forms of point k + 1 from point k through ReLU layer k, by the phases at point k. */
static void relu_forms(twinn_exact *x, int w, size_t k) {
  size_t n = x->n, i, width = x->eo[k + 1] - x->eo[k];
  const signed char *ph = x->ph[w] + x->eo[k];
  for (i = 0; i < width; i++) {
    double *out = row_of(x, w, k + 1, i);
    if (ph[i] > 0) {
      memcpy(out, row_of(x, w, k, i), (n + 1) * sizeof(double));
      x->err[w][x->eo[k + 1] + i] = x->err[w][x->eo[k] + i];
    } else {
      memset(out, 0, (n + 1) * sizeof(double));
      x->err[w][x->eo[k + 1] + i] = 0.0;
    }
  }
}

/* Phase of pre-activation i at point k from the box alone. */
static signed char box_phase(twinn_exact *x, int w, size_t k, size_t i) {
  const double *a = row_of(x, w, k, i);
  double e = x->err[w][x->eo[k] + i], l, h;
  twinn_iacc acc;
  size_t t;
  twinn_iacc_init(&acc, a[x->n]);
  for (t = 0; t < x->n; t++) twinn_iacc_add(&acc, a[t], x->lo[t], x->hi[t], 0);
  twinn_iacc_result(&acc, &l, &h);
  if (twinn_round_down(l - e) >= 0) return 1;
  if (twinn_round_up(h + e) <= 0) return -1;
  return 0;
}

/* ---- the search -------------------------------------------------------------------------- */

enum { GO_ON = 0, STOP = 1 };

void twinn_exact_set_deadline(twinn_exact *x, double t) { x->deadline = t; }

void twinn_exact_set_cancel(twinn_exact *x, const atomic_int *flag) { x->cancel = flag; }

void twinn_exact_set_caps(twinn_exact *x, const double *caps) { x->caps = caps; }

/* The LP budget is spent, the deadline passed (the clock costs far less than an LP) or the flag
 * was raised. */
static int out_of_budget(const twinn_exact *x) {
  return x->lps > x->max_lps || (x->deadline > 0 && twinn_clock_now() > x->deadline) ||
         (x->cancel && atomic_load_explicit(x->cancel, memory_order_relaxed));
}

static int walk(twinn_exact *x, size_t k);

/* Whether form j is dead below the current node (only the first EX_MAX_CAPS forms can be: a
 * search of more forms has no caps). */
static int form_dead(const twinn_exact *x, size_t j) { return j < EX_MAX_CAPS && x->dead[j]; }

/* Every phase is fixed: the maximum of each form over the path's polytope, by LP. The forms
 * share the path (its phase LPs), so bounding them together costs one LP each per leaf. */
static int leaf(twinn_exact *x) {
  size_t n = x->n, L = x->n_layers, i, t, n_out = x->net[0]->n_out, j;
  double u, val;
  int w;
  for (j = 0; j < x->n_forms; j++) {
    double e = 0.0, a = 0.0;
    if (form_dead(x, j)) continue; /* proved <= floor on this path (caps_prune) */
    memset(x->obj, 0, (n + 1) * sizeof(double));
    for (w = 0; w < x->n_nets; w++) {
      if (!x->c[w]) continue;
      for (i = 0; i < n_out; i++) {
        const double *r = row_of(x, w, L, i);
        double c = x->c[w][j * n_out + i], m = fabs(r[n]);
        if (c == 0.0) continue;
        for (t = 0; t <= n; t++) x->obj[t] += c * r[t];
        for (t = 0; t < n; t++) m += fabs(r[t]) * x->xmax[t];
        e += fabs(c) * x->err[w][x->eo[L] + i];
        a += fabs(c) * m;
      }
    }
    e = (e + gam(2 * n_out) * a + EX_ETA * (double)(2 * n_out * (n + 1))) * EX_INFLATE;
    if (x->floor > -INFINITY && one_cons_le(x, x->obj, e, x->floor)) { /* no LP needed */
      settle(x, 0);
      if (j == 0) x->leaves++;
      x->pruned = 1;
      continue;
    }
    /* Empty is a property of the path, whatever the form. */
    if (lp_max(x, x->obj, &u, &val) == LP_EMPTY) return GO_ON;
    if (j == 0) x->leaves++;
    u = twinn_round_up(u + e);
    if (isnan(u)) u = INFINITY; /* never let a leaf drop out of the maximum */
    if (u <= x->floor) {
      x->pruned = 1;
    } else if (u > x->upper) {
      x->upper = u;
    }
    if (!isnan(val) && (!x->have_best || val > x->best_val)) {
      x->have_best = 1;
      x->best_val = val;
      memcpy(x->best, x->pt, n * sizeof(double));
    }
  }
  return out_of_budget(x) ? STOP : GO_ON;
}

/* 1 if a point of the path's polytope (up to the LPs' tolerance) has s (a . x + a0) > e, which
 * it then adds to the pool: from each kept point, a step toward the box vertex that maximises
 * s a, as far as every constraint of the path allows (a ratio test), shortened by a thousandth.
 * Such a point shows that the LP asking whether s a <= 0 on the path could not prove it. Only
 * chooses which LPs run, never a bound. On acasxu_4_1 fp16 p1 (40 s) the LPs that proved no
 * phase were two thirds of all; this finds a point for 14 % of those asking about z > 0 and 34
 * % of those asking about z < 0, and never for an LP that proved its phase; 600 searches of
 * plateau-sized boxes of 2_7 p1 take 0.537-0.667 s (4 runs) against 0.586-0.625 s. */
static int reach_side(twinn_exact *x, const double *a, double s, double e) {
  size_t n = x->n, t, k, q;
  double *v = x->pt, *d = x->v; /* scratch: lp_max and lag_upper set them before reading */
  for (t = 0; t < n; t++) v[t] = s * a[t] > 0 ? x->hi[t] : x->lo[t];
  for (q = 0; q < x->n_feas; q++) {
    const double *p = x->feas + q * n;
    double step = 1.0, z = a[n], dz = 0.0;
    for (t = 0; t < n; t++) {
      d[t] = v[t] - p[t];
      z += a[t] * p[t];
      dz += a[t] * d[t];
    }
    if (!(s * dz > 0)) continue;
    for (k = 0; k < x->n_cons && step > 0; k++) {
      const double *g = x->cons + k * (n + 1);
      double g0 = g[n], gd = 0.0;
      for (t = 0; t < n; t++) {
        g0 += g[t] * p[t];
        gd += g[t] * d[t];
      }
      if (gd < 0 && g0 < -gd * step) step = g0 > 0 ? g0 / -gd : 0.0;
    }
    step *= 0.999;
    if (!(s * (z + step * dz) > e * (1.0 + EX_REACH_MARGIN))) continue;
    for (t = 0; t < n; t++) v[t] = twinn_fmin(x->hi[t], twinn_fmax(x->lo[t], p[t] + step * d[t]));
    add_feasible(x, v);
    return 1;
  }
  return 0;
}

/* Phase of pre-activation i at point k under the path's constraints: certified LP bounds.
 * Returns 2 if the constraints were proved empty. A phase that a known feasible point of the
 * constraints contradicts (the form's float value there is clearly on the other side) is not
 * tried: its LP could not prove it; two such points leave the phase open without an LP. One
 * constraint alone (one_cons_le) is tried before each LP. */
static int lp_phase(twinn_exact *x, int w, size_t k, size_t i) {
  const double *a = row_of(x, w, k, i);
  double e = x->err[w][x->eo[k] + i], u, val, z = 0.0, tol;
  size_t t, q, n = x->n;
  int try_neg = 1, try_pos = 1;
  for (q = 0; q < x->n_feas && (try_neg || try_pos); q++) {
    const double *p = x->feas + q * n;
    tol = e;
    z = a[n];
    for (t = 0; t < n; t++) {
      z += a[t] * p[t];
      tol += EX_FEAS_TOL * fabs(a[t] * p[t]);
    }
    tol += EX_FEAS_TOL * fabs(a[n]);
    if (z > tol) try_neg = 0;
    if (z < -tol) try_pos = 0;
  }
  if (!try_neg && !try_pos) return settle(x, 0);
  if (try_neg && one_cons_le(x, a, e, 0.0)) return settle(x, -1);
  for (t = 0; t <= n; t++) x->obj[t] = -a[t];
  if (try_pos && one_cons_le(x, x->obj, e, 0.0)) return settle(x, 1);
  if (try_neg && reach_side(x, a, 1.0, e)) try_neg = 0;
  if (try_pos && reach_side(x, a, -1.0, e)) try_pos = 0;
  if (!try_neg && !try_pos) return settle(x, 0);
  if (try_neg) {
    if (lp_max(x, a, &u, &val) == LP_EMPTY) return 2;
    if (twinn_round_up(u + e) <= 0) return -1;
  }
  if (try_pos) {
    if (lp_max(x, x->obj, &u, &val) == LP_EMPTY) return 2;
    if (twinn_round_up(u + e) <= 0) return 1;
  }
  return 0;
}

/* After a constraint was pushed: the forms whose cap, under one constraint of the path
 * (one_cons_le), cannot exceed the floor are dead below this node. Returns the mask of those it
 * killed (for revive); x->pruned set if it killed any. */
static unsigned caps_prune(twinn_exact *x) {
  size_t j, n = x->n;
  unsigned killed = 0;
  if (!x->caps || !(x->floor > -INFINITY)) return 0;
  for (j = 0; j < x->n_forms; j++) {
    if (form_dead(x, j) || !one_cons_le(x, x->caps + j * (n + 1), 0.0, x->floor)) continue;
    settle(x, 0);
    x->capped++;
    x->dead[j] = 1;
    killed |= 1u << j;
    x->pruned = 1;
  }
  return killed;
}

static void revive(twinn_exact *x, unsigned killed) {
  for (size_t j = 0; j < x->n_forms && j < EX_MAX_CAPS; j++)
    if (killed & (1u << j)) x->dead[j] = 0;
}

/* Every form dead: nothing below this node can beat the floor. */
static int all_dead(const twinn_exact *x) {
  for (size_t j = 0; j < x->n_forms; j++)
    if (!form_dead(x, j)) return 0;
  return 1;
}

/* Decides the undecided phases at ReLU input point k (LP where the path has constraints) and
 * branches on the first that stays undecided; then continues with the next layer. */
static int branch(twinn_exact *x, size_t k) {
  size_t width = x->eo[k + 1] - x->eo[k], i;
  int w, r, s;
  unsigned killed;
  signed char *save;
  for (w = 0; w < x->n_nets; w++)
    for (i = 0; i < width; i++) {
      signed char *p = x->ph[w] + x->eo[k] + i;
      if (*p != 0) continue;
      if (x->n_cons > 0) {
        r = lp_phase(x, w, k, i);
        if (r == 2) return GO_ON; /* no point of the box takes this path */
        if (out_of_budget(x)) return STOP;
        if (r != 0) {
          *p = (signed char)r;
          continue;
        }
      }
      /* Undecided: one child per phase, each with its constraint. */
      if (!(save = twinn_malloc(2 * width))) {
        x->fail = TWINN_ERR_NOMEM;
        return STOP;
      }
      memcpy(save, x->ph[0] + x->eo[k], width);
      if (x->n_nets > 1) memcpy(save + width, x->ph[1] + x->eo[k], width);
      for (s = 1; s >= -1; s -= 2) {
        if (push_cons(x, row_of(x, w, k, i), (double)s, x->err[w][x->eo[k] + i]) != TWINN_OK) {
          x->fail = TWINN_ERR_NOMEM;
          twinn_free(save);
          return STOP;
        }
        *p = (signed char)s;
        killed = caps_prune(x);
        r = x->caps && all_dead(x) ? GO_ON : branch(x, k);
        revive(x, killed);
        pop_cons(x);
        memcpy(x->ph[0] + x->eo[k], save, width);
        if (x->n_nets > 1) memcpy(x->ph[1] + x->eo[k], save + width, width);
        if (r == STOP) {
          twinn_free(save);
          return STOP;
        }
      }
      twinn_free(save);
      return GO_ON;
    }
  for (w = 0; w < x->n_nets; w++) relu_forms(x, w, k);
  return walk(x, k + 1);
}

static int walk(twinn_exact *x, size_t k) {
  size_t i, width, pushed = 0;
  int w, r;
  if (k == x->n_layers) return leaf(x);
  if (x->net[0]->layers[k].kind == TWINN_LAYER_AFFINE) {
    for (w = 0; w < x->n_nets; w++) affine_forms(x, w, k);
    return walk(x, k + 1);
  }
  width = x->eo[k + 1] - x->eo[k];
  for (w = 0; w < x->n_nets; w++)
    for (i = 0; i < width; i++) {
      signed char *p = x->ph[w] + x->eo[k] + i, f = x->n_fixed ? x->fix[w][x->eo[k] + i] : 0;
      *p = box_phase(x, w, k, i);
      /* A fixed phase the box proves needs no constraint. One the box refutes leaves the
       * points where the pre-activation is 0 (its constraint and the box's phase, which
       * gives the same value there); the LP then finds whether the path has any. */
      if (f == 0 || *p == f) continue;
      if (push_cons(x, row_of(x, w, k, i), (double)f, x->err[w][x->eo[k] + i]) != TWINN_OK) {
        x->fail = TWINN_ERR_NOMEM;
        r = STOP;
        goto out;
      }
      pushed++;
      if (*p == 0) *p = f;
    }
  r = branch(x, k);
out:
  while (pushed--) pop_cons(x);
  return r;
}

twinn_status twinn_exact_fix(twinn_exact *x, int which, size_t layer, size_t neuron, int phase) {
  signed char *f;
  if (which < 0 || which >= x->n_nets || layer >= x->n_layers ||
      x->net[0]->layers[layer].kind != TWINN_LAYER_RELU ||
      neuron >= x->eo[layer + 1] - x->eo[layer] || phase < -1 || phase > 1)
    return TWINN_ERR_USAGE;
  f = x->fix[which] + x->eo[layer] + neuron;
  x->n_fixed += (size_t)(phase != 0) - (size_t)(*f != 0);
  *f = (signed char)phase;
  return TWINN_OK;
}

void twinn_exact_clear_fixes(twinn_exact *x) {
  for (int w = 0; w < x->n_nets; w++) memset(x->fix[w], 0, x->eo[x->n_layers + 1]);
  x->n_fixed = 0;
}

twinn_status twinn_exact_max(twinn_exact *x, const double *c_f, const double *c_g, const double *lo,
                             const double *hi, double floor, unsigned long max_lps,
                             twinn_exact_result *res, twinn_error *err) {
  return twinn_exact_max_many(x, 1, c_f, c_g, lo, hi, floor, max_lps, res, err);
}

twinn_status twinn_exact_max_many(twinn_exact *x, size_t n_forms, const double *c_f,
                                  const double *c_g, const double *lo, const double *hi,
                                  double floor, unsigned long max_lps, twinn_exact_result *res,
                                  twinn_error *err) {
  size_t n = x->n, t, i;
  int own_env, w, r;
  twinn_status st;
  const double *caps = n_forms <= EX_MAX_CAPS ? x->caps : NULL;
  x->caps = NULL; /* for this search only, whatever happens */
  memset(res, 0, sizeof *res);
  if (c_g && x->n_nets < 2)
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "exact: c_g without a second network");
  x->lo = lo;
  x->hi = hi;
  x->c[0] = c_f;
  x->c[1] = c_g;
  x->n_forms = n_forms;
  x->floor = floor;
  x->upper = -INFINITY;
  x->have_best = x->pruned = x->fail = 0;
  x->best_val = -INFINITY;
  x->lps = x->leaves = x->settled = x->capped = 0;
  x->max_lps = max_lps;
  x->n_cons = 0;
  x->n_feas = x->next_feas = 0;
  memset(x->dead, 0, sizeof x->dead);
  for (t = 0; t < n; t++) x->xmax[t] = twinn_fmax(fabs(lo[t]), fabs(hi[t]));
  for (w = 0; w < x->n_nets; w++) {
    memset(x->err[w], 0, n * sizeof(double));
    for (i = 0; i < n; i++) {
      double *row = row_of(x, w, 0, i);
      memset(row, 0, (n + 1) * sizeof(double));
      row[i] = 1.0;
    }
  }
  own_env = glp_init_env() == 0; /* GLPK's per-thread environment: freed below if ours */
  glp_term_out(GLP_OFF);
  if ((st = lp_open(x)) != TWINN_OK) {
    if (own_env) glp_free_env();
    return twinn_error_set(err, st, NULL, 0, 0, "exact: GLPK could not create a problem");
  }
  x->caps = caps;
  r = walk(x, 0);
  x->caps = NULL;
  glp_delete_prob(x->lp);
  x->lp = NULL;
  if (own_env) glp_free_env();
  if (x->fail) return twinn_error_set(err, x->fail, NULL, 0, 0, "out of memory (exact search)");
  res->lps = x->lps;
  res->leaves = x->leaves;
  res->settled = x->settled;
  res->capped = x->capped;
  res->complete = r == GO_ON;
  res->upper = x->pruned ? twinn_fmax(x->upper, floor) : x->upper;
  res->point = x->have_best ? x->best : NULL;
  res->value = x->have_best ? x->best_val : NAN;
  return TWINN_OK;
}
