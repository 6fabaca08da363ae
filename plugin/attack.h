/* attack.h: counterexample search over a box of the search space (space.h): random points
 * and signed projected-gradient steps on a smooth violation of the formula. A point becomes a
 * witness only after twinn_attack_check replays it (float32 inputs inside the box, the formula
 * under double evaluation AND under float32 evaluation of every network). */
#ifndef TWINN_ATTACK_H
#define TWINN_ATTACK_H

#include "space.h"
#include "twinn.h"

typedef struct twinn_attack twinn_attack;

/* Scratch for forward / backward passes over pb in space sp (both borrowed, must outlive it).
 * NULL on out of memory. */
twinn_attack *twinn_attack_new(const twinn_problem *pb, const twinn_space *sp);
void twinn_attack_free(twinn_attack *a);

/* The violation at point p (n_free values; 0 where the formula holds with a small margin on
 * strict and non-strict comparisons) and, if grad != NULL, its gradient with respect to p. */
double twinn_attack_violation(twinn_attack *a, const double *p, double *grad);

/* Replays p as a witness: rounds each coordinate to a float32 inside [lo, hi] and checks the
 * formula. On success *ok = 1 and witness (n_scalars) holds the full assignment. */
twinn_status twinn_attack_check(twinn_attack *a, const double *lo, const double *hi,
                                const double *p, double *witness, int *ok);

/* Flags of twinn_attack_run. */
enum {
  TWINN_ATTACK_REFINE = 1u,   /* in spaces of at most 16 dimensions, a pattern search down to
                                 steps of 2^-24 of the box replaces the gradient steps (a few
                                 hundred evaluations: for whole-box searches, not every region) */
  TWINN_ATTACK_NO_CENTRE = 2u /* the first start is random too (the centre was tried before) */
};

/* Searches [lo, hi]: `restarts` starts (the first at the centre unless TWINN_ATTACK_NO_CENTRE)
 * of `steps` signed gradient steps each, until twinn_clock_now() passes deadline (<= 0: none).
 * *rng is the generator state (advanced). *found = 1 with witness filled when a replayed
 * witness is found. */
twinn_status twinn_attack_run(twinn_attack *a, const double *lo, const double *hi,
                              unsigned restarts, unsigned steps, unsigned flags, uint64_t *rng,
                              double deadline, double *witness, int *found);

/* Uniform double in [0, 1) from a splitmix64 state. */
double twinn_rand_unit(uint64_t *state);

#endif
