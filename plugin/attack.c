/* attack.c: the counterexample search. Violation of a leaf e CMP 0: max(0, e + m) for <= and <
 * (m a small margin so float32 replay keeps the sign), |e| for ==, [e == 0] for !=; AND sums,
 * OR takes the minimum. Gradients by backpropagation through each network (ReLU, sigmoid, tanh).
 * Nothing found here is trusted: twinn_attack_check replays every candidate concretely. */
#include "attack.h"

#include <math.h>
#include <string.h>

#include "bind.h"
#include "clock.h"
#include "pattern.h"
#include "symkern.h"

struct twinn_attack {
  const twinn_problem *pb;
  const twinn_space *sp;
  size_t n_scalars, n_free;
  double *x, *dx;       /* n_scalars: current assignment and d violation / d x */
  double *nodeval;      /* per formula node: its violation */
  size_t **off;         /* per network: offsets of its points (as in twinn_ibounds) */
  double **val, **grad; /* per network: the value / gradient at every point */
  size_t *in_off;       /* per network: offset of its input variable in x */
  double *p32, *y;      /* n_free rounded point; n_scalars float32 replay */
  double *out32;        /* largest output width */
};

double twinn_rand_unit(uint64_t *state) {
  uint64_t z = twinn_mix64(*state);
  *state += 0x9E3779B97F4A7C15ull;
  return (double)(z >> 11) * 0x1.0p-53;
}

twinn_attack *twinn_attack_new(const twinn_problem *pb, const twinn_space *sp) {
  const twinn_prop *prop = pb->prop;
  twinn_attack *a = twinn_calloc(1, sizeof *a);
  size_t i, k, max_out = 1;
  if (!a) return NULL;
  a->pb = pb;
  a->sp = sp;
  a->n_scalars = prop->n_scalars;
  a->n_free = sp->n_free;
  a->x = twinn_calloc(a->n_scalars + 1, sizeof *a->x);
  a->dx = twinn_calloc(a->n_scalars + 1, sizeof *a->dx);
  a->y = twinn_calloc(a->n_scalars + 1, sizeof *a->y);
  a->p32 = twinn_calloc(a->n_free + 1, sizeof *a->p32);
  a->nodeval = twinn_calloc(prop->n_nodes + 1, sizeof *a->nodeval);
  a->off = twinn_calloc(pb->n_nets + 1, sizeof *a->off);
  a->val = twinn_calloc(pb->n_nets + 1, sizeof *a->val);
  a->grad = twinn_calloc(pb->n_nets + 1, sizeof *a->grad);
  a->in_off = twinn_calloc(pb->n_nets + 1, sizeof *a->in_off);
  if (!a->x || !a->dx || !a->y || !a->p32 || !a->nodeval || !a->off || !a->val || !a->grad ||
      !a->in_off)
    goto fail;
  for (i = 0; i < pb->n_nets; i++) {
    const twinn_net *net = pb->nets[i];
    const twinn_var *in = twinn_prop_net_var(prop, i, TWINN_VAR_INPUT);
    size_t total = 0;
    if (!in) goto fail;
    a->in_off[i] = in->offset;
    a->off[i] = twinn_mallocarray(net->n_layers + 2, sizeof **a->off);
    if (!a->off[i]) goto fail;
    for (k = 0; k <= net->n_layers; k++) {
      a->off[i][k] = total;
      total += twinn_net_width_at(net, k);
    }
    a->off[i][net->n_layers + 1] = total;
    a->val[i] = twinn_calloc(total + 1, sizeof **a->val);
    a->grad[i] = twinn_calloc(total + 1, sizeof **a->grad);
    if (!a->val[i] || !a->grad[i]) goto fail;
    if (net->n_out > max_out) max_out = net->n_out;
  }
  a->out32 = twinn_calloc(max_out, sizeof *a->out32);
  if (!a->out32) goto fail;
  return a;
fail:
  twinn_attack_free(a);
  return NULL;
}

void twinn_attack_free(twinn_attack *a) {
  size_t i;
  if (!a) return;
  /* Any of the three arrays may be missing (out of memory in twinn_attack_new). */
  for (i = 0; i < a->pb->n_nets; i++) {
    if (a->off) twinn_free(a->off[i]);
    if (a->val) twinn_free(a->val[i]);
    if (a->grad) twinn_free(a->grad[i]);
  }
  twinn_free(a->off);
  twinn_free(a->val);
  twinn_free(a->grad);
  twinn_free(a->in_off);
  twinn_free(a->x);
  twinn_free(a->dx);
  twinn_free(a->y);
  twinn_free(a->p32);
  twinn_free(a->nodeval);
  twinn_free(a->out32);
  twinn_free(a);
}

