/* milp.c: exact mode. Encodes the problem as a MILP (continuous inputs in the property's
 * box, exact affine equalities, big-M ReLUs with bounds from interval.c, one binary per
 * disjunct) and asks GLPK for a feasible point; a point becomes SAT only after it replays.
 * LIMITATION, stated honestly: GLPK works in double with feasibility tolerances, so its
 * "infeasible" is not a proof (its MIP presolver was caught calling a feasible problem
 * infeasible). We mitigate, not prove: every row and column is widened by 1e-7 of its
 * magnitude (+1e-9), big-M values and leaf bounds are rounded outward, and infeasibility must
 * be reported by two different routes through GLPK (with and without presolver; the latter's
 * LP relaxation by the primal and then the dual simplex) before it becomes UNSAT. Trustworthy
 * for small, well-scaled networks (exact mode, test oracle), not a certificate. Never prints. */
#include "milp.h"

#include <float.h>
#include <glpk.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bind.h"
#include "clock.h"
#include "interval.h"
#include "space.h"
#include "symbolic.h"

/* Widening of every row and column: relative to the row's magnitude, plus an absolute floor. */
#define MILP_SLACK_REL 1e-7
#define MILP_SLACK_ABS 1e-9
/* Margins (relative to a leaf's magnitude) by which the re-solves tighten the property's
 * inequalities when a solution does not replay: past the widening above, and past float32
 * evaluation error, so that the point found satisfies strict comparisons strictly. */
static const double attempt_margin[] = {0.0, 1e-5, 1e-3};
#define MILP_ATTEMPTS (sizeof attempt_margin / sizeof attempt_margin[0])

/* The encoding under construction. Column 0 stands for the constant 0 (a ReLU known to be
 * inactive): terms on it are dropped. GLPK indices are 1-based, as are idx/val. */
typedef struct {
  glp_prob *lp;
  int n_cols;
  size_t cap;        /* capacity of clo/chi/slot (columns + 1) */
  double *clo, *chi; /* widened bounds of each column */
  int *slot;         /* position of a column in the row being built, 0 = absent */
  int *idx;          /* one row: 1-based column indices and coefficients */
  double *val;
  size_t row_cap;
  double margin;    /* tightening of LE/LT leaves (relative), see attempt_margin */
  int infeasible;   /* a constraint that is always on is false on its own */
  int nonlinear;    /* a nonlinear leaf was dropped (over-approximated as true) */
  char reason[200]; /* set when the problem cannot be encoded: verdict unknown */
} enc;

/* The scalars of one declared network: its inputs and outputs in declaration order. */
typedef struct {
  size_t *in, *out;
} net_io;

static double slack_of(double magnitude) { return MILP_SLACK_REL * magnitude + MILP_SLACK_ABS; }

static twinn_status grow_cols(enc *e) {
  size_t cap = e->cap ? 2 * e->cap : 64;
  double *lo, *hi;
  int *slot;
  lo = twinn_realloc(e->clo, cap, sizeof *lo);
  if (!lo) return TWINN_ERR_NOMEM;
  e->clo = lo;
  hi = twinn_realloc(e->chi, cap, sizeof *hi);
  if (!hi) return TWINN_ERR_NOMEM;
  e->chi = hi;
  slot = twinn_realloc(e->slot, cap, sizeof *slot);
  if (!slot) return TWINN_ERR_NOMEM;
  memset(slot + e->cap, 0, (cap - e->cap) * sizeof *slot);
  e->slot = slot;
  e->cap = cap;
  return TWINN_OK;
}

/* A new column: continuous over [lo, hi] widened by its slack, or binary. Returns its index,
 * 0 on out of memory. lo, hi must be finite (callers check). */
static int add_col(enc *e, double lo, double hi, int binary) {
  int j;
  if ((size_t)e->n_cols + 2 > e->cap && grow_cols(e) != TWINN_OK) return 0;
  if (e->n_cols == INT_MAX - 1) return 0;
  j = glp_add_cols(e->lp, 1);
  e->n_cols = j;
  if (binary) {
    glp_set_col_kind(e->lp, j, GLP_BV);
    lo = 0.0;
    hi = 1.0;
  } else {
    double s = slack_of(fmax(fabs(lo), fabs(hi)));
    lo = twinn_round_down(lo - s);
    hi = twinn_round_up(hi + s);
    glp_set_col_bnds(e->lp, j, GLP_DB, lo, hi);
  }
  e->clo[j] = lo;
  e->chi[j] = hi;
  return j;
}

/* Row scratch: room for n terms (1-based). */
static twinn_status reserve_row(enc *e, size_t n) {
  int *idx;
  double *val;
  if (n + 1 <= e->row_cap) return TWINN_OK;
  idx = twinn_realloc(e->idx, n + 1, sizeof *idx);
  if (!idx) return TWINN_ERR_NOMEM;
  e->idx = idx;
  val = twinn_realloc(e->val, n + 1, sizeof *val);
  if (!val) return TWINN_ERR_NOMEM;
  e->val = val;
  e->row_cap = n + 1;
  return TWINN_OK;
}

/* Appends coef * column j to the row of *n terms, merging a repeated column (GLPK rejects
 * duplicates, and two scalars can share a column, e.g. a stable active ReLU). */
