/* space.c: tie classes, the input box and its case split (space.h). Only top-level
 * conjuncts (the root AND and ANDs nested directly in it) are read, so every box contains all
 * feasible inputs; bounds from a division by a coefficient other than +-1 are rounded outward.
 * It never drops a constraint from the formula and never assumes a tie that is not written
 * (as (== X Y), or as the two inequalities (<= X Y) and (>= X Y)). */
#include "space.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t uf_find(size_t *parent, size_t s) {
  while (parent[s] != s) {
    parent[s] = parent[parent[s]];
    s = parent[s];
  }
  return s;
}

static int is_input(const twinn_prop *prop, size_t s) {
  const twinn_var *v = twinn_prop_var_of(prop, s, NULL);
  return v && v->role == TWINN_VAR_INPUT;
}

/* 1 if lin is a x - a y CMP 0 (a != 0) over two input scalars x, y, comparison cmp. */
static int input_relation(const twinn_prop *prop, const twinn_lin *l, twinn_cmp cmp) {
  size_t t = l->first;
  if (l->nonlinear || l->cmp != cmp || l->n_terms != 2 || l->c0 != 0.0) return 0;
  if (prop->term_coef[t] == 0.0 || prop->term_coef[t] != -prop->term_coef[t + 1]) return 0;
  return is_input(prop, prop->term_var[t]) && is_input(prop, prop->term_var[t + 1]);
}

/* 1 if lin ties two input scalars: a x + (-a) y == 0. */
static int is_tie(const twinn_prop *prop, const twinn_lin *l) {
  return input_relation(prop, l, TWINN_CMP_EQ);
}

/* A half of a tie: a x - a y <= 0 over two input scalars. Sets *lo_var, *hi_var to the smaller
 * and larger scalar index and *up to 1 if it says lo_var <= hi_var, else 0. */
static int is_half_tie(const twinn_prop *prop, const twinn_lin *l, size_t *lo_var, size_t *hi_var,
                       int *up) {
  size_t x, y;
  double a;
  if (!input_relation(prop, l, TWINN_CMP_LE)) return 0; /* first: then two terms exist */
  x = prop->term_var[l->first], y = prop->term_var[l->first + 1];
  a = prop->term_coef[l->first];
  if (x == y) return 0;
  /* a (x - y) <= 0: x <= y when a > 0. */
  *lo_var = x < y ? x : y;
  *hi_var = x < y ? y : x;
  *up = (a > 0) == (x < y);
  return 1;
}

typedef struct {
  size_t lo_var, hi_var;
  int up;
} half_tie;

static int cmp_half(const void *pa, const void *pb) {
  const half_tie *a = pa, *b = pb;
  if (a->lo_var != b->lo_var) return a->lo_var < b->lo_var ? -1 : 1;
  if (a->hi_var != b->hi_var) return a->hi_var < b->hi_var ? -1 : 1;
  return a->up - b->up;
}

static void uf_join(size_t *parent, size_t x, size_t y) {
  size_t a = uf_find(parent, x), b = uf_find(parent, y);
  if (a != b) parent[a > b ? a : b] = a < b ? a : b; /* the smallest index is the root */
}

/* Ties written as two opposite inequalities, (<= X Y) and (>= X Y) among the top-level
 * conjuncts: joined like (== X Y). Sorted, so a query of millions of asserts stays n log n.
 * Returns 0 on out of memory. */
static int join_half_ties(const twinn_prop *prop, const size_t *lins, size_t n_lins,
                          size_t *parent) {
  size_t i, m = 0;
  half_tie *h = twinn_mallocarray(n_lins + 1, sizeof *h);
  if (!h) return 0;
  for (i = 0; i < n_lins; i++)
    if (is_half_tie(prop, &prop->lins[lins[i]], &h[m].lo_var, &h[m].hi_var, &h[m].up)) m++;
  qsort(h, m, sizeof *h, cmp_half);
  for (i = 0; i + 1 < m; i++)
    if (h[i].lo_var == h[i + 1].lo_var && h[i].hi_var == h[i + 1].hi_var && h[i].up != h[i + 1].up)
      uf_join(parent, h[i].lo_var, h[i].hi_var);
  twinn_free(h);
  return 1;
}

