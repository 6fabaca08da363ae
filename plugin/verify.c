/* verify.c: the decision procedure. Regions (boxes of the search space) are bounded by sound
 * analyses (interval.c, diff.c), the formula is evaluated over them in three-valued logic,
 * regions proved safe are dropped, the rest are attacked and bisected depth-first (memory stays
 * proportional to the depth). UNSAT only when every region was proved safe with outward-rounded
 * bounds; SAT only with a replayed witness (attack.c); NaN or a failure never yields UNSAT. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attack.h"
#include "bind.h"
#include "clock.h"
#include "diff.h"
#include "interval.h"
#include "space.h"
#include "symbolic.h"
#include "twinn.h"

enum { V_FALSE = 0, V_TRUE = 1, V_UNKNOWN = 2 };

typedef struct {
  size_t f, g;     /* problem network indices: d = g - f on tied inputs */
  twinn_ibounds d; /* difference bounds, shaped like f */
} pair;

/* A symbolic workspace (symbolic.h) for network f, or for the pair (f, g). */
typedef struct {
  twinn_sym *s;
  size_t f, g; /* g == SIZE_MAX: one network */
  int ok;      /* the last analysis succeeded: its bounds may be used */
} symw;

typedef struct {
  double *lo, *hi; /* n_free each */
  double margin;   /* the parent's root margin (progress reports) */
} region;

typedef struct {
  const twinn_problem *pb;
  const twinn_prop *prop;
  const twinn_space *sp;
  const twinn_options *opt;
  twinn_ibounds *nb;     /* per problem network */
  double *in_lo, *in_hi; /* per-network input box scratch */
  pair *pairs;
  size_t n_pairs;
  symw *syms; /* symbolic workspaces; every network is in at most one */
  size_t n_syms;
  size_t *sym_of;            /* per network: its workspace, SIZE_MAX if none */
  double *score;             /* n_free: split scores from the symbolic input sensitivities */
  double **co;               /* per network: output coefficients of the current leaf */
  int *has_out, *used;       /* per network: scratch flags of the current leaf */
  double *leaf_lo, *leaf_hi; /* per lin: its enclosure over the current region */
  twinn_attack *atk;
  uint64_t rng;
  double t0, deadline, last_report;
  unsigned long branches;
  region *stack;
  size_t n_stack, cap_stack;
  double *center, *grad;
  double *work; /* 2 n_free: the region being processed */
  int nan_seen;
  int stopped;         /* the deadline passed inside process(): stop with a timeout */
  char undecided[256]; /* why some region stayed open (then the answer cannot be unsat) */
} engine;

void twinn_options_init(twinn_options *opt) {
  memset(opt, 0, sizeof *opt);
  opt->timeout = 0;
  opt->seed = 1;
  opt->threads = 0;
}

const char *twinn_verdict_name(twinn_verdict v) {
  switch (v) {
  case TWINN_VERDICT_SAT: return "sat";
  case TWINN_VERDICT_UNSAT: return "unsat";
  case TWINN_VERDICT_TIMEOUT: return "timed-out";
  case TWINN_VERDICT_UNKNOWN: break;
  }
  return "unknown";
}

void twinn_result_release(twinn_result *res) {
  if (!res) return;
  twinn_free(res->witness);
  res->witness = NULL;
}

/* ---- bounding: the per-region analyses and the enclosure of one constraint's left side ---- */

