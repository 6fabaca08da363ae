/* verify.c: the decision procedure, a parallel branch and bound. Regions (an input box plus
 * neuron split constraints) are bounded by sound analyses (interval.c, diff.c, symbolic.h), the
 * formula is evaluated over them in three-valued logic (children inherit and intersect their
 * parent's constraint enclosures), proved regions are dropped, the rest are attacked and split: on
 * inputs (small single-network input spaces: the dimension whose halves bound best, tried; else
 * symbolic sensitivity x width), on unstable ReLU neurons first when opt->neuron_split asks or once
 * a box cannot be halved; on 17-64 inputs with two or more threads both orders run at once
 * (portfolio). Worker threads share a best-first queue (queue.h); past a memory cap a
 * worker goes depth-first on its own subtree. The tree does not depend on timing (each region seeds
 * its own generator), so the verdict is the same for any thread count. UNSAT only when every region
 * was proved with outward-rounded bounds; SAT only with a replayed witness. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "align.h"
#include "attack.h"
#include "bind.h"
#include "clock.h"
#include "decompose.h"
#include "diff.h"
#include "exact.h"
#include "interval.h"
#include "queue.h"
#include "roots.h"
#include "space.h"
#include "splitscore.h"
#include "symbolic.h"
#include "twinn.h"

/* OpenBLAS's own control (cblas.h of some distributions lacks it). */
#include "blas_threads.h"

enum { V_FALSE = 0, V_TRUE = 1, V_UNKNOWN = 2 };

/* Why the workers stop before the queue is exhausted. */
enum { RUN = 0, STOP_SAT, STOP_TIMEOUT, STOP_ERROR };

/* Memory the queued regions may hold before workers go depth-first. */
#define QUEUE_MEM_CAP ((size_t)512 << 20)

/* Input spaces of at most this many dimensions choose the split by trying them all, when no
 * twin pair is analysed: with the symbolic difference each try costs a pair analysis, and on
 * acasxu_fp16_eps p1 (1_2, 2_5, 3_3) the 2.4-4x fewer regions took 2.7-5.7x longer. */
#define TRIAL_DIMS 16

/* Rounds per neuron of the root's optimised intermediate bounds (tighten_root). */
#define TIGHTEN_ROUNDS 10
/* Rounds of the first ReLU layer's hull planes in them (twinn_sym_set_anderson). On
 * mnist_256x4 fp16 (0.03 boxes) they cut the root's unstable neurons of f from 36 / 74 / 59 / 243
 * to 36 / 53 / 9 / 97 (img7) and its L-inf difference bound from 0.51 to 0.062, at 3.1 s
 * instead of 0.7 s for the root: img0 and img5 unsat at the root (34 and 69 regions before),
 * img3 22.7 -> 16.5 s, img1's margin at 120 s -0.50 -> -0.042, img7's -0.048 -> -0.037. */
#define ANDERSON_ROUNDS 20
/* ... for single networks, and for twin pairs of at least this many ReLU layers. On the
 * two-layer mnist_256x2 twins the planes only tighten the second layer's bounds of f and g
 * while the difference's own relaxations hold the bound: mnist_fp16_eps's instances took
 * 0.06-1.02 s with them against 0.06-0.21 s without (`twinn bound`'s gaps there moved within
 * the run-to-run spread); on the same networks alone (int8 top-1, one robustness problem per
 * network) they pay: img1 12.7 -> 2.8 s, img3 3.8 -> 1.2 s. */
#define ANDERSON_DEPTH 3
/* At most this many workspaces share the root's tightening (twinn_sym_tighten_par): a point of
 * 256 unstable neurons makes 16 batches of objectives per network, and each helper with hull
 * planes holds up to 128 MB of their scratch (symand.c). */
#define TIGHTEN_MAX_WS 8

/* Input spaces of more dimensions branch on neurons first (see twinn_verify). */
#define NEURON_DIMS 64

/* The initial counterexample search on the whole case boxes: a few restarts before the branch
 * and bound, the rest in bursts (deferred_attack), the first of ATTACK_BURST seconds once the
 * search has run DEFER_ATTACK seconds without a decision, so instances the bounds decide fast
 * never pay for it (the search took 60 % of an easy instance's time on acasxu_1_1_fp16 p3). */
#define ATTACK_STEPS 30
#define ATTACK_EARLY 3
#define DEFER_ATTACK 0.05
#define ATTACK_BURST 0.03

/* Networks of at least this many ReLU layers rank their neurons layer first even with
 * optimised scores (pick_neuron). */
#define LAYER_FIRST_DEPTH 3

/* Sub-runs (verify_run's `sub`, bits): SUB_NET, a single-network sub-property of the
 * decomposition (decompose.h): no pairs, only the networks its constraints read get symbolic
 * workspaces, no further decomposition; SUB_DISJ, one disjunct of twinn_split_disjuncts: no
 * further split or decomposition. Properties of more than SPLIT_MAX distinct disjuncts are not
 * split (each sub-run repeats the root's analysis). */
#define SUB_NET 1
#define SUB_DISJ 2
#define SUB_HALF 4 /* one order of the portfolio (portfolio): no early attack of its own */
#define SPLIT_MAX 64

/* Rounds of optimised ReLU lower slopes (twinn_sym_set_alpha_steps) for single networks. */
#define SYM_ALPHA_STEPS 1

typedef struct {
  size_t f, g;     /* problem network indices: d = g - f on tied inputs */
  twinn_ibounds d; /* difference bounds, shaped like f */
} pair;

/* A symbolic workspace (symbolic.h) for network f, or for the pair (f, g). */
typedef struct {
  twinn_sym *s;
  twinn_splitscore *ss; /* relaxation split scores on few inputs (TRIAL_DIMS), else NULL */
  twinn_exact *ex;      /* exact phase search (exact_region), made on first use; NULL before */
  int ex_none;          /* no exact search: too few inputs or too large (find_syms), or
                           twinn_exact_new declined the networks */
  size_t f, g;          /* g == SIZE_MAX: one network */
  int ok;               /* the last analysis succeeded: its bounds may be used */
} symw;

/* State shared by the workers; everything below `mu` is guarded by it. */
typedef struct {
  const twinn_problem *pb;
  const twinn_space *sp;
  const twinn_options *opt;
  double t0, deadline;
  const atomic_int *cancel; /* once nonzero, the run stops as at its deadline; may be NULL */
  int neuron_mode;          /* split on neurons first (opt->neuron_split) */
  int sub; /* what kind of sub-property this run decides (SUB_NET, SUB_DISJ; 0: the problem) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  twinn_queue q;
  int busy; /* workers holding a region (or a local subtree) */
  int stop; /* RUN or why to stop */
  twinn_status st;
  double *witness; /* STOP_SAT: the first replayed witness */
  unsigned long branches;
  double last_report;
  char undecided[256]; /* why some region stayed open (then the answer cannot be unsat) */
  int lost;            /* a region left the search unproved (undecided, or not queued again) */
  int attack_pending;  /* the deferred initial attack has not been claimed by a worker */
  double attack_at;    /* when a worker claims it */
  double attack_len;   /* the time budget it has left */
  double attack_burst; /* the length of its next burst */
  uint64_t attack_rng; /* its random generator */
} shared;

/* Whether the run is over at time `now`: its deadline passed, or its portfolio's other order
 * decided (S->cancel). */
static int past(const shared *S, double now) {
  return (S->deadline > 0 && now > S->deadline) ||
         (S->cancel && atomic_load_explicit(S->cancel, memory_order_relaxed));
}

/* One worker: its own analyses, symbolic workspaces and scratch. */
typedef struct {
  shared *S;
  const twinn_problem *pb;
  const twinn_prop *prop;
  const twinn_space *sp;
  twinn_ibounds *nb;     /* per problem network */
  double *in_lo, *in_hi; /* per-network input box scratch */
  pair *pairs;
  size_t n_pairs;
  symw *syms; /* symbolic workspaces; every network is in at most one */
  size_t n_syms;
  size_t *sym_of;           /* per network: its workspace, SIZE_MAX if none */
  double *score;            /* n_free: split scores from the symbolic input sensitivities */
  double *lin_score;        /* n_lins x n_free: each constraint's own split scores */
  unsigned char *score_set; /* per lin: its lin_score row was written for the current region */
  unsigned char *bounded; /* per network: it needs bounds (a constraint reads it or it is paired) */
  double **co;            /* per network: output coefficients of the current leaf */
  int *has_out, *used;    /* per network: scratch flags of the current leaf */
  double *leaf_lo, *leaf_hi; /* per lin: its enclosure over the current region */
  double *keep_lo, *keep_hi; /* per lin: the current region's final enclosures (for its kids) */
  twinn_attack *atk;
  uint64_t rng;
  double *center, *grad;
  double *half_lo, *half_hi; /* n_free: a half box tried by trial_split */
  twinn_nsplit *look;        /* look_cap: a region's splits and one more (child_margins) */
  size_t look_cap;
  double *span;            /* n_free: width of the hull of the case boxes (> 0 if splittable) */
  double *dim_coef;        /* n_free: exact_inputs' merged coefficients (zero between calls) */
  unsigned char *dim_seen; /* n_free: exact_inputs' listed dimensions (zero between calls) */
  size_t *dim_list;        /* n_free: exact_inputs' dimensions of one constraint */
  double *witness;         /* n_scalars */
  double *ss_cf, *ss_cg;   /* relax_scores' coefficient rows: n_lins x the widest output */
  double *ss_gain;         /* n_lins x the widest input */
  double *ss_width;        /* the widest input */
  size_t *ss_rows;         /* n_lins */
  int have_ss;             /* some workspace has a twinn_splitscore */
  /* Dead ReLUs (twinn_sym_set_dead): per workspace, its bytes at dead_off[i] of n_dead. rdead:
   * the bits the current region inherited (its parent's analysis), NULL outside process() and
   * for the case boxes; kdead: this region's own, after its analysis, for its kids. */
  size_t *dead_off, n_dead;
  const unsigned char *rdead;
  unsigned char *kdead;
  twinn_region **local; /* depth-first stack when the queue is over its memory cap */
  size_t n_local, cap_local;
  size_t opt_rounds;       /* twinn_sym_bound_opt rounds per undecided constraint (0: none) */
  size_t *dup;             /* per lin: the first lin with the same terms, constant and comparison */
  unsigned char *opt_done; /* per lin: listed for optimisation in the current region */
  size_t *opt_list, n_opt; /* the lins listed (first copies) */
  size_t *opt_idx;         /* per lin: scratch of opt_run */
  size_t *opt_net, *opt_pt; /* per listed lin: the network and point it reads (lin_point) */
  double *opt_lo, *opt_off; /* n_lins bounds and constants (opt_run) */
  double *opt_c;            /* opt_run's coefficient rows, opt_cap entries (grown on demand) */
  size_t opt_cap;
  /* The interval and ReluDiff bounds (analyse_cheap) gated per thread on twin problems: skipped
   * once CHEAP_WARMUP regions in a row got nothing from them (see cheap_wanted). */
  int cheap_gate;        /* gating allowed: a pair, and no constraint reads hidden values */
  int cheap_off;         /* skipping them, probing every CHEAP_PROBE-th region */
  int nb_valid;          /* nb and the pairs' d hold bounds of the current region */
  int cheap_hit;         /* they proved or tightened something in the current region */
  size_t cheap_n;        /* regions in a row where they ran and did nothing */
  size_t cheap_skips;    /* regions skipped since the last probe */
  double *nb_box;        /* 2 n_free: the box nb and the pairs' d were last computed for */
  int nb_box_set;        /* nb_box holds one (nb and d are not written anywhere else) */
  int timed_out;         /* the deadline passed inside process() */
  double *ex_cf, *ex_cg; /* exact_region's objective rows (the widest output) */
  double *pf_a, *pf_c;   /* product_bound's rows (4 x the widest input), coefficients (2 x out) */
  int ex_out;            /* the current region's exact search ran out of its LPs */
  size_t exact_relus;    /* exact_region's cap on undecided ReLUs (0: never) */
  pthread_t thread;
  int started;
} engine;

void twinn_options_init(twinn_options *opt) {
  memset(opt, 0, sizeof *opt);
  opt->timeout = 0;
  opt->seed = 1;
  opt->threads = 0;
}

const char *twinn_verdict_name(twinn_verdict v) {
  switch (v) {
  case TWINN_VERDICT_SAT: return "sat";
  case TWINN_VERDICT_UNSAT: return "unsat";
  case TWINN_VERDICT_TIMEOUT: return "timed-out";
  case TWINN_VERDICT_UNKNOWN: break;
  }
  return "unknown";
}

void twinn_result_release(twinn_result *res) {
  if (!res) return;
  twinn_free(res->witness);
  res->witness = NULL;
}

/* ---- bounding: the per-region analyses and the enclosure of one constraint's left side ---- */

/* Network i's input box within the box [lo, hi] of the free dimensions, into E->in_lo/in_hi. */
static void net_box(engine *E, size_t i, const double *lo, const double *hi) {
  const twinn_var *in = twinn_prop_net_var(E->prop, i, TWINN_VAR_INPUT);
  for (size_t r = 0; r < E->pb->nets[i]->n_in; r++) {
    size_t d = E->sp->dim_of[in->offset + r];
    E->in_lo[r] = lo[d];
    E->in_hi[r] = hi[d];
  }
}

/* Interval bounds of every bounded network and ReluDiff bounds of every pair over the box
 * [lo, hi] (they ignore neuron splits: sound, only looser). */
static void cheap_bounds(engine *E, const double *lo, const double *hi) {
  size_t i, n = E->sp->n_free;
  /* They depend on the box alone: regions that differ only in neuron splits (MNIST's, all of
   * them) share the last ones (they were 6-8 % of mnist_256x4 fp16 img3's time). */
  if (E->nb_box_set && memcmp(E->nb_box, lo, n * sizeof *lo) == 0 &&
      memcmp(E->nb_box + n, hi, n * sizeof *hi) == 0) {
    E->nb_valid = 1;
    return;
  }
  E->nb_box_set = 0;
  for (i = 0; i < E->pb->n_nets; i++) {
    if (!E->bounded[i]) continue;
    net_box(E, i, lo, hi);
    twinn_interval_propagate(E->pb->nets[i], E->in_lo, E->in_hi, &E->nb[i]);
  }
  for (i = 0; i < E->n_pairs; i++) {
    pair *p = &E->pairs[i];
    twinn_diff_propagate(E->pb->nets[p->f], E->pb->nets[p->g], &E->nb[p->f], &E->nb[p->g], &p->d);
  }
  E->nb_valid = 1;
  memcpy(E->nb_box, lo, n * sizeof *lo);
  memcpy(E->nb_box + n, hi, n * sizeof *hi);
  E->nb_box_set = 1;
}

/* Starts a region's analyses: no bounds hold yet (the symbolic workspaces are unused until
 * analyse_sym, the cheap bounds until cheap_bounds). */
static void reset_analyses(engine *E) {
  for (size_t i = 0; i < E->n_syms; i++) E->syms[i].ok = 0;
  E->nb_valid = 0;
}

/* Starts a region's analyses with the cheap bounds. */
static void analyse_cheap(engine *E, const double *lo, const double *hi) {
  reset_analyses(E);
  cheap_bounds(E, lo, hi);
}

/* Whether process() runs analyse_cheap on its region. On ACAS Xu fp16 twins (p1 boxes) they
 * proved none of 6 181 regions and never tightened the symbolic bounds, yet cost 7-15 % of the
 * time; on other problems they may pay (not measured). So each thread tries them on every
 * region until CHEAP_WARMUP regions in a row got nothing from them, then on every
 * CHEAP_PROBE-th region only, and on every region again (a new warm-up) after a probe that
 * gained. Skipping them is sound: bound_leaf then uses the symbolic bounds alone. */
#define CHEAP_WARMUP 64
#define CHEAP_PROBE 64
static int cheap_wanted(engine *E) {
  if (!E->cheap_gate || !E->cheap_off) return 1;
  if (++E->cheap_skips < CHEAP_PROBE) return 0;
  E->cheap_skips = 0;
  return 1;
}

/* After a region that ran analyse_cheap: updates the gate with whether they helped. */
static void cheap_note(engine *E) {
  if (E->cheap_hit) {
    E->cheap_off = 0;
    E->cheap_n = 0;
  } else if (++E->cheap_n >= CHEAP_WARMUP) {
    E->cheap_off = 1;
  }
}

/* The symbolic analyses of the region (after analyse_cheap): box [lo, hi] and the neuron
 * splits. Returns 1 if one proved the split constraints unsatisfiable in the box. */
static int analyse_sym(engine *E, const double *lo, const double *hi, const twinn_nsplit *splits,
                       size_t n_splits) {
  size_t i, r;
  int infeasible = 0;
  for (i = 0; i < E->n_syms; i++) { /* symbolic bounds: their errors only disable them */
    symw *w = &E->syms[i];
    twinn_error err;
    net_box(E, w->f, lo, hi);
    twinn_error_clear(&err);
    twinn_sym_clear_splits(w->s);
    w->ok = 1;
    for (r = 0; r < n_splits && w->ok; r++)
      if (splits[r].sym == i)
        w->ok = twinn_sym_set_split(w->s, splits[r].which, splits[r].layer, splits[r].neuron,
                                    splits[r].phase, &err) == TWINN_OK;
    /* The region's inherited dead ReLUs hold on its sub-boxes too (trial halves, child
     * splits). A workspace that could not take its splits is not used: its bounds would be of a
     * larger region, still sound, but a split region could then never close. */
    twinn_sym_set_dead(w->s, E->rdead ? E->rdead + E->dead_off[i] : NULL);
    w->ok = w->ok && twinn_sym_analyse(w->s, E->in_lo, E->in_hi, &err) == TWINN_OK;
    twinn_sym_set_dead(w->s, NULL);
    if (w->ok && twinn_sym_infeasible(w->s)) infeasible = 1;
  }
  return infeasible;
}

/* Bounds of global scalar s over the region: the box for inputs, the network's bounds at the
 * variable's point for hidden values and outputs. */
