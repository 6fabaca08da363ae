/* lower.c: decoded ONNX graph -> twinn_net. Walks the nodes in order: a node whose inputs are
 * all constant is folded (lower_fold.c), a node on the one non-constant chain from the graph
 * input is applied to the pending affine map or emits layers (lower_chain.c). Here: the
 * graph's input/output declarations, the walk, and node-located errors. Anything the chain
 * cannot express exactly (branches, several inputs) is an error naming node and operator; the
 * context (constants, pending map) never outlives twinn_onnx_lower. */
#include "lower_int.h"
#include "onnx_load.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const operators[] = {"Add",
                                        "BatchNormalization",
                                        "Constant",
                                        "Conv",
                                        "DequantizeLinear",
                                        "Div",
                                        "Dropout",
                                        "Flatten",
                                        "Gemm",
                                        "Identity",
                                        "MatMul",
                                        "Mul",
                                        "QuantizeLinear",
                                        "Relu",
                                        "Reshape",
                                        "Sigmoid",
                                        "Squeeze",
                                        "Sub",
                                        "Tanh",
                                        "Transpose",
                                        "Unsqueeze",
                                        NULL};

const char *const *twinn_onnx_operators(void) { return operators; }

/* Records an error about the current node: "node 'NAME' (OP): msg". */
twinn_status twinn_lower_err(lower_ctx *x, twinn_status st, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!x->node) return twinn_error_set(x->err, st, x->g->path, 0, 0, "%s", msg);
  if (x->node->name && x->node->name[0])
    return twinn_error_set(x->err, st, x->g->path, 0, 0, "node '%s' (%s): %s", x->node->name,
                           str_or_empty(x->node->op_type), msg);
  return twinn_error_set(x->err, st, x->g->path, 0, 0, "node #%zu (%s): %s", x->node_index,
                         str_or_empty(x->node->op_type), msg);
}

twinn_status twinn_lower_nomem(lower_ctx *x) {
  return twinn_lower_err(x, TWINN_ERR_NOMEM, "out of memory");
}

/* ---- the graph ---- */

static int is_initializer(const Onnx__GraphProto *gr, const char *name) {
  size_t i;
  for (i = 0; i < gr->n_initializer; i++)
    if (gr->initializer[i]->name && strcmp(gr->initializer[i]->name, name) == 0) return 1;
  return 0;
}

static int float_type(int t) {
  return t == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || t == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ||
         t == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
}

/* Reads the declared type of a graph input/output: element type and shape (symbolic or 0
 * dimensions count as 1, the batch of a verification query). *has_shape is 0 when no shape is
 * declared; an output without any type is taken as float of the computed shape. */
static twinn_status value_shape(lower_ctx *x, const Onnx__ValueInfoProto *vi, const char *what,
                                int *et, size_t *rank, int64_t *dims, int *has_shape) {
  const Onnx__TypeProto *t = vi->type;
  const Onnx__TensorShapeProto *sh;
  size_t i, n = 1;
  *has_shape = 0;
  *rank = 0;
  if (!t && strcmp(what, "output") == 0) {
    *et = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    return TWINN_OK;
  }
  if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type)
    return twinn_error_set(x->err, TWINN_ERR_UNSUPPORTED, x->g->path, 0, 0,
                           "graph %s '%s' is not a tensor", what, str_or_empty(vi->name));
  *et = t->tensor_type->elem_type;
  if (!float_type(*et))
    return twinn_error_set(x->err, TWINN_ERR_UNSUPPORTED, x->g->path, 0, 0,
                           "graph %s '%s' has element type %d (only float types supported)", what,
                           str_or_empty(vi->name), *et);
  sh = t->tensor_type->shape;
  if (!sh) return TWINN_OK;
  if (sh->n_dim > TWINN_ONNX_MAX_RANK)
    return twinn_error_set(x->err, TWINN_ERR_UNSUPPORTED, x->g->path, 0, 0,
                           "graph %s '%s' has rank %zu (at most %d)", what, str_or_empty(vi->name),
                           sh->n_dim, TWINN_ONNX_MAX_RANK);
  for (i = 0; i < sh->n_dim; i++) {
    const Onnx__TensorShapeProto__Dimension *d = sh->dim[i];
    int64_t v =
        d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ? d->dim_value : 0;
    if (v < 0 || (uint64_t)v > TWINN_ONNX_MAX_ELEMS ||
        (v > 0 && n > TWINN_ONNX_MAX_ELEMS / (size_t)v))
      return twinn_error_set(x->err, TWINN_ERR_NOMEM, x->g->path, 0, 0,
                             "graph %s '%s': dimension %lld invalid or tensor too large", what,
                             str_or_empty(vi->name), (long long)v);
    dims[i] = v == 0 ? 1 : v;
    n *= (size_t)dims[i];
  }
  *rank = sh->n_dim;
  *has_shape = 1;
  return TWINN_OK;
}

