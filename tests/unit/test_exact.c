/* test_exact.c: the exact phase-branching maximiser (plugin/exact.c) on small random networks
 * and twin pairs. Soundness: the proved upper end dominates the objective at dense random
 * samples and at every box vertex. Exactness: the returned point lies in the box and its value,
 * evaluated by the plain forward pass, equals the proved upper end to rounding, so the maximum
 * is pinned down from both sides. Also: the floor prunes without losing soundness, a small
 * LP budget reports an incomplete search instead of a bound, a floor just below the maximum
 * keeps it (the pruning by one constraint's certificate), and several forms searched
 * together (twinn_exact_max_many) give what separate searches give, with fewer LPs, and fixed
 * phases (twinn_exact_fix) restrict a search to their half of the box and no further. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exact.h"
#include "symbolic.h"
#include "helpers.h"

/* h(x) = c_f . f(x) + c_g . g(x), in double. */
static double objective(const twinn_net *f, const twinn_net *g, const double *cf, const double *cg,
                        const double *x) {
  double yf[8], yg[8], h = 0.0;
  size_t i;
  assert_int_equal(twinn_net_eval(f, x, yf), TWINN_OK);
  if (g) assert_int_equal(twinn_net_eval(g, x, yg), TWINN_OK);
  for (i = 0; i < f->n_out; i++) h += cf[i] * yf[i] + (g ? cg[i] * yg[i] : 0.0);
  return h;
}

/* Largest objective value over random points and all vertices of the box. */
static double sampled_max(const twinn_net *f, const twinn_net *g, const double *cf,
                          const double *cg, const double *lo, const double *hi, size_t n) {
  double x[4], best = -INFINITY;
  size_t s, t;
  for (s = 0; s < 20000; s++) {
    for (t = 0; t < n; t++) x[t] = lo[t] + (hi[t] - lo[t]) * twinn_test_urand();
    best = fmax(best, objective(f, g, cf, cg, x));
  }
  for (s = 0; s < ((size_t)1 << n); s++) {
    for (t = 0; t < n; t++) x[t] = (s >> t) & 1 ? hi[t] : lo[t];
    best = fmax(best, objective(f, g, cf, cg, x));
  }
  return best;
}

/* A random case from the current test RNG state: f (and g, a twin of f, with pair) with n
 * inputs, hidden widths 10 and 10, 3 outputs, and a random box of half-widths 0.05 to 0.45. */
static void random_case(size_t n, int pair, twinn_net **f, twinn_net **g, double *lo, double *hi) {
  size_t widths[3] = {10, 10, 3};
  *f = twinn_test_random_net(n, widths, 3, TWINN_LAYER_RELU, NULL, 0.0);
  *g = pair ? twinn_test_random_net(n, widths, 3, TWINN_LAYER_RELU, *f, 0.02) : NULL;
  for (size_t t = 0; t < n; t++) {
    double c = 2 * twinn_test_urand() - 1, r = 0.05 + 0.4 * twinn_test_urand();
    lo[t] = c - r;
    hi[t] = c + r;
  }
}

/* One random case: pair or single network, n inputs, objective on outputs. With near_floor,
 * the search is run again with a floor just below the maximum it proved: the leaf holding the
 * maximum must survive the pruning (most other leaves are pruned, many of them by one path
 * constraint's certificate without an LP), so the proved end stays the maximum. Adds the
 * questions settled without an LP to *settled. */