static void analyse_region(engine *E, const double *lo, const double *hi) {
  size_t i, r;
  for (i = 0; i < E->pb->n_nets; i++) {
    const twinn_net *net = E->pb->nets[i];
    const twinn_var *in = twinn_prop_net_var(E->prop, i, TWINN_VAR_INPUT);
    for (r = 0; r < net->n_in; r++) {
      size_t d = E->sp->dim_of[in->offset + r];
      E->in_lo[r] = lo[d];
      E->in_hi[r] = hi[d];
    }
    twinn_interval_propagate(net, E->in_lo, E->in_hi, &E->nb[i]);
  }
  for (i = 0; i < E->n_syms; i++) { /* symbolic bounds: their errors only disable them */
    symw *w = &E->syms[i];
    const twinn_var *in = twinn_prop_net_var(E->prop, w->f, TWINN_VAR_INPUT);
    twinn_error err;
    for (r = 0; r < E->pb->nets[w->f]->n_in; r++) {
      size_t d = E->sp->dim_of[in->offset + r];
      E->in_lo[r] = lo[d];
      E->in_hi[r] = hi[d];
    }
    twinn_error_clear(&err);
    w->ok = twinn_sym_analyse(w->s, E->in_lo, E->in_hi, &err) == TWINN_OK;
  }
  for (i = 0; i < E->n_pairs; i++) {
    pair *p = &E->pairs[i];
    twinn_diff_propagate(E->pb->nets[p->f], E->pb->nets[p->g], &E->nb[p->f], &E->nb[p->g], &p->d);
  }
}

/* Bounds of global scalar s over the region: the box for inputs, the network's bounds at the
 * variable's point for hidden values and outputs. */
static void scalar_bounds(const engine *E, const double *lo, const double *hi, size_t s, double *l,
                          double *h) {
  size_t elem = 0, net, point = 0;
  const twinn_var *v = twinn_prop_var_of(E->prop, s, &elem);
  if (v->role == TWINN_VAR_INPUT) {
    *l = lo[E->sp->dim_of[s]];
    *h = hi[E->sp->dim_of[s]];
    return;
  }
  net = v->net;
  if (v->role == TWINN_VAR_OUTPUT)
    point = E->pb->nets[net]->n_layers;
  else if (!twinn_problem_tap_point(E->pb->nets[net], v, &point)) {
    *l = -INFINITY, *h = INFINITY;
    return;
  }
  *l = E->nb[net].lo[E->nb[net].off[point] + elem];
  *h = E->nb[net].hi[E->nb[net].off[point] + elem];
}

/* Adds the symbolic enclosure of the output terms of workspace w (coefficients in E->co) to
 * acc, and its input sensitivities to score (if not NULL). Returns 0 if w cannot be used. */
static int add_sym(engine *E, const symw *w, twinn_iacc *acc, double *score) {
  double l, h;
  size_t r;
  twinn_error err;
  const twinn_var *in = twinn_prop_net_var(E->prop, w->f, TWINN_VAR_INPUT);
  const double *coef;
  twinn_error_clear(&err);
  if (!w->ok || twinn_sym_bound_lin(w->s, E->co[w->f], w->g == SIZE_MAX ? NULL : E->co[w->g], &l,
                                    &h, &err) != TWINN_OK)
    return 0;
  twinn_iacc_add_interval(acc, l, h);
  if (score) {
    coef = twinn_sym_input_coef(w->s);
    for (r = 0; r < E->pb->nets[w->f]->n_in; r++) score[E->sp->dim_of[in->offset + r]] += coef[r];
  }
  return 1;
}

/* The one place where analyses combine: an enclosure of lin's left side over the region.
 * (1) every term from its own interval bounds; (2) for output terms of an isomorphic pair on
 * tied inputs, a f + b g = (a + b) f + b (g - f) with the difference intervals (diff.c);
 * (3) output terms through the symbolic workspaces (symbolic.h: back-substitution, and the
 * symbolic difference for pairs). All are sound, so the result is their intersection. A new
 * analysis plugs in here as one more enclosure. score (may be NULL) collects split scores. */