static void scalar_bounds(const engine *E, const double *lo, const double *hi, size_t s, double *l,
                          double *h) {
  size_t elem = 0, net, point = 0;
  const twinn_var *v = twinn_prop_var_of(E->prop, s, &elem);
  if (v->role == TWINN_VAR_INPUT) {
    *l = lo[E->sp->dim_of[s]];
    *h = hi[E->sp->dim_of[s]];
    return;
  }
  net = v->net;
  TWINN_ASSERT(E->nb_valid); /* hidden values: such problems are never gated (reads_hidden) */
  if (v->role == TWINN_VAR_OUTPUT)
    point = E->pb->nets[net]->n_layers;
  else if (!twinn_problem_tap_point(E->pb->nets[net], v, &point)) {
    *l = -INFINITY, *h = INFINITY;
    return;
  }
  *l = E->nb[net].lo[E->nb[net].off[point] + elem];
  *h = E->nb[net].hi[E->nb[net].off[point] + elem];
  /* Intersected with the symbolic analysis of the region where one holds the network (its
   * point bounds, with the root's optimised priors): a hidden neuron behind ReLUs is bounded
   * far tighter there than by interval arithmetic. */
  size_t j = E->sym_of[net];
  if (j != SIZE_MAX && E->syms[j].ok) {
    int which = net == E->syms[j].f ? TWINN_SYM_F : TWINN_SYM_G;
    const double *sl = twinn_sym_point_lo(E->syms[j].s, which, point);
    const double *sh = twinn_sym_point_hi(E->syms[j].s, which, point);
    if (sl && sh && !twinn_sym_infeasible(E->syms[j].s)) {
      *l = fmax(*l, sl[elem]);
      *h = fmin(*h, sh[elem]);
    }
  }
}

/* Negates the output coefficients of workspace w in E->co (exact). */
static void negate_co(engine *E, const symw *w) {
  size_t e;
  for (e = 0; e < E->pb->nets[w->f]->n_out; e++) E->co[w->f][e] = -E->co[w->f][e];
  if (w->g != SIZE_MAX)
    for (e = 0; e < E->pb->nets[w->g]->n_out; e++) E->co[w->g][e] = -E->co[w->g][e];
}

/* Adds the symbolic enclosure of the output terms of workspace w (coefficients in E->co) to
 * acc, and its input sensitivities to score (if not NULL). Returns 0 if w cannot be used.
 * The analysis records the sensitivities of the UPPER bound it returns, while a constraint
 * e <= 0 is proved by the LOWER bound of e exceeding 0: so the terms are bounded negated,
 * -e's upper bound being -(e's lower bound), and the scores then say which inputs keep e's
 * lower bound from the proof. (With the upper side's scores, ACAS Xu prop_1 --Y_0 >= 3.99,
 * proved by Y_0's upper bound-- bisected the inputs that loosen Y_0's lower bound and did
 * not finish in minutes.) */
static int add_sym(engine *E, const symw *w, twinn_iacc *acc, double *score) {
  double nl, nh; /* bounds of the negated terms */
  size_t r;
  twinn_error err;
  twinn_status st;
  const twinn_var *in = twinn_prop_net_var(E->prop, w->f, TWINN_VAR_INPUT);
  const double *coef;
  twinn_error_clear(&err);
  if (!w->ok) return 0;
  negate_co(E, w);
  st =
      twinn_sym_bound_lin(w->s, E->co[w->f], w->g == SIZE_MAX ? NULL : E->co[w->g], &nl, &nh, &err);
  negate_co(E, w);
  if (st != TWINN_OK) return 0;
  twinn_iacc_add_interval(acc, -nh, -nl);
  if (score) {
    coef = twinn_sym_input_coef(w->s);
    for (r = 0; r < E->pb->nets[w->f]->n_in; r++) score[E->sp->dim_of[in->offset + r]] += coef[r];
  }
  return 1;
}

/* a + b into *s; 0 if the float sum is not exact (Knuth's TwoSum error is not zero). */
static int exact_add(double a, double b, double *s) {
  double t, e;
  *s = a + b;
  t = *s - a;
  e = (a - (*s - t)) + (b - t);
  return isfinite(*s) && e == 0.0;
}

/* An exact enclosure of a constraint over inputs only, c0 + sum c_t [lo_t, hi_t], when every
 * product and sum happens to be exact in float (checked with fma and TwoSum): returns 0 if not
 * (then the outward-rounded sum applies). Terms on the same dimension (tied inputs, as in
 * (== X_g[0] X_f[0])) are merged first, so such a tie is exactly 0, true over every box.
 * Box bounds written as constraints, the usual case, evaluate exactly too, so they come out
 * true over the box instead of undecided by a rounding margin. An undecided input constraint
 * lends its margin (minus a box width) to the enclosing and, which then hides the outputs'
 * margin from the queue's order and from trial_split (on the twin demo, split choice kept
 * halving the narrowest dimension to shrink a tie's [-w, w]; on ACAS Xu prop_1 every region
 * had the margin -0.05 of the X_3 bounds). Uses E->dim_coef and dim_seen (all zero between
 * calls) and dim_list. */
static int exact_inputs(engine *E, const double *lo, const double *hi, const twinn_lin *l,
                        double *out_lo, double *out_hi) {
  size_t t, n_dims = 0;
  double sl = l->c0, sh = l->c0;
  int ok = isfinite(l->c0);
  for (t = 0; ok && t < l->n_terms; t++) {
    size_t s = E->prop->term_var[l->first + t], elem = 0, d;
    if (twinn_prop_var_of(E->prop, s, &elem)->role != TWINN_VAR_INPUT) {
      ok = 0;
      break;
    }
    d = E->sp->dim_of[s];
    if (!E->dim_seen[d]) {
      E->dim_seen[d] = 1;
      E->dim_list[n_dims++] = d;
    }
    ok = exact_add(E->dim_coef[d], E->prop->term_coef[l->first + t], &E->dim_coef[d]);
  }
  for (t = 0; t < n_dims; t++) {
    size_t d = E->dim_list[t];
    double c = E->dim_coef[d], pa, pb;
    E->dim_coef[d] = 0.0;
    E->dim_seen[d] = 0;
    if (!ok || c == 0.0) continue;
    if (c < 0)
      pa = c * hi[d], pb = c * lo[d];
    else
      pa = c * lo[d], pb = c * hi[d];
    if (fma(c, c < 0 ? hi[d] : lo[d], -pa) != 0.0 || fma(c, c < 0 ? lo[d] : hi[d], -pb) != 0.0 ||
        !exact_add(sl, pa, &sl) || !exact_add(sh, pb, &sh))
      ok = 0;
  }
  if (!ok) return 0;
  *out_lo = sl;
  *out_hi = sh;
  return 1;
}

/* The product network's bounds [*lo, *hi] of the output terms of the constraint bound_leaf is
 * bounding (coefficients in E->co, networks in E->has_out) where they read exactly two
 * networks, each in a single-network workspace of its own analysed over the region, and both
 * networks read the same inputs (a pair that is not isomorphic: a distilled or pruned twin of
 * another shape), by their linear forms summed before the box is concretised
 * (twinn_sym_sum_bounds: one back-substitution per network for both ends). Returns 0 where that
 * does not apply. E->pf_a then holds (second row) the sensitivities of the lower end (the side
 * add_sym scores), |a_i| (hi_i - lo_i) for its summed form a. */
static int product_bound(engine *E, double *lo, double *hi) {
  size_t j, k, r, found[2], n_found = 0;
  for (j = 0; j < E->pb->n_nets; j++) {
    if (!E->has_out[j]) continue;
    if (n_found == 2 || (k = E->sym_of[j]) == SIZE_MAX || E->syms[k].g != SIZE_MAX ||
        !E->syms[k].ok)
      return 0;
    found[n_found++] = k;
  }
  if (n_found != 2) return 0;
  const symw *wa = &E->syms[found[0]], *wb = &E->syms[found[1]];
  const twinn_var *ia = twinn_prop_net_var(E->prop, wa->f, TWINN_VAR_INPUT);
  const twinn_var *ib = twinn_prop_net_var(E->prop, wb->f, TWINN_VAR_INPUT);
  if (E->pb->nets[wa->f]->n_in != E->pb->nets[wb->f]->n_in) return 0;
  for (r = 0; r < E->pb->nets[wa->f]->n_in; r++)
    if (E->sp->dim_of[ia->offset + r] != E->sp->dim_of[ib->offset + r]) return 0;
  size_t n_in = E->pb->nets[wa->f]->n_in, m = E->pb->nets[wa->f]->n_out;
  double *a = E->pf_a, *ca = E->pf_c, *cb = E->pf_c + m;
  for (j = 0; j < m; j++) ca[j] = E->co[wa->f][j];
  for (j = 0; j < E->pb->nets[wb->f]->n_out; j++) cb[j] = E->co[wb->f][j];
  twinn_sym_sum_bounds(wa->s, ca, wb->s, cb, a, a + 2 * n_in, lo, hi);
  if (*lo > -INFINITY) {
    const double *blo = twinn_sym_point_lo(wa->s, TWINN_SYM_F, 0);
    const double *bhi = twinn_sym_point_hi(wa->s, TWINN_SYM_F, 0);
    for (r = 0; r < n_in; r++) a[n_in + r] = fabs(a[n_in + r]) * (bhi[r] - blo[r]);
  }
  return 1;
}

/* The one place where analyses combine: an enclosure of lin's left side over the region.
 * (1) every term from its own interval bounds; (2) for output terms of an isomorphic pair on
 * tied inputs, a f + b g = (a + b) f + b (g - f) with the difference intervals (diff.c);
 * (3) output terms through the symbolic workspaces (symbolic.h: back-substitution, and the
 * symbolic difference for pairs); (4) output terms of two networks on the same inputs that are
 * no isomorphic pair, through their summed linear forms (product_bound). All are sound, so the
 * result is their intersection. A new
 * analysis plugs in here as one more enclosure. score (may be NULL) collects split scores. */
static int leaf_value(const twinn_lin *l, double lo, double hi, double *margin);

static void bound_leaf(engine *E, const double *lo, const double *hi, const twinn_lin *l,
                       double *score, double *out_lo, double *out_hi) {
  const twinn_prop *prop = E->prop;
  twinn_iacc plain, paired, sym, prod;
  size_t t, i, j, e;
  double a, b, pl, ph, ql, qh, sl, sh, xl = -INFINITY, xh = INFINITY;
  int sym_ok = 1;
  if (exact_inputs(E, lo, hi, l, out_lo, out_hi)) return;
  twinn_iacc_init(&plain, l->c0);
  twinn_iacc_init(&paired, l->c0);
  twinn_iacc_init(&sym, l->c0);
  twinn_iacc_init(&prod, l->c0);
  for (i = 0; i < E->pb->n_nets; i++) E->has_out[i] = E->used[i] = 0;
  for (t = 0; t < l->n_terms; t++) {
    size_t s = prop->term_var[l->first + t], elem = 0;
    const twinn_var *v = twinn_prop_var_of(prop, s, &elem);
    double c = prop->term_coef[l->first + t];
    if (v->role == TWINN_VAR_OUTPUT) {
      E->co[v->net][elem] = c;
      E->has_out[v->net] = 1;
      continue;
    }
    scalar_bounds(E, lo, hi, s, &a, &b);
    twinn_iacc_add(&plain, c, a, b, 0);
    twinn_iacc_add(&paired, c, a, b, 0);
    twinn_iacc_add(&sym, c, a, b, 0);
    twinn_iacc_add(&prod, c, a, b, 0);
  }
  for (j = 0; j < E->n_pairs; j++) {
    const pair *p = &E->pairs[j];
    const twinn_ibounds *bf = &E->nb[p->f];
    size_t base = bf->off[bf->n_points - 1];
    if (!E->has_out[p->f] || !E->has_out[p->g] || E->used[p->f] || E->used[p->g]) continue;
    E->used[p->f] = E->used[p->g] = 1;
    for (e = 0; e < E->pb->nets[p->f]->n_out; e++) {
      double cf = E->co[p->f][e], cg = E->co[p->g][e];
      twinn_iacc_add(&paired, cf + cg, bf->lo[base + e], bf->hi[base + e], 1);
      twinn_iacc_add(&paired, cg, p->d.lo[base + e], p->d.hi[base + e], 0);
    }
  }
  for (j = 0; j < E->n_syms; j++) {
    const symw *w = &E->syms[j];
    if (E->has_out[w->f] || (w->g != SIZE_MAX && E->has_out[w->g]))
      sym_ok = sym_ok && add_sym(E, w, &sym, score);
  }
  if (sym_ok && product_bound(E, &a, &b)) {
    twinn_iacc_add_interval(&prod, a, b);
    twinn_iacc_result(&prod, &xl, &xh);
    /* Where it is the tighter, the product's sensitivities steer the split: on
     * test_product_pair's twins 5-60 % fewer regions than the separate bounds' (add_sym's). */
    if (score && xl > sl) {
      size_t nf = E->sp->n_free, f0 = 0;
      const twinn_var *in;
      while (!E->has_out[f0]) f0++;
      in = twinn_prop_net_var(E->prop, f0, TWINN_VAR_INPUT);
      memset(score, 0, nf * sizeof *score);
      for (size_t r = 0; r < E->pb->nets[f0]->n_in; r++)
        score[E->sp->dim_of[in->offset + r]] += E->pf_a[E->pb->nets[f0]->n_in + r];
    }
  }
  for (i = 0; i < E->pb->n_nets; i++) {
    const twinn_ibounds *bi = &E->nb[i];
    size_t base = bi->off[bi->n_points - 1];
    if (!E->has_out[i]) continue;
    for (e = 0; e < E->pb->nets[i]->n_out; e++) {
      double c = E->co[i][e];
      twinn_iacc_add(&plain, c, bi->lo[base + e], bi->hi[base + e], 0);
      if (!E->used[i]) twinn_iacc_add(&paired, c, bi->lo[base + e], bi->hi[base + e], 0);
      if (E->sym_of[i] == SIZE_MAX) twinn_iacc_add(&sym, c, bi->lo[base + e], bi->hi[base + e], 0);
      E->co[i][e] = 0.0;
    }
    TWINN_ASSERT(E->nb_valid || E->sym_of[i] != SIZE_MAX); /* such problems are never gated */
  }
  twinn_iacc_result(&plain, &pl, &ph);
  twinn_iacc_result(&paired, &ql, &qh);
  twinn_iacc_result(&sym, &sl, &sh);
  if (!sym_ok) sl = -INFINITY, sh = INFINITY;
  if (!E->nb_valid) /* analyse_cheap skipped (cheap_wanted): what was read is stale */
    pl = ql = -INFINITY, ph = qh = INFINITY;
  else if (sym_ok && (fmax(pl, ql) > sl || fmin(ph, qh) < sh))
    E->cheap_hit = 1;
  *out_lo = fmax(fmax(pl, xl), fmax(ql, sl));
  *out_hi = fmin(fmin(ph, xh), fmin(qh, sh));
  if (isnan(l->c0)) *out_lo = *out_hi = NAN;
  /* A constraint left undecided hands its pair weights to the neuron choice, times its gap to
   * a proof (a the margin: negative). */
  if (sym_ok && leaf_value(l, *out_lo, *out_hi, &a) == V_UNKNOWN)
    for (j = 0; j < E->n_syms; j++) {
      const symw *w = &E->syms[j];
      if (w->ok && w->g != SIZE_MAX && (E->has_out[w->f] || E->has_out[w->g]))
        twinn_sym_keep_pair_weights(w->s, isfinite(a) && a < 0.0 ? -a : 0.0);
    }
}

/* ---- three-valued evaluation of the formula over a region ---- */

static int leaf_value(const twinn_lin *l, double lo, double hi, double *margin) {
  *margin = l->cmp == TWINN_CMP_EQ ? fmax(lo, -hi) : lo;
  if (isnan(lo) || isnan(hi)) {
    *margin = -INFINITY;
    return V_UNKNOWN;
  }
  switch (l->cmp) {
  case TWINN_CMP_LE: return lo > 0 ? V_FALSE : hi <= 0 ? V_TRUE : V_UNKNOWN;
  case TWINN_CMP_LT: return lo >= 0 ? V_FALSE : hi < 0 ? V_TRUE : V_UNKNOWN;
  case TWINN_CMP_EQ:
    return (lo > 0 || hi < 0) ? V_FALSE : (lo == 0 && hi == 0) ? V_TRUE : V_UNKNOWN;
  case TWINN_CMP_NE:
    *margin = (lo == 0 && hi == 0) ? 1.0 : -1.0;
    return (lo == 0 && hi == 0) ? V_FALSE : (lo > 0 || hi < 0) ? V_TRUE : V_UNKNOWN;
  }
  return V_UNKNOWN;
}

/* nl: the value given to nonlinear constraints (UNKNOWN normally; FALSE to ask whether the
 * verdict hinges on them). *margin > 0 means "proved false" by that much. */
static int node_value(const engine *E, size_t node, int nl, double *margin) {
  const twinn_prop *prop = E->prop;
  const twinn_bool *b = &prop->nodes[node];
  size_t i;
  int v, acc;
  double m;
  if (b->kind == TWINN_BOOL_LIN) {
    const twinn_lin *l = &prop->lins[b->lin];
    if (l->nonlinear) {
      *margin = nl == V_FALSE ? 1.0 : -INFINITY;
      return nl;
    }
    v = leaf_value(l, E->leaf_lo[E->dup[b->lin]], E->leaf_hi[E->dup[b->lin]], margin);
    /* True over the whole region: no sub-region can prove it false, so it must not lend its
     * (small) margin to an enclosing and (the input bounds would mask the outputs' margin). */
    if (v == V_TRUE) *margin = -INFINITY;
    return v;
  }
  if (b->kind == TWINN_BOOL_AND) {
    acc = V_TRUE;
    *margin = -INFINITY;
    for (i = 0; i < b->n_kids; i++) {
      v = node_value(E, prop->kids[b->first_kid + i], nl, &m);
      *margin = fmax(*margin, m);
      if (v == V_FALSE)
        acc = V_FALSE;
      else if (v == V_UNKNOWN && acc == V_TRUE)
        acc = V_UNKNOWN;
    }
    return acc;
  }
  acc = V_FALSE;
  *margin = INFINITY;
  for (i = 0; i < b->n_kids; i++) {
    v = node_value(E, prop->kids[b->first_kid + i], nl, &m);
    *margin = fmin(*margin, m);
    if (v == V_TRUE)
      acc = V_TRUE;
    else if (v == V_UNKNOWN && acc == V_FALSE)
      acc = V_UNKNOWN;
  }
  return acc;
}

/* ---- splitting ---- */

