/* mkbad_onnx.c: writes tests/data/bad/, one malformed ONNX model per error with NAME.expected
 * holding a substring the loader's message must contain. Built by hand, not by CMake:
 *   cc -I BUILD/gen mkbad_onnx.c BUILD/gen/onnx.pb-c.c -lprotobuf-c -o mkbad && ./mkbad DIR
 * Each model is a valid small network (input x [1,4], Gemm 4->3) with exactly one defect. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

static const char *out_dir;

static void write_file(const char *name, const void *data, size_t n, const char *expected) {
  char path[1024];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s.onnx", out_dir, name);
  f = fopen(path, "wb");
  if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
  snprintf(path, sizeof path, "%s/%s.onnx.expected", out_dir, name);
  f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(1);
  }
  fprintf(f, "%s\n", expected);
  fclose(f);
}

/* The parts of the model every case starts from; cases edit them before packing. */
typedef struct {
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset, *opsets[1];
  Onnx__ValueInfoProto vin[2], vout, *vins[2], *vouts[1];
  Onnx__TypeProto tp[3];
  Onnx__TypeProto__Tensor tt[3];
  Onnx__TensorShapeProto sh[3];
  Onnx__TensorShapeProto__Dimension d[3][2], *dp[3][2];
  Onnx__NodeProto node[3], *nodes[3];
  Onnx__AttributeProto tb, *attrs[1];
  char *in0[3], *in1[2], *in2[2], *out0[1], *out1[1], *out2[1];
  Onnx__TensorProto w, b, *inits[2];
  int64_t wdims[2], bdims[1];
  float wv[12], bv[3];
} model_parts;

static void vi(model_parts *m, int k, Onnx__ValueInfoProto *v, const char *name, int64_t n) {
  onnx__value_info_proto__init(v);
  onnx__type_proto__init(&m->tp[k]);
  onnx__type_proto__tensor__init(&m->tt[k]);
  onnx__tensor_shape_proto__init(&m->sh[k]);
  onnx__tensor_shape_proto__dimension__init(&m->d[k][0]);
  onnx__tensor_shape_proto__dimension__init(&m->d[k][1]);
  m->d[k][0].value_case = m->d[k][1].value_case =
      ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
  m->d[k][0].dim_value = 1;
  m->d[k][1].dim_value = n;
  m->dp[k][0] = &m->d[k][0];
  m->dp[k][1] = &m->d[k][1];
  m->sh[k].n_dim = 2;
  m->sh[k].dim = m->dp[k];
  m->tt[k].has_elem_type = 1;
  m->tt[k].elem_type = 1;
  m->tt[k].shape = &m->sh[k];
  m->tp[k].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  m->tp[k].tensor_type = &m->tt[k];
  v->name = (char *)name;
  v->type = &m->tp[k];
}

static void tensor(Onnx__TensorProto *t, const char *name, size_t rank, int64_t *dims, float *v,
                   size_t n) {
  onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->n_dims = rank;
  t->dims = dims;
  t->has_data_type = 1;
  t->data_type = 1;
  t->n_float_data = n;
  t->float_data = v;
}

/* x [1,4] -> Gemm(W [3,4], B [3], transB=1) 'gemm_1' -> y [1,3] */
static void base(model_parts *m) {
  size_t i;
  memset(m, 0, sizeof *m);
  for (i = 0; i < 12; i++) m->wv[i] = (float)i * 0.25f - 1.0f;
  for (i = 0; i < 3; i++) m->bv[i] = 0.5f;
  m->wdims[0] = 3;
  m->wdims[1] = 4;
  m->bdims[0] = 3;
  tensor(&m->w, "W", 2, m->wdims, m->wv, 12);
  tensor(&m->b, "B", 1, m->bdims, m->bv, 3);
  m->inits[0] = &m->w;
  m->inits[1] = &m->b;
  onnx__attribute_proto__init(&m->tb);
  m->tb.name = (char *)"transB";
  m->tb.has_type = 1;
  m->tb.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  m->tb.has_i = 1;
  m->tb.i = 1;
  m->attrs[0] = &m->tb;
  onnx__node_proto__init(&m->node[0]);
  m->in0[0] = (char *)"x";
  m->in0[1] = (char *)"W";
  m->in0[2] = (char *)"B";
  m->out0[0] = (char *)"y";
  m->node[0].name = (char *)"gemm_1";
  m->node[0].op_type = (char *)"Gemm";
  m->node[0].n_input = 3;
  m->node[0].input = m->in0;
  m->node[0].n_output = 1;
  m->node[0].output = m->out0;
  m->node[0].n_attribute = 1;
  m->node[0].attribute = m->attrs;
  m->nodes[0] = &m->node[0];
  vi(m, 0, &m->vin[0], "x", 4);
  vi(m, 2, &m->vout, "y", 3);
  m->vins[0] = &m->vin[0];
  m->vouts[0] = &m->vout;
  onnx__graph_proto__init(&m->graph);
  m->graph.name = (char *)"bad";
  m->graph.n_node = 1;
  m->graph.node = m->nodes;
  m->graph.n_initializer = 2;
  m->graph.initializer = m->inits;
  m->graph.n_input = 1;
  m->graph.input = m->vins;
  m->graph.n_output = 1;
  m->graph.output = m->vouts;
  onnx__operator_set_id_proto__init(&m->opset);
  m->opset.domain = (char *)"";
  m->opset.has_version = 1;
  m->opset.version = 13;
  m->opsets[0] = &m->opset;
  onnx__model_proto__init(&m->model);
  m->model.has_ir_version = 1;
  m->model.ir_version = 7;
  m->model.n_opset_import = 1;
  m->model.opset_import = m->opsets;
  m->model.graph = &m->graph;
}

