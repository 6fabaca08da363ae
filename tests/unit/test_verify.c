/* test_verify.c: twinn_verify against brute force on small random twins. A sat verdict must
 * carry a witness that holds (inputs inside the box, formula true after recomputing every
 * network); an unsat verdict must agree with a dense grid plus random samples finding no
 * violation; where the grid finds one, the verdict must be sat. Also: empty box, unbounded
 * input, disjunctive input boxes, timeout, determinism for a seed. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "exact.h"
#include "milp.h"
#include "roots.h"
#include "twinn.h"
#include "vnnlib.h"

/* An eps-equivalence query on f, g over the box: some output differs by more than eps. */
static void eps_query(char *buf, size_t n, size_t n_in, size_t n_out, const double *lo,
                      const double *hi, double eps) {
  size_t i, used;
  used =
      (size_t)snprintf(buf, n,
                       "(vnnlib-version <2.0>)\n(declare-network f (declare-input X_f real [%zu]) "
                       "(declare-output Y_f real [%zu]))\n(declare-network g (isomorphic-to f) "
                       "(declare-input X_g real [%zu]) (declare-output Y_g real [%zu]))\n",
                       n_in, n_out, n_in, n_out);
  for (i = 0; i < n_in; i++)
    used += (size_t)snprintf(buf + used, n - used,
                             "(assert (>= X_f[%zu] %.17g))\n(assert (<= X_f[%zu] %.17g))\n"
                             "(assert (== X_g[%zu] X_f[%zu]))\n",
                             i, lo[i], i, hi[i], i, i);
  used += (size_t)snprintf(buf + used, n - used, "(assert (or");
  for (i = 0; i < n_out; i++)
    used += (size_t)snprintf(buf + used, n - used,
                             " (> Y_g[%zu] (+ Y_f[%zu] %.17g)) (< Y_g[%zu] (- Y_f[%zu] %.17g))", i,
                             i, eps, i, i, eps);
  snprintf(buf + used, n - used, "))\n");
}

static void verify2(const twinn_prop *prop, const twinn_net *f, const twinn_net *g,
                    const twinn_options *opt, twinn_result *res) {
  const char *names[2] = {"f", "g"};
  const twinn_net *nets[2];
  twinn_problem pb;
  twinn_error err;
  nets[0] = f;
  nets[1] = g;
  twinn_error_clear(&err);
  assert_int_equal(twinn_problem_bind(&pb, prop, g ? 2 : 1, names, nets, &err), TWINN_OK);
  assert_int_equal(twinn_verify(&pb, opt, res, &err), TWINN_OK);
  if (res->verdict == TWINN_VERDICT_SAT) { /* the witness must replay */
    double *x = twinn_mallocarray(prop->n_scalars, sizeof *x);
    assert_non_null(x);
    assert_non_null(res->witness);
    memcpy(x, res->witness, prop->n_scalars * sizeof *x);
    assert_int_equal(twinn_problem_complete(&pb, x), TWINN_OK);
    assert_true(twinn_prop_holds(prop, x));
    assert_true((double)(float)x[0] == x[0]); /* inputs are float32 values */
    twinn_free(x);
  }
  twinn_problem_release(&pb);
}

/* Largest |g - f| over a 20^d grid plus random points. */
static double max_diff(const twinn_net *f, const twinn_net *g, size_t n_in, const double *lo,
                       const double *hi) {
  size_t idx[4] = {0, 0, 0, 0}, i, s, n_grid = 1;
  double x[4], yf[8], yg[8], m = 0;
  for (i = 0; i < n_in; i++) n_grid *= 21;
  for (s = 0; s < n_grid + 20000; s++) {
    for (i = 0; i < n_in; i++)
      x[i] = s < n_grid ? lo[i] + (hi[i] - lo[i]) * (double)idx[i] / 20
                        : lo[i] + (hi[i] - lo[i]) * twinn_test_urand();
    for (i = 0; s < n_grid && i < n_in && ++idx[i] > 20; i++) idx[i] = 0;
    assert_int_equal(twinn_net_eval(f, x, yf), TWINN_OK);
    assert_int_equal(twinn_net_eval(g, x, yg), TWINN_OK);
    for (i = 0; i < f->n_out; i++) m = fmax(m, fabs(yg[i] - yf[i]));
  }
  return m;
}

static void test_random_twins(void **state) {
  size_t trial, i, n_sat = 0, n_unsat = 0;
  char buf[8192];
  (void)state;
  twinn_test_rng_state = 7;
  for (trial = 0; trial < 24; trial++) {
    size_t n_in = 2 + trial % 3, depth = 2 + trial % 2, widths[3], n_out;
    double lo[4], hi[4], m, eps;
    twinn_net *f, *g;
    twinn_prop *prop;
    twinn_options opt;
    twinn_result res;
    for (i = 0; i + 1 < depth; i++) widths[i] = 2 + (size_t)(twinn_test_urand() * 7);
    widths[depth - 1] = n_out = 1 + trial % 2;
    f = twinn_test_random_net(n_in, widths, depth, TWINN_LAYER_RELU, NULL, 0);
    g = twinn_test_random_net(n_in, widths, depth, TWINN_LAYER_RELU, f, 0.05);
    for (i = 0; i < n_in; i++) {
      lo[i] = -1 + twinn_test_urand();
      hi[i] = lo[i] + 0.1 + twinn_test_urand();
    }
    m = max_diff(f, g, n_in, lo, hi);
    /* eps below the sampled maximum: a violation is known; above it: probably safe. */
    eps = trial % 2 ? 0.8 * m : 1.05 * m + 1e-6;
    eps_query(buf, sizeof buf, n_in, n_out, lo, hi, eps);
    prop = twinn_test_parse(buf);
    twinn_options_init(&opt);
    opt.timeout = 10;
    verify2(prop, f, g, &opt, &res);
    if (trial % 2) {
      assert_int_equal(res.verdict, TWINN_VERDICT_SAT);
    } else {
      assert_true(res.verdict != TWINN_VERDICT_UNKNOWN);
    }
    n_sat += res.verdict == TWINN_VERDICT_SAT;
    n_unsat += res.verdict == TWINN_VERDICT_UNSAT;
    twinn_result_release(&res);
    twinn_prop_free(prop);
    twinn_net_free(f);
    twinn_net_free(g);
  }
  print_message("random twins: %zu sat, %zu unsat of 24\n", n_sat, n_unsat);
  assert_true(n_sat >= 12);
  assert_true(n_unsat >= 6); /* most of the eps > max cases must be proved */
}

/* Replaces every "(assert (== X_g[i] X_f[i]))" of buf by the tie's two halves written as
 * inequalities, (<= X_g[i] X_f[i]) and (<= X_f[i] X_g[i]) (or the first only, when `half`). */
static void split_ties(const char *in, char *out, size_t n, int half) {
  size_t used = 0;
  const char *p = in, *q;
  while ((q = strstr(p, "(assert (== X_g[")) != NULL) {
    unsigned long i;
    const char *close = strstr(q, "))\n");
    assert_non_null(close);
    assert_int_equal(sscanf(q, "(assert (== X_g[%lu]", &i), 1);
    used += (size_t)snprintf(out + used, n - used, "%.*s", (int)(q - p), p);
    used += (size_t)snprintf(out + used, n - used, "(assert (<= X_g[%lu] X_f[%lu]))\n", i, i);
    if (!half)
      used += (size_t)snprintf(out + used, n - used, "(assert (<= X_f[%lu] X_g[%lu]))\n", i, i);
    p = close + 3;
  }
  snprintf(out + used, n - used, "%s", p);
}

/* Ties written as two opposite inequalities are ties (space.c): the same verdicts as with
 * (== X_g X_f): sat below the sampled maximum difference, unsat well above it; one half alone
 * ties nothing, so X_g has no lower bound and the answer is unknown, naming it. */
static void test_half_ties(void **state) {
  size_t widths[2] = {5, 2}, i;
  double lo[2] = {-0.5, 0.1}, hi[2] = {0.3, 0.6}, m;
  char buf[8192], buf2[8192];
  twinn_net *f, *g;
  (void)state;
  twinn_test_rng_state = 11;
  f = twinn_test_random_net(2, widths, 2, TWINN_LAYER_RELU, NULL, 0);
  g = twinn_test_random_net(2, widths, 2, TWINN_LAYER_RELU, f, 0.05);
  m = max_diff(f, g, 2, lo, hi);
  for (i = 0; i < 3; i++) {
    twinn_prop *prop;
    twinn_result res;
    twinn_options opt;
    eps_query(buf, sizeof buf, 2, 2, lo, hi, i == 0 ? 0.8 * m : 2.0 * m + 0.01);
    split_ties(buf, buf2, sizeof buf2, i == 2);
    assert_null(strstr(buf2, "=="));
    prop = twinn_test_parse(buf2);
    twinn_options_init(&opt);
    opt.timeout = 20;
    verify2(prop, f, g, &opt, &res);
    assert_int_equal(res.verdict, i == 0   ? TWINN_VERDICT_SAT
                                  : i == 1 ? TWINN_VERDICT_UNSAT
                                           : TWINN_VERDICT_UNKNOWN);
    if (i == 2) assert_non_null(strstr(res.reason, "X_g[0] has no constant lower bound"));
    twinn_result_release(&res);
    twinn_prop_free(prop);
  }
  twinn_net_free(f);
  twinn_net_free(g);
}