static twinn_status lower_nodes(lower_ctx *x) {
  const Onnx__GraphProto *gr = x->g->model->graph;
  size_t i, j;
  twinn_status st;
  for (i = 0; i < gr->n_node; i++) {
    const Onnx__NodeProto *n = gr->node[i];
    const twinn_onnx_const *cin[8] = {NULL};
    int var_pos = -1;
    x->node = n;
    x->node_index = i;
    if (!n->op_type || (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0))
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "operator not supported (domain '%s')",
                             str_or_empty(n->domain));
    if (n->n_output < 1 || !n->output[0][0])
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "node has no output");
    if (n->n_input > 8) return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "too many inputs");
    for (j = 0; j < n->n_input; j++) {
      const char *in = n->input[j];
      if (!in[0]) continue; /* an omitted optional input */
      if (x->var && strcmp(in, x->var) == 0) {
        if (var_pos >= 0)
          return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED,
                                 "tensor '%s' used twice (branching graphs are not supported)", in);
        var_pos = (int)j;
        continue;
      }
      cin[j] = twinn_lower_find_const(x, in);
      if (!cin[j])
        return twinn_lower_err(
            x, TWINN_ERR_UNSUPPORTED,
            "input '%s' is neither a constant nor the current tensor (branching or "
            "unordered graphs are not supported)",
            in);
    }
    if (var_pos < 0) {
      twinn_onnx_const c;
      st = twinn_lower_fold_node(x, cin, &c);
      if (st != TWINN_OK) {
        twinn_onnx_const_release(&c);
        return st;
      }
      st = twinn_lower_add_const(x, n->output[0], &c);
    } else {
      st = twinn_lower_chain_node(x, var_pos, cin);
      /* The chain tensor is consumed: a later use of the old name is a branch. */
      x->var = n->output[0];
      x->prod_node = str_or_empty(n->name);
      x->m = shape_numel(x->rank, x->dims);
    }
    if (st != TWINN_OK) return st;
  }
  x->node = NULL;
  return TWINN_OK;
}

