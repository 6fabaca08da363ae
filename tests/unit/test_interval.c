/* test_interval.c: soundness of interval.c and diff.c by sampling. Random small networks (built
 * with the net.h API) and random boxes; every concrete evaluation at sampled points (corners
 * included) must lie inside the computed bounds at every point of the chain, and every sampled
 * difference g - f inside the difference bounds. Also checks that the difference bounds are far
 * tighter than the subtraction of the two networks' intervals for a twin with tiny noise. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "diff.h"
#include "interval.h"
#include "net.h"

static uint64_t rng_state;
static double urand(void) { /* splitmix64 in [0, 1) */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

/* A random chain n_in -> widths... with ReLU (or sigmoid/tanh when act != RELU) between
 * affine layers. If base is given, copies its weights plus noise of size `noise`. */
static twinn_net *random_net(size_t n_in, const size_t *widths, size_t depth, twinn_layer_kind act,
                             const twinn_net *base, double noise) {
  twinn_net *net = twinn_net_new(n_in);
  size_t k, i, prev = n_in, li = 0;
  assert_non_null(net);
  for (k = 0; k < depth; k++) {
    double *w = twinn_mallocarray(widths[k] * prev, sizeof *w);
    double *b = twinn_mallocarray(widths[k], sizeof *b);
    assert_true(w && b);
    for (i = 0; i < widths[k] * prev; i++)
      w[i] = base ? base->layers[li].w[i] + noise * (2 * urand() - 1) : 2 * urand() - 1;
    for (i = 0; i < widths[k]; i++)
      b[i] = base ? base->layers[li].b[i] + noise * (2 * urand() - 1) : urand() - 0.5;
    assert_int_equal(twinn_net_push_affine(net, widths[k], w, b, NULL), TWINN_OK);
    li++;
    if (k + 1 < depth) {
      assert_int_equal(twinn_net_push_act(net, act, NULL), TWINN_OK);
      li++;
    }
    prev = widths[k];
  }
  return net;
}

/* Reference evaluation in long double (64-bit mantissa) up to point `upto`: differences of
 * two double evaluations carry each network's own rounding error, far above the width of a
 * tight difference bound, so the difference test needs this more precise reference. */
static void eval_ld(const twinn_net *net, const double *x, size_t upto, long double *out) {
  long double a[64], b[64];
  size_t k, i, j, w = net->n_in;
  for (i = 0; i < w; i++) a[i] = x[i];
  for (k = 0; k < upto; k++) {
    const twinn_layer *L = &net->layers[k];
    for (i = 0; i < L->n_out; i++) {
      if (L->kind == TWINN_LAYER_AFFINE) {
        b[i] = L->b[i];
        for (j = 0; j < L->n_in; j++) b[i] += (long double)L->w[i * L->n_in + j] * a[j];
      } else if (L->kind == TWINN_LAYER_RELU) {
        b[i] = a[i] > 0 ? a[i] : 0;
      } else if (L->kind == TWINN_LAYER_SIGMOID) {
        b[i] = 1 / (1 + expl(-a[i]));
      } else {
        b[i] = tanhl(a[i]);
      }
    }
    w = L->n_out;
    for (i = 0; i < w; i++) a[i] = b[i];
  }
  for (i = 0; i < w; i++) out[i] = a[i];
}

static void sample_in(size_t n, const double *lo, const double *hi, double *x, int corner) {
  size_t i;
  for (i = 0; i < n; i++)
    x[i] = corner >= 0 ? ((corner >> (i % 16)) & 1 ? hi[i] : lo[i])
                       : lo[i] + (hi[i] - lo[i]) * urand();
}

