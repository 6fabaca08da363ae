/* test_decompose.c: the single-network sub-properties of decompose.h. What soundness needs is
 * an implication: wherever the original formula holds, some sub-property holds (so proving
 * every sub-property unsat proves the original unsat); it is checked on many random points,
 * with the inputs inside the box and random outputs. Also: the network each disjunct goes to,
 * and the shapes that are declined (mixed constraints, a disjunct with nothing violated). The
 * split by disjuncts (twinn_split_disjuncts) must be an equivalence: the formula holds at a
 * point exactly when some sub-property does. The verdicts of the decomposed search are
 * compared with exact ones by test_oracle. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decompose.h"
#include "helpers.h"
#include "vnnlib.h"

/* A pair with n_in inputs in [0, 1] and m outputs, then `tail` (the output asserts). */
static twinn_prop *pair_query(size_t n_in, size_t m, const char *tail) {
  char buf[16384];
  size_t used =
      (size_t)snprintf(buf, sizeof buf,
                       "(vnnlib-version <2.0>)\n(declare-network f (declare-input X_f real [%zu]) "
                       "(declare-output Y_f real [%zu]))\n(declare-network g (isomorphic-to f) "
                       "(declare-input X_g real [%zu]) (declare-output Y_g real [%zu]))\n",
                       n_in, m, n_in, m);
  for (size_t i = 0; i < n_in; i++)
    used += (size_t)snprintf(buf + used, sizeof buf - used,
                             "(assert (>= X_f[%zu] 0))\n(assert (<= X_f[%zu] 1))\n"
                             "(assert (== X_g[%zu] X_f[%zu]))\n",
                             i, i, i, i);
  snprintf(buf + used, sizeof buf - used, "%s", tail);
  return twinn_test_parse(buf);
}

/* The top-1 disagreement property of the benchmarks, m classes. */
static void top1_text(char *buf, size_t n, size_t m) {
  size_t used = (size_t)snprintf(buf, n, "(assert (or");
  for (size_t i = 0; i < m; i++)
    for (size_t k = 0; k < m; k++) {
      if (k == i) continue;
      used += (size_t)snprintf(buf + used, n - used, " (and");
      for (size_t j = 0; j < m; j++)
        if (j != i) used += (size_t)snprintf(buf + used, n - used, " (>= Y_f[%zu] Y_f[%zu])", i, j);
      used += (size_t)snprintf(buf + used, n - used, " (> Y_g[%zu] Y_g[%zu]))", k, i);
    }
  snprintf(buf + used, n - used, "))\n");
}

/* Fills x: inputs uniform in [0, 1] (tied ones equal), outputs uniform in [-1, 1], or, with
 * probability 1/4, from a few values so that ties and equalities occur too. */
static void random_point(const twinn_prop *p, double *x) {
  static const double few[] = {-1.0, 0.0, 0.5, 1.0};
  for (size_t v = 0; v < p->n_vars; v++) {
    const twinn_var *var = &p->vars[v];
    for (size_t e = 0; e < var->n; e++) {
      double r = twinn_test_urand() < 0.25 ? few[(size_t)(twinn_test_urand() * 4)]
                                           : 2.0 * twinn_test_urand() - 1.0;
      x[var->offset + e] = var->role == TWINN_VAR_INPUT ? fabs(r) : r;
    }
  }
  /* X_g equals X_f (the tie asserts). */
  const twinn_var *xf = twinn_prop_net_var(p, 0, TWINN_VAR_INPUT);
  const twinn_var *xg = twinn_prop_net_var(p, 1, TWINN_VAR_INPUT);
  for (size_t e = 0; e < xf->n; e++) x[xg->offset + e] = x[xf->offset + e];
}

/* Wherever the original holds, some sub-property holds; with `both`, also the converse (the
 * split by disjuncts is an equivalence). Returns how many points the original held at. */
static size_t check_points(const twinn_prop *p, const twinn_subprop *subs, size_t n, uint64_t seed,
                           size_t points, int both) {
  double *x = calloc(p->n_scalars, sizeof *x);
  size_t held = 0;
  twinn_test_rng_state = seed;
  assert_non_null(x);
  for (size_t t = 0; t < points; t++) {
    random_point(p, x);
    int whole = twinn_prop_holds(p, x), any = 0;
    if (!whole && !both) continue;
    for (size_t i = 0; i < n; i++) any |= twinn_prop_holds(&subs[i].prop, x);
    if (whole && !any) fail_msg("point %zu satisfies the property but no sub-property", t);
    if (!whole && any) fail_msg("point %zu satisfies a sub-property but not the property", t);
    held += (size_t)whole;
  }
  free(x);
  return held;
}

static size_t check_implication(const twinn_prop *p, const twinn_subprop *subs, size_t n,
                                uint64_t seed, size_t points) {
  return check_points(p, subs, n, seed, points, 0);
}

/* A zero point of p's scalars (inputs 0: inside the [0, 1] box) with the outputs of f and g set
 * to yf and yg. Owned by the caller (free). */
