/* lower_chain.c: the one variable tensor of an ONNX graph while it is lowered. Linear operators
 * (Add/Sub/Mul/Div by constants, MatMul, Gemm, Conv, BatchNormalization, reshapes, Transpose)
 * compose into the pending affine map var = pw * h + pb over the last activation's output h; an
 * activation flushes it as an AFFINE layer. Every map is exact in double up to the rounding of
 * composition; anything not linear in the variable is an error naming node and operator. */
#include "lower_int.h"

#include <math.h>
#include <string.h>

/* Broadcasts constant c against shape (rank, dims) of the chain; the result must keep the
 * chain's element count (the chain may only gain leading 1s). out[i] = c at chain index i. */
static twinn_status broadcast(lower_ctx *x, const twinn_onnx_const *c, double **out) {
  size_t r = c->rank > x->rank ? c->rank : x->rank, i, k;
  int64_t od[TWINN_ONNX_MAX_RANK], cd[TWINN_ONNX_MAX_RANK], vd[TWINN_ONNX_MAX_RANK];
  for (i = 0; i < r; i++) {
    cd[i] = i + c->rank >= r ? c->dims[i + c->rank - r] : 1;
    vd[i] = i + x->rank >= r ? x->dims[i + x->rank - r] : 1;
    if (cd[i] != vd[i] && cd[i] != 1 && vd[i] != 1)
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "shapes do not broadcast");
    od[i] = vd[i] == 1 ? cd[i] : vd[i];
  }
  if (shape_numel(r, od) != x->m)
    return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED,
                           "broadcasting a constant enlarges the variable tensor");
  *out = twinn_mallocarray(x->m, sizeof **out);
  if (!*out) return twinn_lower_nomem(x);
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
    return twinn_lower_err(x, TWINN_ERR_NOMEM, "dense map of %zu x %zu exceeds 2^28 entries", x->m,
                           n0);
  x->pw = twinn_calloc(x->m * n0, sizeof *x->pw);
  if (!x->pw) return twinn_lower_nomem(x);
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
    st = twinn_lower_err(x, TWINN_ERR_NOMEM, "dense map of %zu x %zu exceeds 2^28 entries", m2, n0);
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
  st = twinn_lower_nomem(x);
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
    st = twinn_lower_nomem(x);
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
twinn_status twinn_lower_flush(lower_ctx *x) {
  size_t i, n = x->m * width0(x);
  twinn_status st = materialize(x);
  if (st != TWINN_OK) return st;
  for (i = 0; i < n; i++)
    if (!isfinite(x->pw[i])) return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "weight is NaN/Inf");
  for (i = 0; i < x->m; i++)
    if (!isfinite(x->pb[i])) return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "bias is NaN/Inf");
  st = twinn_net_push_affine(x->net, x->m, x->pw, x->pb, x->err);
  x->pw = NULL;
  x->pb = twinn_calloc(x->m, sizeof *x->pb);
  if (st != TWINN_OK) return st;
  if (!x->pb) return twinn_lower_nomem(x);
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
        st = twinn_lower_nomem(x);
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
      st = twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "division by a variable is not linear");
      goto done;
    }
    for (i = 0; i < x->m; i++) {
      if (v[i] == 0.0) {
        st = twinn_lower_err(x, TWINN_ERR_SEMANTIC, "division by zero");
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
    return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "constant operand must be 2-D (has rank %zu)",
                           c->rank);
  if (var_pos == 0) { /* var [..., K] @ C [K, N] */
    K = (size_t)c->dims[0];
    N = (size_t)c->dims[1];
    if (x->rank < 1 || (size_t)x->dims[x->rank - 1] != K)
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "inner dimensions do not match");
    P = K ? x->m / K : 0;
    m2 = P * N;
    if (m2 > TWINN_ONNX_MAX_ELEMS / (x->m ? x->m : 1))
      return twinn_lower_err(x, TWINN_ERR_NOMEM, "dense map exceeds 2^28 entries");
    L = twinn_calloc(m2 * x->m, sizeof *L);
    if (!L) return twinn_lower_nomem(x);
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
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "inner dimensions do not match");
    P = K * N != 0 ? x->m / (K * N) : 0;
    m2 = P * M * N;
    if (m2 > TWINN_ONNX_MAX_ELEMS / (x->m ? x->m : 1))
      return twinn_lower_err(x, TWINN_ERR_NOMEM, "dense map exceeds 2^28 entries");
    L = twinn_calloc(m2 * x->m, sizeof *L);
    if (!L) return twinn_lower_nomem(x);
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
    return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED,
                           "attribute transA=%lld/transB=%lld not supported", (long long)ta,
                           (long long)tb);
  if (x->rank != 2) return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "input A must be 2-D");
  if (B->rank != 2) return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "input B must be 2-D");
  M = (size_t)x->dims[ta ? 1 : 0];
  K = (size_t)x->dims[ta ? 0 : 1];
  if ((size_t)B->dims[tb ? 1 : 0] != K)
    return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "B has shape [%lld,%lld], A has %zu columns",
                           (long long)B->dims[0], (long long)B->dims[1], K);
  N = (size_t)B->dims[tb ? 0 : 1];
  if (M * N > TWINN_ONNX_MAX_ELEMS / (x->m ? x->m : 1))
    return twinn_lower_err(x, TWINN_ERR_NOMEM, "dense map exceeds 2^28 entries");
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
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "C does not broadcast to [%zu,%zu]", M, N);
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
  return twinn_lower_nomem(x);
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
    return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "only 1-D and 2-D convolutions are supported");
  if (x->dims[0] != 1) return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "batch size must be 1");
  sr = x->rank - 2;
  if (W->rank != x->rank) return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "weight rank mismatch");
  C = (size_t)x->dims[1];
  M = (size_t)W->dims[0];
  if (grp < 1 || C % (size_t)grp || M % (size_t)grp || (size_t)W->dims[1] * (size_t)grp != C)
    return twinn_lower_err(x, TWINN_ERR_SEMANTIC,
                           "attribute group=%lld does not match the channels", (long long)grp);
  cpg = C / (size_t)grp;
  mpg = M / (size_t)grp;
  if (B && B->n != M)
    return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "bias has %zu entries, need %zu", B->n, M);
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
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "unknown auto_pad");
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
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "invalid strides, dilations, pads or kernel");
    if (pad_mode[0] == 'S') {
      int64_t o2 = (in[t] + st[t] - 1) / st[t],
              total = (o2 - 1) * st[t] + (k[t] - 1) * dl[t] + 1 - in[t];
      if (total < 0) total = 0;
      pb[t] = strcmp(pad_mode, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
      pe[t] = total - pb[t];
    }
    out[t] = (in[t] + pb[t] + pe[t] - ((k[t] - 1) * dl[t] + 1)) / st[t] + 1;
    if (in[t] + pb[t] + pe[t] < (k[t] - 1) * dl[t] + 1 || out[t] < 1)
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "kernel larger than the padded input");
  }
  m2 = M * (size_t)out[0] * (size_t)out[1];
  if (m2 > TWINN_ONNX_MAX_ELEMS / (x->m ? x->m : 1))
    return twinn_lower_err(x, TWINN_ERR_NOMEM, "dense map of %zu x %zu exceeds 2^28 entries", m2,
                           x->m);
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
  return twinn_lower_nomem(x);
}