/* The dimension to bisect: the largest symbolic sensitivity (|input coefficient| * width of
 * the undecided constraints' bounds, NeuroDiff's choice) if any, else the largest |d violation /
 * d x_i| * width_i at the centre (ReluDiff's smear on the concrete gradient), else the widest;
 * SIZE_MAX if no dimension can be halved. */
static size_t pick_split(engine *E, const double *lo, const double *hi) {
  size_t i, best = SIZE_MAX, wide = SIZE_MAX;
  double bs = 0.0, bw = 0.0;
  for (i = 0; i < E->sp->n_free; i++)
    if (twinn_halvable(lo[i], hi[i]) && E->score[i] > bs) bs = E->score[i], best = i;
  if (best != SIZE_MAX) return best;
  twinn_attack_violation(E->atk, E->center, E->grad);
  for (i = 0; i < E->sp->n_free; i++) {
    double w = hi[i] - lo[i], sc = fabs(E->grad[i]) * w;
    if (!twinn_halvable(lo[i], hi[i])) continue;
    if (w > bw) bw = w, wide = i;
    if (sc > bs) bs = sc, best = i;
  }
  return best != SIZE_MAX ? best : wide;
}

/* The root margin of the box [lo, hi] with the neuron splits sp, analysed as process() does;
 * INFINITY if proved (the formula is false over it, or the splits are infeasible). */
static double box_margin(engine *E, const double *lo, const double *hi, const twinn_nsplit *sp,
                         size_t n_sp) {
  size_t i;
  double m;
  analyse_cheap(E, lo, hi);
  if (analyse_sym(E, lo, hi, sp, n_sp)) return INFINITY;
  for (i = 0; i < E->prop->n_lins; i++)
    if (!E->prop->lins[i].nonlinear)
      bound_leaf(E, lo, hi, &E->prop->lins[i], NULL, &E->leaf_lo[i], &E->leaf_hi[i]);
  return node_value(E, E->prop->root, V_UNKNOWN, &m) == V_FALSE ? INFINITY : m;
}

/* Strong branching for small input spaces (at most TRIAL_DIMS dimensions): bounds both halves
 * of every dimension that can be halved and keeps the dimension with the largest sum of the
 * halves' margin gains over the parent, then the widest relative to the case box (gains within
 * 1e-6 relative count as equal: a dimension too thin to matter still moves them by float
 * noise, and must not win by it). A half's margin counts as at least the parent's `margin`
 * (the parent's bounds hold in the half too; DeepPoly is not monotone in the box, so a half can
 * come out looser). Tried and dropped: the worse half's margin first, which on acasxu_2_5
 * prop_1 kept halving dimensions 1e-6 wide for tiny gains while one split proved a half. The
 * sensitivity score (pick_split) ranks by the linear part of one bound, which says little
 * about how much a split tightens the relaxation: on ACAS Xu prop_1 (acasxu_3_7) it kept
 * halving already tiny dimensions, 50 000 regions without a decision in 20 s, against about
 * 300 regions and 1 s here. The halves' margins are returned in km (INFINITY = proved), so
 * proved halves need no second analysis. SIZE_MAX if no dimension can be halved. Leaves the
 * analyses of some half in E (the caller only makes children). Now only used where no
 * workspace has relaxation split scores (relax_scores), which cost a fraction of one analysis
 * and decide as well: acasxu_single went from 151.5 s to 35.9-40.5 s with them (cap 116 s, same
 * verdicts; 1_9 prop_7 38 s -> 6-12 s, 3_3 prop_2 33 s -> 3.5 s, 1_1 prop_5 13.8 s -> 0.4 s). */
/* +1 if a > b by more than tol, -1 if a < b by more, 0 if equal within tol (infinities
 * compare as equal to themselves). */
static int cmp_tol(double a, double b, double tol) {
  if (a == b) return 0;
  return a > b + tol ? 1 : a < b - tol ? -1 : 0;
}

static size_t trial_split(engine *E, const twinn_region *r, double margin, double *km) {
  size_t i, n = E->sp->n_free, best = SIZE_MAX;
  double b_gain = -INFINITY, b_w = 0.0;
  double tol = isfinite(margin) ? 1e-6 * (1.0 + fabs(margin)) : 0.0;
  for (i = 0; i < n; i++) {
    double mid, m0, m1, gain, w;
    int c;
    if (!twinn_halvable(r->lo[i], r->hi[i])) continue;
    if (best != SIZE_MAX && past(E->S, twinn_clock_now())) break;
    mid = r->lo[i] + (r->hi[i] - r->lo[i]) / 2;
    memcpy(E->half_lo, r->lo, n * sizeof *E->half_lo);
    memcpy(E->half_hi, r->hi, n * sizeof *E->half_hi);
    E->half_hi[i] = mid;
    m0 = fmax(margin, box_margin(E, E->half_lo, E->half_hi, r->splits, r->n_splits));
    E->half_hi[i] = r->hi[i];
    E->half_lo[i] = mid;
    m1 = fmax(margin, box_margin(E, E->half_lo, E->half_hi, r->splits, r->n_splits));
    gain = isfinite(margin) ? (m0 - margin) + (m1 - margin) : 0.0;
    w = (r->hi[i] - r->lo[i]) / E->span[i];
    c = cmp_tol(gain, b_gain, tol);
    if (best == SIZE_MAX || c > 0 || (c == 0 && w > b_w)) {
      best = i;
      b_gain = gain;
      b_w = w;
      km[0] = m0;
      km[1] = m1;
    }
  }
  return best;
}

/* Whether neuron i of ReLU layer k of side `which` of workspace w is unstable (l < 0 < u) in
 * the last analysis; its bounds in *l, *u. Split neurons are clamped by the analysis, so they
 * never come back as unstable. */
static int unstable(const symw *w, int which, size_t k, size_t i, double *l, double *u) {
  const double *pl = twinn_sym_point_lo(w->s, which, k), *pu = twinn_sym_point_hi(w->s, which, k);
  if (!pl || !pu) return 0;
  *l = pl[i];
  *u = pu[i];
  return *l < 0 && *u > 0 && isfinite(*l) && isfinite(*u);
}

/* The branching estimate of unstable neuron i (bounds [l, u]) of ReLU layer k of net without
 * optimised scores: the triangle's height times the L1 norm of its outgoing weights. */
static double neuron_estimate(const twinn_net *net, size_t k, size_t i, double l, double u) {
  const twinn_layer *next = k + 1 < net->n_layers ? &net->layers[k + 1] : NULL;
  double wn = 0.0;
  if (next && next->kind == TWINN_LAYER_AFFINE)
    for (size_t o = 0; o < next->n_out; o++) wn += fabs(next->w[o * next->n_in + i]);
  else
    wn = 1.0;
  return twinn_relu_tri_height(l, u) * wn;
}

/* Whether the last analyses left optimised branching scores (twinn_sym_opt_scores) for some
 * network: they then rank every neuron. */
static int any_opt_scores(const engine *E) {
  for (size_t j = 0; j < E->n_syms; j++)
    for (int i = 0; i < (E->syms[j].g == SIZE_MAX ? 1 : 2); i++)
      if (E->syms[j].ok && twinn_sym_opt_scores(E->syms[j].s, i, 0) != NULL) return 1;
  return 0;
}

/* The neuron split to branch on (1 returned, or 0 if no neuron is unstable; out has room for
 * 2): the unstable ReLU neuron whose relaxation loosens the bounds most by a BaBSR-like
 * estimate, the triangle's height -l u / (u - l) times the |coefficient| the optimised bounds of
 * the region gave it (twinn_sym_opt_scores), or without those, times the L1 norm of its
 * outgoing weights.
 * Twin pairs without optimised scores also get their split's children analysed at once
 * (child_margins).
 * Without optimised scores, a pair's neurons go by layer first (the earliest ReLU layer with
 * an unstable neuron, then the estimate), and before any single network's: a split neuron of
 * an early layer makes everything after it linear in the input where the phase holds, which
 * is what the difference bound needs. On mnist_256x4 fp16 img0 (784 inputs, 33 unstable
 * first-layer neurons), fixing the 8 first-layer neurons of best estimate in the phases of the
 * box centre brings the L-inf bound of g - f from 0.086 to 0.007-0.0075 (f's alone or with
 * g's twin neuron); splitting by the estimate alone across layers picks deep neurons, and the
 * instance times out (60 s) where layer first proves it.
 * With optimised scores (single networks), networks of LAYER_FIRST_DEPTH or more ReLU layers
 * also go layer first, then by score; shallower ones by score alone. Since first-layer splits
 * are half-spaces (symhalf.c), layer first took the int8 top-1 problems of mnist_256x4 (4 ReLU
 * layers) img0 / img5 from 9.2 / 25.9 s to 0.8 / 1.0 s and img3 from a timeout (120 s) to
 * 82 s, but on mnist_256x2 (2 layers) img3 from 5.3 s to a timeout: there the second layer is
 * the last, its neurons act on the output directly. Chosen between the best-scored and the
 * best first-layer neuron by the worse child's margin of each (plain analyses, two per
 * candidate) instead: mnist_256x2 img3 took 98 s on one thread.
 * Within a layer, a pair's neurons rank as BaBSR ranks them, by the triangle's height times
 * the neuron's weight in the difference bounds of the region's undecided constraints
 * (twinn_sym_pair_weights: |coefficient| of its output in their back-substituted rows, each
 * row times its gap to a proof), the estimate above breaking ties. Session 26, mnist_256x4
 * fp16: img3 29.1 -> 22.3 s (949 -> 737 regions), img7's worst margin at 60 s -0.188 -> -0.055,
 * and the L-inf question t = 1.977e-4 on img4 (`twinn bound`'s) 3.4 -> 2.9 s. Ranking by the
 * constants each neuron's relaxation adds to those rows (times the square root of the
 * estimate) did as well on img3 and img7 but took that img4 question from 3.4 s to a timeout
 * (60 s): the constants leave out the loss of the lower relaxations (slope only), and
 * neurons with a zero constant ranked last. Ranking all layers together timed out on img0,
 * img3 and img5. Comparing the best two or three candidates by their children (as FSB does,
 * measured with the constants' ranking) took fewer regions but more time (img3 27.4 / 44.5 s
 * against 19.6 s with the best one alone).
 * Only one network's neuron is split, not its twin in the other too (as until session 16):
 * the split's bounds pin the twin to a sliver range through g = f + d (tighten_pair: [ld, u]
 * or [l, ud], d about 1e-3 wide on MNIST fp16), where its relaxation is nearly exact, so two
 * children do what four did, and the two with the twins in opposite phases were no easier
 * than their parent. img0: 3 285 regions in 23 s with both, 187 in 2.0 s with one. */
static size_t pick_neuron(const engine *E, twinn_nsplit *out) {
  size_t j, k, i;
  double best = 0.0, l, u;
  size_t found = 0, b_layer = SIZE_MAX;
  int by_opt = any_opt_scores(E); /* scores of the optimised bounds exist: they rank all */
  int b_lf = 0;                   /* the best so far is ranked by layer first */
  double best2 = 0.0;             /* its estimate, where pair weights rank first */
  for (j = 0; j < E->n_syms; j++) {
    const symw *w = &E->syms[j];
    int which, n_which = w->g == SIZE_MAX ? 1 : 2;
    if (!w->ok) continue;
    for (which = 0; which < n_which; which++) {
      const twinn_net *net = E->pb->nets[which == 0 ? w->f : w->g];
      int lf = (!by_opt && w->g != SIZE_MAX) || twinn_net_relu_layers(net) >= LAYER_FIRST_DEPTH;
      for (k = 0; k < net->n_layers; k++) {
        const double *os = by_opt ? twinn_sym_opt_scores(w->s, which, k) : NULL;
        const double *pw = !by_opt && w->g != SIZE_MAX ? twinn_sym_pair_weights(w->s, k) : NULL;
        if (net->layers[k].kind != TWINN_LAYER_RELU) continue;
        for (i = 0; i < net->layers[k].n_out; i++) {
          double sc, sc2 = 0.0;
          if (!unstable(w, which, k, i, &l, &u)) continue;
          sc = by_opt ? (os ? os[i] : 0.0) : neuron_estimate(net, k, i, l, u);
          if (pw) sc2 = sc, sc = pw[i] * twinn_relu_tri_height(l, u);
          if (lf != b_lf || (lf && k != b_layer)) {
            if (lf < b_lf || (lf && k > b_layer)) continue;
            best = best2 = 0.0; /* ranked layer first, or of an earlier layer: ranks first */
          }
          if (sc > best || (sc == best && sc2 > best2)) {
            best = sc;
            best2 = sc2;
            found = 1;
            b_lf = lf;
            b_layer = k;
            out[0].sym = (uint32_t)j;
            out[0].which = (int8_t)which;
            out[0].layer = (uint32_t)k;
            out[0].neuron = (uint32_t)i;
          }
        }
      }
    }
  }
  return found;
}

/* The margins of the two children of region r (box [lo, hi]) that the neuron split ns[0] makes,
 * analysed as process() analyses a region, into km[0] (phase +1) and km[1] (-1), INFINITY for
 * a proved child, which make_kids then leaves out instead of analysing it again. 0 if there is
 * no memory for the split list. Leaves the second child's analyses in E (the caller only
 * makes children). Used for twin pairs without optimised scores, whose split is pick_neuron's
 * layer-first choice. History: session 16 chose among the best-estimate neurons of the first
 * two ReLU layers with unstable neurons by analysing both children of each (the one whose
 * worse child was closer to a proof won; img5 of mnist_256x4 fp16 needed layer-3 neurons in
 * between). Once first-layer splits became half-spaces (symhalf.c) the first layer alone was
 * far better: img3 from a timeout (worst margin -0.010 at 120 s) to 54 s, img5 12.5 -> 4.3 s,
 * img0 4.1 -> 1.9 s; that choice is pick_neuron's, and only the children's margins remain. */
static int child_margins(engine *E, const twinn_region *r, const double *lo, const double *hi,
                         const twinn_nsplit *ns, double *km) {
  if (E->look_cap < r->n_splits + 1) {
    twinn_nsplit *p = twinn_realloc(E->look, r->n_splits + 1, sizeof *p);
    if (!p) return 0;
    E->look = p;
    E->look_cap = r->n_splits + 1;
  }
  memcpy(E->look, r->splits, r->n_splits * sizeof *E->look);
  for (int h = 0; h < 2; h++) {
    E->look[r->n_splits] = ns[0];
    E->look[r->n_splits].phase = (int8_t)(h ? -1 : 1);
    km[h] = box_margin(E, lo, hi, E->look, r->n_splits + 1);
  }
  return 1;
}

static void note_undecided(engine *E, const char *why) {
  shared *S = E->S;
  pthread_mutex_lock(&S->mu);
  if (!S->undecided[0]) snprintf(S->undecided, sizeof S->undecided, "%s", why);
  S->lost = 1;
  pthread_mutex_unlock(&S->mu);
}

static size_t first_nonlinear_line(const twinn_prop *prop) {
  size_t i;
  for (i = 0; i < prop->n_lins; i++)
    if (prop->lins[i].nonlinear) return prop->lins[i].line;
  return 0;
}

/* The children of r: 2^n_ns copies with the n_ns splits ns in every phase combination, or
 * (n_ns = 0) two halves of dimension d. km (may be NULL): the halves' own margins from
 * trial_split (n_ns = 0) or of the two children child_margins analysed (n_ns = 1),
 * INFINITY for a proved one, which is left out; else each child gets the parent's margin. Returns
 * the number of children (in kids); (size_t)-1 on out of memory. */
static size_t make_kids(const engine *E, const twinn_region *r, const twinn_nsplit *ns, size_t n_ns,
                        size_t d, double margin, const double *km, twinn_region **kids) {
  size_t n_lins = E->prop->n_lins;
  size_t n = r->n_free, b, t, n_made = 0, n_kids = n_ns ? (size_t)1 << n_ns : 2;
  for (b = 0; b < n_kids; b++) {
    twinn_region *k;
    if (km && km[b] == INFINITY) continue;
    k = twinn_region_new_dead(n, r->n_splits + n_ns, n_lins, E->n_dead);
    if (!k) {
      while (n_made-- > 0) twinn_region_free(kids[n_made]);
      return (size_t)-1;
    }
    kids[n_made++] = k;
    memcpy(k->lo, r->lo, n * sizeof *k->lo);
    memcpy(k->hi, r->hi, n * sizeof *k->hi);
    memcpy(k->splits, r->splits, r->n_splits * sizeof *k->splits);
    if (n_lins) {
      memcpy(k->lin_lo, E->keep_lo, n_lins * sizeof *k->lin_lo);
      memcpy(k->lin_hi, E->keep_hi, n_lins * sizeof *k->lin_hi);
    }
    if (E->n_dead) memcpy(k->dead, E->kdead, E->n_dead);
    k->margin = km ? km[b] : margin;
    k->attacked = n_ns > 0;
    k->no_exact = r->no_exact || E->ex_out;
    k->id = twinn_mix64(r->id * 4 + b + 1);
    for (t = 0; t < n_ns; t++) {
      k->splits[r->n_splits + t] = ns[t];
      k->splits[r->n_splits + t].phase = (int8_t)((b >> t) & 1 ? -1 : 1);
    }
    if (n_ns == 0) {
      double mid = r->lo[d] + (r->hi[d] - r->lo[d]) / 2;
      if (b == 0)
        k->hi[d] = mid;
      else
        k->lo[d] = mid;
    }
  }
  return n_made;
}

/* Enclosures of every linear constraint over the region [lo, hi] (after the analyses) into
 * E->leaf_lo / leaf_hi, with split scores into scores (n_lins x n_free, may be NULL).
 * prior_lo / prior_hi (may be NULL): enclosures over a superset (the parent region, or this
 * one by cheaper analyses), so still sound here: a constraint they decide is not bounded again
 * (on ACAS Xu p1, an or of 10 output constraints, most are proved long before the region
 * is; each costs three back-substitutions), the others get the intersection. */
/* The optimisation stage of bound_all (twinn_sym_bound_opt_many, tried only when the analyses
 * were symbolic). An undecided `and` is refuted by any one conjunct, so only its undecided
 * linear conjunct closest to refutation (largest margin) is optimised (its other kids are walked
 * only when it has none); an undecided `or` walks every kid. opt_collect lists the constraints
 * (their first copies, once each) in E->opt_list; opt_run bounds them, a batch per network
 * and point. */
/* The network and point (*net, *point) every term of lin reads (its outputs, or one hidden
 * point) when that network has a symbolic workspace the last analysis left usable; 0 when
 * there is no such one network and point. */