static void one_case_floor(uint64_t seed, int pair, int near_floor, unsigned long *settled) {
  size_t n = 2 + seed % 2, t;
  double lo[4], hi[4], cf[3], cg[3], smax, hv;
  twinn_net *f, *g = NULL;
  twinn_exact *ex;
  twinn_exact_result res;
  twinn_error err;
  twinn_test_rng_state = seed * 7919 + 17;
  random_case(n, pair, &f, &g, lo, hi);
  for (t = 0; t < 3; t++) {
    cf[t] = pair ? 0.0 : 2 * twinn_test_urand() - 1;
    cg[t] = 0.0;
  }
  if (pair) { /* g_i - f_i for one output i, either sign */
    size_t i = seed % 3;
    double s = (seed / 3) % 2 ? 1.0 : -1.0;
    cg[i] = s;
    cf[i] = -s;
  }
  assert_non_null(ex = twinn_exact_new(f, g));
  twinn_error_clear(&err);
  assert_int_equal(
      twinn_exact_max(ex, cf, pair ? cg : NULL, lo, hi, -INFINITY, 1000000, &res, &err), TWINN_OK);
  assert_true(res.complete);
  assert_non_null(res.point);
  for (t = 0; t < n; t++) {
    assert_true(res.point[t] >= lo[t]);
    assert_true(res.point[t] <= hi[t]);
  }
  smax = sampled_max(f, g, cf, pair ? cg : NULL, lo, hi, n);
  hv = objective(f, g, cf, pair ? cg : NULL, res.point);
  /* sound: no sample above the proved end */
  if (!(smax <= res.upper))
    fail_msg("seed %llu: sample %.17g above upper %.17g", (unsigned long long)seed, smax,
             res.upper);
  /* exact: the point attains the proved end to rounding */
  if (!(res.upper - hv <= 1e-9 * (1.0 + fabs(hv))))
    fail_msg("seed %llu: upper %.17g but the point gives %.17g (sampled %.17g)",
             (unsigned long long)seed, res.upper, hv, smax);
  assert_true(fabs(res.value - hv) <= 1e-9 * (1.0 + fabs(hv)));
  *settled += res.settled;
  if (near_floor) {
    double m = res.upper, fl = m - 1e-6 * (1.0 + fabs(m));
    assert_int_equal(twinn_exact_max(ex, cf, pair ? cg : NULL, lo, hi, fl, 1000000, &res, &err),
                     TWINN_OK);
    assert_true(res.complete);
    if (!(smax <= res.upper) || !(fabs(res.upper - m) <= 1e-9 * (1.0 + fabs(m))))
      fail_msg("seed %llu: floor %.17g: upper %.17g, without floor %.17g, sampled %.17g",
               (unsigned long long)seed, fl, res.upper, m, smax);
    *settled += res.settled;
  }
  twinn_exact_free(ex);
  twinn_net_free(f);
  twinn_net_free(g);
}

static void one_case(uint64_t seed, int pair) {
  unsigned long settled = 0;
  one_case_floor(seed, pair, 0, &settled);
}

static void test_single_network_exact(void **state) {
  (void)state;
  for (uint64_t s = 0; s < 40; s++) one_case(s, 0);
}

static void test_pair_difference_exact(void **state) {
  (void)state;
  for (uint64_t s = 0; s < 40; s++) one_case(s, 1);
}

/* A floor just below the maximum: the maximum stays (see one_case_floor); some questions were
 * settled without an LP, so that path of the search is what this checks. */
static void test_floor_near_max(void **state) {
  unsigned long settled = 0;
  (void)state;
  for (uint64_t s = 0; s < 40; s++) one_case_floor(s, (int)(s % 2), 1, &settled);
  print_message("floor near the maximum: %lu questions settled without an LP\n", settled);
  assert_true(settled > 0);
}

/* Caps (twinn_exact_set_caps) from the pair's analysis (twinn_sym_diff_upper_row, with and
 * without exact forms where both networks are stable) of |g_i - f_i|'s two forms: each row
 * dominates its form at every sample and vertex of the box; a search with them and a floor just
 * below the maximum keeps the maximum (only paths whose cap is proved below the floor are dropped),
 * one with a floor above it returns the floor; some forms were dropped by their caps over the
 * cases, so that path of the search is what this checks. */
