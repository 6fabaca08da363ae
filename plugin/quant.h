/* quant.h: quantitative analysis of a twin pair (f, g) over an input box: certified intervals
 * [lower, upper] on the largest output difference max |g_i(x) - f_i(x)| and on the change of a
 * classifier's decision margin, by branch and bound over input bisection. Invariant of every
 * twinn_quant_bound: `upper` is PROVED (symbolic bounds with rounding error terms) and `lower`
 * is ATTAINED: the exact objective at `point` (a point of the box) is >= lower, certified by an
 * outward-rounded enclosure at that point. Library code: never prints, never exits. */
#ifndef TWINN_QUANT_H
#define TWINN_QUANT_H

#include "net.h"
#include "twinn.h"

/* A snapshot for the progress callback (at most a few times per second). */
typedef struct {
  double elapsed;         /* seconds since the start of the call */
  unsigned long branches; /* boxes analysed so far, all objectives */
  const char *target;     /* what is being refined: "output 3", "margin max", ... */
  double lower, upper;    /* the current interval of that target */
} twinn_quant_progress;

typedef struct {
  double timeout; /* seconds of wall time for the whole call; <= 0 means none */
  double gap;     /* stop refining a target when upper - lower <= gap * |upper| (default 1e-3) */
  double abs_gap; /* ... or when upper - lower <= abs_gap (default 1e-9) */
  unsigned long seed;
  size_t max_open; /* most boxes queued at once per target (0 = from a 256 MB budget shared by
                      all workers) */
  void (*progress)(void *ctx, const twinn_quant_progress *p); /* may be NULL; calls are
                      serialised (never concurrent) and come from any worker thread */
  void *progress_ctx;
  /* Worker threads (<= 0 = all cores, the default; never more than two per target). Each
   * target's search has its own state and generator seeded from (seed, target); it may stop and
   * go on later on any worker without a trace, and a worker with no target to take helps a
   * running one by bounding halves of its rounds (a round halves its top QUANT_ROUND boxes; each
   * half is bounded from the state the round began with). So with the same seed, when no
   * deadline and no queue limit stops a target, every interval and point is the same for any
   * thread count. Which target runs: twinn_quant_diff_bounds favours the L-inf interval (the
   * largest upper end first; a target whose upper end is at most the largest value attained by
   * any target waits until no other needs a worker); twinn_quant_margin_bounds shares the time
   * out as targets start (the time left divided by the number of targets the worker is expected
   * to run back to back; a target whose share ends is resumed if time is left). With several
   * workers OpenBLAS is set to one thread for the call (each worker already keeps a core busy). */
  int threads;
  /* May be NULL. Where the call optimises the root box's intermediate bounds (inputs of many
   * dimensions), it keeps them here for twinn_verify runs over the same box (twinn.h
   * twinn_roots); `twinn bound` hands them to its verifier questions. */
  twinn_roots *roots;
} twinn_quant_options;

void twinn_quant_options_init(twinn_quant_options *opt);

/* How f and g are bounded together: an isomorphic pair through g - f (symbolic.h); twins of
 * different widths that share most neurons (structured pruning) rebuilt as an isomorphic pair
 * computing the same functions (align.h), then the same; other twins (a distilled g of
 * another shape) through the product network (both networks' linear forms summed, without the
 * exact phase search of small boxes). */
typedef enum {
  TWINN_PAIRING_ISOMORPHIC = 0,
  TWINN_PAIRING_ALIGNED,
  TWINN_PAIRING_PRODUCT
} twinn_pairing;

/* 1 if [lower, upper] reached opt's gap target: upper - lower <= abs_gap or <= gap * |upper|. */
int twinn_quant_gap_closed(const twinn_quant_options *opt, double lower, double upper);

/* "isomorphic", "aligned", "product". */
const char *twinn_pairing_name(twinn_pairing p);

/* The interval reached for one objective h (maximised over the box). */
typedef struct {
  double lower;  /* attained: h(point) >= lower exactly (real arithmetic) */
  double value;  /* h(point) evaluated in double (twinn_net_eval) */
  double upper;  /* proved: h(x) <= upper for every x in the box */
  double *point; /* n_in entries inside the box, owned */
  int closed;    /* 1 if the gap target was reached */
  unsigned long branches;
  unsigned long refined; /* of branches: boxes analysed again with optimised ReLU bounds */
  double seconds;
} twinn_quant_bound;

/* Per output i: h = |g_i - f_i|. L-inf: max over i (lower/upper are the max of the lowers /
 * uppers, which keeps both guarantees). */