/* Applies lin to the box (lo, hi over dimensions) if it bounds one input scalar. Returns 1 if it
 * did; sets *nan on a NaN bound. */
static int apply_bound(const twinn_space *sp, const twinn_prop *prop, const twinn_lin *l,
                       double *lo, double *hi, int *nan) {
  double a, q, ql, qh;
  size_t d;
  if (l->nonlinear || l->n_terms != 1 || l->cmp == TWINN_CMP_NE) return 0;
  if (!is_input(prop, prop->term_var[l->first])) return 0;
  d = sp->dim_of[prop->term_var[l->first]];
  a = prop->term_coef[l->first];
  q = -l->c0 / a;
  if (isnan(q)) {
    *nan = 1;
    return 1;
  }
  /* a == +-1 divides exactly; otherwise the rounded quotient is within half an ulp. */
  ql = (a == 1.0 || a == -1.0) ? q : nextafter(q, -INFINITY);
  qh = (a == 1.0 || a == -1.0) ? q : nextafter(q, INFINITY);
  if (l->cmp == TWINN_CMP_EQ || a > 0) /* a x + c0 <= 0  ->  x <= -c0 / a */
    if (qh < hi[d]) hi[d] = qh;
  if (l->cmp == TWINN_CMP_EQ || a < 0)
    if (ql > lo[d]) lo[d] = ql;
  return 1;
}

/* Calls visit on every LIN conjunct of node (descending through ANDs only); collects ORs. */
typedef struct {
  size_t *ors, n_ors;
} or_list;

static void conjuncts(const twinn_prop *prop, size_t node, size_t *lins, size_t *n_lins,
                      or_list *ors) {
  const twinn_bool *b = &prop->nodes[node];
  size_t i;
  if (b->kind == TWINN_BOOL_LIN) {
    lins[(*n_lins)++] = b->lin;
  } else if (b->kind == TWINN_BOOL_AND) {
    for (i = 0; i < b->n_kids; i++)
      conjuncts(prop, prop->kids[b->first_kid + i], lins, n_lins, ors);
  } else if (ors) {
    ors->ors[ors->n_ors++] = node;
  }
}

/* Box of one disjunct (base box met with its input bounds); returns how many bounds it had. */
static size_t disjunct_box(const twinn_space *sp, const twinn_prop *prop, size_t node, size_t *lins,
                           double *lo, double *hi, int *nan) {
  size_t n = 0, i, k = 0;
  conjuncts(prop, node, lins, &n, NULL);
  for (i = 0; i < n; i++) k += (size_t)apply_bound(sp, prop, &prop->lins[lins[i]], lo, hi, nan);
  return k;
}

static int box_empty(const double *lo, const double *hi, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (lo[i] > hi[i]) return 1;
  return 0;
}

