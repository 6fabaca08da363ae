/* twinn.h: the C API of the twinn engine, what the CLI and other frameworks link against.
 * The engine sees only the IR (net.h, prop.h): callers load networks and properties with the
 * front ends (onnx/onnx.h, parser/vnnlib.h), bind them into a problem, and verify.
 * Verdicts are sound: UNSAT only from bounds computed with outward rounding; SAT only with a
 * witness re-checked by concrete evaluation of every network. */
#ifndef TWINN_H
#define TWINN_H

#include "common.h"
#include "net.h"
#include "prop.h"

#define TWINN_VERSION "0.1.0"

/* A property bound to concrete networks: nets[i] is the network of prop->nets[i] (an
 * equal-to network points at the same twinn_net as its target). Borrowed pointers. */
typedef struct {
  const twinn_prop *prop;
  size_t n_nets;
  const twinn_net **nets; /* owned array of borrowed pointers */
} twinn_problem;

/* Binds networks given by name (the CLI's --network NAME=PATH, in order) to the property's
 * declared networks and checks them: one network per declared network without equal-to, no
 * unknown or extra name, declared variable shapes against the model ([5] matches [1,1,1,5]:
 * element counts must agree), element types (real matches any), hidden node names exist.
 * For a VNN-LIB 1.0 query exactly one network is expected, under any name (names[0] may be
 * NULL). On success pb holds an owned array; release with twinn_problem_release. */
twinn_status twinn_problem_bind(twinn_problem *pb, const twinn_prop *prop, size_t n_given,
                                const char *const *names, const twinn_net *const *nets,
                                twinn_error *err);
void twinn_problem_release(twinn_problem *pb);

/* Fills x (prop->n_scalars) from the inputs already in x: evaluates every network on its
 * input variable and writes hidden and output variables. */
twinn_status twinn_problem_complete(const twinn_problem *pb, double *x);

typedef enum {
  TWINN_VERDICT_UNKNOWN = 0,
  TWINN_VERDICT_SAT,
  TWINN_VERDICT_UNSAT,
  TWINN_VERDICT_TIMEOUT
} twinn_verdict;

/* A snapshot passed to the progress callback, at most a few times per second. */
typedef struct {
  double elapsed;         /* seconds since the start of twinn_verify */
  unsigned long branches; /* regions analysed */
  unsigned long open;     /* regions still queued */
  double bound;           /* the current worst bound on the violation (NAN if none yet) */
} twinn_progress;

/* Root bounds kept between twinn_verify calls (twinn_options.roots): where a run optimises the
 * intermediate bounds of its networks over its input box before branching on neurons (inputs
 * of many dimensions), it keeps them here, and a later run over the same networks (the same
 * twinn_net objects) and exactly the same box takes them instead of optimising again; the
 * questions of `twinn bound` about one region differ only in their thresholds. Bounds that
 * hold for the box are sound for any property over it. One run at a time per store. */
typedef struct twinn_roots twinn_roots;
twinn_roots *twinn_roots_new(void); /* NULL on out of memory */
void twinn_roots_free(twinn_roots *r);

typedef struct {
  double timeout;     /* seconds of wall time; <= 0 means none */
  unsigned long seed; /* random seed (counterexample search); runs are deterministic */
  int threads;        /* worker threads; <= 0 = all cores */
  int verbose;        /* 0 quiet, 1 phase summaries (through the log callback) */
  int neuron_split;   /* 1: branch on unstable ReLU neurons before inputs; 0 (default):
                         the same for inputs of over 64 dimensions; for 17 to 64 with two or
                         more threads, both orders at once (half the threads each, the first
                         verdict stops the other); else inputs first and neurons only once a
                         box can no longer be halved */
  int no_decompose;   /* 1: never split a property into sub-problems first (single-network
                         ones, or one per disjunct; twinn_verify tries both by default) */
  int opt_rounds;     /* rounds of optimised ReLU slopes and split multipliers (alpha/beta-CROWN)
                         per undecided single-network constraint of a region: 0 = the default
                         (TWINN_OPT_ROUNDS), < 0 = none */
  int exact_relus;    /* a region of over 16 input dimensions whose bounds leave at most this
                         many ReLUs undecided is decided by exact LPs over their phases:
                         0 = the default (TWINN_EXACT_RELUS), < 0 = never */
  int no_attack;      /* 1: no counterexample search; sat then comes only from regions the
                         bounds show violated throughout (their centre, replayed) and from
                         the exact searches' points: what the bounds decide alone (tests) */
  void (*progress)(void *ctx, const twinn_progress *p); /* may be NULL */
  void *progress_ctx;
  twinn_roots *roots; /* may be NULL (none kept) */
} twinn_options;

#define TWINN_OPT_ROUNDS 20
#define TWINN_EXACT_RELUS 8

/* Defaults: no timeout, seed 1, all cores, no callbacks. */
void twinn_options_init(twinn_options *opt);

typedef struct {
  twinn_verdict verdict;
  double *witness;        /* SAT: prop->n_scalars values (inputs, hidden, outputs); owned */
  char reason[256];       /* UNKNOWN / TIMEOUT: why, for the user */
  unsigned long branches; /* regions analysed */
  unsigned long open;     /* regions left open at the end */
  double seconds;         /* wall time */
  /* TIMEOUT of the search proper: the least margin of the regions left open, certified (-inf
   * while some region has none yet). For a formula that is, beside its input asserts (true
   * on every region, so they lend no margin), one linear constraint or an `or` of them, each
   * read as  e_k <= 0  or  e_k < 0  (what would make it true: `(> a b)` is  b - a < 0), a
   * region's margin is a lower bound of every e_k over it (> 0 proves it); so every
   * e_k >= open_margin on the whole box. For  (> Y_g[i] (+ Y_f[i] t))  that is
   * g_i - f_i <= t - open_margin. NAN when not known (another verdict, a region left
   * undecided, or a verdict from the sub-problem stages). */
  double open_margin;
} twinn_result;

/* Decides the problem. Returns TWINN_OK with res filled for any verdict (timeouts included);
 * a non-OK status (out of memory, internal error) means no verdict at all. */
twinn_status twinn_verify(const twinn_problem *pb, const twinn_options *opt, twinn_result *res,
                          twinn_error *err);
void twinn_result_release(twinn_result *res);
const char *twinn_verdict_name(twinn_verdict v); /* "sat", "unsat", "unknown", "timed-out" */

#endif