static double *point(const twinn_prop *p, const double *yf, const double *yg) {
  double *x = calloc(p->n_scalars, sizeof *x);
  assert_non_null(x);
  const twinn_var *vf = twinn_prop_net_var(p, 0, TWINN_VAR_OUTPUT);
  const twinn_var *vg = twinn_prop_net_var(p, 1, TWINN_VAR_OUTPUT);
  memcpy(x + vf->offset, yf, vf->n * sizeof *x);
  memcpy(x + vg->offset, yg, vg->n * sizeof *x);
  return x;
}

static void test_top1(void **state) {
  (void)state;
  char tail[8192];
  top1_text(tail, sizeof tail, 4);
  twinn_prop *p = pair_query(2, 4, tail);
  /* At x both networks pick class 2. */
  static const double yf[4] = {0.0, 0.1, 3.0, 0.3}, yg[4] = {0.0, 0.2, 2.5, 0.6};
  double *x = point(p, yf, yg);
  const twinn_var *vg = twinn_prop_net_var(p, 1, TWINN_VAR_OUTPUT);
  twinn_subprop *subs = NULL;
  size_t n = twinn_decompose(p, x, &subs);
  assert_int_equal(n, 2);
  /* f refutes the 9 disjuncts whose f-class is not 2, g the 3 whose f-class is 2. */
  assert_int_equal(subs[0].net, 0);
  assert_int_equal(subs[0].n_disjuncts, 9);
  assert_int_equal(subs[1].net, 1);
  assert_int_equal(subs[1].n_disjuncts, 3);
  /* At x, neither sub-property holds (f keeps class 2, and so does g). */
  assert_false(twinn_prop_holds(&subs[0].prop, x));
  assert_false(twinn_prop_holds(&subs[1].prop, x));
  /* Move g's top class to 0: g's sub-property holds there. */
  x[vg->offset + 0] = 4.0;
  assert_true(twinn_prop_holds(&subs[1].prop, x));
  assert_true(twinn_prop_holds(p, x));
  size_t held = check_implication(p, subs, n, 11, 200000);
  assert_true(held > 1000); /* the check did see the property hold */
  twinn_subprops_free(subs, n);
  free(x);
  twinn_prop_free(p);
}

/* Disjuncts mixing single-network constraints with constraints on both networks: every disjunct
 * has a violated single-network constraint at x, so it decomposes; the implication holds. */
static void test_mixed(void **state) {
  (void)state;
  twinn_prop *p =
      pair_query(1, 2,
                 "(assert (or (and (>= Y_f[0] 0.5) (<= (- Y_g[1] Y_f[1]) 0.1))\n"
                 "            (and (< Y_g[0] -0.2) (>= Y_g[1] 0.3) (> (+ Y_f[0] Y_g[0]) 0))\n"
                 "            (<= Y_f[1] -0.6)))\n");
  static const double zero[2] = {0.0, 0.0}; /* f violates the 1st and 3rd, g the 2nd */
  double *x = point(p, zero, zero);
  twinn_subprop *subs = NULL;
  size_t n = twinn_decompose(p, x, &subs);
  assert_int_equal(n, 2);
  assert_int_equal(subs[0].n_disjuncts + subs[1].n_disjuncts, 3);
  assert_true(check_implication(p, subs, n, 5, 200000) > 1000);
  twinn_subprops_free(subs, n);
  /* A disjunct whose single-network constraints all hold at x: declined. */
  static const double yf[2] = {1.0, -1.0}, yg[2] = {-1.0, 1.0};
  free(x);
  x = point(p, yf, yg);
  assert_int_equal(twinn_decompose(p, x, &subs), 0);
  assert_null(subs);
  free(x);
  twinn_prop_free(p);
}

/* A region that is a disjunction of boxes (an input-only `or`) is kept whole in every
 * sub-property, and the implication still holds. */
static void test_box_union(void **state) {
  (void)state;
  char tail[8192];
  size_t used = (size_t)snprintf(tail, sizeof tail,
                                 "(assert (or (and (<= X_f[0] 0.25) (<= X_f[1] 0.5))"
                                 " (and (>= X_f[0] 0.75) (>= X_f[1] 0.5))))\n");
  top1_text(tail + used, sizeof tail - used, 3);
  twinn_prop *p = pair_query(2, 3, tail);
  static const double y[3] = {1.0, 0.0, 0.0}; /* both pick class 0 */
  double *x = point(p, y, y);
  twinn_subprop *subs = NULL;
  size_t n = twinn_decompose(p, x, &subs);
  assert_int_equal(n, 2);
  for (size_t i = 0; i < n; i++) {
    /* The root keeps every input assert (bounds, ties and the or of boxes) plus one or. */
    const twinn_bool *root = &subs[i].prop.nodes[subs[i].prop.root];
    assert_int_equal(root->kind, TWINN_BOOL_AND);
    assert_int_equal(root->n_kids, p->nodes[p->root].n_kids);
  }
  assert_true(check_implication(p, subs, n, 23, 200000) > 1000);
  twinn_subprops_free(subs, n);
  free(x);
  twinn_prop_free(p);
}

