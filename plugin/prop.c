/* prop.c: read-only queries on the property IR (prop.h): ownership release, scalar lookup,
 * concrete evaluation of constraints and of the and/or tree. Building a property is the front
 * ends' job (parser/); nothing here parses. Evaluation recursion follows the tree's nesting,
 * which the parser bounds by its nesting limit, never by the input's size. */
#include "prop.h"

#include <math.h>
#include <string.h>

void twinn_prop_free(twinn_prop *prop) {
  size_t i;
  if (!prop) return;
  for (i = 0; prop->nets && i < prop->n_nets; i++) twinn_free(prop->nets[i].name);
  for (i = 0; prop->vars && i < prop->n_vars; i++) {
    twinn_free(prop->vars[i].name);
    twinn_free(prop->vars[i].type_name);
    twinn_free(prop->vars[i].node_name);
  }
  twinn_free(prop->path);
  twinn_free(prop->nets);
  twinn_free(prop->vars);
  twinn_free(prop->lins);
  twinn_free(prop->term_var);
  twinn_free(prop->term_coef);
  twinn_free(prop->nodes);
  twinn_free(prop->kids);
  twinn_free(prop);
}

const twinn_var *twinn_prop_var_of(const twinn_prop *prop, size_t s, size_t *elem) {
  size_t lo = 0, hi, mid;
  if (!prop || prop->n_vars == 0 || s >= prop->n_scalars) return NULL;
  /* Offsets are non-decreasing in declaration order: find the last var starting at or before
   * s, then step back over empty (zero-element) variables that share its offset. */
  hi = prop->n_vars;
  while (hi - lo > 1) {
    mid = lo + (hi - lo) / 2;
    if (prop->vars[mid].offset <= s)
      lo = mid;
    else
      hi = mid;
  }
  while (lo > 0 && prop->vars[lo].n == 0) lo--;
  if (s < prop->vars[lo].offset || s - prop->vars[lo].offset >= prop->vars[lo].n) return NULL;
  if (elem) *elem = s - prop->vars[lo].offset;
  return &prop->vars[lo];
}

const twinn_var *twinn_prop_net_var(const twinn_prop *prop, size_t net, twinn_var_role role) {
  size_t i;
  const twinn_prop_net *pn;
  if (!prop || net >= prop->n_nets) return NULL;
  pn = &prop->nets[net];
  for (i = 0; i < pn->n_vars; i++)
    if (prop->vars[pn->first_var + i].role == role) return &prop->vars[pn->first_var + i];
  return NULL;
}

size_t twinn_prop_net_count(const twinn_prop *prop, size_t net, twinn_var_role role) {
  size_t i, k = 0;
  const twinn_prop_net *pn;
  if (!prop || net >= prop->n_nets) return 0;
  pn = &prop->nets[net];
  for (i = 0; i < pn->n_vars; i++)
    if (prop->vars[pn->first_var + i].role == role) k++;
  return k;
}

double twinn_prop_lin_eval(const twinn_prop *prop, const twinn_lin *l, const double *x) {
  size_t t;
  double v = l->c0;
  for (t = 0; t < l->n_terms; t++)
    v += prop->term_coef[l->first + t] * x[prop->term_var[l->first + t]];
  return v;
}

/* A comparison against 0 that a NaN never satisfies (NaN != 0 would otherwise hold). */
static int cmp_holds(twinn_cmp cmp, double v) {
  if (isnan(v)) return 0;
  switch (cmp) {
  case TWINN_CMP_LE: return v <= 0.0;
  case TWINN_CMP_LT: return v < 0.0;
  case TWINN_CMP_EQ: return v == 0.0;
  case TWINN_CMP_NE: return v != 0.0;
  }
  return 0;
}

static int node_holds(const twinn_prop *prop, size_t node, const double *x) {
  const twinn_bool *b = &prop->nodes[node];
  const twinn_lin *l;
  size_t k;
  switch (b->kind) {
  case TWINN_BOOL_LIN:
    l = &prop->lins[b->lin];
    if (l->nonlinear) return 0;
    return cmp_holds(l->cmp, twinn_prop_lin_eval(prop, l, x));
  case TWINN_BOOL_AND:
    for (k = 0; k < b->n_kids; k++)
      if (!node_holds(prop, prop->kids[b->first_kid + k], x)) return 0;
    return 1;
  case TWINN_BOOL_OR:
    for (k = 0; k < b->n_kids; k++)
      if (node_holds(prop, prop->kids[b->first_kid + k], x)) return 1;
    return 0;
  }
  return 0;
}

int twinn_prop_holds(const twinn_prop *prop, const double *x) {
  if (!prop || prop->n_nodes == 0 || prop->root >= prop->n_nodes) return 0;
  return node_holds(prop, prop->root, x);
}

twinn_status twinn_prop_lin_dups(const twinn_prop *prop, size_t *dup) {
  size_t n = prop->n_lins, cap = 16, i, t;
  size_t *tab;
  while (cap < 2 * n) cap *= 2;
  tab = twinn_mallocarray(cap, sizeof *tab);
  if (!tab) return TWINN_ERR_NOMEM;
  for (i = 0; i < cap; i++) tab[i] = SIZE_MAX;
  for (i = 0; i < n; i++) {
    const twinn_lin *l = &prop->lins[i];
    uint64_t h = twinn_mix64((uint64_t)l->n_terms * 4 + (uint64_t)l->cmp), cb0;
    size_t slot;
    memcpy(&cb0, &l->c0, sizeof cb0);
    h = twinn_mix64(h ^ cb0);
    for (t = 0; t < l->n_terms; t++) {
      double c = prop->term_coef[l->first + t];
      uint64_t cb;
      memcpy(&cb, &c, sizeof cb);
      h = twinn_mix64(h ^ (uint64_t)prop->term_var[l->first + t]);
      h = twinn_mix64(h ^ cb);
    }
    dup[i] = i;
    if (l->nonlinear) continue;
    for (slot = (size_t)h & (cap - 1); tab[slot] != SIZE_MAX; slot = (slot + 1) & (cap - 1)) {
      const twinn_lin *o = &prop->lins[tab[slot]];
      if (o->n_terms != l->n_terms || o->cmp != l->cmp || !(o->c0 == l->c0) ||
          memcmp(&prop->term_var[o->first], &prop->term_var[l->first],
                 l->n_terms * sizeof *prop->term_var) ||
          memcmp(&prop->term_coef[o->first], &prop->term_coef[l->first],
                 l->n_terms * sizeof *prop->term_coef))
        continue;
      dup[i] = tab[slot];
      break;
    }
    if (dup[i] == i) tab[slot] = i;
  }
  twinn_free(tab);
  return TWINN_OK;
}