static double act(twinn_layer_kind kind, double v) {
  switch (kind) {
  case TWINN_LAYER_RELU: return v > 0 ? v : 0.0;
  case TWINN_LAYER_SIGMOID: return 1.0 / (1.0 + exp(-v));
  case TWINN_LAYER_TANH: return tanh(v);
  case TWINN_LAYER_AFFINE: break;
  }
  return v;
}

/* Forward pass of network i from x's input; writes every point and copies hidden / outputs
 * into x. */
static void forward(twinn_attack *a, size_t i) {
  const twinn_net *net = a->pb->nets[i];
  const twinn_prop *prop = a->pb->prop;
  const twinn_prop_net *pn = &prop->nets[i];
  size_t k, r, v, point;
  double *val = a->val[i];
  memcpy(val, a->x + a->in_off[i], net->n_in * sizeof *val);
  for (k = 0; k < net->n_layers; k++) {
    const twinn_layer *L = &net->layers[k];
    const double *src = val + a->off[i][k];
    double *dst = val + a->off[i][k + 1];
    if (L->kind == TWINN_LAYER_AFFINE) {
      /* BLAS: the scalar loop was a third of the search's time (only guides it: every
       * candidate is replayed by twinn_attack_check's own evaluation) */
      memcpy(dst, L->b, L->n_out * sizeof *dst);
      twinn_symk_gemv_f64(L->n_out, L->n_in, L->w, L->n_in, src, 1.0, dst);
    } else {
      for (r = 0; r < L->n_out; r++) dst[r] = act(L->kind, src[r]);
    }
  }
  for (v = 0; v < pn->n_vars; v++) {
    const twinn_var *var = &prop->vars[pn->first_var + v];
    if (var->role == TWINN_VAR_OUTPUT)
      memcpy(a->x + var->offset, val + a->off[i][net->n_layers], var->n * sizeof *a->x);
    else if (var->role == TWINN_VAR_HIDDEN && twinn_problem_tap_point(net, var, &point))
      memcpy(a->x + var->offset, val + a->off[i][point], var->n * sizeof *a->x);
  }
}

/* Backward pass of network i: seeds from dx's hidden / output entries, adds the input gradient
 * into dx's input entries. */
static void backward(twinn_attack *a, size_t i) {
  const twinn_net *net = a->pb->nets[i];
  const twinn_prop *prop = a->pb->prop;
  const twinn_prop_net *pn = &prop->nets[i];
  size_t k, r, c, v, point, *off = a->off[i];
  double *g = a->grad[i], *val = a->val[i];
  memset(g, 0, off[net->n_layers + 1] * sizeof *g);
  for (v = 0; v < pn->n_vars; v++) {
    const twinn_var *var = &prop->vars[pn->first_var + v];
    if (var->role == TWINN_VAR_OUTPUT)
      point = net->n_layers;
    else if (var->role != TWINN_VAR_HIDDEN || !twinn_problem_tap_point(net, var, &point))
      continue;
    for (r = 0; r < var->n; r++) g[off[point] + r] += a->dx[var->offset + r];
  }
  for (k = net->n_layers; k-- > 0;) {
    const twinn_layer *L = &net->layers[k];
    const double *go = g + off[k + 1], *pre = val + off[k], *post = val + off[k + 1];
    double *gi = g + off[k];
    for (r = 0; r < L->n_out; r++) {
      if (go[r] == 0.0) continue;
      switch (L->kind) {
      case TWINN_LAYER_AFFINE:
        for (c = 0; c < L->n_in; c++) gi[c] += L->w[r * L->n_in + c] * go[r];
        break;
      case TWINN_LAYER_RELU: gi[r] += pre[r] > 0 ? go[r] : 0.0; break;
      case TWINN_LAYER_SIGMOID: gi[r] += go[r] * post[r] * (1.0 - post[r]); break;
      case TWINN_LAYER_TANH: gi[r] += go[r] * (1.0 - post[r] * post[r]); break;
      }
    }
  }
  for (r = 0; r < net->n_in; r++) a->dx[a->in_off[i] + r] += g[r];
}

static double leaf_margin(const twinn_lin *l) { return 1e-6 * (1.0 + fabs(l->c0)); }

