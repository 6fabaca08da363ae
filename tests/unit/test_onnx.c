/* test_onnx.c: the ONNX front end against the shared benchmarks: every model loads, the
 * double forward pass matches the reference outputs, twins are isomorphic, the QDQ twin equals
 * the int8 twin, save/load round-trips, gzip input, each tests/data/bad file fails with its
 * expected message, and every allocation failure while loading is reported as NOMEM. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "onnx.pb-c.h"
#include "onnx_load.h"

#define BENCH TWINN_SHARED_DIR "/benchmarks"

static twinn_net *load_ok(const char *path) {
  twinn_error err;
  twinn_net *net = NULL;
  char msg[1200];
  twinn_status st;
  twinn_error_clear(&err);
  st = twinn_onnx_load_file(path, &net, &err);
  twinn_error_format(&err, msg, sizeof msg);
  if (st != TWINN_OK) fail_msg("%s: %s", path, msg);
  assert_non_null(net);
  return net;
}

static void test_all_benchmarks_load(void **state) {
  DIR *top = opendir(BENCH "/onnx"), *sub;
  struct dirent *d, *e;
  char dir[1024], path[2048];
  int count = 0;
  (void)state;
  assert_non_null(top);
  while ((d = readdir(top))) {
    if (d->d_name[0] == '.') continue;
    snprintf(dir, sizeof dir, "%s/onnx/%s", BENCH, d->d_name);
    sub = opendir(dir);
    if (!sub) continue;
    while ((e = readdir(sub))) {
      size_t len = strlen(e->d_name);
      twinn_net *net;
      if (len < 5 || strcmp(e->d_name + len - 5, ".onnx") != 0) continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      net = load_ok(path);
      assert_true(net->n_layers >= 3);
      assert_true(net->n_taps >= 2);
      assert_int_equal(net->taps[net->n_taps - 1].after_layer, net->n_layers);
      assert_int_equal(net->in_type, 1);
      twinn_net_free(net);
      count++;
    }
    closedir(sub);
  }
  closedir(top);
  assert_true(count >= 10);
}

/* Reads whitespace-separated doubles after the 2-char tag of line into v (at most cap). */
static size_t parse_values(const char *line, double *v, size_t cap) {
  size_t n = 0;
  char *end;
  const char *p = line + 2;
  while (n < cap) {
    double d = strtod(p, &end);
    if (end == p) break;
    v[n++] = d;
    p = end;
  }
  return n;
}

static void check_reference(const char *file) {
  char path[1024], model[1024];
  FILE *f;
  char *line = NULL;
  size_t cap = 0;
  double *x = NULL, *y = NULL, *out = NULL;
  size_t nx = 0, ny, i;
  int cases = 0;
  twinn_net *net = NULL;
  snprintf(path, sizeof path, "%s/reference/%s", BENCH, file);
  f = fopen(path, "r");
  assert_non_null(f);
  while (getline(&line, &cap, f) > 0) {
    if (line[0] == '#' && !net) {
      char *colon = strchr(line, ':');
      assert_non_null(colon);
      *colon = '\0';
      snprintf(model, sizeof model, "%s/%s", BENCH, line + 2);
      net = load_ok(model);
      x = calloc(net->n_in, sizeof *x);
      y = calloc(net->n_out, sizeof *y);
      out = calloc(net->n_out, sizeof *out);
    } else if (line[0] == 'x' && net) {
      nx = parse_values(line, x, net->n_in);
      assert_int_equal(nx, net->n_in);
    } else if (line[0] == 'y' && net) {
      ny = parse_values(line, y, net->n_out);
      assert_int_equal(ny, net->n_out);
      assert_int_equal(twinn_net_eval(net, x, out), TWINN_OK);
      for (i = 0; i < ny; i++)
        if (fabs(out[i] - y[i]) > 1e-5 * fmax(1.0, fabs(y[i])))
          fail_msg("%s case %d output %zu: got %.17g want %.17g", file, cases, i, out[i], y[i]);
      cases++;
    }
  }
  assert_true(cases >= 1);
  free(line);
  free(x);
  free(y);
  free(out);
  fclose(f);
  twinn_net_free(net);
}

