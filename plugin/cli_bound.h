/* cli_bound.h: what the files of `twinn bound` share (cli_bound.c parses, bounds by input
 * bisection and prints; cli_bound_verify.c asks the verifier). Not part of the engine library. */
#ifndef TWINN_CLI_BOUND_H
#define TWINN_CLI_BOUND_H

#include "net.h"
#include "quant.h"
#include "report.h"
#include "twinn.h"

/* The region as a list of boxes of f's inputs: box k at lo/hi + k * n_in, taken from disjunct
 * disjunct[k] of the query's disjunction (SIZE_MAX when there is none). */
typedef struct {
  size_t n_boxes;
  double *lo, *hi;
  size_t *disjunct;
} bound_region;

/* Whether f and g both decide class c (argmax, or argmin) on the whole region, by twinn_verify
 * within `seconds` (network by network, neuron branching on large inputs, which the margin
 * bounds' input bisection lacks). TWINN_VERDICT_UNSAT: they do; SAT: somewhere one does not;
 * UNKNOWN on any failure (the caller then keeps what the bounds said). */
twinn_verdict cli_bound_top1(const bound_region *r, const twinn_net *f, const twinn_net *g,
                             size_t c, int argmin, unsigned long seed, int threads, double seconds);

/* Inputs of more dimensions than this get the L-inf thresholds below after the bisection. */
#define CLI_BOUND_VERIFY_DIMS 16
/* Without --timeout, each question to the verifier gets this many seconds. */
#define CLI_BOUND_QUESTION_SECONDS 60.0
/* At most this many thresholds are tried per interval (L-inf, or one output). */
#define CLI_BOUND_MAX_TRIES 16

/* Narrows d's intervals (d from twinn_quant_union_diff_bounds over r, out_box its boxes) by
 * asking twinn_verify whether |g_i - f_i| exceeds a threshold t somewhere on the region, for t
 * between an interval's ends (geometric midpoints): first for all outputs at once (the L-inf
 * interval), then output by output, the widest relative gap first, each with a share of the
 * time left. An interval stops at opt's gap, at `deadline` (cli_now() clock; 0: none, each
 * question then gets CLI_BOUND_QUESTION_SECONDS) or after CLI_BOUND_MAX_TRIES. `unsat` proves
 * |g_i - f_i| <= t for the outputs asked: their upper ends drop to t. `sat` gives a point of
 * the region; its certified values (twinn_quant_diff_at) raise the lower ends they beat (the
 * point and out_box follow). Anything else only moves the next threshold up. *tries gets every
 * try in order (the caller frees it with twinn_free; NULL when none), *n_tries their count.
 * opt's progress callback (if any) shows the current try, and its root store (if any) serves
 * every question (twinn_options.roots). TWINN_ERR_NOMEM. */
twinn_status cli_bound_linf(twinn_quant_diff *d, size_t *out_box, const bound_region *r,
                            const twinn_net *f, const twinn_net *g, const twinn_quant_options *opt,
                            double start, double deadline, twinn_report_threshold **tries,
                            size_t *n_tries, twinn_error *err);

#endif