static void test_caps_keep_max(void **state) {
  size_t n, t, j, i;
  double lo[3], hi[3], cf[6], cg[6], caps[8], row[4], x[3], l, h, m, fl;
  unsigned long capped = 0;
  twinn_net *f, *g;
  twinn_sym *sym;
  twinn_exact *ex;
  twinn_exact_result res;
  twinn_error err;
  (void)state;
  for (uint64_t seed = 0; seed < 40; seed++) {
    twinn_test_rng_state = seed * 6151 + 3;
    n = 2 + seed % 2;
    random_case(n, 1, &f, &g, lo, hi);
    i = seed % 3;
    memset(cf, 0, sizeof cf);
    memset(cg, 0, sizeof cg);
    for (j = 0; j < 2; j++) { /* form 0: f_i - g_i, form 1: g_i - f_i */
      cg[j * 3 + i] = j ? 1.0 : -1.0;
      cf[j * 3 + i] = -cg[j * 3 + i];
    }
    assert_non_null(sym = twinn_sym_new(f, g));
    twinn_sym_set_stable_exact(sym, (int)(seed % 2)); /* `twinn bound`'s first analysis */
    twinn_error_clear(&err);
    assert_int_equal(twinn_sym_analyse(sym, lo, hi, &err), TWINN_OK);
    for (j = 0; j < 2; j++) {
      assert_int_equal(twinn_sym_bound_lin(sym, cf + 3 * j, cg + 3 * j, &l, &h, &err), TWINN_OK);
      assert_true(twinn_sym_diff_upper_row(sym, caps + j * (n + 1)));
    }
    for (size_t s = 0; s < 20000 + ((size_t)1 << n); s++) {
      for (t = 0; t < n; t++)
        x[t] = s < 20000                ? lo[t] + (hi[t] - lo[t]) * twinn_test_urand()
               : ((s - 20000) >> t) & 1 ? hi[t]
                                        : lo[t];
      for (j = 0; j < 2; j++) {
        double v = objective(f, g, cf + 3 * j, cg + 3 * j, x), u = caps[j * (n + 1) + n];
        for (t = 0; t < n; t++) u += caps[j * (n + 1) + t] * x[t];
        if (!(v <= u + 1e-12 * (1.0 + fabs(v))))
          fail_msg("seed %llu: form %zu is %.17g at a sample, its cap %.17g",
                   (unsigned long long)seed, j, v, u);
      }
    }
    /* A split constraint shapes the rows: none is given while one is set (on the second ReLU
     * layer: a first-layer split is also a half-space of the input). */
    for (size_t k = 0, relus = 0; k < f->n_layers; k++)
      if (f->layers[k].kind == TWINN_LAYER_RELU && ++relus == 2) {
        assert_int_equal(twinn_sym_set_split(sym, 0, k, 0, 1, &err), TWINN_OK);
        break;
      }
    assert_int_equal(twinn_sym_analyse(sym, lo, hi, &err), TWINN_OK);
    assert_int_equal(twinn_sym_bound_lin(sym, cf, cg, &l, &h, &err), TWINN_OK);
    assert_false(twinn_sym_diff_upper_row(sym, row));
    twinn_sym_clear_splits(sym);
    assert_non_null(ex = twinn_exact_new(f, g));
    assert_int_equal(twinn_exact_max_many(ex, 2, cf, cg, lo, hi, -INFINITY, 1000000, &res, &err),
                     TWINN_OK);
    assert_true(res.complete);
    m = res.upper;
    fl = m - 1e-6 * (1.0 + fabs(m));
    twinn_exact_set_caps(ex, caps);
    assert_int_equal(twinn_exact_max_many(ex, 2, cf, cg, lo, hi, fl, 1000000, &res, &err),
                     TWINN_OK);
    assert_true(res.complete);
    if (!(fabs(res.upper - m) <= 1e-9 * (1.0 + fabs(m))))
      fail_msg("seed %llu: with caps and floor %.17g: upper %.17g, without %.17g",
               (unsigned long long)seed, fl, res.upper, m);
    capped += res.capped;
    twinn_exact_set_caps(ex, caps);
    assert_int_equal(twinn_exact_max_many(ex, 2, cf, cg, lo, hi, m + 1e-3, 1000000, &res, &err),
                     TWINN_OK);
    assert_true(res.complete && res.upper == m + 1e-3);
    capped += res.capped;
    twinn_exact_free(ex);
    twinn_sym_free(sym);
    twinn_net_free(f);
    twinn_net_free(g);
  }
  print_message("caps: %lu forms dropped below a node\n", capped);
  assert_true(capped > 0);
}

/* A floor above the maximum prunes every leaf: the result is the floor itself, still an upper
 * bound; a budget of one LP, or a raised cancel flag, leaves the search incomplete on a box with
 * undecided ReLUs. */