static void test_reference_outputs(void **state) {
  DIR *dir = opendir(BENCH "/reference");
  struct dirent *d;
  int n = 0;
  (void)state;
  assert_non_null(dir);
  while ((d = readdir(dir))) {
    if (!strstr(d->d_name, ".txt")) continue;
    check_reference(d->d_name);
    n++;
  }
  closedir(dir);
  assert_true(n >= 1);
}

static void test_twins_isomorphic(void **state) {
  static const char *const twins[][2] = {
      {"acasxu/acasxu_1_1.onnx", "acasxu_fp16/acasxu_1_1_fp16.onnx"},
      {"acasxu/acasxu_1_1.onnx", "acasxu_int8/acasxu_1_1_int8.onnx"},
      {"acasxu/acasxu_1_1.onnx", "acasxu_prune10/acasxu_1_1_prune10.onnx"},
      {"acasxu/acasxu_1_1.onnx", "acasxu_qdq/acasxu_1_1_qdq.onnx"},
      {"mnist/mnist_256x2.onnx", "mnist_int8/mnist_256x2_int8.onnx"},
      {"mnist/mnist_256x2.onnx", "mnist_fp16/mnist_256x2_fp16.onnx"},
  };
  size_t i;
  char a[1024], b[1024];
  twinn_net *na, *nb, *other;
  (void)state;
  for (i = 0; i < sizeof twins / sizeof twins[0]; i++) {
    snprintf(a, sizeof a, "%s/onnx/%s", BENCH, twins[i][0]);
    snprintf(b, sizeof b, "%s/onnx/%s", BENCH, twins[i][1]);
    na = load_ok(a);
    nb = load_ok(b);
    assert_true(twinn_net_isomorphic(na, nb));
    assert_int_equal(na->n_taps, nb->n_taps);
    twinn_net_free(na);
    twinn_net_free(nb);
  }
  na = load_ok(BENCH "/onnx/acasxu/acasxu_1_1.onnx");
  other = load_ok(BENCH "/onnx/mnist/mnist_256x2.onnx");
  assert_false(twinn_net_isomorphic(na, other));
  twinn_net_free(na);
  twinn_net_free(other);
}

static void test_qdq_equals_int8(void **state) {
  twinn_net *q = load_ok(BENCH "/onnx/acasxu_qdq/acasxu_1_1_qdq.onnx");
  twinn_net *i8 = load_ok(BENCH "/onnx/acasxu_int8/acasxu_1_1_int8.onnx");
  double in[5], oq[5], oi[5];
  int k;
  size_t j;
  (void)state;
  srand(3);
  for (k = 0; k < 100; k++) {
    for (j = 0; j < 5; j++) in[j] = (double)rand() / RAND_MAX - 0.5;
    assert_int_equal(twinn_net_eval(q, in, oq), TWINN_OK);
    assert_int_equal(twinn_net_eval(i8, in, oi), TWINN_OK);
    for (j = 0; j < 5; j++) assert_true(fabs(oq[j] - oi[j]) <= 1e-6 * fmax(1.0, fabs(oi[j])));
  }
  twinn_net_free(q);
  twinn_net_free(i8);
}

