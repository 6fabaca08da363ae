/* propbuild.c: the property builder of propbuild.h. Names are found through two open-addressing
 * hash tables (load <= 1/2) so that declaring and resolving stay linear in the input. Every
 * array is grown by doubling through twinn_realloc; on failure the property stays consistent
 * (counts match what was filled) so twinn_prop_free can release it. */
#include "propbuild.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static twinn_status fail_at(twinn_propbuild *b, twinn_status st, unsigned long line,
                            unsigned long col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static twinn_status fail_at(twinn_propbuild *b, twinn_status st, unsigned long line,
                            unsigned long col, const char *fmt, ...) {
  char msg[sizeof b->err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return twinn_error_set(b->err, st, b->name, line, col, "%s", msg);
}

static twinn_status nomem(twinn_propbuild *b) {
  return twinn_error_set(b->err, TWINN_ERR_NOMEM, b->name, 0, 0, "out of memory");
}

void *twinn_propbuild_grow(void *arr, size_t *cap, size_t need, size_t elem) {
  size_t nc = *cap ? *cap : 16;
  void *q;
  while (nc < need) {
    if (nc > SIZE_MAX / 2) return NULL;
    nc *= 2;
  }
  q = twinn_realloc(arr, nc, elem);
  if (q) *cap = nc;
  return q;
}

#define RESERVE(b, arr, cap, need)                                                                 \
  do {                                                                                             \
    if ((need) > (cap)) {                                                                          \
      void *q_ = twinn_propbuild_grow((arr), &(cap), (need), sizeof *(arr));                       \
      if (!q_) return nomem(b);                                                                    \
      (arr) = q_;                                                                                  \
    }                                                                                              \
  } while (0)

twinn_status twinn_propbuild_init(twinn_propbuild *b, const char *name, twinn_error *err) {
  memset(b, 0, sizeof *b);
  b->err = err;
  b->name = name;
  b->p = twinn_calloc(1, sizeof *b->p);
  if (!b->p) goto fail;
  b->p->path = twinn_strdup(name ? name : "");
  if (!b->p->path) goto fail;
  return TWINN_OK;
fail:
  twinn_prop_free(b->p);
  b->p = NULL;
  return nomem(b);
}

void twinn_propbuild_release(twinn_propbuild *b) {
  twinn_prop_free(b->p);
  twinn_free(b->hvar);
  twinn_free(b->hnet);
  memset(b, 0, sizeof *b);
}

twinn_prop *twinn_propbuild_take(twinn_propbuild *b) {
  twinn_prop *p = b->p;
  b->p = NULL;
  return p;
}

/* ---- name tables ------------------------------------------------------------------------- */

typedef const char *(*name_of_fn)(const twinn_prop *, size_t);

static const char *var_name(const twinn_prop *p, size_t i) { return p->vars[i].name; }
static const char *net_name(const twinn_prop *p, size_t i) { return p->nets[i].name; }

static size_t hash_str(const char *s) {
  size_t h = (size_t)14695981039346656037ULL; /* FNV-1a */
  while (*s) h = (h ^ (unsigned char)*s++) * (size_t)1099511628211ULL;
  return h;
}

static size_t table_find(const twinn_prop *p, const size_t *h, size_t cap, const char *s,
                         name_of_fn name_of) {
  size_t i;
  if (cap == 0) return 0;
  for (i = hash_str(s) & (cap - 1); h[i]; i = (i + 1) & (cap - 1))
    if (strcmp(name_of(p, h[i] - 1), s) == 0) return h[i];
  return 0;
}

/* Inserts entry idx (one of count entries, its name not present yet), growing at load 1/2. */
static twinn_status table_insert(twinn_propbuild *b, size_t **h, size_t *cap, size_t count,
                                 size_t idx, name_of_fn name_of) {
  size_t i, j, nc;
  size_t *nh;
  if (2 * count > *cap) {
    nc = *cap ? 2 * *cap : 64;
    nh = twinn_calloc(nc, sizeof *nh);
    if (!nh) return nomem(b);
    for (j = 0; j < *cap; j++) {
      if (!(*h)[j]) continue;
      i = hash_str(name_of(b->p, (*h)[j] - 1)) & (nc - 1);
      while (nh[i]) i = (i + 1) & (nc - 1);
      nh[i] = (*h)[j];
    }
    twinn_free(*h);
    *h = nh;
    *cap = nc;
  }
  i = hash_str(name_of(b->p, idx)) & (*cap - 1);
  while ((*h)[i]) i = (i + 1) & (*cap - 1);
  (*h)[i] = idx + 1;
  return TWINN_OK;
}

size_t twinn_propbuild_find_var(const twinn_propbuild *b, const char *name) {
  return table_find(b->p, b->hvar, b->hvar_cap, name, var_name);
}

size_t twinn_propbuild_find_net(const twinn_propbuild *b, const char *name) {
  return table_find(b->p, b->hnet, b->hnet_cap, name, net_name);
}

int twinn_propbuild_elem_type(const char *s, twinn_elem_type *out) {
  /* ONNX TensorProto.DataType numbers; real numbers have no ONNX type: 0. */
  static const struct {
    const char *name;
    twinn_elem_type type;
  } types[] = {
      {"real", 0},          {"Real", 0},
      {"float32", 1},       {"float", 1},
      {"uint8", 2},         {"int8", 3},
      {"uint16", 4},        {"int16", 5},
      {"int32", 6},         {"int64", 7},
      {"string", 8},        {"bool", 9},
      {"float16", 10},      {"float64", 11},
      {"double", 11},       {"uint32", 12},
      {"uint64", 13},       {"complex64", 14},
      {"complex128", 15},   {"bfloat16", 16},
      {"float8e4m3fn", 17}, {"float8e4m3fnuz", 18},
      {"float8e5m2", 19},   {"float8e5m2fnuz", 20},
      {"uint4", 21},        {"int4", 22},
      {"float4e2m1", 23},
  };
  size_t i;
  for (i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(s, types[i].name) == 0) {
      *out = types[i].type;
      return 1;
    }
  return 0;
}

/* ---- appending --------------------------------------------------------------------------- */

twinn_status twinn_propbuild_add_net(twinn_propbuild *b, const char *name, unsigned long line,
                                     unsigned long col) {
  twinn_prop *p = b->p;
  twinn_prop_net *n;
  RESERVE(b, p->nets, b->cap_nets, p->n_nets + 1);
  n = &p->nets[p->n_nets];
  memset(n, 0, sizeof *n);
  n->name = twinn_strdup(name);
  if (!n->name) return nomem(b);
  n->first_var = p->n_vars;
  n->line = line;
  n->col = col;
  p->n_nets++;
  return table_insert(b, &b->hnet, &b->hnet_cap, p->n_nets, p->n_nets - 1, net_name);
}

twinn_status twinn_propbuild_add_var(twinn_propbuild *b, const char *name, twinn_var_role role,
                                     const char *type_name, twinn_elem_type type,
                                     const size_t *dims, size_t rank, unsigned long line,
                                     unsigned long col) {
  twinn_prop *p = b->p;
  twinn_var *v;
  size_t i, n = 1, at = twinn_propbuild_find_var(b, name);
  TWINN_ASSERT(p->n_nets > 0);
  if (at)
    return fail_at(b, TWINN_ERR_SEMANTIC, line, col,
                   "duplicate declaration of '%s' (first declared at %lu:%lu)", name,
                   p->vars[at - 1].line, p->vars[at - 1].col);
  if (rank > TWINN_MAX_RANK)
    return fail_at(b, TWINN_ERR_UNSUPPORTED, line, col, "'%s' has rank %zu; at most %d supported",
                   name, rank, TWINN_MAX_RANK);
  for (i = 0; i < rank; i++) {
    if (dims[i] == 0)
      return fail_at(b, TWINN_ERR_SEMANTIC, line, col, "dimension %zu of '%s' is 0", i, name);
    /* The engine allocates the global vector as doubles, with scratch: keep it addressable. */
    if (n > (SIZE_MAX / 16) / dims[i])
      return fail_at(b, TWINN_ERR_SEMANTIC, line, col, "'%s' has too many elements", name);
    n *= dims[i];
  }
  if (p->n_scalars > SIZE_MAX / 16 - n)
    return fail_at(b, TWINN_ERR_SEMANTIC, line, col, "too many scalars in the query");
  RESERVE(b, p->vars, b->cap_vars, p->n_vars + 1);
  v = &p->vars[p->n_vars];
  memset(v, 0, sizeof *v);
  v->name = twinn_strdup(name);
  v->type_name = twinn_strdup(type_name);
  if (!v->name || !v->type_name) goto fail;
  v->role = role;
  v->net = p->n_nets - 1;
  v->elem_type = type;
  v->rank = rank;
  for (i = 0; i < rank; i++) v->dims[i] = dims[i];
  v->n = n;
  v->offset = p->n_scalars;
  v->line = line;
  v->col = col;
  p->n_vars++; /* from here the property owns the names */
  p->n_scalars += n;
  p->nets[v->net].n_vars++;
  return table_insert(b, &b->hvar, &b->hvar_cap, p->n_vars, p->n_vars - 1, var_name);
fail:
  twinn_free(v->name);
  twinn_free(v->type_name);
  v->name = v->type_name = NULL;
  return nomem(b);
}

static twinn_status add_node(twinn_propbuild *b, twinn_bool_kind kind, size_t lin, size_t first_kid,
                             size_t n_kids, size_t *node) {
  twinn_prop *p = b->p;
  RESERVE(b, p->nodes, b->cap_nodes, p->n_nodes + 1);
  p->nodes[p->n_nodes].kind = kind;
  p->nodes[p->n_nodes].lin = lin;
  p->nodes[p->n_nodes].first_kid = first_kid;
  p->nodes[p->n_nodes].n_kids = n_kids;
  *node = p->n_nodes++;
  return TWINN_OK;
}

twinn_status twinn_propbuild_add_lin(twinn_propbuild *b, const twinn_lin *proto, size_t n_terms,
                                     size_t *lin, size_t *node) {
  twinn_prop *p = b->p;
  if (n_terms > SIZE_MAX - p->n_terms) return nomem(b);
  RESERVE(b, p->lins, b->cap_lins, p->n_lins + 1);
  RESERVE(b, p->term_var, b->cap_terms, p->n_terms + n_terms);
  RESERVE(b, p->term_coef, b->cap_coefs, p->n_terms + n_terms);
  /* Reserve the node too, so that a failure cannot leave a constraint without its node. */
  RESERVE(b, p->nodes, b->cap_nodes, p->n_nodes + 1);
  p->lins[p->n_lins] = *proto;
  p->lins[p->n_lins].first = p->n_terms;
  p->lins[p->n_lins].n_terms = n_terms;
  if (n_terms) {
    memset(p->term_var + p->n_terms, 0, n_terms * sizeof *p->term_var);
    memset(p->term_coef + p->n_terms, 0, n_terms * sizeof *p->term_coef);
  }
  p->n_terms += n_terms;
  if (proto->nonlinear) p->n_nonlinear++;
  *lin = p->n_lins++;
  return add_node(b, TWINN_BOOL_LIN, *lin, 0, 0, node);
}

twinn_status twinn_propbuild_add_andor(twinn_propbuild *b, twinn_bool_kind kind, const size_t *kids,
                                       size_t n, size_t *node) {
  twinn_prop *p = b->p;
  if (n > SIZE_MAX - p->n_kids) return nomem(b);
  RESERVE(b, p->kids, b->cap_kids, p->n_kids + n);
  if (n) memcpy(p->kids + p->n_kids, kids, n * sizeof *kids);
  p->n_kids += n;
  return add_node(b, kind, 0, p->n_kids - n, n, node);
}
