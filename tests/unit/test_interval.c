/* test_interval.c: soundness of interval.c and diff.c by sampling. Random small networks (built
 * with the net.h API) and random boxes; every concrete evaluation at sampled points (corners
 * included) must lie inside the computed bounds at every point of the chain, and every sampled
 * difference g - f inside the difference bounds. Also checks that the difference bounds are far
 * tighter than the subtraction of the two networks' intervals for a twin with tiny noise.
 * twinn_interval_affine (centre / radius kernel) is compared with the per-term twinn_iacc
 * reference and sampled against a long double evaluation, cancellation-heavy rows included. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "diff.h"
#include "interval.h"
#include "helpers.h"
#include "net.h"

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
                       : lo[i] + (hi[i] - lo[i]) * twinn_test_urand();
}

static void check_nets(twinn_layer_kind act, int pair, double noise) {
  size_t trial, s, p, i;
  for (trial = 0; trial < 60; trial++) {
    size_t n_in = 1 + (size_t)(twinn_test_urand() * 4),
           depth = 2 + (size_t)(twinn_test_urand() * 3), widths[4];
    double lo[8], hi[8], x[8], vf[64];
    long double lf[64], lg[64];
    twinn_net *f, *g = NULL;
    twinn_ibounds bf, bg, bd;
    for (i = 0; i < depth; i++) widths[i] = 1 + (size_t)(twinn_test_urand() * 8);
    f = twinn_test_random_net(n_in, widths, depth, act, NULL, 0);
    if (pair) g = twinn_test_random_net(n_in, widths, depth, act, f, noise);
    for (i = 0; i < n_in; i++) {
      double c = 4 * twinn_test_urand() - 2, r = twinn_test_urand() * (trial % 3 == 0 ? 1e-6 : 1.0);
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
  twinn_test_rng_state = 11;
  check_nets(TWINN_LAYER_RELU, 0, 0);
}

static void test_interval_smooth(void **state) {
  (void)state;
  twinn_test_rng_state = 12;
  check_nets(TWINN_LAYER_SIGMOID, 0, 0);
  check_nets(TWINN_LAYER_TANH, 0, 0);
}

static void test_diff_sampling(void **state) {
  (void)state;
  twinn_test_rng_state = 13;
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
  twinn_test_rng_state = 14;
  f = twinn_test_random_net(n_in, widths, 3, TWINN_LAYER_RELU, NULL, 0);
  g = twinn_test_random_net(n_in, widths, 3, TWINN_LAYER_RELU, f, 1e-4);
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

/* Exact zeros stay exact: a sum of terms that are all w * [0, 0] (w rounded or not) is the
 * constant itself, and the difference of one network with itself is [0, 0] at every point, so
 * a strict comparison of its outputs can be refuted (lower bound 0, not -1e-307). A single
 * underflowing product still gets its error term. */
static void test_exact_zero(void **state) {
  size_t widths[3] = {6, 5, 2}, i;
  double lo[3] = {-1, -0.5, 0}, hi[3] = {1, 0.5, 2}, l, h;
  twinn_iacc acc;
  twinn_net *f;
  twinn_ibounds bf, bd;
  (void)state;
  twinn_iacc_init(&acc, 0.25);
  twinn_iacc_add(&acc, 3.0, 0.0, 0.0, 1);
  twinn_iacc_add(&acc, 0.0, -INFINITY, INFINITY, 0);
  twinn_iacc_result(&acc, &l, &h);
  assert_true(l == 0.25 && h == 0.25);
  twinn_iacc_add(&acc, 1e-200, 1e-200, 1e-200, 0); /* underflows to 0 in float */
  twinn_iacc_result(&acc, &l, &h);
  assert_true(l < 0.25 && h > 0.25);
  twinn_test_rng_state = 15;
  f = twinn_test_random_net(3, widths, 3, TWINN_LAYER_RELU, NULL, 0);
  assert_int_equal(twinn_ibounds_init(&bf, f), TWINN_OK);
  assert_int_equal(twinn_ibounds_init(&bd, f), TWINN_OK);
  twinn_interval_propagate(f, lo, hi, &bf);
  twinn_diff_propagate(f, f, &bf, &bf, &bd);
  for (i = 0; i < bf.off[bf.n_points]; i++) {
    assert_true(bd.lo[i] == 0.0);
    assert_true(bd.hi[i] == 0.0);
  }
  twinn_ibounds_release(&bf);
  twinn_ibounds_release(&bd);
  twinn_net_free(f);
}

/* An unbounded input box takes the per-term path: infinite ends only where a weight reaches
 * the unbounded input, the other rows keep finite sound bounds. */
