/* test_pattern.c: the compass search (plugin/pattern.h). It reaches the minimiser of a kinked
 * function off the step grid and one on a face of the box, never evaluates outside the box,
 * returns the best point with its value, stops at once when the objective says so, and passes
 * an objective's failure on. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pattern.h"

typedef struct {
  const double *lo, *hi, *c; /* box and minimiser */
  size_t n, calls, fail_at;  /* fail_at: the call that fails (0: none) */
  double stop_below;         /* stop once a value is below it (-inf: never) */
  int face;                  /* objective with the minimiser on the face x_0 = hi_0 */
} fn_ctx;

/* sum |x_i - c_i| (or, with face, -x_0 + sum_{i>0} |x_i - c_i|); asserts x is in the box. */
static twinn_status objective(void *vctx, const double *x, double *value, int *stop) {
  fn_ctx *c = vctx;
  double v = 0.0;
  c->calls++;
  if (c->fail_at && c->calls == c->fail_at) return TWINN_ERR_NOMEM;
  for (size_t i = 0; i < c->n; i++) {
    assert_true(x[i] >= c->lo[i] && x[i] <= c->hi[i]);
    v += c->face && i == 0 ? -x[0] : fabs(x[i] - c->c[i]);
  }
  *value = v;
  *stop = v < c->stop_below;
  return TWINN_OK;
}

static double value_at(fn_ctx *c, const double *x) {
  double v;
  int stop;
  assert_int_equal(objective(c, x, &v, &stop), TWINN_OK);
  return v;
}

static void test_kink_off_grid(void **state) {
  const double lo[3] = {-1.0, 0.0, -3.0}, hi[3] = {2.0, 0.001, 5.0};
  const double c[3] = {0.123456789, 0.000777, -2.718281828};
  double x[3] = {1.9, 0.0, 4.0}, q[3], v;
  fn_ctx ctx = {lo, hi, c, 3, 0, 0, -INFINITY, 0};
  int stopped = 1;
  (void)state;
  v = value_at(&ctx, x);
  assert_int_equal(twinn_pattern_search(3, lo, hi, x, &v, q, objective, &ctx, 0, &stopped),
                   TWINN_OK);
  assert_int_equal(stopped, 0);
  for (size_t i = 0; i < 3; i++) assert_true(fabs(x[i] - c[i]) <= 1e-6 * (hi[i] - lo[i]));
  /* The returned value is the returned point's. */
  assert_true(v == value_at(&ctx, x));
}

static void test_face(void **state) {
  const double lo[2] = {0.0, -1.0}, hi[2] = {0.7, 1.0}, c[2] = {0.0, 0.3};
  double x[2] = {0.1, -0.9}, q[2], v;
  fn_ctx ctx = {lo, hi, c, 2, 0, 0, -INFINITY, 1};
  int stopped;
  (void)state;
  v = value_at(&ctx, x);
  assert_int_equal(twinn_pattern_search(2, lo, hi, x, &v, q, objective, &ctx, 0, &stopped),
                   TWINN_OK);
  assert_true(x[0] == hi[0]);
  assert_true(fabs(x[1] - 0.3) <= 1e-6);
}

static void test_stop_and_failure(void **state) {
  const double lo[2] = {-1.0, -1.0}, hi[2] = {1.0, 1.0}, c[2] = {0.5, -0.5};
  double x[2] = {-1.0, 1.0}, q[2], v;
  fn_ctx ctx = {lo, hi, c, 2, 0, 0, 0.9, 0};
  int stopped = 0;
  (void)state;
  v = value_at(&ctx, x);
  ctx.calls = 0;
  assert_int_equal(twinn_pattern_search(2, lo, hi, x, &v, q, objective, &ctx, 0, &stopped),
                   TWINN_OK);
  assert_int_equal(stopped, 1);
  assert_true(value_at(&ctx, x) < 0.9); /* x is the point that stopped it */
  /* The fifth evaluation fails: the search ends with that status. */
  x[0] = -1.0, x[1] = 1.0;
  ctx.stop_below = -INFINITY;
  v = value_at(&ctx, x);
  ctx.calls = 0;
  ctx.fail_at = 5;
  assert_int_equal(twinn_pattern_search(2, lo, hi, x, &v, q, objective, &ctx, 0, &stopped),
                   TWINN_ERR_NOMEM);
  assert_int_equal(ctx.calls, 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_kink_off_grid),
                                     cmocka_unit_test(test_face),
                                     cmocka_unit_test(test_stop_and_failure)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