/* A random float-valued network 4 -> 6 -> relu -> 5 -> tanh -> 3. */
static twinn_net *random_net(unsigned seed) {
  static const size_t widths[] = {4, 6, 5, 3};
  twinn_error err;
  twinn_net *net = twinn_net_new(4);
  size_t l, i;
  twinn_error_clear(&err);
  srand(seed);
  assert_non_null(net);
  for (l = 0; l < 3; l++) {
    size_t ni = widths[l], no = widths[l + 1];
    double *w = twinn_mallocarray(ni * no, sizeof *w), *b = twinn_mallocarray(no, sizeof *b);
    assert_non_null(w);
    assert_non_null(b);
    for (i = 0; i < ni * no; i++) w[i] = (double)(float)((double)rand() / RAND_MAX - 0.5);
    for (i = 0; i < no; i++) b[i] = (double)(float)((double)rand() / RAND_MAX - 0.5);
    assert_int_equal(twinn_net_push_affine(net, no, w, b, &err), TWINN_OK);
    if (l < 2)
      assert_int_equal(twinn_net_push_act(net, l ? TWINN_LAYER_TANH : TWINN_LAYER_RELU, &err),
                       TWINN_OK);
  }
  return net;
}

static void tmp_path(char *buf, size_t n, const char *suffix) {
  snprintf(buf, n, "/tmp/twinn_test_onnx_%ld%s", (long)getpid(), suffix);
}

static void test_round_trip(void **state) {
  twinn_net *a = random_net(11), *b;
  twinn_error err;
  char path[256];
  double in[4], oa[3], ob[3];
  int k;
  size_t j;
  (void)state;
  twinn_error_clear(&err);
  tmp_path(path, sizeof path, ".onnx");
  assert_int_equal(twinn_onnx_save_file(a, path, &err), TWINN_OK);
  b = load_ok(path);
  assert_true(twinn_net_isomorphic(a, b));
  assert_int_equal(b->in_rank, 2);
  assert_int_equal(b->in_dims[1], 4);
  assert_int_equal(b->out_dims[1], 3);
  for (k = 0; k < 50; k++) {
    for (j = 0; j < 4; j++) in[j] = (double)rand() / RAND_MAX * 2 - 1;
    assert_int_equal(twinn_net_eval(a, in, oa), TWINN_OK);
    assert_int_equal(twinn_net_eval(b, in, ob), TWINN_OK);
    for (j = 0; j < 3; j++) assert_true(oa[j] == ob[j]); /* float weights: exact */
  }
  /* Save into a directory that does not exist: an IO error, not a crash. */
  twinn_error_clear(&err);
  assert_int_equal(twinn_onnx_save_file(a, "/nonexistent/dir/x.onnx", &err), TWINN_ERR_IO);
  remove(path);
  twinn_net_free(a);
  twinn_net_free(b);
}

static void test_gzip(void **state) {
  twinn_net *a = random_net(5), *b;
  twinn_error err;
  char path[256], gzpath[256];
  FILE *f;
  gzFile gz;
  char buf[4096];
  size_t got;
  double in[4] = {0.1, -0.2, 0.3, 0.4}, oa[3], ob[3];
  (void)state;
  twinn_error_clear(&err);
  tmp_path(path, sizeof path, ".onnx");
  tmp_path(gzpath, sizeof gzpath, ".onnx.gz");
  assert_int_equal(twinn_onnx_save_file(a, path, &err), TWINN_OK);
  f = fopen(path, "rb");
  gz = gzopen(gzpath, "wb");
  assert_non_null(f);
  assert_non_null(gz);
  while ((got = fread(buf, 1, sizeof buf, f)) > 0)
    assert_int_equal(gzwrite(gz, buf, (unsigned)got), (int)got);
  fclose(f);
  gzclose(gz);
  b = load_ok(gzpath);
  assert_int_equal(twinn_net_eval(a, in, oa), TWINN_OK);
  assert_int_equal(twinn_net_eval(b, in, ob), TWINN_OK);
  assert_true(oa[0] == ob[0] && oa[2] == ob[2]);
  remove(path);
  remove(gzpath);
  twinn_net_free(a);
  twinn_net_free(b);
}