typedef struct {
  size_t n_in, n_out;
  twinn_quant_bound *out; /* n_out, owned */
  double linf_lower, linf_upper;
  size_t linf_arg; /* the output whose lower is linf_lower */
  unsigned long branches;
  unsigned long helped; /* of branches: boxes bounded by a helping worker (varies by run) */
  double seconds;
  int timed_out;   /* the deadline stopped some refinement (some output is open) */
  int linf_closed; /* the L-inf interval reached the gap target (outputs may still be open) */
  /* The L-inf maximum (inputs of at most 16 dimensions, 2 to 32 outputs, f and g bounded
   * together): the first part of the joint search below, while the L-inf interval was its focus
   * (until that interval closed; all of it if it never did): linf_searched is 1 if that search
   * ran, and that part's boxes and seconds (included in branches and seconds, in no output's). */
  int linf_searched;
  unsigned long linf_branches;
  double linf_seconds;
  /* The joint search: one search for every output's own maximum at once (each box bounds all
   * outputs' forms still above their best values), the L-inf interval its first focus:
   * outs_searched is 1 if it ran, and its boxes and seconds after that part (likewise in
   * branches and seconds, in no output's; outs_refined counts the whole search's). Outputs it
   * leaves open get a search of their own with the time left. */
  int outs_searched;
  unsigned long outs_branches, outs_refined; /* refined: as twinn_quant_bound's */
  double outs_seconds;
  twinn_pairing pairing;
  size_t matched; /* TWINN_PAIRING_ALIGNED: hidden neurons of g matched to f's */
} twinn_quant_diff;

/* Bounds of |g_i - f_i| for every output over the box [lo, hi] (f->n_in entries, finite,
 * lo <= hi). f and g must be AFFINE/RELU chains (TWINN_ERR_UNSUPPORTED otherwise) with the same
 * numbers of inputs and outputs (TWINN_ERR_SEMANTIC otherwise), bounded together as
 * res->pairing says (twinn_pairing). On
 * success res is filled (release with twinn_quant_diff_release), also when the deadline stopped
 * refinement. */
twinn_status twinn_quant_diff_bounds(const twinn_net *f, const twinn_net *g, const double *lo,
                                     const double *hi, const twinn_quant_options *opt,
                                     twinn_quant_diff *res, twinn_error *err);
void twinn_quant_diff_release(twinn_quant_diff *res);

typedef enum {
  TWINN_TOP1_UNKNOWN = 0, /* neither proved nor refuted in time */
  TWINN_TOP1_AGREE,       /* proved: f and g both decide `cls` at every point of the box */
  TWINN_TOP1_DISAGREE     /* refuted: at `witness` f and g certainly decide differently */
} twinn_top1;

/* Decision margins for class c: with decision values v = y (argmax) or v = -y (argmin),
 * m(x) = v_c(x) - max_{j != c} v_j(x) (> 0 iff the network decides c at x). */
typedef struct {
  size_t n_in, n_out, cls;
  int argmin;
  twinn_quant_bound dmax; /* h = m_g - m_f */
  twinn_quant_bound dmin; /* h = m_f - m_g: min of m_g - m_f is in [-dmin.upper, -dmin.lower] */
  twinn_quant_bound fneg; /* h = -m_f: f keeps c on the box iff its max < 0 */
  twinn_quant_bound gneg; /* h = -m_g */
  twinn_top1 top1;
  double *witness;             /* TOP1_DISAGREE: n_in entries, owned; else NULL */
  size_t witness_f, witness_g; /* the classes f and g decide at the witness */
  unsigned long branches;
  unsigned long helped; /* of branches: boxes bounded by a helping worker (varies by run) */
  double seconds;
  int timed_out;
  twinn_pairing pairing;
  size_t matched;
} twinn_quant_margin;

/* Margin bounds for class cls (< n_out, n_out >= 2) over the box; argmin selects v = -y.
 * m_g - m_f is not linear (a difference of two maxima); it is bounded through the linear forms
 * D_j = (v^g_c - v^g_j) - (v^f_c - v^f_j), j != c: if k attains m_f then m_g <= v^g_c - v^g_k
 * gives m_g - m_f <= D_k <= max_j D_j; if k attains m_g then m_f <= v^f_c - v^f_k gives
 * m_g - m_f >= D_k >= min_j D_j. Each D_j is bounded soundly by twinn_sym_bound_lin. */
twinn_status twinn_quant_margin_bounds(const twinn_net *f, const twinn_net *g, const double *lo,
                                       const double *hi, size_t cls, int argmin,
                                       const twinn_quant_options *opt, twinn_quant_margin *res,
                                       twinn_error *err);
void twinn_quant_margin_release(twinn_quant_margin *res);

/* At the point x (f->n_in entries) of a pair with the same inputs and outputs: lower[i] is a
 * certified lower bound of the exact |g_i(x) - f_i(x)| (outward-rounded enclosures of f(x) and
 * g(x)), value[i] (may be NULL) the same in double (twinn_net_eval); n_out entries each. Lets a
 * caller that found x by other means (a verifier's witness) use it as an attained point.
 * TWINN_ERR_NOMEM. */
twinn_status twinn_quant_diff_at(const twinn_net *f, const twinn_net *g, const double *x,
                                 double *lower, double *value, twinn_error *err);

/* The class network `net` decides at x (argmax, or argmin when argmin != 0); SIZE_MAX on
 * out of memory. Ties go to the smallest index. */
size_t twinn_quant_decide(const twinn_net *net, const double *x, int argmin);

#endif