static int lin_point(const engine *E, const twinn_lin *l, size_t *net, size_t *point) {
  const twinn_prop *prop = E->prop;
  *net = *point = SIZE_MAX;
  for (size_t t = 0; t < l->n_terms; t++) {
    size_t elem = 0, p = SIZE_MAX;
    const twinn_var *v = twinn_prop_var_of(prop, prop->term_var[l->first + t], &elem);
    if (v->role == TWINN_VAR_INPUT || (*net != SIZE_MAX && v->net != *net)) return 0;
    if (v->role == TWINN_VAR_OUTPUT)
      p = E->pb->nets[v->net]->n_layers;
    else if (!twinn_problem_tap_point(E->pb->nets[v->net], v, &p))
      return 0;
    if (*point != SIZE_MAX && p != *point) return 0;
    *net = v->net;
    *point = p;
  }
  return *net != SIZE_MAX && E->sym_of[*net] != SIZE_MAX && E->syms[E->sym_of[*net]].ok;
}

/* The first copy of LIN node k's constraint if the optimisation can bound it (a linear <= / <
 * on one network's outputs, or on one of its hidden points: *net, *point), else SIZE_MAX. */
static size_t opt_lin(const engine *E, const twinn_bool *k, size_t *net, size_t *point) {
  size_t c = k->kind == TWINN_BOOL_LIN ? E->dup[k->lin] : SIZE_MAX;
  const twinn_lin *l = c == SIZE_MAX ? NULL : &E->prop->lins[c];
  if (!l || l->nonlinear || (l->cmp != TWINN_CMP_LE && l->cmp != TWINN_CMP_LT) ||
      !isfinite(l->c0) || !lin_point(E, l, net, point))
    return SIZE_MAX;
  return c;
}

static void opt_add(engine *E, size_t c, size_t net, size_t point) {
  if (E->opt_done[c]) return;
  E->opt_done[c] = 1;
  E->opt_net[E->n_opt] = net;
  E->opt_pt[E->n_opt] = point;
  E->opt_list[E->n_opt++] = c;
}

static void opt_collect(engine *E, size_t node) {
  const twinn_prop *prop = E->prop;
  const twinn_bool *b = &prop->nodes[node];
  size_t i, best = SIZE_MAX, net, point, best_net = 0, best_point = 0;
  double m, bm = -INFINITY;
  if (b->kind == TWINN_BOOL_LIN || node_value(E, node, V_UNKNOWN, &m) != V_UNKNOWN) return;
  if (b->kind == TWINN_BOOL_AND)
    for (i = 0; i < b->n_kids; i++) {
      size_t c = opt_lin(E, &prop->nodes[prop->kids[b->first_kid + i]], &net, &point);
      if (c == SIZE_MAX) continue;
      if (leaf_value(&prop->lins[c], E->leaf_lo[c], E->leaf_hi[c], &m) == V_UNKNOWN && m > bm)
        bm = m, best = c, best_net = net, best_point = point;
    }
  if (best != SIZE_MAX) {
    opt_add(E, best, best_net, best_point);
    return;
  }
  for (i = 0; i < b->n_kids; i++) {
    size_t k = prop->kids[b->first_kid + i];
    if (prop->nodes[k].kind != TWINN_BOOL_LIN) {
      opt_collect(E, k);
    } else if (b->kind == TWINN_BOOL_OR) { /* every undecided kid of an or must be refuted */
      size_t c = opt_lin(E, &prop->nodes[k], &net, &point);
      if (c != SIZE_MAX &&
          leaf_value(&prop->lins[c], E->leaf_lo[c], E->leaf_hi[c], &m) == V_UNKNOWN)
        opt_add(E, c, net, point);
    }
  }
}

/* Bounds the listed constraints, one batch per network and point they read (lin_point). */
static void opt_run(engine *E) {
  const twinn_prop *prop = E->prop;
  size_t i, t, first;
  for (first = 0; first < E->n_opt; first++) {
    size_t net = E->opt_net[first], point = E->opt_pt[first], k = 0, j, n_out;
    twinn_error err;
    if (net == SIZE_MAX) continue; /* in an earlier batch */
    j = E->sym_of[net];
    n_out = twinn_net_width_at(E->pb->nets[net], point);
    for (i = first; i < E->n_opt; i++) {
      const twinn_lin *l = &prop->lins[E->opt_list[i]];
      if (E->opt_net[i] != net || E->opt_pt[i] != point) continue;
      E->opt_net[i] = SIZE_MAX;
      if ((k + 1) * n_out > E->opt_cap) {
        size_t cap = 2 * (k + 1) * n_out;
        double *c = twinn_realloc(E->opt_c, cap, sizeof *c);
        if (!c) break; /* out of memory: fewer constraints optimised, still sound */
        E->opt_c = c;
        E->opt_cap = cap;
      }
      memset(E->opt_c + k * n_out, 0, n_out * sizeof *E->opt_c);
      for (t = 0; t < l->n_terms; t++) {
        size_t elem = 0;
        twinn_prop_var_of(prop, prop->term_var[l->first + t], &elem);
        E->opt_c[k * n_out + elem] += prop->term_coef[l->first + t];
      }
      E->opt_off[k] = l->c0;
      E->opt_idx[k++] = E->opt_list[i];
    }
    if (!k) continue;
    twinn_error_clear(&err);
    if (twinn_sym_bound_opt_at(E->syms[j].s, E->syms[j].f == net ? TWINN_SYM_F : TWINN_SYM_G, point,
                               E->opt_c, E->opt_off, k, E->opt_rounds, E->opt_lo, &err) != TWINN_OK)
      continue;
    for (i = 0; i < k; i++) {
      size_t c = E->opt_idx[i];
      if (isfinite(E->opt_lo[i]))
        E->leaf_lo[c] = fmax(E->leaf_lo[c], twinn_round_down(prop->lins[c].c0 + E->opt_lo[i]));
    }
  }
}

static void bound_all(engine *E, const double *lo, const double *hi, const double *prior_lo,
                      const double *prior_hi, double *scores) {
  size_t i, n = E->sp->n_free;
  double m;
  int sym = 0;
  for (i = 0; i < E->n_syms; i++) sym |= E->syms[i].ok;
  for (i = 0; i < E->prop->n_lins; i++) {
    const twinn_lin *l = &E->prop->lins[i];
    double pl = prior_lo ? prior_lo[i] : NAN, ph = prior_hi ? prior_hi[i] : NAN;
    int have = !isnan(pl) && !isnan(ph);
    if (l->nonlinear) continue;
    if (E->dup[i] != i) continue; /* copied below */
    if (have && leaf_value(l, pl, ph, &m) != V_UNKNOWN) {
      E->leaf_lo[i] = pl;
      E->leaf_hi[i] = ph;
      continue;
    }
    if (scores) {
      memset(scores + i * n, 0, n * sizeof *scores);
      E->score_set[i] = 1;
    }
    bound_leaf(E, lo, hi, l, scores ? scores + i * n : NULL, &E->leaf_lo[i], &E->leaf_hi[i]);
    if (have && !isnan(E->leaf_lo[i]) && !isnan(E->leaf_hi[i])) {
      E->leaf_lo[i] = fmax(E->leaf_lo[i], pl);
      E->leaf_hi[i] = fmin(E->leaf_hi[i], ph);
    }
  }
  if (sym && E->opt_rounds) {
    memset(E->opt_done, 0, E->prop->n_lins);
    E->n_opt = 0;
    opt_collect(E, E->prop->root);
    opt_run(E);
  }
  for (i = 0; i < E->prop->n_lins; i++) {
    E->leaf_lo[i] = E->leaf_lo[E->dup[i]];
    E->leaf_hi[i] = E->leaf_hi[E->dup[i]];
  }
}

/* Adds the relaxation gains (splitscore.h) of each undecided constraint to its split scores
 * (E->lin_score), for the workspaces that have a twinn_splitscore (few inputs). One pass per
 * workspace, all constraints as rows. */
static void relax_scores(engine *E, const double *lo, const double *hi) {
  const twinn_prop *prop = E->prop;
  size_t j, i, r, t, n = E->sp->n_free;
  for (j = 0; j < E->n_syms; j++) {
    const symw *w = &E->syms[j];
    const twinn_net *nf = E->pb->nets[w->f];
    const twinn_var *in = twinn_prop_net_var(prop, w->f, TWINN_VAR_INPUT);
    size_t no = nf->n_out, nr = 0;
    if (!w->ok || !w->ss) continue;
    for (i = 0; i < prop->n_lins; i++) {
      const twinn_lin *l = &prop->lins[i];
      double m, *cf = E->ss_cf + nr * no, *cg = E->ss_cg + nr * no;
      int reads = 0;
      if (!E->score_set[i] || l->nonlinear ||
          leaf_value(l, E->leaf_lo[i], E->leaf_hi[i], &m) != V_UNKNOWN)
        continue;
      memset(cf, 0, no * sizeof *cf);
      memset(cg, 0, no * sizeof *cg);
      for (t = 0; t < l->n_terms; t++) { /* c_f + c_g on f's outputs, c_g on g's (splitscore.h) */
        size_t elem = 0;
        const twinn_var *v = twinn_prop_var_of(prop, prop->term_var[l->first + t], &elem);
        double c = prop->term_coef[l->first + t];
        if (v->role != TWINN_VAR_OUTPUT || (v->net != w->f && v->net != w->g)) continue;
        cf[elem] += c;
        if (v->net == w->g) cg[elem] += c;
        reads = 1;
      }
      if (reads) E->ss_rows[nr++] = i;
    }
    if (nr == 0) continue; /* the forward pass only for workspaces with undecided rows */
    for (r = 0; r < nf->n_in; r++) {
      size_t d = E->sp->dim_of[in->offset + r];
      E->ss_width[r] = d == SIZE_MAX ? 0.0 : hi[d] - lo[d];
    }
    if (!twinn_splitscore_prepare(w->ss, w->s, E->ss_width) ||
        !twinn_splitscore_gains(w->ss, nr, E->ss_cf, E->ss_cg, E->ss_gain))
      continue;
    for (i = 0; i < nr; i++)
      for (r = 0; r < nf->n_in; r++) {
        size_t d = E->sp->dim_of[in->offset + r];
        double gn = E->ss_gain[i * nf->n_in + r];
        if (d != SIZE_MAX && isfinite(gn))
          E->lin_score[E->ss_rows[i] * n + d] += TWINN_SPLITSCORE_WEIGHT * gn;
      }
  }
}

/* ---- exact search of regions with few undecided ReLUs ---- */

/* A region of an input space wider than TRIAL_DIMS whose analysis leaves at most
 * E->exact_relus (twinn_options.exact_relus) ReLUs undecided (f and g together) is decided by
 * the exact phase search (exact.h: certified LP bounds over every phase combination the box
 * allows, the region's neuron splits fixed), EXACT_LPS linear programs at most per constraint;
 * below a region whose search ran out of them none is tried again (twinn_region.no_exact: a
 * count, not a clock, so that the search stays the same for any timing and thread count).
 * Where few neurons are unstable but the inputs are many, bisecting inputs (and splitting the
 * last neurons, which leaves polytopes the relaxation bounds only loosely) needs tens of
 * thousands of regions that an LP per phase combination does not: test_verify
 * test_wide_exact's twins of 96 inputs (hidden layers of 4 and 4), three thresholds the MILP
 * mode proves in 0.1-0.8 s timed out at 4 s after 43 000-127 000 regions. Measured on such
 * twins (96 inputs, hidden 4+4, 6+6, 8+8, 16 thresholds each, 10 s; vnncomp/BENCHMARKS.md
 * session 31): a cap of 8 decides all but one (a threshold the MILP mode leaves open at 60 s)
 * and most in a few regions; 12 and 16 start searches of 2^12-2^16 phase combinations where
 * a few more neuron splits were cheaper (8+8: 0.95-1.90 s against 0.01-0.25 s), and 24, at
 * the root only, took up to 9.4 s on one that splits decide in 0.01 s. */
#define EXACT_LPS 20000
/* ... and only for networks whose affine forms cost at most EXACT_FLOPS multiply-adds per pass
 * (inputs + 1 times the weights): the search keeps every neuron as a dense form of the inputs,
 * so on MNIST's (784 inputs, 256-wide layers: 2e8 per pass, one per path) a search of a few
 * hundred paths would take seconds where a region's analysis takes milliseconds. */
#define EXACT_FLOPS 5e7

/* Multiply-adds of one pass of the exact search's forms through network net. */
static double exact_flops(const twinn_net *net) {
  double w = 0.0;
  for (size_t k = 0; k < net->n_layers; k++)
    if (net->layers[k].kind == TWINN_LAYER_AFFINE)
      w += (double)net->layers[k].n_out * (double)net->layers[k].n_in;
  return w * (double)(net->n_in + 1);
}

/* Whether the last analysis of w left more than cap ReLUs undecided, in both networks of a
 * pair (counting stops there). */
static int undecided_over(const engine *E, const symw *w, size_t cap) {
  size_t n = 0, k, i;
  double l, u;
  for (int which = 0; which < (w->g == SIZE_MAX ? 1 : 2); which++) {
    const twinn_net *net = E->pb->nets[which == 0 ? w->f : w->g];
    for (k = 0; k < net->n_layers; k++)
      if (net->layers[k].kind == TWINN_LAYER_RELU)
        for (i = 0; i < net->layers[k].n_out; i++)
          if ((n += (size_t)unstable(w, which, k, i, &l, &u)) > cap) return 1;
  }
  return 0;
}

/* The workspace whose networks' outputs are all that constraint l reads (besides its constant),
 * SIZE_MAX if there is no such workspace. */
static size_t lin_sym(const engine *E, const twinn_lin *l) {
  size_t j = SIZE_MAX, t, elem, k;
  for (t = 0; t < l->n_terms; t++) {
    const twinn_var *v = twinn_prop_var_of(E->prop, E->prop->term_var[l->first + t], &elem);
    if (v->role != TWINN_VAR_OUTPUT || (k = E->sym_of[v->net]) == SIZE_MAX ||
        (j != SIZE_MAX && k != j))
      return SIZE_MAX;
    j = k;
  }
  return j;
}

/* Certified bound of constraint l's expression e = sum c_t y_t + c0 over the box by the exact
 * search of workspace w: its lower end (sign -1: c0 - max(-sum c_t y_t)) or its upper end (sign
 * +1: c0 + max(sum c_t y_t)), with *done = 1, if the search completes (*done = 0 if it ran out
 * of budget). The search's best point is replayed as a witness first (*sat = 1 with
 * E->witness). */
static twinn_status exact_end(engine *E, symw *w, const twinn_lin *l, double sign, const double *lo,
                              const double *hi, double *bound, int *done, int *sat) {
  const twinn_net *nf = E->pb->nets[w->f];
  const twinn_var *in = twinn_prop_net_var(E->prop, w->f, TWINN_VAR_INPUT);
  twinn_exact_result res;
  twinn_error err;
  twinn_status st;
  size_t t, elem, n = E->sp->n_free;
  *done = 0;
  memset(E->ex_cf, 0, nf->n_out * sizeof *E->ex_cf);
  memset(E->ex_cg, 0, nf->n_out * sizeof *E->ex_cg);
  for (t = 0; t < l->n_terms; t++) {
    const twinn_var *v = twinn_prop_var_of(E->prop, E->prop->term_var[l->first + t], &elem);
    (v->net == w->f ? E->ex_cf : E->ex_cg)[elem] = sign * E->prop->term_coef[l->first + t];
  }
  net_box(E, w->f, lo, hi);
  twinn_error_clear(&err);
  twinn_exact_set_deadline(w->ex, E->S->deadline); /* the run's end: it stops then anyway */
  twinn_exact_set_cancel(w->ex, E->S->cancel);
  st = twinn_exact_max(w->ex, E->ex_cf, w->g == SIZE_MAX ? NULL : E->ex_cg, E->in_lo, E->in_hi,
                       -INFINITY, EXACT_LPS, &res, &err);
  if (st == TWINN_ERR_INTERNAL) { /* GLPK could not start: no exact search */
    w->ex_none = 1;
    return TWINN_OK;
  }
  if (st != TWINN_OK) return st;
  if (res.point) { /* the maximiser of sign * (e - c0): where e is most likely to hold */
    int found = 0;
    for (t = 0; t < n; t++) E->half_lo[t] = lo[t] + (hi[t] - lo[t]) / 2;
    for (t = 0; t < nf->n_in; t++) E->half_lo[E->sp->dim_of[in->offset + t]] = res.point[t];
    st = twinn_attack_check(E->atk, lo, hi, E->half_lo, E->witness, &found);
    if (st != TWINN_OK || found) {
      *sat = found;
      return st;
    }
  }
  if (!res.complete) return TWINN_OK;
  *done = 1;
  *bound = sign < 0 ? twinn_round_down(l->c0 - res.upper) : twinn_round_up(l->c0 + res.upper);
  return TWINN_OK;
}

/* Tries to decide the box region [lo, hi] by exact searches (see EXACT_LPS): every
 * undecided constraint must read the outputs of one workspace alone, whose analysis left at
 * most E->exact_relus ReLUs undecided. Their enclosures (leaf and keep) take the exact ends;
 * *decided = 1 if the formula is then false on the region, *sat = 1 if a search's point
 * replayed as a witness. */