static void test_bad_inputs(void **state) {
  DIR *dir = opendir(TWINN_SOURCE_DIR "/tests/data/bad");
  struct dirent *d;
  int n = 0;
  twinn_net *net;
  twinn_error err;
  (void)state;
  assert_non_null(dir);
  while ((d = readdir(dir))) {
    size_t len = strlen(d->d_name);
    char path[1024], exp_path[1100], expected[512], msg[1200];
    FILE *f;
    twinn_status st;
    if (len < 5 || strcmp(d->d_name + len - 5, ".onnx") != 0) continue;
    snprintf(path, sizeof path, "%s/tests/data/bad/%s", TWINN_SOURCE_DIR, d->d_name);
    snprintf(exp_path, sizeof exp_path, "%s.expected", path);
    f = fopen(exp_path, "r");
    if (!f) fail_msg("%s: missing .expected file", path);
    assert_non_null(fgets(expected, sizeof expected, f));
    fclose(f);
    expected[strcspn(expected, "\r\n")] = '\0';
    twinn_error_clear(&err);
    st = twinn_onnx_load_file(path, &net, &err);
    twinn_error_format(&err, msg, sizeof msg);
    if (st == TWINN_OK) fail_msg("%s: loaded, expected an error '%s'", path, expected);
    assert_null(net);
    assert_int_equal(err.status, st);
    if (!strstr(msg, expected)) fail_msg("%s: message '%s' lacks '%s'", path, msg, expected);
    n++;
  }
  closedir(dir);
  assert_true(n >= 6);
  twinn_error_clear(&err);
  assert_int_equal(twinn_onnx_load_file("/nonexistent.onnx", &net, &err), TWINN_ERR_IO);
  twinn_error_clear(&err);
  assert_int_equal(twinn_onnx_load_buffer("", 0, "empty", &net, &err), TWINN_ERR_SYNTAX);
}

static void test_out_of_memory(void **state) {
  twinn_net *a = random_net(9), *b = NULL;
  twinn_error err;
  char path[256];
  unsigned long k;
  int loaded = 0;
  (void)state;
  twinn_error_clear(&err);
  tmp_path(path, sizeof path, "_oom.onnx");
  assert_int_equal(twinn_onnx_save_file(a, path, &err), TWINN_OK);
  for (k = 1; k < 2000 && !loaded; k++) {
    twinn_status st;
    twinn_error_clear(&err);
    twinn_alloc_set_fail(k);
    st = twinn_onnx_load_file(path, &b, &err);
    twinn_alloc_set_fail(0);
    if (st == TWINN_OK) {
      loaded = 1;
      assert_true(twinn_net_isomorphic(a, b));
      twinn_net_free(b);
    } else {
      if (st != TWINN_ERR_NOMEM) fail_msg("k=%lu: status %d (%s)", k, (int)st, err.msg);
      assert_null(b);
    }
  }
  assert_true(loaded);
  assert_true(k > 10); /* the load really allocates: failures were exercised */
  /* Saving under allocation failure too. */
  for (k = 1; k < 200; k++) {
    twinn_status st;
    twinn_error_clear(&err);
    twinn_alloc_set_fail(k);
    st = twinn_onnx_save_file(a, path, &err);
    twinn_alloc_set_fail(0);
    assert_true(st == TWINN_OK || st == TWINN_ERR_NOMEM);
    if (st == TWINN_OK) break;
  }
  remove(path);
  twinn_net_free(a);
}

static void test_operator_list(void **state) {
  const char *const *ops = twinn_onnx_operators(), *const *types = twinn_onnx_element_types();
  int gemm = 0, n = 0;
  (void)state;
  for (; *ops; ops++, n++) gemm |= strcmp(*ops, "Gemm") == 0;
  assert_true(gemm && n > 10);
  assert_string_equal(types[0], "float32");
  assert_true(TWINN_ONNX_OPSET_MIN <= 8 && TWINN_ONNX_OPSET_MAX >= 13);
}

/* ---- a crafted Conv -> BatchNormalization -> Relu -> Flatten -> Sub(c - y) model ---- */

