/* save.c: twinn_net -> ONNX model file (IR 7, opset 13): input "input" float [1, n_in], one
 * Gemm (transB = 1, float32 weights) per affine layer, Relu/Sigmoid/Tanh nodes, output
 * "output" float [1, n_out]. The message is built on the stack with protobuf-c's structs and
 * packed once; only the tensor payloads and names are heap-allocated. */
#include "graph.h"
#include "onnx_load.h"

#include <stdio.h>
#include <string.h>

/* Per-layer storage the packed message points into. */
typedef struct {
  Onnx__NodeProto node;
  Onnx__AttributeProto trans_b;
  Onnx__AttributeProto *attrs[1];
  char *inputs[3];
  char *outputs[1];
  char names[4][48]; /* node name, output, weight, bias */
  Onnx__TensorProto w, b;
  int64_t wdims[2], bdims[1];
} layer_msg;

/* float32 little-endian bytes of n doubles (rounded to nearest float). */
static uint8_t *float_bytes(const double *v, size_t n) {
  uint8_t *p = twinn_mallocarray(n, 4);
  size_t i, k;
  if (!p) return NULL;
  for (i = 0; i < n; i++) {
    float f = (float)v[i];
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    for (k = 0; k < 4; k++) p[4 * i + k] = (uint8_t)(u >> (8 * k));
  }
  return p;
}

static void value_info(Onnx__ValueInfoProto *vi, Onnx__TypeProto *tp, Onnx__TypeProto__Tensor *tt,
                       Onnx__TensorShapeProto *sh, Onnx__TensorShapeProto__Dimension *d,
                       Onnx__TensorShapeProto__Dimension **dp, char *name, size_t n) {
  onnx__value_info_proto__init(vi);
  onnx__type_proto__init(tp);
  onnx__type_proto__tensor__init(tt);
  onnx__tensor_shape_proto__init(sh);
  onnx__tensor_shape_proto__dimension__init(&d[0]);
  onnx__tensor_shape_proto__dimension__init(&d[1]);
  d[0].value_case = d[1].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
  d[0].dim_value = 1;
  d[1].dim_value = (int64_t)n;
  dp[0] = &d[0];
  dp[1] = &d[1];
  sh->n_dim = 2;
  sh->dim = dp;
  tt->has_elem_type = 1;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = sh;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->name = name;
  vi->type = tp;
}

