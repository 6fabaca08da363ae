/* queue.h: the regions of branch and bound and the best-first queue that orders them.
 * A region is an input box plus neuron split constraints (symbolic.h) in one allocation; the
 * queue is a binary heap, worst bound (lowest root margin) first, newest first among ties so
 * that equal margins behave depth-first. Not thread-safe: the caller holds the lock. */
#ifndef TWINN_QUEUE_H
#define TWINN_QUEUE_H

#include <stdint.h>

#include "common.h"

/* One neuron split: ReLU layer `layer` neuron `neuron` of network `which` (TWINN_SYM_F/G) of
 * symbolic workspace `sym` has pre-activation >= 0 (phase +1) or <= 0 (phase -1). */
typedef struct {
  uint32_t sym, layer, neuron;
  int8_t which, phase;
} twinn_nsplit;

typedef struct {
  double margin;     /* the parent's root margin (> 0 would mean proved); priority */
  uint64_t id;       /* path in the tree: seeds the region's own random generator */
  unsigned long seq; /* push order (ties) */
  size_t n_free, n_splits;
  int attacked;            /* its box is its parent's (a neuron split), already searched there */
  int no_exact;            /* an exact search of it or an ancestor ran out of its LPs (verify.c) */
  double *lo, *hi;         /* n_free each */
  twinn_nsplit *splits;    /* n_splits */
  size_t n_lins;           /* 0, or the property's constraint count: */
  double *lin_lo, *lin_hi; /* n_lins each: sound enclosures of each constraint's left side over a
                              superset of the region (its parent), NULL when n_lins is 0 */
  size_t n_dead;           /* 0, or the engine's count of dead-ReLU bytes: */
  unsigned char *dead;     /* n_dead: the ReLUs an analysis of a superset (its parent) proved
                              inactive (twinn_sym_dead_bits of each workspace), NULL if none */
} twinn_region;

/* A region with room for n_splits splits (lo, hi, splits uninitialised). NULL on out of memory. */
twinn_region *twinn_region_new(size_t n_free, size_t n_splits);
/* The same with room for n_lins inherited enclosures (uninitialised; n_lins may be 0). */
twinn_region *twinn_region_new_lins(size_t n_free, size_t n_splits, size_t n_lins);
/* The same with room for n_dead dead-ReLU bytes too (uninitialised; n_dead may be 0). */
twinn_region *twinn_region_new_dead(size_t n_free, size_t n_splits, size_t n_lins, size_t n_dead);
void twinn_region_free(twinn_region *r); /* NULL is a no-op */
size_t twinn_region_bytes(const twinn_region *r);

typedef struct {
  twinn_region **heap;
  size_t n, cap;
  size_t bytes; /* memory held by the queued regions */
  unsigned long seq;
} twinn_queue;

/* Takes ownership of r (also on failure: then r is freed and TWINN_ERR_NOMEM returned). */
twinn_status twinn_queue_push(twinn_queue *q, twinn_region *r);
/* The region with the lowest margin (newest among equals), NULL when empty. */
twinn_region *twinn_queue_pop(twinn_queue *q);
/* Frees every queued region and the heap. */
void twinn_queue_release(twinn_queue *q);

#endif