static void test_floor_and_budget(void **state) {
  size_t widths[3] = {10, 10, 2};
  double lo[2] = {-1, -1}, hi[2] = {1, 1}, cf[2] = {1, -1}, smax;
  twinn_net *f;
  twinn_exact *ex;
  twinn_exact_result res;
  twinn_error err;
  (void)state;
  twinn_test_rng_state = 99;
  f = twinn_test_random_net(2, widths, 3, TWINN_LAYER_RELU, NULL, 0.0);
  assert_non_null(ex = twinn_exact_new(f, NULL));
  twinn_error_clear(&err);
  smax = sampled_max(f, NULL, cf, NULL, lo, hi, 2);
  assert_int_equal(twinn_exact_max(ex, cf, NULL, lo, hi, smax + 10, 1000000, &res, &err), TWINN_OK);
  assert_true(res.complete);
  assert_true(res.upper == smax + 10);
  assert_int_equal(twinn_exact_max(ex, cf, NULL, lo, hi, -INFINITY, 1, &res, &err), TWINN_OK);
  assert_false(res.complete);
  assert_true(res.lps >= 1);
  /* A raised cancel flag stops it as the budget does; lowered, it completes again. */
  atomic_int flag;
  atomic_init(&flag, 1);
  twinn_exact_set_cancel(ex, &flag);
  assert_int_equal(twinn_exact_max(ex, cf, NULL, lo, hi, -INFINITY, 1000000, &res, &err), TWINN_OK);
  assert_false(res.complete);
  atomic_store(&flag, 0);
  assert_int_equal(twinn_exact_max(ex, cf, NULL, lo, hi, -INFINITY, 1000000, &res, &err), TWINN_OK);
  assert_true(res.complete && res.upper >= smax);
  twinn_exact_free(ex);
  twinn_net_free(f);
}

/* Every form of |g_i - f_i| for all outputs (6 forms) in one search: the proved end dominates
 * every sample of the largest form, the point attains it to rounding, it agrees with the
 * largest of the six separate searches, and the shared phase LPs make it cheaper than they. */
static void test_many_forms(void **state) {
  size_t n, t, j;
  double lo[3], hi[3], cf[18], cg[18], x[3], smax, hv, sep, yf[3], yg[3];
  unsigned long sep_lps;
  twinn_net *f, *g;
  twinn_exact *ex;
  twinn_exact_result res, one;
  twinn_error err;
  (void)state;
  for (uint64_t seed = 0; seed < 20; seed++) {
    twinn_test_rng_state = seed * 104729 + 5;
    n = 2 + seed % 2;
    random_case(n, 1, &f, &g, lo, hi);
    memset(cf, 0, sizeof cf);
    memset(cg, 0, sizeof cg);
    for (j = 0; j < 6; j++) { /* form j: sign (j % 2) of output j / 2 */
      double s = j % 2 ? 1.0 : -1.0;
      cg[j * 3 + j / 2] = s;
      cf[j * 3 + j / 2] = -s;
    }
    assert_non_null(ex = twinn_exact_new(f, g));
    twinn_error_clear(&err);
    sep = -INFINITY;
    sep_lps = 0;
    for (j = 0; j < 6; j++) {
      assert_int_equal(
          twinn_exact_max(ex, cf + 3 * j, cg + 3 * j, lo, hi, -INFINITY, 1000000, &one, &err),
          TWINN_OK);
      assert_true(one.complete);
      sep = fmax(sep, one.upper);
      sep_lps += one.lps;
    }
    assert_int_equal(twinn_exact_max_many(ex, 6, cf, cg, lo, hi, -INFINITY, 6000000, &res, &err),
                     TWINN_OK);
    assert_true(res.complete);
    assert_non_null(res.point);
    smax = -INFINITY;
    for (size_t s = 0; s < 20000 + ((size_t)1 << n); s++) {
      for (t = 0; t < n; t++)
        x[t] = s < 20000                ? lo[t] + (hi[t] - lo[t]) * twinn_test_urand()
               : ((s - 20000) >> t) & 1 ? hi[t]
                                        : lo[t];
      assert_int_equal(twinn_net_eval(f, x, yf), TWINN_OK);
      assert_int_equal(twinn_net_eval(g, x, yg), TWINN_OK);
      for (j = 0; j < 3; j++) smax = fmax(smax, fabs(yg[j] - yf[j]));
    }
    assert_int_equal(twinn_net_eval(f, res.point, yf), TWINN_OK);
    assert_int_equal(twinn_net_eval(g, res.point, yg), TWINN_OK);
    hv = -INFINITY;
    for (j = 0; j < 3; j++) hv = fmax(hv, fabs(yg[j] - yf[j]));
    if (!(smax <= res.upper))
      fail_msg("seed %llu: sample %.17g above upper %.17g", (unsigned long long)seed, smax,
               res.upper);
    if (!(res.upper - hv <= 1e-9 * (1.0 + hv)))
      fail_msg("seed %llu: upper %.17g but the point gives %.17g", (unsigned long long)seed,
               res.upper, hv);
    assert_true(fabs(res.upper - sep) <= 1e-9 * (1.0 + fabs(sep)));
    if (!(res.lps < sep_lps))
      fail_msg("seed %llu: %lu LPs together, %lu apart", (unsigned long long)seed, res.lps,
               sep_lps);
    twinn_exact_free(ex);
    twinn_net_free(f);
    twinn_net_free(g);
  }
}