/* A single-network query (one network in a 2.0 file): Y_f[0] >= c. */
static twinn_prop *single_query(size_t n_in, const char *box, const char *extra) {
  char buf[4096];
  snprintf(buf, sizeof buf,
           "(vnnlib-version <2.0>)\n(declare-network f (declare-input X_f real [%zu]) "
           "(declare-output Y_f real [1]))\n%s\n%s\n",
           n_in, box, extra);
  return twinn_test_parse(buf);
}

static void test_empty_box(void **state) {
  size_t widths[2] = {4, 1};
  twinn_net *f;
  twinn_prop *prop;
  twinn_result res;
  (void)state;
  twinn_test_rng_state = 3;
  f = twinn_test_random_net(2, widths, 2, TWINN_LAYER_RELU, NULL, 0);
  prop = single_query(2,
                      "(assert (>= X_f[0] 1)) (assert (<= X_f[0] 0.5)) (assert (>= X_f[1] 0)) "
                      "(assert (<= X_f[1] 1))",
                      "(assert (>= Y_f[0] -1000))");
  verify2(prop, f, NULL, NULL, &res);
  assert_int_equal(res.verdict, TWINN_VERDICT_UNSAT);
  twinn_result_release(&res);
  twinn_prop_free(prop);
  /* Unbounded input: unknown, naming it. */
  prop = single_query(2, "(assert (>= X_f[0] 0)) (assert (<= X_f[0] 0.5)) (assert (>= X_f[1] 0))",
                      "(assert (>= Y_f[0] 1000))");
  verify2(prop, f, NULL, NULL, &res);
  assert_int_equal(res.verdict, TWINN_VERDICT_UNKNOWN);
  assert_non_null(strstr(res.reason, "X_f[1]"));
  twinn_result_release(&res);
  twinn_prop_free(prop);
  twinn_net_free(f);
}

/* Two input boxes under an OR (ACAS Xu property 6 style): the output maximum of each box is
 * found by sampling; just below it is sat, clearly above it (sampling misses up to ~0.01) unsat. */
static void test_disjunctive_boxes(void **state) {
  size_t widths[2] = {6, 1}, s;
  double m1 = -INFINITY, m2 = -INFINITY, x[2], y;
  char extra[256];
  const char *box = "(assert (>= X_f[1] 0)) (assert (<= X_f[1] 1)) (assert (or (and (>= X_f[0] -2) "
                    "(<= X_f[0] -1)) (and (>= X_f[0] 1) (<= X_f[0] 2))))";
  twinn_net *f;
  twinn_prop *prop;
  twinn_result res;
  (void)state;
  twinn_test_rng_state = 5;
  f = twinn_test_random_net(2, widths, 2, TWINN_LAYER_RELU, NULL, 0);
  for (s = 0; s < 20000; s++) {
    x[0] = -2 + twinn_test_urand();
    x[1] = twinn_test_urand();
    twinn_net_eval(f, x, &y);
    m1 = fmax(m1, y);
    x[0] = 1 + twinn_test_urand();
    twinn_net_eval(f, x, &y);
    m2 = fmax(m2, y);
  }
  snprintf(extra, sizeof extra, "(assert (>= Y_f[0] %.17g))", fmax(m1, m2) + 0.05);
  prop = single_query(2, box, extra);
  verify2(prop, f, NULL, NULL, &res);
  assert_int_equal(res.verdict, TWINN_VERDICT_UNSAT);
  twinn_result_release(&res);
  twinn_prop_free(prop);
  snprintf(extra, sizeof extra, "(assert (>= Y_f[0] %.17g))", fmax(m1, m2) - 1e-3);
  prop = single_query(2, box, extra);
  verify2(prop, f, NULL, NULL, &res);
  assert_int_equal(res.verdict, TWINN_VERDICT_SAT);
  assert_true((res.witness[0] >= -2 && res.witness[0] <= -1) ||
              (res.witness[0] >= 1 && res.witness[0] <= 2));
  twinn_result_release(&res);
  twinn_prop_free(prop);
  twinn_net_free(f);
}

/* The same disjunctive boxes without the counterexample search (twinn_options.no_attack), so
 * that a sat verdict must come from regions the bounds show violated throughout: with the
 * violation in either box and the other box safe, the verdict is sat (never unsat) with a
 * witness in the violating box, and above both maxima unsat. Bounds computed for one box and
 * reused for a region of the other (the interval bounds are kept while the box is the same,
 * cheap_bounds) would prove the violating box safe. */
static void test_disjoint_no_attack(void **state) {
  size_t widths[3] = {8, 8, 1}, s, trial, n_sat = 0;
  char extra[256];
  const char *box = "(assert (>= X_f[1] 0)) (assert (<= X_f[1] 1)) (assert (or (and (>= X_f[0] -2) "
                    "(<= X_f[0] -1)) (and (>= X_f[0] 1) (<= X_f[0] 2))))";
  (void)state;
  twinn_test_rng_state = 77;
  for (trial = 0; trial < 8; trial++) {
    double m[2] = {-INFINITY, -INFINITY}, x[2], y, t;
    int hot;
    twinn_net *f = twinn_test_random_net(2, widths, 3, TWINN_LAYER_RELU, NULL, 0);
    twinn_prop *prop;
    twinn_options opt;
    twinn_result res;
    for (s = 0; s < 20000; s++) {
      x[1] = twinn_test_urand();
      for (int b = 0; b < 2; b++) {
        x[0] = (b ? 1 : -2) + twinn_test_urand();
        twinn_net_eval(f, x, &y);
        m[b] = fmax(m[b], y);
      }
    }
    hot = m[1] > m[0]; /* the box with the larger maximum */
    if (m[hot] - m[!hot] < 0.02) {
      twinn_net_free(f);
      continue;
    }
    /* Violated in the hot box only, near its maximum (a region that is violated throughout
     * would give sat at once, before any bounds are reused). */
    t = m[hot] - 0.1 * (m[hot] - m[!hot]);
    twinn_options_init(&opt);
    opt.no_attack = 1;
    opt.timeout = 10;
    opt.threads = 1 + (int)(trial % 2);
    snprintf(extra, sizeof extra, "(assert (>= Y_f[0] %.17g))", t);
    prop = single_query(2, box, extra);
    verify2(prop, f, NULL, &opt, &res);
    if (res.verdict != TWINN_VERDICT_SAT)
      print_message("trial %zu: %s (maxima %g, %g; threshold %g)\n", trial,
                    twinn_verdict_name(res.verdict), m[0], m[1], t);
    assert_int_not_equal(res.verdict, TWINN_VERDICT_UNSAT);
    if (res.verdict == TWINN_VERDICT_SAT) {
      n_sat++;
      assert_true(hot ? res.witness[0] >= 1 : res.witness[0] <= -1);
    }
    twinn_result_release(&res);
    twinn_prop_free(prop);
    snprintf(extra, sizeof extra, "(assert (>= Y_f[0] %.17g))", m[hot] + 0.05);
    prop = single_query(2, box, extra);
    verify2(prop, f, NULL, &opt, &res);
    assert_int_equal(res.verdict, TWINN_VERDICT_UNSAT);
    twinn_result_release(&res);
    twinn_prop_free(prop);
    twinn_net_free(f);
  }
  print_message("without attacks: %zu sat\n", n_sat);
  assert_true(n_sat >= 4);
}

/* ACAS Xu property 1 style: one network, a box with dimensions of very different widths given
 * by single-variable asserts, and an output threshold (the violation is Y >= T). Above the
 * sampled maximum by a clear margin it must be proved within the time limit (strong branching
 * on the inputs; box asserts evaluated exactly so they cannot mask the output's margin), just
 * below it be sat with a replayed witness; both with 1 and 2 threads, same verdict. */