static void row_term(enc *e, int *n, int j, double coef) {
  if (j == 0 || coef == 0.0) return;
  if (e->slot[j]) {
    e->val[e->slot[j]] += coef;
    return;
  }
  ++*n;
  e->idx[*n] = j;
  e->val[*n] = coef;
  e->slot[j] = *n;
}

/* Clears the slots of the n terms built so far and drops coefficients that merged to 0
 * (GLPK takes no zeros); returns the new term count. */
static int row_finish(enc *e, int n) {
  int k, m = 0;
  for (k = 1; k <= n; k++) {
    e->slot[e->idx[k]] = 0;
    if (e->val[k] == 0.0) continue;
    ++m;
    e->idx[m] = e->idx[k];
    e->val[m] = e->val[k];
  }
  return m;
}

/* Adds the row lo <= sum val*x <= hi (either side may be infinite) of the n terms in
 * idx/val, widened by its slack. */
static void add_row(enc *e, int n, double lo, double hi) {
  double mag = 0.0, s;
  int k, i;
  n = row_finish(e, n);
  for (k = 1; k <= n; k++) {
    int j = e->idx[k];
    mag += fabs(e->val[k]) * fmax(fabs(e->clo[j]), fabs(e->chi[j]));
  }
  if (isfinite(lo)) mag += fabs(lo);
  if (isfinite(hi)) mag += fabs(hi);
  s = slack_of(mag);
  i = glp_add_rows(e->lp, 1);
  glp_set_mat_row(e->lp, i, n, e->idx, e->val);
  if (isfinite(lo) && isfinite(hi))
    glp_set_row_bnds(e->lp, i, GLP_DB, twinn_round_down(lo - s), twinn_round_up(hi + s));
  else if (isfinite(lo))
    glp_set_row_bnds(e->lp, i, GLP_LO, twinn_round_down(lo - s), 0.0);
  else
    glp_set_row_bnds(e->lp, i, GLP_UP, 0.0, twinn_round_up(hi + s));
}

/* Network `net` over input columns cols[0..n_in): adds its neurons and writes the columns of
 * every point (layer output k at cols + off[k] of the interval bounds' layout) into cols.
 * Pre-activation bounds come from interval.c over the input box [lo, hi]. */
static twinn_status encode_net(enc *e, const twinn_net *net, const twinn_ibounds *b, int *cols) {
  size_t k, i, j;
  for (k = 0; k < net->n_layers; k++) {
    const twinn_layer *L = &net->layers[k];
    const int *cur = cols + b->off[k];
    int *nxt = cols + b->off[k + 1];
    const double *pl = b->lo + b->off[k], *ph = b->hi + b->off[k];
    const double *ql = b->lo + b->off[k + 1], *qh = b->hi + b->off[k + 1];
    if (reserve_row(e, L->n_in + 3) != TWINN_OK) return TWINN_ERR_NOMEM;
    for (i = 0; i < L->n_out; i++) {
      int n = 0, z, y, d;
      if (L->kind == TWINN_LAYER_AFFINE) {
        /* z - W x = b, exactly as the weights say */
        if (!isfinite(ql[i]) || !isfinite(qh[i])) {
          snprintf(e->reason, sizeof e->reason,
                   "a neuron of layer %zu has no finite bound over the input box", k);
          return TWINN_OK;
        }
        if (!(z = add_col(e, ql[i], qh[i], 0))) return TWINN_ERR_NOMEM;
        row_term(e, &n, z, 1.0);
        for (j = 0; j < L->n_in; j++) row_term(e, &n, cur[j], -L->w[i * L->n_in + j]);
        add_row(e, n, L->b[i], L->b[i]);
        nxt[i] = z;
      } else if (L->kind == TWINN_LAYER_RELU) {
        if (cur[i] == 0 || ph[i] <= 0.0) {
          nxt[i] = 0; /* stable inactive: the constant 0 */
        } else if (pl[i] >= 0.0) {
          nxt[i] = cur[i]; /* stable active: the identity */
        } else {
          /* y >= z, y <= z - l (1 - d), y <= u d, y >= 0, with the widened [l, u] of z */
          double l = e->clo[cur[i]], u = e->chi[cur[i]];
          if (!(y = add_col(e, 0.0, u, 0)) || !(d = add_col(e, 0.0, 1.0, 1)))
            return TWINN_ERR_NOMEM;
          row_term(e, &n, y, 1.0);
          row_term(e, &n, cur[i], -1.0);
          add_row(e, n, 0.0, INFINITY);
          n = 0;
          row_term(e, &n, y, 1.0);
          row_term(e, &n, cur[i], -1.0);
          row_term(e, &n, d, -l);
          add_row(e, n, -INFINITY, -l);
          n = 0;
          row_term(e, &n, y, 1.0);
          row_term(e, &n, d, -u);
          add_row(e, n, -INFINITY, 0.0);
          nxt[i] = y;
        }
      } else {
        snprintf(e->reason, sizeof e->reason,
                 "layer %zu is not affine or ReLU (the MILP mode handles ReLU networks only)", k);
        return TWINN_OK;
      }
    }
  }
  return TWINN_OK;
}