/* More forms than can have caps (twinn_quant's L-inf search: two per output), with a finite
 * floor: every form counts. Forms 0..9 are zero (the floor below them), forms 10 and 11 are
 * +-(g_0 - f_0); the maximum must be at least every sample of |g_0 - f_0|, with or without
 * caps for the first forms (a search of more forms ignores them). */
static void test_forms_past_caps(void **state) {
  size_t n = 3, t;
  double lo[3], hi[3], cf[36], cg[36], caps[8 * 4], x[3], yf[3], yg[3], smax;
  twinn_net *f, *g;
  twinn_exact *ex;
  twinn_exact_result res;
  twinn_error err;
  (void)state;
  for (uint64_t seed = 0; seed < 6; seed++) {
    twinn_test_rng_state = seed * 7919 + 11;
    random_case(n, 1, &f, &g, lo, hi);
    memset(cf, 0, sizeof cf);
    memset(cg, 0, sizeof cg);
    cg[10 * 3] = -1.0, cf[10 * 3] = 1.0;
    cg[11 * 3] = 1.0, cf[11 * 3] = -1.0;
    smax = 0.0;
    for (size_t s = 0; s < 20000; s++) {
      for (t = 0; t < n; t++) x[t] = lo[t] + (hi[t] - lo[t]) * twinn_test_urand();
      assert_int_equal(twinn_net_eval(f, x, yf), TWINN_OK);
      assert_int_equal(twinn_net_eval(g, x, yg), TWINN_OK);
      smax = fmax(smax, fabs(yg[0] - yf[0]));
    }
    assert_non_null(ex = twinn_exact_new(f, g));
    for (int with_caps = 0; with_caps < 2; with_caps++) {
      memset(caps, 0, sizeof caps); /* h_j = 0 <= 0 for the zero forms 0..7 */
      if (with_caps) twinn_exact_set_caps(ex, caps);
      twinn_error_clear(&err);
      /* A floor below 0 whose low bytes are not zero. */
      assert_int_equal(
          twinn_exact_max_many(ex, 12, cf, cg, lo, hi, -0.123456789, 1000000, &res, &err),
          TWINN_OK);
      assert_true(res.complete);
      if (!(smax <= res.upper))
        fail_msg("seed %llu, caps %d: sample %.17g above upper %.17g", (unsigned long long)seed,
                 with_caps, smax, res.upper);
    }
    twinn_exact_free(ex);
    twinn_net_free(f);
    twinn_net_free(g);
  }
}

/* Pre-activation of neuron i at the input of layer k (a ReLU layer) of net at x, in double. */
static double pre_activation(const twinn_net *net, size_t k, size_t i, const double *x) {
  double a[16], b[16];
  size_t l, r, c, n = net->n_in;
  memcpy(a, x, n * sizeof *a);
  for (l = 0; l < k; l++) {
    const twinn_layer *ly = &net->layers[l];
    for (r = 0; r < ly->n_out; r++)
      if (ly->kind == TWINN_LAYER_AFFINE) {
        b[r] = ly->b[r];
        for (c = 0; c < ly->n_in; c++) b[r] += ly->w[r * ly->n_in + c] * a[c];
      } else {
        b[r] = fmax(a[r], 0.0);
      }
    n = ly->n_out;
    memcpy(a, b, n * sizeof *a);
  }
  return a[i];
}