static void test_single_threshold(void **state) {
  size_t widths[4] = {24, 24, 24, 1}, s, i, t;
  const double lo[5] = {0.6, -0.5, -0.5, 0.45, -0.5}, hi[5] = {0.68, 0.5, 0.5, 0.5, -0.45};
  double x[5], y, m = -INFINITY;
  char extra[256];
  const char *box = "(assert (>= X_f[0] 0.6)) (assert (<= X_f[0] 0.68)) (assert (>= X_f[1] -0.5)) "
                    "(assert (<= X_f[1] 0.5)) (assert (>= X_f[2] -0.5)) (assert (<= X_f[2] 0.5)) "
                    "(assert (>= X_f[3] 0.45)) (assert (<= X_f[3] 0.5)) (assert (>= X_f[4] -0.5)) "
                    "(assert (<= X_f[4] -0.45))";
  twinn_net *f;
  twinn_prop *prop;
  twinn_options opt;
  twinn_result res;
  (void)state;
  twinn_test_rng_state = 21;
  f = twinn_test_random_net(5, widths, 4, TWINN_LAYER_RELU, NULL, 0);
  for (s = 0; s < 40000; s++) {
    for (i = 0; i < 5; i++)
      x[i] = s < 32 ? ((s >> i) & 1 ? hi[i] : lo[i]) : lo[i] + (hi[i] - lo[i]) * twinn_test_urand();
    twinn_net_eval(f, x, &y);
    m = fmax(m, y);
  }
  for (t = 1; t <= 2; t++) {
    twinn_options_init(&opt);
    opt.timeout = 30;
    opt.threads = (int)t;
    snprintf(extra, sizeof extra, "(assert (>= Y_f[0] %.17g))", m + 0.1 * (fabs(m) + 1));
    prop = single_query(5, box, extra);
    verify2(prop, f, NULL, &opt, &res);
    print_message("threshold above the maximum, %zu thread(s): %s after %.2f s, %lu regions\n", t,
                  twinn_verdict_name(res.verdict), res.seconds, res.branches);
    assert_int_equal(res.verdict, TWINN_VERDICT_UNSAT);
    twinn_result_release(&res);
    twinn_prop_free(prop);
    snprintf(extra, sizeof extra, "(assert (>= Y_f[0] %.17g))", m - 1e-3 * (fabs(m) + 1));
    prop = single_query(5, box, extra);
    verify2(prop, f, NULL, &opt, &res);
    assert_int_equal(res.verdict, TWINN_VERDICT_SAT);
    for (i = 0; i < 5; i++)
      assert_true(res.witness[i] >= lo[i] - 1e-7 && res.witness[i] <= hi[i] + 1e-7);
    twinn_result_release(&res);
    twinn_prop_free(prop);
  }
  twinn_net_free(f);
}

/* A threshold on a hidden value (declare-hidden on a tap between the second affine layer and
 * its ReLU) of random 4-input networks with two ReLU layers, input and neuron branching, at
 * thresholds around its sampled maximum: the verdicts are the exact MILP mode's (the hidden
 * value is bounded by the region's symbolic analysis as well as by intervals). */
static void test_hidden_threshold(void **state) {
  (void)state;
  int n_unsat = 0, n_sat = 0;
  twinn_test_rng_state = 41;
  for (int c = 0; c < 6; c++) {
    twinn_error err;
    twinn_error_clear(&err);
    twinn_net *f = twinn_net_new(4);
    assert_non_null(f);
    size_t width[3] = {10, 8, 1}, in = 4;
    for (size_t k = 0; k < 3; k++) {
      double *w = twinn_mallocarray(width[k] * in, sizeof *w);
      double *b = twinn_mallocarray(width[k], sizeof *b);
      assert_true(w && b);
      for (size_t i = 0; i < width[k] * in; i++) w[i] = 2.0 * twinn_test_urand() - 1.0;
      for (size_t i = 0; i < width[k]; i++) b[i] = twinn_test_urand() - 0.5;
      assert_int_equal(twinn_net_push_affine(f, width[k], w, b, &err), TWINN_OK);
      if (k == 1) assert_int_equal(twinn_net_add_tap(f, "z2", "z2", &err), TWINN_OK);
      if (k < 2) assert_int_equal(twinn_net_push_act(f, TWINN_LAYER_RELU, &err), TWINN_OK);
      in = width[k];
    }
    size_t j = (size_t)c % 8;
    double x[4], v[16], m = -INFINITY;
    for (size_t s = 0; s < 4000; s++) {
      for (size_t i = 0; i < 4; i++) x[i] = 2.0 * twinn_test_urand() - 1.0;
      assert_int_equal(twinn_net_eval_upto(f, x, 3, v), TWINN_OK);
      m = fmax(m, v[j]);
    }
    const double delta[4] = {-0.3, 0.0, 0.15, 0.3};
    for (int d = 0; d < 4; d++) {
      char buf[1024];
      snprintf(buf, sizeof buf,
               "(vnnlib-version <2.0>)\n(declare-network f (declare-input X_f real [4]) "
               "(declare-hidden H_f real [8] \"z2\") (declare-output Y_f real [1]))\n"
               "(assert (>= X_f[0] -1)) (assert (<= X_f[0] 1)) (assert (>= X_f[1] -1)) "
               "(assert (<= X_f[1] 1)) (assert (>= X_f[2] -1)) (assert (<= X_f[2] 1)) "
               "(assert (>= X_f[3] -1)) (assert (<= X_f[3] 1))\n(assert (>= H_f[%zu] %.17g))\n",
               j, m + delta[d] * (fabs(m) + 1));
      twinn_prop *prop = twinn_test_parse(buf);
      const char *names[1] = {"f"};
      const twinn_net *nets[1] = {f};
      twinn_problem pb;
      twinn_options opt;
      twinn_result res, exact;
      twinn_options_init(&opt);
      opt.timeout = 30;
      opt.neuron_split = c % 2;
      verify2(prop, f, NULL, &opt, &res);
      assert_int_equal(twinn_problem_bind(&pb, prop, 1, names, nets, &err), TWINN_OK);
      assert_int_equal(twinn_milp_verify(&pb, NULL, &exact, &err), TWINN_OK);
      assert_true(exact.verdict == TWINN_VERDICT_SAT || exact.verdict == TWINN_VERDICT_UNSAT);
      assert_int_equal(res.verdict, exact.verdict);
      n_unsat += res.verdict == TWINN_VERDICT_UNSAT;
      n_sat += res.verdict == TWINN_VERDICT_SAT;
      twinn_result_release(&res);
      twinn_result_release(&exact);
      twinn_problem_release(&pb);
      twinn_prop_free(prop);
    }
    twinn_net_free(f);
  }
  print_message("hidden thresholds: %d unsat, %d sat, as MILP\n", n_unsat, n_sat);
  assert_true(n_unsat > 0 && n_sat > 0);
}

static void count_calls(void *ctx, const twinn_progress *p) {
  (void)p;
  ++*(int *)ctx;
}

/* A wide network with the threshold above the sampled maximum by 0.1 relative (at 0.06 and
 * below the attack finds a violation at once): hard to prove; the timeout must be honoured
 * (loosely) and the progress callback called. The 40x40x40 network used until session 18 was
 * proved unsat within the 0.6 s on an idle machine in 5 of 8 runs; this 64x64x64x64 one took
 * 17.4 s (125 551 regions) there. */
static void test_timeout(void **state) {
  size_t widths[5] = {64, 64, 64, 64, 1}, s, i;
  double x[6], y, m = -INFINITY;
  char extra[256];
  twinn_net *f;
  twinn_prop *prop;
  twinn_options opt;
  twinn_result res;
  int calls = 0;
  (void)state;
  twinn_test_rng_state = 9;
  f = twinn_test_random_net(6, widths, 5, TWINN_LAYER_RELU, NULL, 0);
  for (s = 0; s < 20000; s++) { /* corners first: a ReLU network's maximum is often at one */
    for (i = 0; i < 6; i++) x[i] = s < 64 ? (double)((s >> i) & 1) : twinn_test_urand();
    twinn_net_eval(f, x, &y);
    m = fmax(m, y);
  }
  snprintf(extra, sizeof extra, "(assert (>= Y_f[0] %.17g))", m + 0.1 * (fabs(m) + 1));
  prop = single_query(
      6,
      "(assert (>= X_f[0] 0)) (assert (<= X_f[0] 1)) (assert (>= X_f[1] 0)) (assert (<= X_f[1] 1)) "
      "(assert (>= X_f[2] 0)) (assert (<= X_f[2] 1)) (assert (>= X_f[3] 0)) (assert (<= X_f[3] 1)) "
      "(assert (>= X_f[4] 0)) (assert (<= X_f[4] 1)) (assert (>= X_f[5] 0)) (assert (<= X_f[5] 1))",
      extra);
  twinn_options_init(&opt);
  opt.timeout = 0.6;
  opt.progress = count_calls;
  opt.progress_ctx = &calls;
  verify2(prop, f, NULL, &opt, &res);
  /* A sat from a violation the sampling missed is fine; unsat is not expected this quickly. */
  assert_true(res.verdict == TWINN_VERDICT_TIMEOUT || res.verdict == TWINN_VERDICT_SAT);
  assert_true(res.seconds < 5.0);
  print_message("hard instance: %s after %.2f s, %lu regions\n", twinn_verdict_name(res.verdict),
                res.seconds, res.branches);
  if (res.verdict == TWINN_VERDICT_TIMEOUT) assert_true(calls >= 1);
  twinn_result_release(&res);
  twinn_prop_free(prop);
  twinn_net_free(f);
}