static twinn_status exact_region(engine *E, const twinn_region *r, int *decided, int *sat) {
  const double *lo = r->lo, *hi = r->hi;
  size_t i, j;
  double m, b;
  int done;
  twinn_status st;
  *decided = 0;
  if (r->no_exact || E->exact_relus == 0) return TWINN_OK;
  for (i = 0; i < E->prop->n_lins; i++) {
    const twinn_lin *l = &E->prop->lins[i];
    if (E->dup[i] != i || leaf_value(l, E->leaf_lo[i], E->leaf_hi[i], &m) != V_UNKNOWN) continue;
    if (l->nonlinear || (j = lin_sym(E, l)) == SIZE_MAX) return TWINN_OK;
    symw *w = &E->syms[j];
    if (!w->ok || w->ex_none || undecided_over(E, w, E->exact_relus)) return TWINN_OK;
  }
  for (i = 0; i < E->prop->n_lins; i++) {
    const twinn_lin *l = &E->prop->lins[i];
    if (E->dup[i] != i || leaf_value(l, E->leaf_lo[i], E->leaf_hi[i], &m) != V_UNKNOWN) continue;
    symw *w = &E->syms[lin_sym(E, l)];
    if (!w->ex && !w->ex_none &&
        !(w->ex = twinn_exact_new(E->pb->nets[w->f], w->g == SIZE_MAX ? NULL : E->pb->nets[w->g])))
      w->ex_none = 1; /* unsupported layers (or out of memory: then none either) */
    if (w->ex_none) return TWINN_OK;
    twinn_exact_clear_fixes(w->ex); /* the region's neuron splits restrict the search */
    for (size_t k = 0; k < r->n_splits; k++)
      if (r->splits[k].sym == (uint32_t)(w - E->syms) &&
          twinn_exact_fix(w->ex, r->splits[k].which, r->splits[k].layer, r->splits[k].neuron,
                          r->splits[k].phase) != TWINN_OK)
        return TWINN_OK;
    /* e <= 0 / e < 0 are proved false by e's lower end; == and != need both. */
    for (int side = 0; side < (l->cmp == TWINN_CMP_EQ || l->cmp == TWINN_CMP_NE ? 2 : 1); side++) {
      st = exact_end(E, w, l, side == 0 ? -1.0 : 1.0, lo, hi, &b, &done, sat);
      if (st != TWINN_OK || *sat) return st;
      if (!done) {
        E->ex_out = 1;
        return TWINN_OK;
      }
      if (side == 0)
        E->leaf_lo[i] = E->keep_lo[i] = fmax(E->leaf_lo[i], b);
      else
        E->leaf_hi[i] = E->keep_hi[i] = fmin(E->leaf_hi[i], b);
    }
  }
  *decided = node_value(E, E->prop->root, V_UNKNOWN, &m) == V_FALSE;
  return TWINN_OK;
}

/* Processes one region: proves it (no kids), finds a witness in it (*sat = 1), or splits it
 * (*n_kids > 0). Everything here depends only on the region, never on timing or threads. */
static twinn_status process(engine *E, const twinn_region *r, twinn_region **kids, size_t *n_kids,
                            int *sat) {
  shared *S = E->S;
  size_t i, n = E->sp->n_free, d = SIZE_MAX;
  const double *lo = r->lo, *hi = r->hi;
  const double *prior_lo = r->n_lins == E->prop->n_lins ? r->lin_lo : NULL;
  const double *prior_hi = r->n_lins == E->prop->n_lins ? r->lin_hi : NULL;
  double margin, m2, km[2];
  const double *kmp = NULL;
  int v, found = 0;
  size_t by_neuron = 0;
  twinn_nsplit ns[2];
  twinn_status st;
  int cheap = cheap_wanted(E);
  *n_kids = 0;
  E->cheap_hit = 0;
  E->ex_out = 0;
  /* Interval and ReluDiff bounds first: a region they prove skips the symbolic analysis, the
   * expensive part. They ignore neuron splits, so they are only tried on plain boxes. */
  reset_analyses(E);
  if (cheap) cheap_bounds(E, lo, hi);
  if (cheap && r->n_splits == 0) {
    bound_all(E, lo, hi, prior_lo, prior_hi, NULL);
    if (node_value(E, E->prop->root, V_UNKNOWN, &margin) == V_FALSE) {
      E->cheap_hit = 1;
      cheap_note(E);
      return TWINN_OK;
    }
    memcpy(E->keep_lo, E->leaf_lo, E->prop->n_lins * sizeof *E->keep_lo);
    memcpy(E->keep_hi, E->leaf_hi, E->prop->n_lins * sizeof *E->keep_hi);
    prior_lo = E->keep_lo;
    prior_hi = E->keep_hi;
  }
  /* The kids' dead ReLUs: this region's (where its analysis gives none, what it inherited). */
  if (E->rdead)
    memcpy(E->kdead, E->rdead, E->n_dead);
  else
    memset(E->kdead, 0, E->n_dead);
  if (analyse_sym(E, lo, hi, r->splits, r->n_splits)) return TWINN_OK;
  for (i = 0; i < E->n_syms; i++)
    if (E->syms[i].ok) (void)twinn_sym_dead_bits(E->syms[i].s, E->kdead + E->dead_off[i]);
  if (!cheap)
    for (i = 0; i < E->n_syms; i++)
      if (!E->syms[i].ok) { /* a failed analysis: the cheap bounds are all there is */
        cheap_bounds(E, lo, hi);
        break;
      }
  if (past(S, twinn_clock_now())) { /* an analysis can be long */
    E->timed_out = 1;
    return TWINN_OK;
  }
  /* Each constraint's split scores are kept, so the undecided ones need no second bounding. */
  /* Rows are cleared as they are written (bound_all): all of them would be n_lins x n_free
   * doubles per region, 19 MB for a top-1 property on MNIST. */
  memset(E->score_set, 0, E->prop->n_lins);
  bound_all(E, lo, hi, prior_lo, prior_hi, E->lin_score);
  if (cheap) cheap_note(E);
  memcpy(E->keep_lo, E->leaf_lo, E->prop->n_lins * sizeof *E->keep_lo);
  memcpy(E->keep_hi, E->leaf_hi, E->prop->n_lins * sizeof *E->keep_hi);
  v = node_value(E, E->prop->root, V_UNKNOWN, &margin);
  if (v == V_FALSE) return TWINN_OK;
  for (i = 0; i < n; i++) E->center[i] = lo[i] + (hi[i] - lo[i]) / 2;
  E->rng = twinn_mix64((uint64_t)S->opt->seed ^ r->id);
  if (v == V_TRUE) { /* every point of the region is a counterexample: replay the centre */
    st = twinn_attack_check(E->atk, lo, hi, E->center, E->witness, &found);
    if (st != TWINN_OK || found) {
      *sat = found;
      return st;
    }
  }
  if (E->prop->n_nonlinear > 0 && node_value(E, E->prop->root, V_FALSE, &m2) == V_FALSE) {
    char why[128];
    snprintf(why, sizeof why, "nonlinear constraint at line %zu", first_nonlinear_line(E->prop));
    note_undecided(E, why);
    return TWINN_OK;
  }
  for (i = 0; i < E->prop->n_lins; i++)
    if (!E->prop->lins[i].nonlinear && (isnan(E->leaf_lo[i]) || isnan(E->leaf_hi[i]))) {
      note_undecided(E, "NaN in the bounds of a constraint");
      return TWINN_OK;
    }
  /* A neuron split keeps the box, and this search (from the box centre) would repeat the
   * parent's exactly: 20 % of an MNIST robustness search went there. */
  if (!r->attacked && !S->opt->no_attack) {
    st = twinn_attack_run(E->atk, lo, hi, 1, 4, 0, &E->rng, S->deadline, E->witness, &found);
    if (st != TWINN_OK || found) {
      *sat = found;
      return st;
    }
  }
  {
    int decided = 0; /* (workspaces of few inputs have ex_none set: see find_syms) */
    st = exact_region(E, r, &decided, sat);
    if (st != TWINN_OK || *sat || decided) return st;
  }
  if (S->neuron_mode) {
    by_neuron = pick_neuron(E, ns);
    if (by_neuron && !any_opt_scores(E) && E->syms[ns[0].sym].g != SIZE_MAX &&
        child_margins(E, r, lo, hi, ns, km))
      kmp = km;
  }
  if (!by_neuron && n <= TRIAL_DIMS && E->n_pairs == 0 && !E->have_ss) {
    d = trial_split(E, r, margin, km);
    if (d != SIZE_MAX) kmp = km;
  } else if (!by_neuron) {
    /* Each undecided constraint's sensitivities, rescaled to sum to its gap to a proof (-margin):
     * a constraint far from proved weighs more than one about to be (fewer branches on ACAS Xu
     * than the plain sum; see vnncomp/BENCHMARKS.md). */
    relax_scores(E, lo, hi);
    memset(E->score, 0, n * sizeof *E->score);
    for (i = 0; i < E->prop->n_lins; i++) {
      double m, tot = 0.0;
      size_t j;
      const twinn_lin *l = &E->prop->lins[i];
      if (!E->score_set[i] || l->nonlinear ||
          leaf_value(l, E->leaf_lo[i], E->leaf_hi[i], &m) != V_UNKNOWN)
        continue;
      for (j = 0; j < n; j++) tot += E->lin_score[i * n + j];
      if (tot > 0 && isfinite(tot) && isfinite(m))
        for (j = 0; j < n; j++) E->score[j] += E->lin_score[i * n + j] * (-m / tot);
      else
        for (j = 0; j < n; j++) E->score[j] += E->lin_score[i * n + j];
    }
    d = pick_split(E, lo, hi);
  }
  if (!by_neuron && d == SIZE_MAX) {
    /* Input bisection cannot go on (no analysis of a half ran, so E still holds r's): a neuron
     * split may still decide (any dimension count). */
    by_neuron = pick_neuron(E, ns);
    if (!by_neuron) {
      note_undecided(E, "a region became too small to split (float precision) without a decision");
      return TWINN_OK;
    }
  }
  *n_kids = make_kids(E, r, ns, by_neuron, d, margin, kmp, kids);
  if (*n_kids == (size_t)-1) {
    *n_kids = 0;
    return TWINN_ERR_NOMEM;
  }
  return TWINN_OK;
}

/* ---- the workers ---- */

/* Under S->mu. At most a few times per second unless forced. */
static void report(shared *S, double now, int force) {
  twinn_progress p;
  if (!S->opt->progress || (!force && now - S->last_report < 0.25)) return;
  S->last_report = now;
  p.elapsed = now - S->t0;
  p.branches = S->branches;
  p.open = S->q.n;
  p.bound = S->q.n ? S->q.heap[0]->margin : NAN;
  S->opt->progress(S->opt->progress_ctx, &p);
}

static void stop_with(shared *S, int why, twinn_status st) {
  if (S->stop == RUN) {
    S->stop = why;
    S->st = st;
  }
  pthread_cond_broadcast(&S->cv);
}

/* Under S->mu: a child goes to the shared queue, or to this worker's depth-first stack once the
 * queue holds QUEUE_MEM_CAP bytes. Takes ownership of k. */
static twinn_status place(engine *E, twinn_region *k) {
  shared *S = E->S;
  if (S->q.bytes < QUEUE_MEM_CAP) {
    twinn_status st = twinn_queue_push(&S->q, k);
    if (st == TWINN_OK) pthread_cond_signal(&S->cv);
    return st;
  }
  if (E->n_local == E->cap_local) {
    size_t cap = E->cap_local ? 2 * E->cap_local : 64;
    twinn_region **nl = twinn_realloc(E->local, cap, sizeof *nl);
    if (!nl) {
      twinn_region_free(k);
      return TWINN_ERR_NOMEM;
    }
    E->local = nl;
    E->cap_local = cap;
  }
  E->local[E->n_local++] = k;
  return TWINN_OK;
}

/* Under S->mu (released while searching): one burst of the deferred initial attack, random
 * restarts on each case box for S->attack_burst seconds (at most the budget left). The next
 * burst, twice as long, is armed 19 bursts' time later: one worker spends about a twentieth
 * of its time there (a tenth cost 5-8 % on acasxu_fp16_eps p1). So a counterexample in a thin
 * sliver (ACAS Xu 1_9 prop_7 and 5_3 prop_2) is found during a long search, while a short
 * search pays little. Given up once the search is over (stopped, or the queue empty with no
 * worker busy: every region decided) or the budget S->attack_len is spent. */
static void deferred_attack(engine *E) {
  shared *S = E->S;
  const twinn_space *sp = E->sp;
  size_t c, nf = sp->n_free;
  double t = twinn_clock_now(), len = fmin(S->attack_burst, S->attack_len), end = t + len;
  int found = 0, over = 0;
  twinn_status st = TWINN_OK;
  S->attack_pending = 0;
  while (!found && !over && st == TWINN_OK)
    for (c = 0; c < sp->n_cases && !found && st == TWINN_OK; c++) {
      over = S->stop != RUN || (S->q.n == 0 && S->busy == 0 && E->n_local == 0) ||
             twinn_clock_now() > end;
      if (over) break;
      pthread_mutex_unlock(&S->mu);
      st = twinn_attack_run(E->atk, sp->lo + c * nf, sp->hi + c * nf, 1, ATTACK_STEPS,
                            TWINN_ATTACK_REFINE | TWINN_ATTACK_NO_CENTRE, &S->attack_rng, end,
                            E->witness, &found);
      pthread_mutex_lock(&S->mu);
    }
  S->attack_len -= twinn_clock_now() - t;
  if (st != TWINN_OK) {
    stop_with(S, STOP_ERROR, st);
  } else if (found) {
    if (S->stop == RUN) memcpy(S->witness, E->witness, E->prop->n_scalars * sizeof *E->witness);
    stop_with(S, STOP_SAT, TWINN_OK);
  } else if (S->stop == RUN && S->attack_len > 0) {
    S->attack_pending = 1;
    S->attack_at = twinn_clock_now() + 19.0 * len;
    S->attack_burst *= 2.0;
  }
}

/* The worker loop: takes regions (its own depth-first stack first, else the queue's best) until
 * the queue is empty with nobody busy, or a stop. */
static void *worker_main(void *arg) {
  engine *E = arg;
  shared *S = E->S;
  pthread_mutex_lock(&S->mu);
  while (S->stop == RUN) {
    twinn_region *r, *kids[4];
    size_t nk = 0, i;
    int sat = 0;
    twinn_status st;
    double now = twinn_clock_now();
    if (past(S, now)) {
      stop_with(S, STOP_TIMEOUT, TWINN_OK);
      break;
    }
    if (S->attack_pending && now >= S->attack_at) {
      deferred_attack(E);
      continue;
    }
    if (E->n_local > 0) {
      r = E->local[--E->n_local];
    } else {
      r = twinn_queue_pop(&S->q);
      if (!r) {
        struct timespec ts;
        if (S->busy == 0) {
          pthread_cond_broadcast(&S->cv);
          break;
        }
        /* Wake up at least every 20 ms to see the deadline. */
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&S->cv, &S->mu, &ts);
        continue;
      }
      S->busy++;
    }
    S->branches++;
    report(S, now, 0);
    pthread_mutex_unlock(&S->mu);
    E->rdead = r->n_dead == E->n_dead && E->n_dead ? r->dead : NULL;
    st = process(E, r, kids, &nk, &sat);
    E->rdead = NULL;
    pthread_mutex_lock(&S->mu);
    if (st != TWINN_OK) {
      stop_with(S, STOP_ERROR, st);
    } else if (sat) {
      if (S->stop == RUN) memcpy(S->witness, E->witness, E->prop->n_scalars * sizeof *E->witness);
      stop_with(S, STOP_SAT, TWINN_OK);
    } else if (E->timed_out) {
      stop_with(S, STOP_TIMEOUT, TWINN_OK);
      if (twinn_queue_push(&S->q, r) == TWINN_OK)
        r = NULL; /* still open */
      else
        S->lost = 1;
    }
    for (i = 0; i < nk; i++)
      if ((st = place(E, kids[i])) != TWINN_OK) stop_with(S, STOP_ERROR, st);
    twinn_region_free(r);
    if (E->n_local == 0) {
      S->busy--;
      if (S->busy == 0 && S->q.n == 0) pthread_cond_broadcast(&S->cv);
    }
  }
  pthread_mutex_unlock(&S->mu);
  return NULL;
}

/* Pairs (f, g) of isomorphic networks whose inputs are tied element by element. */
static twinn_status find_pairs(engine *E) {
  size_t i, j, r, n = E->pb->n_nets;
  E->pairs = twinn_calloc(n * n + 1, sizeof *E->pairs);
  if (!E->pairs) return TWINN_ERR_NOMEM;
  if (E->S->sub & SUB_NET) return TWINN_OK; /* no constraint reads two networks */
  for (i = 0; i < n; i++)
    for (j = i + 1; j < n; j++) {
      const twinn_var *a = twinn_prop_net_var(E->prop, i, TWINN_VAR_INPUT);
      const twinn_var *b = twinn_prop_net_var(E->prop, j, TWINN_VAR_INPUT);
      int tied = twinn_net_isomorphic(E->pb->nets[i], E->pb->nets[j]);
      for (r = 0; tied && r < E->pb->nets[i]->n_in; r++)
        tied = E->sp->dim_of[a->offset + r] == E->sp->dim_of[b->offset + r];
      if (!tied) continue;
      E->pairs[E->n_pairs].f = i;
      E->pairs[E->n_pairs].g = j;
      if (twinn_ibounds_init(&E->pairs[E->n_pairs].d, E->pb->nets[i]) != TWINN_OK)
        return TWINN_ERR_NOMEM;
      E->n_pairs++;
    }
  return TWINN_OK;
}

/* 1 if some constraint reads a value of network `net` other than its inputs. */
static int net_read(const twinn_prop *prop, size_t net) {
  for (size_t i = 0; i < prop->n_lins; i++) /* a sub-property's terms are a subset */
    for (size_t t = 0; t < prop->lins[i].n_terms; t++) {
      size_t elem;
      const twinn_var *v = twinn_prop_var_of(prop, prop->term_var[prop->lins[i].first + t], &elem);
      if (v && v->role != TWINN_VAR_INPUT && v->net == net) return 1;
    }
  return 0;
}

/* Symbolic workspaces: one per pair (its networks not yet covered), then one per remaining
 * network; networks the symbolic analysis does not support keep interval bounds only. */
