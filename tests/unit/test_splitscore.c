/* test_splitscore.c: the relaxation-aware split scores (plugin/splitscore.h) against values
 * worked out by hand on small networks: one unstable neuron of one input, a stable neuron that
 * blocks the backward pass, the step of a twin pair, batches of constraint rows, and inputs of
 * zero width on random twins. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "helpers.h"
#include "splitscore.h"
#include "symbolic.h"

/* Appends an affine layer with copies of w (n_out x n_in) and b. */
static void push(twinn_net *net, size_t n_out, const double *w, const double *b) {
  size_t n_in = twinn_net_width(net);
  double *wc = twinn_mallocarray(n_out * n_in, sizeof *wc),
         *bc = twinn_mallocarray(n_out, sizeof *bc);
  twinn_error err;
  assert_non_null(wc);
  assert_non_null(bc);
  memcpy(wc, w, n_out * n_in * sizeof *wc);
  memcpy(bc, b, n_out * sizeof *bc);
  assert_int_equal(twinn_net_push_affine(net, n_out, wc, bc, &err), TWINN_OK);
}

static void relu(twinn_net *net) {
  twinn_error err;
  assert_int_equal(twinn_net_push_act(net, TWINN_LAYER_RELU, &err), TWINN_OK);
}

/* 2 inputs -> z = (x0 + b0, x1 + 2) -> ReLU -> z0 + z1, over [-1, 1]^2. */
static twinn_net *two_neurons(double b0) {
  const double w1[4] = {1, 0, 0, 1}, b1[2] = {b0, 2}, w2[2] = {1, 1}, b2[1] = {0};
  twinn_net *net = twinn_net_new(2);
  assert_non_null(net);
  push(net, 2, w1, b1);
  relu(net);
  push(net, 1, w2, b2);
  return net;
}

/* The gains (nr x n_in) of rows c_f, c_g over the box [lo, hi] of f (and g, may be NULL). */
static void gains_of(const twinn_net *f, const twinn_net *g, const double *lo, const double *hi,
                     size_t nr, const double *c_f, const double *c_g, double *gain) {
  twinn_sym *s = twinn_sym_new(f, g);
  twinn_splitscore *x = twinn_splitscore_new(f, g);
  double width[8];
  twinn_error err;
  assert_non_null(s);
  assert_non_null(x);
  assert_true(f->n_in <= 8);
  for (size_t i = 0; i < f->n_in; i++) width[i] = hi[i] - lo[i];
  assert_int_equal(twinn_sym_analyse(s, lo, hi, &err), TWINN_OK);
  assert_true(twinn_splitscore_prepare(x, s, width));
  assert_true(twinn_splitscore_gains(x, nr, c_f, c_g, gain));
  twinn_splitscore_free(x);
  twinn_sym_free(s);
}

/* Neuron 0 (x0 on [-1, 1]) is unstable: triangle height 1/2, and halving x0 makes both halves
 * stable (phi = 1); halving x1 does not touch it (phi = 0). Neuron 1 is active: no slack. */
static void test_one_network(void **state) {
  const double lo[2] = {-1, -1}, hi[2] = {1, 1};
  const double c[2] = {1, -3}; /* two constraints: out, -3 out */
  double gain[4];
  twinn_net *f = two_neurons(0.0);
  (void)state;
  gains_of(f, NULL, lo, hi, 2, c, NULL, gain);
  assert_true(fabs(gain[0] - 0.5) < 1e-9);
  assert_true(gain[1] == 0.0);
  assert_true(fabs(gain[2] - 1.5) < 1e-9); /* |lambda| = 3 */
  assert_true(gain[3] == 0.0);
  twinn_net_free(f);
}

/* x0 -> ReLU -> h - 5 -> ReLU -> out over x0 in [-1, 1]: the second neuron is inactive, so no
 * coefficient reaches the unstable first one, and it is not the constraint's slack. */
static void test_inactive_blocks(void **state) {
  const double one[1] = {1}, zero[1] = {0}, m5[1] = {-5};
  const double lo[1] = {-1}, hi[1] = {1}, c[1] = {1};
  double gain[1] = {-1};
  twinn_net *f = twinn_net_new(1);
  (void)state;
  assert_non_null(f);
  push(f, 1, one, zero);
  relu(f);
  push(f, 1, one, m5);
  relu(f);
  push(f, 1, one, zero);
  gains_of(f, NULL, lo, hi, 1, c, NULL, gain);
  assert_true(gain[0] == 0.0);
  twinn_net_free(f);
}

/* g = f with neuron 0's bias 0.1: g - f = relu(x0 + 0.1) - relu(x0) at neuron 0 (a step of
 * height 0.1 where f is unstable: slack 0.05), 0 at neuron 1. The constraint g_0 - f_0 has no
 * f part (c_f + c_g = 0). */
static void test_pair(void **state) {
  const double lo[2] = {-1, -1}, hi[2] = {1, 1};
  const double cf[1] = {0}, cg[1] = {1};
  double gain[2];
  twinn_net *f = two_neurons(0.0), *g = two_neurons(0.1);
  (void)state;
  gains_of(f, g, lo, hi, 1, cf, cg, gain);
  assert_true(fabs(gain[0] - 0.05) < 1e-9);
  assert_true(gain[1] == 0.0);
  twinn_net_free(f);
  twinn_net_free(g);
}

/* Random twins, 5 inputs, one of them fixed (width 0): every gain is finite and >= 0, the
 * fixed input's is 0, each row's gains scale with |its coefficients|, and some input gains. */
static void test_random_twins(void **state) {
  const size_t widths[3] = {12, 12, 3};
  double lo[5], hi[5], cf[6], cg[6], gain[10];
  int trial, some = 0;
  (void)state;
  twinn_test_rng_state = 77;
  for (trial = 0; trial < 40; trial++) {
    twinn_net *f = twinn_test_random_net(5, widths, 3, TWINN_LAYER_RELU, NULL, 0.0);
    twinn_net *g = twinn_test_random_net(5, widths, 3, TWINN_LAYER_RELU, f, 0.01);
    size_t i;
    for (i = 0; i < 5; i++) {
      double c = twinn_test_urand() - 0.5, r = i == 2 ? 0.0 : 0.5 * twinn_test_urand();
      lo[i] = c - r;
      hi[i] = c + r;
    }
    for (i = 0; i < 3; i++) {
      cg[i] = twinn_test_urand() - 0.5;
      cf[i] = twinn_test_urand() - 0.5;
      cg[3 + i] = -2.0 * cg[i]; /* row 1 = -2 x row 0 */
      cf[3 + i] = -2.0 * cf[i];
    }
    gains_of(f, g, lo, hi, 2, cf, cg, gain);
    for (i = 0; i < 5; i++) {
      assert_true(isfinite(gain[i]) && gain[i] >= 0.0);
      assert_true(fabs(gain[5 + i] - 2.0 * gain[i]) <= 1e-12 * (1.0 + gain[i]));
      some |= gain[i] > 0.0;
    }
    assert_true(gain[2] == 0.0 && gain[7] == 0.0);
    twinn_net_free(f);
    twinn_net_free(g);
  }
  assert_true(some);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_network),
      cmocka_unit_test(test_inactive_blocks),
      cmocka_unit_test(test_pair),
      cmocka_unit_test(test_random_twins),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