/* Same seed, same run: verdict and branch count agree. */
static void test_deterministic(void **state) {
  size_t widths[3] = {8, 8, 2};
  double lo[3] = {-1, -1, -1}, hi[3] = {1, 1, 1}, m;
  char buf[8192];
  twinn_net *f, *g;
  twinn_prop *prop;
  twinn_options opt;
  twinn_result r1, r2;
  (void)state;
  twinn_test_rng_state = 21;
  f = twinn_test_random_net(3, widths, 3, TWINN_LAYER_RELU, NULL, 0);
  g = twinn_test_random_net(3, widths, 3, TWINN_LAYER_RELU, f, 0.02);
  m = max_diff(f, g, 3, lo, hi);
  eps_query(buf, sizeof buf, 3, 2, lo, hi, 1.02 * m);
  prop = twinn_test_parse(buf);
  twinn_options_init(&opt);
  opt.seed = 42;
  opt.timeout = 3;
  verify2(prop, f, g, &opt, &r1);
  verify2(prop, f, g, &opt, &r2);
  assert_int_equal(r1.verdict, r2.verdict);
  /* The whole tree is explored only for unsat; a sat stops at a timing-dependent point. */
  if (r1.verdict == TWINN_VERDICT_UNSAT) assert_int_equal(r1.branches, r2.branches);
  twinn_result_release(&r1);
  twinn_result_release(&r2);
  twinn_prop_free(prop);
  twinn_net_free(f);
  twinn_net_free(g);
}

/* The search tree does not depend on timing: 1 and 2 worker threads give the same verdict, and
 * the same branch count when the whole tree is explored (unsat). */
static void test_threads_agree(void **state) {
  size_t trial, i, n_unsat = 0;
  char buf[8192];
  (void)state;
  twinn_test_rng_state = 77;
  for (trial = 0; trial < 8; trial++) {
    size_t widths[3] = {6 + trial % 3, 5, 2};
    double lo[3], hi[3], m;
    twinn_net *f, *g;
    twinn_prop *prop;
    twinn_options opt;
    twinn_result r1, r2;
    f = twinn_test_random_net(3, widths, 3, TWINN_LAYER_RELU, NULL, 0);
    g = twinn_test_random_net(3, widths, 3, TWINN_LAYER_RELU, f, 0.05);
    for (i = 0; i < 3; i++) {
      lo[i] = -1 + twinn_test_urand();
      hi[i] = lo[i] + 0.2 + twinn_test_urand();
    }
    m = max_diff(f, g, 3, lo, hi);
    eps_query(buf, sizeof buf, 3, 2, lo, hi, trial % 2 ? 0.9 * m : 1.03 * m + 1e-6);
    prop = twinn_test_parse(buf);
    twinn_options_init(&opt);
    opt.seed = 5;
    opt.timeout = 20;
    opt.threads = 1;
    verify2(prop, f, g, &opt, &r1);
    opt.threads = 2;
    verify2(prop, f, g, &opt, &r2);
    assert_true(r1.verdict == TWINN_VERDICT_SAT || r1.verdict == TWINN_VERDICT_UNSAT);
    assert_int_equal(r1.verdict, r2.verdict);
    if (r1.verdict == TWINN_VERDICT_UNSAT) {
      assert_int_equal(r1.branches, r2.branches);
      n_unsat++;
    }
    twinn_result_release(&r1);
    twinn_result_release(&r2);
    twinn_prop_free(prop);
    twinn_net_free(f);
    twinn_net_free(g);
  }
  assert_true(n_unsat >= 2);
}

/* Largest |g - f| over random points and the box's corners along each axis pair (inputs of
 * any dimension, up to 32). */
static double max_diff_sampled(const twinn_net *f, const twinn_net *g, size_t n_in,
                               const double *lo, const double *hi) {
  size_t s, i;
  double x[128], yf[8], yg[8], m = 0;
  assert_true(n_in <= 128);
  for (s = 0; s < 40000; s++) {
    for (i = 0; i < n_in; i++)
      x[i] = s < 1024 ? ((s >> (i % 10)) & 1 ? hi[i] : lo[i])
                      : lo[i] + (hi[i] - lo[i]) * twinn_test_urand();
    assert_int_equal(twinn_net_eval(f, x, yf), TWINN_OK);
    assert_int_equal(twinn_net_eval(g, x, yg), TWINN_OK);
    for (i = 0; i < f->n_out; i++) m = fmax(m, fabs(yg[i] - yf[i]));
  }
  return m;
}

static int decided(const twinn_result *r) {
  return r->verdict == TWINN_VERDICT_SAT || r->verdict == TWINN_VERDICT_UNSAT;
}

/* Neuron splitting (opt.neuron_split) on 20-dimensional inputs: witnesses replay (verify2),
 * sat and unsat never contradict input splitting, 1 and 2 threads agree when both decide, a
 * violation found by sampling gives sat, and some safe cases are proved. */
static void test_neuron_split(void **state) {
  size_t trial, i, n_unsat = 0;
  char buf[16384];
  (void)state;
  twinn_test_rng_state = 99;
  for (trial = 0; trial < 6; trial++) {
    size_t widths[3] = {4, 3, 2};
    double lo[20], hi[20], m;
    twinn_net *f, *g;
    twinn_prop *prop;
    twinn_options opt;
    twinn_result r1, r2, r3;
    f = twinn_test_random_net(20, widths, 3, TWINN_LAYER_RELU, NULL, 0);
    g = twinn_test_random_net(20, widths, 3, TWINN_LAYER_RELU, f, 0.03);
    for (i = 0; i < 20; i++) {
      lo[i] = -0.5 + 0.5 * twinn_test_urand();
      hi[i] = lo[i] + 0.1;
    }
    m = max_diff_sampled(f, g, 20, lo, hi);
    eps_query(buf, sizeof buf, 20, 2, lo, hi, trial % 2 ? 0.8 * m : 1.5 * m + 1e-6);
    prop = twinn_test_parse(buf);
    twinn_options_init(&opt);
    opt.timeout = 3;
    opt.neuron_split = 1;
    opt.threads = 1;
    verify2(prop, f, g, &opt, &r1);
    opt.threads = 2;
    verify2(prop, f, g, &opt, &r2);
    opt.neuron_split = 0;
    verify2(prop, f, g, &opt, &r3);
    if (trial % 2) assert_int_equal(r1.verdict, TWINN_VERDICT_SAT);
    if (decided(&r1) && decided(&r2)) assert_int_equal(r1.verdict, r2.verdict);
    if (decided(&r1) && decided(&r3)) assert_int_equal(r1.verdict, r3.verdict);
    n_unsat += r1.verdict == TWINN_VERDICT_UNSAT;
    twinn_result_release(&r1);
    twinn_result_release(&r2);
    twinn_result_release(&r3);
    twinn_prop_free(prop);
    twinn_net_free(f);
    twinn_net_free(g);
  }
  assert_true(n_unsat >= 2);
}

/* A robustness query on the single network f (n_in inputs, n_out outputs) over the box: some
 * output j != c reaches output c, each disjunct once and the first one twice more (copies
 * count once in the split). */
static void robust_query(char *buf, size_t n, size_t n_in, size_t n_out, const double *lo,
                         const double *hi, size_t c) {
  size_t i, used = (size_t)snprintf(buf, n,
                                    "(vnnlib-version <2.0>)\n(declare-network f (declare-input X "
                                    "real [%zu]) (declare-output Y real [%zu]))\n",
                                    n_in, n_out);
  for (i = 0; i < n_in; i++)
    used += (size_t)snprintf(buf + used, n - used,
                             "(assert (>= X[%zu] %.17g))\n"
                             "(assert (<= X[%zu] %.17g))\n",
                             i, lo[i], i, hi[i]);
  used += (size_t)snprintf(buf + used, n - used, "(assert (or");
  for (i = 0; i < n_out; i++)
    if (i != c) used += (size_t)snprintf(buf + used, n - used, " (>= Y[%zu] Y[%zu])", i, c);
  snprintf(buf + used, n - used, " (>= Y[%zu] Y[%zu]) (>= Y[%zu] Y[%zu])))\n", (size_t)(c ? 0 : 1),
           c, (size_t)(c ? 0 : 1), c);
}