static void bound_leaf(engine *E, const double *lo, const double *hi, const twinn_lin *l,
                       double *score, double *out_lo, double *out_hi) {
  const twinn_prop *prop = E->prop;
  twinn_iacc plain, paired, sym;
  size_t t, i, j, e;
  double a, b, pl, ph, ql, qh, sl, sh;
  int sym_ok = 1;
  twinn_iacc_init(&plain, l->c0);
  twinn_iacc_init(&paired, l->c0);
  twinn_iacc_init(&sym, l->c0);
  for (i = 0; i < E->pb->n_nets; i++) E->has_out[i] = E->used[i] = 0;
  for (t = 0; t < l->n_terms; t++) {
    size_t s = prop->term_var[l->first + t], elem = 0;
    const twinn_var *v = twinn_prop_var_of(prop, s, &elem);
    double c = prop->term_coef[l->first + t];
    if (v->role == TWINN_VAR_OUTPUT) {
      E->co[v->net][elem] = c;
      E->has_out[v->net] = 1;
      continue;
    }
    scalar_bounds(E, lo, hi, s, &a, &b);
    twinn_iacc_add(&plain, c, a, b, 0);
    twinn_iacc_add(&paired, c, a, b, 0);
    twinn_iacc_add(&sym, c, a, b, 0);
  }
  for (j = 0; j < E->n_pairs; j++) {
    const pair *p = &E->pairs[j];
    const twinn_ibounds *bf = &E->nb[p->f];
    size_t base = bf->off[bf->n_points - 1];
    if (!E->has_out[p->f] || !E->has_out[p->g] || E->used[p->f] || E->used[p->g]) continue;
    E->used[p->f] = E->used[p->g] = 1;
    for (e = 0; e < E->pb->nets[p->f]->n_out; e++) {
      double cf = E->co[p->f][e], cg = E->co[p->g][e];
      twinn_iacc_add(&paired, cf + cg, bf->lo[base + e], bf->hi[base + e], 1);
      twinn_iacc_add(&paired, cg, p->d.lo[base + e], p->d.hi[base + e], 0);
    }
  }
  for (j = 0; j < E->n_syms; j++) {
    const symw *w = &E->syms[j];
    if (E->has_out[w->f] || (w->g != SIZE_MAX && E->has_out[w->g]))
      sym_ok = sym_ok && add_sym(E, w, &sym, score);
  }
  for (i = 0; i < E->pb->n_nets; i++) {
    const twinn_ibounds *bi = &E->nb[i];
    size_t base = bi->off[bi->n_points - 1];
    if (!E->has_out[i]) continue;
    for (e = 0; e < E->pb->nets[i]->n_out; e++) {
      double c = E->co[i][e];
      twinn_iacc_add(&plain, c, bi->lo[base + e], bi->hi[base + e], 0);
      if (!E->used[i]) twinn_iacc_add(&paired, c, bi->lo[base + e], bi->hi[base + e], 0);
      if (E->sym_of[i] == SIZE_MAX) twinn_iacc_add(&sym, c, bi->lo[base + e], bi->hi[base + e], 0);
      E->co[i][e] = 0.0;
    }
  }
  twinn_iacc_result(&plain, &pl, &ph);
  twinn_iacc_result(&paired, &ql, &qh);
  twinn_iacc_result(&sym, &sl, &sh);
  if (!sym_ok) sl = -INFINITY, sh = INFINITY;
  *out_lo = fmax(pl, fmax(ql, sl));
  *out_hi = fmin(ph, fmin(qh, sh));
  if (isnan(l->c0)) *out_lo = *out_hi = NAN;
}

/* ---- three-valued evaluation of the formula over a region ---- */

static int leaf_value(const twinn_lin *l, double lo, double hi, double *margin) {
  *margin = l->cmp == TWINN_CMP_EQ ? fmax(lo, -hi) : lo;
  if (isnan(lo) || isnan(hi)) {
    *margin = -INFINITY;
    return V_UNKNOWN;
  }
  switch (l->cmp) {
  case TWINN_CMP_LE: return lo > 0 ? V_FALSE : hi <= 0 ? V_TRUE : V_UNKNOWN;
  case TWINN_CMP_LT: return lo >= 0 ? V_FALSE : hi < 0 ? V_TRUE : V_UNKNOWN;
  case TWINN_CMP_EQ:
    return (lo > 0 || hi < 0) ? V_FALSE : (lo == 0 && hi == 0) ? V_TRUE : V_UNKNOWN;
  case TWINN_CMP_NE:
    *margin = (lo == 0 && hi == 0) ? 1.0 : -1.0;
    return (lo == 0 && hi == 0) ? V_FALSE : (lo > 0 || hi < 0) ? V_TRUE : V_UNKNOWN;
  }
  return V_UNKNOWN;
}

