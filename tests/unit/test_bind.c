/* test_bind.c: twinn_problem_bind and twinn_problem_complete. Names matched to --network names
 * (missing, extra, duplicate, equal-to), element counts ([5] matches [1,1,1,5]), element types
 * (real matches any), hidden node names, VNN-LIB 1.0's single network, out of memory, and that
 * complete fills hidden and output values as the networks compute them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

#include "twinn.h"
#include "vnnlib.h"

/* 3 -> affine(4) -> relu [tap "h1"] -> affine(2), weights from a fixed formula. */
static twinn_net *small_net(double scale) {
  twinn_net *net = twinn_net_new(3);
  double *w1 = twinn_mallocarray(12, sizeof *w1), *b1 = twinn_mallocarray(4, sizeof *b1);
  double *w2 = twinn_mallocarray(8, sizeof *w2), *b2 = twinn_mallocarray(2, sizeof *b2);
  size_t i;
  assert_true(net && w1 && b1 && w2 && b2);
  for (i = 0; i < 12; i++) w1[i] = scale * ((double)(i % 5) - 2.0) / 3.0;
  for (i = 0; i < 4; i++) b1[i] = 0.1 * (double)i - 0.15;
  for (i = 0; i < 8; i++) w2[i] = scale * ((double)(i % 3) - 1.0);
  for (i = 0; i < 2; i++) b2[i] = 0.5 * (double)i;
  assert_int_equal(twinn_net_push_affine(net, 4, w1, b1, NULL), TWINN_OK);
  assert_int_equal(twinn_net_push_act(net, TWINN_LAYER_RELU, NULL), TWINN_OK);
  assert_int_equal(twinn_net_add_tap(net, "relu_1", "h1", NULL), TWINN_OK);
  assert_int_equal(twinn_net_push_affine(net, 2, w2, b2, NULL), TWINN_OK);
  net->in_rank = 4;
  net->in_dims[0] = net->in_dims[1] = net->in_dims[2] = 1;
  net->in_dims[3] = 3;
  net->out_rank = 2;
  net->out_dims[0] = 1;
  net->out_dims[1] = 2;
  net->in_type = net->out_type = 1; /* float32 */
  return net;
}

static const char *two_nets =
    "(vnnlib-version <2.0>)\n"
    "(declare-network f (declare-input X_f float32 [3]) (declare-hidden H_f real [4] \"relu_1\") "
    "(declare-output Y_f real [2]))\n"
    "(declare-network g (isomorphic-to f) (declare-input X_g real [1,3]) (declare-output Y_g real "
    "[2]))\n"
    "(assert (<= X_f[0] 1))\n";

/* Binds and returns the status; the error message lands in msg. */
static twinn_status bind(const twinn_prop *prop, size_t n, const char *const *names,
                         const twinn_net *const *nets, char *msg) {
  twinn_problem pb;
  twinn_error err;
  twinn_status st;
  twinn_error_clear(&err);
  st = twinn_problem_bind(&pb, prop, n, names, nets, &err);
  if (st == TWINN_OK) twinn_problem_release(&pb);
  snprintf(msg, 512, "%s", err.msg);
  return st;
}

static void test_names(void **state) {
  twinn_net *f = small_net(1), *g = small_net(0.5);
  twinn_prop *prop = twinn_test_parse(two_nets);
  const char *ok[2] = {"g", "f"}, *extra[3] = {"f", "g", "h"}, *twice[2] = {"f", "f"};
  const twinn_net *nets[3] = {g, f, f};
  char msg[512];
  twinn_problem pb;
  twinn_error err;
  (void)state;
  twinn_error_clear(&err);
  assert_int_equal(twinn_problem_bind(&pb, prop, 2, ok, nets, &err), TWINN_OK);
  assert_ptr_equal(pb.nets[0], f); /* matched by name, not by position */
  assert_ptr_equal(pb.nets[1], g);
  twinn_problem_release(&pb);
  assert_int_equal(bind(prop, 1, ok, nets, msg), TWINN_ERR_USAGE);
  assert_non_null(strstr(msg, "'f'"));
  assert_int_equal(bind(prop, 3, extra, nets, msg), TWINN_ERR_USAGE);
  assert_non_null(strstr(msg, "'h'"));
  assert_int_equal(bind(prop, 2, twice, nets, msg), TWINN_ERR_USAGE);
  { /* --network PATH without NAME= on a 2.0 query: the message says how to name it */
    const char *unnamed[2] = {NULL, "g"};
    assert_int_equal(bind(prop, 2, unnamed, nets, msg), TWINN_ERR_USAGE);
    assert_non_null(strstr(msg, "without a name"));
    assert_non_null(strstr(msg, "NAME=FILE"));
  }
  twinn_prop_free(prop);
  twinn_net_free(f);
  twinn_net_free(g);
}

