/* decompose.c: single-network sub-properties of a multi-network property (decompose.h). */
#include "decompose.h"

#include <math.h>
#include <string.h>

/* What a constraint reads besides inputs: one network's outputs (its index), nothing else
 * (LIN_INPUT), several networks' values or a hidden value (not usable here). */
#define LIN_INPUT ((size_t)-1)
#define LIN_OTHER ((size_t)-2)

/* Subtrees deeper than this are not copied (the shape is then declined, never truncated). */
#define MAX_DEPTH 64

static size_t lin_owner(const twinn_prop *prop, const twinn_lin *l) {
  size_t owner = LIN_INPUT;
  if (l->nonlinear) return LIN_OTHER;
  for (size_t t = 0; t < l->n_terms; t++) {
    size_t elem;
    const twinn_var *v = twinn_prop_var_of(prop, prop->term_var[l->first + t], &elem);
    if (!v || v->role == TWINN_VAR_HIDDEN) return LIN_OTHER;
    if (v->role == TWINN_VAR_INPUT) continue;
    if (owner != LIN_INPUT && owner != v->net) return LIN_OTHER;
    owner = v->net;
  }
  return owner;
}

/* 1 if every constraint under node is input-only (depth-limited: deeper counts as not). */
static int input_only(const twinn_prop *prop, size_t node, int depth) {
  const twinn_bool *b = &prop->nodes[node];
  if (depth > MAX_DEPTH) return 0;
  if (b->kind == TWINN_BOOL_LIN) return lin_owner(prop, &prop->lins[b->lin]) == LIN_INPUT;
  for (size_t i = 0; i < b->n_kids; i++)
    if (!input_only(prop, prop->kids[b->first_kid + i], depth + 1)) return 0;
  return 1;
}

/* How false constraint l is at x: *yes = 1 if it does not hold there, with *by the amount. */
static void falsity(const twinn_prop *prop, const twinn_lin *l, const double *x, int *yes,
                    double *by) {
  double e = twinn_prop_lin_eval(prop, l, x);
  *yes = 0;
  *by = 0.0;
  if (isnan(e)) return;
  switch (l->cmp) {
  case TWINN_CMP_LE: *yes = e > 0.0, *by = e; break;
  case TWINN_CMP_LT: *yes = e >= 0.0, *by = e; break;
  case TWINN_CMP_EQ: *yes = e != 0.0, *by = fabs(e); break;
  case TWINN_CMP_NE: break; /* false only on a hyperplane: never a refuting choice */
  }
}

/* The sub-property under construction. */
typedef struct {
  twinn_prop *p;
  const twinn_prop *src;
  size_t *lin_map; /* source lin -> its copy, SIZE_MAX if none yet */
  size_t cap_nodes, cap_kids;
} builder;

static size_t new_node(builder *b, twinn_bool_kind kind, size_t n_kids) {
  twinn_prop *p = b->p;
  size_t id = p->n_nodes++;
  TWINN_ASSERT(id < b->cap_nodes && p->n_kids + n_kids <= b->cap_kids);
  p->nodes[id].kind = kind;
  p->nodes[id].lin = 0;
  p->nodes[id].first_kid = p->n_kids;
  p->nodes[id].n_kids = n_kids;
  p->n_kids += n_kids;
  return id;
}

static size_t copy_lin(builder *b, size_t lin) {
  twinn_prop *p = b->p;
  if (b->lin_map[lin] == SIZE_MAX) {
    b->lin_map[lin] = p->n_lins;
    p->lins[p->n_lins++] = b->src->lins[lin];
  }
  size_t id = new_node(b, TWINN_BOOL_LIN, 0);
  p->nodes[id].lin = b->lin_map[lin];
  return id;
}

static size_t copy_tree(builder *b, size_t node) {
  const twinn_bool *s = &b->src->nodes[node];
  if (s->kind == TWINN_BOOL_LIN) return copy_lin(b, s->lin);
  size_t id = new_node(b, s->kind, s->n_kids), first = b->p->nodes[id].first_kid;
  for (size_t i = 0; i < s->n_kids; i++)
    b->p->kids[first + i] = copy_tree(b, b->src->kids[s->first_kid + i]);
  return id;
}

