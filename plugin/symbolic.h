/* symbolic.h: symbolic (DeepPoly/CROWN back-substitution) bounds of one network, and
 * NeuroDiff-style symbolic bounds of the difference g - f of an isomorphic pair evaluated on
 * the SAME input. Every bound returned is sound for the real-valued networks despite float
 * rounding (see symbolic.c and symdiff.c). A twinn_sym is a per-thread workspace: distinct
 * objects may be used concurrently, one object never. Networks are borrowed and must outlive it.
 * Points: point k is the vector after layer k (0 = the input), as in interval.h. */
#ifndef TWINN_SYMBOLIC_H
#define TWINN_SYMBOLIC_H

#include <stdatomic.h>

#include "net.h"

typedef struct twinn_sym twinn_sym;

/* Which bounds an accessor returns. */
enum { TWINN_SYM_F = 0, TWINN_SYM_G = 1, TWINN_SYM_DIFF = 2 };

/* TWINN_OK if twinn_sym_new accepts (f, g): only AFFINE / RELU layers (else
 * TWINN_ERR_UNSUPPORTED), and g NULL or isomorphic to f (else TWINN_ERR_SEMANTIC). */
twinn_status twinn_sym_supported(const twinn_net *f, const twinn_net *g, twinn_error *err);
/* Workspace for network f, or for the pair (f, g) when g is not NULL. NULL when
 * twinn_sym_supported fails or on out of memory. */
twinn_sym *twinn_sym_new(const twinn_net *f, const twinn_net *g);
void twinn_sym_free(twinn_sym *s); /* NULL is a no-op */

/* Neuron split constraints, used by every later twinn_sym_analyse until cleared: restricts
 * the analysis to inputs where the pre-activation of neuron `neuron` of ReLU layer `layer`
 * (an index into net->layers) of network `which` (TWINN_SYM_F / TWINN_SYM_G) is >= 0
 * (phase +1) or <= 0 (phase -1); phase 0 removes the constraint. Bounds then hold for the box
 * intersected with all constraints. Splits of neurons right after the first affine layer are
 * half-spaces of the input, and every bound is concretised over the box intersected with them
 * (symhalf.c). TWINN_ERR_USAGE on a bad index. */
twinn_status twinn_sym_set_split(twinn_sym *s, int which, size_t layer, size_t neuron, int phase,
                                 twinn_error *err);
void twinn_sym_clear_splits(twinn_sym *s);

/* Analyses the input box [lo, hi] (n_in entries, lo <= hi, finite): bounds of every neuron of
 * f (and g), and of g - f at every point when g is given. Results stay in s until the next
 * call. TWINN_ERR_USAGE for an empty or non-finite box; TWINN_ERR_NOMEM never (memory is
 * allocated by twinn_sym_new). Bounds that overflow become infinite. */
twinn_status twinn_sym_analyse(twinn_sym *s, const double *lo, const double *hi, twinn_error *err);

/* 1 if the last analysis proved that no input of the box satisfies the split constraints
 * (then every bound is meaningless and the region can be discarded). */
int twinn_sym_infeasible(const twinn_sym *s);

/* After analyse: sound bounds [*lo, *hi] on  c_f . f(x) + c_g . g(x)  over the box (n_out
 * entries each; c_g may be NULL, and must be NULL without g). With g, the result is the
 * intersection of the difference form (c_f + c_g) . f + c_g . (g - f) and of separate bounds
 * on each network. Records the input sensitivities (twinn_sym_input_coef). */
twinn_status twinn_sym_bound_lin(twinn_sym *s, const double *c_f, const double *c_g, double *lo,
                                 double *hi, twinn_error *err);

/* Optimised lower ReLU slopes (alpha-CROWN style) for every later twinn_sym_bound_lin: with
 * steps > 0, after its usual bound, each end of the bound gets up to `steps` more rounds. A
 * round takes the box vertex where that end was last attained, evaluates f (and g) there and
 * gives each unstable ReLU (bounds straddling 0) the lower slope 0 or 1 that is exact at its
 * value there; the pair's difference relaxations follow. Any lower slope in [0, 1] is a valid
 * relaxation and the analysis' point bounds do not depend on it, so every round's bound is
 * sound and the tightest are returned: only the choice is heuristic. Rounds stop early when
 * the vertex repeats. Cost: up to 2 * steps extra bounds. 0 (the default) disables it. */
void twinn_sym_set_alpha_steps(twinn_sym *s, size_t steps);

