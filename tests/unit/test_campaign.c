/* test_campaign.c: a soundness campaign over random twins. Each trial draws a twin pair (f
 * random; g f's weights moved by relative noise, rounded to an int8 grid per layer, or pruned),
 * an input box and a property, then checks
 *  - twinn_verify's verdict against the exact MILP mode's (never sat against unsat);
 *  - twinn_quant_diff_bounds' intervals against the exact maxima of |g_i - f_i| (exact.h) and
 *    20 000 samples (upper ends proved: never below a value seen; lower ends attained);
 *  - twinn_quant_margin_bounds' against samples (and a top-1 agreement against every sample).
 * CI runs a few trials (TWINN_CAMPAIGN_TRIALS, default 12, per test: 3 s); after an engine change
 * run more by hand, e.g. TWINN_CAMPAIGN_TRIALS=300 TWINN_CAMPAIGN_SEED=7 build/test_campaign;
 * TWINN_CAMPAIGN_MAX_OUT=40 draws networks of up to 40 outputs, TWINN_CAMPAIGN_DUMP=DIR keeps the
 * trials decided differently (dump_trial) (BENCHMARKS.md, session 44). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exact.h"
#include "helpers.h"
#include "onnx_load.h"
#include "quant.h"

static unsigned long env_count(const char *name, unsigned long dflt) {
  const char *s = getenv(name);
  return s && *s ? strtoul(s, NULL, 10) : dflt;
}

/* Outputs per network: 2 to TWINN_CAMPAIGN_MAX_OUT (default 5, at most MAX_OUT; twinn bound's
 * L-inf search takes two forms per output, up to 64). */
#define MAX_OUT 40
static size_t max_out(void) {
  unsigned long m = env_count("TWINN_CAMPAIGN_MAX_OUT", 5);
  return m < 2 ? 2 : m > MAX_OUT ? MAX_OUT : (size_t)m;
}

static size_t draw(size_t lo, size_t hi) { /* uniform in [lo, hi] */
  return lo + (size_t)(twinn_test_urand() * (double)(hi - lo + 1));
}

/* The twin of f: kind 0 relative noise (1e-3 to 0.1), 1 every weight of a layer rounded to 255
 * levels of its largest magnitude (int8-like), 2 noise with a fifth of the weights zeroed. */
static twinn_net *twin_of(const twinn_net *f, const size_t *widths, size_t depth, int kind) {
  twinn_net *g = twinn_test_random_net(f->n_in, widths, depth, TWINN_LAYER_RELU, f, 0.0);
  const double rel[3] = {1e-3, 1e-2, 0.1};
  double r = rel[draw(0, 2)];
  for (size_t k = 0; k < g->n_layers; k++) {
    twinn_layer *ly = &g->layers[k];
    size_t n = ly->n_in * ly->n_out;
    double scale = 0;
    if (ly->kind != TWINN_LAYER_AFFINE) continue;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(ly->w[i]) / 127);
    for (size_t i = 0; i < n; i++) {
      if (kind == 1)
        ly->w[i] = nearbyint(ly->w[i] / scale) * scale;
      else
        ly->w[i] *= 1 + r * (2 * twinn_test_urand() - 1);
      if (kind == 2 && twinn_test_urand() < 0.2) ly->w[i] = 0;
    }
    for (size_t i = 0; kind != 1 && i < ly->n_out; i++)
      ly->b[i] *= 1 + r * (2 * twinn_test_urand() - 1);
  }
  return g;
}

typedef struct {
  twinn_net *f, *g;
  size_t n_in, n_out;
  double lo[32], hi[32];
} trial;

