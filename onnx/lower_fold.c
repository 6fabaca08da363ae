/* lower_fold.c: the constants of an ONNX graph while it is lowered: the table of named
 * constants (initializers and folded nodes), folding a node whose inputs are all constant
 * (Constant, Quantize/DequantizeLinear, reshaping, Transpose), and the shape rules that constants
 * and the variable chain share. Values stay exactly the model's (float32 rounding where
 * onnxruntime rounds); it never touches the chain or the network. */
#include "lower_int.h"

#include <math.h>
#include <string.h>

/* ---- constants ---- */

const twinn_onnx_const *twinn_lower_find_const(const lower_ctx *x, const char *name) {
  size_t i;
  if (!name || !name[0]) return NULL;
  /* Newest first: a later definition of a name wins (ONNX forbids reuse anyway). */
  for (i = x->n_consts; i-- > 0;)
    if (strcmp(x->consts[i].name, name) == 0) return &x->consts[i].c;
  return NULL;
}

/* Adds c under name; takes ownership of c->v on success and failure. */
twinn_status twinn_lower_add_const(lower_ctx *x, const char *name, twinn_onnx_const *c) {
  if (x->n_consts == x->cap_consts) {
    size_t cap = x->cap_consts ? 2 * x->cap_consts : 32;
    named_const *grown = twinn_realloc(x->consts, cap, sizeof *grown);
    if (!grown) {
      twinn_onnx_const_release(c);
      return twinn_lower_nomem(x);
    }
    x->consts = grown;
    x->cap_consts = cap;
  }
  x->consts[x->n_consts].name = name;
  x->consts[x->n_consts].c = *c;
  x->n_consts++;
  return TWINN_OK;
}

/* ---- shapes shared by constants and the chain ---- */

/* Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout: the flat layout is unchanged, only
 * the shape. Computes the output shape of the current node from the input shape. */
twinn_status twinn_lower_reshape_like(lower_ctx *x, size_t rank, const int64_t *dims, size_t *orank,
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
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "attribute axis=%lld out of range",
                             (long long)attr_int(n, "axis", 1));
    for (i = 0; i < (size_t)axis; i++) a *= dims[i];
    *orank = 2;
    odims[0] = a;
    odims[1] = a ? (int64_t)numel / a : 0;
    return TWINN_OK;
  }
  if (strcmp(op, "Reshape") == 0) {
    const twinn_onnx_const *s = n->n_input >= 2 ? twinn_lower_find_const(x, n->input[1]) : NULL;
    int64_t known = 1;
    size_t infer = SIZE_MAX;
    if (!s) return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "shape input must be a constant");
    if (s->n > TWINN_ONNX_MAX_RANK)
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "target rank %zu exceeds %d", s->n,
                             TWINN_ONNX_MAX_RANK);
    for (i = 0; i < s->n; i++) {
      double d = s->v[i];
      if (d == 0.0 && attr_int(n, "allowzero", 0) == 0) {
        if (i >= rank)
          return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "shape entry 0 beyond input rank");
        odims[i] = dims[i];
      } else if (d == -1.0) {
        if (infer != SIZE_MAX)
          return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "more than one -1 in shape");
        infer = i;
        odims[i] = 1;
      } else if (d >= 0.0 && d <= (double)TWINN_ONNX_MAX_ELEMS) {
        odims[i] = (int64_t)d;
      } else {
        return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "invalid shape entry %g", d);
      }
      if (odims[i] && known > (int64_t)TWINN_ONNX_MAX_ELEMS / odims[i])
        return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "shape too large");
      known *= odims[i];
    }
    if (infer != SIZE_MAX) {
      if (known == 0 || (int64_t)numel % known != 0)
        return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "cannot infer -1 in shape");
      odims[infer] = (int64_t)numel / known;
      known *= odims[infer];
    }
    if ((size_t)known != numel)
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "shape has %lld elements, input has %zu",
                             (long long)known, numel);
    *orank = s->n;
    return TWINN_OK;
  }
  if (strcmp(op, "Squeeze") == 0 || strcmp(op, "Unsqueeze") == 0) {
    int unsq = op[0] == 'U';
    const Onnx__AttributeProto *a = attr(n, "axes");
    const twinn_onnx_const *ac = n->n_input >= 2 ? twinn_lower_find_const(x, n->input[1]) : NULL;
    int64_t axes[TWINN_ONNX_MAX_RANK];
    size_t n_axes = 0, out_rank;
    int mark[TWINN_ONNX_MAX_RANK] = {0};
    if (n->n_input >= 2 && n->input[1][0] && !ac)
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "axes input must be a constant");
    n_axes = a ? a->n_ints : ac ? ac->n : 0;
    if (n_axes > TWINN_ONNX_MAX_RANK)
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "too many axes");
    for (i = 0; i < n_axes; i++) axes[i] = a ? a->ints[i] : (int64_t)ac->v[i];
    out_rank = unsq ? rank + n_axes : rank;
    if (out_rank > TWINN_ONNX_MAX_RANK)
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "rank exceeds %d", TWINN_ONNX_MAX_RANK);
    for (i = 0; i < n_axes; i++) {
      int64_t ax = axes[i] < 0 ? axes[i] + (int64_t)out_rank : axes[i];
      if (ax < 0 || ax >= (int64_t)out_rank || mark[ax])
        return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "invalid axis %lld", (long long)axes[i]);
      mark[ax] = 1;
    }
    if (unsq) {
      for (i = 0, j = 0; i < out_rank; i++) odims[i] = mark[i] ? 1 : dims[j++];
      *orank = out_rank;
    } else {
      for (i = 0, j = 0; i < rank; i++) {
        if (n_axes ? mark[i] : dims[i] == 1) {
          if (dims[i] != 1) return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "squeezed axis is not 1");
          continue;
        }
        odims[j++] = dims[i];
      }
      *orank = j;
    }
    return TWINN_OK;
  }
  return twinn_lower_err(x, TWINN_ERR_INTERNAL, "not a reshaping operator");
}

