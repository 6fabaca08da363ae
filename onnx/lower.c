/* lower.c: decoded ONNX graph -> twinn_net. Walks the nodes in order, folding constant
 * subgraphs (Constant, DequantizeLinear, ...) and following the one non-constant chain from
 * the graph input. Linear operators compose into a pending affine map (W, b) over the output
 * of the last activation; an activation flushes it as an AFFINE layer (always, even when it
 * is the identity, so twins with the same graph get the same layer structure). Anything the
 * chain cannot express exactly (branches, nonlinear ops) is an error naming node and operator. */
#include "graph.h"
#include "onnx_load.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
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

static const char *str_or_empty(const char *s) { return s ? s : ""; }

/* Records an error about the current node: "node 'NAME' (OP): msg". */
static twinn_status node_err(lower_ctx *x, twinn_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static twinn_status node_err(lower_ctx *x, twinn_status st, const char *fmt, ...) {
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

static twinn_status nomem(lower_ctx *x) { return node_err(x, TWINN_ERR_NOMEM, "out of memory"); }

/* ---- attributes ---- */

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name) {
  size_t i;
  for (i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
  return NULL;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t def) {
  const Onnx__AttributeProto *a = attr(n, name);
  return a ? a->i : def;
}

static double attr_float(const Onnx__NodeProto *n, const char *name, double def) {
  const Onnx__AttributeProto *a = attr(n, name);
  return a ? (double)a->f : def;
}

/* ---- constants ---- */

static const twinn_onnx_const *find_const(const lower_ctx *x, const char *name) {
  size_t i;
  if (!name || !name[0]) return NULL;
  /* Newest first: a later definition of a name wins (ONNX forbids reuse anyway). */
  for (i = x->n_consts; i-- > 0;)
    if (strcmp(x->consts[i].name, name) == 0) return &x->consts[i].c;
  return NULL;
}

/* Adds c under name; takes ownership of c->v on success and failure. */
static twinn_status add_const(lower_ctx *x, const char *name, twinn_onnx_const *c) {
  if (x->n_consts == x->cap_consts) {
    size_t cap = x->cap_consts ? 2 * x->cap_consts : 32;
    named_const *grown = twinn_realloc(x->consts, cap, sizeof *grown);
    if (!grown) {
      twinn_onnx_const_release(c);
      return nomem(x);
    }
    x->consts = grown;
    x->cap_consts = cap;
  }
  x->consts[x->n_consts].name = name;
  x->consts[x->n_consts].c = *c;
  x->n_consts++;
  return TWINN_OK;
}

static size_t shape_numel(size_t rank, const int64_t *dims) {
  size_t i, n = 1;
  for (i = 0; i < rank; i++) n *= (size_t)dims[i];
  return n;
}

/* ---- shapes shared by constants and the chain ---- */

/* Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout: the flat layout is unchanged, only
 * the shape. Computes the output shape of the current node from the input shape. */
static twinn_status reshape_like(lower_ctx *x, size_t rank, const int64_t *dims, size_t *orank,
                                 int64_t *odims) {
  const Onnx__NodeProto *n = x->node;
  const char *op = n->op_type;
  size_t i, j, numel = shape_numel(rank, dims);
  if (strcmp(op, "Identity") == 0 || strcmp(op, "Dropout") == 0) {
    *orank = rank;
    memcpy(odims, dims, rank * sizeof *dims);
    return TWINN_OK;
  }
  if (strcmp(op, "Flatten") == 0) {
    int64_t axis = attr_int(n, "axis", 1), a = 1;
    if (axis < 0) axis += (int64_t)rank;
    if (axis < 0 || axis > (int64_t)rank)
      return node_err(x, TWINN_ERR_SEMANTIC, "attribute axis=%lld out of range",
                      (long long)attr_int(n, "axis", 1));
    for (i = 0; i < (size_t)axis; i++) a *= dims[i];
    *orank = 2;
    odims[0] = a;
    odims[1] = a ? (int64_t)numel / a : 0;
    return TWINN_OK;
  }
  if (strcmp(op, "Reshape") == 0) {
    const twinn_onnx_const *s = n->n_input >= 2 ? find_const(x, n->input[1]) : NULL;
    int64_t known = 1;
    size_t infer = SIZE_MAX;
    if (!s) return node_err(x, TWINN_ERR_UNSUPPORTED, "shape input must be a constant");
    if (s->n > TWINN_ONNX_MAX_RANK)
      return node_err(x, TWINN_ERR_UNSUPPORTED, "target rank %zu exceeds %d", s->n,
                      TWINN_ONNX_MAX_RANK);
    for (i = 0; i < s->n; i++) {
      double d = s->v[i];
      if (d == 0.0 && attr_int(n, "allowzero", 0) == 0) {
        if (i >= rank) return node_err(x, TWINN_ERR_SEMANTIC, "shape entry 0 beyond input rank");
        odims[i] = dims[i];
      } else if (d == -1.0) {
        if (infer != SIZE_MAX) return node_err(x, TWINN_ERR_SEMANTIC, "more than one -1 in shape");
        infer = i;
        odims[i] = 1;
      } else if (d >= 0.0 && d <= (double)TWINN_ONNX_MAX_ELEMS) {
        odims[i] = (int64_t)d;
      } else {
        return node_err(x, TWINN_ERR_SEMANTIC, "invalid shape entry %g", d);
      }
      if (odims[i] && known > (int64_t)TWINN_ONNX_MAX_ELEMS / odims[i])
        return node_err(x, TWINN_ERR_SEMANTIC, "shape too large");
      known *= odims[i];
    }
    if (infer != SIZE_MAX) {
      if (known == 0 || (int64_t)numel % known != 0)
        return node_err(x, TWINN_ERR_SEMANTIC, "cannot infer -1 in shape");
      odims[infer] = (int64_t)numel / known;
      known *= odims[infer];
    }
    if ((size_t)known != numel)
      return node_err(x, TWINN_ERR_SEMANTIC, "shape has %lld elements, input has %zu",
                      (long long)known, numel);
    *orank = s->n;
    return TWINN_OK;
  }
  if (strcmp(op, "Squeeze") == 0 || strcmp(op, "Unsqueeze") == 0) {
    int unsq = op[0] == 'U';
    const Onnx__AttributeProto *a = attr(n, "axes");
    const twinn_onnx_const *ac = n->n_input >= 2 ? find_const(x, n->input[1]) : NULL;
    int64_t axes[TWINN_ONNX_MAX_RANK];
    size_t n_axes = 0, out_rank;
    int mark[TWINN_ONNX_MAX_RANK] = {0};
    if (n->n_input >= 2 && n->input[1][0] && !ac)
      return node_err(x, TWINN_ERR_UNSUPPORTED, "axes input must be a constant");
    n_axes = a ? a->n_ints : ac ? ac->n : 0;
    if (n_axes > TWINN_ONNX_MAX_RANK) return node_err(x, TWINN_ERR_UNSUPPORTED, "too many axes");
    for (i = 0; i < n_axes; i++) axes[i] = a ? a->ints[i] : (int64_t)ac->v[i];
    out_rank = unsq ? rank + n_axes : rank;
    if (out_rank > TWINN_ONNX_MAX_RANK)
      return node_err(x, TWINN_ERR_UNSUPPORTED, "rank exceeds %d", TWINN_ONNX_MAX_RANK);
    for (i = 0; i < n_axes; i++) {
      int64_t ax = axes[i] < 0 ? axes[i] + (int64_t)out_rank : axes[i];
      if (ax < 0 || ax >= (int64_t)out_rank || mark[ax])
        return node_err(x, TWINN_ERR_SEMANTIC, "invalid axis %lld", (long long)axes[i]);
      mark[ax] = 1;
    }
    if (unsq) {
      for (i = 0, j = 0; i < out_rank; i++) odims[i] = mark[i] ? 1 : dims[j++];
      *orank = out_rank;
    } else {
      for (i = 0, j = 0; i < rank; i++) {
        if (n_axes ? mark[i] : dims[i] == 1) {
          if (dims[i] != 1) return node_err(x, TWINN_ERR_SEMANTIC, "squeezed axis is not 1");
          continue;
        }
        odims[j++] = dims[i];
      }
      *orank = j;
    }
    return TWINN_OK;
  }
  return node_err(x, TWINN_ERR_INTERNAL, "not a reshaping operator");
}

/* Transpose: idx[o] = flat input index of flat output index o; the output shape in odims. */
static twinn_status transpose_index(lower_ctx *x, size_t rank, const int64_t *dims, size_t **idx,
                                    int64_t *odims) {
  const Onnx__AttributeProto *a = attr(x->node, "perm");
  size_t perm[TWINN_ONNX_MAX_RANK], i, k, numel = shape_numel(rank, dims);
  int seen[TWINN_ONNX_MAX_RANK] = {0};
  int64_t istride[TWINN_ONNX_MAX_RANK];
  if (a && a->n_ints != rank) return node_err(x, TWINN_ERR_SEMANTIC, "perm has wrong length");
  for (i = 0; i < rank; i++) {
    int64_t p = a ? a->ints[i] : (int64_t)(rank - 1 - i);
    if (p < 0 || p >= (int64_t)rank || seen[p])
      return node_err(x, TWINN_ERR_SEMANTIC, "invalid perm");
    seen[p] = 1;
    perm[i] = (size_t)p;
    odims[i] = dims[p];
  }
  for (i = rank, k = 1; i-- > 0;) {
    istride[i] = (int64_t)k;
    k *= (size_t)dims[i];
  }
  *idx = twinn_mallocarray(numel, sizeof **idx);
  if (!*idx) return nomem(x);
  for (k = 0; k < numel; k++) {
    size_t rem = k, src = 0;
    for (i = rank; i-- > 0;) {
      size_t c = rem % (size_t)odims[i];
      rem /= (size_t)odims[i];
      src += c * (size_t)istride[perm[i]];
    }
    (*idx)[k] = src;
  }
  return TWINN_OK;
}

/* Broadcasts constant c against shape (rank, dims) of the chain; the result must keep the
 * chain's element count (the chain may only gain leading 1s). out[i] = c at chain index i. */
static twinn_status broadcast(lower_ctx *x, const twinn_onnx_const *c, double **out) {
  size_t r = c->rank > x->rank ? c->rank : x->rank, i, k;
  int64_t od[TWINN_ONNX_MAX_RANK], cd[TWINN_ONNX_MAX_RANK], vd[TWINN_ONNX_MAX_RANK];
  for (i = 0; i < r; i++) {
    cd[i] = i + c->rank >= r ? c->dims[i + c->rank - r] : 1;
    vd[i] = i + x->rank >= r ? x->dims[i + x->rank - r] : 1;
    if (cd[i] != vd[i] && cd[i] != 1 && vd[i] != 1)
      return node_err(x, TWINN_ERR_SEMANTIC, "shapes do not broadcast");
    od[i] = vd[i] == 1 ? cd[i] : vd[i];
  }
  if (shape_numel(r, od) != x->m)
    return node_err(x, TWINN_ERR_UNSUPPORTED,
                    "broadcasting a constant enlarges the variable tensor");
  *out = twinn_mallocarray(x->m, sizeof **out);
  if (!*out) return nomem(x);
  for (k = 0; k < x->m; k++) {
    size_t rem = k, src = 0, stride = 1;
    for (i = r; i-- > 0;) {
      size_t coord = rem % (size_t)od[i];
      rem /= (size_t)od[i];
      if (cd[i] != 1) src += coord * stride;
      stride *= (size_t)cd[i];
    }
    (*out)[k] = c->v[src];
  }
  x->rank = r;
  memcpy(x->dims, od, r * sizeof *od);
  return TWINN_OK;
}

/* ---- the pending affine map ---- */

static size_t width0(const lower_ctx *x) { return twinn_net_width(x->net); }

/* Replaces pw = NULL (identity) by an explicit identity matrix. */
static twinn_status materialize(lower_ctx *x) {
  size_t i, n0 = width0(x);
  if (x->pw) return TWINN_OK;
  if (x->m > TWINN_ONNX_MAX_ELEMS / (n0 ? n0 : 1))
    return node_err(x, TWINN_ERR_NOMEM, "dense map of %zu x %zu exceeds 2^28 entries", x->m, n0);
  x->pw = twinn_calloc(x->m * n0, sizeof *x->pw);
  if (!x->pw) return nomem(x);
  for (i = 0; i < x->m; i++) x->pw[i * n0 + i] = 1.0;
  return TWINN_OK;
}

/* var <- s .* var + t elementwise (s or t may be NULL: 1 or 0). */
static twinn_status apply_diag(lower_ctx *x, const double *s, const double *t) {
  size_t i, j, n0 = width0(x);
  twinn_status st;
  if (s) {
    st = materialize(x);
    if (st != TWINN_OK) return st;
    for (i = 0; i < x->m; i++) {
      for (j = 0; j < n0; j++) x->pw[i * n0 + j] *= s[i];
      x->pb[i] *= s[i];
    }
  }
  if (t)
    for (i = 0; i < x->m; i++) x->pb[i] += t[i];
  return TWINN_OK;
}

/* var <- L var + bias with L (m2 x m) dense; takes ownership of L and bias (either NULL for
 * bias = 0). The caller sets the new shape (whose element count is m2). */
static twinn_status apply_dense(lower_ctx *x, double *L, double *bias, size_t m2) {
  size_t i, j, k, n0 = width0(x);
  double *nw = NULL, *nb = NULL;
  twinn_status st = TWINN_OK;
  if (m2 > TWINN_ONNX_MAX_ELEMS / (n0 ? n0 : 1)) {
    st = node_err(x, TWINN_ERR_NOMEM, "dense map of %zu x %zu exceeds 2^28 entries", m2, n0);
    goto done;
  }
  nb = twinn_calloc(m2, sizeof *nb);
  if (!nb) goto nomem;
  for (i = 0; i < m2; i++) {
    double s = bias ? bias[i] : 0.0;
    for (k = 0; k < x->m; k++) s += L[i * x->m + k] * x->pb[k];
    nb[i] = s;
  }
  if (!x->pw) {
    nw = L; /* identity composed with L */
    L = NULL;
  } else {
    nw = twinn_calloc(m2 * n0, sizeof *nw);
    if (!nw) goto nomem;
    for (i = 0; i < m2; i++)
      for (k = 0; k < x->m; k++) {
        double l = L[i * x->m + k];
        if (l == 0.0) continue; /* Conv maps are mostly zeros */
        for (j = 0; j < n0; j++) nw[i * n0 + j] += l * x->pw[k * n0 + j];
      }
  }
  twinn_free(x->pw);
  twinn_free(x->pb);
  x->pw = nw;
  x->pb = nb;
  nw = nb = NULL;
  x->m = m2;
  goto done;
nomem:
  st = nomem(x);
done:
  twinn_free(nw);
  twinn_free(nb);
  twinn_free(L);
  twinn_free(bias);
  return st;
}

/* var <- var[idx] (a permutation of the flat layout). */
static twinn_status apply_perm(lower_ctx *x, const size_t *idx) {
  size_t i, n0 = width0(x);
  double *nw = NULL, *nb = NULL;
  twinn_status st = materialize(x);
  if (st != TWINN_OK) return st;
  nw = twinn_mallocarray(x->m * n0, sizeof *nw);
  nb = twinn_mallocarray(x->m, sizeof *nb);
  if (!nw || !nb) {
    st = nomem(x);
    goto done;
  }
  for (i = 0; i < x->m; i++) {
    memcpy(nw + i * n0, x->pw + idx[i] * n0, n0 * sizeof *nw);
    nb[i] = x->pb[idx[i]];
  }
  twinn_free(x->pw);
  twinn_free(x->pb);
  x->pw = nw;
  x->pb = nb;
  nw = nb = NULL;
done:
  twinn_free(nw);
  twinn_free(nb);
  return st;
}

/* Emits the pending map as an AFFINE layer and restarts from the identity. */
static twinn_status flush(lower_ctx *x) {
  size_t i, n = x->m * width0(x);
  twinn_status st = materialize(x);
  if (st != TWINN_OK) return st;
  for (i = 0; i < n; i++)
    if (!isfinite(x->pw[i])) return node_err(x, TWINN_ERR_SEMANTIC, "weight is NaN/Inf");
  for (i = 0; i < x->m; i++)
    if (!isfinite(x->pb[i])) return node_err(x, TWINN_ERR_SEMANTIC, "bias is NaN/Inf");
  st = twinn_net_push_affine(x->net, x->m, x->pw, x->pb, x->err);
  x->pw = NULL;
  x->pb = twinn_calloc(x->m, sizeof *x->pb);
  if (st != TWINN_OK) return st;
  if (!x->pb) return nomem(x);
  x->pending = 0;
  return TWINN_OK;
}

/* ---- operators on the chain ---- */

/* Add/Sub/Mul/Div with one constant operand (var_pos: 0 or 1). */
static twinn_status lower_arith(lower_ctx *x, const twinn_onnx_const *c, int var_pos) {
  const char *op = x->node->op_type;
  double *v = NULL;
  size_t i;
  twinn_status st = broadcast(x, c, &v);
  if (st != TWINN_OK) return st;
  if (strcmp(op, "Add") == 0) {
    st = apply_diag(x, NULL, v);
  } else if (strcmp(op, "Sub") == 0) {
    if (var_pos == 0) {
      for (i = 0; i < x->m; i++) v[i] = -v[i];
      st = apply_diag(x, NULL, v);
    } else {
      double *minus = twinn_mallocarray(x->m, sizeof *minus);
      if (!minus) {
        st = nomem(x);
        goto done;
      }
      for (i = 0; i < x->m; i++) minus[i] = -1.0;
      st = apply_diag(x, minus, v);
      twinn_free(minus);
    }
  } else if (strcmp(op, "Mul") == 0) {
    st = apply_diag(x, v, NULL);
  } else { /* Div */
    if (var_pos == 1) {
      st = node_err(x, TWINN_ERR_UNSUPPORTED, "division by a variable is not linear");
      goto done;
    }
    for (i = 0; i < x->m; i++) {
      if (v[i] == 0.0) {
        st = node_err(x, TWINN_ERR_SEMANTIC, "division by zero");
        goto done;
      }
      v[i] = 1.0 / v[i];
    }
    st = apply_diag(x, v, NULL);
  }
done:
  twinn_free(v);
  return st;
}

/* MatMul with a constant 2-D operand on either side. */
static twinn_status lower_matmul(lower_ctx *x, const twinn_onnx_const *c, int var_pos) {
  size_t P, p, i, j, k, K, N, m2;
  double *L;
  if (c->rank != 2)
    return node_err(x, TWINN_ERR_UNSUPPORTED, "constant operand must be 2-D (has rank %zu)",
                    c->rank);
  if (var_pos == 0) { /* var [..., K] @ C [K, N] */
    K = (size_t)c->dims[0];
    N = (size_t)c->dims[1];
    if (x->rank < 1 || (size_t)x->dims[x->rank - 1] != K)
      return node_err(x, TWINN_ERR_SEMANTIC, "inner dimensions do not match");
    P = K ? x->m / K : 0;
    m2 = P * N;
    if (m2 > TWINN_ONNX_MAX_ELEMS / (x->m ? x->m : 1))
      return node_err(x, TWINN_ERR_NOMEM, "dense map exceeds 2^28 entries");
    L = twinn_calloc(m2 * x->m, sizeof *L);
    if (!L) return nomem(x);
    for (p = 0; p < P; p++)
      for (j = 0; j < N; j++)
        for (k = 0; k < K; k++) L[(p * N + j) * x->m + p * K + k] = c->v[k * N + j];
    if (x->rank == 1)
      x->dims[0] = (int64_t)N;
    else
      x->dims[x->rank - 1] = (int64_t)N;
  } else { /* C [M, K] @ var [..., K, N] or [K] */
    size_t M = (size_t)c->dims[0];
    K = (size_t)c->dims[1];
    N = x->rank == 1 ? 1 : (size_t)x->dims[x->rank - 1];
    if ((x->rank == 1 ? (size_t)x->dims[0] : (size_t)x->dims[x->rank - 2]) != K)
      return node_err(x, TWINN_ERR_SEMANTIC, "inner dimensions do not match");
    P = K * N != 0 ? x->m / (K * N) : 0;
    m2 = P * M * N;
    if (m2 > TWINN_ONNX_MAX_ELEMS / (x->m ? x->m : 1))
      return node_err(x, TWINN_ERR_NOMEM, "dense map exceeds 2^28 entries");
    L = twinn_calloc(m2 * x->m, sizeof *L);
    if (!L) return nomem(x);
    for (p = 0; p < P; p++)
      for (i = 0; i < M; i++)
        for (j = 0; j < N; j++)
          for (k = 0; k < K; k++)
            L[(p * M * N + i * N + j) * x->m + p * K * N + k * N + j] = c->v[i * K + k];
    if (x->rank == 1)
      x->dims[0] = (int64_t)M;
    else
      x->dims[x->rank - 2] = (int64_t)M;
  }
  return apply_dense(x, L, NULL, m2);
}

/* Gemm: Y = alpha * A' B' + beta * C, A the chain (2-D), B and C constants. */
static twinn_status lower_gemm(lower_ctx *x, const twinn_onnx_const *B, const twinn_onnx_const *C) {
  const Onnx__NodeProto *n = x->node;
  int64_t ta = attr_int(n, "transA", 0), tb = attr_int(n, "transB", 0);
  double alpha = attr_float(n, "alpha", 1.0), beta = attr_float(n, "beta", 1.0);
  size_t M, K, N, r, j, k;
  double *L = NULL, *bias = NULL;
  if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1))
    return node_err(x, TWINN_ERR_UNSUPPORTED, "attribute transA=%lld/transB=%lld not supported",
                    (long long)ta, (long long)tb);
  if (x->rank != 2) return node_err(x, TWINN_ERR_SEMANTIC, "input A must be 2-D");
  if (B->rank != 2) return node_err(x, TWINN_ERR_SEMANTIC, "input B must be 2-D");
  M = (size_t)x->dims[ta ? 1 : 0];
  K = (size_t)x->dims[ta ? 0 : 1];
  if ((size_t)B->dims[tb ? 1 : 0] != K)
    return node_err(x, TWINN_ERR_SEMANTIC, "B has shape [%lld,%lld], A has %zu columns",
                    (long long)B->dims[0], (long long)B->dims[1], K);
  N = (size_t)B->dims[tb ? 0 : 1];
  if (M * N > TWINN_ONNX_MAX_ELEMS / (x->m ? x->m : 1))
    return node_err(x, TWINN_ERR_NOMEM, "dense map exceeds 2^28 entries");
  L = twinn_calloc(M * N * x->m, sizeof *L);
  bias = twinn_calloc(M * N, sizeof *bias);
  if (!L || !bias) goto nomem;
  for (r = 0; r < M; r++)
    for (j = 0; j < N; j++)
      for (k = 0; k < K; k++) {
        double b = tb ? B->v[j * K + k] : B->v[k * N + j];
        size_t a = ta ? k * M + r : r * K + k;
        L[(r * N + j) * x->m + a] = alpha * b;
      }
  if (C) {
    /* C broadcasts unidirectionally to [M, N]. */
    int64_t c0 = C->rank >= 2 ? C->dims[C->rank - 2] : 1,
            c1 = C->rank >= 1 ? C->dims[C->rank - 1] : 1;
    if (C->rank > 2 || (c0 != 1 && (size_t)c0 != M) || (c1 != 1 && (size_t)c1 != N)) {
      twinn_free(L);
      twinn_free(bias);
      return node_err(x, TWINN_ERR_SEMANTIC, "C does not broadcast to [%zu,%zu]", M, N);
    }
    for (r = 0; r < M; r++)
      for (j = 0; j < N; j++)
        bias[r * N + j] = beta * C->v[(c0 == 1 ? 0 : r) * (size_t)c1 + (c1 == 1 ? 0 : j)];
  }
  x->dims[0] = (int64_t)M;
  x->dims[1] = (int64_t)N;
  return apply_dense(x, L, bias, M * N);
nomem:
  twinn_free(L);
  twinn_free(bias);
  return nomem(x);
}