static twinn_status find_syms(engine *E) {
  size_t i, j, n = E->pb->n_nets;
  E->syms = twinn_calloc(n + 1, sizeof *E->syms);
  E->sym_of = twinn_mallocarray(n + 1, sizeof *E->sym_of);
  if (!E->syms || !E->sym_of) return TWINN_ERR_NOMEM;
  for (i = 0; i < n; i++) E->sym_of[i] = SIZE_MAX;
  for (j = 0; j < E->n_pairs + n; j++) {
    size_t f = j < E->n_pairs ? E->pairs[j].f : j - E->n_pairs;
    size_t g = j < E->n_pairs ? E->pairs[j].g : SIZE_MAX;
    const twinn_net *ng = g == SIZE_MAX ? NULL : E->pb->nets[g];
    twinn_error err;
    if (E->sym_of[f] != SIZE_MAX || (g != SIZE_MAX && E->sym_of[g] != SIZE_MAX)) continue;
    if (!E->bounded[f] && (g == SIZE_MAX || !E->bounded[g])) continue;
    twinn_error_clear(&err);
    if (twinn_sym_supported(E->pb->nets[f], ng, &err) != TWINN_OK) continue;
    E->syms[E->n_syms].s = twinn_sym_new(E->pb->nets[f], ng);
    if (!E->syms[E->n_syms].s) return TWINN_ERR_NOMEM;
    /* One round of optimised lower slopes for a single network: ACAS Xu prop_5 on acasxu_1_1
     * (nearly tight, margins of -0.005) went from a timeout at 116 s to unsat in 8-20 s
     * (3 560 regions; without it 6 570 regions and 600 open at 25 s), at about the same cost
     * per region elsewhere. Pairs keep the plain relaxation (not measured there), and skip
     * the back-substitution of g - f where both networks are active (symbolic.h). */
    if (g == SIZE_MAX)
      twinn_sym_set_alpha_steps(E->syms[E->n_syms].s, SYM_ALPHA_STEPS);
    else
      twinn_sym_set_skip_active(E->syms[E->n_syms].s, 1);
    if (E->sp->n_free <= TRIAL_DIMS) {
      E->syms[E->n_syms].ss = twinn_splitscore_new(E->pb->nets[f], ng);
      if (!E->syms[E->n_syms].ss) { /* not counted in n_syms yet: engine_release misses it */
        twinn_sym_free(E->syms[E->n_syms].s);
        E->syms[E->n_syms].s = NULL;
        return TWINN_ERR_NOMEM;
      }
      E->have_ss = 1;
    }
    E->syms[E->n_syms].ex_none =
        E->sp->n_free <= TRIAL_DIMS || exact_flops(E->pb->nets[f]) > EXACT_FLOPS;
    E->syms[E->n_syms].f = f;
    E->syms[E->n_syms].g = g;
    E->sym_of[f] = E->n_syms;
    if (g != SIZE_MAX) E->sym_of[g] = E->n_syms;
    E->n_syms++;
  }
  return TWINN_OK;
}

static int weights_finite(const twinn_net *net) {
  size_t k, i;
  for (k = 0; k < net->n_layers; k++) {
    const twinn_layer *L = &net->layers[k];
    if (L->kind != TWINN_LAYER_AFFINE) continue;
    for (i = 0; i < L->n_out * L->n_in; i++)
      if (!isfinite(L->w[i])) return 0;
    for (i = 0; i < L->n_out; i++)
      if (!isfinite(L->b[i])) return 0;
  }
  return 1;
}

/* E->dup (twinn_prop_lin_dups) and the optimisation stage's per-constraint arrays. */
static twinn_status find_dups(engine *E) {
  size_t n = E->prop->n_lins;
  E->dup = twinn_mallocarray(n + 1, sizeof *E->dup);
  E->opt_done = twinn_calloc(n + 1, 1);
  E->opt_list = twinn_mallocarray(n + 1, sizeof *E->opt_list);
  E->opt_idx = twinn_mallocarray(n + 1, sizeof *E->opt_idx);
  E->opt_net = twinn_mallocarray(n + 1, sizeof *E->opt_net);
  E->opt_pt = twinn_mallocarray(n + 1, sizeof *E->opt_pt);
  E->opt_lo = twinn_mallocarray(n + 1, sizeof *E->opt_lo);
  E->opt_off = twinn_mallocarray(n + 1, sizeof *E->opt_off);
  if (!E->dup || !E->opt_done || !E->opt_list || !E->opt_idx || !E->opt_net || !E->opt_pt ||
      !E->opt_lo || !E->opt_off)
    return TWINN_ERR_NOMEM;
  return twinn_prop_lin_dups(E->prop, E->dup);
}

/* Whether some constraint reads a hidden value (only the cheap bounds bound those). */
static int reads_hidden(const twinn_prop *prop) {
  for (size_t i = 0; i < prop->n_lins; i++) {
    const twinn_lin *l = &prop->lins[i];
    for (size_t t = 0; t < l->n_terms; t++) {
      size_t elem = 0;
      if (twinn_prop_var_of(prop, prop->term_var[l->first + t], &elem)->role == TWINN_VAR_HIDDEN)
        return 1;
    }
  }
  return 0;
}

static twinn_status engine_init(engine *E, shared *S) {
  const twinn_problem *pb = S->pb;
  const twinn_space *sp = S->sp;
  size_t i, n = pb->n_nets, max_in = 1, max_out = 1;
  E->S = S;
  E->opt_rounds = S->opt->opt_rounds < 0    ? 0
                  : S->opt->opt_rounds == 0 ? TWINN_OPT_ROUNDS
                                            : (size_t)S->opt->opt_rounds;
  E->exact_relus = S->opt->exact_relus < 0    ? 0
                   : S->opt->exact_relus == 0 ? TWINN_EXACT_RELUS
                                              : (size_t)S->opt->exact_relus;
  E->pb = pb;
  E->prop = pb->prop;
  E->sp = sp;
  E->witness = twinn_calloc(E->prop->n_scalars + 1, sizeof *E->witness);
  E->nb = twinn_calloc(n + 1, sizeof *E->nb);
  E->co = twinn_calloc(n + 1, sizeof *E->co);
  E->has_out = twinn_calloc(n + 1, sizeof *E->has_out);
  E->used = twinn_calloc(n + 1, sizeof *E->used);
  E->leaf_lo = twinn_calloc(E->prop->n_lins + 1, sizeof *E->leaf_lo);
  E->leaf_hi = twinn_calloc(E->prop->n_lins + 1, sizeof *E->leaf_hi);
  E->keep_lo = twinn_calloc(E->prop->n_lins + 1, sizeof *E->keep_lo);
  E->keep_hi = twinn_calloc(E->prop->n_lins + 1, sizeof *E->keep_hi);
  E->center = twinn_calloc(sp->n_free + 1, sizeof *E->center);
  E->grad = twinn_calloc(sp->n_free + 1, sizeof *E->grad);
  E->half_lo = twinn_calloc(sp->n_free + 1, sizeof *E->half_lo);
  E->half_hi = twinn_calloc(sp->n_free + 1, sizeof *E->half_hi);
  E->nb_box = twinn_calloc(2 * sp->n_free + 1, sizeof *E->nb_box);
  E->span = twinn_calloc(sp->n_free + 1, sizeof *E->span);
  E->dim_coef = twinn_calloc(sp->n_free + 1, sizeof *E->dim_coef);
  E->dim_seen = twinn_calloc(sp->n_free + 1, sizeof *E->dim_seen);
  E->dim_list = twinn_calloc(sp->n_free + 1, sizeof *E->dim_list);
  E->score = twinn_calloc(sp->n_free + 1, sizeof *E->score);
  E->lin_score = twinn_calloc(E->prop->n_lins * sp->n_free + 1, sizeof *E->lin_score);
  E->score_set = twinn_calloc(E->prop->n_lins + 1, 1);
  if (!E->witness || !E->score || !E->lin_score || !E->score_set || !E->nb || !E->co ||
      !E->has_out || !E->used || !E->leaf_lo || !E->leaf_hi || !E->keep_lo || !E->keep_hi ||
      !E->center || !E->grad || !E->half_lo || !E->half_hi || !E->nb_box || !E->span ||
      !E->dim_coef || !E->dim_seen || !E->dim_list)
    return TWINN_ERR_NOMEM;
  for (i = 0; i < sp->n_free; i++) {
    double l = INFINITY, h = -INFINITY;
    size_t c;
    for (c = 0; c < sp->n_cases; c++) {
      l = fmin(l, sp->lo[c * sp->n_free + i]);
      h = fmax(h, sp->hi[c * sp->n_free + i]);
    }
    E->span[i] = h - l;
  }
  for (i = 0; i < n; i++) {
    if (twinn_ibounds_init(&E->nb[i], pb->nets[i]) != TWINN_OK) return TWINN_ERR_NOMEM;
    E->co[i] = twinn_calloc(pb->nets[i]->n_out + 1, sizeof **E->co);
    if (!E->co[i]) return TWINN_ERR_NOMEM;
    if (pb->nets[i]->n_in > max_in) max_in = pb->nets[i]->n_in;
    if (pb->nets[i]->n_out > max_out) max_out = pb->nets[i]->n_out;
  }
  E->in_lo = twinn_mallocarray(max_in, sizeof *E->in_lo);
  E->in_hi = twinn_mallocarray(max_in, sizeof *E->in_hi);
  E->ex_cf = twinn_calloc(max_out, sizeof *E->ex_cf);
  E->ex_cg = twinn_calloc(max_out, sizeof *E->ex_cg);
  E->pf_a = twinn_calloc(4 * max_in, sizeof *E->pf_a);
  E->pf_c = twinn_calloc(2 * max_out, sizeof *E->pf_c);
  if (!E->in_lo || !E->in_hi || !E->ex_cf || !E->ex_cg || !E->pf_a || !E->pf_c)
    return TWINN_ERR_NOMEM;
  if (find_dups(E) != TWINN_OK) return TWINN_ERR_NOMEM;
  if (find_pairs(E) != TWINN_OK) return TWINN_ERR_NOMEM;
  E->bounded = twinn_calloc(n + 1, 1);
  if (!E->bounded) return TWINN_ERR_NOMEM;
  for (i = 0; i < n; i++) E->bounded[i] = (unsigned char)net_read(E->prop, i);
  for (i = 0; i < E->n_pairs; i++) E->bounded[E->pairs[i].f] = E->bounded[E->pairs[i].g] = 1;
  if (find_syms(E) != TWINN_OK) return TWINN_ERR_NOMEM;
  E->dead_off = twinn_calloc(E->n_syms + 1, sizeof *E->dead_off);
  if (!E->dead_off) return TWINN_ERR_NOMEM;
  for (i = 0; i < E->n_syms; i++) {
    E->dead_off[i] = E->n_dead;
    E->n_dead += twinn_sym_dead_bytes(E->syms[i].s);
  }
  E->kdead = twinn_calloc(E->n_dead + 1, 1);
  if (!E->kdead) return TWINN_ERR_NOMEM;
  if (E->have_ss) {
    E->ss_cf = twinn_mallocarray(E->prop->n_lins * max_out + 1, sizeof *E->ss_cf);
    E->ss_cg = twinn_mallocarray(E->prop->n_lins * max_out + 1, sizeof *E->ss_cg);
    E->ss_gain = twinn_mallocarray(E->prop->n_lins * max_in + 1, sizeof *E->ss_gain);
    E->ss_width = twinn_mallocarray(max_in, sizeof *E->ss_width);
    E->ss_rows = twinn_mallocarray(E->prop->n_lins + 1, sizeof *E->ss_rows);
    if (!E->ss_cf || !E->ss_cg || !E->ss_gain || !E->ss_width || !E->ss_rows)
      return TWINN_ERR_NOMEM;
  }
  E->cheap_gate = E->n_pairs > 0 && !reads_hidden(E->prop);
  for (i = 0; i < n; i++)
    if (E->bounded[i] && E->sym_of[i] == SIZE_MAX) E->cheap_gate = 0;
  E->atk = twinn_attack_new(pb, sp);
  return E->atk ? TWINN_OK : TWINN_ERR_NOMEM;
}

static void engine_release(engine *E) {
  size_t i;
  for (i = 0; E->nb && i < E->pb->n_nets; i++) twinn_ibounds_release(&E->nb[i]);
  for (i = 0; E->co && i < E->pb->n_nets; i++) twinn_free(E->co[i]);
  for (i = 0; E->pairs && i < E->n_pairs; i++) twinn_ibounds_release(&E->pairs[i].d);
  for (i = 0; i < E->n_local; i++) twinn_region_free(E->local[i]);
  for (i = 0; E->syms && i < E->n_syms; i++) {
    twinn_sym_free(E->syms[i].s);
    twinn_splitscore_free(E->syms[i].ss);
    twinn_exact_free(E->syms[i].ex);
  }
  twinn_free(E->syms);
  twinn_free(E->sym_of);
  twinn_free(E->score);
  twinn_free(E->lin_score);
  twinn_free(E->score_set);
  twinn_free(E->bounded);
  twinn_free(E->witness);
  twinn_free(E->nb);
  twinn_free(E->co);
  twinn_free(E->has_out);
  twinn_free(E->used);
  twinn_free(E->dup);
  twinn_free(E->opt_done);
  twinn_free(E->opt_list);
  twinn_free(E->opt_idx);
  twinn_free(E->opt_net);
  twinn_free(E->opt_pt);
  twinn_free(E->opt_lo);
  twinn_free(E->opt_off);
  twinn_free(E->opt_c);
  twinn_free(E->leaf_lo);
  twinn_free(E->leaf_hi);
  twinn_free(E->keep_lo);
  twinn_free(E->dead_off);
  twinn_free(E->kdead);
  twinn_free(E->keep_hi);
  twinn_free(E->center);
  twinn_free(E->grad);
  twinn_free(E->half_lo);
  twinn_free(E->half_hi);
  twinn_free(E->nb_box);
  twinn_free(E->look);
  twinn_free(E->span);
  twinn_free(E->dim_coef);
  twinn_free(E->dim_seen);
  twinn_free(E->dim_list);
  twinn_free(E->ss_cf);
  twinn_free(E->ss_cg);
  twinn_free(E->ss_gain);
  twinn_free(E->ss_width);
  twinn_free(E->ss_rows);
  twinn_free(E->ex_cf);
  twinn_free(E->ex_cg);
  twinn_free(E->pf_a);
  twinn_free(E->pf_c);
  twinn_free(E->in_lo);
  twinn_free(E->in_hi);
  twinn_free(E->pairs);
  twinn_free(E->local);
  twinn_attack_free(E->atk);
}

/* Optimised intermediate bounds of the one case box [lo, hi] (twinn_sym_tighten_par: every
 * worker's workspace takes a share, on the calling thread and one thread per other worker)
 * before the workers start, then given to every worker's workspaces as priors: every region
 * lies in the box, so they hold for all. Only where regions split on neurons (their boxes stay
 * the whole box, so the priors stay tight); an error only leaves a workspace without priors. */
static twinn_status tighten_root(engine *E, int n_threads, const double *lo, const double *hi) {
  size_t j;
  int t, w;
  twinn_error err;
  twinn_sym **ws = twinn_calloc((size_t)n_threads, sizeof *ws);
  if (!ws) return TWINN_ERR_NOMEM;
  analyse_cheap(&E[0], lo, hi);
  if (analyse_sym(&E[0], lo, hi, NULL, 0)) { /* no input: the search says so */
    twinn_free(ws);
    return TWINN_OK;
  }
  for (j = 0; j < E[0].n_syms; j++) {
    twinn_sym *s0 = E[0].syms[j].s;
    size_t n_ws = 0;
    size_t planes = E[0].syms[j].g == SIZE_MAX ||
                            twinn_net_relu_layers(E[0].pb->nets[E[0].syms[j].f]) >= ANDERSON_DEPTH
                        ? ANDERSON_ROUNDS
                        : 0;
    twinn_error_clear(&err);
    if (!E[0].syms[j].ok) continue;
    /* Every worker's workspace helps (twinn_sym_tighten_par), analysed on the same box. */
    net_box(&E[0], E[0].syms[j].f, lo, hi);
    for (t = 0; t < n_threads && t < TIGHTEN_MAX_WS; t++) {
      twinn_sym *st = E[t].syms[j].s;
      if (t > 0 && twinn_sym_analyse(st, E[0].in_lo, E[0].in_hi, &err) != TWINN_OK) continue;
      twinn_sym_set_anderson(st, planes);
      ws[n_ws++] = st;
    }
    twinn_status tst =
        twinn_sym_tighten_par(ws, n_ws, TIGHTEN_ROUNDS, E[0].S->deadline, E[0].S->cancel, &err);
    for (size_t k = 0; k < n_ws; k++) twinn_sym_set_anderson(ws[k], 0);
    if (tst != TWINN_OK) {
      if (err.status == TWINN_ERR_NOMEM) {
        twinn_free(ws);
        return TWINN_ERR_NOMEM;
      }
      continue;
    }
    for (t = 1; t < n_threads; t++)
      for (w = 0; w < (E[0].syms[j].g == SIZE_MAX ? 1 : 2); w++)
        if (twinn_sym_set_prior(E[t].syms[j].s, w, twinn_sym_prior(s0, w, 0),
                                twinn_sym_prior(s0, w, 1), &err) != TWINN_OK) {
          twinn_free(ws);
          return TWINN_ERR_NOMEM;
        }
  }
  twinn_free(ws);
  return TWINN_OK;
}

/* The root's intermediate bounds for the sub-runs of a split by disjuncts, into *out: per
 * network of the problem, its prior lower bounds at [2 i] and upper at [2 i + 1]
 * (twinn_sym_prior of the first workspace holding it, NULL where none). *out is NULL when
 * there are none at all (several case boxes, as tighten_root then does not run, or a failed
 * optimisation): each sub-run then tightens its own. Every disjunct's region lies inside the
 * problem's box, where they hold, and they do not depend on the formula: computed once
 * instead of once per disjunct (62 % of mnist_256x2 int8 img0's time went to 18 such
 * repeats). Free *out with twinn_free. */
static twinn_status root_priors(const engine *E, const double ***out) {
  size_t n = E->pb->n_nets;
  int any = 0;
  const double **p = twinn_calloc(2 * n + 1, sizeof *p);
  *out = NULL;
  if (!p) return TWINN_ERR_NOMEM;
  for (size_t j = 0; j < E->n_syms && E->sp->n_cases == 1; j++)
    for (int w = 0; w < (E->syms[j].g == SIZE_MAX ? 1 : 2); w++) {
      size_t net = w ? E->syms[j].g : E->syms[j].f;
      if (p[2 * net]) continue;
      p[2 * net] = twinn_sym_prior(E->syms[j].s, w, 0);
      p[2 * net + 1] = twinn_sym_prior(E->syms[j].s, w, 1);
      if (!p[2 * net] || !p[2 * net + 1]) p[2 * net] = p[2 * net + 1] = NULL;
      any |= p[2 * net] != NULL;
    }
  if (any)
    *out = p;
  else
    twinn_free(p);
  return TWINN_OK;
}

/* A sub-run's root bounds from its parent (root_priors) instead of tighten_root: set as priors
 * of every workspace of every worker that analyses a network they exist for. */