/* Pair workspaces: whether twinn_sym_analyse may leave d = g - f with its interval bound at
 * neurons active in both networks while that interval is narrow (no back-substitution there),
 * relaxing h_d = d exactly at them. Sound either way; off by default. Measured (session 13):
 * on the p1 boxes of acasxu_fp16_eps `twinn verify` needs the same regions at about 10 % less
 * time per region, but `twinn bound` on acasxu_1_2 fp16 p1 ended 5 s with a 50x wider upper
 * end (0.43 against 0.008; not explained), so only the verifier turns it on. */
void twinn_sym_set_skip_active(twinn_sym *s, int on);

/* Pair workspaces: whether h_d = relu(f + d) - relu(f) takes its exact form where both
 * networks' neurons are stable (relu(z) is 0 or z in each, so h_d is a linear form in d and f),
 * instead of the better by concrete range of that form and the chords of d alone. The two
 * ranges tie there except for rounding (d's chord meets d at both ends of d's interval), so the
 * choice by range was decided by the last bit; the chord scales d's symbolic form down and
 * adds its interval back, which bounds better where that form is loose against the interval,
 * and worse elsewhere. Sound either way; off by default. Measured (session 22, `twinn bound`
 * on acasxu_1_2 fp16, one worker): p3 box L-inf gap at 30 s 24 % off, 0.35 % on; p1 box
 * upper end at 10 s 9.5e-5 off, 2.5e-3 on (the input splits then go elsewhere). */
void twinn_sym_set_stable_exact(twinn_sym *s, int on);

/* Pair workspaces: whether twinn_sym_bound_lin of a form with both f and g terms takes the
 * difference form's back-substitution alone, skipping each network's own (their sum) and the
 * product network's bound made from their rows. Those are taken only where tighter, which on
 * twins of one shape is rare: `twinn bound`'s forms g_j - f_j on acasxu fp16 boxes (15 s, one
 * worker), tighter upper ends 0 of 80 000 (3_4 p3), 20 of 120 000 (1_4 p1), 3 of 340 000
 * (3_6 p1), 3 064 of 280 000 (2_7 p1), while they cost two of the three back-substitutions.
 * Sound either way (each bound is sound alone); off by default. */
void twinn_sym_set_diff_only(twinn_sym *s, int on);

/* Dead ReLUs: bits (one per point entry, point order, twinn_sym_dead_bytes bytes) of the ReLU
 * inputs proved <= 0 in every network of s on a box that contains every box analysed next
 * (twinn_sym_dead_bits of an analysis of it). Later analyses clamp those pre-activations to
 * <= 0 and back-substitute no row for them: their ReLU outputs (and h_d) are 0 whatever their
 * bounds, which then come from the interval step alone. NULL (the default) removes them; the
 * array must live while it is set. Sound only while the boxes analysed lie in that box. */
void twinn_sym_set_dead(twinn_sym *s, const unsigned char *bits);
size_t twinn_sym_dead_bytes(const twinn_sym *s);
/* After analyse: the bits of the ReLU inputs it proved <= 0 in every network (the box's, with
 * its splits and priors), into bits (twinn_sym_dead_bytes). 0 (bits untouched) without a sound
 * analysis (none, infeasible, overflow). */
int twinn_sym_dead_bits(const twinn_sym *s, unsigned char *bits);
/* Active ReLUs: the same for ReLU inputs proved >= 0 in every network of s on a box that
 * contains every box analysed next (twinn_sym_active_bits of an analysis of it; bits of
 * twinn_sym_dead_bytes bytes). Later analyses clamp those pre-activations to >= 0, and a
 * pair's analysis back-substitutes no row of d = g - f for them where d's interval is narrow
 * against f's (symdiff.c): h_d = d exactly there, so d's bounds only feed the next interval
 * steps (f's rows, which the interval steps need far more, are still back-substituted). NULL
 * (the default) removes them; the array must live while it is set. Sound only while the
 * boxes analysed lie in that box. */
void twinn_sym_set_active(twinn_sym *s, const unsigned char *bits);
int twinn_sym_active_bits(const twinn_sym *s, unsigned char *bits);

/* Hull planes for the first ReLU layer (symand.c) in the sound bounds of twinn_sym_bound_opt(_many)
 * and twinn_sym_tighten: with rounds > 0 each such bound also relaxes every unstable neuron
 * right after the first affine layer by a plane of the convex hull of relu(w . x + b) over the
 * input box (its per-input slopes chosen in `rounds` rounds of Adam) where the bound needs an
 * upper relaxation of it, instead of its triangle, and keeps the tighter of the two bounds.
 * 0 (the default) disables it. Networks whose first layer would need over 128 MB of slopes
 * (4 doubles per weight), or whose scratch cannot be allocated, keep the triangles. */
void twinn_sym_set_anderson(twinn_sym *s, size_t rounds);