/* Transpose: idx[o] = flat input index of flat output index o; the output shape in odims. */
twinn_status twinn_lower_transpose_index(lower_ctx *x, size_t rank, const int64_t *dims,
                                         size_t **idx, int64_t *odims) {
  const Onnx__AttributeProto *a = attr(x->node, "perm");
  size_t perm[TWINN_ONNX_MAX_RANK], i, k, numel = shape_numel(rank, dims);
  int seen[TWINN_ONNX_MAX_RANK] = {0};
  int64_t istride[TWINN_ONNX_MAX_RANK];
  if (a && a->n_ints != rank)
    return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "perm has wrong length");
  for (i = 0; i < rank; i++) {
    int64_t p = a ? a->ints[i] : (int64_t)(rank - 1 - i);
    if (p < 0 || p >= (int64_t)rank || seen[p])
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "invalid perm");
    seen[p] = 1;
    perm[i] = (size_t)p;
    odims[i] = dims[p];
  }
  for (i = rank, k = 1; i-- > 0;) {
    istride[i] = (int64_t)k;
    k *= (size_t)dims[i];
  }
  *idx = twinn_mallocarray(numel, sizeof **idx);
  if (!*idx) return twinn_lower_nomem(x);
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
    if (!out->v) return twinn_lower_nomem(x);
    out->v[0] = a->has_f ? (double)a->f : (double)a->i;
    return isfinite(out->v[0]) ? TWINN_OK
                               : twinn_lower_err(x, TWINN_ERR_SEMANTIC, "weight is NaN/Inf");
  }
  if ((a = attr(n, "value_floats")) || (a = attr(n, "value_ints"))) {
    size_t cnt = a->n_floats ? a->n_floats : a->n_ints;
    out->rank = 1;
    out->dims[0] = (int64_t)cnt;
    out->n = cnt;
    out->v = twinn_mallocarray(cnt, sizeof *out->v);
    if (!out->v) return twinn_lower_nomem(x);
    for (i = 0; i < cnt; i++) {
      out->v[i] = a->n_floats ? (double)a->floats[i] : (double)a->ints[i];
      if (!isfinite(out->v[i])) return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "weight is NaN/Inf");
    }
    return TWINN_OK;
  }
  return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "constant value form not supported");
}