/* Fixed phases (twinn_exact_fix): with a ReLU of f or g fixed active, then inactive, each
 * proved end dominates every sample of its half of the box and is attained there by its point;
 * the larger of the two is the unfixed maximum; clearing the fixes gives the unfixed search
 * back; bad indices are refused. */
static void test_fixed_phases(void **state) {
  size_t widths[3] = {10, 10, 3}, n, t, s, k, i;
  double lo[3], hi[3], cf[3] = {0, 0, 0}, cg[3] = {0, 0, 0}, x[3], up[2], whole;
  twinn_net *f, *g, *nets[2];
  twinn_exact *ex;
  twinn_exact_result res;
  twinn_error err;
  unsigned long fewer = 0;
  (void)state;
  for (uint64_t seed = 0; seed < 30; seed++) {
    int which, pair = seed % 3 != 0;
    twinn_test_rng_state = seed * 6151 + 3;
    n = 2 + seed % 2;
    f = twinn_test_random_net(n, widths, 3, TWINN_LAYER_RELU, NULL, 0.0);
    g = pair ? twinn_test_random_net(n, widths, 3, TWINN_LAYER_RELU, f, 0.02) : NULL;
    nets[0] = f;
    nets[1] = g;
    for (t = 0; t < n; t++) {
      double c = 2 * twinn_test_urand() - 1, r = 0.1 + 0.4 * twinn_test_urand();
      lo[t] = c - r;
      hi[t] = c + r;
    }
    for (t = 0; t < 3; t++) cf[t] = 2 * twinn_test_urand() - 1, cg[t] = pair ? -cf[t] : 0.0;
    which = pair ? (int)(seed / 3 % 2) : 0;
    k = seed % 2 ? 1 : 3; /* the first or the second ReLU layer */
    i = (size_t)(twinn_test_urand() * 10);
    assert_non_null(ex = twinn_exact_new(f, g));
    twinn_error_clear(&err);
    assert_int_equal(
        twinn_exact_max(ex, cf, pair ? cg : NULL, lo, hi, -INFINITY, 1000000, &res, &err),
        TWINN_OK);
    assert_true(res.complete);
    whole = res.upper;
    for (int ph = 0; ph < 2; ph++) {
      double sg = ph == 0 ? 1.0 : -1.0, smax = -INFINITY, hv;
      assert_int_equal(twinn_exact_fix(ex, which, k, i, ph == 0 ? 1 : -1), TWINN_OK);
      assert_int_equal(
          twinn_exact_max(ex, cf, pair ? cg : NULL, lo, hi, -INFINITY, 1000000, &res, &err),
          TWINN_OK);
      assert_true(res.complete);
      up[ph] = res.upper;
      for (s = 0; s < 20000; s++) {
        for (t = 0; t < n; t++) x[t] = lo[t] + (hi[t] - lo[t]) * twinn_test_urand();
        if (sg * pre_activation(nets[which], k, i, x) >= 0)
          smax = fmax(smax, objective(f, g, cf, pair ? cg : NULL, x));
      }
      if (!(smax <= res.upper))
        fail_msg("seed %llu phase %+g: sample %.17g above upper %.17g", (unsigned long long)seed,
                 sg, smax, res.upper);
      /* Where the box proves the other phase, the fix is moot (the search is the whole box's,
       * sound for the degenerate rest): its point need not have the phase. */
      if (res.point && smax > -INFINITY) {
        hv = objective(f, g, cf, pair ? cg : NULL, res.point);
        if (!(sg * pre_activation(nets[which], k, i, res.point) >= -1e-9))
          fail_msg("seed %llu phase %+g: z %.17g smax %g", (unsigned long long)seed, sg,
                   pre_activation(nets[which], k, i, res.point), smax);
        if (!(res.upper - hv <= 1e-9 * (1.0 + fabs(hv))))
          fail_msg("seed %llu phase %+g: upper %.17g but the point gives %.17g",
                   (unsigned long long)seed, sg, res.upper, hv);
        fewer += res.upper < whole - 1e-9 * (1.0 + fabs(whole));
      }
    }
    assert_true(fabs(fmax(up[0], up[1]) - whole) <= 1e-9 * (1.0 + fabs(whole)));
    twinn_exact_clear_fixes(ex);
    assert_int_equal(
        twinn_exact_max(ex, cf, pair ? cg : NULL, lo, hi, -INFINITY, 1000000, &res, &err),
        TWINN_OK);
    assert_true(res.upper == whole);
    assert_int_equal(twinn_exact_fix(ex, which, 0, 0, 1), TWINN_ERR_USAGE); /* affine layer */
    assert_int_equal(twinn_exact_fix(ex, which, k, 10, 1), TWINN_ERR_USAGE);
    assert_int_equal(twinn_exact_fix(ex, 2, k, i, 1), TWINN_ERR_USAGE);
    twinn_exact_free(ex);
    twinn_net_free(f);
    twinn_net_free(g);
  }
  print_message("fixed phases: %lu of 60 halves below the whole box's maximum\n", fewer);
  assert_true(fewer >= 4); /* the fixes restrict something (8 here; ignoring them: 0) */
}

