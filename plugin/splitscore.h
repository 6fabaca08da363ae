/* splitscore.h: relaxation-aware scores for bisecting an input, from one symbolic analysis.
 *
 * The symbolic sensitivity of a bound (twinn_sym_input_coef: |a_i| * width_i of its final linear
 * form) says how much halving input i shrinks the linear part of the bound. Much of what a split
 * gains on ReLU networks comes from elsewhere: the halves' ReLU relaxations are tighter, because
 * each unstable neuron's range shrinks and some neurons become stable. This module estimates that
 * second part for every input, per constraint:
 *
 *   gain_i = sum over unstable neurons j of  |lambda_j| * slack_j * phi_ji,
 *
 * lambda_j being the constraint's coefficient on neuron j's ReLU output (a backward pass with
 * the chord slopes of the relaxation), slack_j the relaxation's slack at j (the triangle's height
 * -l u / (u - l) in one network; at a neuron of a pair where either twin is unstable, half the
 * largest |g - f|: relu(z + d) - relu(z) is a step of height d in z), and phi_ji the fraction of
 * the triangle's height that halving input i removes on average over the two halves, with neuron
 * j's range [l, u] shrinking by the share of input i in its width (a forward pass of the input
 * widths with the same slopes).
 *
 * Heuristic only: it steers the branching, never a bound, so it works in plain float. Needs only
 * the networks and the analysis' bounds (symbolic.h); AFFINE and RELU layers. */
#ifndef TWINN_SPLITSCORE_H
#define TWINN_SPLITSCORE_H

#include <stddef.h>

#include "net.h"
#include "symbolic.h"

/* The weight that balances the gains against twinn_sym_input_coef's sensitivities when both are
 * added into one score. Regions to unsat over the 45 p1 boxes of acasxu_fp16_eps (twinn verify,
 * one thread): 64 185 without the gains; 47 463 / 45 293 / 46 197 / 48 947 / 50 959 / 52 479 at
 * weights 0.003 / 0.01 / 0.03 / 0.1 / 0.3 / 1 (pair slack from the width of g - f; with the
 * largest |g - f|, kept: 45 515 at 0.01). The gains sum every unstable neuron's slack, far more
 * than a bound's actual slack, so a small weight balances the two. */
#define TWINN_SPLITSCORE_WEIGHT 0.01

typedef struct twinn_splitscore twinn_splitscore;

/* Scratch for network f, or for the pair (f, g) (g NULL for one network; isomorphic to f, as
 * for twinn_sym_new). NULL on out of memory. */
twinn_splitscore *twinn_splitscore_new(const twinn_net *f, const twinn_net *g);
void twinn_splitscore_free(twinn_splitscore *x);

/* The forward pass over the last analysis of s (made with x's networks) of a box whose input
 * widths are width (f->n_in entries). Returns 0 if the analysis has no bounds to use. */
int twinn_splitscore_prepare(twinn_splitscore *x, const twinn_sym *s, const double *width);

/* Relaxation gains of nr constraints after twinn_splitscore_prepare: row r of c_f (nr x f's
 * n_out) holds constraint r's coefficients on f's outputs (for a pair: c_f + c_g, the f part of
 * (c_f + c_g) . f + c_g . (g - f)), row r of c_g (nr x n_out, NULL for one network) those on g.
 * Writes gain (nr x n_in), in the units of the constraints. Returns 0 on out of memory. */
int twinn_splitscore_gains(twinn_splitscore *x, size_t nr, const double *c_f, const double *c_g,
                           double *gain);

#endif
