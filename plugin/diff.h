/* diff.h: ReluDiff-style forward bounds on the difference d = g - f of two isomorphic networks
 * evaluated on the SAME input, point by point (layer k of g pairs with layer k of f).
 * Needs each network's own interval bounds over the same box (interval.h). */
#ifndef TWINN_DIFF_H
#define TWINN_DIFF_H

#include "interval.h"

/* Fills d (shaped like f, via twinn_ibounds_init) with enclosures of g_k(x) - f_k(x) at every
 * point k for all x in the box that bf and bg were computed over. f and g must satisfy
 * twinn_net_isomorphic. Each bound is intersected with the plain [g.lo - f.hi, g.hi - f.lo]. */
void twinn_diff_propagate(const twinn_net *f, const twinn_net *g, const twinn_ibounds *bf,
                          const twinn_ibounds *bg, twinn_ibounds *d);

#endif