/* The tree node cannot hold: an always-on node makes the problem infeasible, otherwise its
 * indicator is fixed to 0. */
static void encode_false(enc *e, int ind) {
  if (ind == 0)
    e->infeasible = 1;
  else
    glp_set_col_bnds(e->lp, ind, GLP_FX, 0.0, 0.0);
}

/* sign * (sum coef x) + sign * c0 <= -m, enforced when ind is 1 (or always when ind is 0),
 * with m = margin * (1 + magnitude of the left side). When ind is 0 the row is relaxed by
 * K (1 - ind), K an outward upper bound of the left side plus m, which makes it vacuous. */
static twinn_status encode_le(enc *e, const twinn_prop *prop, const twinn_lin *l, const int *col_of,
                              double sign, double margin, int ind) {
  twinn_iacc acc;
  double ub_lo, ub, mag = fabs(l->c0), m, rhs;
  size_t t;
  int n = 0;
  if (reserve_row(e, l->n_terms + 1) != TWINN_OK) return TWINN_ERR_NOMEM;
  twinn_iacc_init(&acc, sign * l->c0);
  for (t = 0; t < l->n_terms; t++) {
    int j = col_of[prop->term_var[l->first + t]];
    double a = sign * prop->term_coef[l->first + t];
    if (j == 0) continue;
    row_term(e, &n, j, a);
    twinn_iacc_add(&acc, a, e->clo[j], e->chi[j], 0);
    mag += fabs(a) * fmax(fabs(e->clo[j]), fabs(e->chi[j]));
  }
  m = margin * (1.0 + mag);
  rhs = twinn_round_up(-sign * l->c0 - m);
  if (ind != 0) {
    double big;
    twinn_iacc_result(&acc, &ub_lo, &ub);
    big = twinn_round_up(ub + m);
    if (!isfinite(big)) {
      snprintf(e->reason, sizeof e->reason,
               "a constraint (line %lu) has no finite bound over the variables' box", l->line);
      row_finish(e, n);
      return TWINN_OK;
    }
    if (big < 0.0) big = 0.0;
    row_term(e, &n, ind, big);
    rhs = twinn_round_up(rhs + big);
  }
  add_row(e, n, -INFINITY, rhs);
  return TWINN_OK;
}

/* Row  sum bins - ind >= 0  (>= 1 when ind is 0, always on): at least one of the binaries
 * bins[0..n) is on whenever ind is. */
static twinn_status encode_pick(enc *e, const int *bins, size_t n, int ind) {
  size_t k;
  int m = 0;
  if (reserve_row(e, n + 1) != TWINN_OK) return TWINN_ERR_NOMEM;
  for (k = 0; k < n; k++) row_term(e, &m, bins[k], 1.0);
  if (ind != 0) row_term(e, &m, ind, -1.0);
  add_row(e, m, ind != 0 ? 0.0 : 1.0, INFINITY);
  return TWINN_OK;
}

static twinn_status encode_lin(enc *e, const twinn_prop *prop, const twinn_lin *l,
                               const int *col_of, int ind) {
  size_t t;
  int live = 0, bins[2];
  twinn_status st;
  if (l->nonlinear) {
    e->nonlinear = 1; /* dropped: the relaxation only grows, unsat stays sound */
    return TWINN_OK;
  }
  for (t = 0; t <= l->n_terms; t++)
    if (!isfinite(t < l->n_terms ? prop->term_coef[l->first + t] : l->c0)) {
      snprintf(e->reason, sizeof e->reason, "a constraint (line %lu) has a non-finite number",
               l->line);
      return TWINN_OK;
    }
  /* the left side may still be a constant: all its scalars are inactive ReLUs, or its terms
   * cancel on a shared column (two tied inputs) */
  if (reserve_row(e, l->n_terms + 1) != TWINN_OK) return TWINN_ERR_NOMEM;
  for (t = 0; t < l->n_terms; t++)
    row_term(e, &live, col_of[prop->term_var[l->first + t]], prop->term_coef[l->first + t]);
  live = row_finish(e, live);
  if (!live) {
    /* every term is a constant 0 (or there is none): decide c0 CMP 0 exactly */
    double c = l->c0;
    int holds = l->cmp == TWINN_CMP_LE   ? c <= 0.0
                : l->cmp == TWINN_CMP_LT ? c < 0.0
                : l->cmp == TWINN_CMP_EQ ? c == 0.0
                                         : c != 0.0;
    if (!holds) encode_false(e, ind);
    return TWINN_OK;
  }
  switch (l->cmp) {
  case TWINN_CMP_LE:
  case TWINN_CMP_LT: return encode_le(e, prop, l, col_of, 1.0, e->margin, ind);
  case TWINN_CMP_EQ:
    st = encode_le(e, prop, l, col_of, 1.0, 0.0, ind);
    if (st != TWINN_OK) return st;
    return encode_le(e, prop, l, col_of, -1.0, 0.0, ind);
  case TWINN_CMP_NE:
    /* e < 0 or -e < 0 */
    if (!(bins[0] = add_col(e, 0, 1, 1)) || !(bins[1] = add_col(e, 0, 1, 1)))
      return TWINN_ERR_NOMEM;
    st = encode_le(e, prop, l, col_of, 1.0, e->margin, bins[0]);
    if (st == TWINN_OK) st = encode_le(e, prop, l, col_of, -1.0, e->margin, bins[1]);
    if (st == TWINN_OK) st = encode_pick(e, bins, 2, ind);
    return st;
  }
  return TWINN_OK;
}

