/* test_witness.c: the witness writers and reader (plugin/witness.c). Properties come from the
 * real VNN-LIB parser; values are pseudo-random, so round trips are checked on many numbers,
 * including ones that need 17 digits. Also: each malformed witness gets its own status, and
 * every allocation failure is reported cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

#include "vnnlib.h"
#include "witness.h"

static const char query_v2[] = "(vnnlib-version <2.0>)\n"
                               "(declare-network f\n"
                               "  (declare-input X_f float32 [2,3])\n"
                               "  (declare-output Y_f real [2]))\n"
                               "(declare-network g (isomorphic-to f)\n"
                               "  (declare-input X_g real [6])\n"
                               "  (declare-output Y_g float16 []))\n"
                               "(assert (>= X_f[0,0] 0))\n";

static const char query_v1[] = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n"
                               "(declare-const X_2 Real)\n(declare-const Y_0 Real)\n"
                               "(declare-const Y_1 Real)\n(assert (<= X_0 1))\n";

/* Deterministic values spread over many magnitudes, most of them not float32 numbers. */
static void fill(double *x, size_t n, unsigned long seed) {
  size_t i;
  uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (i = 0; i < n; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x[i] = ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 1e3 / (double)(i + 1);
  }
}

/* Runs writer on x, reads the text back into y (which starts zeroed). */
static twinn_status round_trip(twinn_status (*writer)(FILE *, const twinn_prop *, const double *),
                               const twinn_prop *p, const double *x, double *y, char **text) {
  size_t len = 0;
  FILE *out = open_memstream(text, &len), *in;
  twinn_error err;
  twinn_status st;
  assert_non_null(out);
  assert_int_equal(writer(out, p, x), TWINN_OK);
  fclose(out);
  in = fmemopen(*text, len, "r");
  assert_non_null(in);
  twinn_error_clear(&err);
  memset(y, 0, p->n_scalars * sizeof *y);
  st = twinn_witness_read(in, p, y, &err);
  fclose(in);
  return st;
}

static void test_v2_round_trip(void **state) {
  twinn_prop *p = twinn_test_parse(query_v2);
  double x[32], y[32];
  char *text = NULL;
  size_t i;
  unsigned long seed;
  (void)state;
  assert_true(p->n_scalars <= 32);
  for (seed = 1; seed <= 50; seed++) {
    fill(x, p->n_scalars, seed);
    assert_int_equal(round_trip(twinn_witness_write_v2, p, x, y, &text), TWINN_OK);
    for (i = 0; i < p->n_scalars; i++) {
      size_t elem;
      const twinn_var *v = twinn_prop_var_of(p, i, &elem);
      /* float32-valued variables come back as the float32 nearest to the value. */
      double want = v->elem_type == 1 || v->elem_type == 10 ? (double)(float)x[i] : x[i];
      assert_true(y[i] == want);
    }
    if (seed == 1) {
      assert_non_null(strstr(text, "X_f float32 [2,3]\n"));
      assert_non_null(strstr(text, "Y_g float16 []\n"));
    }
    free(text);
    text = NULL;
  }
  twinn_prop_free(p);
}

static void test_v1_round_trip(void **state) {
  twinn_prop *p = twinn_test_parse(query_v1);
  double x[8], y[8];
  char *text = NULL;
  size_t i;
  (void)state;
  fill(x, p->n_scalars, 7);
  assert_int_equal(round_trip(twinn_witness_write_v1, p, x, y, &text), TWINN_OK);
  assert_memory_equal(text, "((X_0 ", 6);
  assert_non_null(strstr(text, "\n (X_1 "));
  assert_non_null(strstr(text, "\n (Y_1 "));
  assert_non_null(strstr(text, "))\n"));
  for (i = 0; i < p->n_scalars; i++) assert_true(y[i] == x[i]);
  free(text);
  twinn_prop_free(p);
}