static void test_equal_to(void **state) {
  twinn_net *f = small_net(1);
  twinn_prop *prop = twinn_test_parse(
      "(vnnlib-version <2.0>)\n"
      "(declare-network f (declare-input X_f real [3]) (declare-output Y_f real [2]))\n"
      "(declare-network f2 (equal-to f) (declare-input X_f2 real [3]) (declare-output Y_f2 "
      "real [2]))\n"
      "(assert (<= X_f[0] 1))\n");
  const char *names[2] = {"f", "f2"};
  const twinn_net *nets[2] = {f, f};
  char msg[512];
  twinn_problem pb;
  twinn_error err;
  (void)state;
  twinn_error_clear(&err);
  assert_int_equal(twinn_problem_bind(&pb, prop, 1, names, nets, &err), TWINN_OK);
  assert_ptr_equal(pb.nets[1], f);
  twinn_problem_release(&pb);
  assert_int_equal(bind(prop, 2, names, nets, msg), TWINN_ERR_USAGE);
  assert_non_null(strstr(msg, "equal-to"));
  twinn_prop_free(prop);
  twinn_net_free(f);
}

static void test_shapes_and_types(void **state) {
  twinn_net *f = small_net(1);
  const char *names[1] = {"f"};
  const twinn_net *nets[1] = {f};
  char msg[512];
  twinn_prop *prop;
  (void)state;
  prop = twinn_test_parse(
      "(vnnlib-version <2.0>)\n(declare-network f (declare-input X real [1,1,1,3]) "
      "(declare-output Y float32 [2]))\n(assert (<= X[0,0,0,0] 1))\n");
  assert_int_equal(bind(prop, 1, names, nets, msg), TWINN_OK);
  twinn_prop_free(prop);
  prop = twinn_test_parse("(vnnlib-version <2.0>)\n(declare-network f (declare-input X real [4]) "
                          "(declare-output Y real [2]))\n(assert (<= X[0] 1))\n");
  assert_int_equal(bind(prop, 1, names, nets, msg), TWINN_ERR_SEMANTIC);
  assert_non_null(strstr(msg, "'X'"));
  assert_non_null(strstr(msg, "[4]"));
  assert_non_null(strstr(msg, "[1,1,1,3]"));
  twinn_prop_free(prop);
  prop =
      twinn_test_parse("(vnnlib-version <2.0>)\n(declare-network f (declare-input X float16 [3]) "
                       "(declare-output Y real [2]))\n(assert (<= X[0] 1))\n");
  assert_int_equal(bind(prop, 1, names, nets, msg), TWINN_ERR_SEMANTIC);
  assert_non_null(strstr(msg, "float16"));
  twinn_prop_free(prop);
  prop = twinn_test_parse(
      "(vnnlib-version <2.0>)\n(declare-network f (declare-input X real [3]) "
      "(declare-hidden H real [4] \"nope\") (declare-output Y real [2]))\n(assert (<= X[0] 1))\n");
  assert_int_equal(bind(prop, 1, names, nets, msg), TWINN_ERR_SEMANTIC);
  assert_non_null(strstr(msg, "nope"));
  twinn_prop_free(prop);
  /* A hidden variable may name the tensor instead of the node. */
  prop = twinn_test_parse(
      "(vnnlib-version <2.0>)\n(declare-network f (declare-input X real [3]) "
      "(declare-hidden H real [4] \"h1\") (declare-output Y real [2]))\n(assert (<= X[0] 1))\n");
  assert_int_equal(bind(prop, 1, names, nets, msg), TWINN_OK);
  twinn_prop_free(prop);
  /* A hidden value has the type the model computes in (float32 here): int8 is refused,
   * float32 and real are taken. */
  prop = twinn_test_parse(
      "(vnnlib-version <2.0>)\n(declare-network f (declare-input X real [3]) "
      "(declare-hidden H int8 [4] \"h1\") (declare-output Y real [2]))\n(assert (<= X[0] 1))\n");
  assert_int_equal(bind(prop, 1, names, nets, msg), TWINN_ERR_SEMANTIC);
  assert_non_null(strstr(msg, "'H'"));
  assert_non_null(strstr(msg, "int8"));
  twinn_prop_free(prop);
  prop = twinn_test_parse(
      "(vnnlib-version <2.0>)\n(declare-network f (declare-input X real [3]) "
      "(declare-hidden H float32 [4] \"h1\") (declare-output Y real [2]))\n(assert (<= X[0] 1))\n");
  assert_int_equal(bind(prop, 1, names, nets, msg), TWINN_OK);
  twinn_prop_free(prop);
  twinn_net_free(f);
}