/* Encodes the subtree at node, enforced when binary ind is 1 (always when ind is 0). AND:
 * every child under ind. OR: a binary per child, at least one on when ind is. Recursion
 * depth is the tree's nesting, bounded by the parser's nesting limit. */
static twinn_status encode_node(enc *e, const twinn_prop *prop, size_t node, const int *col_of,
                                int ind) {
  const twinn_bool *b = &prop->nodes[node];
  twinn_status st = TWINN_OK;
  int *bins = NULL;
  size_t k;
  if (b->kind == TWINN_BOOL_LIN) return encode_lin(e, prop, &prop->lins[b->lin], col_of, ind);
  if (b->kind == TWINN_BOOL_AND || b->n_kids == 1) {
    for (k = 0; k < b->n_kids && st == TWINN_OK && !e->reason[0]; k++)
      st = encode_node(e, prop, prop->kids[b->first_kid + k], col_of, ind);
    return st;
  }
  if (b->n_kids == 0) {
    encode_false(e, ind);
    return TWINN_OK;
  }
  bins = twinn_mallocarray(b->n_kids, sizeof *bins);
  if (!bins) return TWINN_ERR_NOMEM;
  for (k = 0; k < b->n_kids && st == TWINN_OK && !e->reason[0]; k++) {
    if (!(bins[k] = add_col(e, 0, 1, 1))) {
      st = TWINN_ERR_NOMEM;
      break;
    }
    st = encode_node(e, prop, prop->kids[b->first_kid + k], col_of, bins[k]);
  }
  if (st == TWINN_OK && !e->reason[0]) st = encode_pick(e, bins, b->n_kids, ind);
  twinn_free(bins);
  return st;
}

/* Scalars of each declared network's inputs and outputs (concatenated in declaration order)
 * into io[i]; a count that differs from the bound network's is a reason for unknown. */
static twinn_status collect_io(const twinn_problem *pb, net_io *io, char *reason, size_t rn) {
  const twinn_prop *prop = pb->prop;
  size_t i, v, t;
  for (i = 0; i < prop->n_nets; i++) {
    const twinn_prop_net *pn = &prop->nets[i];
    const twinn_net *net = pb->nets[i];
    size_t ni = 0, no = 0;
    io[i].in = twinn_mallocarray(net->n_in, sizeof *io[i].in);
    io[i].out = twinn_mallocarray(net->n_out, sizeof *io[i].out);
    if (!io[i].in || !io[i].out) return TWINN_ERR_NOMEM;
    for (v = pn->first_var; v < pn->first_var + pn->n_vars; v++) {
      const twinn_var *var = &prop->vars[v];
      size_t *dst = var->role == TWINN_VAR_INPUT ? io[i].in : io[i].out;
      size_t *cnt = var->role == TWINN_VAR_INPUT ? &ni : &no;
      size_t cap = var->role == TWINN_VAR_INPUT ? net->n_in : net->n_out;
      if (var->role == TWINN_VAR_HIDDEN) continue;
      for (t = 0; t < var->n; t++, ++*cnt)
        if (*cnt < cap) dst[*cnt] = var->offset + t;
    }
    if (ni != net->n_in || no != net->n_out) {
      snprintf(reason, rn,
               "network %zu: declared inputs/outputs (%zu/%zu scalars) do not match "
               "the model (%zu/%zu)",
               i, ni, no, net->n_in, net->n_out);
      return TWINN_OK;
    }
  }
  return TWINN_OK;
}

/* How a solver value becomes a float32 input. Solutions sit on the widened bounds, a hair
 * inside or outside them, so candidates (tried in order until one replays) first snap a value
 * within 1e-6 of a box bound onto it, then round it to float32 toward the box's middle (stays
 * inside the box) or away from it (reaches a boundary point the widening stopped just short
 * of; inward again if that leaves the box); the last two skip the snap. Values beyond float
 * range are kept. */
#define MILP_CANDIDATES 4

static double to_f32(double v, double lo, double hi, int cand) {
  double mid = 0.5 * lo + 0.5 * hi, tol = 1e-6 * (1.0 + fmax(fabs(lo), fabs(hi)));
  float f, g;
  if (cand < 2) {
    if (fabs(v - lo) <= tol) v = lo;
    if (fabs(v - hi) <= tol) v = hi;
  }
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  if (!(fabs(v) <= FLT_MAX)) return v;
  f = g = (float)v;
  if ((double)f < v && mid > v) f = nextafterf(f, INFINITY);
  if ((double)f > v && mid < v) f = nextafterf(f, -INFINITY);
  if (cand % 2 == 0) return (double)f;
  /* away from the middle, if that stays in the box */
  if ((double)g < v && mid < v) g = nextafterf(g, INFINITY);
  if ((double)g > v && mid > v) g = nextafterf(g, -INFINITY);
  return (double)g >= lo && (double)g <= hi ? (double)g : (double)f;
}