twinn_status twinn_space_build(twinn_space *sp, const twinn_prop *prop, twinn_error *err) {
  size_t *parent = NULL, *lins = NULL, i, j, c, n = prop->n_scalars, nf = 0, n_lins = 0;
  double *dl = NULL, *dh = NULL, *cl = NULL, *ch = NULL;
  or_list ors = {NULL, 0};
  int nan = 0;
  memset(sp, 0, sizeof *sp);
  parent = twinn_mallocarray(n ? n : 1, sizeof *parent);
  sp->dim_of = twinn_mallocarray(n ? n : 1, sizeof *sp->dim_of);
  lins = twinn_mallocarray(prop->n_lins + 1, sizeof *lins);
  ors.ors = twinn_mallocarray(prop->n_nodes + 1, sizeof *ors.ors);
  if (!parent || !sp->dim_of || !lins || !ors.ors) goto nomem;
  for (i = 0; i < n; i++) parent[i] = i;
  conjuncts(prop, prop->root, lins, &n_lins, &ors);
  for (i = 0; i < n_lins; i++) {
    const twinn_lin *l = &prop->lins[lins[i]];
    if (is_tie(prop, l)) uf_join(parent, prop->term_var[l->first], prop->term_var[l->first + 1]);
  }
  if (!join_half_ties(prop, lins, n_lins, parent)) goto nomem;
  for (i = 0; i < n; i++) sp->dim_of[i] = SIZE_MAX;
  for (i = 0; i < n; i++)
    if (is_input(prop, i) && uf_find(parent, i) == i) sp->dim_of[i] = nf++;
  for (i = 0; i < n; i++)
    if (is_input(prop, i)) sp->dim_of[i] = sp->dim_of[uf_find(parent, i)];
  sp->n_free = nf;
  sp->rep = twinn_mallocarray(nf + 1, sizeof *sp->rep);
  if (!sp->rep) goto nomem;
  for (i = 0; i < n; i++)
    if (is_input(prop, i) && uf_find(parent, i) == i) sp->rep[sp->dim_of[i]] = i;

  /* The base box, then one case split per OR whose disjuncts all bound inputs. */
  sp->lo = twinn_mallocarray(nf + 1, sizeof *sp->lo);
  sp->hi = twinn_mallocarray(nf + 1, sizeof *sp->hi);
  if (!sp->lo || !sp->hi) goto nomem;
  for (i = 0; i < nf; i++) {
    sp->lo[i] = -INFINITY;
    sp->hi[i] = INFINITY;
  }
  for (i = 0; i < n_lins; i++) apply_bound(sp, prop, &prop->lins[lins[i]], sp->lo, sp->hi, &nan);
  sp->n_cases = 1;
  for (j = 0; j < ors.n_ors && !nan; j++) {
    const twinn_bool *o = &prop->nodes[ors.ors[j]];
    size_t nd = o->n_kids, k, m = 0, ok = nd > 0;
    dl = twinn_mallocarray(nd * nf + 1, sizeof *dl);
    dh = twinn_mallocarray(nd * nf + 1, sizeof *dh);
    if (!dl || !dh) goto nomem;
    for (k = 0; k < nd && ok; k++) {
      size_t kid = prop->kids[o->first_kid + k];
      for (i = 0; i < nf; i++) {
        dl[k * nf + i] = -INFINITY;
        dh[k * nf + i] = INFINITY;
      }
      ok = disjunct_box(sp, prop, kid, lins, dl + k * nf, dh + k * nf, &nan) > 0;
    }
    if (ok && sp->n_cases * nd > TWINN_SPACE_MAX_CASES) {
      /* Too many cases: use the hull of the disjunct boxes as one more box constraint. */
      for (i = 0; i < nf; i++) {
        double hl = INFINITY, hh = -INFINITY;
        for (k = 0; k < nd; k++)
          if (dl[k * nf + i] <= dh[k * nf + i]) {
            hl = fmin(hl, dl[k * nf + i]);
            hh = fmax(hh, dh[k * nf + i]);
          }
        for (c = 0; c < sp->n_cases; c++) {
          sp->lo[c * nf + i] = fmax(sp->lo[c * nf + i], hl);
          sp->hi[c * nf + i] = fmin(sp->hi[c * nf + i], hh);
        }
      }
    } else if (ok) {
      cl = twinn_mallocarray(sp->n_cases * nd * nf + 1, sizeof *cl);
      ch = twinn_mallocarray(sp->n_cases * nd * nf + 1, sizeof *ch);
      if (!cl || !ch) goto nomem;
      for (c = 0; c < sp->n_cases; c++)
        for (k = 0; k < nd; k++) {
          for (i = 0; i < nf; i++) {
            cl[m * nf + i] = fmax(sp->lo[c * nf + i], dl[k * nf + i]);
            ch[m * nf + i] = fmin(sp->hi[c * nf + i], dh[k * nf + i]);
          }
          if (!box_empty(cl + m * nf, ch + m * nf, nf)) m++;
        }
      twinn_free(sp->lo);
      twinn_free(sp->hi);
      sp->lo = cl, sp->hi = ch, sp->n_cases = m;
      cl = ch = NULL;
    }
    twinn_free(dl);
    twinn_free(dh);
    dl = dh = NULL;
  }

  /* Classify: NaN first (never decide on it), then empty cases, then unbounded ones. */
  sp->kind = TWINN_SPACE_BOXED;
  if (nan) {
    sp->kind = TWINN_SPACE_NAN;
    snprintf(sp->reason, sizeof sp->reason, "an input bound is NaN");
    goto done;
  }
  for (c = j = 0; c < sp->n_cases; c++) {
    if (box_empty(sp->lo + c * nf, sp->hi + c * nf, nf)) continue;
    if (j != c) {
      memmove(sp->lo + j * nf, sp->lo + c * nf, nf * sizeof *sp->lo);
      memmove(sp->hi + j * nf, sp->hi + c * nf, nf * sizeof *sp->hi);
    }
    j++;
  }
  sp->n_cases = j;
  if (j == 0) {
    sp->kind = TWINN_SPACE_EMPTY;
    snprintf(sp->reason, sizeof sp->reason, "the input constraints have no solution");
    goto done;
  }
  for (c = 0; c < sp->n_cases; c++)
    for (i = 0; i < nf; i++)
      if (!isfinite(sp->lo[c * nf + i]) || !isfinite(sp->hi[c * nf + i])) {
        char name[128];
        twinn_space_scalar_name(prop, sp->rep[i], name, sizeof name);
        sp->kind = TWINN_SPACE_UNBOUNDED;
        /* Relations between inputs stay in the formula but bound no box: say what is read. */
        snprintf(sp->reason, sizeof sp->reason,
                 "input %s has no constant %s bound (only asserts of one input against a "
                 "number, and ties, bound the input box)",
                 name, isfinite(sp->lo[c * nf + i]) ? "upper" : "lower");
        goto done;
      }
done:
  twinn_free(parent);
  twinn_free(lins);
  twinn_free(ors.ors);
  return TWINN_OK;
nomem:
  twinn_free(parent);
  twinn_free(lins);
  twinn_free(ors.ors);
  twinn_free(dl);
  twinn_free(dh);
  twinn_free(cl);
  twinn_free(ch);
  twinn_space_release(sp);
  return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0,
                         "out of memory building the input space");
}