static void trial_draw(trial *t, int wide) {
  size_t widths[3], depth = 3;
  t->n_in = wide ? draw(20, 30) : draw(2, 5);
  t->n_out = draw(2, max_out());
  widths[0] = draw(4, 14);
  widths[1] = draw(4, 14);
  widths[2] = t->n_out;
  t->f = twinn_test_random_net(t->n_in, widths, depth, TWINN_LAYER_RELU, NULL, 0);
  t->g = twin_of(t->f, widths, depth, (int)draw(0, 2));
  /* Box ends are float32 values, as in property files (the MILP mode looks for float32
   * witnesses: an input fixed at a double between two floats has none); a tenth are fixed. */
  for (size_t i = 0; i < t->n_in; i++) {
    double w = twinn_test_urand() < 0.1 ? 0 : (wide ? 0.05 : 0.1) + 0.5 * twinn_test_urand();
    t->lo[i] = (float)(2 * twinn_test_urand() - 1);
    t->hi[i] = (float)(t->lo[i] + w);
  }
}

static void trial_free(trial *t) {
  twinn_net_free(t->f);
  twinn_net_free(t->g);
}

/* A point of the box: its corners first, then uniform. */
static void sample(const trial *t, size_t s, double *x) {
  for (size_t i = 0; i < t->n_in; i++)
    x[i] = s < ((size_t)1 << (t->n_in < 12 ? t->n_in : 12))
               ? ((s >> i) & 1 ? t->hi[i] : t->lo[i])
               : t->lo[i] + (t->hi[i] - t->lo[i]) * twinn_test_urand();
}

/* With TWINN_CAMPAIGN_DUMP=DIR, a trial whose verdicts differ is written to DIR as
 * trialN_f.onnx, trialN_g.onnx and trialN.vnnlib, to be run again with the CLI. */
static void dump_trial(const trial *t, unsigned long tr, const char *text) {
  const char *dir = getenv("TWINN_CAMPAIGN_DUMP");
  char path[4096];
  FILE *q;
  if (!dir || !*dir) return;
  snprintf(path, sizeof path, "%s/trial%lu_f.onnx", dir, tr);
  assert_int_equal(twinn_onnx_save_file(t->f, path, NULL), TWINN_OK);
  snprintf(path, sizeof path, "%s/trial%lu_g.onnx", dir, tr);
  assert_int_equal(twinn_onnx_save_file(t->g, path, NULL), TWINN_OK);
  snprintf(path, sizeof path, "%s/trial%lu.vnnlib", dir, tr);
  assert_non_null(q = fopen(path, "w"));
  fputs(text, q);
  assert_int_equal(fclose(q), 0);
}