/* Replays the inputs in x: completes it (hidden, outputs) in double and checks the property,
 * then checks it again with outputs from float32 evaluation (x32 is scratch). *ok = 1 if
 * both hold. */
static twinn_status replay(const twinn_problem *pb, const net_io *io, double *x, double *x32,
                           double *buf_in, double *buf_out, int *ok) {
  const twinn_prop *prop = pb->prop;
  size_t i, t;
  twinn_status st;
  *ok = 0;
  st = twinn_problem_complete(pb, x);
  if (st != TWINN_OK) return st;
  if (!twinn_prop_holds(prop, x)) return TWINN_OK;
  memcpy(x32, x, prop->n_scalars * sizeof *x32);
  for (i = 0; i < prop->n_nets; i++) {
    const twinn_net *net = pb->nets[i];
    for (t = 0; t < net->n_in; t++) buf_in[t] = x[io[i].in[t]];
    st = twinn_net_eval_f32(net, buf_in, buf_out);
    if (st != TWINN_OK) return st;
    for (t = 0; t < net->n_out; t++) x32[io[i].out[t]] = buf_out[t];
  }
  *ok = twinn_prop_holds(prop, x32);
  return TWINN_OK;
}

/* Everything one verification owns. Input scalars tied by (== X_g[i] X_f[i]) form one
 * dimension of the space (space.h) and share one column, so witnesses respect ties exactly. */
typedef struct {
  twinn_space sp;
  double *dlo, *dhi; /* per dimension: the hull of the space's case boxes */
  int *dcol;         /* per dimension: its column in the current attempt */
  int *col_of;       /* GLPK column of each scalar (0 = the constant 0) */
  net_io *io;
  twinn_ibounds *ib; /* per declared network */
  int **cols;        /* per declared network: columns of every point */
  double *x, *x32, *buf_in, *buf_out;
  double *p, *q; /* per dimension: the solver's point, a float32 candidate */
} milp_state;

static void state_release(milp_state *s, size_t n_nets) {
  size_t i;
  for (i = 0; i < n_nets; i++) {
    if (s->io) {
      twinn_free(s->io[i].in);
      twinn_free(s->io[i].out);
    }
    if (s->ib) twinn_ibounds_release(&s->ib[i]);
    if (s->cols) twinn_free(s->cols[i]);
  }
  twinn_space_release(&s->sp);
  twinn_free(s->io);
  twinn_free(s->ib);
  twinn_free(s->cols);
  twinn_free(s->dlo);
  twinn_free(s->dhi);
  twinn_free(s->dcol);
  twinn_free(s->col_of);
  twinn_free(s->x);
  twinn_free(s->x32);
  twinn_free(s->p);
  twinn_free(s->q);
  twinn_free(s->buf_in);
  twinn_free(s->buf_out);
}

/* Progress of GLPK's branch and bound, for res->branches and opt->progress. */
typedef struct {
  const twinn_options *opt;
  double t0, last;
  unsigned long nodes, open;
} milp_cb;

static void glpk_callback(glp_tree *tree, void *info) {
  milp_cb *cb = info;
  int a_cnt, n_cnt, t_cnt;
  double t;
  glp_ios_tree_size(tree, &a_cnt, &n_cnt, &t_cnt);
  cb->nodes = (unsigned long)t_cnt;
  cb->open = (unsigned long)a_cnt;
  if (!cb->opt || !cb->opt->progress) return;
  t = twinn_clock_now();
  if (t - cb->last < 0.25) return;
  cb->last = t;
  {
    twinn_progress p;
    p.elapsed = t - cb->t0;
    p.branches = cb->nodes;
    p.open = cb->open;
    p.bound = NAN;
    cb->opt->progress(cb->opt->progress_ctx, &p);
  }
}

/* Intersects the interval bounds b of net over [in_lo, in_hi] with its symbolic
 * (back-substitution) bounds, both sound: fewer unstable ReLUs and smaller big-M values. Nets
 * symbolic.c does not handle keep their interval bounds. */
static twinn_status tighten_symbolic(const twinn_net *net, const double *in_lo, const double *in_hi,
                                     twinn_ibounds *b) {
  twinn_sym *sym;
  size_t k, i;
  if (twinn_sym_supported(net, NULL, NULL) != TWINN_OK) return TWINN_OK;
  if (!(sym = twinn_sym_new(net, NULL))) return TWINN_ERR_NOMEM;
  if (twinn_sym_analyse(sym, in_lo, in_hi, NULL) == TWINN_OK && !twinn_sym_infeasible(sym))
    for (k = 1; k < b->n_points; k++) {
      const double *lo = twinn_sym_point_lo(sym, TWINN_SYM_F, k);
      const double *hi = twinn_sym_point_hi(sym, TWINN_SYM_F, k);
      for (i = 0; lo && hi && i < b->off[k + 1] - b->off[k]; i++) {
        double l = fmax(b->lo[b->off[k] + i], lo[i]), h = fmin(b->hi[b->off[k] + i], hi[i]);
        if (l <= h) {
          b->lo[b->off[k] + i] = l;
          b->hi[b->off[k] + i] = h;
        }
      }
    }
  twinn_sym_free(sym);
  return TWINN_OK;
}

/* Prepares what all attempts share: the input space and its hull box, io lists, interval
 * bounds, hidden-variable checks. Sets reason (unknown) or *empty (unsat) instead of failing. */