/* nl: the value given to nonlinear constraints (UNKNOWN normally; FALSE to ask whether the
 * verdict hinges on them). *margin > 0 means "proved false" by that much. */
static int node_value(const engine *E, size_t node, int nl, double *margin) {
  const twinn_prop *prop = E->prop;
  const twinn_bool *b = &prop->nodes[node];
  size_t i;
  int v, acc;
  double m;
  if (b->kind == TWINN_BOOL_LIN) {
    const twinn_lin *l = &prop->lins[b->lin];
    if (l->nonlinear) {
      *margin = nl == V_FALSE ? 1.0 : -INFINITY;
      return nl;
    }
    return leaf_value(l, E->leaf_lo[b->lin], E->leaf_hi[b->lin], margin);
  }
  if (b->kind == TWINN_BOOL_AND) {
    acc = V_TRUE;
    *margin = -INFINITY;
    for (i = 0; i < b->n_kids; i++) {
      v = node_value(E, prop->kids[b->first_kid + i], nl, &m);
      *margin = fmax(*margin, m);
      if (v == V_FALSE)
        acc = V_FALSE;
      else if (v == V_UNKNOWN && acc == V_TRUE)
        acc = V_UNKNOWN;
    }
    return acc;
  }
  acc = V_FALSE;
  *margin = INFINITY;
  for (i = 0; i < b->n_kids; i++) {
    v = node_value(E, prop->kids[b->first_kid + i], nl, &m);
    *margin = fmin(*margin, m);
    if (v == V_TRUE)
      acc = V_TRUE;
    else if (v == V_UNKNOWN && acc == V_FALSE)
      acc = V_UNKNOWN;
  }
  return acc;
}

/* ---- the region stack ---- */

static twinn_status push(engine *E, const double *lo, const double *hi, double margin) {
  size_t n = E->sp->n_free;
  region *r;
  if (E->n_stack == E->cap_stack) {
    size_t cap = E->cap_stack ? 2 * E->cap_stack : 64;
    region *ns = twinn_realloc(E->stack, cap, sizeof *ns);
    if (!ns) return TWINN_ERR_NOMEM;
    memset(ns + E->cap_stack, 0, (cap - E->cap_stack) * sizeof *ns);
    E->stack = ns;
    E->cap_stack = cap;
  }
  r = &E->stack[E->n_stack];
  if (!r->lo) { /* slots keep their arrays when popped: no allocation in the steady state */
    r->lo = twinn_mallocarray(2 * n + 1, sizeof *r->lo);
    if (!r->lo) return TWINN_ERR_NOMEM;
    r->hi = r->lo + n;
  }
  memcpy(r->lo, lo, n * sizeof *lo);
  memcpy(r->hi, hi, n * sizeof *hi);
  r->margin = margin;
  E->n_stack++;
  return TWINN_OK;
}

static void report(engine *E, double now, int force) {
  twinn_progress p;
  size_t i;
  if (!E->opt->progress || (!force && now - E->last_report < 0.25)) return;
  E->last_report = now;
  p.elapsed = now - E->t0;
  p.branches = E->branches;
  p.open = E->n_stack;
  p.bound = NAN;
  for (i = 0; i < E->n_stack; i++)
    if (isnan(p.bound) || E->stack[i].margin < p.bound) p.bound = E->stack[i].margin;
  E->opt->progress(E->opt->progress_ctx, &p);
}

/* The dimension to bisect: the largest symbolic sensitivity (|input coefficient| * width of
 * the undecided constraints' bounds, NeuroDiff's choice) if any, else the largest |d violation /
 * d x_i| * width_i at the centre (ReluDiff's smear on the concrete gradient), else the widest;
 * SIZE_MAX if no dimension can be halved. */
static int splittable(double lo, double hi) {
  double mid = lo + (hi - lo) / 2;
  return mid > lo && mid < hi;
}

