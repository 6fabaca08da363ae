/* lower_int.h (private to the onnx/lower*.c files): the state the ONNX lowering shares between
 * its parts. lower.c walks the graph and owns the context; lower_fold.c keeps the named constants
 * (initializers and folded nodes) and the shape rules; lower_chain.c composes the operators on
 * the one variable tensor into the pending affine map and emits layers. Nothing here is visible
 * outside onnx/, and nothing here reads files. */
#ifndef TWINN_ONNX_LOWER_INT_H
#define TWINN_ONNX_LOWER_INT_H

#include "graph.h"
#include "onnx_load.h"

#include <string.h>

typedef struct {
  const char *name; /* points into the model */
  twinn_onnx_const c;
} named_const;

typedef struct {
  const twinn_onnx_graph *g;
  twinn_error *err;
  const Onnx__NodeProto *node; /* the node being lowered (for messages) */
  size_t node_index;
  named_const *consts;
  size_t n_consts, cap_consts;
  twinn_net *net;
  /* The chain: tensor `var` of shape dims (m elements) equals pw * h + pb, where h is the
   * output of the network built so far (width n0). pw NULL means the identity (m == n0). */
  const char *var;
  const char *prod_node; /* node that produced var ("" for the graph input) */
  size_t rank;
  int64_t dims[TWINN_ONNX_MAX_RANK];
  size_t m;
  double *pw, *pb;
  int pending; /* a node was applied to the chain since the last activation */
} lower_ctx;

/* Records an error about the current node: "node 'NAME' (OP): msg" (lower.c). */
twinn_status twinn_lower_err(lower_ctx *x, twinn_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
twinn_status twinn_lower_nomem(lower_ctx *x);

/* The named constants (lower_fold.c). find returns NULL for an unknown or empty name; add takes
 * ownership of c->v on success and failure. */
const twinn_onnx_const *twinn_lower_find_const(const lower_ctx *x, const char *name);
twinn_status twinn_lower_add_const(lower_ctx *x, const char *name, twinn_onnx_const *c);
/* Output shape of the current reshaping node (is_reshape_like) from the input shape. */
twinn_status twinn_lower_reshape_like(lower_ctx *x, size_t rank, const int64_t *dims, size_t *orank,
                                      int64_t *odims);
/* Transpose of the current node: *idx (caller frees) maps flat output to flat input indices. */
twinn_status twinn_lower_transpose_index(lower_ctx *x, size_t rank, const int64_t *dims,
                                         size_t **idx, int64_t *odims);
/* Folds the current node, all of whose inputs are constants (cin), into *out (caller-owned). */
twinn_status twinn_lower_fold_node(lower_ctx *x, const twinn_onnx_const **cin,
                                   twinn_onnx_const *out);

/* The chain (lower_chain.c): applies the current node, whose input var_pos is the variable
 * tensor and whose constant inputs are cin, to the pending map or emits an activation. */
twinn_status twinn_lower_chain_node(lower_ctx *x, int var_pos, const twinn_onnx_const **cin);
/* Emits the pending map as an AFFINE layer and restarts from the identity. */
twinn_status twinn_lower_flush(lower_ctx *x);

/* Small node and shape helpers of all three files. */
static inline const char *str_or_empty(const char *s) { return s ? s : ""; }

static inline const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name) {
  size_t i;
  for (i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
  return NULL;
}

static inline int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t def) {
  const Onnx__AttributeProto *a = attr(n, name);
  return a ? a->i : def;
}

static inline double attr_float(const Onnx__NodeProto *n, const char *name, double def) {
  const Onnx__AttributeProto *a = attr(n, name);
  return a ? (double)a->f : def;
}

static inline size_t shape_numel(size_t rank, const int64_t *dims) {
  size_t i, n = 1;
  for (i = 0; i < rank; i++) n *= (size_t)dims[i];
  return n;
}

static inline int is_op(const Onnx__NodeProto *n, const char *op) {
  return strcmp(n->op_type, op) == 0;
}

static inline int is_reshape_like(const Onnx__NodeProto *n) {
  return is_op(n, "Identity") || is_op(n, "Dropout") || is_op(n, "Flatten") ||
         is_op(n, "Reshape") || is_op(n, "Squeeze") || is_op(n, "Unsqueeze");
}

#endif