static void test_unbounded_box(void **state) {
  size_t widths[2] = {3, 2}, i;
  double lo[2] = {-INFINITY, 0.0}, hi[2] = {1.0, 1.0}, x[2];
  twinn_net *f;
  twinn_ibounds b;
  (void)state;
  twinn_test_rng_state = 17;
  f = twinn_test_random_net(2, widths, 2, TWINN_LAYER_RELU, NULL, 0);
  f->layers[0].w[0] = 0.0; /* row 0 ignores the unbounded input */
  assert_int_equal(twinn_ibounds_init(&b, f), TWINN_OK);
  twinn_interval_propagate(f, lo, hi, &b);
  assert_true(isfinite(b.lo[b.off[1]]) && isfinite(b.hi[b.off[1]]));
  for (i = 1; i < 3; i++) {
    double w = f->layers[0].w[i * 2];
    assert_true(w > 0 ? isinf(b.lo[b.off[1] + i]) : isinf(b.hi[b.off[1] + i]));
  }
  for (i = 0; i < 100; i++) { /* still sound at sampled points */
    size_t p, j;
    x[0] = 1.0 - 1e3 * twinn_test_urand();
    x[1] = twinn_test_urand();
    for (p = 0; p < b.n_points; p++) {
      double v[8];
      assert_int_equal(twinn_net_eval_upto(f, x, p, v), TWINN_OK);
      for (j = 0; j < twinn_net_width_at(f, p); j++)
        assert_true(b.lo[b.off[p] + j] <= v[j] && v[j] <= b.hi[b.off[p] + j]);
    }
  }
  twinn_ibounds_release(&b);
  twinn_net_free(f);
}

/* The one-ulp steps enclose every real that rounds to x (checked in long double on sums whose
 * exact value is known), and handle zero, subnormals, binade edges and infinities. */
static void test_round_steps(void **state) {
  static const double edge[] = {0.0,    1.0,      -1.0,    0x1p-1074, -0x1p-1074, DBL_MIN,
                                0x1p52, -0x1p-20, DBL_MAX, -DBL_MAX,  3.0,        1e300};
  size_t t;
  (void)state;
  twinn_test_rng_state = 15;
  for (t = 0; t < sizeof edge / sizeof edge[0]; t++) {
    double x = edge[t];
    assert_true(twinn_round_down(x) <= nextafter(x, -INFINITY));
    assert_true(twinn_round_up(x) >= nextafter(x, INFINITY));
  }
  assert_true(twinn_round_down(INFINITY) == DBL_MAX && twinn_round_up(-INFINITY) == -DBL_MAX);
  assert_true(isinf(twinn_round_down(-INFINITY)) && isinf(twinn_round_up(INFINITY)));
  for (t = 0; t < 20000; t++) {
    double a = ldexp(2 * twinn_test_urand() - 1, (int)(twinn_test_urand() * 80) - 40);
    double b = t % 4 == 0 ? -a * (1 + ldexp(twinn_test_urand(), -50))
                          : ldexp(2 * twinn_test_urand() - 1, (int)(twinn_test_urand() * 120) - 60);
    long double e = (long double)a + (long double)b; /* exact: exponents differ by < 64 */
    double x = a + b;
    if (fabs(a) > 0x1p62 * fabs(b) || fabs(b) > 0x1p62 * fabs(a)) continue; /* e inexact */
    assert_true((long double)twinn_round_down(x) <= e);
    assert_true((long double)twinn_round_up(x) >= e);
  }
}

/* The inline max / min give libm's fmax / fmin: a NaN operand yields the other one (two NaNs:
 * NaN), infinities and subnormals compare as numbers; equal values (zeros of either sign
 * included) give one of them. */
static void test_fmax_fmin(void **state) {
  static const double v[] = {0.0,     -0.0,     1.0,      -1.0,      0x1p-1074, -0x1p-1074,
                             DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, NAN,       3.5};
  size_t i, j, n = sizeof v / sizeof v[0];
  (void)state;
  twinn_test_rng_state = 16;
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      double a = v[i], b = v[j], mx = twinn_fmax(a, b), mn = twinn_fmin(a, b);
      if (isnan(a) && isnan(b)) {
        assert_true(isnan(mx) && isnan(mn));
      } else {
        assert_true(mx == fmax(a, b) && mn == fmin(a, b)); /* -0 == +0 */
        assert_false(isnan(mx) || isnan(mn));
      }
    }
  for (i = 0; i < 10000; i++) {
    double a = ldexp(2 * twinn_test_urand() - 1, (int)(twinn_test_urand() * 40) - 20);
    double b =
        i % 3 == 0 ? a : ldexp(2 * twinn_test_urand() - 1, (int)(twinn_test_urand() * 40) - 20);
    assert_true(twinn_fmax(a, b) == fmax(a, b) && twinn_fmin(a, b) == fmin(a, b));
    assert_true(twinn_fmax(a, b) >= a && twinn_fmax(a, b) >= b);
    assert_true(twinn_fmin(a, b) <= a && twinn_fmin(a, b) <= b);
  }
}