static twinn_status prepare(const twinn_problem *pb, milp_state *s, char *reason, size_t rn,
                            int *empty, twinn_error *err) {
  const twinn_prop *prop = pb->prop;
  size_t i, t, v, c, d, nf, w = 1, point;
  twinn_status st;
  size_t n = prop->n_scalars ? prop->n_scalars : 1;
  st = twinn_space_build(&s->sp, prop, err);
  if (st != TWINN_OK) return st;
  if (s->sp.kind == TWINN_SPACE_EMPTY) {
    *empty = 1;
    return TWINN_OK;
  }
  if (s->sp.kind != TWINN_SPACE_BOXED) {
    snprintf(reason, rn, "%.180s (the MILP mode needs a finite box on every input)", s->sp.reason);
    return TWINN_OK;
  }
  nf = s->sp.n_free;
  s->dlo = twinn_mallocarray(nf + 1, sizeof *s->dlo);
  s->dhi = twinn_mallocarray(nf + 1, sizeof *s->dhi);
  s->dcol = twinn_calloc(nf + 1, sizeof *s->dcol);
  s->p = twinn_calloc(nf + 1, sizeof *s->p);
  s->q = twinn_calloc(nf + 1, sizeof *s->q);
  s->col_of = twinn_calloc(n, sizeof *s->col_of);
  s->x = twinn_calloc(n, sizeof *s->x);
  s->x32 = twinn_calloc(n, sizeof *s->x32);
  s->io = twinn_calloc(prop->n_nets, sizeof *s->io);
  s->ib = twinn_calloc(prop->n_nets, sizeof *s->ib);
  s->cols = twinn_calloc(prop->n_nets, sizeof *s->cols);
  if (!s->dlo || !s->dhi || !s->dcol || !s->p || !s->q || !s->col_of || !s->x || !s->x32 ||
      !s->io || !s->ib || !s->cols)
    return TWINN_ERR_NOMEM;
  for (d = 0; d < nf; d++) {
    s->dlo[d] = INFINITY;
    s->dhi[d] = -INFINITY;
    for (c = 0; c < s->sp.n_cases; c++) {
      s->dlo[d] = fmin(s->dlo[d], s->sp.lo[c * nf + d]);
      s->dhi[d] = fmax(s->dhi[d], s->sp.hi[c * nf + d]);
    }
  }
  st = collect_io(pb, s->io, reason, rn);
  if (st != TWINN_OK || reason[0]) return st;
  for (i = 0; i < prop->n_nets; i++)
    if (twinn_net_max_width(pb->nets[i]) > w) w = twinn_net_max_width(pb->nets[i]);
  s->buf_in = twinn_mallocarray(w, sizeof *s->buf_in);
  s->buf_out = twinn_mallocarray(w, sizeof *s->buf_out);
  if (!s->buf_in || !s->buf_out) return TWINN_ERR_NOMEM;
  for (i = 0; i < prop->n_nets; i++) {
    const twinn_net *net = pb->nets[i];
    double *in_lo = s->buf_in, *in_hi = s->buf_out;
    st = twinn_ibounds_init(&s->ib[i], net);
    if (st != TWINN_OK) return st;
    s->cols[i] = twinn_calloc(s->ib[i].off[s->ib[i].n_points], sizeof *s->cols[i]);
    if (!s->cols[i]) return TWINN_ERR_NOMEM;
    for (t = 0; t < net->n_in; t++) {
      d = s->sp.dim_of[s->io[i].in[t]];
      in_lo[t] = s->dlo[d];
      in_hi[t] = s->dhi[d];
    }
    twinn_interval_propagate(net, in_lo, in_hi, &s->ib[i]);
    st = tighten_symbolic(net, in_lo, in_hi, &s->ib[i]);
    if (st != TWINN_OK) return st;
    for (v = prop->nets[i].first_var; v < prop->nets[i].first_var + prop->nets[i].n_vars; v++) {
      const twinn_var *var = &prop->vars[v];
      if (var->role != TWINN_VAR_HIDDEN) continue;
      if (!twinn_problem_tap_point(net, var, &point) || twinn_net_width_at(net, point) != var->n) {
        snprintf(reason, rn, "hidden variable %s has no matching tap in the network", var->name);
        return TWINN_OK;
      }
    }
  }
  return TWINN_OK;
}