static twinn_status inherit_root(engine *E, int n_threads, const double *const *inherit) {
  twinn_error err;
  for (int t = 0; t < n_threads; t++)
    for (size_t j = 0; j < E[t].n_syms; j++)
      for (int w = 0; w < (E[t].syms[j].g == SIZE_MAX ? 1 : 2); w++) {
        size_t net = w ? E[t].syms[j].g : E[t].syms[j].f;
        if (!inherit[2 * net]) continue;
        twinn_error_clear(&err);
        if (twinn_sym_set_prior(E[t].syms[j].s, w, inherit[2 * net], inherit[2 * net + 1], &err) !=
            TWINN_OK)
          return TWINN_ERR_NOMEM;
      }
  return TWINN_OK;
}

/* Root bounds from the store of an earlier run (twinn_options.roots) over the one case box
 * [lo, hi], laid out as root_priors does, into *out: NULL unless the store holds some for every
 * network a workspace analyses (all or none: a network left without would branch on loose
 * bounds, and optimising it alone is not offered). Free *out with twinn_free. */
static twinn_status stored_roots(engine *E, const twinn_roots *roots, const double *lo,
                                 const double *hi, const double ***out) {
  size_t n = E->pb->n_nets;
  const double **p;
  *out = NULL;
  if (!roots || E->n_syms == 0) return TWINN_OK;
  if (!(p = twinn_calloc(2 * n + 1, sizeof *p))) return TWINN_ERR_NOMEM;
  for (size_t j = 0; j < E->n_syms; j++)
    for (int w = 0; w < (E->syms[j].g == SIZE_MAX ? 1 : 2); w++) {
      size_t net = w ? E->syms[j].g : E->syms[j].f;
      net_box(E, net, lo, hi);
      p[2 * net] = twinn_roots_find(roots, E->pb->nets[net], E->in_lo, E->in_hi, 0);
      p[2 * net + 1] = twinn_roots_find(roots, E->pb->nets[net], E->in_lo, E->in_hi, 1);
      if (!p[2 * net]) {
        twinn_free(p);
        return TWINN_OK;
      }
    }
  *out = p;
  return TWINN_OK;
}

/* Keeps the root bounds tighten_root left in E's workspaces (the one case box [lo, hi]) in
 * the store for later runs. */
static twinn_status keep_roots(engine *E, twinn_roots *roots, const double *lo, const double *hi) {
  for (size_t j = 0; j < E->n_syms; j++)
    for (int w = 0; w < (E->syms[j].g == SIZE_MAX ? 1 : 2); w++) {
      size_t net = w ? E->syms[j].g : E->syms[j].f;
      const double *blo = twinn_sym_prior(E->syms[j].s, w, 0);
      const double *bhi = twinn_sym_prior(E->syms[j].s, w, 1);
      twinn_status st;
      if (!blo || !bhi) continue;
      net_box(E, net, lo, hi);
      st = twinn_roots_keep(roots, E->pb->nets[net], E->in_lo, E->in_hi, blo, bhi,
                            twinn_sym_prior_len(E->syms[j].s));
      if (st != TWINN_OK) return st;
    }
  return TWINN_OK;
}

/* After the workers stopped: the least margin of the regions still open (queued, or on a
 * worker's stack; each carries its parent's, a bound over it too), NAN if one left the search
 * unproved (twinn_result.open_margin). A missing margin counts as -inf. */
static double open_margin(const engine *E, int n_threads) {
  const shared *S = E[0].S;
  double m = INFINITY;
  if (S->lost) return NAN;
  if (S->q.n) m = fmin(m, isnan(S->q.heap[0]->margin) ? -INFINITY : S->q.heap[0]->margin);
  for (int t = 0; t < n_threads; t++)
    for (size_t k = 0; k < E[t].n_local; k++)
      m = fmin(m, isnan(E[t].local[k]->margin) ? -INFINITY : E[t].local[k]->margin);
  return m;
}

static void finish(twinn_result *res, twinn_verdict v, const char *why, double t0) {
  res->verdict = v;
  if (why) snprintf(res->reason, sizeof res->reason, "%s", why);
  res->seconds = twinn_clock_now() - t0;
}

