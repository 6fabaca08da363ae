/* helpers.h: code shared by the unit tests (linked into every test_*.c executable): the seeded
 * splitmix64 generator, the random ReLU/smooth chain builders, the MILP mode's verdicts and the
 * shared ACAS Xu fp16 twins.
 * Deterministic: the sequence depends only on what the test stores in twinn_test_rng_state. Fails
 * the running cmocka test on out of memory; never used by library code. */
#ifndef TWINN_TESTS_HELPERS_H
#define TWINN_TESTS_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "prop.h"
#include "twinn.h"

/* The generator's state: a test sets it to its seed before drawing. */
extern uint64_t twinn_test_rng_state;
/* splitmix64, uniform in [0, 1) with 53 random bits. */
double twinn_test_urand(void);

/* A random chain n_in -> widths[0] -> ... -> widths[depth-1]: affine layers with weights in
 * [-1, 1) and biases in [-0.5, 0.5), activation `act` between them (none after the last). If
 * base is given (same widths), copies its weights plus uniform noise of size `noise`. Owned by
 * the caller (twinn_net_free). */
twinn_net *twinn_test_random_net(size_t n_in, const size_t *widths, size_t depth,
                                 twinn_layer_kind act, const twinn_net *base, double noise);

/* The property of a VNN-LIB text (named "test.vnnlib" in messages); fails the running test with
 * the parser's message if it does not parse. Owned by the caller (twinn_prop_free). */
twinn_prop *twinn_test_parse(const char *text);

/* The exact MILP mode's verdict (twinn_milp_verify, 60 s at most) on prop for f (and g when not
 * NULL), bound as networks "f" and "g". */
twinn_verdict twinn_test_milp_verdict(const twinn_prop *prop, const twinn_net *f,
                                      const twinn_net *g);

/* A "distilled" twin of f (a chain affine, act, affine, act, affine ...): the same layers with
 * `extra` more neurons in the first hidden layer (small outgoing weights), every shared weight
 * and bias moved by up to `noise`: not isomorphic to f, close to it. Owned by the caller. */
twinn_net *twinn_test_widened_twin(const twinn_net *f, size_t extra, double noise);

/* A "distilled" twin of f (the same kind of chain) with no neuron of f's: every first-layer
 * neuron relu(z) becomes relu(a z) + relu((1 - a) z), a in [0.3, 0.7] (the next layer reads
 * both), every weight and bias then moved by up to `noise`: nearly f's function, on neurons
 * that align.h cannot match. Owned by the caller. */
twinn_net *twinn_test_split_twin(const twinn_net *f, double noise);

/* ACAS Xu network N (e.g. "2_7") and its fp16 twin from ../shared/benchmarks/onnx, or skips the
 * running test (both NULL) when they cannot be loaded. Owned by the caller. */
void twinn_test_acas_fp16_pair(const char *n, twinn_net **f, twinn_net **g);

#endif
