/* net.c: the network IR: construction, concrete evaluation (double and float32) and shape
 * queries. Invariant kept by every push: layer k's n_out == layer k+1's n_in, so the chain
 * is always well formed. Plain loops here; this file must not include cblas.h (kernels live
 * elsewhere) and never prints. */
#include "net.h"

#include <math.h>
#include <string.h>

twinn_net *twinn_net_new(size_t n_in) {
  twinn_net *net = twinn_calloc(1, sizeof *net);
  if (!net) return NULL;
  net->n_in = n_in;
  net->n_out = n_in;
  net->in_rank = 2;
  net->in_dims[0] = 1;
  net->in_dims[1] = n_in;
  net->out_rank = 2;
  net->out_dims[0] = 1;
  net->out_dims[1] = n_in;
  net->in_type = 1; /* FLOAT */
  net->out_type = 1;
  return net;
}

void twinn_net_free(twinn_net *net) {
  size_t i;
  if (!net) return;
  for (i = 0; i < net->n_layers; i++) {
    twinn_free(net->layers[i].w);
    twinn_free(net->layers[i].b);
  }
  for (i = 0; i < net->n_taps; i++) {
    twinn_free(net->taps[i].node_name);
    twinn_free(net->taps[i].tensor_name);
  }
  twinn_free(net->layers);
  twinn_free(net->taps);
  twinn_free(net->path);
  twinn_free(net);
}

size_t twinn_net_width(const twinn_net *net) {
  return net->n_layers ? net->layers[net->n_layers - 1].n_out : net->n_in;
}

/* Appends a layer record (the layer array grows one at a time: networks have few layers). */
static twinn_status push_layer(twinn_net *net, const twinn_layer *l, twinn_error *err) {
  twinn_layer *grown = twinn_realloc(net->layers, net->n_layers + 1, sizeof *grown);
  if (!grown)
    return twinn_error_set(err, TWINN_ERR_NOMEM, net->path, 0, 0, "out of memory (layer %zu)",
                           net->n_layers);
  net->layers = grown;
  net->layers[net->n_layers++] = *l;
  net->n_out = l->n_out;
  /* A hand-built network declares a [1, n_out] output; front ends overwrite this at the end. */
  net->out_rank = 2;
  net->out_dims[0] = 1;
  net->out_dims[1] = l->n_out;
  return TWINN_OK;
}

twinn_status twinn_net_push_affine(twinn_net *net, size_t n_out, double *w, double *b,
                                   twinn_error *err) {
  twinn_layer l;
  twinn_status st;
  if (!w || !b) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, net->path, 0, 0, "out of memory (affine layer)");
    goto fail;
  }
  if (n_out == 0) {
    st = twinn_error_set(err, TWINN_ERR_SEMANTIC, net->path, 0, 0, "affine layer of width 0");
    goto fail;
  }
  l.kind = TWINN_LAYER_AFFINE;
  l.n_in = twinn_net_width(net);
  l.n_out = n_out;
  l.w = w;
  l.b = b;
  st = push_layer(net, &l, err);
  if (st != TWINN_OK) goto fail;
  return TWINN_OK;
fail:
  twinn_free(w);
  twinn_free(b);
  return st;
}

twinn_status twinn_net_push_act(twinn_net *net, twinn_layer_kind kind, twinn_error *err) {
  twinn_layer l;
  if (kind != TWINN_LAYER_RELU && kind != TWINN_LAYER_SIGMOID && kind != TWINN_LAYER_TANH)
    return twinn_error_set(err, TWINN_ERR_INTERNAL, net->path, 0, 0,
                           "activation kind %d is not elementwise", (int)kind);
  l.kind = kind;
  l.n_in = l.n_out = twinn_net_width(net);
  l.w = NULL;
  l.b = NULL;
  return push_layer(net, &l, err);
}

twinn_status twinn_net_add_tap(twinn_net *net, const char *node_name, const char *tensor_name,
                               twinn_error *err) {
  twinn_tap t;
  twinn_tap *grown;
  t.node_name = twinn_strdup(node_name ? node_name : "");
  t.tensor_name = twinn_strdup(tensor_name ? tensor_name : "");
  t.after_layer = net->n_layers;
  if (!t.node_name || !t.tensor_name) goto fail;
  grown = twinn_realloc(net->taps, net->n_taps + 1, sizeof *grown);
  if (!grown) goto fail;
  net->taps = grown;
  net->taps[net->n_taps++] = t;
  return TWINN_OK;
fail:
  twinn_free(t.node_name);
  twinn_free(t.tensor_name);
  return twinn_error_set(err, TWINN_ERR_NOMEM, net->path, 0, 0, "out of memory (tap)");
}

size_t twinn_net_width_at(const twinn_net *net, size_t after) {
  if (after == 0 || net->n_layers == 0) return net->n_in;
  if (after > net->n_layers) after = net->n_layers;
  return net->layers[after - 1].n_out;
}

