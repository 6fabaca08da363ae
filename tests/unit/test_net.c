/* test_net.c: the network IR: evaluation against hand computation, float32 evaluation close to
 * double, shape queries, isomorphism, taps and out-of-memory paths of construction. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "net.h"

static double *vec(size_t n, const double *v) {
  double *p = twinn_mallocarray(n, sizeof *p);
  size_t i;
  assert_non_null(p);
  for (i = 0; i < n; i++) p[i] = v[i];
  return p;
}

/* 2 -> 3 -> relu -> 1 with known weights. */
static twinn_net *small_net(void) {
  static const double w1[] = {1, -2, 0.5, 0.25, -1, -1}, b1[] = {0.5, -1, 0};
  static const double w2[] = {1, 2, -3}, b2[] = {0.125};
  twinn_error err;
  twinn_net *net = twinn_net_new(2);
  twinn_error_clear(&err);
  assert_non_null(net);
  assert_int_equal(twinn_net_push_affine(net, 3, vec(6, w1), vec(3, b1), &err), TWINN_OK);
  assert_int_equal(twinn_net_push_act(net, TWINN_LAYER_RELU, &err), TWINN_OK);
  assert_int_equal(twinn_net_add_tap(net, "relu", "h", &err), TWINN_OK);
  assert_int_equal(twinn_net_push_affine(net, 1, vec(3, w2), vec(1, b2), &err), TWINN_OK);
  return net;
}

static void test_eval_by_hand(void **state) {
  twinn_net *net = small_net();
  double in[2] = {0.75, -0.5}, out[1], mid[3], h[3];
  size_t i;
  (void)state;
  /* h = relu(W1 x + b1) computed here independently. */
  h[0] = fmax(0.0, 1 * in[0] - 2 * in[1] + 0.5);
  h[1] = fmax(0.0, 0.5 * in[0] + 0.25 * in[1] - 1);
  h[2] = fmax(0.0, -in[0] - in[1]);
  assert_int_equal(twinn_net_eval(net, in, out), TWINN_OK);
  assert_true(fabs(out[0] - (h[0] + 2 * h[1] - 3 * h[2] + 0.125)) < 1e-12);
  assert_int_equal(twinn_net_eval_upto(net, in, 2, mid), TWINN_OK);
  for (i = 0; i < 3; i++) assert_true(fabs(mid[i] - h[i]) < 1e-12);
  assert_int_equal(twinn_net_eval_upto(net, in, 0, mid), TWINN_OK);
  assert_true(mid[0] == in[0] && mid[1] == in[1]);
  assert_int_equal(twinn_net_eval_upto(net, in, 4, mid), TWINN_ERR_USAGE);
  assert_int_equal(net->n_taps, 1);
  assert_int_equal(net->taps[0].after_layer, 2);
  twinn_net_free(net);
}

static void test_shapes(void **state) {
  twinn_net *net = small_net();
  (void)state;
  assert_int_equal(twinn_net_width(net), 1);
  assert_int_equal(net->n_out, 1);
  assert_int_equal(twinn_net_width_at(net, 0), 2);
  assert_int_equal(twinn_net_width_at(net, 1), 3);
  assert_int_equal(twinn_net_width_at(net, 3), 1);
  assert_int_equal(twinn_net_max_width(net), 3);
  twinn_net_free(net);
}

static void test_eval_f32_close(void **state) {
  twinn_net *net = small_net();
  double in[2], a[1], b[1];
  int k;
  (void)state;
  srand(7);
  for (k = 0; k < 200; k++) {
    in[0] = (double)rand() / RAND_MAX * 4 - 2;
    in[1] = (double)rand() / RAND_MAX * 4 - 2;
    assert_int_equal(twinn_net_eval(net, in, a), TWINN_OK);
    assert_int_equal(twinn_net_eval_f32(net, in, b), TWINN_OK);
    assert_true(fabs(a[0] - b[0]) <= 1e-5 * (1 + fabs(a[0])));
    assert_true((double)(float)b[0] == b[0]); /* the result really is a float */
  }
  twinn_net_free(net);
}

static void test_activations(void **state) {
  static const double w[] = {1, 0, 0, 1}, bz[] = {0, 0};
  twinn_error err;
  twinn_net *s = twinn_net_new(2), *t = twinn_net_new(2);
  double in[2] = {0.3, -1.7}, out[2];
  (void)state;
  twinn_error_clear(&err);
  assert_int_equal(twinn_net_push_affine(s, 2, vec(4, w), vec(2, bz), &err), TWINN_OK);
  assert_int_equal(twinn_net_push_act(s, TWINN_LAYER_SIGMOID, &err), TWINN_OK);
  assert_int_equal(twinn_net_push_affine(t, 2, vec(4, w), vec(2, bz), &err), TWINN_OK);
  assert_int_equal(twinn_net_push_act(t, TWINN_LAYER_TANH, &err), TWINN_OK);
  assert_int_equal(twinn_net_eval(s, in, out), TWINN_OK);
  assert_true(fabs(out[1] - 1.0 / (1.0 + exp(1.7))) < 1e-12);
  assert_int_equal(twinn_net_eval(t, in, out), TWINN_OK);
  assert_true(fabs(out[0] - tanh(0.3)) < 1e-12);
  assert_false(twinn_net_isomorphic(s, t)); /* same sizes, different kinds */
  assert_int_equal(twinn_net_push_act(t, TWINN_LAYER_AFFINE, &err), TWINN_ERR_INTERNAL);
  twinn_net_free(s);
  twinn_net_free(t);
}

static void test_isomorphic(void **state) {
  twinn_net *a = small_net(), *b = small_net(), *c = twinn_net_new(2);
  twinn_error err;
  (void)state;
  twinn_error_clear(&err);
  b->layers[0].w[0] = 42; /* different weights, same structure */
  assert_true(twinn_net_isomorphic(a, b));
  assert_false(twinn_net_isomorphic(a, c));
  assert_int_equal(twinn_net_push_act(b, TWINN_LAYER_RELU, &err), TWINN_OK);
  assert_false(twinn_net_isomorphic(a, b));
  twinn_net_free(a);
  twinn_net_free(b);
  twinn_net_free(c);
}

static void test_nomem(void **state) {
  unsigned long k;
  int ok = 0;
  (void)state;
  for (k = 1; k < 40 && !ok; k++) {
    twinn_error err;
    twinn_net *net;
    double *w, *b;
    twinn_status st = TWINN_OK;
    twinn_error_clear(&err);
    twinn_alloc_set_fail(k);
    net = twinn_net_new(2);
    if (net) {
      w = twinn_calloc(4, sizeof *w);
      b = twinn_calloc(2, sizeof *b);
      st = twinn_net_push_affine(net, 2, w, b, &err); /* frees w, b on failure */
      if (st == TWINN_OK) st = twinn_net_push_act(net, TWINN_LAYER_RELU, &err);
      if (st == TWINN_OK) st = twinn_net_add_tap(net, "n", "t", &err);
      assert_true(st == TWINN_OK || st == TWINN_ERR_NOMEM);
      ok = st == TWINN_OK;
    }
    twinn_alloc_set_fail(0);
    twinn_net_free(net);
  }
  assert_true(ok);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_eval_by_hand),   cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_eval_f32_close), cmocka_unit_test(test_activations),
      cmocka_unit_test(test_isomorphic),     cmocka_unit_test(test_nomem),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