static void test_campaign_verify(void **state) {
  unsigned long n = env_count("TWINN_CAMPAIGN_TRIALS", 12);
  unsigned long decided = 0;
  (void)state;
  twinn_test_rng_state = 0xC0FFEEull + env_count("TWINN_CAMPAIGN_SEED", 0);
  for (unsigned long tr = 0; tr < n; tr++) {
    trial t;
    double x[32], yf[MAX_OUT], yg[MAX_OUT], smax = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *q;
    int kind = (int)draw(0, 2);
    twinn_prop *prop;
    twinn_verdict v, m;
    trial_draw(&t, twinn_test_urand() < 0.3);
    for (size_t s = 0; s < 4000; s++) {
      sample(&t, s, x);
      assert_int_equal(twinn_net_eval(t.f, x, yf), TWINN_OK);
      assert_int_equal(twinn_net_eval(t.g, x, yg), TWINN_OK);
      for (size_t j = 0; j < t.n_out; j++) smax = fmax(smax, fabs(yg[j] - yf[j]));
    }
    assert_non_null(q = open_memstream(&text, &len));
    fprintf(q,
            "(vnnlib-version <2.0>)\n(declare-network f (declare-input X_f real [%zu]) "
            "(declare-output Y_f real [%zu]))\n(declare-network g (isomorphic-to f) "
            "(declare-input X_g real [%zu]) (declare-output Y_g real [%zu]))\n",
            t.n_in, t.n_out, t.n_in, t.n_out);
    for (size_t i = 0; i < t.n_in; i++)
      fprintf(q,
              "(assert (== X_g[%zu] X_f[%zu]))(assert (>= X_f[%zu] %.17g))"
              "(assert (<= X_f[%zu] %.17g))\n",
              i, i, i, t.lo[i], i, t.hi[i]);
    fputs("(assert (or", q);
    if (kind == 0) { /* some |g_j - f_j| above a threshold near the sampled maximum */
      double eps = smax * (0.7 + 0.7 * twinn_test_urand());
      for (size_t j = 0; j < t.n_out; j++)
        fprintf(q, " (> Y_g[%zu] (+ Y_f[%zu] %.17g)) (< Y_g[%zu] (- Y_f[%zu] %.17g))", j, j, eps, j,
                j, eps);
    } else if (kind == 1) { /* g does not decide class c */
      size_t c = draw(0, t.n_out - 1);
      for (size_t j = 0; j < t.n_out; j++)
        if (j != c) fprintf(q, " (> Y_g[%zu] Y_g[%zu])", j, c);
    } else { /* a linear constraint over both networks' outputs */
      fputs(" (> (+", q);
      for (size_t j = 0; j < t.n_out; j++) {
        double a = 2 * twinn_test_urand() - 1;
        fprintf(q, " (* %.6f Y_g[%zu]) (* %.6f Y_f[%zu])", a, j,
                -a * (0.9 + 0.2 * twinn_test_urand()), j);
      }
      fputs(") 0.0)", q);
    }
    fputs("))\n", q);
    assert_int_equal(fclose(q), 0);
    prop = twinn_test_parse(text);
    {
      const char *names[2] = {"f", "g"};
      const twinn_net *nets[2] = {t.f, t.g};
      twinn_problem pb;
      twinn_options opt;
      twinn_result r;
      twinn_options_init(&opt);
      opt.timeout = 3;
      opt.threads = (int)draw(1, 2);
      opt.seed = tr;
      assert_int_equal(twinn_problem_bind(&pb, prop, 2, names, nets, NULL), TWINN_OK);
      assert_int_equal(twinn_verify(&pb, &opt, &r, NULL), TWINN_OK);
      v = r.verdict;
      twinn_result_release(&r);
      twinn_problem_release(&pb);
    }
    m = twinn_test_milp_verdict(prop, t.f, t.g);
    if (v != m) dump_trial(&t, tr, text);
    if ((v == TWINN_VERDICT_SAT && m == TWINN_VERDICT_UNSAT) ||
        (v == TWINN_VERDICT_UNSAT && m == TWINN_VERDICT_SAT))
      fail_msg("trial %lu: twinn says %s, the MILP mode %s, on\n%s", tr, twinn_verdict_name(v),
               twinn_verdict_name(m), text);
    if (v == m && (v == TWINN_VERDICT_SAT || v == TWINN_VERDICT_UNSAT))
      decided++;
    else /* not a failure: one side ran out of time (or found no float32 witness) */
      print_message("trial %lu (%zu inputs, property %d): twinn %s, the MILP mode %s\n", tr, t.n_in,
                    kind, twinn_verdict_name(v), twinn_verdict_name(m));
    twinn_prop_free(prop);
    free(text);
    trial_free(&t);
  }
  print_message("verify: %lu of %lu trials decided alike by both\n", decided, n);
  assert_true(2 * decided >= n); /* the comparison is not vacuous */
}