/* Conv (1-D or 2-D, batch 1) as a dense map. */
static twinn_status lower_conv(lower_ctx *x, const twinn_onnx_const *W, const twinn_onnx_const *B) {
  const Onnx__NodeProto *n = x->node;
  const Onnx__AttributeProto *a;
  int64_t k[2] = {1, 1}, in[2] = {1, 1}, out[2] = {1, 1}, st[2] = {1, 1}, dl[2] = {1, 1};
  int64_t pb[2] = {0, 0}, pe[2] = {0, 0}, grp = attr_int(n, "group", 1);
  size_t sr, d, C, M, cpg, mpg, o, ci, oy, ox, ky, kx, m2;
  double *L = NULL, *bias = NULL;
  const char *pad_mode = "NOTSET";
  if (x->rank != 3 && x->rank != 4)
    return node_err(x, TWINN_ERR_UNSUPPORTED, "only 1-D and 2-D convolutions are supported");
  if (x->dims[0] != 1) return node_err(x, TWINN_ERR_UNSUPPORTED, "batch size must be 1");
  sr = x->rank - 2;
  if (W->rank != x->rank) return node_err(x, TWINN_ERR_SEMANTIC, "weight rank mismatch");
  C = (size_t)x->dims[1];
  M = (size_t)W->dims[0];
  if (grp < 1 || C % (size_t)grp || M % (size_t)grp || (size_t)W->dims[1] * (size_t)grp != C)
    return node_err(x, TWINN_ERR_SEMANTIC, "attribute group=%lld does not match the channels",
                    (long long)grp);
  cpg = C / (size_t)grp;
  mpg = M / (size_t)grp;
  if (B && B->n != M)
    return node_err(x, TWINN_ERR_SEMANTIC, "bias has %zu entries, need %zu", B->n, M);
  a = attr(n, "auto_pad");
  if (a && a->has_s && a->s.len) {
    if (a->s.len == 5 && memcmp(a->s.data, "VALID", 5) == 0)
      pad_mode = "VALID";
    else if (a->s.len == 6 && memcmp(a->s.data, "NOTSET", 6) == 0)
      pad_mode = "NOTSET";
    else if (a->s.len == 10 && memcmp(a->s.data, "SAME_UPPER", 10) == 0)
      pad_mode = "SAME_UPPER";
    else if (a->s.len == 10 && memcmp(a->s.data, "SAME_LOWER", 10) == 0)
      pad_mode = "SAME_LOWER";
    else
      return node_err(x, TWINN_ERR_SEMANTIC, "unknown auto_pad");
  }
  for (d = 0; d < sr; d++) {
    /* A 1-D convolution is the 2-D case with height 1 (index 0 unused). */
    size_t t = d + 2 - sr;
    in[t] = x->dims[2 + d];
    k[t] = W->dims[2 + d];
    if ((a = attr(n, "strides")) && a->n_ints == sr) st[t] = a->ints[d];
    if ((a = attr(n, "dilations")) && a->n_ints == sr) dl[t] = a->ints[d];
    if ((a = attr(n, "pads")) && a->n_ints == 2 * sr && strcmp(pad_mode, "NOTSET") == 0) {
      pb[t] = a->ints[d];
      pe[t] = a->ints[sr + d];
    }
    if (st[t] < 1 || dl[t] < 1 || pb[t] < 0 || pe[t] < 0 || k[t] < 1)
      return node_err(x, TWINN_ERR_SEMANTIC, "invalid strides, dilations, pads or kernel");
    if (pad_mode[0] == 'S') {
      int64_t o2 = (in[t] + st[t] - 1) / st[t],
              total = (o2 - 1) * st[t] + (k[t] - 1) * dl[t] + 1 - in[t];
      if (total < 0) total = 0;
      pb[t] = strcmp(pad_mode, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
      pe[t] = total - pb[t];
    }
    out[t] = (in[t] + pb[t] + pe[t] - ((k[t] - 1) * dl[t] + 1)) / st[t] + 1;
    if (in[t] + pb[t] + pe[t] < (k[t] - 1) * dl[t] + 1 || out[t] < 1)
      return node_err(x, TWINN_ERR_SEMANTIC, "kernel larger than the padded input");
  }
  m2 = M * (size_t)out[0] * (size_t)out[1];
  if (m2 > TWINN_ONNX_MAX_ELEMS / (x->m ? x->m : 1))
    return node_err(x, TWINN_ERR_NOMEM, "dense map of %zu x %zu exceeds 2^28 entries", m2, x->m);
  L = twinn_calloc(m2 * x->m, sizeof *L);
  bias = twinn_calloc(m2, sizeof *bias);
  if (!L || !bias) goto nomem;
  for (o = 0; o < M; o++)
    for (oy = 0; oy < (size_t)out[0]; oy++)
      for (ox = 0; ox < (size_t)out[1]; ox++) {
        size_t r = (o * (size_t)out[0] + oy) * (size_t)out[1] + ox;
        bias[r] = B ? B->v[o] : 0.0;
        for (ci = 0; ci < cpg; ci++)
          for (ky = 0; ky < (size_t)k[0]; ky++)
            for (kx = 0; kx < (size_t)k[1]; kx++) {
              int64_t iy = (int64_t)oy * st[0] - pb[0] + (int64_t)ky * dl[0];
              int64_t ix = (int64_t)ox * st[1] - pb[1] + (int64_t)kx * dl[1];
              size_t c = (o / mpg) * cpg + ci;
              if (iy < 0 || iy >= in[0] || ix < 0 || ix >= in[1]) continue;
              L[r * x->m + (c * (size_t)in[0] + (size_t)iy) * (size_t)in[1] + (size_t)ix] +=
                  W->v[((o * cpg + ci) * (size_t)k[0] + ky) * (size_t)k[1] + kx];
            }
      }
  x->dims[1] = (int64_t)M;
  for (d = 0; d < sr; d++) x->dims[2 + d] = out[d + 2 - sr];
  return apply_dense(x, L, bias, m2);
nomem:
  twinn_free(L);
  twinn_free(bias);
  return nomem(x);
}

/* BatchNormalization (inference): y = scale (x - mean) / sqrt(var + eps) + B per channel. */
static twinn_status lower_batchnorm(lower_ctx *x, const twinn_onnx_const *const *p) {
  double eps = attr_float(x->node, "epsilon", 1e-5), *s = NULL, *t = NULL;
  size_t C, spatial, i;
  twinn_status st;
  if (attr_int(x->node, "training_mode", 0) != 0)
    return node_err(x, TWINN_ERR_UNSUPPORTED, "training_mode=1 not supported");
  if (x->rank < 2) return node_err(x, TWINN_ERR_SEMANTIC, "input must have a channel axis");
  C = (size_t)x->dims[1];
  for (i = 0; i < 4; i++)
    if (p[i]->n != C)
      return node_err(x, TWINN_ERR_SEMANTIC, "parameter %zu has %zu entries, need %zu", i + 1,
                      p[i]->n, C);
  spatial = C ? x->m / ((size_t)x->dims[0] * C) : 0;
  s = twinn_mallocarray(x->m, sizeof *s);
  t = twinn_mallocarray(x->m, sizeof *t);
  if (!s || !t) {
    st = nomem(x);
    goto done;
  }
  for (i = 0; i < x->m; i++) {
    size_t c = (i / (spatial ? spatial : 1)) % C;
    double den = sqrt(p[3]->v[c] + eps);
    if (!(den > 0.0)) {
      st = node_err(x, TWINN_ERR_SEMANTIC, "variance + epsilon is not positive");
      goto done;
    }
    s[i] = p[0]->v[c] / den;
    t[i] = p[1]->v[c] - p[2]->v[c] * s[i];
  }
  st = apply_diag(x, s, t);
done:
  twinn_free(s);
  twinn_free(t);
  return st;
}

static int is_op(const Onnx__NodeProto *n, const char *op) { return strcmp(n->op_type, op) == 0; }

static int is_reshape_like(const Onnx__NodeProto *n) {
  return is_op(n, "Identity") || is_op(n, "Dropout") || is_op(n, "Flatten") ||
         is_op(n, "Reshape") || is_op(n, "Squeeze") || is_op(n, "Unsqueeze");
}

/* The current node consumes the chain (input var_pos); consts[i] is input i when constant. */
static twinn_status lower_chain_node(lower_ctx *x, int var_pos, const twinn_onnx_const **cin) {
  const Onnx__NodeProto *n = x->node;
  const twinn_onnx_const *other = cin[var_pos == 0 ? 1 : 0];
  twinn_status st;
  twinn_layer_kind act;
  if (is_op(n, "Relu") || is_op(n, "Sigmoid") || is_op(n, "Tanh")) {
    act = is_op(n, "Relu")      ? TWINN_LAYER_RELU
          : is_op(n, "Sigmoid") ? TWINN_LAYER_SIGMOID
                                : TWINN_LAYER_TANH;
    st = flush(x);
    if (st != TWINN_OK) return st;
    /* The pre-activation tensor, unless it is itself an activation output (identity flush). */
    if (x->net->n_taps == 0 || strcmp(x->net->taps[x->net->n_taps - 1].tensor_name, x->var) != 0) {
      st = twinn_net_add_tap(x->net, x->prod_node, x->var, x->err);
      if (st != TWINN_OK) return st;
    }
    st = twinn_net_push_act(x->net, act, x->err);
    if (st != TWINN_OK) return st;
    return twinn_net_add_tap(x->net, str_or_empty(n->name), n->output[0], x->err);
  }
  x->pending = 1;
  if (var_pos != 0 && !is_op(n, "Add") && !is_op(n, "Sub") && !is_op(n, "Mul") &&
      !is_op(n, "MatMul") && !is_op(n, "Div"))
    return node_err(x, TWINN_ERR_UNSUPPORTED, "the variable tensor must be the first input");
  if (is_reshape_like(n)) {
    int64_t od[TWINN_ONNX_MAX_RANK];
    size_t orank;
    st = reshape_like(x, x->rank, x->dims, &orank, od);
    if (st != TWINN_OK) return st;
    x->rank = orank;
    memcpy(x->dims, od, orank * sizeof *od);
    return TWINN_OK;
  }
  if (is_op(n, "Transpose")) {
    size_t *idx = NULL, i;
    int64_t od[TWINN_ONNX_MAX_RANK];
    int noop = 1;
    st = transpose_index(x, x->rank, x->dims, &idx, od);
    if (st != TWINN_OK) return st;
    /* Moving axes of size 1 leaves the flat layout alone: no permutation needed. */
    for (i = 0; i < x->m; i++)
      if (idx[i] != i) noop = 0;
    if (!noop) st = apply_perm(x, idx);
    twinn_free(idx);
    if (st != TWINN_OK) return st;
    memcpy(x->dims, od, x->rank * sizeof *od);
    return TWINN_OK;
  }
  if (is_op(n, "Add") || is_op(n, "Sub") || is_op(n, "Mul") || is_op(n, "Div")) {
    if (n->n_input != 2 || !other)
      return node_err(x, TWINN_ERR_UNSUPPORTED, "the other operand must be a constant");
    return lower_arith(x, other, var_pos);
  }
  if (is_op(n, "MatMul")) {
    if (n->n_input != 2 || !other)
      return node_err(x, TWINN_ERR_UNSUPPORTED, "the other operand must be a constant");
    return lower_matmul(x, other, var_pos);
  }
  if (is_op(n, "Gemm")) {
    if (n->n_input < 2 || !cin[1])
      return node_err(x, TWINN_ERR_UNSUPPORTED, "input B must be a constant");
    if (n->n_input >= 3 && n->input[2][0] && !cin[2])
      return node_err(x, TWINN_ERR_UNSUPPORTED, "input C must be a constant");
    return lower_gemm(x, cin[1], n->n_input >= 3 ? cin[2] : NULL);
  }
  if (is_op(n, "Conv")) {
    if (n->n_input < 2 || !cin[1])
      return node_err(x, TWINN_ERR_UNSUPPORTED, "weights must be a constant");
    if (n->n_input >= 3 && n->input[2][0] && !cin[2])
      return node_err(x, TWINN_ERR_UNSUPPORTED, "bias must be a constant");
    return lower_conv(x, cin[1], n->n_input >= 3 ? cin[2] : NULL);
  }
  if (is_op(n, "BatchNormalization")) {
    if (n->n_input != 5 || !cin[1] || !cin[2] || !cin[3] || !cin[4])
      return node_err(x, TWINN_ERR_UNSUPPORTED, "scale, bias, mean and variance must be constants");
    return lower_batchnorm(x, cin + 1);
  }
  return node_err(x, TWINN_ERR_UNSUPPORTED, "operator not supported");
}

/* ---- constant folding ---- */

/* Constant node: the value attribute in any of its forms. */
static twinn_status fold_constant(lower_ctx *x, twinn_onnx_const *out) {
  const Onnx__NodeProto *n = x->node;
  const Onnx__AttributeProto *a;
  size_t i;
  memset(out, 0, sizeof *out);
  if ((a = attr(n, "value")) && a->t)
    return twinn_onnx_const_decode(x->g, a->t, n->output[0], out, x->err);
  if ((a = attr(n, "value_float")) || (a = attr(n, "value_int"))) {
    out->n = 1;
    out->v = twinn_malloc(sizeof *out->v);
    if (!out->v) return nomem(x);
    out->v[0] = a->has_f ? (double)a->f : (double)a->i;
    return isfinite(out->v[0]) ? TWINN_OK : node_err(x, TWINN_ERR_SEMANTIC, "weight is NaN/Inf");
  }
  if ((a = attr(n, "value_floats")) || (a = attr(n, "value_ints"))) {
    size_t cnt = a->n_floats ? a->n_floats : a->n_ints;
    out->rank = 1;
    out->dims[0] = (int64_t)cnt;
    out->n = cnt;
    out->v = twinn_mallocarray(cnt, sizeof *out->v);
    if (!out->v) return nomem(x);
    for (i = 0; i < cnt; i++) {
      out->v[i] = a->n_floats ? (double)a->floats[i] : (double)a->ints[i];
      if (!isfinite(out->v[i])) return node_err(x, TWINN_ERR_SEMANTIC, "weight is NaN/Inf");
    }
    return TWINN_OK;
  }
  return node_err(x, TWINN_ERR_UNSUPPORTED, "constant value form not supported");
}

/* Per-tensor or per-axis parameter index for element i of tensor x (Quantize/Dequantize). */
static twinn_status qparam_axis(lower_ctx *x, const twinn_onnx_const *v, const twinn_onnx_const *s,
                                size_t *stride, size_t *count) {
  int64_t axis = attr_int(x->node, "axis", 1);
  size_t i;
  if (attr_int(x->node, "block_size", 0) != 0)
    return node_err(x, TWINN_ERR_UNSUPPORTED, "blocked quantization not supported");
  *stride = 1;
  *count = 1;
  if (s->n == 1) return TWINN_OK;
  if (axis < 0) axis += (int64_t)v->rank;
  if (s->rank != 1 || axis < 0 || axis >= (int64_t)v->rank || (int64_t)s->n != v->dims[axis])
    return node_err(x, TWINN_ERR_SEMANTIC, "scale does not match axis %lld",
                    (long long)attr_int(x->node, "axis", 1));
  for (i = (size_t)axis + 1; i < v->rank; i++) *stride *= (size_t)v->dims[i];
  *count = s->n;
  return TWINN_OK;
}

/* Folds a node whose inputs are all constants into a new constant (out). */
static twinn_status fold_node(lower_ctx *x, const twinn_onnx_const **cin, twinn_onnx_const *out) {
  const Onnx__NodeProto *n = x->node;
  const twinn_onnx_const *v = cin[0];
  size_t i, stride, count;
  twinn_status st;
  memset(out, 0, sizeof *out);
  if (is_op(n, "Constant")) return fold_constant(x, out);
  if (!v) return node_err(x, TWINN_ERR_UNSUPPORTED, "operator not supported without inputs");
  if (is_op(n, "DequantizeLinear") || is_op(n, "QuantizeLinear")) {
    const twinn_onnx_const *s = n->n_input >= 2 ? cin[1] : NULL;
    const twinn_onnx_const *z = n->n_input >= 3 ? cin[2] : NULL;
    int deq = is_op(n, "DequantizeLinear");
    double lo = 0.0, hi = 255.0;
    if (!s) return node_err(x, TWINN_ERR_UNSUPPORTED, "scale must be a constant");
    st = qparam_axis(x, v, s, &stride, &count);
    if (st != TWINN_OK) return st;
    if (z && z->n != s->n)
      return node_err(x, TWINN_ERR_SEMANTIC, "zero point does not match scale");
    if (z && z->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT8) {
      lo = -128.0;
      hi = 127.0;
    } else if (z && z->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__UINT8) {
      return node_err(x, TWINN_ERR_UNSUPPORTED, "zero point element type %d not supported",
                      z->elem_type);
    }
    *out = *v;
    out->elem_type = deq ? ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT : (z ? z->elem_type : 2);
    out->v = twinn_mallocarray(v->n, sizeof *out->v);
    if (!out->v) return nomem(x);
    for (i = 0; i < v->n; i++) {
      size_t q = (i / stride) % count;
      double zp = z ? z->v[q] : 0.0;
      if (deq) {
        /* (x - zp) is an exact small integer and its float32 product with the scale is what
         * onnxruntime computes: round to float so the twin's weights are the model's. */
        out->v[i] = (double)((float)(v->v[i] - zp) * (float)s->v[q]);
      } else {
        double r;
        if (s->v[q] == 0.0) return node_err(x, TWINN_ERR_SEMANTIC, "scale is zero");
        r = (double)nearbyintf((float)v->v[i] / (float)s->v[q]) + zp;
        out->v[i] = r < lo ? lo : r > hi ? hi : r;
      }
    }
    return TWINN_OK;
  }
  if (is_reshape_like(n)) {
    st = reshape_like(x, v->rank, v->dims, &out->rank, out->dims);
    if (st != TWINN_OK) return st;
    out->n = v->n;
    out->elem_type = v->elem_type;
    out->v = twinn_mallocarray(v->n, sizeof *out->v);
    if (!out->v) return nomem(x);
    memcpy(out->v, v->v, v->n * sizeof *out->v);
    return TWINN_OK;
  }
  if (is_op(n, "Transpose")) {
    size_t *idx = NULL;
    st = transpose_index(x, v->rank, v->dims, &idx, out->dims);
    if (st != TWINN_OK) return st;
    out->rank = v->rank;
    out->n = v->n;
    out->elem_type = v->elem_type;
    out->v = twinn_mallocarray(v->n, sizeof *out->v);
    if (!out->v) {
      twinn_free(idx);
      return nomem(x);
    }
    for (i = 0; i < v->n; i++) out->v[i] = v->v[idx[i]];
    twinn_free(idx);
    return TWINN_OK;
  }
  return node_err(x, TWINN_ERR_UNSUPPORTED, "operator not supported on constant inputs");
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
      return node_err(x, TWINN_ERR_UNSUPPORTED, "operator not supported (domain '%s')",
                      str_or_empty(n->domain));
    if (n->n_output < 1 || !n->output[0][0])
      return node_err(x, TWINN_ERR_SEMANTIC, "node has no output");
    if (n->n_input > 8) return node_err(x, TWINN_ERR_UNSUPPORTED, "too many inputs");
    for (j = 0; j < n->n_input; j++) {
      const char *in = n->input[j];
      if (!in[0]) continue; /* an omitted optional input */
      if (x->var && strcmp(in, x->var) == 0) {
        if (var_pos >= 0)
          return node_err(x, TWINN_ERR_UNSUPPORTED,
                          "tensor '%s' used twice (branching graphs are not supported)", in);
        var_pos = (int)j;
        continue;
      }
      cin[j] = find_const(x, in);
      if (!cin[j])
        return node_err(x, TWINN_ERR_UNSUPPORTED,
                        "input '%s' is neither a constant nor the current tensor (branching or "
                        "unordered graphs are not supported)",
                        in);
    }
    if (var_pos < 0) {
      twinn_onnx_const c;
      st = fold_node(x, cin, &c);
      if (st != TWINN_OK) {
        twinn_onnx_const_release(&c);
        return st;
      }
      st = add_const(x, n->output[0], &c);
    } else {
      st = lower_chain_node(x, var_pos, cin);
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
    st = add_const(&x, name, &c);
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
    st = flush(&x);
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