static size_t pick_split(engine *E, const double *lo, const double *hi) {
  size_t i, best = SIZE_MAX, wide = SIZE_MAX;
  double bs = 0.0, bw = 0.0;
  for (i = 0; i < E->sp->n_free; i++)
    if (splittable(lo[i], hi[i]) && E->score[i] > bs) bs = E->score[i], best = i;
  if (best != SIZE_MAX) return best;
  twinn_attack_violation(E->atk, E->center, E->grad);
  for (i = 0; i < E->sp->n_free; i++) {
    double w = hi[i] - lo[i], sc = fabs(E->grad[i]) * w;
    if (!splittable(lo[i], hi[i])) continue;
    if (w > bw) bw = w, wide = i;
    if (sc > bs) bs = sc, best = i;
  }
  return best != SIZE_MAX ? best : wide;
}

static void note_undecided(engine *E, const char *why) {
  if (!E->undecided[0]) snprintf(E->undecided, sizeof E->undecided, "%s", why);
}

static size_t first_nonlinear_line(const twinn_prop *prop) {
  size_t i;
  for (i = 0; i < prop->n_lins; i++)
    if (prop->lins[i].nonlinear) return prop->lins[i].line;
  return 0;
}

/* Processes one region: proves it, finds a witness in it (*sat = 1), or splits it. */
static twinn_status process(engine *E, double *lo, double *hi, double *witness, int *sat) {
  size_t i, n = E->sp->n_free, d;
  double margin, m2;
  int v, found = 0;
  twinn_status st;
  analyse_region(E, lo, hi);
  if (E->deadline > 0 && twinn_clock_now() > E->deadline) { /* an analysis can be long: */
    E->stopped = 1;                                         /* keep the region open */
    return push(E, lo, hi, -INFINITY);
  }
  for (i = 0; i < E->prop->n_lins; i++)
    if (!E->prop->lins[i].nonlinear)
      bound_leaf(E, lo, hi, &E->prop->lins[i], NULL, &E->leaf_lo[i], &E->leaf_hi[i]);
  v = node_value(E, E->prop->root, V_UNKNOWN, &margin);
  if (v == V_FALSE) return TWINN_OK;
  for (i = 0; i < n; i++) E->center[i] = lo[i] + (hi[i] - lo[i]) / 2;
  if (v == V_TRUE) { /* every point of the region is a counterexample: replay the centre */
    st = twinn_attack_check(E->atk, lo, hi, E->center, witness, &found);
    if (st != TWINN_OK || found) {
      *sat = found;
      return st;
    }
  }
  if (E->prop->n_nonlinear > 0 && node_value(E, E->prop->root, V_FALSE, &m2) == V_FALSE) {
    char why[128];
    snprintf(why, sizeof why, "nonlinear constraint at line %zu", first_nonlinear_line(E->prop));
    note_undecided(E, why);
    return TWINN_OK;
  }
  for (i = 0; i < E->prop->n_lins; i++)
    if (!E->prop->lins[i].nonlinear && (isnan(E->leaf_lo[i]) || isnan(E->leaf_hi[i]))) {
      E->nan_seen = 1;
      return TWINN_OK;
    }
  st = twinn_attack_run(E->atk, lo, hi, 1, 4, &E->rng, E->deadline, witness, &found);
  if (st != TWINN_OK || found) {
    *sat = found;
    return st;
  }
  /* Split scores from the constraints that are still undecided. */
  memset(E->score, 0, n * sizeof *E->score);
  for (i = 0; i < E->prop->n_lins; i++) {
    double m, l2, h2;
    const twinn_lin *l = &E->prop->lins[i];
    if (!l->nonlinear && leaf_value(l, E->leaf_lo[i], E->leaf_hi[i], &m) == V_UNKNOWN)
      bound_leaf(E, lo, hi, l, E->score, &l2, &h2);
  }
  d = pick_split(E, lo, hi);
  if (d == SIZE_MAX) {
    note_undecided(E, "a region became too small to split (float precision) without a decision");
    return TWINN_OK;
  }
  {
    double mid = lo[d] + (hi[d] - lo[d]) / 2, save = hi[d];
    hi[d] = mid;
    if ((st = push(E, lo, hi, margin)) != TWINN_OK) return st;
    hi[d] = save;
    lo[d] = mid;
    return push(E, lo, hi, margin);
  }
}

