/* decompose.h: a property over several networks split into single-network properties.
 * The formula describes the unsafe set; it is refuted when each of its disjuncts is false
 * everywhere. A disjunct is a conjunction, so it is false wherever one of its constraints is:
 * proving that one constraint on a single network N never holds, for one constraint per
 * disjunct, proves the whole formula unsat. Grouping the disjuncts by the network of the
 * constraint chosen gives one property per network (the OR of its chosen constraints), each an
 * ordinary single-network problem: top-1 agreement of twins becomes "f keeps its class on the
 * region" (f_i >= f_c never holds, i != c) and "g keeps it", two robustness proofs whose branch
 * and bound trees add up instead of multiplying inside one joint tree.
 * The sub-properties are only sufficient: a sub-property that is sat says nothing about the
 * original, which must then be searched as a whole. Engine-internal (verify.c). */
#ifndef TWINN_DECOMPOSE_H
#define TWINN_DECOMPOSE_H

#include "prop.h"

/* One sub-property: `prop` shares prop's declarations and terms (borrowed) and owns its lins,
 * nodes and kids; `net` is the network it constrains, `n_disjuncts` how many disjuncts of the
 * original it refutes. */
typedef struct {
  twinn_prop prop;
  size_t net;
  size_t n_disjuncts;
} twinn_subprop;

/* Splits prop if it is a conjunction of input-only asserts and either one OR of disjuncts (each
 * a constraint or an AND of constraints) or constraints only (one disjunct), with at least two
 * networks declared. Each disjunct is represented by its single-network constraint (every term
 * an input or an output of one network) most violated at x (n_scalars: a point of the input
 * region with every network's outputs evaluated); the sub-property of network N is the input
 * asserts and the OR of the constraints chosen on N. Returns the number of
 * sub-properties written to *out (owned, release with twinn_subprops_free), 0 when prop has
 * another shape, a constraint reads hidden values, or some disjunct has no violated
 * single-network constraint at x; (size_t)-1 on out of memory. */
size_t twinn_decompose(const twinn_prop *prop, const double *x, twinn_subprop **out);

/* Splits prop by its disjuncts if it is a conjunction of input-only asserts and one OR of at
 * least two disjuncts (each a constraint or an AND of constraints): "some input meets some
 * disjunct" is refuted exactly when every disjunct alone is, and a disjunct's witness is one
 * of the whole. One sub-property per distinct disjunct (the input asserts and the disjunct;
 * disjuncts with the same constraints in the same order, twinn_prop_lin_dups, are one, its
 * n_disjuncts the copies; net is SIZE_MAX), in the order of first appearance. Each gets its own
 * branch and bound: a region of the whole formula closes only when every disjunct is refuted
 * on it, so the splits one disjunct needs multiply with the others' (mnist_256x2 int8 top-1
 * img1, network f: the OR of 9 robustness constraints times out at 120 s after 24 000
 * regions; each alone takes 27 to 805 regions, 9 s in all). Returns the count written to *out
 * (owned, twinn_subprops_free), 0 for another shape or fewer than two distinct disjuncts,
 * (size_t)-1 on out of memory. */
size_t twinn_split_disjuncts(const twinn_prop *prop, twinn_subprop **out);
void twinn_subprops_free(twinn_subprop *subs, size_t n);

#endif