/* The split by disjuncts (twinn_split_disjuncts; single shallow networks branching on
 * neurons): verdicts agree with the joint search (opt.no_decompose) where both decide,
 * witnesses replay (verify2), a violation found by sampling gives sat, and the proofs come
 * from the split (its reason). */
static void test_split_disjuncts(void **state) {
  size_t trial, i, n_unsat = 0, n_sat = 0;
  char buf[16384];
  (void)state;
  twinn_test_rng_state = 123;
  for (trial = 0; trial < 8; trial++) {
    size_t widths[3] = {8, 6, 4}, c = 0;
    double lo[20], hi[20], mid[20], y[4], w = trial % 2 ? 0.02 : 0.3;
    twinn_net *f;
    twinn_prop *prop;
    twinn_options opt;
    twinn_result r1, r2;
    int violated = 0;
    f = twinn_test_random_net(20, widths, 3, TWINN_LAYER_RELU, NULL, 0);
    for (i = 0; i < 20; i++) {
      lo[i] = -0.5 + twinn_test_urand();
      hi[i] = lo[i] + w;
      mid[i] = lo[i] + w / 2;
    }
    assert_int_equal(twinn_net_eval(f, mid, y), TWINN_OK);
    for (i = 1; i < 4; i++)
      if (y[i] > y[c]) c = i;
    for (size_t s = 0; s < 4000 && !violated; s++) { /* sampled: does some j reach c? */
      double x[20];
      for (i = 0; i < 20; i++) x[i] = lo[i] + w * twinn_test_urand();
      assert_int_equal(twinn_net_eval(f, x, y), TWINN_OK);
      for (i = 0; i < 4; i++) violated |= i != c && y[i] >= y[c];
    }
    robust_query(buf, sizeof buf, 20, 4, lo, hi, c);
    prop = twinn_test_parse(buf);
    twinn_options_init(&opt);
    opt.timeout = 3;
    opt.neuron_split = 1;
    opt.threads = 1;
    verify2(prop, f, NULL, &opt, &r1);
    opt.no_decompose = 1;
    verify2(prop, f, NULL, &opt, &r2);
    if (violated) assert_int_equal(r1.verdict, TWINN_VERDICT_SAT);
    if (decided(&r1) && decided(&r2)) assert_int_equal(r1.verdict, r2.verdict);
    if (r1.verdict == TWINN_VERDICT_UNSAT) {
      assert_non_null(strstr(r1.reason, "proved disjunct by disjunct: 3 distinct"));
      n_unsat++;
    }
    n_sat += r1.verdict == TWINN_VERDICT_SAT;
    twinn_result_release(&r1);
    twinn_result_release(&r2);
    twinn_prop_free(prop);
    twinn_net_free(f);
  }
  assert_true(n_unsat >= 2);
  assert_true(n_sat >= 2);
}

/* Every allocation failure is reported as TWINN_ERR_NOMEM (never as a verdict, above all never
 * as unsat), and the runs that do get through agree with the undisturbed verdict. */
/* Whether every sampled point of the box has all of net's point values (point by point, in
 * twinn_sym_prior's layout) inside [blo, bhi]. */
static int bounds_hold(const twinn_net *net, const double *lo, const double *hi, const double *blo,
                       const double *bhi) {
  double x[32], v[64];
  assert_true(net->n_in <= 32);
  for (size_t s = 0; s < 2000; s++) {
    size_t off = 0;
    for (size_t i = 0; i < net->n_in; i++) x[i] = lo[i] + (hi[i] - lo[i]) * twinn_test_urand();
    for (size_t p = 0; p <= net->n_layers; p++) {
      size_t w = twinn_net_width_at(net, p);
      assert_true(w <= 64);
      assert_int_equal(twinn_net_eval_upto(net, x, p, v), TWINN_OK);
      for (size_t j = 0; j < w; j++)
        if (v[j] < blo[off + j] || v[j] > bhi[off + j]) return 0;
      off += w;
    }
  }
  return 1;
}

/* twinn_options.roots: the first neuron-branching run over a box keeps the root bounds of f
 * and g (they hold at sampled points), later runs over the same box with other thresholds
 * take them and reach the verdicts of runs without the store (sat where sampling finds a
 * violation); another box gets entries of its own; bounds kept twice for the same box are
 * intersected. */
static void test_roots_store(void **state) {
  size_t widths[4] = {10, 8, 6, 2}, i, k, n_unsat = 0;
  double lo[20], hi[20], lo2[20], hi2[20], m;
  const double frac[6] = {0.7, 4, 8, 0.9, 16, 16};
  char buf[16384];
  twinn_net *f, *g;
  twinn_roots *roots = twinn_roots_new();
  (void)state;
  assert_non_null(roots);
  twinn_test_rng_state = 404;
  f = twinn_test_random_net(20, widths, 4, TWINN_LAYER_RELU, NULL, 0);
  g = twinn_test_random_net(20, widths, 4, TWINN_LAYER_RELU, f, 0.02);
  for (i = 0; i < 20; i++) {
    lo[i] = -0.5 + 0.5 * twinn_test_urand();
    hi[i] = lo[i] + 0.2;
    lo2[i] = lo[i] + 0.05;
    hi2[i] = hi[i] + 0.05;
  }
  m = max_diff_sampled(f, g, 20, lo, hi);
  for (k = 0; k < 6; k++) {
    const double *blo, *bhi;
    int other = k == 5; /* the last run: the shifted box */
    twinn_prop *prop;
    twinn_options opt;
    twinn_result with, without;
    eps_query(buf, sizeof buf, 20, 2, other ? lo2 : lo, other ? hi2 : hi, frac[k] * m + 1e-6);
    prop = twinn_test_parse(buf);
    twinn_options_init(&opt);
    opt.timeout = 3;
    opt.neuron_split = 1;
    opt.threads = 1;
    verify2(prop, f, g, &opt, &without);
    opt.roots = roots;
    verify2(prop, f, g, &opt, &with);
    for (int w = 0; w < 2; w++) {
      const twinn_net *net = w ? g : f;
      blo = twinn_roots_find(roots, net, other ? lo2 : lo, other ? hi2 : hi, 0);
      bhi = twinn_roots_find(roots, net, other ? lo2 : lo, other ? hi2 : hi, 1);
      if (with.verdict == TWINN_VERDICT_SAT && k == 0) continue; /* may end before the root */
      assert_non_null(blo);
      assert_non_null(bhi);
      assert_true(bounds_hold(net, other ? lo2 : lo, other ? hi2 : hi, blo, bhi));
    }
    if (frac[k] < 1) assert_int_equal(with.verdict, TWINN_VERDICT_SAT);
    if (decided(&with) && decided(&without)) assert_int_equal(with.verdict, without.verdict);
    n_unsat += with.verdict == TWINN_VERDICT_UNSAT;
    twinn_result_release(&with);
    twinn_result_release(&without);
    twinn_prop_free(prop);
  }
  assert_true(n_unsat >= 2);
  /* Keeping bounds for a kept box intersects them with what is there. */
  {
    size_t n = 0;
    for (size_t p = 0; p <= f->n_layers; p++) n += twinn_net_width_at(f, p);
    double *a = twinn_mallocarray(2 * n, sizeof *a);
    const double *kl = twinn_roots_find(roots, f, lo, hi, 0),
                 *kh = twinn_roots_find(roots, f, lo, hi, 1);
    assert_non_null(a);
    assert_non_null(kl);
    for (i = 0; i < n; i++) {
      a[i] = i % 2 ? kl[i] - 1 : kl[i] + 1e-3; /* odd: looser, even: tighter (maybe crossing) */
      a[n + i] = kh[i] + 1;
    }
    double first = kl[0], second = kl[1], up = kh[0];
    assert_int_equal(twinn_roots_keep(roots, f, lo, hi, a, a + n, n), TWINN_OK);
    kl = twinn_roots_find(roots, f, lo, hi, 0);
    kh = twinn_roots_find(roots, f, lo, hi, 1);
    assert_true(kl[0] == first + 1e-3 && kl[1] == second && kh[0] == up);
    assert_null(twinn_roots_find(roots, f, lo, hi2, 0)); /* another box: nothing */
    twinn_free(a);
  }
  twinn_roots_free(roots);
  twinn_net_free(f);
  twinn_net_free(g);
}

/* Runs sharing a root store (twinn_options.roots) over one box, thresholds around the
 * maximum of |g - f| of small twins of 3 ReLU layers: every decided verdict is the exact MILP
 * mode's, and the store holds f's and g's bounds after the first. */