/* Optimised lower bound of  c . N(x)  (n_out entries) for network `which` (TWINN_SYM_F, or
 * TWINN_SYM_G of a pair) over the box and the split constraints of the last analysis: `iters`
 * rounds of projected gradient ascent choose the lower ReLU slopes of unstable neurons
 * (alpha-CROWN) and multipliers >= 0 of the split constraints (beta-CROWN), in plain float; the
 * bound is then recomputed soundly with the best of them (the intermediate bounds are the
 * analysis'). *lo is that sound bound (-INFINITY after an overflow or an infeasible analysis).
 * Also adds branching scores (twinn_sym_opt_scores). TWINN_ERR_NOMEM if its scratch cannot be
 * allocated (once per workspace). */
twinn_status twinn_sym_bound_opt(twinn_sym *s, int which, const double *c, size_t iters, double *lo,
                                 twinn_error *err);

/* twinn_sym_bound_opt for k objectives at once (rows of c, n_out entries each; bounds into
 * lo[0..k)): the optimisation's passes are then matrix products. off (k entries, may be NULL
 * for zeros): objective r counts as refuted when off[r] + lo[r] > 0, and its branching scores
 * are weighted by the gap -(off[r] + lo[r]) left (refuted ones add none). */
twinn_status twinn_sym_bound_opt_many(twinn_sym *s, int which, const double *c, const double *off,
                                      size_t k, size_t iters, double *lo, twinn_error *err);
/* The same for objectives on point `point` (c rows of its width; point n_layers is the
 * output): a hidden value's bound. TWINN_ERR_USAGE for a point past the output. */
twinn_status twinn_sym_bound_opt_at(twinn_sym *s, int which, size_t point, const double *c,
                                    const double *off, size_t k, size_t iters, double *lo,
                                    twinn_error *err);

/* Prior bounds of network `which` (TWINN_SYM_F / TWINN_SYM_G), one per entry of every point in
 * point order (the sum of all point widths), that every later analysis intersects with its own:
 * sound only while the analysed box (with its splits) lies inside the region they hold for.
 * NULL lo or hi removes them. TWINN_ERR_NOMEM, TWINN_ERR_USAGE (no such network). */
twinn_status twinn_sym_set_prior(twinn_sym *s, int which, const double *lo, const double *hi,
                                 twinn_error *err);
/* After an analysis of a box: optimised intermediate bounds (alpha-CROWN per neuron). Point by
 * point, every unstable neuron behind at least one ReLU gets its lower and upper bound optimised
 * over `iters` rounds and certified, and the box is analysed again with all bounds so far as
 * priors, so later points see the tighter relaxations. The result stays set as priors (see
 * twinn_sym_prior), valid for the box and any sub-box with the same or more splits. Stops
 * early (still sound) once twinn_clock_now() passes deadline (if > 0). */
twinn_status twinn_sym_tighten(twinn_sym *s, size_t iters, double deadline, twinn_error *err);
/* The same spread over n_ws workspaces of the same networks, each analysed on the same box
 * without splits (and with the same hull-plane setting): ws[0]'s bounds are the result, as
 * twinn_sym_tighten's would be (the objectives go to the workspaces in the same batches),
 * computed by n_ws threads (the calling one included). The others end with the bounds of the
 * last point they analysed. Once *cancel (if not NULL) is nonzero it stops as at the deadline:
 * another thread may raise it (a portfolio's other order decided). */
twinn_status twinn_sym_tighten_par(twinn_sym *const *ws, size_t n_ws, size_t iters, double deadline,
                                   const atomic_int *cancel, twinn_error *err);
/* The height -l u / (u - l) of the triangle relaxation of a ReLU whose input lies in [l, u]
 * (its upper line's value at 0): what the relaxation of an unstable neuron costs at most; 0 for
 * a stable one (l >= 0 or u <= 0). Ranks neurons to split (verify.c) or to refine (quant.c). */
static inline double twinn_relu_tri_height(double l, double u) {
  return l < 0.0 && u > 0.0 ? -l * u / (u - l) : 0.0;
}

/* After an analysis of a box: both ends of the pre-activations of n chosen ReLUs (ReLU input
 * point point[r], neuron neuron[r]) of every network of s optimised over `iters` rounds and
 * certified (twinn_sym_bound_opt_at), and, if any end moved (*moved = 1), every point's bounds
 * of the analysis, tightened there, set as the priors of f (and g): sound for the box and any
 * sub-box with the same or more splits, until removed (twinn_sym_set_prior with NULL) or
 * replaced. Nothing is set when no end moved (*moved = 0). TWINN_ERR_USAGE for a point that is
 * not a ReLU input or a neuron out of range; TWINN_ERR_NOMEM. */
twinn_status twinn_sym_refine_relus(twinn_sym *s, size_t n, const size_t *point,
                                    const size_t *neuron, size_t iters, int *moved,
                                    twinn_error *err);
