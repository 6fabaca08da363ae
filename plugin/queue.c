/* queue.c: region allocation and the best-first binary heap of branch and bound (queue.h).
 * Invariant: heap[i] is never worse-ordered than its children (before(heap[i], child) or equal).
 * Must not lock or print; the engine serialises access. */
#include <math.h>
#include <string.h>

#include "queue.h"

twinn_region *twinn_region_new(size_t n_free, size_t n_splits) {
  return twinn_region_new_lins(n_free, n_splits, 0);
}

twinn_region *twinn_region_new_lins(size_t n_free, size_t n_splits, size_t n_lins) {
  return twinn_region_new_dead(n_free, n_splits, n_lins, 0);
}

twinn_region *twinn_region_new_dead(size_t n_free, size_t n_splits, size_t n_lins, size_t n_dead) {
  /* One block: header, 2 (n_free + n_lins) doubles, the splits (double alignment suits
   * both), then the dead-ReLU bytes. */
  size_t nd, room = (SIZE_MAX - sizeof(twinn_region)) / sizeof(double) / 8, head;
  twinn_region *r;
  if (n_free > room || n_lins > room || n_dead > room) return NULL;
  nd = 2 * (n_free + n_lins) + 1;
  if (n_splits > (SIZE_MAX - sizeof *r - nd * sizeof(double) - n_dead) / sizeof(twinn_nsplit) - 1)
    return NULL;
  head = sizeof *r + nd * sizeof(double) + (n_splits + 1) * sizeof(twinn_nsplit);
  r = twinn_malloc(head + n_dead);
  if (!r) return NULL;
  memset(r, 0, sizeof *r);
  r->n_free = n_free;
  r->n_splits = n_splits;
  r->lo = (double *)(void *)(r + 1);
  r->hi = r->lo + n_free;
  r->n_lins = n_lins;
  if (n_lins) {
    r->lin_lo = r->hi + n_free;
    r->lin_hi = r->lin_lo + n_lins;
  }
  r->splits = (twinn_nsplit *)(void *)(r->lo + nd);
  r->n_dead = n_dead;
  if (n_dead) r->dead = (unsigned char *)r + head;
  return r;
}

void twinn_region_free(twinn_region *r) { twinn_free(r); }

size_t twinn_region_bytes(const twinn_region *r) {
  return sizeof *r + (2 * (r->n_free + r->n_lins) + 1) * sizeof(double) +
         (r->n_splits + 1) * sizeof(twinn_nsplit) + r->n_dead;
}

/* a comes out before b: lower margin, then the newer push. NaN margins count as -inf. */
static int before(const twinn_region *a, const twinn_region *b) {
  double ma = a->margin == a->margin ? a->margin : -INFINITY;
  double mb = b->margin == b->margin ? b->margin : -INFINITY;
  if (ma != mb) return ma < mb;
  return a->seq > b->seq;
}

twinn_status twinn_queue_push(twinn_queue *q, twinn_region *r) {
  size_t i;
  if (q->n == q->cap) {
    size_t cap = q->cap ? 2 * q->cap : 256;
    twinn_region **nh = twinn_realloc(q->heap, cap, sizeof *nh);
    if (!nh) {
      twinn_region_free(r);
      return TWINN_ERR_NOMEM;
    }
    q->heap = nh;
    q->cap = cap;
  }
  r->seq = q->seq++;
  q->bytes += twinn_region_bytes(r);
  for (i = q->n++; i > 0 && before(r, q->heap[(i - 1) / 2]); i = (i - 1) / 2)
    q->heap[i] = q->heap[(i - 1) / 2];
  q->heap[i] = r;
  return TWINN_OK;
}

twinn_region *twinn_queue_pop(twinn_queue *q) {
  twinn_region *top, *last;
  size_t i = 0, c;
  if (q->n == 0) return NULL;
  top = q->heap[0];
  last = q->heap[--q->n];
  q->bytes -= twinn_region_bytes(top);
  for (;;) {
    c = 2 * i + 1;
    if (c >= q->n) break;
    if (c + 1 < q->n && before(q->heap[c + 1], q->heap[c])) c++;
    if (!before(q->heap[c], last)) break;
    q->heap[i] = q->heap[c];
    i = c;
  }
  if (q->n > 0) q->heap[i] = last;
  return top;
}

void twinn_queue_release(twinn_queue *q) {
  size_t i;
  for (i = 0; i < q->n; i++) twinn_region_free(q->heap[i]);
  twinn_free(q->heap);
  memset(q, 0, sizeof *q);
}