/* Pairs (f, g) of isomorphic networks whose inputs are tied element by element. */
static twinn_status find_pairs(engine *E) {
  size_t i, j, r, n = E->pb->n_nets;
  E->pairs = twinn_calloc(n * n + 1, sizeof *E->pairs);
  if (!E->pairs) return TWINN_ERR_NOMEM;
  for (i = 0; i < n; i++)
    for (j = i + 1; j < n; j++) {
      const twinn_var *a = twinn_prop_net_var(E->prop, i, TWINN_VAR_INPUT);
      const twinn_var *b = twinn_prop_net_var(E->prop, j, TWINN_VAR_INPUT);
      int tied = twinn_net_isomorphic(E->pb->nets[i], E->pb->nets[j]);
      for (r = 0; tied && r < E->pb->nets[i]->n_in; r++)
        tied = E->sp->dim_of[a->offset + r] == E->sp->dim_of[b->offset + r];
      if (!tied) continue;
      E->pairs[E->n_pairs].f = i;
      E->pairs[E->n_pairs].g = j;
      if (twinn_ibounds_init(&E->pairs[E->n_pairs].d, E->pb->nets[i]) != TWINN_OK)
        return TWINN_ERR_NOMEM;
      E->n_pairs++;
    }
  return TWINN_OK;
}

/* Symbolic workspaces: one per pair (its networks not yet covered), then one per remaining
 * network; networks the symbolic analysis does not support keep interval bounds only. */
static twinn_status find_syms(engine *E) {
  size_t i, j, n = E->pb->n_nets;
  E->syms = twinn_calloc(n + 1, sizeof *E->syms);
  E->sym_of = twinn_mallocarray(n + 1, sizeof *E->sym_of);
  if (!E->syms || !E->sym_of) return TWINN_ERR_NOMEM;
  for (i = 0; i < n; i++) E->sym_of[i] = SIZE_MAX;
  for (j = 0; j < E->n_pairs + n; j++) {
    size_t f = j < E->n_pairs ? E->pairs[j].f : j - E->n_pairs;
    size_t g = j < E->n_pairs ? E->pairs[j].g : SIZE_MAX;
    const twinn_net *ng = g == SIZE_MAX ? NULL : E->pb->nets[g];
    twinn_error err;
    if (E->sym_of[f] != SIZE_MAX || (g != SIZE_MAX && E->sym_of[g] != SIZE_MAX)) continue;
    twinn_error_clear(&err);
    if (twinn_sym_supported(E->pb->nets[f], ng, &err) != TWINN_OK) continue;
    E->syms[E->n_syms].s = twinn_sym_new(E->pb->nets[f], ng);
    if (!E->syms[E->n_syms].s) return TWINN_ERR_NOMEM;
    E->syms[E->n_syms].f = f;
    E->syms[E->n_syms].g = g;
    E->sym_of[f] = E->n_syms;
    if (g != SIZE_MAX) E->sym_of[g] = E->n_syms;
    E->n_syms++;
  }
  return TWINN_OK;
}

static int weights_finite(const twinn_net *net) {
  size_t k, i;
  for (k = 0; k < net->n_layers; k++) {
    const twinn_layer *L = &net->layers[k];
    if (L->kind != TWINN_LAYER_AFFINE) continue;
    for (i = 0; i < L->n_out * L->n_in; i++)
      if (!isfinite(L->w[i])) return 0;
    for (i = 0; i < L->n_out; i++)
      if (!isfinite(L->b[i])) return 0;
  }
  return 1;
}