twinn_status twinn_onnx_lower(const twinn_onnx_graph *g, twinn_net **out, twinn_error *err) {
  const Onnx__GraphProto *gr = g->model->graph;
  lower_ctx x;
  const Onnx__ValueInfoProto *in = NULL;
  size_t i, orank = 0;
  int64_t odims[TWINN_ONNX_MAX_RANK];
  int oet = 0, has_shape;
  twinn_status st;
  memset(&x, 0, sizeof x);
  x.g = g;
  x.err = err;
  *out = NULL;
  for (i = 0; i < gr->n_initializer; i++) {
    twinn_onnx_const c;
    const char *name = str_or_empty(gr->initializer[i]->name);
    char what[300];
    snprintf(what, sizeof what, "initializer '%s'", name);
    st = twinn_onnx_const_decode(g, gr->initializer[i], what, &c, err);
    if (st != TWINN_OK) goto fail;
    st = twinn_lower_add_const(&x, name, &c);
    if (st != TWINN_OK) goto fail;
  }
  for (i = 0; i < gr->n_input; i++) {
    if (!gr->input[i]->name || is_initializer(gr, gr->input[i]->name)) continue;
    if (in) {
      st = twinn_error_set(err, TWINN_ERR_UNSUPPORTED, g->path, 0, 0,
                           "more than one graph input ('%s', '%s'): only single-input networks "
                           "are supported",
                           in->name, gr->input[i]->name);
      goto fail;
    }
    in = gr->input[i];
  }
  if (!in || gr->n_output != 1) {
    st = twinn_error_set(err, TWINN_ERR_UNSUPPORTED, g->path, 0, 0,
                         "the graph must have exactly one input and one output (has %s input, "
                         "%zu outputs)",
                         in ? "one" : "no", gr->n_output);
    goto fail;
  }
  st = value_shape(&x, in, "input", &oet, &x.rank, x.dims, &has_shape);
  if (st != TWINN_OK) goto fail;
  if (!has_shape) {
    st = twinn_error_set(err, TWINN_ERR_UNSUPPORTED, g->path, 0, 0,
                         "graph input '%s' has no declared shape", in->name);
    goto fail;
  }
  x.m = shape_numel(x.rank, x.dims);
  x.net = twinn_net_new(x.m);
  x.pb = twinn_calloc(x.m, sizeof *x.pb);
  if (!x.net || !x.pb || (g->path && !(x.net->path = twinn_strdup(g->path)))) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, g->path, 0, 0, "out of memory");
    goto fail;
  }
  x.net->in_type = oet;
  x.net->in_rank = x.rank;
  for (i = 0; i < x.rank; i++) x.net->in_dims[i] = (size_t)x.dims[i];
  x.var = in->name;
  x.prod_node = "";
  st = lower_nodes(&x);
  if (st != TWINN_OK) goto fail;
  if (!gr->output[0]->name || strcmp(gr->output[0]->name, x.var) != 0) {
    st = twinn_error_set(err, TWINN_ERR_UNSUPPORTED, g->path, 0, 0,
                         "graph output '%s' is not the end of the input's operator chain",
                         str_or_empty(gr->output[0]->name));
    goto fail;
  }
  if (x.pending || x.net->n_layers == 0) {
    st = twinn_lower_flush(&x);
    if (st != TWINN_OK) goto fail;
  }
  if (x.net->n_taps == 0 || strcmp(x.net->taps[x.net->n_taps - 1].tensor_name, x.var) != 0) {
    st = twinn_net_add_tap(x.net, x.prod_node, x.var, err);
    if (st != TWINN_OK) goto fail;
  }
  st = value_shape(&x, gr->output[0], "output", &oet, &orank, odims, &has_shape);
  if (st != TWINN_OK) goto fail;
  if (!has_shape) {
    orank = x.rank; /* no declared shape: the tracked one */
    memcpy(odims, x.dims, orank * sizeof *odims);
  }
  if (shape_numel(orank, odims) != x.net->n_out) {
    st = twinn_error_set(err, TWINN_ERR_SEMANTIC, g->path, 0, 0,
                         "graph output '%s' declares %zu elements, the network computes %zu",
                         gr->output[0]->name, shape_numel(orank, odims), x.net->n_out);
    goto fail;
  }
  x.net->out_type = oet;
  x.net->out_rank = orank;
  for (i = 0; i < orank; i++) x.net->out_dims[i] = (size_t)odims[i];
  *out = x.net;
  x.net = NULL;
fail: /* also the success path: the constants and pending map are never kept */
  for (i = 0; i < x.n_consts; i++) twinn_onnx_const_release(&x.consts[i].c);
  twinn_free(x.consts);
  twinn_free(x.pw);
  twinn_free(x.pb);
  twinn_net_free(x.net);
  return st;
}