static void test_campaign_bounds(void **state) {
  unsigned long n = env_count("TWINN_CAMPAIGN_TRIALS", 12), exact = 0;
  (void)state;
  twinn_test_rng_state = 0xB0B0ull + env_count("TWINN_CAMPAIGN_SEED", 0);
  for (unsigned long tr = 0; tr < n; tr++) {
    trial t;
    twinn_quant_options opt;
    twinn_quant_diff d;
    twinn_quant_margin mg;
    twinn_exact *ex;
    double x[32], yf[MAX_OUT], yg[MAX_OUT], smax[MAX_OUT] = {0};
    double mx = -INFINITY, mn = INFINITY, fneg = -INFINITY, gneg = -INFINITY;
    size_t cls;
    trial_draw(&t, 0);
    twinn_quant_options_init(&opt);
    opt.timeout = 0.3 + twinn_test_urand();
    opt.threads = (int)draw(1, 2);
    opt.seed = tr;
    opt.gap = twinn_test_urand() < 0.5 ? 1e-3 : 1e-6;
    assert_int_equal(twinn_quant_diff_bounds(t.f, t.g, t.lo, t.hi, &opt, &d, NULL), TWINN_OK);
    cls = draw(0, t.n_out - 1);
    assert_int_equal(twinn_quant_margin_bounds(t.f, t.g, t.lo, t.hi, cls, 0, &opt, &mg, NULL),
                     TWINN_OK);
    for (size_t s = 0; s < 20000; s++) {
      double bf = -INFINITY, bg = -INFINITY;
      sample(&t, s, x);
      assert_int_equal(twinn_net_eval(t.f, x, yf), TWINN_OK);
      assert_int_equal(twinn_net_eval(t.g, x, yg), TWINN_OK);
      for (size_t j = 0; j < t.n_out; j++) {
        smax[j] = fmax(smax[j], fabs(yg[j] - yf[j]));
        if (j != cls) bf = fmax(bf, yf[j]), bg = fmax(bg, yg[j]);
      }
      mx = fmax(mx, (yg[cls] - bg) - (yf[cls] - bf));
      mn = fmin(mn, (yg[cls] - bg) - (yf[cls] - bf));
      fneg = fmax(fneg, bf - yf[cls]);
      gneg = fmax(gneg, bg - yg[cls]);
      if (mg.top1 == TWINN_TOP1_AGREE) {
        assert_int_equal(twinn_quant_decide(t.f, x, 0), cls);
        assert_int_equal(twinn_quant_decide(t.g, x, 0), cls);
      }
    }
    assert_non_null(ex = twinn_exact_new(t.f, t.g));
    for (size_t j = 0; j < t.n_out; j++) {
      const twinn_quant_bound *b = &d.out[j];
      double tol = 1e-12 * (1 + smax[j]), cf[MAX_OUT] = {0}, cg[MAX_OUT] = {0}, emax = -INFINITY;
      int complete = 1;
      if (smax[j] > b->upper + tol)
        fail_msg("trial %lu output %zu: upper %.17g below a sampled %.17g", tr, j, b->upper,
                 smax[j]);
      for (int sg = -1; sg <= 1; sg += 2) {
        twinn_exact_result r;
        cg[j] = sg;
        cf[j] = -sg;
        assert_int_equal(twinn_exact_max(ex, cf, cg, t.lo, t.hi, -INFINITY, 20000, &r, NULL),
                         TWINN_OK);
        if (r.point && r.value > b->upper + 1e-9 * (1 + fabs(r.value)))
          fail_msg("trial %lu output %zu: upper %.17g below the exact search's %.17g", tr, j,
                   b->upper, r.value);
        complete = complete && r.complete;
        if (r.complete) emax = fmax(emax, r.upper);
      }
      if (complete) {
        exact++;
        if (b->lower > emax)
          fail_msg("trial %lu output %zu: lower %.17g above the exact maximum %.17g", tr, j,
                   b->lower, emax);
      }
    }
    {
      double tol = 1e-12 * (1 + fabs(mx) + fabs(mn) + fabs(fneg) + fabs(gneg));
      assert_true(mx <= mg.dmax.upper + tol);
      assert_true(-mn <= mg.dmin.upper + tol);
      assert_true(fneg <= mg.fneg.upper + tol);
      assert_true(gneg <= mg.gneg.upper + tol);
    }
    if (mg.top1 == TWINN_TOP1_DISAGREE)
      assert_true(twinn_quant_decide(t.f, mg.witness, 0) != twinn_quant_decide(t.g, mg.witness, 0));
    twinn_exact_free(ex);
    twinn_quant_margin_release(&mg);
    twinn_quant_diff_release(&d);
    trial_free(&t);
  }
  print_message("bounds: %lu outputs checked against their exact maxima\n", exact);
  assert_true(n == 0 || exact > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_campaign_verify),
      cmocka_unit_test(test_campaign_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