static twinn_status engine_init(engine *E, const twinn_problem *pb, const twinn_space *sp,
                                const twinn_options *opt) {
  size_t i, n = pb->n_nets, max_in = 1;
  E->pb = pb;
  E->prop = pb->prop;
  E->sp = sp;
  E->opt = opt;
  E->rng = (uint64_t)opt->seed;
  E->nb = twinn_calloc(n + 1, sizeof *E->nb);
  E->co = twinn_calloc(n + 1, sizeof *E->co);
  E->has_out = twinn_calloc(n + 1, sizeof *E->has_out);
  E->used = twinn_calloc(n + 1, sizeof *E->used);
  E->leaf_lo = twinn_calloc(E->prop->n_lins + 1, sizeof *E->leaf_lo);
  E->leaf_hi = twinn_calloc(E->prop->n_lins + 1, sizeof *E->leaf_hi);
  E->center = twinn_calloc(sp->n_free + 1, sizeof *E->center);
  E->grad = twinn_calloc(sp->n_free + 1, sizeof *E->grad);
  E->score = twinn_calloc(sp->n_free + 1, sizeof *E->score);
  E->work = twinn_calloc(2 * sp->n_free + 1, sizeof *E->work);
  if (!E->score || !E->work || !E->nb || !E->co || !E->has_out || !E->used || !E->leaf_lo ||
      !E->leaf_hi || !E->center || !E->grad)
    return TWINN_ERR_NOMEM;
  for (i = 0; i < n; i++) {
    if (twinn_ibounds_init(&E->nb[i], pb->nets[i]) != TWINN_OK) return TWINN_ERR_NOMEM;
    E->co[i] = twinn_calloc(pb->nets[i]->n_out + 1, sizeof **E->co);
    if (!E->co[i]) return TWINN_ERR_NOMEM;
    if (pb->nets[i]->n_in > max_in) max_in = pb->nets[i]->n_in;
  }
  E->in_lo = twinn_mallocarray(max_in, sizeof *E->in_lo);
  E->in_hi = twinn_mallocarray(max_in, sizeof *E->in_hi);
  if (!E->in_lo || !E->in_hi) return TWINN_ERR_NOMEM;
  if (find_pairs(E) != TWINN_OK) return TWINN_ERR_NOMEM;
  if (find_syms(E) != TWINN_OK) return TWINN_ERR_NOMEM;
  E->atk = twinn_attack_new(pb, sp);
  return E->atk ? TWINN_OK : TWINN_ERR_NOMEM;
}

static void engine_release(engine *E) {
  size_t i;
  for (i = 0; E->nb && i < E->pb->n_nets; i++) twinn_ibounds_release(&E->nb[i]);
  for (i = 0; E->co && i < E->pb->n_nets; i++) twinn_free(E->co[i]);
  for (i = 0; E->pairs && i < E->n_pairs; i++) twinn_ibounds_release(&E->pairs[i].d);
  for (i = 0; E->stack && i < E->cap_stack; i++) twinn_free(E->stack[i].lo);
  for (i = 0; E->syms && i < E->n_syms; i++) twinn_sym_free(E->syms[i].s);
  twinn_free(E->syms);
  twinn_free(E->sym_of);
  twinn_free(E->score);
  twinn_free(E->work);
  twinn_free(E->nb);
  twinn_free(E->co);
  twinn_free(E->has_out);
  twinn_free(E->used);
  twinn_free(E->leaf_lo);
  twinn_free(E->leaf_hi);
  twinn_free(E->center);
  twinn_free(E->grad);
  twinn_free(E->in_lo);
  twinn_free(E->in_hi);
  twinn_free(E->pairs);
  twinn_free(E->stack);
  twinn_attack_free(E->atk);
}

static void finish(twinn_result *res, twinn_verdict v, const char *why, double t0) {
  res->verdict = v;
  if (why) snprintf(res->reason, sizeof res->reason, "%s", why);
  res->seconds = twinn_clock_now() - t0;
}