/* BatchNormalization (inference): y = scale (x - mean) / sqrt(var + eps) + B per channel. */
static twinn_status lower_batchnorm(lower_ctx *x, const twinn_onnx_const *const *p) {
  double eps = attr_float(x->node, "epsilon", 1e-5), *s = NULL, *t = NULL;
  size_t C, spatial, i;
  twinn_status st;
  if (attr_int(x->node, "training_mode", 0) != 0)
    return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "training_mode=1 not supported");
  if (x->rank < 2) return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "input must have a channel axis");
  C = (size_t)x->dims[1];
  for (i = 0; i < 4; i++)
    if (p[i]->n != C)
      return twinn_lower_err(x, TWINN_ERR_SEMANTIC, "parameter %zu has %zu entries, need %zu",
                             i + 1, p[i]->n, C);
  spatial = C ? x->m / ((size_t)x->dims[0] * C) : 0;
  s = twinn_mallocarray(x->m, sizeof *s);
  t = twinn_mallocarray(x->m, sizeof *t);
  if (!s || !t) {
    st = twinn_lower_nomem(x);
    goto done;
  }
  for (i = 0; i < x->m; i++) {
    size_t c = (i / (spatial ? spatial : 1)) % C;
    double den = sqrt(p[3]->v[c] + eps);
    if (!(den > 0.0)) {
      st = twinn_lower_err(x, TWINN_ERR_SEMANTIC, "variance + epsilon is not positive");
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

/* The current node consumes the chain (input var_pos); consts[i] is input i when constant. */
twinn_status twinn_lower_chain_node(lower_ctx *x, int var_pos, const twinn_onnx_const **cin) {
  const Onnx__NodeProto *n = x->node;
  const twinn_onnx_const *other = cin[var_pos == 0 ? 1 : 0];
  twinn_status st;
  twinn_layer_kind act;
  if (is_op(n, "Relu") || is_op(n, "Sigmoid") || is_op(n, "Tanh")) {
    act = is_op(n, "Relu")      ? TWINN_LAYER_RELU
          : is_op(n, "Sigmoid") ? TWINN_LAYER_SIGMOID
                                : TWINN_LAYER_TANH;
    st = twinn_lower_flush(x);
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
    return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "the variable tensor must be the first input");
  if (is_reshape_like(n)) {
    int64_t od[TWINN_ONNX_MAX_RANK];
    size_t orank;
    st = twinn_lower_reshape_like(x, x->rank, x->dims, &orank, od);
    if (st != TWINN_OK) return st;
    x->rank = orank;
    memcpy(x->dims, od, orank * sizeof *od);
    return TWINN_OK;
  }
  if (is_op(n, "Transpose")) {
    size_t *idx = NULL, i;
    int64_t od[TWINN_ONNX_MAX_RANK];
    int noop = 1;
    st = twinn_lower_transpose_index(x, x->rank, x->dims, &idx, od);
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
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "the other operand must be a constant");
    return lower_arith(x, other, var_pos);
  }
  if (is_op(n, "MatMul")) {
    if (n->n_input != 2 || !other)
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "the other operand must be a constant");
    return lower_matmul(x, other, var_pos);
  }
  if (is_op(n, "Gemm")) {
    if (n->n_input < 2 || !cin[1])
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "input B must be a constant");
    if (n->n_input >= 3 && n->input[2][0] && !cin[2])
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "input C must be a constant");
    return lower_gemm(x, cin[1], n->n_input >= 3 ? cin[2] : NULL);
  }
  if (is_op(n, "Conv")) {
    if (n->n_input < 2 || !cin[1])
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "weights must be a constant");
    if (n->n_input >= 3 && n->input[2][0] && !cin[2])
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "bias must be a constant");
    return lower_conv(x, cin[1], n->n_input >= 3 ? cin[2] : NULL);
  }
  if (is_op(n, "BatchNormalization")) {
    if (n->n_input != 5 || !cin[1] || !cin[2] || !cin[3] || !cin[4])
      return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED,
                             "scale, bias, mean and variance must be constants");
    return lower_batchnorm(x, cin + 1);
  }
  return twinn_lower_err(x, TWINN_ERR_UNSUPPORTED, "operator not supported");
}