/* Row i of  W1 x1 + b1 + (W2 - W3) x2 - b2  in long double (the differences are rounded once
 * there: 11 more bits than double, covered by the slack of the callers). */
static long double row_ld(size_t n, const double *w1, const double *x1, double b1, const double *w2,
                          const double *w3, const double *x2, double b2, long double *mag) {
  long double s = (long double)b1 - b2;
  size_t j;
  *mag = fabsl(s);
  for (j = 0; j < n; j++) {
    long double t1 = (long double)w1[j] * x1[j];
    long double t2 = w2 ? ((long double)w2[j] - w3[j]) * x2[j] : 0.0L;
    s += t1 + t2;
    *mag += fabsl(t1) + fabsl(t2);
  }
  return s;
}

/* Centre / radius kernel against the per-term reference: both enclose sampled values, and they
 * agree up to rounding-level terms; widths cross the kernel's column chunk; some rows cancel. */
static void test_affine_reference(void **state) {
  enum { NO = 6, NI = 300 };
  static double w1[NO * NI], w2[NO * NI], w3[NO * NI], l1[NI], h1[NI], l2[NI], h2[NI], x1[NI],
      x2[NI];
  double b1[NO], b2[NO], lo[NO], hi[NO], rl, rh;
  size_t trial, i, j, s;
  (void)state;
  twinn_test_rng_state = 16;
  for (trial = 0; trial < 40; trial++) {
    size_t n = 1 + (size_t)(twinn_test_urand() * NI);
    int two = trial % 2, big = trial % 5 == 0;
    for (i = 0; i < NO * n; i++) {
      w1[i] = (2 * twinn_test_urand() - 1) * (big ? 1e8 : 1.0);
      w3[i] = 2 * twinn_test_urand() - 1;
      w2[i] = w3[i] + (2 * twinn_test_urand() - 1) * 1e-3;
    }
    for (i = 0; i < NO; i++)
      b1[i] = twinn_test_urand() - 0.5, b2[i] = b1[i] + 1e-4 * twinn_test_urand();
    for (j = 0; j < n; j++) {
      double c = 4 * twinn_test_urand() - 2, r = trial % 3 == 0 ? 0.0 : twinn_test_urand();
      l1[j] = c - r, h1[j] = c + r;
      c = 2 * twinn_test_urand() - 1, r = twinn_test_urand() * 1e-2;
      l2[j] = c - r, h2[j] = c + r;
    }
    twinn_interval_affine(NO, n, w1, l1, h1, b1, two ? w2 : NULL, two ? w3 : NULL, two ? l2 : NULL,
                          two ? h2 : NULL, two ? b2 : NULL, lo, hi);
    for (i = 0; i < NO; i++) {
      twinn_iacc acc;
      long double mag;
      twinn_iacc_init(&acc, 0.0);
      twinn_iacc_add(&acc, two ? b1[i] - b2[i] : b1[i], 1.0, 1.0, two);
      for (j = 0; j < n; j++) {
        twinn_iacc_add(&acc, w1[i * n + j], l1[j], h1[j], 0);
        if (two) twinn_iacc_add(&acc, w2[i * n + j] - w3[i * n + j], l2[j], h2[j], 1);
      }
      twinn_iacc_result(&acc, &rl, &rh);
      for (s = 0; s < 200; s++) {
        long double v, slack;
        sample_in(n, l1, h1, x1, s < 8 ? (int)s : -1);
        sample_in(n, l2, h2, x2, s < 8 ? (int)s : -1);
        v = row_ld(n, w1 + i * n, x1, b1[i], two ? w2 + i * n : NULL, two ? w3 + i * n : NULL, x2,
                   two ? b2[i] : 0.0, &mag);
        slack = 4e-18L * mag * (long double)(n + 2);
        assert_true(lo[i] <= v + slack && v - slack <= hi[i]);
        assert_true(rl <= v + slack && v - slack <= rh);
        /* both are the exact hull widened by O(n u) of the magnitudes */
        assert_true(fabs(lo[i] - rl) <= 1e-11 * (double)mag + 1e-300);
        assert_true(fabs(hi[i] - rh) <= 1e-11 * (double)mag + 1e-300);
      }
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_interval_relu),     cmocka_unit_test(test_interval_smooth),
      cmocka_unit_test(test_diff_sampling),     cmocka_unit_test(test_diff_tighter),
      cmocka_unit_test(test_iacc_cancellation), cmocka_unit_test(test_round_steps),
      cmocka_unit_test(test_affine_reference),  cmocka_unit_test(test_unbounded_box),
      cmocka_unit_test(test_exact_zero),        cmocka_unit_test(test_fmax_fmin),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