twinn_status twinn_verify(const twinn_problem *pb, const twinn_options *opt_in, twinn_result *res,
                          twinn_error *err) {
  twinn_options defaults;
  const twinn_options *opt = opt_in;
  twinn_space sp;
  engine E;
  twinn_status st;
  double *witness = NULL, now, attack_end;
  size_t c, i, nf;
  int sat = 0;
  memset(res, 0, sizeof *res);
  memset(&E, 0, sizeof E);
  if (!opt) {
    twinn_options_init(&defaults);
    opt = &defaults;
  }
  E.t0 = twinn_clock_now();
  E.deadline = opt->timeout > 0 ? E.t0 + opt->timeout : 0.0;
  if ((st = twinn_space_build(&sp, pb->prop, err)) != TWINN_OK) return st;
  for (i = 0; i < pb->n_nets; i++)
    if (!weights_finite(pb->nets[i])) {
      finish(res, TWINN_VERDICT_UNKNOWN, "a network has a NaN or infinite weight", E.t0);
      goto done;
    }
  if (sp.kind == TWINN_SPACE_EMPTY) {
    finish(res, TWINN_VERDICT_UNSAT, sp.reason, E.t0);
    goto done;
  }
  if (sp.kind != TWINN_SPACE_BOXED) {
    finish(res, TWINN_VERDICT_UNKNOWN, sp.reason, E.t0);
    goto done;
  }
  nf = sp.n_free;
  witness = twinn_calloc(pb->prop->n_scalars + 1, sizeof *witness);
  if (!witness || (st = engine_init(&E, pb, &sp, opt)) != TWINN_OK) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory in the verifier");
    goto done;
  }
  /* A longer attack on each whole case box first: cheap counterexamples end the search early.
   * All cases together get at most a tenth of the time limit (2 s without one). */
  attack_end = E.t0 + (opt->timeout > 0 ? 0.1 * opt->timeout : 2.0);
  for (c = 0; c < sp.n_cases && !sat; c++) {
    st = twinn_attack_run(E.atk, sp.lo + c * nf, sp.hi + c * nf, 50, 30, &E.rng, attack_end,
                          witness, &sat);
    if (st != TWINN_OK) goto fail;
  }
  for (c = sp.n_cases; c-- > 0 && !sat;)
    if ((st = push(&E, sp.lo + c * nf, sp.hi + c * nf, -INFINITY)) != TWINN_OK) goto fail;
  while (E.n_stack > 0 && !sat) {
    region *r;
    now = twinn_clock_now();
    report(&E, now, 0);
    if (E.stopped || (E.deadline > 0 && now > E.deadline)) {
      char why[128];
      snprintf(why, sizeof why, "timeout after %.1f s (%lu regions, %zu open)", now - E.t0,
               E.branches, E.n_stack);
      finish(res, TWINN_VERDICT_TIMEOUT, why, E.t0);
      goto stop;
    }
    r = &E.stack[--E.n_stack];
    E.branches++;
    /* process() may push into the slot r lives in: it works on a copy. */
    memcpy(E.work, r->lo, nf * sizeof *E.work);
    memcpy(E.work + nf, r->hi, nf * sizeof *E.work);
    if ((st = process(&E, E.work, E.work + nf, witness, &sat)) != TWINN_OK) goto fail;
    if (E.nan_seen) {
      finish(res, TWINN_VERDICT_UNKNOWN, "NaN in the bounds of a constraint", E.t0);
      goto stop;
    }
  }
  if (sat) {
    res->witness = witness;
    witness = NULL;
    finish(res, TWINN_VERDICT_SAT, NULL, E.t0);
  } else if (E.undecided[0]) {
    finish(res, TWINN_VERDICT_UNKNOWN, E.undecided, E.t0);
  } else {
    finish(res, TWINN_VERDICT_UNSAT, NULL, E.t0);
  }
stop:
  res->branches = E.branches;
  res->open = E.n_stack;
  report(&E, twinn_clock_now(), 1);
  st = TWINN_OK;
  goto done;
fail:
  if (st == TWINN_ERR_NOMEM)
    twinn_error_set(err, st, NULL, 0, 0, "out of memory in the verifier");
  else
    twinn_error_set(err, st, NULL, 0, 0, "internal failure in the verifier");
  res->verdict = TWINN_VERDICT_UNKNOWN;
done:
  if (E.pb) engine_release(&E);
  twinn_free(witness);
  twinn_space_release(&sp);
  return st;
}