static void test_roots_exact(void **state) {
  size_t widths[4] = {8, 6, 5, 2}, i, k, n_decided = 0;
  const double frac[5] = {0.8, 1.05, 1.3, 2, 3};
  double lo[3], hi[3], m;
  char buf[8192];
  (void)state;
  twinn_test_rng_state = 505;
  for (int c = 0; c < 3; c++) {
    twinn_net *f = twinn_test_random_net(3, widths, 4, TWINN_LAYER_RELU, NULL, 0);
    twinn_net *g = twinn_test_random_net(3, widths, 4, TWINN_LAYER_RELU, f, 0.05);
    twinn_roots *roots = twinn_roots_new();
    assert_non_null(roots);
    for (i = 0; i < 3; i++) {
      lo[i] = -1 + twinn_test_urand();
      hi[i] = lo[i] + 0.5;
    }
    m = max_diff(f, g, 3, lo, hi);
    for (k = 0; k < 5; k++) {
      twinn_prop *prop;
      twinn_options opt;
      twinn_result r;
      eps_query(buf, sizeof buf, 3, 2, lo, hi, frac[k] * m + 1e-6);
      prop = twinn_test_parse(buf);
      twinn_options_init(&opt);
      opt.timeout = 5;
      opt.neuron_split = 1;
      opt.threads = 1 + (int)(k % 2);
      opt.roots = roots;
      verify2(prop, f, g, &opt, &r);
      if (decided(&r)) {
        assert_int_equal(r.verdict, twinn_test_milp_verdict(prop, f, g));
        n_decided++;
      }
      if (k > 0 && frac[k] > 1.5) assert_non_null(twinn_roots_find(roots, g, lo, hi, 1));
      twinn_result_release(&r);
      twinn_prop_free(prop);
    }
    twinn_roots_free(roots);
    twinn_net_free(f);
    twinn_net_free(g);
  }
  print_message("root store: %zu verdicts as MILP\n", n_decided);
  assert_true(n_decided >= 10);
}

/* twinn_result.open_margin after a timeout: with the query "some |g_i - f_i| > t", every
 * |g_i - f_i| is at most t - open_margin (a margin below 0, or -inf), sampled and exactly (the
 * MILP mode proves that threshold); other verdicts leave it NAN. Small twins, thresholds 2-16 %
 * above the sampled maximum, runs of 0.03 s. */
static void test_open_margin(void **state) {
  size_t trial, i, n_cut = 0;
  char buf[16384];
  (void)state;
  twinn_test_rng_state = 77;
  for (trial = 0; trial < 8; trial++) {
    size_t widths[3] = {8, 6, 2};
    double lo[20], hi[20], m, t;
    twinn_net *f = twinn_test_random_net(3, widths, 3, TWINN_LAYER_RELU, NULL, 0);
    twinn_net *g = twinn_test_random_net(3, widths, 3, TWINN_LAYER_RELU, f, 0.05);
    twinn_prop *prop;
    twinn_options opt;
    twinn_result r;
    for (i = 0; i < 3; i++) {
      lo[i] = -0.5 + 0.5 * twinn_test_urand();
      hi[i] = lo[i] + 0.6;
    }
    m = max_diff_sampled(f, g, 3, lo, hi);
    t = (1.02 + 0.02 * (double)trial) * m;
    eps_query(buf, sizeof buf, 3, 2, lo, hi, t);
    prop = twinn_test_parse(buf);
    twinn_options_init(&opt);
    opt.timeout = 0.03;
    opt.neuron_split = (int)(trial % 3 != 2);
    opt.threads = 1 + (int)(trial % 2);
    verify2(prop, f, g, &opt, &r);
    if (r.verdict == TWINN_VERDICT_TIMEOUT) {
      assert_true(!isnan(r.open_margin));
      assert_true(r.open_margin < 0);
      if (isfinite(r.open_margin)) {
        /* Exactly: no |g_i - f_i| above the certified end (the MILP mode on that threshold). */
        double end = nextafter(t - r.open_margin, INFINITY);
        twinn_prop *at_end;
        assert_true(m <= end);
        eps_query(buf, sizeof buf, 3, 2, lo, hi, end);
        at_end = twinn_test_parse(buf);
        assert_int_equal(twinn_test_milp_verdict(at_end, f, g), TWINN_VERDICT_UNSAT);
        twinn_prop_free(at_end);
        n_cut++;
      }
    } else {
      assert_true(isnan(r.open_margin));
    }
    twinn_result_release(&r);
    twinn_prop_free(prop);
    twinn_net_free(f);
    twinn_net_free(g);
  }
  print_message("open margins checked on %zu timed-out runs\n", n_cut);
  assert_true(n_cut >= 2);
}

/* The portfolio (17-64 inputs, two threads: both branching orders at once, the first verdict
 * wins): verdicts against the exact maximum M of |g_i - f_i| over the box (exact.h, GLPK): sat
 * only when M > t, unsat only when M <= t; a run neither order decides in time says so, and
 * its open margin (the better order's) holds: M <= t - open_margin. Progress snapshots,
 * summed over both orders, never go back. Twins of 18-24 inputs, thresholds from 0.5 % below
 * to 2.5 % above M, runs of 5 ms (mostly cut short) and of 2 s (mostly decided). */
typedef struct {
  unsigned long branches, calls;
  double elapsed;
  int backwards;
} progress_log;

static void log_progress(void *ctx, const twinn_progress *p) {
  progress_log *l = ctx;
  l->backwards |= p->branches < l->branches || p->elapsed < l->elapsed;
  l->branches = p->branches;
  l->elapsed = p->elapsed;
  l->calls++;
}

static void test_portfolio(void **state) {
  size_t trial, i, k, n_cut = 0, n_sat = 0, n_unsat = 0;
  char buf[32768];
  /* The forms g_0 - f_0, f_0 - g_0, g_1 - f_1, f_1 - g_1. */
  const double cf[8] = {-1, 0, 1, 0, 0, -1, 0, 1}, cg[8] = {1, 0, -1, 0, 0, 1, 0, -1};
  (void)state;
  twinn_test_rng_state = 4545;
  for (trial = 0; trial < 16; trial++) {
    size_t widths[3] = {8, 8, 2}, n_in = 18 + trial % 7;
    double lo[32], hi[32], big, t;
    twinn_net *f = twinn_test_random_net(n_in, widths, 3, TWINN_LAYER_RELU, NULL, 0);
    twinn_net *g = twinn_test_random_net(n_in, widths, 3, TWINN_LAYER_RELU, f, 0.05);
    twinn_exact *ex = twinn_exact_new(f, g);
    twinn_exact_result em;
    twinn_prop *prop;
    twinn_options opt;
    assert_non_null(ex);
    for (i = 0; i < n_in; i++) {
      double w = twinn_test_urand() < 0.1 ? 0 : 0.05 + 0.3 * twinn_test_urand();
      lo[i] = (float)(2 * twinn_test_urand() - 1);
      hi[i] = (float)(lo[i] + w);
    }
    assert_int_equal(twinn_exact_max_many(ex, 4, cf, cg, lo, hi, -INFINITY, 20000, &em, NULL),
                     TWINN_OK);
    assert_true(em.complete);
    t = (0.995 + 0.03 * twinn_test_urand()) * em.upper;
    eps_query(buf, sizeof buf, n_in, 2, lo, hi, t);
    prop = twinn_test_parse(buf);
    /* em.upper is an LP's value in floating point: a little slack around it. */
    big = 1e-9 * (1 + em.upper);
    for (k = 0; k < 2; k++) { /* a run cut short, then one with time to decide */
      twinn_result r;
      progress_log pl = {0, 0, 0, 0};
      twinn_options_init(&opt);
      opt.timeout = k ? 2.0 : 0.005;
      opt.threads = 2;
      opt.progress = log_progress;
      opt.progress_ctx = &pl;
      verify2(prop, f, g, &opt, &r);
      assert_false(pl.backwards);
      if (r.verdict == TWINN_VERDICT_TIMEOUT) {
        assert_true(!isnan(r.open_margin));
        assert_true(r.open_margin < 0);
        if (isfinite(r.open_margin)) {
          assert_non_null(strstr(r.reason, "both orders at once"));
          assert_true(em.upper <= t - r.open_margin + big);
          n_cut++;
        }
      } else if (r.verdict == TWINN_VERDICT_SAT) {
        assert_true(em.upper > t - big);
        n_sat++;
      } else if (r.verdict == TWINN_VERDICT_UNSAT) {
        assert_true(em.upper <= t + big);
        n_unsat++;
      }
      twinn_result_release(&r);
    }
    twinn_prop_free(prop);
    twinn_exact_free(ex);
    twinn_net_free(f);
    twinn_net_free(g);
  }
  print_message("portfolio: %zu sat, %zu unsat, open margins checked on %zu timed-out runs\n",
                n_sat, n_unsat, n_cut);
  assert_true(n_cut >= 2 && n_sat >= 1 && n_unsat >= 1 && n_sat + n_unsat >= 8);
}