size_t twinn_net_max_width(const twinn_net *net) {
  size_t i, m = net->n_in;
  for (i = 0; i < net->n_layers; i++)
    if (net->layers[i].n_out > m) m = net->layers[i].n_out;
  return m;
}

size_t twinn_net_relu_layers(const twinn_net *net) {
  size_t k, n = 0;
  for (k = 0; k < net->n_layers; k++) n += net->layers[k].kind == TWINN_LAYER_RELU;
  return n;
}

int twinn_net_isomorphic(const twinn_net *a, const twinn_net *b) {
  size_t i;
  if (a->n_in != b->n_in || a->n_out != b->n_out || a->n_layers != b->n_layers) return 0;
  for (i = 0; i < a->n_layers; i++) {
    const twinn_layer *la = &a->layers[i], *lb = &b->layers[i];
    if (la->kind != lb->kind || la->n_in != lb->n_in || la->n_out != lb->n_out) return 0;
  }
  return 1;
}

/* One layer in double: dst (n_out) from src (n_in); dst and src do not overlap. */
static void layer_eval_f64(const twinn_layer *l, const double *src, double *dst) {
  size_t i, j;
  switch (l->kind) {
  case TWINN_LAYER_AFFINE:
    for (i = 0; i < l->n_out; i++) {
      const double *row = l->w + i * l->n_in;
      double s = l->b[i];
      for (j = 0; j < l->n_in; j++) s += row[j] * src[j];
      dst[i] = s;
    }
    break;
  case TWINN_LAYER_RELU:
    for (i = 0; i < l->n_out; i++) dst[i] = src[i] > 0.0 ? src[i] : 0.0;
    break;
  case TWINN_LAYER_SIGMOID:
    for (i = 0; i < l->n_out; i++) dst[i] = 1.0 / (1.0 + exp(-src[i]));
    break;
  case TWINN_LAYER_TANH:
    for (i = 0; i < l->n_out; i++) dst[i] = tanh(src[i]);
    break;
  }
}

/* Same in float32: weights, biases and every partial sum are rounded to float, as a float
 * model run by onnxruntime would (summation order may still differ: witnesses are re-checked
 * with a margin by the caller). */
static void layer_eval_f32(const twinn_layer *l, const float *src, float *dst) {
  size_t i, j;
  switch (l->kind) {
  case TWINN_LAYER_AFFINE:
    for (i = 0; i < l->n_out; i++) {
      const double *row = l->w + i * l->n_in;
      float s = 0.0f;
      for (j = 0; j < l->n_in; j++) s += (float)row[j] * src[j];
      dst[i] = s + (float)l->b[i];
    }
    break;
  case TWINN_LAYER_RELU:
    for (i = 0; i < l->n_out; i++) dst[i] = src[i] > 0.0f ? src[i] : 0.0f;
    break;
  case TWINN_LAYER_SIGMOID:
    for (i = 0; i < l->n_out; i++) dst[i] = 1.0f / (1.0f + expf(-src[i]));
    break;
  case TWINN_LAYER_TANH:
    for (i = 0; i < l->n_out; i++) dst[i] = tanhf(src[i]);
    break;
  }
}

twinn_status twinn_net_eval_upto(const twinn_net *net, const double *in, size_t after,
                                 double *out) {
  size_t k, w = twinn_net_max_width(net);
  double *a = NULL, *b = NULL, *t;
  twinn_status st = TWINN_ERR_USAGE;
  if (after > net->n_layers) goto fail;
  st = TWINN_ERR_NOMEM;
  a = twinn_mallocarray(w, sizeof *a);
  b = twinn_mallocarray(w, sizeof *b);
  if (!a || !b) goto fail;
  memcpy(a, in, net->n_in * sizeof *a);
  for (k = 0; k < after; k++) {
    layer_eval_f64(&net->layers[k], a, b);
    t = a;
    a = b;
    b = t;
  }
  memcpy(out, a, twinn_net_width_at(net, after) * sizeof *out);
  st = TWINN_OK;
fail:
  twinn_free(a);
  twinn_free(b);
  return st;
}

twinn_status twinn_net_eval(const twinn_net *net, const double *in, double *out) {
  return twinn_net_eval_upto(net, in, net->n_layers, out);
}

twinn_status twinn_net_eval_f32(const twinn_net *net, const double *in, double *out) {
  size_t k, w = twinn_net_max_width(net);
  float *a = NULL, *b = NULL, *t;
  twinn_status st = TWINN_ERR_NOMEM;
  a = twinn_mallocarray(w, sizeof *a);
  b = twinn_mallocarray(w, sizeof *b);
  if (!a || !b) goto fail;
  for (k = 0; k < net->n_in; k++) a[k] = (float)in[k];
  for (k = 0; k < net->n_layers; k++) {
    layer_eval_f32(&net->layers[k], a, b);
    t = a;
    a = b;
    b = t;
  }
  for (k = 0; k < net->n_out; k++) out[k] = (double)a[k];
  st = TWINN_OK;
fail:
  twinn_free(a);
  twinn_free(b);
  return st;
}