/* A box of acasxu_2_7 and its fp16 twin (property 1's region, from the top of `twinn bound`'s
 * queue) where GLPK's primal simplex calls feasible paths' LPs infeasible (rows of coefficients
 * 1e-2 to 1.6e3; their phase-1 LPs attain t = 8e-4 > 0): the leaves then fell back to the box's
 * bound and the search ended at 0.025 over a maximum of 1e-3 or so. Both signs of g_0 - f_0
 * must now be exact: the point attains the proved end to 1e-6, no sample lies above it.
 * Skipped when ../shared is missing. */
static void test_acas_box_exact(void **state) {
  double lo[5] = {0.6, -0.0263671875, -0.09375, 0.45, -0.475};
  double hi[5] = {0.6399288845, -0.025390625, -0.0625, 0.475, -0.4625};
  double x[5], yf[5], yg[5], smax, pv;
  twinn_net *f = NULL, *g = NULL;
  twinn_exact *ex;
  twinn_exact_result res;
  twinn_error err;
  (void)state;
  twinn_test_acas_fp16_pair("2_7", &f, &g);
  assert_non_null(ex = twinn_exact_new(f, g));
  twinn_test_rng_state = 4242;
  for (int sg = -1; sg <= 1; sg += 2) {
    double cf[5] = {0, 0, 0, 0, 0}, cg[5] = {0, 0, 0, 0, 0};
    cg[0] = sg;
    cf[0] = -sg;
    twinn_error_clear(&err);
    assert_int_equal(twinn_exact_max(ex, cf, cg, lo, hi, -INFINITY, 1000000, &res, &err), TWINN_OK);
    assert_true(res.complete);
    assert_non_null(res.point);
    assert_int_equal(twinn_net_eval(f, res.point, yf), TWINN_OK);
    assert_int_equal(twinn_net_eval(g, res.point, yg), TWINN_OK);
    pv = sg * (yg[0] - yf[0]);
    smax = -INFINITY;
    for (int s = 0; s < 20000; s++) {
      for (int t = 0; t < 5; t++) x[t] = lo[t] + (hi[t] - lo[t]) * twinn_test_urand();
      assert_int_equal(twinn_net_eval(f, x, yf), TWINN_OK);
      assert_int_equal(twinn_net_eval(g, x, yg), TWINN_OK);
      smax = fmax(smax, sg * (yg[0] - yf[0]));
    }
    print_message("sign %+d: upper %.9g, point %.9g, sampled %.9g, %lu LPs\n", sg, res.upper, pv,
                  smax, res.lps);
    assert_true(smax <= res.upper);
    if (!(res.upper - pv <= 1e-6))
      fail_msg("sign %+d: upper %.9g but the point gives %.9g", sg, res.upper, pv);
  }
  twinn_exact_free(ex);
  twinn_net_free(f);
  twinn_net_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_network_exact), cmocka_unit_test(test_pair_difference_exact),
      cmocka_unit_test(test_floor_and_budget),     cmocka_unit_test(test_many_forms),
      cmocka_unit_test(test_forms_past_caps),      cmocka_unit_test(test_fixed_phases),
      cmocka_unit_test(test_floor_near_max),       cmocka_unit_test(test_acas_box_exact),
      cmocka_unit_test(test_caps_keep_max),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