/* Appends node 1: op applied to y, producing z, which becomes the graph output. */
static void second_node(model_parts *m, const char *name, const char *op, int n_in,
                        const char *in_a, const char *in_b) {
  onnx__node_proto__init(&m->node[1]);
  m->in1[0] = (char *)in_a;
  m->in1[1] = (char *)in_b;
  m->out1[0] = (char *)"z";
  m->node[1].name = (char *)name;
  m->node[1].op_type = (char *)op;
  m->node[1].n_input = (size_t)n_in;
  m->node[1].input = m->in1;
  m->node[1].n_output = 1;
  m->node[1].output = m->out1;
  m->nodes[1] = &m->node[1];
  m->graph.n_node = 2;
  m->vout.name = (char *)"z";
}

static void emit(model_parts *m, const char *name, const char *expected) {
  size_t n = onnx__model_proto__get_packed_size(&m->model);
  unsigned char *buf = malloc(n);
  onnx__model_proto__pack(&m->model, buf);
  write_file(name, buf, n, expected);
  free(buf);
}

int main(int argc, char **argv) {
  model_parts m;
  size_t n;
  unsigned char *buf;
  static const char text[] = "this is not an ONNX model, just text\n";
  if (argc != 2) {
    fprintf(stderr, "usage: mkbad_onnx DIR\n");
    return 2;
  }
  out_dir = argv[1];
  write_file("not_protobuf", text, sizeof text - 1, "protobuf decoding failed");

  base(&m); /* sanity: the base model itself is fine; truncate it in the weights */
  n = onnx__model_proto__get_packed_size(&m.model);
  buf = malloc(n);
  onnx__model_proto__pack(&m.model, buf);
  write_file("truncated", buf, n / 2, "protobuf decoding failed");
  free(buf);

  base(&m);
  m.node[0].op_type = (char *)"Softmax";
  m.node[0].n_attribute = 0;
  m.node[0].n_input = 1;
  emit(&m, "unknown_op", "node 'gemm_1' (Softmax): operator not supported");

  base(&m);
  vi(&m, 1, &m.vin[1], "x2", 4);
  m.vins[1] = &m.vin[1];
  m.graph.n_input = 2;
  emit(&m, "two_inputs", "more than one graph input");

  base(&m);
  m.wdims[0] = 4;
  m.wdims[1] = 3;
  emit(&m, "bad_gemm_shape", "node 'gemm_1' (Gemm): B has shape [4,3]");

  base(&m);
  m.tb.i = 2;
  emit(&m, "gemm_bad_trans", "node 'gemm_1' (Gemm): attribute transA=0/transB=2 not supported");

  base(&m);
  m.wdims[0] = 1 << 20;
  m.wdims[1] = 1 << 20;
  emit(&m, "huge_dims", "initializer 'W': tensor too large");

  base(&m);
  m.wv[5] = NAN;
  emit(&m, "nan_weights", "initializer 'W': weight is NaN/Inf");

  base(&m);
  m.bv[1] = INFINITY;
  emit(&m, "inf_bias", "initializer 'B': weight is NaN/Inf");

  base(&m);
  m.bdims[0] = 5;
  emit(&m, "size_mismatch", "initializer 'B': tensor holds 3 values, shape needs 5");

  base(&m);
  second_node(&m, "add_1", "Add", 2, "y", "y");
  emit(&m, "branching", "node 'add_1' (Add): tensor 'y' used twice (branching graphs");

  base(&m);
  second_node(&m, "div_1", "Div", 2, "B", "y");
  m.bdims[0] = 3;
  emit(&m, "div_by_variable", "node 'div_1' (Div): division by a variable is not linear");

  base(&m);
  second_node(&m, "mul_1", "Mul", 2, "y", "unknown_tensor");
  emit(&m, "unknown_input", "input 'unknown_tensor' is neither a constant nor the current tensor");

  base(&m);
  m.opset.version = 99;
  emit(&m, "bad_opset", "ONNX opset 99 not supported");

  base(&m);
  m.model.graph = NULL;
  emit(&m, "no_graph", "not a valid ONNX model (no graph)");

  base(&m);
  m.vout.name = (char *)"elsewhere";
  emit(&m, "wrong_output", "graph output 'elsewhere' is not the end");

  base(&m);
  m.node[0].domain = (char *)"com.microsoft";
  emit(&m, "foreign_domain",
       "node 'gemm_1' (Gemm): operator not supported (domain 'com.microsoft')");

  base(&m);
  m.tt[0].elem_type = 7;
  emit(&m, "int_input", "graph input 'x' has element type 7");
  return 0;
}