/* Builds the MILP of one attempt into e (e->lp already created). */
static twinn_status build(const twinn_problem *pb, milp_state *s, enc *e) {
  const twinn_prop *prop = pb->prop;
  size_t i, t, v, d, point;
  twinn_status st;
  for (d = 0; d < s->sp.n_free; d++)
    if (!(s->dcol[d] = add_col(e, s->dlo[d], s->dhi[d], 0))) return TWINN_ERR_NOMEM;
  for (i = 0; i < prop->n_nets; i++) {
    const twinn_net *net = pb->nets[i];
    const twinn_ibounds *b = &s->ib[i];
    size_t last = b->n_points - 1;
    for (t = 0; t < net->n_in; t++) {
      size_t sc = s->io[i].in[t];
      s->cols[i][t] = s->col_of[sc] = s->dcol[s->sp.dim_of[sc]];
    }
    st = encode_net(e, net, b, s->cols[i]);
    if (st != TWINN_OK || e->reason[0]) return st;
    for (t = 0; t < net->n_out; t++) s->col_of[s->io[i].out[t]] = s->cols[i][b->off[last] + t];
    for (v = prop->nets[i].first_var; v < prop->nets[i].first_var + prop->nets[i].n_vars; v++) {
      const twinn_var *var = &prop->vars[v];
      if (var->role != TWINN_VAR_HIDDEN || !twinn_problem_tap_point(net, var, &point)) continue;
      for (t = 0; t < var->n; t++) s->col_of[var->offset + t] = s->cols[i][b->off[point] + t];
    }
  }
  if (prop->n_nodes == 0 || prop->root >= prop->n_nodes) return TWINN_ERR_INTERNAL;
  return encode_node(e, prop, prop->root, s->col_of, 0);
}

static void enc_release(enc *e) {
  if (e->lp) glp_delete_prob(e->lp);
  twinn_free(e->clo);
  twinn_free(e->chi);
  twinn_free(e->slot);
  twinn_free(e->idx);
  twinn_free(e->val);
  memset(e, 0, sizeof *e);
}

/* Outcome of one attempt. */
typedef enum { TRY_INFEASIBLE, TRY_FEASIBLE, TRY_TIMEOUT, TRY_UNKNOWN } try_outcome;

/* Milliseconds left before the deadline for GLPK's tm_lim (INT_MAX without a timeout); 0 when
 * the time is up. */
static int ms_left(const twinn_options *opt, double deadline) {
  double left;
  if (!opt || opt->timeout <= 0) return INT_MAX;
  left = (deadline - twinn_clock_now()) * 1000.0;
  if (left <= 0) return 0;
  return left >= (double)INT_MAX ? INT_MAX : (int)left + 1;
}

/* One solve of lp. Path 1: glp_intopt with GLPK's MIP presolver (fast). Path 0: the LP
 * relaxation by the primal simplex, then branch and bound from its basis, no presolver. The
 * presolver was seen to declare a feasible problem infeasible (seed 7 case 296 of
 * test_oracle), so an infeasibility from path 1 is cross-checked by path 0 (see attempt).
 * Sets *code on a GLPK failure. */
static try_outcome solve(glp_prob *lp, int path, const twinn_options *opt, double deadline,
                         milp_cb *cb, int *code) {
  glp_smcp sp;
  glp_iocp parm;
  int rc, st, ms = ms_left(opt, deadline);
  if (ms == 0) return TRY_TIMEOUT;
  glp_init_iocp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.cb_func = glpk_callback;
  parm.cb_info = cb;
  parm.tm_lim = ms;
  parm.presolve = path == 1 ? GLP_ON : GLP_OFF;
  if (path == 0) {
    glp_init_smcp(&sp);
    sp.msg_lev = GLP_MSG_OFF;
    sp.tm_lim = ms;
    rc = glp_simplex(lp, &sp);
    st = glp_get_status(lp);
    if (rc == 0 && st == GLP_NOFEAS) {
      /* The primal simplex also calls feasible LPs infeasible (exact.c simplex: acasxu_2_7
       * fp16 paths, after it perturbs the LP): the dual simplex from the standard basis must
       * agree. */
      glp_std_basis(lp);
      sp.meth = GLP_DUALP;
      if ((sp.tm_lim = ms_left(opt, deadline)) == 0) return TRY_TIMEOUT;
      rc = glp_simplex(lp, &sp);
      st = glp_get_status(lp);
    }
    if (rc == GLP_ETMLIM) return TRY_TIMEOUT;
    if (rc == 0 && st == GLP_NOFEAS) return TRY_INFEASIBLE;
    if (rc != 0 || st != GLP_OPT) {
      *code = rc ? rc : -st;
      return TRY_UNKNOWN;
    }
    if ((parm.tm_lim = ms_left(opt, deadline)) == 0) return TRY_TIMEOUT;
  }
  rc = glp_intopt(lp, &parm);
  st = glp_mip_status(lp);
  if (st == GLP_OPT || st == GLP_FEAS) return TRY_FEASIBLE;
  if (rc == GLP_ETMLIM) return TRY_TIMEOUT;
  if (rc == GLP_ENOPFS || (rc == 0 && st == GLP_NOFEAS)) return TRY_INFEASIBLE;
  *code = rc ? rc : -st;
  return TRY_UNKNOWN;
}

/* Encodes with the given margin and solves; on TRY_FEASIBLE s->p holds the solution's value
 * of every dimension. Infeasible only when both solve paths say so (two numerically different
 * routes through GLPK must agree before anything is called unsat). reason is filled on
 * TRY_UNKNOWN. *nonlinear is set when nonlinear leaves were left out of the encoding. */
