/* helpers.c: the unit tests' shared random generator, random network builders and exact
 * verdicts (helpers.h).
 * The draws are made in a fixed order (weights row-major, then biases, layer by layer), so a
 * seed names one network; changing that order changes every seeded test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "milp.h"
#include "onnx_load.h"
#include "vnnlib.h"

uint64_t twinn_test_rng_state;

double twinn_test_urand(void) {
  uint64_t z = (twinn_test_rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

twinn_net *twinn_test_random_net(size_t n_in, const size_t *widths, size_t depth,
                                 twinn_layer_kind act, const twinn_net *base, double noise) {
  twinn_net *net = twinn_net_new(n_in);
  size_t k, i, prev = n_in, li = 0;
  assert_non_null(net);
  for (k = 0; k < depth; k++) {
    double *w = twinn_mallocarray(widths[k] * prev, sizeof *w);
    double *b = twinn_mallocarray(widths[k], sizeof *b);
    assert_true(w && b);
    for (i = 0; i < widths[k] * prev; i++)
      w[i] = base ? base->layers[li].w[i] + noise * (2 * twinn_test_urand() - 1)
                  : 2 * twinn_test_urand() - 1;
    for (i = 0; i < widths[k]; i++)
      b[i] = base ? base->layers[li].b[i] + noise * (2 * twinn_test_urand() - 1)
                  : twinn_test_urand() - 0.5;
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

twinn_prop *twinn_test_parse(const char *text) {
  twinn_prop *prop = NULL;
  twinn_error err;
  twinn_error_clear(&err);
  if (twinn_vnnlib_parse_buffer(text, strlen(text), "test.vnnlib", &prop, &err) != TWINN_OK)
    fail_msg("parse: %s", err.msg);
  return prop;
}

twinn_verdict twinn_test_milp_verdict(const twinn_prop *prop, const twinn_net *f,
                                      const twinn_net *g) {
  const char *names[2] = {"f", "g"};
  const twinn_net *nets[2] = {f, g};
  twinn_problem pb;
  twinn_options opt;
  twinn_result r;
  twinn_error err;
  twinn_verdict v;
  twinn_error_clear(&err);
  twinn_options_init(&opt);
  opt.timeout = 60;
  assert_int_equal(twinn_problem_bind(&pb, prop, g ? 2 : 1, names, nets, &err), TWINN_OK);
  assert_int_equal(twinn_milp_verify(&pb, &opt, &r, &err), TWINN_OK);
  v = r.verdict;
  if (v != TWINN_VERDICT_SAT && v != TWINN_VERDICT_UNSAT)
    print_message("MILP mode: %s (%s)\n", twinn_verdict_name(v), r.reason);
  twinn_result_release(&r);
  twinn_problem_release(&pb);
  return v;
}

twinn_net *twinn_test_widened_twin(const twinn_net *f, size_t extra, double noise) {
  twinn_net *g = twinn_net_new(f->n_in);
  size_t k, i, j;
  assert_non_null(g);
  for (k = 0; k < f->n_layers; k++) {
    const twinn_layer *ly = &f->layers[k];
    if (ly->kind != TWINN_LAYER_AFFINE) {
      assert_int_equal(twinn_net_push_act(g, ly->kind, NULL), TWINN_OK);
      continue;
    }
    size_t n_in = ly->n_in + (k == 2 ? extra : 0), n_out = ly->n_out + (k == 0 ? extra : 0);
    double *w = twinn_mallocarray(n_out * n_in, sizeof *w),
           *b = twinn_mallocarray(n_out, sizeof *b);
    assert_true(w && b);
    for (i = 0; i < n_out; i++) {
      b[i] = i < ly->n_out ? ly->b[i] + noise * (2 * twinn_test_urand() - 1)
                           : twinn_test_urand() - 0.5;
      for (j = 0; j < n_in; j++)
        w[i * n_in + j] = i < ly->n_out && j < ly->n_in
                              ? ly->w[i * ly->n_in + j] + noise * (2 * twinn_test_urand() - 1)
                          : j >= ly->n_in ? 0.02 * (2 * twinn_test_urand() - 1)
                                          : 2 * twinn_test_urand() - 1;
    }
    assert_int_equal(twinn_net_push_affine(g, n_out, w, b, NULL), TWINN_OK);
  }
  return g;
}

twinn_net *twinn_test_split_twin(const twinn_net *f, double noise) {
  twinn_net *g = twinn_net_new(f->n_in);
  size_t k, i, j;
  double *alpha = NULL;
  assert_non_null(g);
  for (k = 0; k < f->n_layers; k++) {
    const twinn_layer *ly = &f->layers[k];
    if (ly->kind != TWINN_LAYER_AFFINE) {
      assert_int_equal(twinn_net_push_act(g, ly->kind, NULL), TWINN_OK);
      continue;
    }
    /* Layer 0's rows are split, layer 2's columns doubled: relu(a z) + relu((1 - a) z) =
     * relu(z) for a in [0, 1]. */
    size_t n_in = ly->n_in * (k == 2 ? 2 : 1), n_out = ly->n_out * (k == 0 ? 2 : 1);
    double *w = twinn_mallocarray(n_out * n_in, sizeof *w),
           *b = twinn_mallocarray(n_out, sizeof *b);
    assert_true(w && b);
    if (k == 0) {
      alpha = twinn_mallocarray(ly->n_out, sizeof *alpha);
      assert_non_null(alpha);
      for (i = 0; i < ly->n_out; i++) alpha[i] = 0.3 + 0.4 * twinn_test_urand();
    }
    for (i = 0; i < n_out; i++) {
      size_t src = k == 0 ? i / 2 : i;
      double a = k == 0 ? (i % 2 ? 1 - alpha[src] : alpha[src]) : 1.0;
      b[i] = a * ly->b[src] + noise * (2 * twinn_test_urand() - 1);
      for (j = 0; j < n_in; j++)
        w[i * n_in + j] =
            a * ly->w[src * ly->n_in + (k == 2 ? j / 2 : j)] + noise * (2 * twinn_test_urand() - 1);
    }
    assert_int_equal(twinn_net_push_affine(g, n_out, w, b, NULL), TWINN_OK);
  }
  twinn_free(alpha);
  return g;
}

void twinn_test_acas_fp16_pair(const char *n, twinn_net **f, twinn_net **g) {
  char pf[512], pg[512];
  *f = *g = NULL;
  snprintf(pf, sizeof pf, "%s/benchmarks/onnx/acasxu/acasxu_%s.onnx", TWINN_SHARED_DIR, n);
  snprintf(pg, sizeof pg, "%s/benchmarks/onnx/acasxu_fp16/acasxu_%s_fp16.onnx", TWINN_SHARED_DIR,
           n);
  if (twinn_onnx_load_file(pf, f, NULL) == TWINN_OK &&
      twinn_onnx_load_file(pg, g, NULL) == TWINN_OK)
    return;
  print_message("acasxu_%s: cannot load, skipped\n", n);
  twinn_net_free(*f);
  twinn_net_free(*g);
  *f = *g = NULL;
  skip();
}