/* Starts sub-property p as a copy of src's declarations and terms (borrowed) with room for
 * src's nodes and kids plus extra_nodes / extra_kids: the root AND with the n_region region
 * subtrees copied as its first kids and one slot left after them, returned in *root. 0 on
 * out of memory (what was allocated is freed with the sub-property). */
static int start_sub(builder *b, twinn_prop *p, const twinn_prop *src, size_t *lin_map,
                     size_t extra_nodes, size_t extra_kids, const size_t *region, size_t n_region,
                     size_t *root) {
  *p = *src;
  b->p = p;
  b->src = src;
  b->lin_map = lin_map;
  b->cap_nodes = src->n_nodes + extra_nodes;
  b->cap_kids = src->n_kids + n_region + extra_kids;
  p->lins = twinn_mallocarray(src->n_lins + 1, sizeof *p->lins);
  p->nodes = twinn_mallocarray(b->cap_nodes, sizeof *p->nodes);
  p->kids = twinn_mallocarray(b->cap_kids, sizeof *p->kids);
  if (!p->lins || !p->nodes || !p->kids) return 0;
  p->n_lins = p->n_nodes = p->n_kids = 0;
  for (size_t i = 0; i < src->n_lins; i++) lin_map[i] = SIZE_MAX;
  *root = new_node(b, TWINN_BOOL_AND, n_region + 1);
  for (size_t i = 0; i < n_region; i++)
    p->kids[p->nodes[*root].first_kid + i] = copy_tree(b, region[i]);
  return 1;
}

/* Ends sub-property p: `last` as the root's last kid, the nonlinear count. */
static void end_sub(twinn_prop *p, size_t root, size_t n_region, size_t last) {
  p->kids[p->nodes[root].first_kid + n_region] = last;
  p->root = root;
  p->n_nonlinear = 0;
  for (size_t i = 0; i < p->n_lins; i++) p->n_nonlinear += p->lins[i].nonlinear != 0;
}

void twinn_subprops_free(twinn_subprop *subs, size_t n) {
  if (!subs) return;
  for (size_t i = 0; i < n; i++) {
    twinn_free(subs[i].prop.lins);
    twinn_free(subs[i].prop.nodes);
    twinn_free(subs[i].prop.kids);
  }
  twinn_free(subs);
}

/* The disjuncts of prop (see decompose.h): lists of constraint indices, disjunct k being
 * lins[first[k] .. first[k + 1]). Returns their count, 0 for another shape. */
static size_t disjuncts(const twinn_prop *prop, size_t *lins, size_t *first, size_t *region,
                        size_t *n_region) {
  const twinn_bool *root = &prop->nodes[prop->root];
  size_t n_out = 0, out = SIZE_MAX, n = 0, nl = 0;
  int all_lin = 1;
  *n_region = 0;
  if (root->kind != TWINN_BOOL_AND) return 0;
  for (size_t i = 0; i < root->n_kids; i++) {
    size_t k = prop->kids[root->first_kid + i];
    if (input_only(prop, k, 0)) {
      region[(*n_region)++] = k;
      continue;
    }
    n_out++;
    out = k;
    if (prop->nodes[k].kind == TWINN_BOOL_LIN)
      lins[nl++] = prop->nodes[k].lin;
    else
      all_lin = 0;
  }
  if (n_out == 0) return 0;
  if (n_out > 1 || prop->nodes[out].kind == TWINN_BOOL_LIN) { /* one conjunction */
    if (!all_lin) return 0;
    first[0] = 0;
    first[1] = nl;
    return 1;
  }
  const twinn_bool *o = &prop->nodes[out];
  size_t n_d = o->kind == TWINN_BOOL_OR ? o->n_kids : 1;
  for (size_t d = 0; d < n_d; d++) {
    size_t dn = o->kind == TWINN_BOOL_OR ? prop->kids[o->first_kid + d] : out;
    const twinn_bool *b = &prop->nodes[dn];
    first[n++] = nl;
    if (b->kind == TWINN_BOOL_LIN) {
      lins[nl++] = b->lin;
      continue;
    }
    if (b->kind != TWINN_BOOL_AND) return 0;
    for (size_t i = 0; i < b->n_kids; i++) {
      const twinn_bool *c = &prop->nodes[prop->kids[b->first_kid + i]];
      if (c->kind != TWINN_BOOL_LIN) return 0;
      lins[nl++] = c->lin;
    }
  }
  first[n] = nl;
  return n;
}