/* Verifies pb with the k-th allocation from now failing (twinn_alloc_set_fail). Returns 1 when
 * the run failed, as out of memory and without unsat; 0 with res filled. */
static int verify_failing_at(const twinn_problem *pb, const twinn_options *opt, unsigned long k,
                             twinn_result *res) {
  twinn_error err;
  twinn_status st;
  twinn_error_clear(&err);
  twinn_alloc_set_fail(k);
  st = twinn_verify(pb, opt, res, &err);
  twinn_alloc_set_fail(0);
  if (st == TWINN_OK) return 0;
  assert_int_equal(st, TWINN_ERR_NOMEM);
  assert_int_equal(err.status, TWINN_ERR_NOMEM);
  assert_true(res->verdict != TWINN_VERDICT_UNSAT);
  return 1;
}

/* Out of memory inside the portfolio: whichever order (or the caller) an allocation fails in,
 * the run answers the verdict of a run with memory or TWINN_ERR_NOMEM, never another verdict
 * (an order that failed leaves the other running). */
static void test_portfolio_nomem(void **state) {
  size_t widths[3] = {8, 8, 2}, i, n_in = 20;
  double lo[20], hi[20];
  const double cf[8] = {-1, 0, 1, 0, 0, -1, 0, 1}, cg[8] = {1, 0, -1, 0, 0, 1, 0, -1};
  char buf[32768];
  twinn_net *f, *g;
  twinn_exact *ex;
  twinn_exact_result em;
  twinn_prop *prop;
  twinn_options opt;
  twinn_result ref, res;
  unsigned long k, total;
  int failures = 0, decided = 0;
  (void)state;
  twinn_test_rng_state = 4646;
  f = twinn_test_random_net(n_in, widths, 3, TWINN_LAYER_RELU, NULL, 0);
  g = twinn_test_random_net(n_in, widths, 3, TWINN_LAYER_RELU, f, 0.05);
  for (i = 0; i < n_in; i++) {
    lo[i] = (float)(2 * twinn_test_urand() - 1);
    hi[i] = (float)(lo[i] + 0.05 + 0.3 * twinn_test_urand());
  }
  assert_non_null(ex = twinn_exact_new(f, g));
  assert_int_equal(twinn_exact_max_many(ex, 4, cf, cg, lo, hi, -INFINITY, 20000, &em, NULL),
                   TWINN_OK);
  assert_true(em.complete);
  twinn_exact_free(ex);
  eps_query(buf, sizeof buf, n_in, 2, lo, hi, 1.01 * em.upper);
  prop = twinn_test_parse(buf);
  twinn_options_init(&opt);
  opt.timeout = 10;
  opt.threads = 2;
  twinn_alloc_set_fail(0);
  verify2(prop, f, g, &opt, &ref);
  total = twinn_alloc_count();
  assert_int_equal(ref.verdict, TWINN_VERDICT_UNSAT);
  for (k = 1; k < total; k += total / 60 + 1) {
    const char *names[2] = {"f", "g"};
    const twinn_net *nets[2] = {f, g};
    twinn_problem pb;
    assert_int_equal(twinn_problem_bind(&pb, prop, 2, names, nets, NULL), TWINN_OK);
    if (verify_failing_at(&pb, &opt, k, &res)) {
      failures++;
    } else if (res.verdict != TWINN_VERDICT_TIMEOUT) {
      assert_int_equal(res.verdict, ref.verdict);
      decided++;
    }
    twinn_result_release(&res);
    twinn_problem_release(&pb);
  }
  print_message("portfolio out of memory: %d failed, %d decided (%lu allocations)\n", failures,
                decided, total);
  assert_true(failures > 5 && decided > 5);
  twinn_result_release(&ref);
  twinn_prop_free(prop);
  twinn_net_free(f);
  twinn_net_free(g);
}

static void test_nomem(void **state) {
  size_t widths[2] = {6, 2}, k;
  double lo[2] = {-1, -1}, hi[2] = {1, 1}, m;
  char buf[8192];
  const char *names[2] = {"f", "g"};
  const twinn_net *nets[2];
  twinn_net *f, *g;
  twinn_prop *prop;
  twinn_problem pb;
  twinn_options opt;
  twinn_result ref, res;
  twinn_error err;
  int failures = 0;
  (void)state;
  twinn_test_rng_state = 31;
  f = twinn_test_random_net(2, widths, 2, TWINN_LAYER_RELU, NULL, 0);
  g = twinn_test_random_net(2, widths, 2, TWINN_LAYER_RELU, f, 0.05);
  nets[0] = f;
  nets[1] = g;
  m = max_diff(f, g, 2, lo, hi);
  eps_query(buf, sizeof buf, 2, 2, lo, hi, 1.1 * m);
  prop = twinn_test_parse(buf);
  twinn_options_init(&opt);
  opt.timeout = 5;
  twinn_error_clear(&err);
  assert_int_equal(twinn_problem_bind(&pb, prop, 2, names, nets, &err), TWINN_OK);
  assert_int_equal(twinn_verify(&pb, &opt, &ref, &err), TWINN_OK);
  for (k = 1; k < 80; k++) {
    if (verify_failing_at(&pb, &opt, k, &res)) {
      failures++;
    } else {
      assert_int_equal(res.verdict, ref.verdict);
    }
    twinn_result_release(&res);
  }
  assert_true(failures > 10);
  twinn_result_release(&ref);
  twinn_problem_release(&pb);
  twinn_prop_free(prop);
  twinn_net_free(f);
  twinn_net_free(g);
}

/* Twins of 96 inputs searched by neuron splits: a split first-layer neuron is a half-space of
 * the input box, and over 32 inputs its multiplier comes from the breakpoints' histogram
 * (symhalf.c, weighted_select's bucket edge); with the first layer's interval step and the
 * interval bounds reused between regions of the same box. Every verdict that both decide must
 * be the exact MILP mode's, thresholds around the sampled maximum of |g - f| (small hidden
 * layers, so that the MILP decides; halving the half-space bounds fails it). */
static void test_wide_exact(void **state) {
  size_t widths[3] = {4, 4, 2}, n_in = 96, i, k, n_decided = 0, n_unsat = 0;
  const double frac[4] = {1.2, 2, 3, 6};
  double lo[96], hi[96], m;
  static char buf[32768];
  (void)state;
  twinn_test_rng_state = 909;
  for (int c = 0; c < 4; c++) {
    twinn_net *f = twinn_test_random_net(n_in, widths, 3, TWINN_LAYER_RELU, NULL, 0);
    twinn_net *g = twinn_test_random_net(n_in, widths, 3, TWINN_LAYER_RELU, f, 0.01);
    for (i = 0; i < n_in; i++) {
      lo[i] = -1 + twinn_test_urand();
      hi[i] = lo[i] + 0.15;
    }
    m = max_diff_sampled(f, g, n_in, lo, hi);
    for (k = 0; k < 4; k++) {
      twinn_prop *prop;
      twinn_options opt;
      twinn_result r;
      eps_query(buf, sizeof buf, n_in, 2, lo, hi, frac[k] * m + 1e-6);
      prop = twinn_test_parse(buf);
      twinn_options_init(&opt);
      opt.timeout = 4;
      opt.neuron_split = 1;
      opt.exact_relus = -1; /* the split paths, not the exact search (test_exact_regions) */
      opt.threads = 1 + (int)(k % 2);
      verify2(prop, f, g, &opt, &r);
      if (decided(&r)) {
        twinn_verdict exact = twinn_test_milp_verdict(prop, f, g);
        if (exact == TWINN_VERDICT_SAT || exact == TWINN_VERDICT_UNSAT) {
          assert_int_equal(r.verdict, exact);
          n_decided++;
          n_unsat += r.verdict == TWINN_VERDICT_UNSAT;
        }
      }
      twinn_result_release(&r);
      twinn_prop_free(prop);
    }
    twinn_net_free(f);
    twinn_net_free(g);
  }
  print_message("wide inputs: %zu verdicts as MILP (both decided), %zu unsat\n", n_decided,
                n_unsat);
  assert_true(n_decided >= 10);
  assert_true(n_unsat >= 6);
}

/* twinn_verify (verify2: a witness must replay) on the query text, whose verdict must be the
 * exact MILP mode's (which must decide it, if need_decided); counted into *n_unsat / *n_sat.
 * Returns the regions the search took; `what` and k name the case in a mismatch's message. */