/* Constraints that read both networks only (the eps property): nothing to decompose. */
static void test_declined(void **state) {
  (void)state;
  twinn_prop *p = pair_query(1, 2,
                             "(assert (or (> Y_g[0] (+ Y_f[0] 0.05)) (< Y_g[0] (- Y_f[0] 0.05))"
                             " (> Y_g[1] (+ Y_f[1] 0.05)) (< Y_g[1] (- Y_f[1] 0.05))))\n");
  static const double zero[2] = {0.0, 0.0};
  double *x = point(p, zero, zero);
  twinn_subprop *subs = NULL;
  assert_int_equal(twinn_decompose(p, x, &subs), 0);
  /* Nested or under an and of outputs: another shape, declined. */
  twinn_prop *q =
      pair_query(1, 2, "(assert (and (>= Y_f[0] 0) (or (>= Y_g[0] 1) (>= Y_g[1] 1))))\n");
  double *y = point(q, zero, zero);
  assert_int_equal(twinn_decompose(q, y, &subs), 0);
  free(x);
  free(y);
  twinn_prop_free(p);
  twinn_prop_free(q);
}

static size_t check_equivalence(const twinn_prop *p, const twinn_subprop *subs, size_t n,
                                uint64_t seed, size_t points) {
  return check_points(p, subs, n, seed, points, 1);
}

static void test_split(void **state) {
  (void)state;
  char tail[8192];
  top1_text(tail, sizeof tail, 4);
  twinn_prop *p = pair_query(2, 4, tail);
  twinn_subprop *subs = NULL, *per = NULL;
  /* 12 distinct disjuncts, each the input asserts and its own conjunction. */
  size_t n = twinn_split_disjuncts(p, &subs);
  assert_int_equal(n, 12);
  for (size_t i = 0; i < n; i++) {
    const twinn_prop *q = &subs[i].prop;
    assert_int_equal(subs[i].n_disjuncts, 1);
    assert_int_equal(q->nodes[q->root].n_kids, p->nodes[p->root].n_kids);
    assert_int_equal(q->n_lins, p->nodes[p->root].n_kids - 1 + 4);
  }
  assert_true(check_equivalence(p, subs, n, 31, 200000) > 1000);
  twinn_subprops_free(subs, n);
  /* The network sub-property of f from the decomposition: 9 disjuncts, 3 distinct constraints
   * (some class beats f's class 2), so 3 sub-properties standing for 3 copies each. */
  static const double yf[4] = {0.0, 0.1, 3.0, 0.3}, yg[4] = {0.0, 0.2, 2.5, 0.6};
  double *x = point(p, yf, yg);
  size_t nd = twinn_decompose(p, x, &per);
  assert_int_equal(nd, 2);
  n = twinn_split_disjuncts(&per[0].prop, &subs);
  assert_int_equal(n, 3);
  for (size_t i = 0; i < n; i++) assert_int_equal(subs[i].n_disjuncts, 3);
  assert_true(check_equivalence(&per[0].prop, subs, n, 37, 200000) > 1000);
  twinn_subprops_free(subs, n);
  twinn_subprops_free(per, nd);
  free(x);
  twinn_prop_free(p);
  /* Copies written out twice (same terms, constant and comparison) count once; a mixed
   * disjunct and a pair constraint are split like any other. */
  p = pair_query(1, 2,
                 "(assert (or (>= Y_f[1] Y_f[0]) (and (<= Y_g[0] 0.5) (>= Y_f[1] -0.25))"
                 " (>= Y_f[1] Y_f[0]) (> Y_g[0] (+ Y_f[0] 0.05))))\n");
  n = twinn_split_disjuncts(p, &subs);
  assert_int_equal(n, 3);
  assert_int_equal(subs[0].n_disjuncts, 2);
  assert_int_equal(subs[1].n_disjuncts, 1);
  assert_int_equal(subs[2].n_disjuncts, 1);
  assert_true(check_equivalence(p, subs, n, 41, 200000) > 1000);
  twinn_subprops_free(subs, n);
  twinn_prop_free(p);
  /* Declined: one constraint, a conjunction, a disjunct nesting an or, and an or whose
   * disjuncts are all the same. */
  static const char *const declined[] = {
      "(assert (>= Y_f[0] 0))\n",
      "(assert (>= Y_f[0] 0))\n(assert (<= Y_g[1] 1))\n",
      "(assert (or (>= Y_f[0] 0) (and (>= Y_f[1] 0) (or (>= Y_g[0] 1) (>= Y_g[1] 1)))))\n",
      "(assert (or (>= Y_f[0] 0) (>= Y_f[0] 0)))\n",
  };
  for (size_t i = 0; i < sizeof declined / sizeof *declined; i++) {
    p = pair_query(1, 2, declined[i]);
    assert_int_equal(twinn_split_disjuncts(p, &subs), 0);
    assert_null(subs);
    twinn_prop_free(p);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_top1),      cmocka_unit_test(test_mixed),
      cmocka_unit_test(test_box_union), cmocka_unit_test(test_declined),
      cmocka_unit_test(test_split),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