size_t twinn_decompose(const twinn_prop *prop, const double *x, twinn_subprop **out) {
  size_t n_d, n_region = 0, n_subs = 0, nn = prop->n_nets, result = 0;
  size_t *lins = NULL, *first = NULL, *region = NULL, *choice = NULL, *count = NULL, *atom = NULL;
  size_t *lin_map = NULL;
  twinn_subprop *subs = NULL;
  *out = NULL;
  if (nn < 2 || prop->n_nodes == 0 || prop->root >= prop->n_nodes) return 0;
  lins = twinn_mallocarray(prop->n_nodes + 1, sizeof *lins); /* one entry per LIN node at most */
  first = twinn_mallocarray(prop->n_nodes + 2, sizeof *first);
  region = twinn_mallocarray(prop->n_nodes + 1, sizeof *region);
  choice = twinn_mallocarray(prop->n_nodes + 1, sizeof *choice);
  atom = twinn_mallocarray(prop->n_nodes + 1, sizeof *atom);
  count = twinn_calloc(nn, sizeof *count);
  lin_map = twinn_mallocarray(prop->n_lins + 1, sizeof *lin_map);
  if (!lins || !first || !region || !choice || !atom || !count || !lin_map) goto nomem;
  n_d = disjuncts(prop, lins, first, region, &n_region);
  for (size_t d = 0; d < n_d; d++) {
    double best = -INFINITY;
    choice[d] = SIZE_MAX;
    for (size_t i = first[d]; i < first[d + 1]; i++) {
      const twinn_lin *l = &prop->lins[lins[i]];
      size_t owner = lin_owner(prop, l);
      int yes;
      double by;
      if (owner == LIN_INPUT || owner == LIN_OTHER) continue;
      falsity(prop, l, x, &yes, &by);
      if (yes && by > best) best = by, choice[d] = owner, atom[d] = lins[i];
    }
    if (choice[d] == SIZE_MAX) goto done; /* nothing to refute this disjunct by */
    count[choice[d]]++;
  }
  if (n_d == 0) goto done;
  for (size_t w = 0; w < nn; w++) n_subs += count[w] > 0;
  subs = twinn_calloc(n_subs, sizeof *subs);
  if (!subs) goto nomem;
  n_subs = 0;
  for (size_t w = 0; w < nn; w++) {
    if (!count[w]) continue;
    twinn_subprop *sp = &subs[n_subs++];
    twinn_prop *p = &sp->prop;
    builder b;
    size_t root, orn, slot;
    sp->net = w;
    sp->n_disjuncts = count[w];
    /* The root, copies of the region subtrees, the or and one constraint per disjunct. */
    if (!start_sub(&b, p, prop, lin_map, n_d + 2, n_d + 1, region, n_region, &root)) goto nomem;
    orn = new_node(&b, TWINN_BOOL_OR, count[w]);
    slot = p->nodes[orn].first_kid;
    for (size_t d = 0; d < n_d; d++)
      if (choice[d] == w) p->kids[slot++] = copy_lin(&b, atom[d]);
    end_sub(p, root, n_region, orn);
  }
  *out = subs;
  subs = NULL;
  result = n_subs;
  goto done;
nomem:
  result = (size_t)-1;
done:
  twinn_subprops_free(subs, n_subs);
  twinn_free(lins);
  twinn_free(first);
  twinn_free(region);
  twinn_free(choice);
  twinn_free(atom);
  twinn_free(count);
  twinn_free(lin_map);
  return result;
}

/* Whether disjuncts d and e have the same constraints (by dup) in the same order. */
static int same_disjunct(const size_t *lins, const size_t *first, const size_t *dup, size_t d,
                         size_t e) {
  size_t n = first[d + 1] - first[d];
  if (first[e + 1] - first[e] != n) return 0;
  for (size_t i = 0; i < n; i++)
    if (dup[lins[first[d] + i]] != dup[lins[first[e] + i]]) return 0;
  return 1;
}