/* Reads text against the 1.0 query; returns the status and the error's line. */
static twinn_status read_text(const char *q, const char *text, unsigned long *line) {
  twinn_prop *p = twinn_test_parse(q);
  double y[32];
  twinn_error err;
  FILE *in = fmemopen((void *)text, strlen(text), "r");
  twinn_status st;
  assert_non_null(in);
  twinn_error_clear(&err);
  st = twinn_witness_read(in, p, y, &err);
  assert_int_equal(st, err.status);
  if (line) *line = err.line;
  fclose(in);
  twinn_prop_free(p);
  return st;
}

static void test_read_forms(void **state) {
  (void)state;
  /* VNN-COMP form on one line, no verdict line, outputs left out. */
  assert_int_equal(read_text(query_v1, "((X_0 1)(X_1 -2.5e-3) (X_2 .5))", NULL), TWINN_OK);
  /* Unwrapped pairs, after a sat line with trailing spaces. */
  assert_int_equal(read_text(query_v1, "sat  \n(X_0 1)\n(X_1 2)\n(X_2 3)\n", NULL), TWINN_OK);
}

static void test_read_errors(void **state) {
  unsigned long line = 0;
  (void)state;
  assert_int_equal(read_text(query_v1, "unsat\n", NULL), TWINN_ERR_SYNTAX);
  assert_int_equal(read_text(query_v1, "sat\n((X_0 1)\n (X_1 2))\n", NULL), TWINN_ERR_SEMANTIC);
  assert_int_equal(read_text(query_v1, "((X_0 1) (X_1 2) (X_2 3) (Z_0 1))", NULL),
                   TWINN_ERR_SEMANTIC);
  assert_int_equal(read_text(query_v1, "((X_0 1) (X_1 2) (X_2 3) (X_3 1))", NULL),
                   TWINN_ERR_SEMANTIC);
  assert_int_equal(read_text(query_v1, "((X_0 1) (X_0 2) (X_1 2) (X_2 3))", NULL),
                   TWINN_ERR_SEMANTIC);
  assert_int_equal(read_text(query_v1, "sat\n((X_0 1)\n (X_1 nan)\n (X_2 3))", &line),
                   TWINN_ERR_SYNTAX);
  assert_int_equal(line, 3);
  assert_int_equal(read_text(query_v1, "((X_0 1) (X_1 2) (X_2 3)", NULL), TWINN_ERR_SYNTAX);
  assert_int_equal(read_text(query_v1, "((X_0 1) (X_1 2) (X_2 3)) extra", NULL), TWINN_ERR_SYNTAX);
  /* 2.0 form: a shape that disagrees, a short value list, a bad value. */
  assert_int_equal(read_text(query_v2, "sat\nX_f float32 [5]\n1\n", NULL), TWINN_ERR_SEMANTIC);
  assert_int_equal(read_text(query_v2, "X_f float32 [2,3]\n1\n2\n", NULL), TWINN_ERR_SYNTAX);
  assert_int_equal(read_text(query_v2, "sat\nX_f float32 [2,3]\n1\n2\n3 4\n", &line),
                   TWINN_ERR_SYNTAX);
  assert_int_equal(line, 5);
  assert_int_equal(read_text(query_v2, "X_f float32 2,3\n", NULL), TWINN_ERR_SYNTAX);
}

static void test_read_out_of_memory(void **state) {
  twinn_prop *p = twinn_test_parse(query_v1);
  static const char text[] = "sat\n((X_0 1)\n (X_1 2)\n (X_2 3))\n";
  double y[8];
  unsigned long k;
  int failed = 0;
  (void)state;
  for (k = 1; k <= 10; k++) {
    twinn_error err;
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    twinn_status st;
    assert_non_null(in);
    twinn_error_clear(&err);
    twinn_alloc_set_fail(k);
    st = twinn_witness_read(in, p, y, &err);
    twinn_alloc_set_fail(0);
    fclose(in);
    if (st == TWINN_OK) break;
    assert_int_equal(st, TWINN_ERR_NOMEM);
    failed++;
  }
  assert_true(failed >= 1 && k <= 10); /* some allocation failed, and then it succeeded */
  twinn_prop_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v2_round_trip),      cmocka_unit_test(test_v1_round_trip),
      cmocka_unit_test(test_read_forms),         cmocka_unit_test(test_read_errors),
      cmocka_unit_test(test_read_out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
