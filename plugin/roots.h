/* roots.h: the store behind twinn_roots (twinn.h): a network's intermediate bounds over an
 * input box, kept between verifier runs on the same box so that later runs skip the root's
 * optimisation. Entries are keyed by the network (pointer) and the box (exact doubles): the
 * bounds hold for that box, nothing is guessed for others. Not thread-safe. */
#ifndef TWINN_ROOTS_H
#define TWINN_ROOTS_H

#include "net.h"
#include "twinn.h"

/* The kept bounds of `net` over exactly [lo, hi] (net->n_in entries each): lower ends, or upper
 * ends when upper; NULL when there are none. Valid until the next twinn_roots_keep. */
const double *twinn_roots_find(const twinn_roots *r, const twinn_net *net, const double *lo,
                               const double *hi, int upper);

/* Keeps bounds [blo, bhi] (n entries) of `net` over [lo, hi]: intersected with those already
 * kept for the same network and box (both hold there), else in a new entry (the oldest of a
 * full store is dropped). TWINN_ERR_NOMEM (the store is then unchanged). */
twinn_status twinn_roots_keep(twinn_roots *r, const twinn_net *net, const double *lo,
                              const double *hi, const double *blo, const double *bhi, size_t n);

#endif