static unsigned long verify_as_milp(const char *text, const twinn_net *f, const twinn_net *g,
                                    const twinn_options *opt, int need_decided, const char *what,
                                    size_t k, size_t *n_unsat, size_t *n_sat) {
  twinn_prop *prop = twinn_test_parse(text);
  twinn_result r;
  twinn_verdict exact;
  unsigned long branches;
  verify2(prop, f, g, opt, &r);
  exact = twinn_test_milp_verdict(prop, f, g);
  if (need_decided) assert_true(exact == TWINN_VERDICT_SAT || exact == TWINN_VERDICT_UNSAT);
  if (r.verdict != exact)
    print_message("%s, threshold %zu: %s after %.2f s (%lu regions), MILP %s\n", what, k,
                  twinn_verdict_name(r.verdict), r.seconds, r.branches, twinn_verdict_name(exact));
  assert_int_equal(r.verdict, exact);
  *n_unsat += r.verdict == TWINN_VERDICT_UNSAT;
  *n_sat += r.verdict == TWINN_VERDICT_SAT;
  branches = r.branches;
  twinn_result_release(&r);
  twinn_prop_free(prop);
  return branches;
}

/* A threshold query on f alone: some output of f over 96 inputs reaches t. */
static void reach_query(char *buf, size_t n, size_t n_in, size_t n_out, const double *lo,
                        const double *hi, double t) {
  size_t i, used;
  used = (size_t)snprintf(buf, n,
                          "(vnnlib-version <2.0>)\n(declare-network f (declare-input X_f real "
                          "[%zu]) (declare-output Y_f real [%zu]))\n",
                          n_in, n_out);
  for (i = 0; i < n_in; i++)
    used += (size_t)snprintf(buf + used, n - used,
                             "(assert (>= X_f[%zu] %.17g))\n(assert (<= X_f[%zu] %.17g))\n", i,
                             lo[i], i, hi[i]);
  used += (size_t)snprintf(buf + used, n - used, "(assert (or");
  for (i = 0; i < n_out; i++)
    used += (size_t)snprintf(buf + used, n - used, " (>= Y_f[%zu] %.17g)", i, t);
  snprintf(buf + used, n - used, "))\n");
}

/* The exact search of box regions with few undecided ReLUs (twinn_options.exact_relus, on by
 * default): on 96-input twins and single networks with hidden layers of 4 and 4, every
 * threshold near and above the sampled maximum is decided, in a few regions, as the exact
 * MILP mode decides it (19 unsat, 13 sat). Without the exact search three of the twins'
 * thresholds time out and one violation goes unfound (test_wide_exact's networks); a search
 * that never tries a ReLU's inactive phase gives verdicts MILP contradicts. (Lower ends raised
 * by 5 % above what is proved pass: the search's best point is replayed before its bound is
 * read, so where such a bound would be wrong the witness is found first.) */
static void test_exact_regions(void **state) {
  size_t widths[3] = {4, 4, 2}, n_in = 96, i, k, n_unsat = 0, n_sat = 0;
  const double frac[4] = {1.5, 2, 2.5, 4};
  double lo[96], hi[96], m, x[96], y[2];
  static char buf[32768];
  (void)state;
  twinn_test_rng_state = 909;
  for (int c = 0; c < 8; c++) {
    int pair = c < 4;
    twinn_net *f = twinn_test_random_net(n_in, widths, 3, TWINN_LAYER_RELU, NULL, 0);
    twinn_net *g = pair ? twinn_test_random_net(n_in, widths, 3, TWINN_LAYER_RELU, f, 0.01) : NULL;
    for (i = 0; i < n_in; i++) {
      lo[i] = -1 + twinn_test_urand();
      hi[i] = lo[i] + 0.15;
    }
    if (pair) {
      m = max_diff_sampled(f, g, n_in, lo, hi);
    } else { /* the sampled maximum of f's outputs */
      m = -INFINITY;
      for (size_t s = 0; s < 20000; s++) {
        for (i = 0; i < n_in; i++) x[i] = lo[i] + (hi[i] - lo[i]) * twinn_test_urand();
        assert_int_equal(twinn_net_eval(f, x, y), TWINN_OK);
        m = fmax(m, fmax(y[0], y[1]));
      }
    }
    for (k = 0; k < 4; k++) {
      twinn_options opt;
      char what[32];
      if (pair)
        eps_query(buf, sizeof buf, n_in, 2, lo, hi, frac[k] * m + 1e-6);
      else
        reach_query(buf, sizeof buf, n_in, 2, lo, hi, m + (frac[k] - 1.3) * (fabs(m) + 0.1));
      twinn_options_init(&opt);
      opt.timeout = 20;
      opt.threads = 1 + (int)(k % 2);
      snprintf(what, sizeof what, "%s %d", pair ? "pair" : "net", c);
      /* thousands of regions, or a timeout, without */
      assert_true(verify_as_milp(buf, f, g, &opt, 1, what, k, &n_unsat, &n_sat) <= 64);
    }
    twinn_net_free(f);
    twinn_net_free(g);
  }
  print_message("exact regions: %zu unsat, %zu sat, all as MILP\n", n_unsat, n_sat);
  assert_true(n_unsat >= 16);
}

/* Twins that are not isomorphic, on the same inputs. Even pairs: g has two more first-layer
 * neurons (twinn_test_widened_twin), which twinn_verify aligns with f's (align.h) and bounds
 * through g - f. Odd pairs: every first-layer neuron of (that) g split in two
 * (twinn_test_split_twin, a distilled-like twin whose neurons match none of f's), bounded
 * through both networks' linear forms summed before the box is concretised (the product
 * network, product_bound), where bounding each network alone cannot see that they move
 * together. Every threshold is decided as the MILP mode decides it: just above the maximum
 * (unsat, within the time limit: bounding f and g separately took 1-17 s and 0.2-1.3 M
 * regions on such widened twins, and 3 of 6 timed out at 20 s), just below it without the
 * counterexample search (sat from the bounds alone, so a bound below the truth would show as
 * unsat: raising the product's lower ends by 5 % does), and well above it. The aligned pairs
 * take at most 428 regions (1 000 asserted), 3.5-15.7 k through the product network. */
static void test_product_pair(void **state) {
  size_t widths[3] = {10, 10, 2}, n_in = 3, i, k, n_unsat = 0, n_sat = 0;
  const double frac[3] = {1.05, 0.97, 1.3};
  double lo[3], hi[3], m;
  static char buf[8192];
  (void)state;
  twinn_test_rng_state = 4242;
  for (int c = 0; c < 6; c++) {
    twinn_net *f = twinn_test_random_net(n_in, widths, 3, TWINN_LAYER_RELU, NULL, 0);
    twinn_net *w = twinn_test_widened_twin(f, 2, 0.01);
    twinn_net *g = c % 2 ? twinn_test_split_twin(w, 0.0) : w;
    assert_false(twinn_net_isomorphic(f, g));
    for (i = 0; i < n_in; i++) {
      lo[i] = -0.5 + twinn_test_urand();
      hi[i] = lo[i] + 0.4;
    }
    m = max_diff(f, g, n_in, lo, hi);
    for (k = 0; k < 3; k++) {
      twinn_options opt;
      char *iso, what[32];
      eps_query(buf, sizeof buf, n_in, 2, lo, hi, frac[k] * m + (k == 1 ? 0 : 1e-6));
      iso = strstr(buf, " (isomorphic-to f)"); /* two networks of their own */
      memmove(iso, iso + 18, strlen(iso + 18) + 1);
      twinn_options_init(&opt);
      opt.timeout = 10;
      opt.threads = 1 + (int)(c % 2);
      opt.no_attack = k == 1;
      snprintf(what, sizeof what, "pair %d", c);
      unsigned long nb = verify_as_milp(buf, f, g, &opt, 0, what, k, &n_unsat, &n_sat);
      /* Aligned: 1-428 regions; the same twins through the product network: 3.5-15.7 k. */
      if (c % 2 == 0) assert_true(nb <= 1000);
    }
    twinn_net_free(f);
    if (g != w) twinn_net_free(g);
    twinn_net_free(w);
  }
  print_message("non-isomorphic twins: %zu unsat, %zu sat, as MILP\n", n_unsat, n_sat);
  assert_true(n_unsat == 12 && n_sat == 6);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_twins),      cmocka_unit_test(test_empty_box),
      cmocka_unit_test(test_disjunctive_boxes), cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_deterministic),     cmocka_unit_test(test_nomem),
      cmocka_unit_test(test_threads_agree),     cmocka_unit_test(test_neuron_split),
      cmocka_unit_test(test_single_threshold),  cmocka_unit_test(test_hidden_threshold),
      cmocka_unit_test(test_split_disjuncts),   cmocka_unit_test(test_half_ties),
      cmocka_unit_test(test_roots_store),       cmocka_unit_test(test_roots_exact),
      cmocka_unit_test(test_open_margin),       cmocka_unit_test(test_wide_exact),
      cmocka_unit_test(test_exact_regions),     cmocka_unit_test(test_disjoint_no_attack),
      cmocka_unit_test(test_product_pair),      cmocka_unit_test(test_portfolio),
      cmocka_unit_test(test_portfolio_nomem),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
