/* helpers.c: the unit tests' shared random generator and random network builder (helpers.h).
 * The draws are made in a fixed order (weights row-major, then biases, layer by layer), so a
 * seed names one network; changing that order changes every seeded test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
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