static void test_vnnlib1(void **state) {
  twinn_net *f = small_net(1);
  twinn_prop *prop = twinn_test_parse(
      "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const X_2 Real)\n"
      "(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(assert (<= X_0 1))\n");
  const char *names[2] = {NULL, "whatever"};
  const twinn_net *nets[2] = {f, f};
  char msg[512];
  (void)state;
  assert_int_equal(bind(prop, 1, names, nets, msg), TWINN_OK);
  assert_int_equal(bind(prop, 1, names + 1, nets, msg), TWINN_OK);
  assert_int_equal(bind(prop, 2, names, nets, msg), TWINN_ERR_USAGE);
  twinn_prop_free(prop);
  twinn_net_free(f);
}

static void test_complete(void **state) {
  twinn_net *f = small_net(1), *g = small_net(0.5);
  twinn_prop *prop = twinn_test_parse(two_nets);
  const char *names[2] = {"f", "g"};
  const twinn_net *nets[2] = {f, g};
  const twinn_var *xf, *hf, *yf, *xg, *yg;
  double x[32], y[4], h[4];
  size_t i;
  twinn_problem pb;
  twinn_error err;
  (void)state;
  assert_true(prop->n_scalars <= 32);
  twinn_error_clear(&err);
  assert_int_equal(twinn_problem_bind(&pb, prop, 2, names, nets, &err), TWINN_OK);
  xf = twinn_prop_net_var(prop, 0, TWINN_VAR_INPUT);
  hf = twinn_prop_net_var(prop, 0, TWINN_VAR_HIDDEN);
  yf = twinn_prop_net_var(prop, 0, TWINN_VAR_OUTPUT);
  xg = twinn_prop_net_var(prop, 1, TWINN_VAR_INPUT);
  yg = twinn_prop_net_var(prop, 1, TWINN_VAR_OUTPUT);
  for (i = 0; i < 32; i++) x[i] = -99;
  for (i = 0; i < 3; i++) {
    x[xf->offset + i] = 0.3 * (double)i - 0.2;
    x[xg->offset + i] = 0.7 - 0.4 * (double)i;
  }
  assert_int_equal(twinn_problem_complete(&pb, x), TWINN_OK);
  assert_int_equal(twinn_net_eval(f, x + xf->offset, y), TWINN_OK);
  for (i = 0; i < 2; i++) assert_true(x[yf->offset + i] == y[i]);
  assert_int_equal(twinn_net_eval_upto(f, x + xf->offset, 2, h), TWINN_OK);
  for (i = 0; i < 4; i++) assert_true(x[hf->offset + i] == h[i]);
  assert_int_equal(twinn_net_eval(g, x + xg->offset, y), TWINN_OK);
  for (i = 0; i < 2; i++) assert_true(x[yg->offset + i] == y[i]);
  twinn_problem_release(&pb);
  twinn_prop_free(prop);
  twinn_net_free(f);
  twinn_net_free(g);
}

static void test_nomem(void **state) {
  twinn_net *f = small_net(1), *g = small_net(0.5);
  twinn_prop *prop = twinn_test_parse(two_nets);
  const char *names[2] = {"f", "g"};
  const twinn_net *nets[2] = {f, g};
  twinn_problem pb;
  twinn_error err;
  (void)state;
  twinn_error_clear(&err);
  twinn_alloc_set_fail(1);
  assert_int_equal(twinn_problem_bind(&pb, prop, 2, names, nets, &err), TWINN_ERR_NOMEM);
  twinn_alloc_set_fail(0);
  twinn_prop_free(prop);
  twinn_net_free(f);
  twinn_net_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_equal_to),
      cmocka_unit_test(test_shapes_and_types),
      cmocka_unit_test(test_vnnlib1),
      cmocka_unit_test(test_complete),
      cmocka_unit_test(test_nomem),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
