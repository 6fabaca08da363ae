/* align.h: twins of different widths made isomorphic, so that the differential analysis (g - f
 * bounded directly, symbolic.h) applies to them. Structured pruning removes whole neurons; a
 * widened or partly retrained twin adds some: most of g's neurons are still f's, with nearly the
 * same incoming weights. Each hidden neuron of g is matched to the neuron of f with the nearest
 * incoming weights, and both networks are rebuilt over the union of their neurons (f's in f's
 * order, then g's unmatched ones). A neuron one network lacks is added to it with the other's
 * incoming weights and zero outgoing weights, so each rebuilt network computes exactly the
 * function of the original in real arithmetic (f's rebuilt sums are the same even in floating
 * point: the added terms are +0, at the end). The analysis of the pair then sees, where g lacks a
 * neuron of f, the difference -W_f[:, j] relu(z_j) of that neuron's contribution alone.
 * Library code: never prints. */
#ifndef TWINN_ALIGN_H
#define TWINN_ALIGN_H

#include "net.h"

/* Neurons match when the distance of their incoming weights and bias (over the aligned neurons
 * of the previous layer) is at most this fraction of the larger row's norm. Unrelated neurons
 * of two trained networks lie near sqrt(2) apart; a pruned and fine-tuned neuron far below. */
#define TWINN_ALIGN_TOL 0.25
/* ... and the pair is aligned only when every hidden layer matches at least this fraction of its
 * narrower network's neurons (else the union would be wide for little shared structure). */
#define TWINN_ALIGN_MIN_MATCHED 0.5

/* For f and g with the same layer kinds in the same order (AFFINE and elementwise activations),
 * the same numbers of inputs and outputs, that are not isomorphic: *fa and *ga (owned by the
 * caller) are the rebuilt, isomorphic networks, and *matched (may be NULL) the hidden neurons
 * matched over all layers. TWINN_ERR_UNSUPPORTED (nothing allocated, *fa = *ga = NULL) when
 * the shapes do not allow it or too few neurons match; TWINN_ERR_NOMEM. */
twinn_status twinn_net_align(const twinn_net *f, const twinn_net *g, twinn_net **fa, twinn_net **ga,
                             size_t *matched, twinn_error *err);

/* Whether the aligned pair (fa, ga of f, g) is worth using over the box [lo, hi] (f->n_in
 * entries): 1 if its analysis bounds the g_i - f_i at least as tightly in sum as the product
 * network of f and g does (each network alone, their linear forms summed: symbolic.h
 * twinn_sym_sum_bounds). The pair's analysis derives g's intermediate bounds from f's and the
 * difference's, which is what makes it tight when the twins differ by little; where they are
 * far apart (a pruned twin that was not fine-tuned) the product is the tighter. 0 on out of
 * memory or when an analysis fails. */
int twinn_align_pays(const twinn_net *f, const twinn_net *g, const twinn_net *fa,
                     const twinn_net *ga, const double *lo, const double *hi);

/* twinn_net_align, kept only where twinn_align_pays over [lo, hi] (else TWINN_ERR_UNSUPPORTED,
 * nothing allocated): what the analyses call for twins that are not isomorphic. */
twinn_status twinn_net_align_for(const twinn_net *f, const twinn_net *g, const double *lo,
                                 const double *hi, twinn_net **fa, twinn_net **ga, size_t *matched,
                                 twinn_error *err);

#endif