static void check_nets(twinn_layer_kind act, int pair, double noise) {
  size_t trial, s, p, i;
  for (trial = 0; trial < 60; trial++) {
    size_t n_in = 1 + (size_t)(urand() * 4), depth = 2 + (size_t)(urand() * 3), widths[4];
    double lo[8], hi[8], x[8], vf[64];
    long double lf[64], lg[64];
    twinn_net *f, *g = NULL;
    twinn_ibounds bf, bg, bd;
    for (i = 0; i < depth; i++) widths[i] = 1 + (size_t)(urand() * 8);
    f = random_net(n_in, widths, depth, act, NULL, 0);
    if (pair) g = random_net(n_in, widths, depth, act, f, noise);
    for (i = 0; i < n_in; i++) {
      double c = 4 * urand() - 2, r = urand() * (trial % 3 == 0 ? 1e-6 : 1.0);
      lo[i] = c - r;
      hi[i] = c + r;
    }
    assert_int_equal(twinn_ibounds_init(&bf, f), TWINN_OK);
    twinn_interval_propagate(f, lo, hi, &bf);
    if (pair) {
      assert_int_equal(twinn_ibounds_init(&bg, g), TWINN_OK);
      assert_int_equal(twinn_ibounds_init(&bd, f), TWINN_OK);
      twinn_interval_propagate(g, lo, hi, &bg);
      twinn_diff_propagate(f, g, &bf, &bg, &bd);
    }
    for (s = 0; s < 300; s++) {
      sample_in(n_in, lo, hi, x, s < 16 ? (int)s : -1);
      for (p = 0; p < bf.n_points; p++) {
        size_t w = twinn_net_width_at(f, p);
        assert_int_equal(twinn_net_eval_upto(f, x, p, vf), TWINN_OK);
        for (i = 0; i < w; i++) {
          assert_true(bf.lo[bf.off[p] + i] <= vf[i]);
          assert_true(vf[i] <= bf.hi[bf.off[p] + i]);
        }
        if (!pair) continue;
        eval_ld(f, x, p, lf);
        eval_ld(g, x, p, lg);
        for (i = 0; i < w; i++) {
          /* The long double reference is within ~1e-18 relative of the real values. */
          long double d = lg[i] - lf[i], slack = 4e-18L * (fabsl(lf[i]) + fabsl(lg[i])) + 1e-300L;
          assert_true(bd.lo[bd.off[p] + i] <= d + slack);
          assert_true(d - slack <= bd.hi[bd.off[p] + i]);
        }
      }
    }
    twinn_ibounds_release(&bf);
    if (pair) {
      twinn_ibounds_release(&bg);
      twinn_ibounds_release(&bd);
    }
    twinn_net_free(f);
    twinn_net_free(g);
  }
}

static void test_interval_relu(void **state) {
  (void)state;
  rng_state = 11;
  check_nets(TWINN_LAYER_RELU, 0, 0);
}

static void test_interval_smooth(void **state) {
  (void)state;
  rng_state = 12;
  check_nets(TWINN_LAYER_SIGMOID, 0, 0);
  check_nets(TWINN_LAYER_TANH, 0, 0);
}

static void test_diff_sampling(void **state) {
  (void)state;
  rng_state = 13;
  check_nets(TWINN_LAYER_RELU, 1, 1e-3);
  check_nets(TWINN_LAYER_RELU, 1, 0.5);
  check_nets(TWINN_LAYER_TANH, 1, 1e-2);
  check_nets(TWINN_LAYER_SIGMOID, 1, 1e-2);
}

/* Tiny weight noise: the difference interval must be much narrower than g.hi - f.lo etc. */
static void test_diff_tighter(void **state) {
  size_t widths[3] = {8, 8, 3}, n_in = 3, i, out;
  double lo[3] = {-1, -1, -1}, hi[3] = {1, 1, 1}, wd = 0, wp = 0;
  twinn_net *f, *g;
  twinn_ibounds bf, bg, bd;
  (void)state;
  rng_state = 14;
  f = random_net(n_in, widths, 3, TWINN_LAYER_RELU, NULL, 0);
  g = random_net(n_in, widths, 3, TWINN_LAYER_RELU, f, 1e-4);
  assert_int_equal(twinn_ibounds_init(&bf, f), TWINN_OK);
  assert_int_equal(twinn_ibounds_init(&bg, g), TWINN_OK);
  assert_int_equal(twinn_ibounds_init(&bd, f), TWINN_OK);
  twinn_interval_propagate(f, lo, hi, &bf);
  twinn_interval_propagate(g, lo, hi, &bg);
  twinn_diff_propagate(f, g, &bf, &bg, &bd);
  out = bf.off[bf.n_points - 1];
  for (i = 0; i < 3; i++) {
    wd += bd.hi[out + i] - bd.lo[out + i];
    wp += (bg.hi[out + i] - bf.lo[out + i]) - (bg.lo[out + i] - bf.hi[out + i]);
  }
  assert_true(wp > 0.1);
  assert_true(wd * 100 < wp);
  twinn_ibounds_release(&bf);
  twinn_ibounds_release(&bg);
  twinn_ibounds_release(&bd);
  twinn_net_free(f);
  twinn_net_free(g);
}

/* The accumulator encloses exact sums where float summation cancels catastrophically. */
static void test_iacc_cancellation(void **state) {
  twinn_iacc acc;
  double lo, hi;
  (void)state;
  twinn_iacc_init(&acc, 1.0);
  twinn_iacc_add(&acc, 1e16, 1.0, 1.0, 0);
  twinn_iacc_add(&acc, -1e16, 1.0, 1.0, 0);
  twinn_iacc_result(&acc, &lo, &hi); /* exact value 1 */
  assert_true(lo <= 1.0 && 1.0 <= hi);
  twinn_iacc_init(&acc, 0.0);
  twinn_iacc_add(&acc, 1.0, -INFINITY, 2.0, 0);
  twinn_iacc_result(&acc, &lo, &hi);
  assert_true(isinf(lo) && lo < 0 && hi >= 2.0 && isfinite(hi));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_interval_relu),     cmocka_unit_test(test_interval_smooth),
      cmocka_unit_test(test_diff_sampling),     cmocka_unit_test(test_diff_tighter),
      cmocka_unit_test(test_iacc_cancellation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