twinn_status twinn_onnx_save_file(const twinn_net *net, const char *path, twinn_error *err) {
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset, *opsets[1] = {&opset};
  Onnx__ValueInfoProto vin, vout, *vins[1] = {&vin}, *vouts[1] = {&vout};
  Onnx__TypeProto tin, tout;
  Onnx__TypeProto__Tensor ttin, ttout;
  Onnx__TensorShapeProto sin, sout;
  Onnx__TensorShapeProto__Dimension din[2], dout[2], *dpin[2], *dpout[2];
  layer_msg *lm = NULL;
  Onnx__NodeProto **nodes = NULL;
  Onnx__TensorProto **inits = NULL;
  uint8_t *buf = NULL;
  size_t i, n_nodes, n_inits = 0, len;
  char in_name[] = "input", out_name[] = "output", domain[] = "", producer[] = "twinn";
  char *prev = in_name;
  FILE *f = NULL;
  twinn_status st = TWINN_OK;
  /* An empty network still needs one node: an Identity from input to output. */
  n_nodes = net->n_layers ? net->n_layers : 1;
  lm = twinn_calloc(n_nodes, sizeof *lm);
  nodes = twinn_calloc(n_nodes, sizeof *nodes);
  inits = twinn_calloc(2 * n_nodes, sizeof *inits);
  if (!lm || !nodes || !inits) goto nomem;
  for (i = 0; i < n_nodes; i++) {
    layer_msg *l = &lm[i];
    const twinn_layer *ly = net->n_layers ? &net->layers[i] : NULL;
    onnx__node_proto__init(&l->node);
    snprintf(l->names[0], sizeof l->names[0], "layer_%zu", i);
    snprintf(l->names[1], sizeof l->names[1], "layer_%zu_out", i);
    l->inputs[0] = prev;
    l->outputs[0] = i + 1 == n_nodes ? out_name : l->names[1];
    l->node.name = l->names[0];
    l->node.n_input = 1;
    l->node.input = l->inputs;
    l->node.n_output = 1;
    l->node.output = l->outputs;
    if (!ly) {
      l->node.op_type = (char *)"Identity";
    } else if (ly->kind == TWINN_LAYER_AFFINE) {
      l->node.op_type = (char *)"Gemm";
      snprintf(l->names[2], sizeof l->names[2], "layer_%zu_W", i);
      snprintf(l->names[3], sizeof l->names[3], "layer_%zu_B", i);
      l->inputs[1] = l->names[2];
      l->inputs[2] = l->names[3];
      l->node.n_input = 3;
      onnx__attribute_proto__init(&l->trans_b);
      l->trans_b.name = (char *)"transB";
      l->trans_b.has_type = 1;
      l->trans_b.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
      l->trans_b.has_i = 1;
      l->trans_b.i = 1;
      l->attrs[0] = &l->trans_b;
      l->node.n_attribute = 1;
      l->node.attribute = l->attrs;
      onnx__tensor_proto__init(&l->w);
      onnx__tensor_proto__init(&l->b);
      l->wdims[0] = (int64_t)ly->n_out;
      l->wdims[1] = (int64_t)ly->n_in;
      l->bdims[0] = (int64_t)ly->n_out;
      l->w.name = l->names[2];
      l->w.n_dims = 2;
      l->w.dims = l->wdims;
      l->b.name = l->names[3];
      l->b.n_dims = 1;
      l->b.dims = l->bdims;
      l->w.has_data_type = l->b.has_data_type = 1;
      l->w.data_type = l->b.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
      l->w.has_raw_data = l->b.has_raw_data = 1;
      l->w.raw_data.len = 4 * ly->n_out * ly->n_in;
      l->w.raw_data.data = float_bytes(ly->w, ly->n_out * ly->n_in);
      l->b.raw_data.len = 4 * ly->n_out;
      l->b.raw_data.data = float_bytes(ly->b, ly->n_out);
      inits[n_inits++] = &l->w;
      inits[n_inits++] = &l->b;
      if (!l->w.raw_data.data || !l->b.raw_data.data) goto nomem;
    } else {
      l->node.op_type = (char *)(ly->kind == TWINN_LAYER_RELU      ? "Relu"
                                 : ly->kind == TWINN_LAYER_SIGMOID ? "Sigmoid"
                                                                   : "Tanh");
    }
    nodes[i] = &l->node;
    prev = l->outputs[0];
  }
  value_info(&vin, &tin, &ttin, &sin, din, dpin, in_name, net->n_in);
  value_info(&vout, &tout, &ttout, &sout, dout, dpout, out_name, net->n_out);
  onnx__graph_proto__init(&graph);
  graph.name = producer;
  graph.n_node = n_nodes;
  graph.node = nodes;
  graph.n_initializer = n_inits;
  graph.initializer = inits;
  graph.n_input = 1;
  graph.input = vins;
  graph.n_output = 1;
  graph.output = vouts;
  onnx__operator_set_id_proto__init(&opset);
  opset.domain = domain;
  opset.has_version = 1;
  opset.version = 13;
  onnx__model_proto__init(&model);
  model.has_ir_version = 1;
  model.ir_version = 7;
  model.n_opset_import = 1;
  model.opset_import = opsets;
  model.producer_name = producer;
  model.graph = &graph;
  len = onnx__model_proto__get_packed_size(&model);
  buf = twinn_malloc(len);
  if (!buf) goto nomem;
  onnx__model_proto__pack(&model, buf);
  f = fopen(path, "wb");
  if (!f || fwrite(buf, 1, len, f) != len) {
    st = twinn_error_set(err, TWINN_ERR_IO, path, 0, 0, "cannot write file");
    goto done;
  }
  if (fclose(f) != 0) {
    f = NULL;
    st = twinn_error_set(err, TWINN_ERR_IO, path, 0, 0, "cannot write file");
    goto done;
  }
  f = NULL;
  goto done;
nomem:
  st = twinn_error_set(err, TWINN_ERR_NOMEM, path, 0, 0, "out of memory while saving");
done:
  if (f) fclose(f);
  for (i = 0; lm && i < n_nodes; i++) {
    twinn_free(lm[i].w.raw_data.data);
    twinn_free(lm[i].b.raw_data.data);
  }
  twinn_free(lm);
  twinn_free(nodes);
  twinn_free(inits);
  twinn_free(buf);
  return st;
}