static twinn_status attempt(const twinn_problem *pb, const twinn_options *opt, milp_state *s,
                            double margin, double deadline, milp_cb *cb, try_outcome *out,
                            int *nonlinear, char *reason, size_t rn) {
  enc e;
  twinn_status st;
  size_t d;
  int code = 0;
  memset(&e, 0, sizeof e);
  e.margin = margin;
  *out = TRY_UNKNOWN;
  e.lp = glp_create_prob();
  st = build(pb, s, &e);
  if (st != TWINN_OK) goto done;
  *nonlinear = e.nonlinear;
  if (e.reason[0]) {
    snprintf(reason, rn, "%s", e.reason);
    goto done;
  }
  if (e.infeasible) {
    *out = TRY_INFEASIBLE; /* exact: a constant constraint is false at the top level */
    goto done;
  }
  *out = solve(e.lp, 1, opt, deadline, cb, &code);
  if (*out == TRY_INFEASIBLE || *out == TRY_UNKNOWN) {
    try_outcome second = solve(e.lp, 0, opt, deadline, cb, &code);
    /* infeasible needs both; a point from either is checked by replay anyway */
    if (second == TRY_FEASIBLE || second == TRY_TIMEOUT) *out = second;
    if (second == TRY_UNKNOWN) *out = TRY_UNKNOWN;
  }
  if (*out == TRY_FEASIBLE)
    for (d = 0; d < s->sp.n_free; d++) s->p[d] = glp_mip_col_val(e.lp, s->dcol[d]);
  if (*out == TRY_UNKNOWN) snprintf(reason, rn, "GLPK could not solve the MILP (code %d)", code);
done:
  enc_release(&e);
  return st;
}

#define NONLINEAR_REASON "the property has a nonlinear constraint that twinn cannot check"

twinn_status twinn_milp_verify(const twinn_problem *pb, const twinn_options *opt, twinn_result *res,
                               twinn_error *err) {
  const twinn_prop *prop = pb->prop;
  milp_state s;
  milp_cb cb;
  twinn_status st;
  double t0 = twinn_clock_now(), deadline;
  int empty = 0, ok = 0, c, nonlinear = 0;
  size_t a, d;
  char reason[sizeof res->reason] = "";
  try_outcome out = TRY_UNKNOWN;
  memset(res, 0, sizeof *res);
  memset(&s, 0, sizeof s);
  res->verdict = TWINN_VERDICT_UNKNOWN;
  deadline = t0 + (opt && opt->timeout > 0 ? opt->timeout : 0.0);
  cb.opt = opt;
  cb.t0 = cb.last = t0;
  cb.nodes = cb.open = 0;
  glp_term_out(GLP_OFF);
  st = prepare(pb, &s, reason, sizeof reason, &empty, err);
  if (st != TWINN_OK) goto fail;
  if (empty) {
    res->verdict = TWINN_VERDICT_UNSAT;
    goto done;
  }
  if (reason[0]) goto done;
  for (a = 0; a < MILP_ATTEMPTS; a++) {
    st = attempt(pb, opt, &s, attempt_margin[a], deadline, &cb, &out, &nonlinear, reason,
                 sizeof reason);
    if (st != TWINN_OK) goto fail;
    if (out == TRY_INFEASIBLE && a == 0) {
      res->verdict = TWINN_VERDICT_UNSAT;
      goto done;
    }
    if (out == TRY_TIMEOUT) {
      res->verdict = TWINN_VERDICT_TIMEOUT;
      snprintf(reason, sizeof reason, "GLPK ran out of time (%g s)", opt ? opt->timeout : 0.0);
      goto done;
    }
    if (out == TRY_INFEASIBLE) {
      snprintf(reason, sizeof reason, "%s",
               nonlinear ? NONLINEAR_REASON
                         : "the MILP is feasible but no solution replays (a strict comparison "
                           "at its boundary, or float32 rounding): no solution with a margin "
                           "exists");
      goto done;
    }
    if (out != TRY_FEASIBLE || reason[0]) goto done;
    for (c = 0; c < MILP_CANDIDATES && !ok; c++) {
      for (d = 0; d < s.sp.n_free; d++) s.q[d] = to_f32(s.p[d], s.dlo[d], s.dhi[d], c);
      twinn_space_scatter(&s.sp, prop->n_scalars, s.q, s.x);
      st = replay(pb, s.io, s.x, s.x32, s.buf_in, s.buf_out, &ok);
      if (st != TWINN_OK) goto fail;
    }
    if (ok) {
      res->verdict = TWINN_VERDICT_SAT;
      res->witness = s.x;
      s.x = NULL;
      goto done;
    }
  }
  snprintf(reason, sizeof reason, "%s",
           nonlinear ? NONLINEAR_REASON
                     : "the MILP solutions found do not replay under double and float32 "
                       "evaluation");
done:
  if (res->verdict != TWINN_VERDICT_SAT && res->verdict != TWINN_VERDICT_UNSAT)
    snprintf(res->reason, sizeof res->reason, "%s", reason);
  res->branches = cb.nodes;
  res->open = cb.open;
  res->seconds = twinn_clock_now() - t0;
  state_release(&s, prop->n_nets);
  return TWINN_OK;
fail:
  state_release(&s, prop->n_nets);
  twinn_free(res->witness);
  res->witness = NULL;
  res->seconds = twinn_clock_now() - t0;
  if (st == TWINN_ERR_NOMEM)
    return twinn_error_set(err, st, prop->path, 0, 0, "out of memory in the MILP encoding");
  return twinn_error_set(err, st, prop->path, 0, 0, "MILP mode failed (%s)", twinn_status_name(st));
}
