/* propbuild.h: parser-internal builder of a twinn_prop: appends networks, variables (with the
 * name checks every front end needs), constraints and and/or nodes to the property's flat
 * arrays, growing them by doubling. It reads no text: vnnlib.c drives it. Errors go to the
 * caller's twinn_error with the source name and the position passed in. */
#ifndef TWINN_PROPBUILD_H
#define TWINN_PROPBUILD_H

#include "common.h"
#include "prop.h"

typedef struct {
  twinn_prop *p;    /* owned until twinn_propbuild_take */
  twinn_error *err; /* may be NULL */
  const char *name; /* source name for messages */
  size_t cap_nets, cap_vars, cap_lins, cap_terms, cap_coefs, cap_nodes, cap_kids;
  size_t *hvar, hvar_cap; /* open addressing over var names: index + 1, 0 = empty */
  size_t *hnet, hnet_cap; /* the same over network names */
} twinn_propbuild;

/* arr grown to room for need > *cap elements (capacity doubled, *cap updated), or NULL with
 * arr and *cap untouched (out of memory or size overflow). */
void *twinn_propbuild_grow(void *arr, size_t *cap, size_t need, size_t elem);

/* Starts an empty property whose path is `name` (copied). */
twinn_status twinn_propbuild_init(twinn_propbuild *b, const char *name, twinn_error *err);
/* Frees the builder's tables, and the property unless it was taken. */
void twinn_propbuild_release(twinn_propbuild *b);
/* Hands the property to the caller (who frees it with twinn_prop_free). */
twinn_prop *twinn_propbuild_take(twinn_propbuild *b);

/* Index + 1 of the variable / network of that name, or 0. */
size_t twinn_propbuild_find_var(const twinn_propbuild *b, const char *name);
size_t twinn_propbuild_find_net(const twinn_propbuild *b, const char *name);
/* ONNX DataType number of a VNN-LIB type name (real/Real: 0); 0 = unknown name, 1 = found. */
int twinn_propbuild_elem_type(const char *type_name, twinn_elem_type *out);

/* Appends a network (name must be new: the caller reports duplicates with its own wording). */
twinn_status twinn_propbuild_add_net(twinn_propbuild *b, const char *name, unsigned long line,
                                     unsigned long col);
/* Appends a variable to the last network, laid out after all earlier scalars. Duplicate names,
 * zero dimensions, rank > TWINN_MAX_RANK and sizes too large to address are errors. */
twinn_status twinn_propbuild_add_var(twinn_propbuild *b, const char *name, twinn_var_role role,
                                     const char *type_name, twinn_elem_type type,
                                     const size_t *dims, size_t rank, unsigned long line,
                                     unsigned long col);
/* Appends a constraint copied from *proto with room for n_terms terms at
 * p->term_var/term_coef[proto->first ..] (set here; the caller fills them), and its LIN node. */
twinn_status twinn_propbuild_add_lin(twinn_propbuild *b, const twinn_lin *proto, size_t n_terms,
                                     size_t *lin, size_t *node);
/* Appends an AND/OR node with children kids[0 .. n) (node indices, copied). */
twinn_status twinn_propbuild_add_andor(twinn_propbuild *b, twinn_bool_kind kind, const size_t *kids,
                                       size_t n, size_t *node);

#endif