static Onnx__TensorProto *ftensor(const char *name, size_t rank, int64_t *dims, float *v,
                                  size_t n) {
  Onnx__TensorProto *t = calloc(1, sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->n_dims = rank;
  t->dims = dims;
  t->has_data_type = 1;
  t->data_type = 1;
  t->n_float_data = n;
  t->float_data = v;
  return t;
}

static Onnx__AttributeProto *iattrs(const char *name, int64_t *v, size_t n) {
  Onnx__AttributeProto *a = calloc(1, sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = (char *)name;
  a->has_type = 1;
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  a->n_ints = n;
  a->ints = v;
  return a;
}

static void test_conv_batchnorm(void **state) {
  static float W[8] = {0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 1.5f, 1.0f, -0.5f}, B[2] = {0.1f, -0.2f};
  static float sc[2] = {2.0f, 0.5f}, bb[2] = {0.0f, 1.0f}, mu[2] = {0.25f, -0.5f},
               var[2] = {1.0f, 4.0f};
  static float cst[1] = {3.0f};
  static int64_t wd[4] = {2, 1, 2, 2}, bd[1] = {2}, cd[1] = {1}, pads[4] = {1, 1, 1, 1},
                 strides[2] = {2, 2};
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset, *opsets[1] = {&opset};
  Onnx__TensorProto *inits[7];
  Onnx__NodeProto nodes[4], *np[4];
  Onnx__AttributeProto *conv_attrs[2];
  Onnx__ValueInfoProto vin, vout, *vins[1] = {&vin}, *vouts[1] = {&vout};
  Onnx__TypeProto tin;
  Onnx__TypeProto__Tensor ttin;
  Onnx__TensorShapeProto sin;
  Onnx__TensorShapeProto__Dimension dims[4], *dp[4];
  char *in_conv[3] = {"x", "W", "B"}, *out_conv[1] = {"c"};
  char *in_bn[5] = {"c", "s", "bb", "mu", "var"}, *out_bn[1] = {"n"};
  char *in_relu[1] = {"n"}, *out_relu[1] = {"r"}, *in_fl[1] = {"r"}, *out_fl[1] = {"f"};
  char *in_sub[2] = {"k", "f"}, *out_sub[1] = {"out"};
  char **ins[5] = {in_conv, in_bn, in_relu, in_fl, in_sub},
       **outs[5] = {out_conv, out_bn, out_relu, out_fl, out_sub};
  static const char *ops[5] = {"Conv", "BatchNormalization", "Relu", "Flatten", "Sub"};
  static const size_t nin[5] = {3, 5, 1, 1, 2};
  Onnx__NodeProto sub;
  uint8_t *buf;
  size_t len, i, o, oy, ox, ky, kx;
  int64_t d4[4] = {1, 1, 3, 3};
  twinn_net *net = NULL;
  twinn_error err;
  double xin[9], got[8], want[8];
  (void)state;
  inits[0] = ftensor("W", 4, wd, W, 8);
  inits[1] = ftensor("B", 1, bd, B, 2);
  inits[2] = ftensor("s", 1, bd, sc, 2);
  inits[3] = ftensor("bb", 1, bd, bb, 2);
  inits[4] = ftensor("mu", 1, bd, mu, 2);
  inits[5] = ftensor("var", 1, bd, var, 2);
  inits[6] = ftensor("k", 1, cd, cst, 1);
  conv_attrs[0] = iattrs("pads", pads, 4);
  conv_attrs[1] = iattrs("strides", strides, 2);
  for (i = 0; i < 5; i++) {
    Onnx__NodeProto *n = i < 4 ? &nodes[i] : &sub;
    onnx__node_proto__init(n);
    n->op_type = (char *)ops[i];
    n->n_input = nin[i];
    n->input = ins[i];
    n->n_output = 1;
    n->output = outs[i];
    if (i < 4) np[i] = n;
  }
  nodes[0].n_attribute = 2;
  nodes[0].attribute = conv_attrs;
  onnx__graph_proto__init(&graph);
  graph.n_node = 4;
  graph.node = np;
  np[3] = &nodes[3];
  onnx__value_info_proto__init(&vin);
  onnx__type_proto__init(&tin);
  onnx__type_proto__tensor__init(&ttin);
  onnx__tensor_shape_proto__init(&sin);
  for (i = 0; i < 4; i++) {
    onnx__tensor_shape_proto__dimension__init(&dims[i]);
    dims[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    dims[i].dim_value = d4[i];
    dp[i] = &dims[i];
  }
  sin.n_dim = 4;
  sin.dim = dp;
  ttin.has_elem_type = 1;
  ttin.elem_type = 1;
  ttin.shape = &sin;
  tin.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tin.tensor_type = &ttin;
  vin.name = "x";
  vin.type = &tin;
  onnx__value_info_proto__init(&vout);
  vout.name = "out";
  graph.n_initializer = 7;
  graph.initializer = inits;
  graph.n_input = 1;
  graph.input = vins;
  graph.n_output = 1;
  graph.output = vouts;
  onnx__operator_set_id_proto__init(&opset);
  opset.has_version = 1;
  opset.version = 11;
  onnx__model_proto__init(&model);
  model.has_ir_version = 1;
  model.ir_version = 6;
  model.n_opset_import = 1;
  model.opset_import = opsets;
  model.graph = &graph;
  /* Four nodes packed first (graph output 'f'), then with Sub appended (output 'out'). */
  {
    Onnx__NodeProto *all[5] = {&nodes[0], &nodes[1], &nodes[2], &nodes[3], &sub};
    graph.node = all;
    graph.n_node = 5;
    len = onnx__model_proto__get_packed_size(&model);
    buf = malloc(len);
    onnx__model_proto__pack(&model, buf);
  }
  twinn_error_clear(&err);
  assert_int_equal(twinn_onnx_load_buffer(buf, len, "conv.onnx", &net, &err), TWINN_OK);
  assert_int_equal(net->n_in, 9);
  assert_int_equal(net->n_out, 8);
  assert_int_equal(net->n_layers, 3); /* affine, relu, affine */
  for (i = 0; i < 9; i++) xin[i] = (double)i * 0.3 - 1.1;
  /* Direct: 3x3 input, pad 1, kernel 2, stride 2 -> 2x2 per output channel. */
  for (o = 0; o < 2; o++)
    for (oy = 0; oy < 2; oy++)
      for (ox = 0; ox < 2; ox++) {
        double s = B[o], bn;
        for (ky = 0; ky < 2; ky++)
          for (kx = 0; kx < 2; kx++) {
            long iy = (long)(oy * 2 + ky) - 1, ix = (long)(ox * 2 + kx) - 1;
            if (iy < 0 || iy > 2 || ix < 0 || ix > 2) continue;
            s += W[o * 4 + ky * 2 + kx] * xin[iy * 3 + ix];
          }
        bn = sc[o] * (s - mu[o]) / sqrt(var[o] + 1e-5) + bb[o];
        want[(o * 2 + oy) * 2 + ox] = 3.0 - (bn > 0 ? bn : 0);
      }
  assert_int_equal(twinn_net_eval(net, xin, got), TWINN_OK);
  for (i = 0; i < 8; i++) assert_true(fabs(got[i] - want[i]) < 1e-6);
  twinn_net_free(net);
  free(buf);
  for (i = 0; i < 7; i++) free(inits[i]);
  free(conv_attrs[0]);
  free(conv_attrs[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_benchmarks_load), cmocka_unit_test(test_reference_outputs),
      cmocka_unit_test(test_twins_isomorphic),    cmocka_unit_test(test_qdq_equals_int8),
      cmocka_unit_test(test_round_trip),          cmocka_unit_test(test_gzip),
      cmocka_unit_test(test_bad_inputs),          cmocka_unit_test(test_out_of_memory),
      cmocka_unit_test(test_operator_list),       cmocka_unit_test(test_conv_batchnorm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