size_t twinn_split_disjuncts(const twinn_prop *prop, twinn_subprop **out) {
  size_t n_d, n_region = 0, n_subs = 0, result = 0, cap = 16;
  size_t *lins = NULL, *first = NULL, *region = NULL, *dup = NULL, *lin_map = NULL;
  size_t *tab = NULL, *rep = NULL, *count = NULL;
  twinn_subprop *subs = NULL;
  *out = NULL;
  if (prop->n_nodes == 0 || prop->root >= prop->n_nodes) return 0;
  lins = twinn_mallocarray(prop->n_nodes + 1, sizeof *lins);
  first = twinn_mallocarray(prop->n_nodes + 2, sizeof *first);
  region = twinn_mallocarray(prop->n_nodes + 1, sizeof *region);
  rep = twinn_mallocarray(prop->n_nodes + 1, sizeof *rep);
  count = twinn_calloc(prop->n_nodes + 1, sizeof *count);
  dup = twinn_mallocarray(prop->n_lins + 1, sizeof *dup);
  lin_map = twinn_mallocarray(prop->n_lins + 1, sizeof *lin_map);
  if (!lins || !first || !region || !rep || !count || !dup || !lin_map) goto nomem;
  n_d = disjuncts(prop, lins, first, region, &n_region);
  if (n_d < 2) goto done;
  if (twinn_prop_lin_dups(prop, dup) != TWINN_OK) goto nomem;
  /* rep[d]: the first disjunct equal to d, through a hash table of the dup sequences. */
  while (cap < 2 * n_d) cap *= 2;
  tab = twinn_mallocarray(cap, sizeof *tab);
  if (!tab) goto nomem;
  for (size_t i = 0; i < cap; i++) tab[i] = SIZE_MAX;
  for (size_t d = 0; d < n_d; d++) {
    uint64_t h = twinn_mix64(first[d + 1] - first[d]);
    size_t slot;
    for (size_t i = first[d]; i < first[d + 1]; i++) h = twinn_mix64(h ^ dup[lins[i]]);
    rep[d] = d;
    for (slot = (size_t)h & (cap - 1); tab[slot] != SIZE_MAX; slot = (slot + 1) & (cap - 1))
      if (same_disjunct(lins, first, dup, tab[slot], d)) {
        rep[d] = tab[slot];
        break;
      }
    if (rep[d] == d) {
      tab[slot] = d;
      n_subs++;
    }
    count[rep[d]]++;
  }
  if (n_subs < 2) {
    n_subs = 0;
    goto done;
  }
  subs = twinn_calloc(n_subs, sizeof *subs);
  if (!subs) goto nomem;
  n_subs = 0;
  for (size_t d = 0; d < n_d; d++) {
    if (rep[d] != d) continue;
    twinn_subprop *sp = &subs[n_subs++];
    twinn_prop *p = &sp->prop;
    size_t len = first[d + 1] - first[d], root, slot, dn;
    builder b;
    sp->net = SIZE_MAX;
    sp->n_disjuncts = count[d];
    /* The root, copies of the region subtrees, an AND of the disjunct's constraints if more
     * than one, and those constraints. */
    if (!start_sub(&b, p, prop, lin_map, len + 2, len + 1, region, n_region, &root)) goto nomem;
    if (len == 1) {
      dn = copy_lin(&b, lins[first[d]]);
    } else {
      dn = new_node(&b, TWINN_BOOL_AND, len);
      slot = p->nodes[dn].first_kid;
      for (size_t i = first[d]; i < first[d + 1]; i++) p->kids[slot++] = copy_lin(&b, lins[i]);
    }
    end_sub(p, root, n_region, dn);
  }
  *out = subs;
  subs = NULL;
  result = n_subs;
  goto done;
nomem:
  result = (size_t)-1;
done:
  twinn_subprops_free(subs, n_subs);
  twinn_free(lins);
  twinn_free(first);
  twinn_free(region);
  twinn_free(rep);
  twinn_free(count);
  twinn_free(dup);
  twinn_free(lin_map);
  twinn_free(tab);
  return result;
}