static double node_violation(twinn_attack *a, size_t node) {
  const twinn_prop *prop = a->pb->prop;
  const twinn_bool *b = &prop->nodes[node];
  double v = 0.0;
  size_t i;
  if (b->kind == TWINN_BOOL_LIN) {
    const twinn_lin *l = &prop->lins[b->lin];
    double e = twinn_prop_lin_eval(prop, l, a->x);
    if (l->nonlinear || isnan(e))
      v = 1e30;
    else if (l->cmp == TWINN_CMP_EQ)
      v = fabs(e);
    else if (l->cmp == TWINN_CMP_NE)
      v = e == 0.0 ? 1.0 : 0.0;
    else
      v = fmax(0.0, e + leaf_margin(l));
  } else if (b->kind == TWINN_BOOL_AND) {
    for (i = 0; i < b->n_kids; i++) v += node_violation(a, prop->kids[b->first_kid + i]);
  } else {
    v = INFINITY; /* an empty OR is false */
    for (i = 0; i < b->n_kids; i++) v = fmin(v, node_violation(a, prop->kids[b->first_kid + i]));
  }
  a->nodeval[node] = v;
  return v;
}

/* Adds weight * d(violation of node)/dx into dx. */
static void node_grad(twinn_attack *a, size_t node, double weight) {
  const twinn_prop *prop = a->pb->prop;
  const twinn_bool *b = &prop->nodes[node];
  size_t i, t, best;
  if (b->kind == TWINN_BOOL_LIN) {
    const twinn_lin *l = &prop->lins[b->lin];
    double e, s;
    if (l->nonlinear || a->nodeval[node] == 0.0 || l->cmp == TWINN_CMP_NE) return;
    e = twinn_prop_lin_eval(prop, l, a->x);
    s = l->cmp == TWINN_CMP_EQ && e < 0 ? -weight : weight;
    for (t = 0; t < l->n_terms; t++)
      a->dx[prop->term_var[l->first + t]] += s * prop->term_coef[l->first + t];
  } else if (b->kind == TWINN_BOOL_AND) {
    for (i = 0; i < b->n_kids; i++) node_grad(a, prop->kids[b->first_kid + i], weight);
  } else if (b->n_kids > 0) {
    best = prop->kids[b->first_kid];
    for (i = 1; i < b->n_kids; i++)
      if (a->nodeval[prop->kids[b->first_kid + i]] < a->nodeval[best])
        best = prop->kids[b->first_kid + i];
    node_grad(a, best, weight);
  }
}

double twinn_attack_violation(twinn_attack *a, const double *p, double *grad) {
  size_t i;
  double v;
  twinn_space_scatter(a->sp, a->n_scalars, p, a->x);
  for (i = 0; i < a->pb->n_nets; i++) forward(a, i);
  v = node_violation(a, a->pb->prop->root);
  if (grad) {
    memset(a->dx, 0, a->n_scalars * sizeof *a->dx);
    node_grad(a, a->pb->prop->root, 1.0);
    for (i = 0; i < a->pb->n_nets; i++) backward(a, i);
    memset(grad, 0, a->n_free * sizeof *grad);
    for (i = 0; i < a->n_scalars; i++)
      if (a->sp->dim_of[i] != SIZE_MAX) grad[a->sp->dim_of[i]] += a->dx[i];
  }
  return v;
}

/* A float32 value in [lo, hi] near v, kept half a float ulp away from each end when the box
 * allows, so the witness printed with %.9g reads back inside the box; the double v clamped to
 * the box when no float32 lies in it; 0 for an empty box. */
static int to_float_inside(double v, double lo, double hi, double *out) {
  float f = (float)v;
  int k;
  if ((double)f < lo) f = nextafterf(f, INFINITY);
  if ((double)f > hi) f = nextafterf(f, -INFINITY);
  if (!((double)f >= lo && (double)f <= hi)) {
    /* No float32 lies in [lo, hi] (a point box at 0.1, or a box narrower than a float ulp):
     * the witness must then be the double itself, printed with %.17g by the writers. */
    if (!(lo <= hi)) return 0;
    *out = v < lo ? lo : v > hi ? hi : v;
    return 1;
  }
  for (k = 0; k < 2 && lo < hi; k++) {
    float up = nextafterf(f, INFINITY), dn = nextafterf(f, -INFINITY);
    if ((double)f - lo < ((double)f - (double)dn) / 2 && (double)up <= hi)
      f = up;
    else if (hi - (double)f < ((double)up - (double)f) / 2 && (double)dn >= lo)
      f = dn;
  }
  *out = (double)f;
  return 1;
}

