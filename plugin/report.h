/* report.h: machine-readable results: a small streaming JSON writer (no JSON library), the
 * documents of `twinn verify --report` and `twinn bound --json` (schemas in
 * specs/report-schema.md), and an SVG plot of certified intervals (svg.c). Writers only format
 * what they are given; they never decide anything. Non-finite numbers are written as null. */
#ifndef TWINN_REPORT_H
#define TWINN_REPORT_H

#include <stdio.h>

#include "prop.h"
#include "quant.h"

#define TWINN_JSON_MAX_DEPTH 32
#define TWINN_REPORT_SCHEMA "twinn-report/1"
#define TWINN_BOUND_SCHEMA "twinn-bound/1"

/* Streaming writer: values are written in order; `key` is the member name inside an object
 * and must be NULL inside an array or at the top level. Misuse (depth, key where none is
 * allowed) and write errors are remembered and returned by twinn_json_finish. */
typedef struct {
  FILE *out;
  int depth;
  int n_items[TWINN_JSON_MAX_DEPTH]; /* values written so far at each depth */
  int in_object[TWINN_JSON_MAX_DEPTH];
  int failed;
} twinn_json;

void twinn_json_init(twinn_json *j, FILE *out);
void twinn_json_begin_object(twinn_json *j, const char *key);
void twinn_json_end_object(twinn_json *j);
void twinn_json_begin_array(twinn_json *j, const char *key);
void twinn_json_end_array(twinn_json *j);
/* A string, escaped (quotes, backslash, control characters; invalid UTF-8 becomes U+FFFD).
 * s NULL writes null. */
void twinn_json_string(twinn_json *j, const char *key, const char *s);
/* A number with 17 significant digits (reads back to the same double); null if not finite. */
void twinn_json_number(twinn_json *j, const char *key, double v);
void twinn_json_uint(twinn_json *j, const char *key, unsigned long v);
void twinn_json_bool(twinn_json *j, const char *key, int v);
void twinn_json_null(twinn_json *j, const char *key);
void twinn_json_numbers(twinn_json *j, const char *key, const double *v, size_t n);
/* Ends the document (a newline); TWINN_ERR_IO on a write error, TWINN_ERR_INTERNAL when the
 * calls did not form one complete value. */
twinn_status twinn_json_finish(twinn_json *j, twinn_error *err);

/* What `twinn verify --report` records. Strings may be NULL (written as null). */
typedef struct {
  const char *query;
  size_t n_nets;
  const char *const *net_names; /* n_nets entries, may hold NULL */
  const char *const *net_paths;
  const char *verdict;    /* "sat", "unsat", "unknown", "timed-out", or "error" */
  const char *reason;     /* unknown / timed-out / error: why */
  const twinn_prop *prop; /* for the witness' variable names; may be NULL */
  const double *witness;  /* sat: prop->n_scalars values, else NULL */
  double bound;           /* the last bound on the violation reported by the engine (NaN: none) */
  unsigned long branches, open;
  double t_parse, t_load, t_verify, t_total; /* seconds per phase */
  unsigned long seed;
  double timeout; /* 0 = none */
  int threads;
  /* What else decides a run's course (cli.h): the engine, and the search's settings as used
   * (opt_rounds, exact_relus: 0 = none, else the count, defaults resolved). */
  int engine_milp, neuron_split, no_decompose;
  unsigned long opt_rounds, exact_relus;
} twinn_report_verify;

twinn_status twinn_report_write_verify(FILE *out, const twinn_report_verify *r, twinn_error *err);

/* One question put to the verifier by `twinn bound` (difference mode, many inputs): is
 * max_i |g_i - f_i| <= threshold on the region (output SIZE_MAX), or |g_o - f_o| <= threshold
 * for the one output o? verdict: "unsat" (proved), "sat" (refuted), "unknown" or
 * "timed-out"; bound: after a timeout, the upper end its search certified for the outputs
 * asked (threshold - twinn_result.open_margin, rounded up), else NAN. */
typedef struct {
  size_t output;
  double threshold;
  const char *verdict;
  double seconds;
  unsigned long branches;
  double bound;
} twinn_report_threshold;

/* Context of a `twinn bound` run, written with its result. */
typedef struct {
  const char *f_path, *g_path;
  const char *region_source; /* the VNN-LIB file, or "--box" */
  const double *lo, *hi;     /* the region, n_in entries (a union of boxes: their hull) */
  const twinn_quant_options *opt;
  /* A region that is a union of boxes (a VNN-LIB disjunction); n_boxes 0 means the one box
   * lo, hi. Box k is box_lo/box_hi + k * n_in; box_disjunct[k] is its position in the
   * disjunction (NULL: none). point_box gives the box of each bound's point: difference mode
   * n_out entries, margin mode 5 (max_g_minus_f, max_f_minus_g, max_neg_margin_f,
   * max_neg_margin_g, witness); NULL: all in box 0. */
  size_t n_boxes;
  const double *box_lo, *box_hi;
  const size_t *box_disjunct;
  const size_t *point_box;
  /* Difference mode: the verifier's thresholds, in the order tried (n_thresholds may be 0). */
  size_t n_thresholds;
  const twinn_report_threshold *thresholds;
} twinn_report_bound_ctx;

twinn_status twinn_report_write_diff(FILE *out, const twinn_report_bound_ctx *ctx,
                                     const twinn_quant_diff *res, twinn_error *err);
twinn_status twinn_report_write_margin(FILE *out, const twinn_report_bound_ctx *ctx,
                                       const twinn_quant_margin *res, twinn_error *err);

/* An SVG bar chart (svg.c): for each of n items, a bar from lower[i] to upper[i] (the
 * certified interval) and a dot at value[i] (the attained value), with labels[i] under it and
 * the title on top. Non-finite ends are drawn clipped to the plot with an arrow mark. */
twinn_status twinn_svg_write_intervals(FILE *out, const char *title, size_t n,
                                       const char *const *labels, const double *lower,
                                       const double *upper, const double *value, twinn_error *err);

#endif
