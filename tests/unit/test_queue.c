/* test_queue.c: the best-first region queue (plugin/queue.h): pops come out in order of
 * margin (NaN counting as -inf), newest first among equal margins, the byte count returns to
 * zero, an allocation failure while growing frees the region instead of leaking it, and a
 * region's parts do not overlap. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue.h"

static uint64_t rng_state = 12345;
static double urand(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static void test_order(void **state) {
  twinn_queue q = {0};
  twinn_region *r, *prev = NULL;
  size_t i, n = 0;
  (void)state;
  for (i = 0; i < 1000; i++) {
    r = twinn_region_new(3, i % 4);
    assert_non_null(r);
    /* Few distinct values, so ties are frequent; some NaN. */
    r->margin = i % 97 == 0 ? NAN : floor(urand() * 10) - 5;
    r->lo[0] = (double)i;
    assert_int_equal(twinn_queue_push(&q, r), TWINN_OK);
  }
  assert_true(q.bytes > 0);
  while ((r = twinn_queue_pop(&q)) != NULL) {
    double m = isnan(r->margin) ? -INFINITY : r->margin;
    if (prev) {
      double pm = isnan(prev->margin) ? -INFINITY : prev->margin;
      assert_true(pm <= m);
      if (pm == m) assert_true(prev->seq > r->seq); /* newest first among ties */
      twinn_region_free(prev);
    }
    prev = r;
    n++;
  }
  twinn_region_free(prev);
  assert_int_equal(n, 1000);
  assert_int_equal(q.bytes, 0);
  twinn_queue_release(&q);
}

static void test_push_nomem(void **state) {
  twinn_queue q = {0};
  twinn_region *r;
  (void)state;
  r = twinn_region_new(2, 0);
  assert_non_null(r);
  twinn_alloc_set_fail(1); /* the heap's first allocation */
  assert_int_equal(twinn_queue_push(&q, r), TWINN_ERR_NOMEM);
  twinn_alloc_set_fail(0);
  assert_int_equal(q.n, 0);
  assert_null(twinn_queue_pop(&q));
  twinn_queue_release(&q);
}

/* A region with every part (box, enclosures, splits, dead-ReLU bytes): the parts do not
 * overlap (each written whole, then read back) and the byte count covers them all. */
static void test_layout(void **state) {
  size_t nf = 5, ns = 3, nl = 7, nd = 11, i;
  twinn_region *r = twinn_region_new_dead(nf, ns, nl, nd), *plain = twinn_region_new(nf, ns);
  (void)state;
  assert_non_null(r);
  assert_non_null(plain);
  assert_null(plain->dead);
  assert_int_equal(r->n_dead, nd);
  assert_int_equal(twinn_region_bytes(r), twinn_region_bytes(plain) + 2 * nl * sizeof(double) + nd);
  for (i = 0; i < nf; i++) r->lo[i] = (double)i, r->hi[i] = (double)i + 0.5;
  for (i = 0; i < nl; i++) r->lin_lo[i] = -(double)i, r->lin_hi[i] = (double)i;
  for (i = 0; i < ns; i++) r->splits[i] = (twinn_nsplit){(uint32_t)i, 1, 2, 0, 1};
  for (i = 0; i < nd; i++) r->dead[i] = (unsigned char)(0xA0 + i);
  for (i = 0; i < nf; i++) assert_true(r->lo[i] == (double)i && r->hi[i] == (double)i + 0.5);
  for (i = 0; i < nl; i++) assert_true(r->lin_lo[i] == -(double)i && r->lin_hi[i] == (double)i);
  for (i = 0; i < ns; i++) assert_int_equal(r->splits[i].sym, i);
  for (i = 0; i < nd; i++) assert_int_equal(r->dead[i], 0xA0 + i);
  twinn_region_free(r);
  twinn_region_free(plain);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_order),
                                     cmocka_unit_test(test_push_nomem),
                                     cmocka_unit_test(test_layout)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