/* The prior bounds of network `which` (lower, or upper when upper), NULL if none. */
const double *twinn_sym_prior(const twinn_sym *s, int which, int upper);
/* The entries of a network's prior bounds (the sum of its point widths). */
size_t twinn_sym_prior_len(const twinn_sym *s);

/* Per neuron of the ReLU input point `point` of network `which`: the sum over the objectives
 * of the twinn_sym_bound_opt(_many) calls since the last analysis of the neuron's coefficient
 * in the lower bound where negative (a hundredth of it where positive) times the triangle
 * height -l u / (u - l) of each unstable neuron (0 for others), times the objective's gap to
 * refutation (1 for twinn_sym_bound_opt): BaBSR's estimate of how much splitting it would
 * tighten those bounds (the intercept of the upper relaxation that the bound pays). NULL when
 * no bound_opt call for `which` ran since the last analysis (absent, which is not all 0). */
const double *twinn_sym_opt_scores(const twinn_sym *s, int which, size_t point);

/* Pair workspaces, for branching on neurons (BaBSR's weights): per neuron of every ReLU input
 * point, the magnitude of its output's coefficients (on h_d = relu(f + d) - relu(f), and on f's
 * own relu) in the back-substituted row of the upper end of the last twinn_sym_bound_lin's
 * difference form, when that form gave the upper end: what the relaxation of an unstable neuron
 * there is paid with (0 for a neuron inactive in both networks, whose relaxations are 0: the
 * back-substitution does not compute its coefficients). twinn_sym_keep_pair_weights adds them,
 * times weight, to a sum that every analysis clears; twinn_sym_pair_weights returns that sum at
 * `point`, NULL while nothing was kept since the analysis (or point is out of range). */
void twinn_sym_keep_pair_weights(twinn_sym *s, double weight);
const double *twinn_sym_pair_weights(const twinn_sym *s, size_t point);

/* Two single-network workspaces analysed over the same box, of networks that read the same
 * inputs (twins that are not isomorphic: a distilled twin of another shape): bounds [*lo, *hi]
 * over the box of  c_a . A(x) + c_b . B(x)  from both networks' linear forms (one plain
 * back-substitution each: no optimised slopes; the split half-spaces are not used, so the box
 * alone concretises the sum soundly) summed before the box is concretised (the product network:
 * where both depend alike on an input its coefficients cancel, which bounding each network
 * alone cannot see). The sum's rounding is covered by an error term: |fl(p + q) - (p + q)| <=
 * 2^-53 |fl(p + q)| per coefficient, times the box's largest |x_i|. a, b: 2 n_in entries of
 * scratch each; on return a holds the summed upper row (n_in input coefficients), then the
 * summed lower row. [-inf, +inf] if a form is missing (overflow, an infeasible analysis), a
 * workspace holds a pair, or the boxes or input counts differ. */
void twinn_sym_sum_bounds(twinn_sym *sa, const double *c_a, twinn_sym *sb, const double *c_b,
                          double *a, double *b, double *lo, double *hi);

/* Sensitivity of the last twinn_sym_bound_lin's upper bound to each input (n_in entries):
 * |a_i| * (hi_i - lo_i) for the final linear upper bound a . x + c over the box, i.e. how much
 * of the bound's slack input i accounts for. Owned by s; zeros before any bound_lin. */
const double *twinn_sym_input_coef(const twinn_sym *s);

/* After a twinn_sym_bound_lin with c_g (a pair): its difference form's upper row, n_in + 1
 * entries into row: c_f . f(x) + c_g . g(x) <= row . x + row[n_in] for every x of the box in
 * real arithmetic (the back-substitution's rounding is in row[n_in]; the caller bounds the
 * rounding of evaluating the row). Returns 0 (row untouched) if there is none: no pair form,
 * an infinite bound, or split constraints (valid only where they hold). */
int twinn_sym_diff_upper_row(const twinn_sym *s, double *row);

/* After analyse: bounds of the output of f, g or g - f (n_out entries, owned by s), NULL if
 * absent (no g). */
const double *twinn_sym_out_lo(const twinn_sym *s, int which);
const double *twinn_sym_out_hi(const twinn_sym *s, int which);

/* After analyse: bounds at point `point` (0..n_layers, width twinn_net_width_at) for hidden
 * variables and for choosing neurons to split; NULL if absent or point out of range. Neurons
 * before a ReLU that interval arithmetic already proves inactive keep that (sound, possibly
 * looser) bound; their ReLU outputs are exactly 0 either way. */
const double *twinn_sym_point_lo(const twinn_sym *s, int which, size_t point);
const double *twinn_sym_point_hi(const twinn_sym *s, int which, size_t point);

#endif
