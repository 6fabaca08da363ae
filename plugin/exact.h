/* exact.h: the exact maximum of a linear objective over the outputs of one network or of a
 * pair on a small input box, by branching on the phases of the ReLUs that the box leaves
 * undecided. Once every ReLU of both networks has a phase, the objective and every
 * pre-activation are affine in the input, so the maximum over the box and the phase constraints
 * is a linear program over the inputs alone. Each LP (GLPK's simplex) only PROPOSES: its bound
 * is the Lagrangian one, max over the box of objective + sum y_k constraint_k for the
 * multipliers y >= 0 it returns, concretised with outward rounding, which holds for any y; an
 * infeasible phase combination is dropped only when the same certificate over a phase-1 LP
 * proves it empty. Affine forms carry explicit rounding error bounds. The maximiser of the best
 * leaf is returned as a point for the caller to evaluate (its attained value is the caller's
 * to certify). For boxes where few ReLUs are undecided: the number of phase combinations grows
 * as 2^(undecided) at worst. Library code: never prints. */
#ifndef TWINN_EXACT_H
#define TWINN_EXACT_H

#include <stdatomic.h>

#include "net.h"

typedef struct twinn_exact twinn_exact;

/* Workspace for f, or for the pair (f, g) when g is not NULL: AFFINE / RELU chains, g
 * isomorphic to f. NULL if unsupported or out of memory. One workspace is used by one thread
 * at a time; it holds no GLPK object between calls. */
twinn_exact *twinn_exact_new(const twinn_net *f, const twinn_net *g);
void twinn_exact_free(twinn_exact *x); /* NULL is a no-op */

typedef struct {
  int complete;        /* 1: upper is proved; 0: the LP budget ran out first (upper unset) */
  double upper;        /* max of h over the box <= upper (valid only when complete) */
  const double *point; /* the best leaf's maximiser (n_in entries, in the box, owned by the
                          workspace, valid until the next call); NULL if no leaf was solved */
  double value;        /* the LP's value at point (a float estimate of h(point)) */
  unsigned long leaves, lps;
  unsigned long settled; /* questions settled without an LP (one constraint's certificate, or
                            known points on both sides of a phase); counted in lps too */
  unsigned long capped;  /* forms dropped below a node by their cap (twinn_exact_set_caps) */
} twinn_exact_result;

/* Fixes the phase of neuron `neuron` of ReLU layer `layer` (an index into net->layers) of
 * network `which` (0: f, 1: g) for the following searches: +1 restricts them to inputs where
 * its pre-activation is >= 0, -1 to <= 0 (a constraint of every path, where the box leaves the
 * phase open), 0 removes the restriction. The maxima then hold over the box intersected with
 * those sets. TWINN_ERR_USAGE on a bad index. */
twinn_status twinn_exact_fix(twinn_exact *x, int which, size_t layer, size_t neuron, int phase);
/* Removes every fixed phase. */
void twinn_exact_clear_fixes(twinn_exact *x);

/* Stop searches (complete = 0) once twinn_clock_now() passes t (<= 0, the default: never). */
void twinn_exact_set_deadline(twinn_exact *x, double t);
/* Stop searches as at the deadline once *flag (if not NULL; NULL, the default: no flag) is
 * nonzero; another thread may raise it. */
void twinn_exact_set_cancel(twinn_exact *x, const atomic_int *flag);

/* Caps for the next search only (twinn_exact_max / _max_many clear them): n_forms rows of
 * n_in + 1 (coefficients, then constant) with h_j(x) <= caps_j . x + caps_j[n_in] for every x of
 * that search's box, in real arithmetic (as twinn_sym_diff_upper_row gives). Where one
 * constraint of a path brings a form's cap to the floor or below, the search drops that form
 * below the path (counted as settled). Ignored with more than 8 forms; the array must live
 * until the search returns. */
void twinn_exact_set_caps(twinn_exact *x, const double *caps);

/* Maximises h(x) = c_f . f(x) + c_g . g(x) over the box [lo, hi] (n_in entries, lo <= hi,
 * finite); c_g must be NULL without g. Phase combinations whose proved bound is <= floor are
 * not refined further, and count as floor in res->upper (so upper = max(floor, the rest)).
 * Stops with complete = 0 after max_lps linear programs (or questions settled without one:
 * res->settled). TWINN_ERR_NOMEM, TWINN_ERR_INTERNAL (GLPK could not be initialised). */
twinn_status twinn_exact_max(twinn_exact *x, const double *c_f, const double *c_g, const double *lo,
                             const double *hi, double floor, unsigned long max_lps,
                             twinn_exact_result *res, twinn_error *err);

/* The maximum over the box of the largest of n_forms forms h_j = c_f[j] . f + c_g[j] . g (rows
 * of n_out coefficients: c_f + j n_out; c_g NULL or likewise): as twinn_exact_max for max_j h_j,
 * which is not linear, so each leaf of the phase search solves one LP per form. The forms share
 * the search's phase LPs (most of them: on acasxu_1_3 fp16 p3 about 5 of every 6 LPs of a
 * search for one form), so k forms cost far less than k searches. point: the maximiser of the
 * form whose LP value was largest. max_lps counts every LP. */
twinn_status twinn_exact_max_many(twinn_exact *x, size_t n_forms, const double *c_f,
                                  const double *c_g, const double *lo, const double *hi,
                                  double floor, unsigned long max_lps, twinn_exact_result *res,
                                  twinn_error *err);

#endif
