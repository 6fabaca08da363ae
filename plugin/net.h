/* net.h: the network IR. A network is a chain of layers over flat row-major vectors of double:
 * affine maps y = W x + b and elementwise activations. Front ends (onnx/) lower into it; the
 * engine reads it only. Weights are stored in double, holding exactly the model's float values
 * (float32, float16 or dequantized int8 scaled), so every analysis is of the real-valued
 * function those weights define. Invariant: layer k's n_out == layer k+1's n_in. */
#ifndef TWINN_NET_H
#define TWINN_NET_H

#include "common.h"

typedef enum {
  TWINN_LAYER_AFFINE = 0, /* y = W x + b, W is n_out x n_in row-major */
  TWINN_LAYER_RELU,       /* y = max(x, 0), n_in == n_out */
  TWINN_LAYER_SIGMOID,    /* y = 1 / (1 + exp(-x)) (parsed, not yet analysed by every engine) */
  TWINN_LAYER_TANH        /* y = tanh(x) */
} twinn_layer_kind;

typedef struct {
  twinn_layer_kind kind;
  size_t n_in, n_out;
  double *w; /* AFFINE only: n_out * n_in, owned */
  double *b; /* AFFINE only: n_out, owned */
} twinn_layer;

/* ONNX tensor element types as in onnx.proto's TensorProto.DataType (1 = FLOAT, 10 = FLOAT16...).
 */
typedef int twinn_elem_type;

/* A named intermediate value of the source model (an ONNX node output) that equals the vector
 * after layer `after_layer` (0 = the input, k = after layers[k-1]). Used for declare-hidden. */
typedef struct {
  char *node_name;   /* ONNX node name (may be empty in the model) */
  char *tensor_name; /* ONNX output tensor name */
  size_t after_layer;
} twinn_tap;

typedef struct {
  char *path; /* the file it came from (for messages), owned, may be NULL */
  size_t n_in, n_out;
  /* Shapes as the model declares them (batch dimension included, e.g. [1,1,1,5]). */
  size_t in_rank, in_dims[8];
  size_t out_rank, out_dims[8];
  twinn_elem_type in_type, out_type;
  size_t n_layers;
  twinn_layer *layers; /* owned */
  size_t n_taps;
  twinn_tap *taps; /* owned */
} twinn_net;

/* An empty network with n inputs and no layers (identity). NULL on out of memory. */
twinn_net *twinn_net_new(size_t n_in);
/* Frees the network and everything it owns. NULL is a no-op. */
void twinn_net_free(twinn_net *net);
/* Appends an affine layer; takes ownership of w (n_out x n_in) and b (n_out) on success AND on
 * failure (they are freed). n_in must equal the current output width. */
twinn_status twinn_net_push_affine(twinn_net *net, size_t n_out, double *w, double *b,
                                   twinn_error *err);
/* Appends an elementwise activation of the current width. */
twinn_status twinn_net_push_act(twinn_net *net, twinn_layer_kind kind, twinn_error *err);
/* Current output width (n_in of an empty network). */
size_t twinn_net_width(const twinn_net *net);
/* Records a tap at the current end of the network. Names are copied. */
twinn_status twinn_net_add_tap(twinn_net *net, const char *node_name, const char *tensor_name,
                               twinn_error *err);

/* Concrete forward pass in double: out has n_out entries. scratch may be NULL (allocated). */
twinn_status twinn_net_eval(const twinn_net *net, const double *in, double *out);
/* The value after layer `after` (0..n_layers) into out (width of that point). */
twinn_status twinn_net_eval_upto(const twinn_net *net, const double *in, size_t after, double *out);
/* Forward pass in float32 arithmetic (weights rounded to float32 as the model stores them),
 * the way onnxruntime evaluates a float model: used to re-check witnesses. */
twinn_status twinn_net_eval_f32(const twinn_net *net, const double *in, double *out);
/* Width of the vector after layer `after` (0 = input). */
size_t twinn_net_width_at(const twinn_net *net, size_t after);
/* Largest layer width (inputs included): the size of scratch buffers. */
size_t twinn_net_max_width(const twinn_net *net);
/* Number of ReLU layers. */
size_t twinn_net_relu_layers(const twinn_net *net);
/* 1 if a and b have the same layer kinds and sizes (pairable for the differential analysis). */
int twinn_net_isomorphic(const twinn_net *a, const twinn_net *b);

#endif