void twinn_space_release(twinn_space *sp) {
  twinn_free(sp->dim_of);
  twinn_free(sp->rep);
  twinn_free(sp->lo);
  twinn_free(sp->hi);
  memset(sp, 0, sizeof *sp);
}

void twinn_space_scatter(const twinn_space *sp, size_t n_scalars, const double *p, double *x) {
  size_t i;
  for (i = 0; i < n_scalars; i++)
    if (sp->dim_of[i] != SIZE_MAX) x[i] = p[sp->dim_of[i]];
}

void twinn_space_scalar_name(const twinn_prop *prop, size_t s, char *buf, size_t n) {
  size_t elem = 0, k, idx[TWINN_MAX_RANK], used;
  const twinn_var *v = twinn_prop_var_of(prop, s, &elem);
  int w;
  if (!v) {
    snprintf(buf, n, "#%zu", s);
    return;
  }
  if (prop->version == TWINN_VNNLIB_1_0) {
    snprintf(buf, n, "%s_%zu", v->name, elem);
    return;
  }
  if (v->rank == 0) {
    snprintf(buf, n, "%s", v->name);
    return;
  }
  for (k = v->rank; k-- > 0;) { /* row-major: the last index varies fastest */
    idx[k] = v->dims[k] ? elem % v->dims[k] : 0;
    elem = v->dims[k] ? elem / v->dims[k] : 0;
  }
  w = snprintf(buf, n, "%s[", v->name);
  used = w > 0 && (size_t)w < n ? (size_t)w : n;
  for (k = 0; k < v->rank && used < n; k++) {
    w = snprintf(buf + used, n - used, k + 1 < v->rank ? "%zu," : "%zu]", idx[k]);
    used += w > 0 && (size_t)w < n - used ? (size_t)w : n - used;
  }
}