/* Per-tensor or per-axis parameter index for element i of tensor x (Quantize/Dequantize). */
static twinn_status qparam_axis(lower_ctx *x, const twinn_onnx_const *v, const twinn_onnx_const *s,
                                size_t *stride, size_t *count) {
  int64_t axis = attr_int(x->node, "axis", 1);
  size_t i;
  if (attr_int(x->node, "block_size", 0) != 0)
    return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "blocked quantization not supported");
  *stride = 1;
  *count = 1;
  if (s->n == 1) return TWINN_OK;
  if (axis < 0) axis += (int64_t)v->rank;
  if (s->rank != 1 || axis < 0 || axis >= (int64_t)v->rank || (int64_t)s->n != v->dims[axis])
    return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "scale does not match axis %lld",
                           (long long)attr_int(x->node, "axis", 1));
  for (i = (size_t)axis + 1; i < v->rank; i++) *stride *= (size_t)v->dims[i];
  *count = s->n;
  return TWINN_OK;
}

/* Folds a node whose inputs are all constants into a new constant (out). */
twinn_status twinn_lower_fold_node(lower_ctx *x, const twinn_onnx_const **cin,
                                   twinn_onnx_const *out) {
  const Onnx__NodeProto *n = x->node;
  const twinn_onnx_const *v = cin[0];
  size_t i, stride, count;
  twinn_status st;
  memset(out, 0, sizeof *out);
  if (is_op(n, "Constant")) return fold_constant(x, out);
  if (!v) return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "operator not supported without inputs");
  if (is_op(n, "DequantizeLinear") || is_op(n, "QuantizeLinear")) {
    const twinn_onnx_const *s = n->n_input >= 2 ? cin[1] : NULL;
    const twinn_onnx_const *z = n->n_input >= 3 ? cin[2] : NULL;
    int deq = is_op(n, "DequantizeLinear");
    double lo = 0.0, hi = 255.0;
    if (!s) return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "scale must be a constant");
    st = qparam_axis(x, v, s, &stride, &count);
    if (st != TWINN_OK) return st;
    if (z && z->n != s->n)
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "zero point does not match scale");
    if (z && z->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT8) {
      lo = -128.0;
      hi = 127.0;
    } else if (z && z->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__UINT8) {
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "zero point element type %d not supported",
                             z->elem_type);
    }
    *out = *v;
    out->elem_type = deq ? ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT : (z ? z->elem_type : 2);
    out->v = twinn_mallocarray(v->n, sizeof *out->v);
    if (!out->v) return twinn_lower_nomem(x);
    for (i = 0; i < v->n; i++) {
      size_t q = (i / stride) % count;
      double zp = z ? z->v[q] : 0.0;
      if (deq) {
        /* (x - zp) is an exact small integer and its float32 product with the scale is what
         * onnxruntime computes: round to float so the twin's weights are the model's. */
        out->v[i] = (double)((float)(v->v[i] - zp) * (float)s->v[q]);
      } else {
        double r;
        if (s->v[q] == 0.0) return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "scale is zero");
        r = (double)nearbyintf((float)v->v[i] / (float)s->v[q]) + zp;
        out->v[i] = r < lo ? lo : r > hi ? hi : r;
      }
    }
    return TWINN_OK;
  }
  if (is_reshape_like(n)) {
    st = twinn_lower_reshape_like(x, v->rank, v->dims, &out->rank, out->dims);
    if (st != TWINN_OK) return st;
    out->n = v->n;
    out->elem_type = v->elem_type;
    out->v = twinn_mallocarray(v->n, sizeof *out->v);
    if (!out->v) return twinn_lower_nomem(x);
    memcpy(out->v, v->v, v->n * sizeof *out->v);
    return TWINN_OK;
  }
  if (is_op(n, "Transpose")) {
    size_t *idx = NULL;
    st = twinn_lower_transpose_index(x, v->rank, v->dims, &idx, out->dims);
    if (st != TWINN_OK) return st;
    out->rank = v->rank;
    out->n = v->n;
    out->elem_type = v->elem_type;
    out->v = twinn_mallocarray(v->n, sizeof *out->v);
    if (!out->v) {
      twinn_free(idx);
      return twinn_lower_nomem(x);
    }
    for (i = 0; i < v->n; i++) out->v[i] = v->v[idx[i]];
    twinn_free(idx);
    return TWINN_OK;
  }
  return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "operator not supported on constant inputs");
}