twinn_status twinn_attack_check(twinn_attack *a, const double *lo, const double *hi,
                                const double *p, double *witness, int *ok) {
  const twinn_prop *prop = a->pb->prop;
  size_t i, v;
  twinn_status st;
  *ok = 0;
  for (i = 0; i < a->n_free; i++)
    if (!to_float_inside(p[i], lo[i], hi[i], &a->p32[i])) return TWINN_OK;
  memset(witness, 0, a->n_scalars * sizeof *witness);
  twinn_space_scatter(a->sp, a->n_scalars, a->p32, witness);
  st = twinn_problem_complete(a->pb, witness);
  if (st != TWINN_OK) return st;
  if (!twinn_prop_holds(prop, witness)) return TWINN_OK;
  /* The float32 replay: outputs as onnxruntime computes them (hidden values keep the double
   * evaluation: no float32 tap evaluation exists). */
  memcpy(a->y, witness, a->n_scalars * sizeof *a->y);
  for (i = 0; i < a->pb->n_nets; i++) {
    const twinn_var *in = twinn_prop_net_var(prop, i, TWINN_VAR_INPUT);
    const twinn_var *out = twinn_prop_net_var(prop, i, TWINN_VAR_OUTPUT);
    st = twinn_net_eval_f32(a->pb->nets[i], witness + in->offset, a->out32);
    if (st != TWINN_OK) return st;
    for (v = 0; v < out->n; v++) a->y[out->offset + v] = a->out32[v];
  }
  *ok = twinn_prop_holds(prop, a->y);
  return TWINN_OK;
}

/* Pattern search (pattern.h) from p in spaces of at most POLISH_DIMS dimensions, on the
 * violation. The signed gradient steps alone are too coarse for counterexamples in thin
 * slivers: ACAS Xu 1_9 prop_7 and 5_3 prop_2 are violated only by margins of 6e-4 and 5e-5
 * near faces of the box. */
#define POLISH_DIMS 16

typedef struct {
  twinn_attack *a;
  const double *lo, *hi;
  double *witness;
  int *found;
} polish_ctx;

/* twinn_pattern_fn: the violation at x; stops on a replayed witness. */
static twinn_status polish_value(void *ctx, const double *x, double *value, int *stop) {
  polish_ctx *c = ctx;
  twinn_status st = TWINN_OK;
  *value = twinn_attack_violation(c->a, x, NULL);
  if (twinn_prop_holds(c->a->pb->prop, c->a->x) || *value == 0.0) {
    st = twinn_attack_check(c->a, c->lo, c->hi, x, c->witness, c->found);
    *stop = *c->found;
  }
  return st;
}

twinn_status twinn_attack_run(twinn_attack *a, const double *lo, const double *hi,
                              unsigned restarts, unsigned steps, unsigned flags, uint64_t *rng,
                              double deadline, double *witness, int *found) {
  int centre = !(flags & TWINN_ATTACK_NO_CENTRE), refine = (flags & TWINN_ATTACK_REFINE) != 0;
  size_t i, n = a->n_free;
  unsigned r, s;
  twinn_status st = TWINN_OK;
  double *p = twinn_mallocarray(n + 1, sizeof *p), *g = twinn_mallocarray(n + 1, sizeof *g);
  double *q = twinn_mallocarray(n + 1, sizeof *q), best = INFINITY;
  *found = 0;
  if (!p || !g || !q) {
    st = TWINN_ERR_NOMEM;
    goto done;
  }
  for (r = 0; r < restarts && !*found; r++) {
    if (deadline > 0 && twinn_clock_now() > deadline) break;
    for (i = 0; i < n; i++)
      p[i] = r == 0 && centre ? lo[i] + (hi[i] - lo[i]) / 2
                              : lo[i] + (hi[i] - lo[i]) * twinn_rand_unit(rng);
    /* In small spaces the pattern search alone, from the random start: the signed gradient
     * steps first led every start into the same few basins (ACAS Xu 5_3 prop_2: no witness in
     * 5 000 starts that way, one in about 1 500 without them). */
    for (s = refine && n <= POLISH_DIMS ? steps : 0; s <= steps; s++) {
      double v = twinn_attack_violation(a, p, g), step;
      if (twinn_prop_holds(a->pb->prop, a->x) || v == 0.0) {
        st = twinn_attack_check(a, lo, hi, p, witness, found);
        if (st != TWINN_OK || *found) goto done;
      }
      if (s == steps) {
        best = v;
        break;
      }
      /* Signed steps shrinking from a quarter of the box to 1 % of it. */
      step = 0.25 * (1.0 - (double)s / steps) + 0.01;
      for (i = 0; i < n; i++) {
        double w = hi[i] - lo[i];
        if (g[i] > 0)
          p[i] -= step * w;
        else if (g[i] < 0)
          p[i] += step * w;
        p[i] = fmin(hi[i], fmax(lo[i], p[i]));
      }
    }
    if (refine && n <= POLISH_DIMS && isfinite(best)) {
      polish_ctx c = {a, lo, hi, witness, found};
      int stopped;
      st = twinn_pattern_search(n, lo, hi, p, &best, q, polish_value, &c, deadline, &stopped);
      if (st != TWINN_OK || *found) goto done;
    }
  }
done:
  twinn_free(p);
  twinn_free(g);
  twinn_free(q);
  return st;
}