static int thread_count(const twinn_options *opt) {
  long n = opt->threads;
  if (n <= 0) n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

static twinn_status verify_run(const twinn_problem *pb, const twinn_options *opt_in,
                               twinn_result *res, twinn_error *err, int sub,
                               const double *const *inherit, const atomic_int *cancel);

/* Verifies sub-properties subs[0..n) of the problem in turn, each as a problem of its own
 * (verify_run with sub flags `flags`) with the time left but `keep` seconds. Sets *decided when
 * every one is unsat (the problem is then unsat) and *sat when one's witness replays as a
 * witness of the whole formula (then in S->witness). Otherwise the loop stopped at a sub-run
 * neither unsat nor replayed (or for want of time); its verdict, reason and open regions go to
 * *stop (may be NULL). inherit (may be NULL): intermediate bounds every sub-run takes as its
 * root's (inherit_root). */
static twinn_status run_subs(engine *E, const twinn_subprop *subs, size_t n, int flags, double keep,
                             const double *const *inherit, int *decided, int *sat,
                             twinn_result *stop) {
  shared *S = E->S;
  const twinn_space *sp = E->sp;
  size_t i, d, nf = sp->n_free;
  twinn_status st = TWINN_OK;
  double *p = E->center;
  *decided = *sat = 0;
  if (stop) {
    memset(stop, 0, sizeof *stop);
    stop->verdict = TWINN_VERDICT_TIMEOUT;
    snprintf(stop->reason, sizeof stop->reason, "no time left for the sub-problems");
  }
  for (i = 0; i < n && !*sat; i++) {
    twinn_problem spb = *E->pb;
    twinn_options o = *S->opt;
    twinn_result r;
    twinn_error err;
    int ok = 0;
    spb.prop = &subs[i].prop;
    if (S->deadline > 0) {
      o.timeout = S->deadline - twinn_clock_now() - keep;
      if (o.timeout <= 0.0) break;
    }
    if (past(S, twinn_clock_now())) break;
    twinn_error_clear(&err);
    st = verify_run(&spb, &o, &r, &err, flags, inherit, S->cancel);
    S->branches += r.branches;
    if (st != TWINN_OK) break;
    if (r.verdict == TWINN_VERDICT_SAT && r.witness) {
      size_t c;
      for (d = 0; d < nf; d++) p[d] = r.witness[sp->rep[d]];
      for (c = 0; c < sp->n_cases && !ok; c++) {
        int inside = 1;
        for (d = 0; d < nf; d++) inside &= p[d] >= sp->lo[c * nf + d] && p[d] <= sp->hi[c * nf + d];
        if (inside)
          st = twinn_attack_check(E->atk, sp->lo + c * nf, sp->hi + c * nf, p, S->witness, &ok);
      }
      *sat = ok;
    }
    int unsat = r.verdict == TWINN_VERDICT_UNSAT;
    if (stop && !unsat && !ok) {
      stop->verdict = r.verdict;
      snprintf(stop->reason, sizeof stop->reason, "sub-problem %zu of %zu: %.180s", i + 1, n,
               r.reason);
      stop->open = r.open;
    }
    twinn_result_release(&r);
    if (st != TWINN_OK || !unsat) break;
    if (i + 1 == n) *decided = 1;
  }
  return st;
}

/* Whether the problem is worth splitting by its disjuncts (twinn_split_disjuncts) before the
 * search: when its branching follows each constraint's optimised scores (pick_neuron), that is
 * no twin pair is analysed, the optimisation runs, and every network the constraints read has
 * fewer than LAYER_FIRST_DEPTH ReLU layers. Neurons near the output then matter to one
 * disjunct and not to the others, and in one joint tree their splits multiply: mnist_256x2
 * int8 top-1 img1 went from a timeout (120 s) to 20 s split. Where neurons go layer first, the
 * early splits serve every disjunct and one tree makes them once: split, mnist_256x4 int8 img3
 * went from 85 s to a timeout (each of the 9 constraints on f alone needs about 1 000 regions,
 * 7-12 s), and the float16 pairs of mnist_256x4 from 1.9 to 25 s (img0) and 54 s to a timeout
 * (img3). */
static int split_pays(const engine *E) {
  if (E->n_pairs > 0 || !E->opt_rounds) return 0;
  for (size_t i = 0; i < E->pb->n_nets; i++)
    if (net_read(E->prop, i) && twinn_net_relu_layers(E->pb->nets[i]) >= LAYER_FIRST_DEPTH)
      return 0;
  return 1;
}

/* The split by disjuncts (twinn_split_disjuncts), tried once before the search where
 * split_pays: each distinct disjunct verified in turn (run_subs, SUB_DISJ added to sub) with
 * the root bounds of E's analysis (root_priors) and all the time left. *ran = 0 when the
 * formula has another shape or more than SPLIT_MAX distinct disjuncts; else *decided, *sat
 * and *stop as run_subs sets them, with stop->reason saying what proved it when decided. */
static twinn_status split_first(engine *E, int sub, int *ran, int *decided, int *sat,
                                twinn_result *stop) {
  twinn_subprop *subs = NULL;
  const double **priors = NULL;
  twinn_status st = TWINN_OK;
  size_t n = twinn_split_disjuncts(E->prop, &subs);
  *ran = 0;
  if (n == (size_t)-1) return TWINN_ERR_NOMEM;
  if (n > 0 && n <= SPLIT_MAX && (st = root_priors(E, &priors)) == TWINN_OK) {
    *ran = 1;
    st = run_subs(E, subs, n, sub | SUB_DISJ, 0.0, priors, decided, sat, stop);
    if (*decided)
      snprintf(stop->reason, sizeof stop->reason,
               "proved disjunct by disjunct: %zu distinct disjuncts never hold", n);
  }
  twinn_free(priors);
  twinn_subprops_free(subs, n);
  return st;
}

/* The decomposition (decompose.h), tried once before the search of a problem over several
 * networks: each sub-property is verified in turn as a problem of its own with the time left
 * (keeping a tenth of the limit for the search as a whole). Sets *decided when every one is
 * unsat (the problem is unsat) and *sat when a sub-property's witness replays as a witness of
 * the whole formula (then in S->witness); otherwise the search proper goes on with the time
 * left. The choice of networks is a heuristic (the centre of the first case box); only the
 * sub-verdicts decide. */
static twinn_status decompose_first(engine *E, int *decided, int *sat, char *why, size_t n_why) {
  shared *S = E->S;
  const twinn_space *sp = E->sp;
  const twinn_prop *prop = E->prop;
  size_t i, d, n, nf = sp->n_free;
  twinn_subprop *subs = NULL;
  twinn_status st;
  double *x = E->witness, *p = E->center;
  *decided = *sat = 0;
  for (d = 0; d < nf; d++) p[d] = sp->lo[d] + (sp->hi[d] - sp->lo[d]) / 2;
  memset(x, 0, prop->n_scalars * sizeof *x);
  twinn_space_scatter(sp, prop->n_scalars, p, x);
  for (i = 0; i < E->pb->n_nets; i++) {
    const twinn_var *in = twinn_prop_net_var(prop, i, TWINN_VAR_INPUT);
    const twinn_var *out = twinn_prop_net_var(prop, i, TWINN_VAR_OUTPUT);
    const twinn_net *net = E->pb->nets[i];
    if (!in || !out || in->n != net->n_in || out->n != net->n_out ||
        twinn_net_eval(net, x + in->offset, x + out->offset) != TWINN_OK)
      return TWINN_OK; /* no evaluation: no decomposition */
  }
  n = twinn_decompose(prop, x, &subs);
  if (n == (size_t)-1) return TWINN_ERR_NOMEM;
  st = run_subs(E, subs, n, SUB_NET, 0.1 * S->opt->timeout, NULL, decided, sat, NULL);
  if (*decided) {
    size_t used = (size_t)snprintf(why, n_why, "proved network by network:");
    for (i = 0; i < n && used < n_why; i++)
      used +=
          (size_t)snprintf(why + used, n_why - used, "%s %zu disjunct%s never hold%s on %s alone",
                           i ? "," : "", subs[i].n_disjuncts, subs[i].n_disjuncts == 1 ? "" : "s",
                           subs[i].n_disjuncts == 1 ? "s" : "", prop->nets[subs[i].net].name);
  }
  twinn_subprops_free(subs, n);
  return st;
}

/* The portfolio: on inputs of TRIAL_DIMS < n <= NEURON_DIMS dimensions, where neither branching
 * order wins (random twins of 17-30 inputs, BENCHMARKS.md sessions 44-45: each decides in
 * under a second instances the other leaves open at 60 s), a run of two or more threads
 * verifies the problem twice at once, inputs bisected first on half of them and ReLUs first
 * on the other half, and the first verdict of either stops the other. Both are sound, so the
 * verdict is either's; a run neither decides reports both. */
typedef struct order order;
typedef struct {
  pthread_mutex_t mu;
  const twinn_options *opt; /* the caller's: its progress callback */
  double t0;                /* the caller's start */
  unsigned long before;     /* regions the caller analysed before the portfolio */
  order *o;                 /* the two orders */
} portfolio_state;

struct order {
  portfolio_state *P;
  const twinn_problem *pb;
  twinn_options opt;
  atomic_int *cancel; /* both orders' */
  twinn_result res;
  twinn_error err;
  twinn_status st;
  twinn_progress last; /* its last progress snapshot */
  pthread_t thread;
  int started;
};

/* One order's progress, shown as the portfolio's: regions of both, the better bound. */
static void order_progress(void *ctx, const twinn_progress *p) {
  order *o = ctx;
  portfolio_state *P = o->P;
  twinn_progress q;
  pthread_mutex_lock(&P->mu);
  o->last = *p;
  q.elapsed = twinn_clock_now() - P->t0;
  q.branches = P->before + P->o[0].last.branches + P->o[1].last.branches;
  q.open = P->o[0].last.open + P->o[1].last.open;
  /* Each order's bound holds for the whole region, so the greater does. */
  q.bound = fmax(P->o[0].last.bound, P->o[1].last.bound);
  P->opt->progress(P->opt->progress_ctx, &q);
  pthread_mutex_unlock(&P->mu);
}

static void *order_main(void *arg) {
  order *o = arg;
  twinn_verdict v;
  o->st = verify_run(o->pb, &o->opt, &o->res, &o->err, SUB_HALF, NULL, o->cancel);
  v = o->res.verdict;
  /* A failed order (out of memory: the queue of bisection grows fastest) leaves the other
   * running; it may still decide, with the memory the failed one freed. */
  if (o->st == TWINN_OK && (v == TWINN_VERDICT_SAT || v == TWINN_VERDICT_UNSAT))
    atomic_store(o->cancel, 1);
  return NULL;
}

/* Runs the portfolio for the run of S (n_threads workers, none started yet) and fills res. */
static twinn_status portfolio(shared *S, int n_threads, twinn_result *res, twinn_error *err) {
  const twinn_options *opt = S->opt;
  portfolio_state P;
  order o[2];
  atomic_int cancel;
  twinn_status st = TWINN_OK;
  int i, win = -1, timed_out = 0;
  size_t n;
  /* The time left (a tiny positive one if none: 0 would mean no limit). */
  double left = S->deadline > 0 ? fmax(1e-9, S->deadline - twinn_clock_now()) : 0.0;
  atomic_init(&cancel, 0);
  memset(o, 0, sizeof o);
  if (pthread_mutex_init(&P.mu, NULL) != 0)
    return twinn_error_set(err, TWINN_ERR_INTERNAL, NULL, 0, 0, "internal failure in the verifier");
  P.opt = opt;
  P.t0 = S->t0;
  P.before = S->branches;
  P.o = o;
  for (i = 0; i < 2; i++) {
    o[i].P = &P;
    o[i].pb = S->pb;
    o[i].opt = *opt;
    o[i].cancel = &cancel;
    o[i].last.bound = NAN;
    o[i].opt.timeout = left;
    /* Order 0 bisects (neuron_split 0 keeps that below NEURON_DIMS inputs); order 1 takes
     * the other half of the threads, the root store (only neuron branching uses it) and a
     * seed of its own. */
    o[i].opt.neuron_split = i;
    o[i].opt.threads = i == 0 ? n_threads / 2 : n_threads - n_threads / 2;
    if (i == 0) o[i].opt.roots = NULL;
    if (i == 1) o[i].opt.seed = (unsigned long)twinn_mix64((uint64_t)opt->seed ^ 0x0D3Eull);
    if (opt->progress) {
      o[i].opt.progress = order_progress;
      o[i].opt.progress_ctx = &o[i];
    }
    twinn_error_clear(&o[i].err);
  }
  o[1].started = pthread_create(&o[1].thread, NULL, order_main, &o[1]) == 0;
  if (!o[1].started) o[0].opt.threads = n_threads; /* one order alone: all the threads */
  order_main(&o[0]);
  if (o[1].started) pthread_join(o[1].thread, NULL);
  pthread_mutex_destroy(&P.mu);
  res->branches = S->branches;
  for (i = 0; i < 2; i++) {
    twinn_verdict v = o[i].res.verdict;
    if (i == 1 && !o[1].started) continue;
    res->branches += o[i].res.branches;
    if (o[i].st != TWINN_OK && st == TWINN_OK) {
      st = o[i].st;
      if (err) *err = o[i].err;
    }
    if (win < 0 && o[i].st == TWINN_OK && (v == TWINN_VERDICT_SAT || v == TWINN_VERDICT_UNSAT))
      win = i;
    timed_out |= v == TWINN_VERDICT_TIMEOUT;
  }
  if (win >= 0) {
    st = TWINN_OK;
    twinn_error_clear(err);
    res->witness = o[win].res.witness;
    o[win].res.witness = NULL;
    finish(res, o[win].res.verdict, o[win].res.reason, S->t0);
  } else if (st != TWINN_OK) {
    res->verdict = TWINN_VERDICT_UNKNOWN;
  } else if (!o[1].started) {
    res->open = o[0].res.open;
    res->open_margin = o[0].res.open_margin;
    finish(res, o[0].res.verdict, o[0].res.reason, S->t0);
  } else {
    /* Each order's open margin holds on the whole box: the greater does (fmax skips NAN). */
    res->open = o[0].res.open + o[1].res.open;
    res->open_margin = fmax(o[0].res.open_margin, o[1].res.open_margin);
    n = (size_t)snprintf(res->reason, sizeof res->reason, "%s after %.1f s, both orders at once",
                         timed_out ? "timeout" : "undecided", twinn_clock_now() - S->t0);
    for (i = 0; i < 2 && n < sizeof res->reason; i++) {
      const char *name = i ? "ReLUs first" : "inputs bisected first";
      if (o[i].res.verdict == TWINN_VERDICT_TIMEOUT && isfinite(o[i].res.open_margin))
        n += (size_t)snprintf(res->reason + n, sizeof res->reason - n,
                              "; %s: %lu regions, %lu open, worst margin %.3g", name,
                              o[i].res.branches, o[i].res.open, o[i].res.open_margin);
      else
        n += (size_t)snprintf(res->reason + n, sizeof res->reason - n, "; %s: %.90s", name,
                              o[i].res.reason);
    }
    if (isfinite(res->open_margin) && n < sizeof res->reason)
      snprintf(res->reason + n, sizeof res->reason - n, " (a proof needs > 0)");
    finish(res, timed_out ? TWINN_VERDICT_TIMEOUT : TWINN_VERDICT_UNKNOWN, NULL, S->t0);
  }
  for (i = 0; i < 2; i++) twinn_result_release(&o[i].res);
  return st;
}

/* 1 if the property reads a hidden value of network `net` (its layout is the model's). */
static int reads_hidden_of(const twinn_prop *prop, size_t net) {
  for (size_t v = 0; v < prop->n_vars; v++)
    if (prop->vars[v].net == net && prop->vars[v].role == TWINN_VAR_HIDDEN) return 1;
  return 0;
}

/* The hull of the input boxes of networks i and j of the property's space sp (BOXED) into
 * lo, hi (n_in entries), if their inputs are tied element by element; else 0. */
static int tied_box(const twinn_problem *pb, const twinn_space *sp, size_t i, size_t j, double *lo,
                    double *hi) {
  const twinn_var *a = twinn_prop_net_var(pb->prop, i, TWINN_VAR_INPUT);
  const twinn_var *b = twinn_prop_net_var(pb->prop, j, TWINN_VAR_INPUT);
  size_t n = pb->nets[i]->n_in;
  if (!a || !b || pb->nets[j]->n_in != n || sp->kind != TWINN_SPACE_BOXED || !sp->n_cases) return 0;
  for (size_t r = 0; r < n; r++) {
    size_t d = sp->dim_of[a->offset + r];
    if (d == SIZE_MAX || d != sp->dim_of[b->offset + r]) return 0;
    lo[r] = INFINITY;
    hi[r] = -INFINITY;
    for (size_t c = 0; c < sp->n_cases; c++) {
      lo[r] = fmin(lo[r], sp->lo[c * sp->n_free + d]);
      hi[r] = fmax(hi[r], sp->hi[c * sp->n_free + d]);
    }
  }
  return 1;
}

/* Twins of different widths that share most hidden neurons (structured pruning) are rebuilt
 * as isomorphic pairs computing the same functions (align.h), so that the engine bounds their
 * difference directly where it would go through the product network, if that bounds their
 * outputs' differences more tightly over the region (twinn_align_pays): al gets pb's networks
 * with each such pair replaced, own[] (pb->n_nets entries, NULL where not) the rebuilt ones.
 * Networks whose hidden values the property reads keep their layout. Returns 1 if some pair
 * was rebuilt, 0 if none (al untouched), -1 on out of memory. */
/* Whether networks i and j may be aligned: twins of the same inputs and outputs that are not
 * isomorphic and whose hidden values the property does not read. */
static int align_candidate(const twinn_problem *pb, size_t i, size_t j) {
  const twinn_net *a = pb->nets[i], *b = pb->nets[j];
  return a->n_in == b->n_in && a->n_out == b->n_out && !twinn_net_isomorphic(a, b) &&
         !reads_hidden_of(pb->prop, i) && !reads_hidden_of(pb->prop, j);
}

static int align_problem(const twinn_problem *pb, twinn_problem *al, twinn_net **own) {
  size_t n = pb->n_nets, i, j, max_in = 1;
  int any = 0, bad = 0;
  twinn_space sp;
  twinn_error err;
  const twinn_net **nets;
  double *lo, *hi;
  /* Most problems (one network, or isomorphic twins: every set) have no candidate: then
   * neither the space nor any scratch is built. */
  for (i = 0; i < n && !any; i++)
    for (j = i + 1; j < n && !any; j++) any = align_candidate(pb, i, j);
  if (!any) return 0;
  any = 0;
  nets = twinn_calloc(n + 1, sizeof *nets);
  for (i = 0; i < n; i++)
    if (pb->nets[i]->n_in > max_in) max_in = pb->nets[i]->n_in;
  lo = twinn_mallocarray(2 * max_in, sizeof *lo);
  hi = lo ? lo + max_in : NULL;
  memset(&sp, 0, sizeof sp);
  twinn_error_clear(&err);
  if (!nets || !lo || twinn_space_build(&sp, pb->prop, &err) != TWINN_OK) {
    twinn_free(nets);
    twinn_free(lo);
    twinn_space_release(&sp);
    return -1;
  }
  for (i = 0; i < n; i++) nets[i] = pb->nets[i], own[i] = NULL;
  for (i = 0; i < n && !bad; i++)
    for (j = i + 1; j < n && !own[i] && !bad; j++) {
      twinn_net *fa, *ga;
      twinn_status st;
      if (own[j] || !align_candidate(pb, i, j) || !tied_box(pb, &sp, i, j, lo, hi)) continue;
      st = twinn_net_align_for(pb->nets[i], pb->nets[j], lo, hi, &fa, &ga, NULL, NULL);
      if (st == TWINN_ERR_NOMEM) bad = 1;
      if (st != TWINN_OK) continue;
      nets[i] = own[i] = fa;
      nets[j] = own[j] = ga;
      any = 1;
    }
  twinn_space_release(&sp);
  twinn_free(lo);
  if (bad) {
    for (size_t k = 0; k < n; k++) twinn_net_free(own[k]);
    twinn_free(nets);
    return -1;
  }
  if (!any) {
    twinn_free(nets);
    return 0;
  }
  al->prop = pb->prop;
  al->n_nets = n;
  al->nets = nets;
  return 1;
}

twinn_status twinn_verify(const twinn_problem *pb, const twinn_options *opt_in, twinn_result *res,
                          twinn_error *err) {
  twinn_problem al;
  twinn_options opt;
  twinn_net **own = twinn_calloc(pb->n_nets + 1, sizeof *own);
  twinn_status st;
  int k;
  if (!own || (k = align_problem(pb, &al, own)) < 0) {
    twinn_free(own);
    memset(res, 0, sizeof *res);
    return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory (aligning twins)");
  }
  if (k == 0) {
    twinn_free(own);
    return verify_run(pb, opt_in, res, err, 0, NULL, NULL);
  }
  if (opt_in)
    opt = *opt_in;
  else
    twinn_options_init(&opt);
  /* The root store is keyed by the networks' addresses; the rebuilt ones are freed below. */
  opt.roots = NULL;
  st = verify_run(&al, &opt, res, err, 0, NULL, NULL);
  /* A witness holds for the rebuilt networks, the same functions; it is checked again on the
   * models as given (their own evaluation order), and its values are theirs. */
  if (st == TWINN_OK && res->verdict == TWINN_VERDICT_SAT && res->witness &&
      (twinn_problem_complete(pb, res->witness) != TWINN_OK ||
       !twinn_prop_holds(pb->prop, res->witness))) {
    twinn_free(res->witness);
    res->witness = NULL;
    res->verdict = TWINN_VERDICT_UNKNOWN;
    snprintf(res->reason, sizeof res->reason, "%s",
             "a counterexample found on the twins aligned neuron by neuron does not replay on "
             "the models as given (rounding at the property's boundary)");
  }
  for (size_t i = 0; i < pb->n_nets; i++) twinn_net_free(own[i]);
  twinn_free(own);
  twinn_free((void *)al.nets);
  return st;
}

static twinn_status verify_run(const twinn_problem *pb, const twinn_options *opt_in,
                               twinn_result *res, twinn_error *err, int sub,
                               const double *const *inherit, const atomic_int *cancel) {
  twinn_options defaults;
  const twinn_options *opt = opt_in;
  twinn_space sp;
  shared S;
  engine *E = NULL;
  twinn_status st = TWINN_OK;
  double attack_end;
  size_t c, i, nf, open;
  int sat = 0, n_threads = 0, t, sync_ok = 0, blas_prev = 0, pf = 0;
  memset(res, 0, sizeof *res);
  res->open_margin = NAN;
  memset(&S, 0, sizeof S);
  memset(&sp, 0, sizeof sp);
  if (!opt) {
    twinn_options_init(&defaults);
    opt = &defaults;
  }
  S.t0 = twinn_clock_now();
  S.deadline = opt->timeout > 0 ? S.t0 + opt->timeout : 0.0;
  S.cancel = cancel;
  S.pb = pb;
  S.sp = &sp;
  S.opt = opt;
  S.sub = sub;
  if ((st = twinn_space_build(&sp, pb->prop, err)) != TWINN_OK) return st;
  for (i = 0; i < pb->n_nets; i++)
    if (!weights_finite(pb->nets[i])) {
      finish(res, TWINN_VERDICT_UNKNOWN, "a network has a NaN or infinite weight", S.t0);
      goto done;
    }
  if (sp.kind == TWINN_SPACE_EMPTY) {
    finish(res, TWINN_VERDICT_UNSAT, sp.reason, S.t0);
    goto done;
  }
  if (sp.kind != TWINN_SPACE_BOXED) {
    finish(res, TWINN_VERDICT_UNKNOWN, sp.reason, S.t0);
    goto done;
  }
  nf = sp.n_free;
  /* Bisecting one of hundreds of inputs barely moves a bound (MNIST): neurons first there. */
  S.neuron_mode = opt->neuron_split != 0 || sp.n_free > NEURON_DIMS;
  if (pthread_mutex_init(&S.mu, NULL) != 0) goto internal;
  if (pthread_cond_init(&S.cv, NULL) != 0) {
    pthread_mutex_destroy(&S.mu);
    goto internal;
  }
  sync_ok = 1;
  n_threads = thread_count(opt);
  S.witness = twinn_calloc(pb->prop->n_scalars + 1, sizeof *S.witness);
  E = twinn_calloc((size_t)n_threads, sizeof *E);
  if (!S.witness || !E) goto nomem;
  /* Both orders of a portfolio build their own workers: this run keeps one, for the early
   * attack and the decomposition. */
  pf = !sub && !opt->neuron_split && nf > TRIAL_DIMS && nf <= NEURON_DIMS && n_threads >= 2;
  for (t = 0; t < (pf ? 1 : n_threads); t++)
    if (engine_init(&E[t], &S) != TWINN_OK) goto nomem;
  /* One BLAS thread per worker, one worker included: BLAS threads on top of busy cores spin in
   * sched_yield (measured: 40 % of a --threads 1 MNIST run on a loaded machine, 4 regions
   * instead of about 200); --threads N means N cores. Restored at the end. */
  blas_prev = openblas_get_num_threads();
  openblas_set_num_threads(1);
  /* A short attack on each whole case box first (cheap counterexamples end the search early),
   * the rest deferred (DEFER_ATTACK). All of it gets at most a tenth of the time limit (2 s
   * without one). A disjunct's run (SUB_DISJ) skips the first part: its parent attacked the
   * whole formula just before, and most disjuncts are proved at once (the attack was half of
   * an easy mnist_256x2 int8 top-1 instance split into 18 disjuncts). */
  S.attack_len = opt->timeout > 0 ? 0.1 * opt->timeout : 2.0;
  attack_end = S.t0 + S.attack_len;
  E[0].rng = (uint64_t)opt->seed;
  for (c = 0; c < sp.n_cases && !sat && !(sub & (SUB_DISJ | SUB_HALF)) && !opt->no_attack; c++) {
    st = twinn_attack_run(E[0].atk, sp.lo + c * nf, sp.hi + c * nf, ATTACK_EARLY, ATTACK_STEPS, 0,
                          &E[0].rng, attack_end, S.witness, &sat);
    if (st != TWINN_OK) goto fail;
  }
  if (!sat && !sub && pb->n_nets > 1 && !opt->no_decompose) {
    int decided = 0;
    char why[sizeof res->reason];
    if ((st = decompose_first(&E[0], &decided, &sat, why, sizeof why)) != TWINN_OK) goto fail;
    if (decided) {
      res->branches = S.branches;
      finish(res, TWINN_VERDICT_UNSAT, why, S.t0);
      st = TWINN_OK;
      goto done;
    }
  }
  if (!sat && pf) {
    st = portfolio(&S, n_threads, res, err);
    goto done;
  }
  if (!sat && S.neuron_mode && sp.n_cases == 1 && E[0].opt_rounds) {
    const double **stored = NULL;
    if (!inherit && (st = stored_roots(&E[0], opt->roots, sp.lo, sp.hi, &stored)) != TWINN_OK)
      goto fail;
    if (inherit || stored) {
      st = inherit_root(E, n_threads, inherit ? inherit : stored);
    } else {
      st = tighten_root(E, n_threads, sp.lo, sp.hi);
      /* Only bounds the deadline did not cut short are worth keeping (a cut leaves them
       * sound but loose, and a later run with more time would inherit them). */
      if (st == TWINN_OK && opt->roots && (S.deadline <= 0 || twinn_clock_now() < S.deadline))
        st = keep_roots(&E[0], opt->roots, sp.lo, sp.hi);
    }
    twinn_free(stored);
    if (st != TWINN_OK) goto fail;
  }
  if (!sat && !(sub & SUB_DISJ) && !opt->no_decompose && S.neuron_mode && split_pays(&E[0])) {
    int ran, decided;
    twinn_result stop;
    if ((st = split_first(&E[0], sub, &ran, &decided, &sat, &stop)) != TWINN_OK) goto fail;
    /* A disjunct's sat that did not replay on the whole formula leaves the joint search. */
    if (ran && !sat &&
        (decided || stop.verdict == TWINN_VERDICT_TIMEOUT ||
         stop.verdict == TWINN_VERDICT_UNKNOWN)) {
      res->branches = S.branches;
      res->open = decided ? 0 : stop.open;
      finish(res, decided ? TWINN_VERDICT_UNSAT : stop.verdict, stop.reason, S.t0);
      goto done;
    }
  }
  S.attack_len = fmax(0.0, attack_end - twinn_clock_now()); /* what the early part left */
  S.attack_pending = !opt->no_attack;
  S.attack_burst = ATTACK_BURST;
  S.attack_rng = twinn_mix64((uint64_t)opt->seed ^ 0x5EEDull);
  S.attack_at = twinn_clock_now() + DEFER_ATTACK;
  for (c = 0; c < sp.n_cases && !sat; c++) {
    twinn_region *r = twinn_region_new(nf, 0);
    if (!r) goto nomem;
    memcpy(r->lo, sp.lo + c * nf, nf * sizeof *r->lo);
    memcpy(r->hi, sp.hi + c * nf, nf * sizeof *r->hi);
    r->margin = -INFINITY;
    r->id = twinn_mix64((uint64_t)c);
    if ((st = twinn_queue_push(&S.q, r)) != TWINN_OK) goto fail;
  }
  if (sat) S.stop = STOP_SAT;
  for (t = 1; t < n_threads && !sat; t++)
    E[t].started = pthread_create(&E[t].thread, NULL, worker_main, &E[t]) == 0;
  worker_main(&E[0]);
  for (t = 1; t < n_threads; t++)
    if (E[t].started) pthread_join(E[t].thread, NULL);
  if (S.stop == STOP_ERROR) {
    st = S.st;
    goto fail;
  }
  /* A worker that saw the deadline while another finished the last open region stops the
   * search with STOP_TIMEOUT although nothing is left open: the search then ended as a complete
   * one does (queue empty, no region lost), and its verdict is that of a complete search below
   * (the time-out would report open_margin +inf: test_verify test_open_margin failed so under
   * load, 0.03 s runs). */
  open = S.q.n;
  for (t = 0; t < n_threads; t++) open += E[t].n_local;
  res->branches = S.branches;
  res->open = open;
  if (S.stop == STOP_SAT) {
    res->witness = S.witness;
    S.witness = NULL;
    finish(res, TWINN_VERDICT_SAT, NULL, S.t0);
  } else if (S.stop == STOP_TIMEOUT && (open > 0 || S.lost)) {
    char why[sizeof res->reason];
    int n = 0;
    res->open_margin = open_margin(E, n_threads);
    if (isfinite(res->open_margin)) /* how far the proof still is */
      n = snprintf(why, sizeof why,
                   "timeout after %.1f s (%lu regions, %zu open; their worst margin %.3g, a "
                   "proof needs > 0)",
                   twinn_clock_now() - S.t0, S.branches, open, res->open_margin);
    else
      n = snprintf(why, sizeof why, "timeout after %.1f s (%lu regions, %zu open)",
                   twinn_clock_now() - S.t0, S.branches, open);
    /* Between few inputs (ACAS Xu: bisection wins by far) and many (MNIST: neurons first),
     * neither order wins everywhere (random twins of 17-30 inputs, BENCHMARKS.md session 44),
     * and one thread runs one of them (two run both: portfolio): say which. */
    if (!S.neuron_mode && !sub && nf > TRIAL_DIMS && n > 0 && (size_t)n < sizeof why)
      snprintf(why + n, sizeof why - (size_t)n,
               "; inputs were bisected first (one thread; two run both orders at once; option "
               "neuron_split, --neuron-split: ReLUs first)");
    finish(res, TWINN_VERDICT_TIMEOUT, why, S.t0);
  } else if (S.undecided[0]) {
    finish(res, TWINN_VERDICT_UNKNOWN, S.undecided, S.t0);
  } else {
    finish(res, TWINN_VERDICT_UNSAT, NULL, S.t0);
  }
  report(&S, twinn_clock_now(), 1);
  st = TWINN_OK;
  goto done;
nomem:
  st = TWINN_ERR_NOMEM;
  goto fail;
internal:
  st = TWINN_ERR_INTERNAL;
fail:
  if (st == TWINN_ERR_NOMEM)
    twinn_error_set(err, st, NULL, 0, 0, "out of memory in the verifier");
  else
    twinn_error_set(err, st, NULL, 0, 0, "internal failure in the verifier");
  res->verdict = TWINN_VERDICT_UNKNOWN;
done:
  if (blas_prev > 0) openblas_set_num_threads(blas_prev);
  for (t = 0; E && t < n_threads; t++)
    if (E[t].pb) engine_release(&E[t]);
  twinn_free(E);
  twinn_queue_release(&S.q);
  if (sync_ok) {
    pthread_cond_destroy(&S.cv);
    pthread_mutex_destroy(&S.mu);
  }
  twinn_free(S.witness);
  twinn_space_release(&sp);
  return st;
}
