/* quant.c: branch and bound that maximises one objective h over an input box (quant.h).
 * Upper bounds come only from twinn_sym_bound_lin over sub-boxes (sound under rounding); a box
 * whose bound cannot exceed the best attained value is dropped, so upper = max(lower, largest
 * queued bound) always covers the true maximum. Lower bounds come only from concrete points
 * inside the box, certified by interval propagation over the degenerate box {x} (outward
 * rounding), so the exact objective at the reported point is >= lower. Objectives run
 * concurrently on worker threads, each worker with its own workspace (qws); what they share
 * (qshared) is read-only during the run except under its mutex or through atomics. An
 * objective's result depends only on (seed, objective), never on scheduling, except through the
 * deadline: its search (qjob) may be suspended and resumed on another worker without a trace
 * (its whole state is in the qjob), and a worker with nothing better to do helps a running one
 * with the halves of the boxes it halves, in rounds of QUANT_ROUND boxes whatever the number of
 * workers; a half's bounding depends only on the half and the best value attained when its
 * round began (run_round). Which objective runs when is chosen by pick: for |g_i - f_i| the
 * ones that can still hold the L-inf maximum, the largest upper end first. Never prints. */
#include "quant.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "align.h"
#include "attack.h"
#include "blas_threads.h"
#include "twinn.h"
#include "clock.h"
#include "exact.h"
#include "interval.h"
#include "pattern.h"
#include "roots.h"
#include "splitscore.h"
#include "symbolic.h"
#include "symkern.h"

const char *twinn_pairing_name(twinn_pairing p) {
  return p == TWINN_PAIRING_ALIGNED   ? "aligned"
         : p == TWINN_PAIRING_PRODUCT ? "product"
                                      : "isomorphic";
}

void twinn_quant_options_init(twinn_quant_options *opt) {
  memset(opt, 0, sizeof *opt);
  opt->gap = 1e-3;
  opt->abs_gap = 1e-9;
  opt->seed = 1;
  opt->threads = 0;
}

/* What is maximised. ABS: |g_i - f_i|. MDIFF: s * (m_g - m_f). MNEG: -m_w (w = 0 f, 1 g).
 * LINF: max_i |g_i - f_i| / floor_i, every output's difference relative to its best attained
 * value (out_floor): twinn_quant_diff_bounds' joint search, the only one that runs it, always in
 * per-output mode (qshared.per_out; since session 50 the L-inf maximum has no search of its
 * own). Its forms are g_i - f_i and f_i - g_i for every output (form 2i + (sign > 0),
 * QUANT_LINF_FORMS at most), and a box bounds only those that may still beat their output's
 * floor (qbox.live). */
typedef enum { OBJ_ABS = 0, OBJ_MDIFF, OBJ_MNEG, OBJ_LINF } obj_kind;

/* OBJ_LINF's forms at most (2 per output): a live mask is one uint64_t. */
#define QUANT_LINF_FORMS 64

typedef struct {
  obj_kind kind;
  size_t i;  /* ABS: the output */
  double s;  /* MDIFF: +1 or -1 */
  int which; /* MNEG: 0 f, 1 g */
} objective;

/* A queued box: lo then hi in one allocation. */
typedef struct {
  double u;   /* proved upper bound of h over the box */
  size_t dim; /* the dimension to bisect next */
  int exact;  /* bisecting cannot lower u: the exact maximum (exact.h), or a point box */
  /* Per-output mode: the focus output is open on it (outs_key): queued before every box
   * without (whatever u), so the top's u is the largest only when no box has it; a box with
   * it has u above the gap, so the top's u still says whether the gap closed. Else 0. */
  int first;
  double fk; /* first boxes: the focus output's largest relative bound on it (their order) */
  /* OBJ_LINF: the forms whose bound on the box was above their output's floor then (bit t:
   * form t of objective_form); each other form's bound on it was at or below that floor, so on
   * its halves too (floors only rise): they are not bounded again below it. Others: unused. */
  uint64_t live;
  double *box;
} qbox;

typedef struct {
  qbox *a;
  size_t n, cap;
} qheap;

/* Boxes halved per round of an objective's search (run_round), for any number of workers. A
 * round ends when its slowest task does (an exact search can take 100x a plain box), and the
 * other worker waits: with 4, the waits took 15 % of two workers' time on acasxu_3_8 fp16 p1.
 * 16: the 27-region sample of acasxu_fp16_eps (BENCHMARKS.md, session 33) the same regions
 * closed, median L-inf gap 8.8e-4 -> 6.0e-4, 3_8 p1 2.25 % -> 0.9 % open at 60 s; 8: 3_8 p1
 * 1.3 %. 32 (session 41): the waits of 40 s of acasxu_4_1 fp16 p1 3.8 -> 2.6 worker-seconds
 * (of 80), its output 0 closes after the same 219 k boxes at 56.9 s against 58.2 s. */
#define QUANT_ROUND 32
/* A round's tasks: its boxes' halves and a near_exact search. */
#define QUANT_TASKS (2 * QUANT_ROUND + 1)

/* The best attained point of an objective's search, and the first top-1 disagreement it saw. */
typedef struct {
  double best_lo, best_val;
  double *best_pt; /* n_in */
  int disagree;
  size_t dis_f, dis_g;
  double *dis_pt; /* n_in */
  /* Per-output mode (qshared.per_out), n_ob outputs (else 0): each output's best certified
   * |g_j - f_j| (its floor, out_floor), the double value and the point; ob_sum grows with any
   * of them (what "a new best" means there: best_lo stays 1). */
  size_t n_ob;
  double *ob_lo, *ob_val, *ob_pt; /* n_ob, n_ob, n_ob x n_in */
  double ob_sum;
  size_t focus; /* per-output mode: the output whose open boxes come first (outs_key) */
} qbest;

/* Per-output mode: qbest.focus while the L-inf interval is open. Its boxes come first: those
 * with a form above the largest floor (linf_floor) by more than the gap, largest first, as
 * a search of the L-inf maximum alone would take them, but keeping what it would drop (boxes
 * whose forms are above their own outputs' floors), so the outputs' searches go on from them. */
#define QUANT_FOCUS_LINF (SIZE_MAX - 1)

static void best_copy(qbest *dst, const qbest *src, size_t n) {
  double *bp = dst->best_pt, *dp = dst->dis_pt, *ol = dst->ob_lo, *ov = dst->ob_val,
         *op = dst->ob_pt;
  size_t m = dst->n_ob;
  *dst = *src;
  dst->best_pt = bp;
  dst->dis_pt = dp;
  dst->n_ob = m;
  dst->ob_lo = ol;
  dst->ob_val = ov;
  dst->ob_pt = op;
  memcpy(bp, src->best_pt, n * sizeof(double));
  memcpy(dp, src->dis_pt, n * sizeof(double));
  if (m && src->n_ob == m) {
    memcpy(ol, src->ob_lo, m * sizeof(double));
    memcpy(ov, src->ob_val, m * sizeof(double));
    memcpy(op, src->ob_pt, m * n * sizeof(double));
  }
}

/* Per-output mode: the qbest arrays of n_out outputs in a (OB_DOUBLES(n_out, n_in) doubles). */
static void best_attach(qbest *b, double *a, size_t n_out) {
  b->n_ob = n_out;
  b->ob_lo = a;
  b->ob_val = a + n_out;
  b->ob_pt = a + 2 * n_out;
}
#define OB_DOUBLES(n_out, n_in) (2 * (n_out) + (n_out) * (n_in))

/* A half of a box halved in a round, and what its bounding gave (run_task). */
typedef struct {
  /* In: */
  double *box;        /* owned by the task until done (then in b, or freed) */
  double floor;       /* the best attained value when the round began */
  const qbest *start; /* per-output mode: the round's state (its floors) */
  int dis0;           /* a top-1 disagreement had already been seen */
  double cap;         /* the halved box's proved bound, which holds on the half too */
  double cap_fk;      /* the halved box's qbox.fk */
  uint64_t live;      /* the halved box's live forms (qbox.live) */
  int near;           /* near_exact instead of a half, shaped by box (the top box copied) */
  /* Out: */
  twinn_status st;
  twinn_error err;
  qbox b;
  int keep;    /* b is to be queued */
  int refined; /* refine_relus analysed it again */
  qbest out;   /* the state after its bounding (from floor and dis0) */
} qtask;

/* One objective's search. It runs on one worker at a time (its owner), whose rounds' tasks a
 * helper may share; between runs (suspended: it yielded its worker, or its share of the time
 * ran out) its state waits here, and the search goes on from it as if it had never stopped. */
typedef struct {
  /* Under S->mu: */
  int helper;                            /* a worker is attached as this objective's helper */
  int running;                           /* a worker runs the search */
  int finished;                          /* its result is written: the helper leaves */
  size_t owner;                          /* the id of the worker running it */
  double upper;                          /* its upper end when last published (L-inf mode) */
  size_t n_tasks, next_task, tasks_done; /* the current round */
  /* A task is written by the owner before its round, by the worker that takes it during it. */
  qtask t[QUANT_TASKS]; /* the halves, after a near_exact task if any */
  /* The search between runs: only the worker running it touches these. */
  qheap h;
  int suspended;
  qbest best;
  uint64_t rng;
  unsigned long branches, polished_at, n_polish;
  unsigned long refined; /* boxes refine_relus analysed again */
  double polished, seconds;
  /* near_exact: boxes when it last ran, the best value it last saw, its next box's size (of
   * the region's widths; of the top box's, near_k, at most near_kmax; 0: none). */
  unsigned long near_at;
  unsigned long focus_at; /* per-output mode: rounds until the focus is chosen again */
  /* Per-output mode: its boxes and seconds while the focus was the L-inf interval
   * (QUANT_FOCUS_LINF); linf_done once that closed. */
  unsigned long linf_branches;
  double linf_seconds;
  int linf_done;
  double near_from, near_r, near_k, near_kmax;
  qbest save; /* the owner's state while its round's tasks run */
} qjob;

/* What the workers share. Fixed before the workers start, except the fields marked. */
typedef struct {
  const twinn_net *f, *g;
  const twinn_quant_options *opt;
  size_t n_in, n_out, cls;
  double dir;                      /* +1 argmax, -1 argmin */
  int prod;                        /* the product network: f and g have a workspace each */
  twinn_pairing pairing;           /* how f and g are bounded together (quant.h) */
  twinn_net *own_f, *own_g;        /* TWINN_PAIRING_ALIGNED: the rebuilt pair (f and g above) */
  size_t matched;                  /* ... and its hidden neurons matched */
  const double *root_lo, *root_hi; /* the whole box (the caller's arrays) */
  double t0, deadline;             /* deadline 0: none */
  size_t max_open;                 /* per objective */
  size_t n_obj;
  const objective *obj;     /* n_obj */
  twinn_quant_bound **out;  /* n_obj: where each objective's result goes */
  const char *const *names; /* n_obj: progress labels */
  size_t n_sign_stop;       /* objectives k < this also stop once their sign is known */
  /* Per objective k, written only by the worker that ran k: a certain top-1 disagreement. */
  int *dis;
  size_t *dis_f, *dis_g;
  double *dis_pt;         /* n_obj x n_in */
  atomic_ulong branches;  /* boxes bounded, all objectives (progress only) */
  atomic_ulong helped;    /* of these, by a helper */
  atomic_int all_started; /* every objective has been taken: running ones may use all the time */
  atomic_int stop;        /* a worker failed: the others stop at once */
  pthread_mutex_t mu;     /* guards the fields below and serialises the progress callback */
  pthread_cond_t cv;      /* broadcast when a job starts, posts, finishes or a task is done */
  qjob *jobs;             /* n_obj */
  size_t next_prep;       /* the next objective whose root phase is to run */
  size_t n_prepared;      /* root phases done */
  int linf;               /* L-inf mode (every objective is some |g_i - f_i|): see pick */
  double lam;             /* L-inf mode: the largest value attained by any objective */
  /* Per-output mode's result: the boxes and seconds of its search while the L-inf interval
   * was its focus (all of them if that never closed; job_result). */
  unsigned long linf_branches;
  double linf_seconds;
  /* twinn_quant_diff_bounds' searches of single outputs: per objective k, a first point and a
   * cap of its own (NULL: none). */
  const double *const *seed_of;
  const double *cap_of;
  /* twinn_quant_diff_bounds' joint search, per-output mode: one OBJ_LINF search for every
   * output's own maximum at once (the L-inf interval its first focus, QUANT_FOCUS_LINF). A form of
   * output j is live on a box while its bound there is above j's best attained value (its floor),
   * not the L-inf one; a box's key is its largest bound relative to that floor (rounded up; best_lo
   * stays 1, so the gap closes when every output's does), from the per-form bounds each box keeps
   * (box_fb). Its results go to outs (n_out). */
  int per_out;
  twinn_quant_bound *outs;
  size_t running;     /* objectives running on a worker */
  size_t next;        /* share mode: the next objective to take */
  size_t n_workers;   /* workers running (fewer than n_slots if a thread failed to start) */
  size_t n_slots;     /* workspaces */
  double *busy_until; /* n_slots: deadline of each worker's current objective (0 idle) */
  double last_progress;
  const char *last_target; /* of the last snapshot */
  twinn_status st;         /* the first failure */
  twinn_error err;
} qshared;

/* One worker's workspace: nothing here is shared. */
typedef struct {
  qshared *S;
  size_t id;
  const twinn_net *f, *g; /* copies of S's, for brevity */
  const twinn_quant_options *opt;
  size_t n_in, n_out, cls;
  double dir;
  const double *root_lo, *root_hi;
  twinn_sym *sym;  /* the pair's; f's alone for the product network (S->prod) */
  twinn_sym *sg;   /* S->prod: g's alone, else NULL */
  double *pa, *pb; /* S->prod, 2 n_in each: the product's summed rows, and scratch */
  double *pcoef;   /* S->prod, 2 n_in: prod_bounds' sensitivities (upper end, lower end) */
  /* The pair, f, g; NULL: no exact search (wide inputs, or f and g not isomorphic) */
  twinn_exact *ex, *ex_f, *ex_g;
  twinn_ibounds bf, bg;
  double *cf, *cg, *yf, *yg; /* n_out */
  double *x, *grad, *coef;   /* n_in */
  twinn_splitscore *ss;      /* relaxation split scores (few inputs), else NULL */
  twinn_splitscore *ssg;     /* S->prod: g's (ss is then f's alone) */
  double *bcf, *bcg;         /* box_upper's worst form for ss (n_out each) */
  double *xcf, *xcg;         /* try_exact's forms (2 n_out + 1 rows of n_out each) */
  double *wid, *gain;        /* n_in: the box's widths and the form's relaxation gains */
  double *nlo, *nhi;         /* n_in: the box of near_exact */
  double *caps;              /* 2 (n_in + 1): |g_i - f_i|'s forms' upper rows (box_upper_once) */
  double *fb;                /* per-output mode: the box's per-form bounds (box_upper) */
  size_t nfb;                /* per-output mode: 2 n_out (per-form bounds after each box), else 0 */
  int caps_ok;               /* both rows are from the last box bounded */
  size_t nd;                 /* bytes of phase bits after each queued box (0: none) */
  double *px, *pq;           /* n_in: the pattern search's point and scratch */
  double *fwd, *fwd_g;       /* every point of f's and g's last forward pass (try_point) */
  double *v1, *v2;           /* max width */
  int refined;               /* refine_relus analysed the last box again */
  /* Per-output mode, > 0: objective_form's forms are relative to it (try_exact_outs). */
  double form_lam;
  uint64_t rng;
  double deadline;        /* of the current objective (0: none) */
  uint64_t live;          /* OBJ_LINF: the forms box_upper_once bounds (qbox.live) ... */
  uint64_t live_out;      /* ... and those of them whose bound it left above their floor */
  double last_progress;   /* when this worker last tried to report */
  unsigned long branches; /* boxes bounded by this worker */
  const char *target;
  qbest cur; /* of the objective (or task) it runs now */
  twinn_error err;
  pthread_t thread;
  int started;
} qws;

/* A queued box: lo, hi (n_in doubles each), in per-output mode w->nfb per-form bounds
 * (box_fb), then w->nd bytes: the bits of the ReLUs its
 * analysis proved inactive in both networks (twinn_sym_dead_bits), then of those it proved
 * active in both (twinn_sym_active_bits), which are so on its halves too. */
static size_t box_bytes(const qws *w) { return (2 * w->n_in + w->nfb) * sizeof(double) + w->nd; }
static unsigned char *box_dead(const qws *w, double *box) {
  return (unsigned char *)(box + 2 * w->n_in + w->nfb);
}
/* Per-output mode: the per-form bounds (form t: output t / 2, g - f for odd t) of a box of n_in
 * inputs, between hi and the phase bits: each holds on the box (a half starts with its
 * parent's). */
static double *box_fb_of(double *box, size_t n_in) { return box + 2 * n_in; }
static double *box_fb(const qws *w, double *box) { return box_fb_of(box, w->n_in); }
static unsigned char *box_active(const qws *w, double *box) { return box_dead(w, box) + w->nd / 2; }
/* The dead and active ReLUs of the analysis in w->sym (of that box) into the box's bits. */
static void keep_phases(qws *w, double *box) {
  if (w->nd && (!twinn_sym_dead_bits(w->sym, box_dead(w, box)) ||
                !twinn_sym_active_bits(w->sym, box_active(w, box))))
    memset(box_dead(w, box), 0, w->nd);
}

static size_t fwd_size(const twinn_net *n) {
  size_t k, t = 0;
  for (k = 0; k <= n->n_layers; k++) t += twinn_net_width_at(n, k);
  return t;
}

static void ws_release(qws *w) {
  twinn_sym_free(w->sym);
  twinn_sym_free(w->sg);
  twinn_free(w->pa);
  twinn_free(w->pb);
  twinn_free(w->pcoef);
  twinn_splitscore_free(w->ss);
  twinn_splitscore_free(w->ssg);
  twinn_free(w->bcf);
  twinn_free(w->bcg);
  twinn_free(w->wid);
  twinn_free(w->gain);
  twinn_free(w->nlo);
  twinn_free(w->caps);
  twinn_free(w->fb);
  twinn_free(w->cur.ob_lo);
  twinn_free(w->nhi);
  twinn_free(w->xcf);
  twinn_free(w->xcg);
  twinn_exact_free(w->ex);
  twinn_exact_free(w->ex_f);
  twinn_exact_free(w->ex_g);
  twinn_ibounds_release(&w->bf);
  twinn_ibounds_release(&w->bg);
  twinn_free(w->cf);
  twinn_free(w->cg);
  twinn_free(w->yf);
  twinn_free(w->yg);
  twinn_free(w->x);
  twinn_free(w->grad);
  twinn_free(w->coef);
  twinn_free(w->px);
  twinn_free(w->pq);
  twinn_free(w->fwd);
  twinn_free(w->fwd_g);
  twinn_free(w->v1);
  twinn_free(w->v2);
  twinn_free(w->cur.best_pt);
  twinn_free(w->cur.dis_pt);
}

/* Inputs of at most QUANT_EXACT_DIMS dimensions: the root box, if its analysis leaves at most
 * QUANT_EXACT_UNSTABLE ReLUs of f and g undecided, is solved exactly (exact.h), within
 * QUANT_EXACT_LPS linear programs per sign. */
#define QUANT_EXACT_DIMS 16
#define QUANT_EXACT_UNSTABLE 8
#define QUANT_EXACT_LPS 1000
/* So is every half whose analysis leaves at most QUANT_EXACT_HALF_UNSTABLE undecided, within
 * QUANT_EXACT_HALF_LPS per sign, as soon as it is bounded. Until session 40 only the halves of
 * a box with 9-16 undecided got that search (the others, at most 8 and 1 000 LPs): a half left
 * with 9-16 was halved once more when on top, and its two halves searched. Searching it at once
 * (whatever its parent had): acasxu_4_1 fp16 p1, output 0 closes after 219 k boxes at 60.1 s
 * instead of 272 k at 71.0 s (side by side, --timeout 100); 2_7 p1 after 210 k at 45.3 s
 * (230 k, 50-52 s); the 27-region sample 497.2 -> 490.5 s, every output closed on 23 regions
 * (22). Sizes (session 37; re-measured in session 40 with the halves of 9-16 alone: 20 and 24
 * searched fewer boxes but took as long or longer, 12 left 4_1 p1 open at 95 s). 18 since
 * session 41, whose searches and analyses are cheaper: 4_1 p1's output 0 closes after 168 k
 * boxes at 58.1 s (16: 219 k, 58.2 s; --timeout 100), with QUANT_ROUND 32 at 55.7 s. */
#define QUANT_EXACT_HALF_UNSTABLE 18
#define QUANT_EXACT_HALF_LPS 4000
/* Boxes whose first analysis (box_upper) leaves at most this many ReLUs of f and g undecided
 * get no second analysis. */
#define QUANT_STEER_UNSTABLE 40
/* A pattern search from the best point after the root's ascents, then one per
 * QUANT_POLISH_EVERY boxes (maximise; each costs a few hundred to a few thousand evaluations of
 * both networks: a few boxes' worth). */
#define QUANT_POLISH_EVERY 256
/* Only in input spaces of at most this many dimensions (a sweep costs 2 n evaluations). */
#define QUANT_POLISH_DIMS 16
/* Gradient-ascent steps from the centre of every box queued; fewer on inputs of at most
 * QUANT_EXACT_DIMS dimensions, where the exact searches' maximisers (try_exact, near_exact)
 * supply the points: acasxu_fp16_eps bound set (60 s, 2 workers) with 6 / 2 / 0 steps there,
 * the same lower ends everywhere, 10 / 11 / 11 regions closed, 54 / 57 / 57 outputs, 353-363 /
 * 320 / 306 s. 2 keep some for margins, which try_exact leaves alone (acasxu_1_1 int8 p3
 * --margin at 20 s: the same attained m_g - m_f with 2 as with 6). */
#define QUANT_ASCENT 6
#define QUANT_ASCENT_FEW 2
/* Every QUANT_NEAR_EVERY boxes, an exact search of at most QUANT_NEAR_LPS LPs per form around
 * the best point (near_exact), over QUANT_NEAR_R0 of the region's widths, doubled while it finds
 * nothing better and completes. */
#define QUANT_NEAR_EVERY 1024
#define QUANT_NEAR_LPS 10000
#define QUANT_NEAR_R0 0.05
/* Once those are done (until a new best), the searches are shaped like the box on top of the
 * queue instead: QUANT_NEAR_K0 times its widths, halved after a search that ran out of LPs (not
 * below QUANT_NEAR_KMIN), doubled while it finds nothing better (never back above a size that
 * ran out). Why: the bisection halves the inputs the objective is sensitive to far more often,
 * and a box of the same share of every width holds too many undecided ReLUs there. On acasxu_2_7
 * fp16 p1 some runs kept 2.1759e-3 for 60 s (the region's maximum is 2.1784e-3, 1-2 % of the region
 * away in inputs 0, 3 and 4): the search of 5 % of every width around it ran out of its 10 000 LPs
 * per form (and of 10 %), so no larger one followed; boxes of 5 % in inputs 0, 3, 4 and 0.5 % in 1,
 * 2 (the top boxes' are 3-50 % and 0.2-0.4 %) find 2.1784e-3 in 5 244 steps (21 ms). */
#define QUANT_NEAR_K0 2.0
#define QUANT_NEAR_KMIN 0.5
/* A new best restarts it when it exceeds the last search's best by this much, relative. */
#define QUANT_NEAR_RISE 1e-3

/* Inputs of more dimensions get the root's optimised intermediate bounds (ws_init). */
#define QUANT_TIGHTEN_DIMS 64
#define QUANT_TIGHTEN_ROUNDS 10
/* ... with the first ReLU layer's hull planes (as verify.c's ANDERSON_ROUNDS): mnist_256x4 fp16
 * img0's L-inf upper end at 30 s 3.2e-3 -> 1.8e-4 (lower end 1.34e-4). */
#define QUANT_ANDERSON_ROUNDS 20
#define QUANT_TIGHTEN_MAX_WS 8 /* workspaces sharing it at most (verify.c's TIGHTEN_MAX_WS) */
#define QUANT_ANDERSON_DEPTH 3 /* ReLU layers at least (verify.c's ANDERSON_DEPTH) */
/* A half whose own bound is at least QUANT_REFINE_STALL times the halved box's (halving did not
 * lower it) gets refine_relus: the QUANT_REFINE_K nearly stable ReLUs (QUANT_REFINE_NEAR) whose
 * relaxations weigh most in its bound get their bounds optimised (QUANT_REFINE_ITERS rounds), and
 * it is analysed again. Why: on acasxu_2_7 fp16 p1, output 3's search (55 s, 51 k boxes) ended
 * at 2.88e-3 with 9 300 queued boxes all within 0.1 % of it, while the top one's maximum is 1.7e-5:
 * in all of them a last-layer neuron that no input turns on (sampled maximum -0.30) keeps an upper
 * end just above 0 (0.10), so h_d = relu(f + d) - relu(f) is bounded by d's range there, 0.17,
 * whatever the box; its optimised upper end is -0.297 (0.2 ms). 30 s, 2 workers, L-inf upper ends
 * on 2_7 / 3_8 p1 (lower ends 2.00e-3 / 2.17e-3): none 4.73e-3 / 2.81e-3; every half 3.16e-3 /
 * 2.83e-3 (a third fewer boxes); stall 0.98 3.05e-3 / 2.61e-3, 0.995 3.02e-3 / 2.58e-3, 0.999
 * 3.00e-3 / 2.58e-3 (about as many boxes as none); 5 rounds instead of 20: no better than
 * none; 2 ReLUs: 4.02e-3 / 2.67e-3 (stall 0.98); 8 (every half): 3.19e-3 / 3.09e-3. */
#define QUANT_REFINE_STALL 0.995
/* ... and only while its bound is over QUANT_REFINE_LOOSE times the best value attained: near
 * the end of a search the half holding the maximum keeps its parent's bound because that bound
 * is nearly tight, and refining it cannot help (without this rule 30-70 % of the boxes of
 * acasxu_1_9 p3 / 4_2 p3 were refined, which closed in 3.8 / 49.9 s against 2.3 / 35.2 s).
 * 1.1: 2.45 / 36.4 s; 1.5: 2.35 / 35.4 s, 2_7 / 3_8 p1 at 30 s 3.07e-3 / 2.60e-3; 3: 3_8 p1
 * 2.90e-3. */
#define QUANT_REFINE_LOOSE 1.5
#define QUANT_REFINE_K 4
/* Only ReLUs nearly stable in f or g are candidates: the shorter side of the pre-activation's
 * interval at most this share of its width. What optimising an end buys is a neuron made
 * stable (h_d then exact); a neuron truly unstable stays so. On acasxu_2_7 fp16 p1, output 3's
 * top box at 20 s (bound 6.09e-3, maximum 1.5e-5), ranking every unstable ReLU chose four of
 * the last layers whose sampled ranges span 0 as their bounds do, and the bound did not move;
 * f's neuron 40 of the last ReLU layer, [-8.15, 0.23] (sampled maximum -0.20; 2.8 % of the
 * width above 0), ranked below them, and refined alone it brings the bound to 0. 30 s, 2_7 /
 * 3_8 p1 L-inf upper ends: all candidates 2.83-3.07e-3 / 2.47-2.60e-3 (spread of runs); 0.1
 * 2.58e-3 / 2.58e-3, with d's width in the score (below) 2.53e-3 / 2.56e-3; 0.05 2.54e-3 /
 * 2.63e-3; 0.2 2.56e-3 / 2.52e-3; 8 or 16 ReLUs instead of 4: no better. */
#define QUANT_REFINE_NEAR 0.1
#define QUANT_REFINE_ITERS 20
/* L-inf mode: an objective looks at the others every this many boxes (should_yield). */
#define QUANT_SLICE 64

/* Checks the box and fills what every worker shares (objectives are set by the caller). */
static twinn_status shared_init(qshared *S, const twinn_net *f, const twinn_net *g,
                                const double *lo, const double *hi, const twinn_quant_options *opt,
                                twinn_error *err) {
  size_t i;
  twinn_status st;
  memset(S, 0, sizeof *S);
  S->pairing = TWINN_PAIRING_ISOMORPHIC;
  if (!twinn_net_isomorphic(f, g)) {
    if ((st = twinn_sym_supported(f, NULL, err)) != TWINN_OK ||
        (st = twinn_sym_supported(g, NULL, err)) != TWINN_OK)
      return st;
    if (f->n_in != g->n_in || f->n_out != g->n_out)
      return twinn_error_set(err, TWINN_ERR_SEMANTIC, NULL, 0, 0,
                             "the networks differ in their inputs (%zu, %zu) or outputs (%zu, "
                             "%zu)",
                             f->n_in, g->n_in, f->n_out, g->n_out);
  } else if ((st = twinn_sym_supported(f, g, err)) != TWINN_OK) {
    return st;
  }
  for (i = 0; i < f->n_in; i++)
    if (!isfinite(lo[i]) || !isfinite(hi[i]) || lo[i] > hi[i])
      return twinn_error_set(err, TWINN_ERR_SEMANTIC, NULL, 0, 0,
                             "input %zu: the region [%g, %g] is empty or unbounded", i, lo[i],
                             hi[i]);
  if (!twinn_net_isomorphic(f, g)) {
    /* Twins of different widths that share most neurons (structured pruning) are rebuilt as
     * an isomorphic pair computing the same functions (align.h) where that bounds them better:
     * g - f is then bounded directly. Others (a distilled twin) go through the product
     * network. */
    st = twinn_net_align_for(f, g, lo, hi, &S->own_f, &S->own_g, &S->matched, err);
    if (st == TWINN_OK) {
      f = S->own_f;
      g = S->own_g;
      S->pairing = TWINN_PAIRING_ALIGNED;
    } else if (st == TWINN_ERR_UNSUPPORTED) {
      S->prod = 1;
      S->pairing = TWINN_PAIRING_PRODUCT;
    } else {
      return st;
    }
  }
  S->f = f;
  S->g = g;
  S->opt = opt;
  S->n_in = f->n_in;
  S->n_out = f->n_out;
  S->dir = 1.0;
  S->root_lo = lo;
  S->root_hi = hi;
  S->t0 = twinn_clock_now();
  S->deadline = opt->timeout > 0 ? S->t0 + opt->timeout : 0;
  atomic_init(&S->branches, 0);
  atomic_init(&S->helped, 0);
  atomic_init(&S->all_started, 0);
  atomic_init(&S->stop, 0);
  S->lam = -INFINITY;
  return TWINN_OK;
}

/* Worker id's workspace. TWINN_ERR_NOMEM (w released) on failure. */
static twinn_status ws_init(qws *w, qshared *S, size_t id, twinn_error *err) {
  const twinn_net *f = S->f, *g = S->g;
  size_t mw, fs;
  memset(w, 0, sizeof *w);
  w->S = S;
  w->id = id;
  w->f = f;
  w->g = g;
  w->opt = S->opt;
  w->n_in = S->n_in;
  w->n_out = S->n_out;
  w->cls = S->cls;
  w->dir = S->dir;
  w->root_lo = S->root_lo;
  w->root_hi = S->root_hi;
  twinn_error_clear(&w->err);
  mw = twinn_net_max_width(f);
  if (twinn_net_max_width(g) > mw) mw = twinn_net_max_width(g);
  fs = fwd_size(f) > fwd_size(g) ? fwd_size(f) : fwd_size(g);
  if (S->prod) {
    w->sym = twinn_sym_new(f, NULL);
    w->sg = twinn_sym_new(g, NULL);
    w->pa = twinn_calloc(2 * w->n_in, sizeof(double));
    w->pb = twinn_calloc(2 * w->n_in, sizeof(double));
    w->pcoef = twinn_calloc(2 * w->n_in, sizeof(double));
  } else {
    w->sym = twinn_sym_new(f, g);
  }
  if (w->n_in <= QUANT_EXACT_DIMS) {
    if (!S->prod && w->sym) w->nd = 2 * twinn_sym_dead_bytes(w->sym);
    if (!S->prod) { /* the phase search bounds pairs only */
      w->ex = twinn_exact_new(f, g);
      w->ex_f = twinn_exact_new(f, NULL);
      w->ex_g = twinn_exact_new(g, NULL);
    } else {
      w->ssg = twinn_splitscore_new(g, NULL);
    }
    w->ss = twinn_splitscore_new(f, S->prod ? NULL : g);
    w->bcf = twinn_calloc(w->n_out, sizeof(double));
    w->bcg = twinn_calloc(w->n_out, sizeof(double));
    w->wid = twinn_calloc(w->n_in, sizeof(double));
    w->gain = twinn_calloc(w->n_in, sizeof(double));
    w->nlo = twinn_calloc(w->n_in, sizeof(double));
    w->caps = twinn_calloc(2 * (w->n_in + 1), sizeof(double));
    w->nhi = twinn_calloc(w->n_in, sizeof(double));
    w->xcf = twinn_calloc((2 * w->n_out + 1) * w->n_out, sizeof(double));
    w->xcg = twinn_calloc((2 * w->n_out + 1) * w->n_out, sizeof(double));
  }
  w->cf = twinn_calloc(w->n_out, sizeof(double));
  w->cg = twinn_calloc(w->n_out, sizeof(double));
  w->yf = twinn_calloc(w->n_out, sizeof(double));
  w->yg = twinn_calloc(w->n_out, sizeof(double));
  w->x = twinn_calloc(w->n_in, sizeof(double));
  w->grad = twinn_calloc(w->n_in, sizeof(double));
  w->coef = twinn_calloc(w->n_in, sizeof(double));
  w->px = twinn_calloc(w->n_in, sizeof(double));
  w->pq = twinn_calloc(w->n_in, sizeof(double));
  w->fwd = twinn_calloc(fs, sizeof(double));
  w->fwd_g = twinn_calloc(fs, sizeof(double));
  w->v1 = twinn_calloc(mw, sizeof(double));
  w->v2 = twinn_calloc(mw, sizeof(double));
  w->cur.best_pt = twinn_calloc(w->n_in, sizeof(double));
  w->cur.dis_pt = twinn_calloc(w->n_in, sizeof(double));
  if (S->per_out) {
    double *a = twinn_calloc(OB_DOUBLES(w->n_out, w->n_in), sizeof(double));
    w->fb = twinn_calloc(2 * w->n_out, sizeof(double));
    w->nfb = 2 * w->n_out;
    if (a) best_attach(&w->cur, a, w->n_out);
    if (!a || !w->fb) {
      twinn_free(a);
      w->cur.n_ob = 0;
      w->cur.ob_lo = NULL;
      ws_release(w);
      return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory (bound analysis)");
    }
  }
  if (!w->sym || !w->cf || !w->cg || !w->yf || !w->yg || !w->x || !w->grad || !w->coef || !w->px ||
      !w->pq || !w->fwd || !w->fwd_g || !w->v1 || !w->v2 || !w->cur.best_pt || !w->cur.dis_pt ||
      (S->prod && (!w->sg || !w->pa || !w->pb || !w->pcoef)) ||
      (w->n_in <= QUANT_EXACT_DIMS &&
       ((S->prod ? !w->ssg : !w->ex || !w->ex_f || !w->ex_g) || !w->ss || !w->bcf || !w->bcg ||
        !w->wid || !w->gain || !w->nlo || !w->nhi || !w->caps || !w->xcf || !w->xcg)) ||
      twinn_ibounds_init(&w->bf, f) != TWINN_OK || twinn_ibounds_init(&w->bg, g) != TWINN_OK) {
    ws_release(w);
    return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory (bound analysis)");
  }
  return TWINN_OK;
}

/* After ws_init of all nw workers, on wide inputs (MNIST), where bisecting one of hundreds of
 * inputs barely tightens a bound: the root box's optimised intermediate bounds (as for
 * verify's neuron branching, verify.c NEURON_DIMS), computed by all workers' workspaces at once
 * (twinn_sym_tighten_par, one BLAS thread each), become the priors of every workspace (they
 * hold for the root box, so in every box a worker takes), and are kept in the options' store
 * (twinn_quant_options.roots) unless the deadline cut them short (sound even then). */
static twinn_status share_root(qws *W, size_t nw, const qshared *S, twinn_error *err) {
  twinn_sym **ws;
  twinn_status st = TWINN_OK;
  twinn_error e2;
  if (S->n_in <= QUANT_TIGHTEN_DIMS) return TWINN_OK;
  if (!(ws = twinn_calloc(nw, sizeof *ws)))
    return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  /* Side 0: the pair's workspaces (f's alone for twins of different shapes); side 1: g's. */
  for (int side = 0; side < 1 + S->prod && st == TWINN_OK; side++) {
    const double *lo[2], *hi[2];
    const twinn_net *nets[2] = {side ? S->g : S->f, S->g};
    size_t n_ws = 0, n_nets = S->prod ? 1 : 2;
    int blas_prev, have = 1;
    for (size_t t = 0; t < nw && t < QUANT_TIGHTEN_MAX_WS; t++) {
      twinn_sym *s = side ? W[t].sg : W[t].sym;
      twinn_error_clear(&e2);
      if (twinn_sym_analyse(s, S->root_lo, S->root_hi, &e2) != TWINN_OK) {
        if (t == 0) break; /* W[0] holds the result */
        continue;
      }
      /* Hull planes: single networks always, pairs of QUANT_ANDERSON_DEPTH ReLU layers. */
      twinn_sym_set_anderson(s, S->prod || twinn_net_relu_layers(S->f) >= QUANT_ANDERSON_DEPTH
                                    ? QUANT_ANDERSON_ROUNDS
                                    : 0);
      ws[n_ws++] = s;
    }
    blas_prev = openblas_get_num_threads();
    if (n_ws > 1) openblas_set_num_threads(1);
    if (n_ws) (void)twinn_sym_tighten_par(ws, n_ws, QUANT_TIGHTEN_ROUNDS, S->deadline, NULL, &e2);
    openblas_set_num_threads(blas_prev);
    for (size_t t = 0; t < n_ws; t++) twinn_sym_set_anderson(ws[t], 0);
    for (size_t w = 0; w < n_nets; w++) {
      lo[w] = twinn_sym_prior(n_ws ? ws[0] : W[0].sym, (int)w, 0);
      hi[w] = twinn_sym_prior(n_ws ? ws[0] : W[0].sym, (int)w, 1);
      have = have && n_ws && lo[w] && hi[w];
    }
    if (!have) continue; /* the root's analysis failed: no priors */
    for (size_t t = 1; t < nw && st == TWINN_OK; t++)
      for (size_t w = 0; w < n_nets && st == TWINN_OK; w++)
        if (twinn_sym_set_prior(side ? W[t].sg : W[t].sym, (int)w, lo[w], hi[w], &e2) != TWINN_OK)
          st = twinn_error_set(err, e2.status, NULL, 0, 0, "%s", e2.msg);
    /* Not for a rebuilt (aligned) pair: the store is keyed by the networks' addresses, and
     * these are freed at the end of the call. */
    if (st == TWINN_OK && S->opt->roots && !S->own_f &&
        (S->deadline <= 0 || twinn_clock_now() < S->deadline))
      for (size_t w = 0; w < n_nets && st == TWINN_OK; w++)
        if (twinn_roots_keep(S->opt->roots, nets[w], S->root_lo, S->root_hi, lo[w], hi[w],
                             twinn_sym_prior_len(ws[0])) != TWINN_OK)
          st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  twinn_free(ws);
  return st;
}

/* Whether the current objective must stop: its deadline passed (once every objective has
 * started, the call's deadline: no other objective waits for the time), or a worker failed. */
static int must_stop(const qws *w) {
  const qshared *S = w->S;
  double d;
  if (atomic_load_explicit(&S->stop, memory_order_relaxed)) return 1;
  if (w->deadline <= 0) return 0;
  d = atomic_load_explicit(&S->all_started, memory_order_relaxed) ? S->deadline : w->deadline;
  return twinn_clock_now() >= d;
}

/* Whether the whole call must end: a worker failed, or its deadline passed. */
static int call_over(const qshared *S) {
  if (atomic_load_explicit(&S->stop, memory_order_relaxed)) return 1;
  return S->deadline > 0 && twinn_clock_now() >= S->deadline;
}

/* At most one snapshot per 0.25 s over all workers, one at a time (under the mutex); a worker
 * looks at the lock at most every 0.05 s. The same target is shown again only after 0.5 s, so
 * that the workers' targets take turns (otherwise one worker's timing tends to win every time). */
static void report_progress(qws *w, double lower, double upper) {
  qshared *S = w->S;
  double now;
  if (!w->opt->progress) return;
  now = twinn_clock_now();
  if (now - w->last_progress < 0.05) return;
  w->last_progress = now;
  pthread_mutex_lock(&S->mu);
  if (now - S->last_progress >= (w->target == S->last_target ? 0.5 : 0.25)) {
    twinn_quant_progress p;
    S->last_progress = now;
    S->last_target = w->target;
    p.elapsed = now - S->t0;
    p.branches = atomic_load_explicit(&S->branches, memory_order_relaxed);
    p.target = w->target;
    p.lower = lower;
    p.upper = upper;
    w->opt->progress(w->opt->progress_ctx, &p);
  }
  pthread_mutex_unlock(&S->mu);
}

/* ---- concrete evaluation ---------------------------------------------------------------- */

/* Per-output mode: output j's floor, its best attained |g_j - f_j| (at least abs_gap, and
 * positive: bounds are taken relative to it). */
static double out_floor(const qws *w, size_t j) {
  double tiny = fmax(w->opt->abs_gap, 1e-200);
  return w->cur.ob_lo[j] > tiny ? w->cur.ob_lo[j] : tiny;
}

/* Per-output mode: the L-inf interval's floor, the largest output floor (out_floor). */
static double linf_floor(const qws *w) {
  double m = 0.0;
  for (size_t j = 0; j < w->n_out; j++) m = fmax(m, out_floor(w, j));
  return m;
}

/* Per-output mode, while the L-inf interval is the focus: the forms of live whose bounds fb
 * are above the L-inf floor (the others cannot hold its upper end up). Their box's exact search
 * covers them alone, and a box with none is parked: queued for the outputs' turn, without the
 * exact search, the steering analysis or an ascent, as a search of the L-inf maximum alone
 * would have dropped it. Else live. */
static uint64_t linf_forms(const qws *w, const double *fb, uint64_t live) {
  uint64_t m = 0;
  double lam;
  if (w->cur.focus != QUANT_FOCUS_LINF) return live;
  lam = linf_floor(w);
  for (size_t t = 0; t < 2 * w->n_out; t++)
    if ((live >> t & 1) && fb[t] > lam) m |= (uint64_t)1 << t;
  return m;
}

/* Per-output mode: form t's bound fb relative to its output's floor, rounded up (a NaN bound
 * counts as unbounded); the form is open while this is above open_key (its gap not closed). */
static double form_key(const qws *w, double fb, size_t t) {
  return isnan(fb) ? INFINITY : twinn_round_up(fb / out_floor(w, t / 2));
}
static double open_key(const qws *w) { return 1.0 / (1.0 - w->opt->gap); }

/* Rounds of the joint search between choices of the focus (job_search: the open output with
 * the fewest open boxes). */
#define QUANT_FOCUS_ROUNDS 64

/* Per-output mode: the key of a box with per-form bounds fb under the current floors: *u the
 * largest bound relative to its output's floor, rounded up (so *u <= 1 proves every form at or
 * below its floor), over the forms in live still above their floor, which go to *live_out;
 * -inf (none) when all are at or below. Returns whether the focus output (qbest.focus) is still
 * open there (a bound above its floor by more than the gap): such boxes come first (qbox.first).
 * Without that the outputs close together, and a deadline left them all open (acasxu_5_9 fp16
 * p1: outputs 1-4 at 0.15-0.16 relative gap after 47 s of the joint search; with it, 2 of the 4
 * closed). */
static int outs_key(const qws *w, const double *fb, uint64_t live, double *u, uint64_t *live_out,
                    double *fk) {
  double m = -INFINITY, fm = -INFINITY;
  double lam = w->cur.focus == QUANT_FOCUS_LINF ? linf_floor(w) : 0.0;
  uint64_t lv = 0;
  for (size_t t = 0; t < 2 * w->n_out; t++) {
    double q;
    if (!(live >> t & 1) || fb[t] <= out_floor(w, t / 2)) continue;
    lv |= (uint64_t)1 << t;
    q = form_key(w, fb[t], t);
    if (q > m) m = q;
    if (lam > 0.0) q = twinn_round_up(fb[t] / lam); /* relative to the L-inf floor */
    if ((lam > 0.0 || t / 2 == w->cur.focus) && q > fm) fm = q;
  }
  *u = m;
  *live_out = lv;
  *fk = fm;
  return fm > open_key(w);
}

/* Per-output mode: the coefficient of output j's forms in the exact searches, at least
 * 1 / floor: a form's maximum times it bounds its bound relative to the floor from above. */
static double out_coef(const qws *w, size_t j) { return twinn_round_up(1.0 / out_floor(w, j)); }

/* Per-output mode: the coefficient of output j's forms in the current exact search: 1 / the
 * L-inf floor while qws.form_lam holds it (try_exact_outs), else out_coef. objective_form
 * scales the forms by it and try_exact_outs divides the maximum by it, so both take it here. */
static double form_coef(const qws *w, size_t j) {
  return w->form_lam > 0.0 ? twinn_round_up(1.0 / w->form_lam) : out_coef(w, j);
}

/* What rises with every new best attained: best_lo, or in per-output mode ob_sum. */
static double best_mark(const qws *w) { return w->S->per_out ? w->cur.ob_sum : w->cur.best_lo; }

/* Enclosure [*lo, *hi] of the margin m of one network from enclosures of its outputs. */
static void margin_enclosure(const qws *w, const double *ylo, const double *yhi, double *lo,
                             double *hi) {
  size_t j, c = w->cls;
  double vc_lo = w->dir > 0 ? ylo[c] : -yhi[c], vc_hi = w->dir > 0 ? yhi[c] : -ylo[c];
  double max_hi = -INFINITY, max_lo = -INFINITY;
  for (j = 0; j < w->n_out; j++) {
    double vlo = w->dir > 0 ? ylo[j] : -yhi[j], vhi = w->dir > 0 ? yhi[j] : -ylo[j];
    if (j == c) continue;
    if (vhi > max_hi) max_hi = vhi;
    if (vlo > max_lo) max_lo = vlo;
  }
  *lo = twinn_round_down(vc_lo - max_hi);
  *hi = twinn_round_up(vc_hi - max_lo);
}

/* The class decided from outputs y (argmax of dir * y; ties to the smallest index). */
static size_t decide(const qws *w, const double *y) {
  size_t j, best = 0;
  for (j = 1; j < w->n_out; j++)
    if (w->dir * y[j] > w->dir * y[best]) best = j;
  return best;
}

/* The class certainly decided by outputs in [ylo, yhi], or SIZE_MAX if not certain. */
static size_t certain_class(const qws *w, const double *ylo, const double *yhi) {
  size_t j, k;
  for (j = 0; j < w->n_out; j++) {
    double vj = w->dir > 0 ? ylo[j] : -yhi[j];
    for (k = 0; k < w->n_out; k++) {
      double vk = w->dir > 0 ? yhi[k] : -ylo[k];
      if (k != j && !(vj > vk)) break;
    }
    if (k == w->n_out) return j;
  }
  return SIZE_MAX;
}

/* The double value of objective o from w->yf, w->yg (already evaluated at the point). */
static double double_value(const qws *w, const objective *o) {
  const double *ys[2] = {w->yf, w->yg};
  double m[2];
  int k;
  if (o->kind == OBJ_ABS) return fabs(w->yg[o->i] - w->yf[o->i]);
  if (o->kind == OBJ_LINF) {
    double mx = 0.0;
    for (size_t j = 0; j < w->n_out; j++)
      mx = fmax(mx, fabs(w->yg[j] - w->yf[j]) / out_floor(w, j)); /* per-output mode only */
    return mx;
  }
  for (k = 0; k < 2; k++) {
    double mx = -INFINITY;
    for (size_t j = 0; j < w->n_out; j++)
      if (j != w->cls && w->dir * ys[k][j] > mx) mx = w->dir * ys[k][j];
    m[k] = w->dir * ys[k][w->cls] - mx;
  }
  return o->kind == OBJ_MDIFF ? o->s * (m[1] - m[0]) : -m[o->which];
}

/* Certified lower end of |g - f| from enclosures [glo, ghi] of g and [flo, fhi] of f. */
static double abs_diff_lower(double glo, double ghi, double flo, double fhi) {
  return fmax(0.0, fmax(twinn_round_down(glo - fhi), -twinn_round_up(ghi - flo)));
}

/* Interval enclosures of f(x) and g(x) over the degenerate box {x} into w->bf, w->bg. */
static void enclose_point(qws *w, const double *x) {
  twinn_interval_propagate(w->f, x, x, &w->bf);
  twinn_interval_propagate(w->g, x, x, &w->bg);
}

/* A certified lower end of |g_j - f_j| at the point last enclosed (enclose_point). */
static double out_certified(const qws *w, size_t j) {
  size_t Lf = w->f->n_layers, Lg = w->g->n_layers;
  return abs_diff_lower(w->bg.lo[w->bg.off[Lg] + j], w->bg.hi[w->bg.off[Lg] + j],
                        w->bf.lo[w->bf.off[Lf] + j], w->bf.hi[w->bf.off[Lf] + j]);
}

/* A certified lower bound of the exact objective at x, from interval enclosures of f(x) and
 * g(x) over the degenerate box {x}. Also records a certain top-1 disagreement at x. */
static double certified_value(qws *w, const objective *o, const double *x) {
  const double *flo, *fhi, *glo, *ghi;
  size_t Lf = w->f->n_layers, Lg = w->g->n_layers, cf_cls, cg_cls;
  double mflo, mfhi, mglo, mghi;
  enclose_point(w, x);
  if (o->kind == OBJ_ABS) return out_certified(w, o->i);
  flo = w->bf.lo + w->bf.off[Lf];
  fhi = w->bf.hi + w->bf.off[Lf];
  glo = w->bg.lo + w->bg.off[Lg];
  ghi = w->bg.hi + w->bg.off[Lg];
  cf_cls = certain_class(w, flo, fhi);
  cg_cls = certain_class(w, glo, ghi);
  if (!w->cur.disagree && cf_cls != SIZE_MAX && cg_cls != SIZE_MAX && cf_cls != cg_cls) {
    w->cur.disagree = 1;
    w->cur.dis_f = cf_cls;
    w->cur.dis_g = cg_cls;
    memcpy(w->cur.dis_pt, x, w->n_in * sizeof(double));
  }
  margin_enclosure(w, flo, fhi, &mflo, &mfhi);
  margin_enclosure(w, glo, ghi, &mglo, &mghi);
  if (o->kind == OBJ_MDIFF)
    return o->s > 0 ? twinn_round_down(mglo - mfhi) : twinn_round_down(mflo - mghi);
  return o->which ? -mghi : -mfhi;
}

/* Every point of net (AFFINE / RELU layers: twinn_sym_supported) at x into store, in double
 * by the dense kernels (their summation order: a candidate value only, which try_point
 * certifies by intervals); returns the output's. */
static const double *forward(const twinn_net *net, const double *x, double *store) {
  double *in = store;
  memcpy(store, x, net->n_in * sizeof(double));
  for (size_t k = 0; k < net->n_layers; k++) {
    const twinn_layer *ly = &net->layers[k];
    double *out = in + ly->n_in;
    if (ly->kind == TWINN_LAYER_AFFINE) {
      memcpy(out, ly->b, ly->n_out * sizeof(double));
      twinn_symk_gemv_f64(ly->n_out, ly->n_in, ly->w, ly->n_in, in, 1.0, out);
    } else {
      for (size_t j = 0; j < ly->n_out; j++) out[j] = in[j] > 0 ? in[j] : 0.0;
    }
    in = out;
  }
  return in;
}

/* Each output's best (f(x), g(x) in w->yf, w->yg): where some |g_j - f_j| is above the double
 * value at output j's best point, certifies every output at x (interval propagation over {x})
 * and keeps those it raises. Whether any rose. (Against the certified end instead, which lies a
 * rounding below the double value, every visit of a best point certified it again: the L-inf
 * search of acasxu_4_1 fp16 p1 took 13 % longer.) */
static int track_outs(qws *w, const double *x) {
  size_t j, n = w->n_in;
  int any = 0, better = 0;
  for (j = 0; j < w->n_out && !any; j++)
    any = fabs(w->yg[j] - w->yf[j]) > (w->cur.ob_lo[j] > -INFINITY ? w->cur.ob_val[j] : -INFINITY);
  if (!any) return 0;
  enclose_point(w, x);
  for (j = 0; j < w->n_out; j++) {
    double c = out_certified(w, j);
    if (!(c > w->cur.ob_lo[j])) continue;
    w->cur.ob_sum += c - fmax(w->cur.ob_lo[j], 0.0);
    w->cur.ob_lo[j] = c;
    w->cur.ob_val[j] = fabs(w->yg[j] - w->yf[j]);
    memcpy(w->cur.ob_pt + j * n, x, n * sizeof(double));
    better = 1;
  }
  return better;
}

/* Per-output mode's try_point (val: the double value at x): track_outs; best_pt is then x if
 * any output's best rose. */
static twinn_status try_point_outs(qws *w, const double *x, double val) {
  if (track_outs(w, x)) {
    w->cur.best_val = val;
    memcpy(w->cur.best_pt, x, w->n_in * sizeof(double));
  }
  return TWINN_OK;
}

/* Evaluates x in double (forward: f's pass in w->fwd, g's in w->fwd_g, the outputs in w->yf,
 * w->yg); certifies and keeps it when it may beat the best attained value (or may show a
 * top-1 disagreement). *val is the double value. */
static twinn_status try_point(qws *w, const objective *o, const double *x, double *val) {
  double cert;
  memcpy(w->yf, forward(w->f, x, w->fwd), w->n_out * sizeof(double));
  memcpy(w->yg, forward(w->g, x, w->fwd_g), w->n_out * sizeof(double));
  *val = double_value(w, o);
  if (w->S->per_out) return try_point_outs(w, x, *val);
  if (*val <= w->cur.best_lo &&
      (o->kind == OBJ_ABS || w->cur.disagree || decide(w, w->yf) == decide(w, w->yg)))
    return TWINN_OK;
  cert = certified_value(w, o, x);
  if (cert > w->cur.best_lo) {
    w->cur.best_lo = cert;
    w->cur.best_val = *val;
    memcpy(w->cur.best_pt, x, w->n_in * sizeof(double));
  }
  return TWINN_OK;
}

/* grad += J^T c for network net at x: a reverse pass over its forward pass in store (made
 * again unless it is at x already: try_point's). */
static void net_vjp(qws *w, const twinn_net *net, double *store, const double *x, const double *c,
                    double *grad) {
  size_t k, j, t, off = 0, n_layers = net->n_layers;
  double *cur = w->v1, *nxt = w->v2, *tmp;
  if (memcmp(store, x, net->n_in * sizeof(double)) != 0) (void)forward(net, x, store);
  for (k = 0; k < n_layers; k++) off += net->layers[k].n_in;
  memcpy(cur, c, net->n_out * sizeof(double));
  for (k = n_layers; k-- > 0;) {
    const twinn_layer *ly = &net->layers[k];
    const double *in;
    off -= ly->n_in;
    in = store + off;
    if (ly->kind == TWINN_LAYER_AFFINE) {
      twinn_symk_gemv_t_f64(ly->n_out, ly->n_in, ly->w, ly->n_in, cur, nxt);
    } else {
      for (j = 0; j < ly->n_out; j++) nxt[j] = in[j] > 0 ? cur[j] : 0.0;
    }
    tmp = cur;
    cur = nxt;
    nxt = tmp;
  }
  for (t = 0; t < net->n_in; t++) grad[t] += cur[t];
}

/* The gradient of the objective's active linear piece at x (w->yf, w->yg hold f(x), g(x)). */
static void objective_grad(qws *w, const objective *o, const double *x) {
  size_t j;
  memset(w->cf, 0, w->n_out * sizeof(double));
  memset(w->cg, 0, w->n_out * sizeof(double));
  memset(w->grad, 0, w->n_in * sizeof(double));
  if (o->kind == OBJ_ABS || o->kind == OBJ_LINF) { /* LINF: the output that attains it */
    size_t i = o->i;
    double s;
    if (o->kind == OBJ_LINF) /* per-output mode: relative to each output's floor */
      for (i = 0, j = 1; j < w->n_out; j++)
        if (fabs(w->yg[j] - w->yf[j]) * out_floor(w, i) >
            fabs(w->yg[i] - w->yf[i]) * out_floor(w, j))
          i = j;
    s = w->yg[i] >= w->yf[i] ? 1.0 : -1.0;
    w->cg[i] = s;
    w->cf[i] = -s;
  } else {
    size_t rf = SIZE_MAX, rg = SIZE_MAX; /* runner-ups of f and g */
    for (j = 0; j < w->n_out; j++) {
      if (j == w->cls) continue;
      if (rf == SIZE_MAX || w->dir * w->yf[j] > w->dir * w->yf[rf]) rf = j;
      if (rg == SIZE_MAX || w->dir * w->yg[j] > w->dir * w->yg[rg]) rg = j;
    }
    if (o->kind == OBJ_MDIFF) { /* s * ((v^g_c - v^g_rg) - (v^f_c - v^f_rf)) */
      w->cg[w->cls] += o->s * w->dir;
      w->cg[rg] -= o->s * w->dir;
      w->cf[w->cls] -= o->s * w->dir;
      w->cf[rf] += o->s * w->dir;
    } else { /* v_r - v_c of network `which` */
      double *c = o->which ? w->cg : w->cf;
      size_t r = o->which ? rg : rf;
      c[r] += w->dir;
      c[w->cls] -= w->dir;
    }
  }
  net_vjp(w, w->f, w->fwd, x, w->cf, w->grad);
  net_vjp(w, w->g, w->fwd_g, x, w->cg, w->grad);
}

/* Signed-gradient ascent from x (overwritten) inside [lo, hi]: steps shrinking from a quarter
 * of the box to about 1 % of it; every iterate is offered to try_point. */
static twinn_status ascend(qws *w, const objective *o, const double *lo, const double *hi,
                           double *x, unsigned steps) {
  unsigned s;
  size_t t;
  double val;
  twinn_status st;
  for (s = 0; s < steps; s++) {
    double eta = 0.25 * pow(0.04, (double)s / (double)(steps > 1 ? steps - 1 : 1));
    if ((st = try_point(w, o, x, &val)) != TWINN_OK) return st;
    objective_grad(w, o, x);
    for (t = 0; t < w->n_in; t++) {
      double step = eta * (hi[t] - lo[t]);
      if (w->grad[t] > 0)
        x[t] = fmin(hi[t], x[t] + step);
      else if (w->grad[t] < 0)
        x[t] = fmax(lo[t], x[t] - step);
    }
  }
  return try_point(w, o, x, &val);
}

typedef struct {
  qws *w;
  const objective *o;
} polish_ctx;

/* twinn_pattern_fn: minus o's double value at x (offered to try_point); stops with the
 * objective's time. */
static twinn_status polish_value(void *ctx, const double *x, double *value, int *stop) {
  polish_ctx *c = ctx;
  double val;
  twinn_status st = try_point(c->w, c->o, x, &val);
  *value = -val;
  *stop = must_stop(c->w);
  return st;
}

/* Pattern search (pattern.h) for larger values of o: from the best attained point over the
 * root box (lo == NULL), or from a random point of the box [lo, hi] within it. The gradient
 * steps of ascend() stop short of maxima at the kinks of |g - f|, and lead most starts into the
 * same few basins (ACAS Xu 1_1 fp16, box of property 3, output 3: 1.528e-3 attained against
 * 1.749e-3 found by verify's attack, which searches this way). */
static twinn_status polish(qws *w, const objective *o, const double *lo, const double *hi) {
  polish_ctx c = {w, o};
  double v;
  int stopped;
  twinn_status st;
  if (w->n_in > QUANT_POLISH_DIMS) return TWINN_OK;
  if (!lo) {
    if (!(w->cur.best_lo > -INFINITY) || isnan(w->cur.best_val)) return TWINN_OK;
    lo = w->root_lo;
    hi = w->root_hi;
    memcpy(w->px, w->cur.best_pt, w->n_in * sizeof(double));
    v = -w->cur.best_val;
    /* Per-output mode: values are relative to floors that rose since. */
    if (w->S->per_out && ((st = polish_value(&c, w->px, &v, &stopped)) != TWINN_OK || stopped))
      return st;
  } else {
    for (size_t t = 0; t < w->n_in; t++)
      w->px[t] = lo[t] + (hi[t] - lo[t]) * twinn_rand_unit(&w->rng);
    if ((st = polish_value(&c, w->px, &v, &stopped)) != TWINN_OK || stopped) return st;
  }
  return twinn_pattern_search(w->n_in, lo, hi, w->px, &v, w->pq, polish_value, &c, 0, &stopped);
}

/* ---- proved bounds ------------------------------------------------------------------- */

/* The input sensitivities `sens` of the form just bounded (w->cf, w->cg) into w->coef, and the
 * form as twinn_splitscore_gains takes it into w->bcf, w->bcg: for a pair c_f + c_g on f and c_g
 * on g (the difference form), for twins of different shapes c_f and c_g. */
static void keep_form(qws *w, const double *sens) {
  memcpy(w->coef, sens, w->n_in * sizeof(double));
  if (!w->ss) return;
  for (size_t e = 0; e < w->n_out; e++) {
    w->bcf[e] = w->cf[e] + (w->sg ? 0.0 : w->cg[e]);
    w->bcg[e] = w->cg[e];
  }
}

/* Twins of different shapes: bounds [*l, *h] of  c_f . f + c_g . g  (w->cf, w->cg) over the box
 * of the last analyses, the product network's (twinn_sym_sum_bounds: one back-substitution per
 * network for both ends), or the two networks' output intervals where tighter (only where the
 * former overflows). w->pcoef: the summed upper form's input sensitivities, then the lower's. */
static void prod_bounds(qws *w, double *l, double *h) {
  size_t n = w->n_in;
  const double *blo = twinn_sym_point_lo(w->sym, TWINN_SYM_F, 0); /* the box */
  const double *bhi = twinn_sym_point_hi(w->sym, TWINN_SYM_F, 0);
  const double *flo = twinn_sym_out_lo(w->sym, TWINN_SYM_F),
               *fhi = twinn_sym_out_hi(w->sym, TWINN_SYM_F);
  const double *glo = twinn_sym_out_lo(w->sg, TWINN_SYM_F),
               *ghi = twinn_sym_out_hi(w->sg, TWINN_SYM_F);
  twinn_iacc acc;
  double il, ih;
  twinn_sym_sum_bounds(w->sym, w->cf, w->sg, w->cg, w->pa, w->pb, l, h);
  for (size_t i = 0; i < n; i++) {
    w->pcoef[i] = *h < INFINITY ? fabs(w->pa[i]) * (bhi[i] - blo[i]) : 0.0;
    w->pcoef[n + i] = *l > -INFINITY ? fabs(w->pa[n + i]) * (bhi[i] - blo[i]) : 0.0;
  }
  twinn_iacc_init(&acc, 0.0);
  for (size_t e = 0; e < w->n_out; e++) {
    if (w->cf[e] != 0.0) twinn_iacc_add(&acc, w->cf[e], flo[e], fhi[e], 0);
    if (w->cg[e] != 0.0) twinn_iacc_add(&acc, w->cg[e], glo[e], ghi[e], 0);
  }
  twinn_iacc_result(&acc, &il, &ih);
  if (ih < *h) *h = ih;
  if (il > *l) *l = il;
}

/* Upper end *h of  c_f . f + c_g . g  (w->cf, w->cg) over the box of the last analysis; *sens:
 * its input sensitivities (as twinn_sym_input_coef). A pair: its workspace's bound (the
 * difference form among others); twins of different shapes: prod_bounds. */
static twinn_status form_upper(qws *w, double *h, const double **sens, twinn_error *err) {
  double l;
  twinn_status st;
  if (!w->sg) {
    st = twinn_sym_bound_lin(w->sym, w->cf, w->cg, &l, h, err);
    *sens = twinn_sym_input_coef(w->sym);
    return st;
  }
  prod_bounds(w, &l, h);
  *sens = w->pcoef;
  return TWINN_OK;
}

/* Upper bound of o over [lo, hi] from one analysis; keeps the worst form (keep_form), in
 * per-output mode the focus output's worst where that is open. */
static twinn_status box_upper_once(qws *w, const objective *o, const double *lo, const double *hi,
                                   double *u, twinn_error *err) {
  size_t j;
  double l, h, best = -INFINITY;
  const double *sens = NULL;
  int have = 0;
  double focus_worst = -INFINITY; /* per-output mode: the focus output's worst open form's */
  double lam = w->nfb && w->cur.focus == QUANT_FOCUS_LINF ? linf_floor(w) : 0.0;
  twinn_status st;
  w->caps_ok = 0;
  w->live_out = 0;
  if ((st = twinn_sym_analyse(w->sym, lo, hi, err)) != TWINN_OK) return st;
  if (w->sg && (st = twinn_sym_analyse(w->sg, lo, hi, err)) != TWINN_OK) return st;
  for (j = 0; j < w->n_out; j++) {
    memset(w->cf, 0, w->n_out * sizeof(double));
    memset(w->cg, 0, w->n_out * sizeof(double));
    if (o->kind == OBJ_ABS) {
      if (j != o->i) continue;
    } else if (o->kind != OBJ_LINF && j == w->cls) {
      continue;
    }
    if (o->kind == OBJ_ABS && w->sg) { /* both signs from one prod_bounds: f_i - g_i first */
      w->cf[j] = 1;
      w->cg[j] = -1;
      prod_bounds(w, &l, &h);
      if (!have || h > best) {
        best = h;
        have = 1;
        keep_form(w, w->pcoef);
      }
      w->cf[j] = -1; /* g_i - f_i: minus the lower end of f_i - g_i */
      w->cg[j] = 1;
      if (-l > best) {
        best = -l;
        keep_form(w, w->pcoef + w->n_in);
      }
      continue;
    }
    if (o->kind == OBJ_ABS || o->kind == OBJ_LINF) { /* both signs: max(g_i - f_i, f_i - g_i) */
      for (int sgn = -1; sgn <= 1; sgn += 2) {
        /* LINF: objective_form's index (2 n_out <= QUANT_LINF_FORMS); others: no mask. */
        uint64_t bit = o->kind == OBJ_LINF ? (uint64_t)1 << (2 * j + (sgn > 0)) : 0;
        if (bit && !(w->live & bit)) continue;
        w->cg[j] = sgn;
        w->cf[j] = -sgn;
        /* The difference form's back-substitution alone (twinn_sym_set_diff_only: the others
         * are almost never tighter here). Paired, one worker, 60 s, boxes bounded: acasxu_2_7
         * fp16 p1 87 805 -> 90 941 (L-inf gap 0.149 -> 0.143), 3_4 p3 139 003 -> 142 331, 3_6
         * p1 150 845 -> 161 853 (its L-inf interval closed at 59.4 s); 1_4 p1 and 4_2 p3 the
         * same boxes, every output closed 39.5 -> 39.0 s and 15.5 -> 14.9 s. */
        if (!w->sg) twinn_sym_set_diff_only(w->sym, 1);
        st = form_upper(w, &h, &sens, err);
        if (!w->sg) twinn_sym_set_diff_only(w->sym, 0);
        if (st != TWINN_OK) return st;
        if (!w->sg && isfinite(h)) twinn_sym_keep_pair_weights(w->sym, fmax(h, 0.0));
        /* Per-output mode: the form's value for the focus (below). */
        double fv = -INFINITY;
        if (w->nfb) { /* per-output mode: kept per form; compared relative to its floor */
          double F = out_floor(w, j);
          w->fb[2 * j + (sgn > 0)] = fmin(w->fb[2 * j + (sgn > 0)], h);
          if (!(h <= F)) w->live_out |= bit;
          if (lam > 0.0) fv = isnan(h) ? INFINITY : twinn_round_up(h / lam);
          h = isnan(h) ? INFINITY : twinn_round_up(h / F);
          if (j == w->cur.focus) fv = h;
        }
        /* The form's upper row, exact_forms' form sgn > 0 (objective_form), for try_exact. */
        if (w->caps && !w->sg && o->kind == OBJ_ABS) {
          int ok = twinn_sym_diff_upper_row(w->sym, w->caps + (sgn > 0) * (w->n_in + 1));
          w->caps_ok = sgn < 0 ? ok : w->caps_ok && ok;
        }
        /* The form that steers the split (keep_form): the worst one; in per-output mode the
         * focus output's worst where it is open (acasxu_4_4 fp16 p1: every output closed in
         * 35 s, against 3 of 5 at 60 s steered by the worst form of any output), or while
         * the L-inf interval is the focus, the worst form above the L-inf floor. */
        int worst = !have || h > best;
        if (worst) {
          best = h;
          have = 1;
        }
        if (fv > open_key(w)) {
          if (fv > focus_worst) {
            focus_worst = fv;
            keep_form(w, sens);
          }
        } else if (worst && focus_worst == -INFINITY) {
          keep_form(w, sens);
        }
      }
      continue;
    }
    if (o->kind == OBJ_MDIFF) { /* s * D_j */
      w->cg[w->cls] = o->s * w->dir;
      w->cg[j] = -o->s * w->dir;
      w->cf[w->cls] = -o->s * w->dir;
      w->cf[j] = o->s * w->dir;
      st = form_upper(w, &h, &sens, err);
    } else { /* v_j - v_c of one network: its own workspace where f and g have one each */
      double *c = o->which ? w->cg : w->cf;
      twinn_sym *s1 = w->sg && o->which ? w->sg : w->sym;
      c[j] = w->dir;
      c[w->cls] = -w->dir;
      if (w->sg)
        st = twinn_sym_bound_lin(s1, c, NULL, &l, &h, err);
      else
        st = twinn_sym_bound_lin(w->sym, w->cf, o->which ? w->cg : NULL, &l, &h, err);
      sens = twinn_sym_input_coef(s1);
      if (st == TWINN_OK && h >= 0) { /* optimised slopes (alpha-CROWN): -lower(-form) */
        double nl;
        c[j] = -c[j], c[w->cls] = -c[w->cls];
        st = twinn_sym_bound_opt(s1, w->sg ? TWINN_SYM_F : o->which, c, TWINN_OPT_ROUNDS, &nl, err);
        c[j] = -c[j], c[w->cls] = -c[w->cls];
        if (st == TWINN_OK && -nl < h) h = -nl;
      }
    }
    if (st != TWINN_OK) return st;
    if (!have || h > best) {
      best = h;
      have = 1;
      keep_form(w, sens);
    }
  }
  if (isnan(best)) best = INFINITY;
  *u = best;
  return TWINN_OK;
}

/* ReLUs of f and g that the last analysis left undecided (pre-activation bounds across 0). */
static size_t undecided(const qws *w) {
  size_t k, i, n = 0;
  for (int which = 0; which < 2; which++)
    for (k = 0; k < w->f->n_layers; k++) {
      const double *l, *h;
      if (w->f->layers[k].kind != TWINN_LAYER_RELU) continue;
      l = twinn_sym_point_lo(w->sym, which, k);
      h = twinn_sym_point_hi(w->sym, which, k);
      if (!l || !h) return SIZE_MAX;
      for (i = 0; i < w->f->layers[k].n_in; i++) n += l[i] < 0 && h[i] > 0;
    }
  return n;
}

/* Whether a neuron with pre-activation bounds [l, u] is unstable with the shorter side of the
 * interval at most QUANT_REFINE_NEAR of its width (refine_relus' candidates). */
static int nearly_stable(double l, double u) {
  return l < 0.0 && u > 0.0 && fmin(-l, u) <= QUANT_REFINE_NEAR * (u - l);
}

/* After box_upper_once of [lo, hi] gave *u (its analysis in w->sym, the pair weights of its
 * upper ends kept): of the ReLUs nearly stable in f or g (nearly_stable), those whose
 * relaxation the bound pays most for (pair weight times the largest of f's and g's triangle
 * heights and d's width there: |h_d| <= |d| bounds what h_d's relaxation can cost),
 * QUANT_REFINE_K at most, get both ends of f's and g's pre-activation optimised and certified
 * (twinn_sym_refine_relus); if any end moved, the box is analysed again with them as priors and
 * bounded again, *u the smaller bound. The priors are removed after: they hold for this box
 * (and its sub-boxes) only. */
static twinn_status refine_relus(qws *w, const objective *o, const double *lo, const double *hi,
                                 double *u, twinn_error *err) {
  twinn_sym *s = w->sym;
  const twinn_net *f = w->f;
  size_t ck[QUANT_REFINE_K], ci[QUANT_REFINE_K], nc = 0, k, i;
  double cs[QUANT_REFINE_K], u2;
  int moved = 0;
  twinn_status st = TWINN_OK;
  /* The priors set here are removed after: a workspace with priors of its own (the root's, on
   * wide inputs: share_root) is left alone. */
  if (twinn_sym_prior(s, TWINN_SYM_F, 0)) return TWINN_OK;
  for (k = 0; k < f->n_layers; k++) {
    const double *pw = twinn_sym_pair_weights(s, k), *fl, *fh, *gl, *gh, *dl, *dh;
    if (f->layers[k].kind != TWINN_LAYER_RELU || !pw) continue;
    fl = twinn_sym_point_lo(s, TWINN_SYM_F, k), fh = twinn_sym_point_hi(s, TWINN_SYM_F, k);
    gl = twinn_sym_point_lo(s, TWINN_SYM_G, k), gh = twinn_sym_point_hi(s, TWINN_SYM_G, k);
    dl = twinn_sym_point_lo(s, TWINN_SYM_DIFF, k), dh = twinn_sym_point_hi(s, TWINN_SYM_DIFF, k);
    if (!gl || !gh || !dl || !dh) continue; /* pair weights exist only for a pair's workspace */
    for (i = 0; i < f->layers[k].n_in; i++) {
      double sc;
      size_t at;
      if (!nearly_stable(fl[i], fh[i]) && !nearly_stable(gl[i], gh[i])) continue;
      sc = pw[i] *
           fmax(fmax(twinn_relu_tri_height(fl[i], fh[i]), twinn_relu_tri_height(gl[i], gh[i])),
                dh[i] - dl[i]);
      if (!(sc > 0.0) || (nc == QUANT_REFINE_K && !(sc > cs[nc - 1]))) continue;
      at = nc < QUANT_REFINE_K ? nc++ : nc - 1;
      while (at > 0 && cs[at - 1] < sc) {
        cs[at] = cs[at - 1], ck[at] = ck[at - 1], ci[at] = ci[at - 1];
        at--;
      }
      cs[at] = sc, ck[at] = k, ci[at] = i;
    }
  }
  if (!nc ||
      (st = twinn_sym_refine_relus(s, nc, ck, ci, QUANT_REFINE_ITERS, &moved, err)) != TWINN_OK ||
      !moved)
    return st;
  w->refined = 1;
  st = box_upper_once(w, o, lo, hi, &u2, err);
  for (int which = 0; which < 2; which++) (void)twinn_sym_set_prior(s, which, NULL, NULL, NULL);
  if (st == TWINN_OK && u2 < *u) *u = u2;
  return st;
}

/* box_upper's second analysis of [lo, hi] (without the exact forms), which stays in w->sym and
 * steers: *u becomes the smaller bound, *und its undecided ReLUs, w->fb the smaller per-form
 * bounds, and w->live_out keeps only forms both analyses left above their floor. */
static twinn_status box_steer_bound(qws *w, const objective *o, const double *lo, const double *hi,
                                    double *u, size_t *und, twinn_error *err) {
  double u2;
  uint64_t live1 = w->live_out;
  twinn_status st;
  if ((st = box_upper_once(w, o, lo, hi, &u2, err)) != TWINN_OK) return st;
  if (u2 < *u) *u = u2;
  w->live_out &= live1;
  *und = undecided(w);
  return TWINN_OK;
}

/* Upper bound of o over [lo, hi]; keeps the worst form for box_dim; *und: the ReLUs that the
 * analysis kept in w->sym leaves undecided (SIZE_MAX on wide inputs). With pending (not NULL),
 * a box that needs the steering analysis (below) gets only the first: *pending is set to 1,
 * and the caller runs the second (box_steer_bound) once the box is known to be queued (a box
 * dropped or solved exactly is never split, and the second analysis lowers the bound on about
 * 0.1 % of boxes: 72 of 57 344 on acasxu_4_9 fp16 p1, 21 of 8 192 on 1_4 p1). On few inputs,
 * the pair's bounds (|g_i - f_i|, m_g - m_f) come first from an analysis with the exact forms
 * of h_d where both networks are stable (twinn_sym_set_stable_exact). That bound is nearly
 * always the tighter (acasxu fp16 p1 / p3 boxes, 20-30 s: smaller on 43 631 of 44 883, 32 060
 * of 33 899, 49 709 of 56 667 and 61 197 of 61 251 boxes, larger on 1, 6, 0 and 3), but its
 * form steers the split badly while boxes are large: with it alone acasxu_1_4 p1 left 2
 * outputs open at 60 s, and session 22 measured the set worse (8 regions closed, not 9). So
 * boxes that leave more than QUANT_STEER_UNSTABLE ReLUs undecided get a second analysis
 * without the exact forms, whose state stays in w->sym and steers (box_dim; undecided and
 * try_exact read it too); the bound is the smaller of the two. Smaller boxes keep the first
 * analysis alone, about 1.25x as many boxes per second. acasxu_fp16_eps bound set, 60 s, 2
 * workers (BENCHMARKS.md, session 24): always both, 10 regions closed, 53/60 outputs, 351-369
 * s; threshold 40: 11, 55, 338 s; 60 (two runs): 10 and 10, 54 and 53, 346 and 350 s; 80: 10,
 * 54, 352 s. Above 40, acasxu_1_4 p1 left outputs open in every run; at 40 it closed in
 * 51.7-59 s. */
static twinn_status box_upper(qws *w, const objective *o, const double *lo, const double *hi,
                              int *pending, double *u, size_t *und, twinn_error *err) {
  double u1;
  twinn_status st;
  *und = SIZE_MAX;
  if (pending) *pending = 0;
  w->branches++;
  atomic_fetch_add_explicit(&w->S->branches, 1, memory_order_relaxed);
  for (size_t t = 0; t < w->nfb; t++) w->fb[t] = INFINITY; /* box_upper_once takes the least */
  if (w->n_in > QUANT_EXACT_DIMS || o->kind == OBJ_MNEG || w->sg) {
    if ((st = box_upper_once(w, o, lo, hi, u, err)) == TWINN_OK && w->ex) *und = undecided(w);
    return st;
  }
  twinn_sym_set_stable_exact(w->sym, 1);
  st = box_upper_once(w, o, lo, hi, &u1, err);
  twinn_sym_set_stable_exact(w->sym, 0);
  if (st != TWINN_OK) return st;
  *u = u1;
  if ((*und = undecided(w)) <= QUANT_STEER_UNSTABLE) return TWINN_OK; /* it steers (above) */
  if (pending) {
    *pending = 1;
    return TWINN_OK;
  }
  return box_steer_bound(w, o, lo, hi, u, und, err);
}

/* After box_upper of [lo, hi] (its analysis still in w->sym), the dimension to bisect: the
 * largest share of the kept form's slack (box_upper_once) per twinn_sym_input_coef plus its
 * relaxation gains (splitscore.h, few inputs); the widest relative side when these are all 0. Only
 * dimensions that halving shrinks: SIZE_MAX if none is left (the box is a point to the last bit).
 * Only for boxes that are queued to be halved: the gains cost a pass over the networks. */
static size_t box_dim(qws *w, const double *lo, const double *hi) {
  size_t t, best_t = SIZE_MAX;
  double bc = -1;
  if (w->ss) {
    for (t = 0; t < w->n_in; t++) w->wid[t] = hi[t] - lo[t];
    if (twinn_splitscore_prepare(w->ss, w->sym, w->wid) &&
        twinn_splitscore_gains(w->ss, 1, w->bcf, w->ssg ? NULL : w->bcg, w->gain))
      for (t = 0; t < w->n_in; t++)
        if (isfinite(w->gain[t])) w->coef[t] += TWINN_SPLITSCORE_WEIGHT * w->gain[t];
    /* Twins of different shapes: g's relaxations too. Without these gains the product form's
     * sensitivities alone steer, and inputs where f's and g's coefficients cancel are never
     * split while both relax neurons that depend on them. */
    if (w->ssg && twinn_splitscore_prepare(w->ssg, w->sg, w->wid) &&
        twinn_splitscore_gains(w->ssg, 1, w->bcg, NULL, w->gain))
      for (t = 0; t < w->n_in; t++)
        if (isfinite(w->gain[t])) w->coef[t] += TWINN_SPLITSCORE_WEIGHT * w->gain[t];
  }
  for (t = 0; t < w->n_in; t++)
    if (w->coef[t] > bc && twinn_halvable(lo[t], hi[t])) {
      bc = w->coef[t];
      best_t = t;
    }
  if (bc <= 0) {
    bc = -1;
    for (t = 0; t < w->n_in; t++) {
      double r =
          w->root_hi[t] > w->root_lo[t] ? (hi[t] - lo[t]) / (w->root_hi[t] - w->root_lo[t]) : 0.0;
      if (r > bc && twinn_halvable(lo[t], hi[t])) {
        bc = r;
        best_t = t;
      }
    }
  }
  return best_t;
}

/* b->dim for a box just bounded (box_dim), unless b is exact; a box with no dimension left to
 * halve (a point to the last bit) becomes exact too: halving cannot lower its bound. */
static void set_dim(qws *w, qbox *b, const double *lo, const double *hi) {
  size_t d = b->exact ? 0 : box_dim(w, lo, hi);
  b->exact |= d == SIZE_MAX;
  b->dim = d == SIZE_MAX ? 0 : d;
}

/* Form t of the linear forms whose maxima bound o over a box, into cf and cg (n_out each,
 * zeroed first): |g_i - f_i| is the larger of two, -m_w is max_j (v_j - v_c) of one network,
 * and s (m_g - m_f) <= max_j D_j (quant.h). Returns the number of forms (t past it: nothing
 * set), at most max(2, n_out - 1). */
static size_t objective_form(const qws *w, const objective *o, size_t t, double *cf, double *cg) {
  size_t j = t;
  memset(cf, 0, w->n_out * sizeof(double));
  memset(cg, 0, w->n_out * sizeof(double));
  if (o->kind == OBJ_LINF) { /* form t: output t / 2, g - f for odd t (box_upper_once's bits) */
    if (t < 2 * w->n_out) {  /* per-output mode: relative to the output's floor (out_coef) */
      double sgn = (t % 2 ? 1.0 : -1.0) * form_coef(w, t / 2);
      cg[t / 2] = sgn;
      cf[t / 2] = -sgn;
    }
    return 2 * w->n_out;
  }
  if (o->kind == OBJ_ABS) {
    if (t < 2) {
      double sgn = t == 0 ? -1.0 : 1.0;
      cg[o->i] = sgn;
      cf[o->i] = -sgn;
    }
    return 2;
  }
  if (j >= w->cls) j++; /* the j-th class other than cls */
  if (j < w->n_out) {
    if (o->kind == OBJ_MDIFF) {
      cg[w->cls] = o->s * w->dir;
      cg[j] = -o->s * w->dir;
      cf[w->cls] = -o->s * w->dir;
      cf[j] = o->s * w->dir;
    } else {
      double *c = o->which ? cg : cf;
      c[j] = w->dir;
      c[w->cls] = -w->dir;
    }
  }
  return w->n_out - 1;
}

/* The maximum over [lo, hi] of the largest of o's forms (objective_form), all of them in one
 * phase search (exact.h) with max_lps LPs per form, pruning what cannot beat floor; for -m_w on
 * network w's workspace alone (fewer phases). OBJ_LINF: only the forms in live (the others'
 * maxima there are known to be at most floor). */
static twinn_status exact_forms(qws *w, const objective *o, const double *lo, const double *hi,
                                double floor, unsigned long max_lps, uint64_t live,
                                twinn_exact_result *r, twinn_error *err) {
  twinn_exact *ex = w->ex;
  size_t t, m = w->n_out, n_all, n_forms = 0;
  if (o->kind == OBJ_MNEG) ex = o->which ? w->ex_g : w->ex_f;
  n_all = objective_form(w, o, 0, w->xcf, w->xcg);
  for (t = 0; t < n_all; t++) {
    if (o->kind == OBJ_LINF && !(live >> t & 1)) continue;
    objective_form(w, o, t, w->xcf + n_forms * m, w->xcg + n_forms * m);
    n_forms++;
  }
  /* -m_w: the forms are on network w alone, the only one of its workspace. */
  return twinn_exact_max_many(ex, n_forms, o->kind == OBJ_MNEG && o->which ? w->xcg : w->xcf,
                              o->kind == OBJ_MNEG ? NULL : w->xcg, lo, hi, floor, max_lps * n_forms,
                              r, err);
}

/* Offers the maximiser of an exact search as an attained point (try_point certifies it). */
static twinn_status try_maximiser(qws *w, const objective *o, const twinn_exact_result *r,
                                  twinn_error *err) {
  double val;
  twinn_status st;
  if (!r->point) return TWINN_OK;
  memcpy(w->x, r->point, w->n_in * sizeof(double));
  if ((st = try_point(w, o, w->x, &val)) != TWINN_OK)
    return twinn_error_set(err, st, NULL, 0, 0, "out of memory (network evaluation)");
  return TWINN_OK;
}

/* Per-output mode's try_exact: the exact search of the live forms relative to their floors
 * (out_coef), whose maximum r bounds each form by r / its coefficient (into fb); its maximiser
 * raises floors, and while that leaves forms above the gap the search runs again on those, at
 * most once per output. */
static twinn_status try_exact_outs(qws *w, const objective *o, const double *lo, const double *hi,
                                   qbox *b, double *fb, unsigned long max_lps, twinn_error *err) {
  for (size_t round = 0; round < w->n_out; round++) {
    twinn_exact_result r;
    double c[QUANT_LINF_FORMS / 2], sum = w->cur.ob_sum, u;
    uint64_t live, forms = linf_forms(w, fb, b->live);
    twinn_status st;
    if (!forms) return TWINN_OK; /* parked (linf_forms) */
    /* The L-inf focus' forms (fewer than live): relative to the L-inf floor. */
    w->form_lam = forms != b->live ? linf_floor(w) : 0.0;
    for (size_t j = 0; j < w->n_out; j++) c[j] = form_coef(w, j);
    st = exact_forms(w, o, lo, hi, w->cur.best_lo, max_lps, forms, &r, err);
    w->form_lam = 0.0;
    if (st != TWINN_OK) return st;
    if (!r.complete) return TWINN_OK;
    for (size_t t = 0; t < 2 * w->n_out; t++)
      if (forms >> t & 1) fb[t] = fmin(fb[t], twinn_round_up(r.upper / c[t / 2]));
    if ((st = try_maximiser(w, o, &r, err)) != TWINN_OK) return st;
    b->first = outs_key(w, fb, b->live, &u, &live, &b->fk);
    b->u = fmin(b->u, u);
    /* Exact only where every live form was searched (the others are still to be bisected). */
    int all = forms == b->live;
    b->live = live;
    b->exact =
        all && (twinn_quant_gap_closed(w->opt, w->cur.best_lo, b->u) || !(b->u > w->cur.best_lo));
    if (b->exact || !(w->cur.ob_sum > sum))
      break; /* closed, or no floor rose: as good as it gets */
  }
  return TWINN_OK;
}

/* After box_upper of b's box, when its analysis left und <= max_und ReLUs undecided: for
 * |g_i - f_i| and -m_w, the exact maximum of o over the box, the largest of its forms' maxima,
 * whose maximiser is offered as an attained point; b->u drops to it and b->exact is set. A
 * search over budget changes nothing. fb: per-output mode's per-form bounds of the box (else
 * NULL; try_exact_outs). */
static twinn_status try_exact(qws *w, const objective *o, const double *lo, const double *hi,
                              qbox *b, double *fb, size_t und, size_t max_und,
                              unsigned long max_lps, twinn_error *err) {
  twinn_exact_result r;
  twinn_status st;
  /* m_g - m_f: the maxima of its forms only bound it, and bisection must go on anyway. */
  if (!w->ex || o->kind == OBJ_MDIFF || !(b->u > w->cur.best_lo) || und > max_und) return TWINN_OK;
  if (fb) return try_exact_outs(w, o, lo, hi, b, fb, max_lps, err);
  if (w->caps_ok && o->kind == OBJ_ABS) twinn_exact_set_caps(w->ex, w->caps);
  if ((st = exact_forms(w, o, lo, hi, w->cur.best_lo, max_lps, b->live, &r, err)) != TWINN_OK)
    return st;
  if (!r.complete) return TWINN_OK;
  if ((st = try_maximiser(w, o, &r, err)) != TWINN_OK) return st;
  if (r.upper < b->u) b->u = r.upper;
  /* Exact: never halved again. Only where the maximiser attains the bound (to the gap): an LP
   * cut short (exact.h: iteration and time limits) leaves a sound but loose leaf bound, and such
   * a box on top stopped the search with the gap open (acasxu_2_3 fp16 p4, output 3: 2.3 s,
   * [5.318e-4, 5.471e-4]). A box whose bound the best value already meets is dropped anyway. */
  b->exact = twinn_quant_gap_closed(w->opt, w->cur.best_lo, r.upper) || !(r.upper > w->cur.best_lo);
  return TWINN_OK;
}

/* A larger value near the best point attained: the exact search (exact.h) of a box around it,
 * w->nlo..w->nhi, J->near_r of the region's widths (clipped to the region), pruning what cannot
 * beat the best value; the maximiser it returns is tried (try_point certifies it). The box
 * starts at QUANT_NEAR_R0 after each new best and doubles while it finds nothing better; after
 * the whole region, or a search that ran out of LPs, none until a new best (so each new best
 * costs a few searches, QUANT_NEAR_LPS LPs per form at most for the last). Why:
 * pattern search and ascents stop at kinks; on acasxu_1_3 fp16 p3 the search kept 1.727e-3
 * (x = [-0.30036, -0.00529, 0.49977, 0.32545, 0.30607]) for 60 s in some runs, while the
 * maximum 1.806e-3 lies 3 % of the region away: the exact search of 10 % of the region around
 * the former finds it in 10 959 LPs (0.13 s); of 5 %, it proves 1.727e-3 the maximum there. For
 * m_g - m_f the forms' maxima only bound it, but their maximiser is as good a candidate. */
static twinn_status near_exact(qws *w, const objective *o, qjob *J, const double *top,
                               twinn_error *err) {
  twinn_exact_result r;
  double before = best_mark(w);
  size_t t, n = w->n_in;
  int shaped, whole = 1;
  twinn_status st;
  if (!w->ex || !(w->cur.best_lo > -INFINITY) || isnan(w->cur.best_val)) return TWINN_OK;
  /* A new best since the last search (by more than a gap's worth): start small around it. */
  if (!(before <= J->near_from + QUANT_NEAR_RISE * fabs(J->near_from))) {
    J->near_r = QUANT_NEAR_R0;
    J->near_k = QUANT_NEAR_K0;
    J->near_kmax = INFINITY;
  }
  shaped = top && J->near_k > 0 && J->near_r > 1.0;
  if (!shaped && J->near_r > 1.0) return TWINN_OK; /* done until a new best */
  for (t = 0; t < n; t++) {
    double half = 0.5 * (shaped ? J->near_k * (top[n + t] - top[t])
                                : J->near_r * (w->root_hi[t] - w->root_lo[t]));
    w->nlo[t] = fmax(w->root_lo[t], w->cur.best_pt[t] - half);
    w->nhi[t] = fmin(w->root_hi[t], w->cur.best_pt[t] + half);
    whole &= w->nlo[t] <= w->root_lo[t] && w->nhi[t] >= w->root_hi[t];
  }
  st = exact_forms(w, o, w->nlo, w->nhi, w->cur.best_lo, QUANT_NEAR_LPS, ~(uint64_t)0, &r, err);
  if (st != TWINN_OK || (st = try_maximiser(w, o, &r, err)) != TWINN_OK) return st;
  /* None after a search that ran out of LPs or covered the whole region (until a new best from
   * elsewhere: its own finds do not count, or an unfinished search would creep, each time a
   * little higher, at full cost: acasxu_1_4 fp16 p1 spent 9 % of its time so); the same box
   * around a better point; else a larger one. Shaped: a smaller one after running out of LPs,
   * none once that is below QUANT_NEAR_KMIN or a larger one would exceed a size that ran out. */
  if (shaped) {
    if (!r.complete) {
      J->near_kmax = J->near_k / 2.0;
      J->near_k = J->near_kmax < QUANT_NEAR_KMIN ? 0.0 : J->near_kmax;
    } else if (!(best_mark(w) > before)) {
      J->near_k = whole || 2.0 * J->near_k > J->near_kmax ? 0.0 : 2.0 * J->near_k;
    }
  } else if (!r.complete || (!(best_mark(w) > before) && J->near_r >= 1.0)) {
    if (r.complete) J->near_k = 0.0; /* the whole region: nothing is left to find */
    J->near_r = 2.0;
  } else if (!(best_mark(w) > before)) {
    J->near_r *= 2.0;
  }
  J->near_from = best_mark(w);
  return TWINN_OK;
}

/* ---- branch and bound -------------------------------------------------------------------- */

static void heap_release(qheap *h) {
  size_t i;
  for (i = 0; i < h->n; i++) twinn_free(h->a[i].box);
  twinn_free(h->a);
  memset(h, 0, sizeof *h);
}

/* Whether a goes before b in the queue: first, then (of first boxes) the larger fk, then the
 * larger u. */
static int box_before(const qbox *a, const qbox *b) {
  if (a->first != b->first) return a->first > b->first;
  if (a->first && a->fk != b->fk) return a->fk > b->fk;
  return a->u > b->u;
}

/* Max-heap in box_before's order. Takes ownership of b.box (freed on failure). */
static twinn_status heap_push(qheap *h, qbox b) {
  size_t i;
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 64;
    qbox *a = twinn_realloc(h->a, cap, sizeof *a);
    if (!a) {
      twinn_free(b.box);
      return TWINN_ERR_NOMEM;
    }
    h->a = a;
    h->cap = cap;
  }
  i = h->n++;
  while (i > 0 && box_before(&b, &h->a[(i - 1) / 2])) {
    h->a[i] = h->a[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->a[i] = b;
  return TWINN_OK;
}

static qbox heap_pop(qheap *h) {
  qbox top = h->a[0], last = h->a[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && box_before(&h->a[c + 1], &h->a[c])) c++;
    if (!box_before(&h->a[c], &last)) break;
    h->a[i] = h->a[c];
    i = c;
  }
  if (h->n > 0) h->a[i] = last;
  return top;
}

/* Per-output mode: keys in the heap were taken under floors that have risen since, so each is
 * at least its box's key now. The top's is taken again (outs_key) until it holds: a box whose
 * forms are all at or below their floors is dropped, one whose key fell goes back in. Then the
 * top's key bounds every box's. */
static void refresh_top(const qws *w, qheap *h) {
  while (h->n) {
    double u;
    uint64_t live;
    double fk;
    int first = outs_key(w, box_fb(w, h->a[0].box), h->a[0].live, &u, &live, &fk);
    if (!(u < h->a[0].u) && first == h->a[0].first && !(first && fk < h->a[0].fk)) break;
    qbox top = heap_pop(h);
    top.u = fmin(u, top.u);
    top.live = live;
    top.first = first;
    top.fk = fk;
    if (!live) {
      twinn_free(top.box);
      continue;
    }
    (void)heap_push(h, top); /* the slot it left is free: no allocation */
  }
}

/* Per-output mode: the focus becomes the output open (a live form above its floor by more than
 * the gap) on the fewest queued boxes; if that changes it, the queue is keyed again. */
static twinn_status choose_focus(qws *w, qheap *h, twinn_error *err) {
  size_t cnt[QUANT_LINF_FORMS / 2] = {0}, best = SIZE_MAX, n = h->n, n_linf = 0;
  double thr = open_key(w), lam = linf_floor(w);
  qbox *a = h->a;
  for (size_t b = 0; b < n; b++) {
    const double *fb = box_fb(w, a[b].box);
    int linf_open = 0;
    for (size_t t = 0; t < 2 * w->n_out; t++)
      linf_open |= (a[b].live >> t & 1) && twinn_round_up(fb[t] / lam) > thr;
    n_linf += linf_open != 0;
    for (size_t t = 0; t < 2 * w->n_out; t++)
      if ((a[b].live >> t & 1) && form_key(w, fb[t], t) > thr) {
        cnt[t / 2]++;
        t |= 1; /* the output's other form */
      }
  }
  for (size_t j = 0; j < w->n_out; j++)
    if (cnt[j] && (best == SIZE_MAX || cnt[j] < cnt[best])) best = j;
  if (n_linf) best = QUANT_FOCUS_LINF; /* the L-inf interval first, while it is open */
  if (best == SIZE_MAX || best == w->cur.focus) return TWINN_OK;
  w->cur.focus = best;
  memset(h, 0, sizeof *h);
  for (size_t b = 0; b < n; b++) {
    qbox x = a[b];
    uint64_t live;
    double u;
    x.first = outs_key(w, box_fb(w, x.box), x.live, &u, &live, &x.fk);
    x.u = fmin(u, x.u);
    x.live = live;
    if (!live) {
      twinn_free(x.box);
    } else if (heap_push(h, x) != TWINN_OK) { /* it freed x.box; the rest go with them */
      for (b++; b < n; b++) twinn_free(a[b].box);
      twinn_free(a);
      return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory (bound queue)");
    }
  }
  twinn_free(a);
  return TWINN_OK;
}

int twinn_quant_gap_closed(const twinn_quant_options *opt, double lower, double upper) {
  double d = upper - lower;
  return d <= opt->abs_gap || d <= opt->gap * fabs(upper);
}

/* Per-output mode: a half's per-form bounds (box_fb) lowered to the last analysis' (w->fb) on
 * the forms in live, then its key (outs_key: b->first, b->fk, *u, w->live_out). */
static void half_key(qws *w, double *box, uint64_t live, qbox *b, double *u) {
  double *fb = box_fb(w, box);
  for (size_t t = 0; t < w->nfb; t++)
    if (live >> t & 1) fb[t] = fmin(fb[t], w->fb[t]);
  b->first = outs_key(w, fb, live, u, &w->live_out, &b->fk);
}

/* Whether the half just bounded (bound u; the halved box's cap and qbox.fk cap_fk) stalled
 * (QUANT_REFINE_STALL, QUANT_REFINE_LOOSE): u at least QUANT_REFINE_STALL times cap and over
 * QUANT_REFINE_LOOSE times the best value. In per-output mode while the L-inf interval is the
 * focus, the rules are taken relative to the L-inf floor, as that focus orders boxes: the
 * half's largest form bound over that floor (w->fb, w->live_out) against cap_fk, and over
 * QUANT_REFINE_LOOSE. Against the rules on the box's key (each form relative to its own
 * output's floor), where outputs with small floors stall on boxes that do not matter to the
 * L-inf interval: refine_relus took 6.7 % of acasxu_2_7 fp16 p1's samples (60 s, one worker)
 * against 1.7 % in session 49's L-inf search. Paired, one worker, 60 s, boxes: 2_7 p1 93 245 ->
 * 107 837 (L-inf gap 0.139 -> 0.129), 3_4 p3 136 315 -> 233 467 (0.037 -> 0.012), 3_6 p1
 * 101 757 -> 97 085 (0.011 -> 0.018); 1_4 p1 every output 39.9 -> 39.2 s, 4_2 p3 the same. */
static int half_stalled(const qws *w, double u, double cap, double cap_fk) {
  if (!w->nfb || w->cur.focus != QUANT_FOCUS_LINF)
    return u >= QUANT_REFINE_STALL * cap && u > QUANT_REFINE_LOOSE * w->cur.best_lo;
  double lam = linf_floor(w), m = -INFINITY;
  for (size_t t = 0; t < w->nfb; t++) {
    if (!(w->live_out >> t & 1)) continue;
    double q = isnan(w->fb[t]) ? INFINITY : twinn_round_up(w->fb[t] / lam);
    if (q > m) m = q;
  }
  return m >= QUANT_REFINE_STALL * cap_fk && m > QUANT_REFINE_LOOSE;
}

/* Bounds one child box into *b: attains points at its centre (and ascends from there when the
 * box may beat the best value), and sets *keep when its proved bound can beat the best value
 * (b->box = box; else box is freed, also on failure); a half with few undecided ReLUs is
 * solved exactly (QUANT_EXACT_HALF_*). cap: the halved box's bound,
 * which holds on every part of it: the half's own analysis (intermediate bounds and relaxations
 * chosen anew) can come out looser, and the search's upper end then rose as the box was halved
 * (acasxu_1_2 fp16 p3, output 0 alone: 1.21e-3 at 15 s, 1.37e-3 at 26 s). What it computes
 * depends only on the box, cap, cap_fk (the halved box's qbox.fk, half_stalled), the floors,
 * w->cur.best_lo and w->cur.disagree on entry (a helper's copy of a task gives the same). */
static twinn_status child(qws *w, const objective *o, double *box, double cap, double cap_fk,
                          uint64_t live, qbox *b, int *keep, twinn_error *err) {
  const double *lo = box, *hi = box + w->n_in;
  double val;
  unsigned steps;
  size_t t, und;
  int pending;
  twinn_status st;
  *keep = 0;
  b->first = 0;
  b->fk = 0.0;
  for (t = 0; t < w->n_in; t++) w->x[t] = lo[t] + (hi[t] - lo[t]) / 2;
  if ((st = try_point(w, o, w->x, &val)) != TWINN_OK) goto fail;
  /* The halved box's dead and active ReLUs (this half's copy of its bits) are so here too. */
  if (w->nd) {
    twinn_sym_set_dead(w->sym, box_dead(w, box));
    twinn_sym_set_active(w->sym, box_active(w, box));
  }
  w->live = live;
  st = box_upper(w, o, lo, hi, &pending, &b->u, &und, err);
  /* A stalled half (QUANT_REFINE_STALL, QUANT_REFINE_LOOSE). Only with at most
   * QUANT_STEER_UNSTABLE undecided ReLUs: w->sym then holds box_upper's exact-form analysis alone,
   * whose pair weights refine_relus ranks by and whose setting it analyses again with (above
   * that, the steering analysis replaced it). */
  if (st == TWINN_OK && (o->kind == OBJ_ABS || o->kind == OBJ_LINF) && w->ex && und > 0 &&
      und <= QUANT_STEER_UNSTABLE && half_stalled(w, b->u, cap, cap_fk)) {
    twinn_sym_set_stable_exact(w->sym, 1);
    st = refine_relus(w, o, lo, hi, &b->u, err);
    twinn_sym_set_stable_exact(w->sym, 0);
    if (st == TWINN_OK) und = undecided(w);
  }
  twinn_sym_set_dead(w->sym, NULL);
  twinn_sym_set_active(w->sym, NULL);
  if (st != TWINN_OK) goto fail;
  if (w->nfb) half_key(w, box, live, b, &b->u);
  if (cap < b->u) b->u = cap;
  b->exact = 0;
  b->live = w->live_out;
  if ((st = try_exact(w, o, lo, hi, b, w->nfb ? box_fb(w, box) : NULL, und,
                      QUANT_EXACT_HALF_UNSTABLE, QUANT_EXACT_HALF_LPS, err)) != TWINN_OK)
    goto fail;
  int parked = w->nfb && !linf_forms(w, box_fb(w, box), b->live);
  if (b->u > w->cur.best_lo && pending && !parked) { /* queued: the steering analysis */
    double u = b->u;
    if ((st = box_steer_bound(w, o, lo, hi, &u, &und, err)) != TWINN_OK) goto fail;
    if (w->nfb) half_key(w, box, b->live, b, &u);
    if (u < b->u) b->u = u;
    b->live = w->live_out;
  }
  if (!(b->u > w->cur.best_lo)) { /* cannot beat a value already attained: drop it */
    twinn_free(box);
    return TWINN_OK;
  }
  /* An exact box is never halved (maximise stops when one is on top). try_exact and ascend
   * leave w->sym and the kept form alone. */
  /* Its own dead and active ReLUs replace the halved box's (read above) in its copy. try_exact left
   * w->sym alone: it still holds this half's analysis. */
  keep_phases(w, box);
  set_dim(w, b, lo, hi);
  steps = w->ex ? QUANT_ASCENT_FEW : QUANT_ASCENT;
  if (!b->exact && !parked && (st = ascend(w, o, lo, hi, w->x, steps)) != TWINN_OK) goto fail;
  b->box = box;
  *keep = 1;
  return TWINN_OK;
fail:
  twinn_free(box);
  if (st == TWINN_ERR_NOMEM) twinn_error_set(err, st, NULL, 0, 0, "out of memory");
  return st;
}

/* Task T of a round (S->mu not held; any worker): its child bounded from the round's state
 * (the best value attained and whether a top-1 disagreement was seen when the round began),
 * the results left in T. */
static void run_task(qws *w, qjob *J, qtask *T, const objective *o) {
  if (T->near) { /* from the round's state as it is (best point included) */
    best_copy(&w->cur, T->start, w->n_in);
    twinn_error_clear(&w->err);
    T->st = near_exact(w, o, J, T->box, &w->err);
    twinn_free(T->box);
    T->box = NULL;
    T->keep = 0;
    T->refined = 0;
    T->err = w->err;
    best_copy(&T->out, &w->cur, w->n_in);
    return;
  }
  if (w->cur.n_ob) best_copy(&w->cur, T->start, w->n_in); /* each output's best at its start */
  w->cur.best_lo = T->floor;
  w->cur.best_val = NAN;
  w->cur.disagree = T->dis0;
  twinn_error_clear(&w->err);
  w->refined = 0;
  T->st = child(w, o, T->box, T->cap, T->cap_fk, T->live, &T->b, &T->keep, &w->err);
  T->refined = w->refined;
  T->box = NULL;
  T->err = w->err;
  best_copy(&T->out, &w->cur, w->n_in);
}

/* Takes the next task of J's round and runs it (S->mu held on entry and on return; released
 * while the task runs). 0 if none is left to take. */
static int take_task(qws *w, qjob *J) {
  qshared *S = w->S;
  qtask *T;
  if (J->next_task >= J->n_tasks) return 0;
  T = &J->t[J->next_task++];
  if (w->id != J->owner) atomic_fetch_add_explicit(&S->helped, 1, memory_order_relaxed);
  pthread_mutex_unlock(&S->mu);
  run_task(w, J, T, &S->obj[J - S->jobs]);
  pthread_mutex_lock(&S->mu);
  if (++J->tasks_done == J->n_tasks) pthread_cond_broadcast(&S->cv);
  return 1;
}

/* One round of objective J (its owner): the boxes popped (QUANT_ROUND at most) were halved into
 * the nt tasks J->t, which the owner and the helper (if any) bound alike, each from the
 * same state: the best value attained when the round began (and whether a top-1 disagreement
 * had been seen). Then the results are merged in task order (a strictly better value replaces
 * the best; the first disagreement stays) and the kept halves queued in that order: the search
 * is the same whoever bounds which half, and for any number of workers. The state the tasks
 * start from is w->best_*, w->cur.disagree, restored before the merge. */
static twinn_status run_round(qws *w, qjob *J, qheap *h, size_t nt, twinn_error *err) {
  qshared *S = w->S;
  size_t n = w->n_in, i;
  unsigned long b0 = w->branches;
  twinn_status st = TWINN_OK;
  best_copy(&J->save, &w->cur, n);
  for (i = 0; i < nt; i++) {
    J->t[i].floor = J->save.best_lo;
    J->t[i].dis0 = J->save.disagree;
    J->t[i].start = &J->save;
  }
  pthread_mutex_lock(&S->mu);
  J->n_tasks = nt;
  J->next_task = 0;
  J->tasks_done = 0;
  pthread_cond_broadcast(&S->cv); /* the helper may take tasks */
  while (take_task(w, J)) continue;
  while (J->tasks_done < J->n_tasks) pthread_cond_wait(&S->cv, &S->mu);
  J->n_tasks = J->next_task = J->tasks_done = 0;
  pthread_mutex_unlock(&S->mu);
  best_copy(&w->cur, &J->save, n);
  w->branches = b0; /* every task bounded one box, whoever ran it */
  for (i = 0; i < nt; i++) {
    qtask *T = &J->t[i];
    if (T->st != TWINN_OK) {
      if (st == TWINN_OK) {
        st = T->st;
        if (err) *err = T->err;
      }
      continue;
    }
    w->branches += !T->near;
    J->refined += (unsigned long)T->refined;
    if (T->out.best_lo > w->cur.best_lo) {
      w->cur.best_lo = T->out.best_lo;
      w->cur.best_val = T->out.best_val;
      memcpy(w->cur.best_pt, T->out.best_pt, n * sizeof(double));
    }
    if (w->cur.n_ob) { /* each output's better value, in task order */
      int better = 0;
      for (size_t j = 0; j < w->n_out; j++) {
        if (!(T->out.ob_lo[j] > w->cur.ob_lo[j])) continue;
        w->cur.ob_sum += T->out.ob_lo[j] - fmax(w->cur.ob_lo[j], 0.0);
        w->cur.ob_lo[j] = T->out.ob_lo[j];
        w->cur.ob_val[j] = T->out.ob_val[j];
        memcpy(w->cur.ob_pt + j * n, T->out.ob_pt + j * n, n * sizeof(double));
        better = 1;
      }
      if (better && w->nfb) { /* per-output mode: that is a new best */
        w->cur.best_val = T->out.best_val;
        memcpy(w->cur.best_pt, T->out.best_pt, n * sizeof(double));
      }
    }
    if (!w->cur.disagree && T->out.disagree) {
      w->cur.disagree = 1;
      w->cur.dis_f = T->out.dis_f;
      w->cur.dis_g = T->out.dis_g;
      memcpy(w->cur.dis_pt, T->out.dis_pt, n * sizeof(double));
    }
    if (!T->keep) continue;
    T->keep = 0;
    if (st != TWINN_OK) {
      twinn_free(T->b.box);
    } else if (heap_push(h, T->b) != TWINN_OK) {
      st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory (bound queue)");
    }
  }
  return st;
}

/* Objective k's search state into worker w (the caller runs it now). */
static void job_load(qws *w, size_t k) {
  qjob *J = &w->S->jobs[k];
  best_copy(&w->cur, &J->best, w->n_in);
  w->rng = J->rng;
  w->target = w->S->names[k];
}

/* ... and back, with the boxes the run bounded (w->branches - b0) and its seconds. */
static void job_save(qws *w, size_t k, unsigned long b0, double t_start) {
  qjob *J = &w->S->jobs[k];
  best_copy(&J->best, &w->cur, w->n_in);
  J->rng = w->rng;
  J->branches += w->branches - b0;
  J->seconds += twinn_clock_now() - t_start;
}

/* The root phase of objective k (a function of (seed, k) only, but for the deadline):
 * attained values from the centre, ascents from it and from random points and a pattern
 * search, then the root box bounded and queued. */
static twinn_status job_prepare(qws *w, size_t k, twinn_error *err) {
  qjob *J = &w->S->jobs[k];
  const objective *o = &w->S->obj[k];
  size_t n = w->n_in, t, und;
  unsigned long b0 = w->branches;
  double t_start = twinn_clock_now();
  unsigned r;
  twinn_status st;
  double *box = NULL;
  qbox b;
  const double *seed = w->S->seed_of ? w->S->seed_of[k] : NULL;
  double cap = w->S->cap_of ? w->S->cap_of[k] : INFINITY;
  J->best.best_lo = -INFINITY;
  J->best.best_val = NAN;
  if (w->S->per_out) { /* relative values: 1 is every output's best */
    J->best.best_lo = 1.0;
    J->best.focus = SIZE_MAX; /* chosen when the search starts */
  }
  if (J->best.n_ob) {
    J->best.ob_sum = 0.0;
    for (t = 0; t < w->n_out; t++) J->best.ob_lo[t] = -INFINITY;
  }
  J->rng =
      ((uint64_t)w->opt->seed * 0x9E3779B97F4A7C15ull + 1) ^ ((uint64_t)k * 0xD1B54A32D192ED03ull);
  job_load(w, k);
  if (seed) {
    double val;
    memcpy(w->x, seed, n * sizeof(double));
    if ((st = try_point(w, o, w->x, &val)) != TWINN_OK)
      return twinn_error_set(err, st, NULL, 0, 0, "out of memory (network evaluation)");
  }
  for (r = 0; r < 5; r++) {
    if (r > 0 && must_stop(w)) break;
    for (t = 0; t < n; t++)
      w->x[t] = r == 0 ? w->root_lo[t] + (w->root_hi[t] - w->root_lo[t]) / 2
                       : w->root_lo[t] + (w->root_hi[t] - w->root_lo[t]) * twinn_rand_unit(&w->rng);
    if ((st = ascend(w, o, w->root_lo, w->root_hi, w->x, 20)) != TWINN_OK)
      return twinn_error_set(err, st, NULL, 0, 0, "out of memory (network evaluation)");
  }
  if ((st = polish(w, o, NULL, NULL)) != TWINN_OK)
    return twinn_error_set(err, st, NULL, 0, 0, "out of memory (network evaluation)");
  J->polished = best_mark(w);
  if (!(box = twinn_malloc(box_bytes(w))))
    return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory (bound queue)");
  memcpy(box, w->root_lo, n * sizeof(double));
  memcpy(box + n, w->root_hi, n * sizeof(double));
  w->live = ~(uint64_t)0;
  if ((st = box_upper(w, o, w->root_lo, w->root_hi, NULL, &b.u, &und, err)) != TWINN_OK) goto fail;
  keep_phases(w, box);
  b.exact = 0;
  b.first = 0;
  b.fk = 0.0;
  b.live = w->live_out;
  if (w->nfb) { /* per-output mode: the box's per-form bounds */
    memcpy(box_fb(w, box), w->fb, w->nfb * sizeof(double));
    b.first = outs_key(w, box_fb(w, box), ~(uint64_t)0, &b.u, &b.live, &b.fk);
  }
  if (o->kind == OBJ_ABS && cap < b.u) b.u = cap;
  if ((st = try_exact(w, o, w->root_lo, w->root_hi, &b, w->nfb ? box_fb(w, box) : NULL, und,
                      QUANT_EXACT_UNSTABLE, QUANT_EXACT_LPS, err)) != TWINN_OK)
    goto fail;
  set_dim(w, &b, w->root_lo, w->root_hi);
  b.box = box;
  box = NULL;
  if (b.u > w->cur.best_lo) {
    if (heap_push(&J->h, b) != TWINN_OK)
      return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory (bound queue)");
  } else {
    twinn_free(b.box);
  }
  job_save(w, k, b0, t_start);
  J->polished_at = J->near_at = J->branches;
  J->near_from = NAN; /* near_exact's first call sets the sizes (no best seen yet) */
  return TWINN_OK;
fail:
  twinn_free(box);
  return st;
}

/* The upper end of a search: its best attained value, or its largest queued bound. */
static double queue_upper(const qheap *h, double best) {
  return h->n ? fmax(best, h->a[0].u) : best;
}

/* Per-output mode, where the queue's order is the focus' (box_before), not the key's: the
 * largest queued key, at least upper (for progress only: the stop test can take the top's, as
 * a box that comes first has a key above the gap). */
static double queue_max(const qheap *h, double upper) {
  for (size_t b = 0; b < h->n; b++) upper = fmax(upper, h->a[b].u);
  return upper;
}

/* The upper end of objective k between runs. */
static double job_upper(const qjob *J) { return queue_upper(&J->h, J->best.best_lo); }

/* L-inf mode (S->mu held): objective J's upper end and attained value made known. */
static void publish(qshared *S, qjob *J, double upper, double best) {
  J->upper = upper;
  if (best > S->lam) S->lam = best;
}

/* L-inf mode: J's relevance. An objective whose upper end is at most S->lam can no longer
 * hold the L-inf maximum; the L-inf interval closes only when the objective with the largest
 * upper end is refined. */
static int relevant(const qshared *S, const qjob *J) { return J->upper > S->lam; }

/* L-inf mode: publishes J's state, and whether its worker should leave it (suspended) for
 * another objective: a waiting relevant one with a larger upper end, or, once J is not
 * relevant itself, any relevant one that needs a worker (waiting, or running alone). */
static int should_yield(qws *w, qjob *J, double upper) {
  qshared *S = w->S;
  int yield = 0;
  pthread_mutex_lock(&S->mu);
  publish(S, J, upper, w->cur.best_lo);
  for (size_t k = 0; k < S->n_obj && !yield; k++) {
    const qjob *K = &S->jobs[k];
    if (K == J || K->finished || !relevant(S, K)) continue;
    if (!K->running)
      yield = K->upper > upper || !relevant(S, J);
    else
      yield = !K->helper && !relevant(S, J);
  }
  pthread_mutex_unlock(&S->mu);
  return yield;
}

/* Refines objective k (prepared) until the gap closes, the queue is full, the sign of the
 * maximum is known (k < S->n_sign_stop), must_stop, or (L-inf mode) should_yield says another
 * objective needs the worker more. In the last two cases, unless the call's time is over, it
 * is only suspended (J->suspended) and may run again. */
static twinn_status job_search(qws *w, size_t k, twinn_error *err) {
  qshared *S = w->S;
  qjob *J = &S->jobs[k];
  const objective *o = &S->obj[k];
  qheap *h = &J->h;
  size_t n = w->n_in, t, max_open = S->max_open;
  unsigned long b0 = w->branches, checked = w->branches;
  double t_start = twinn_clock_now(), upper;
  int sign_stop = k < S->n_sign_stop;
  twinn_status st = TWINN_OK;
  job_load(w, k);
  J->suspended = 0;
  for (;;) {
    size_t nt;
    unsigned long done;
    int near;
    if (w->nfb) refresh_top(w, h);
    if (w->nfb && h->n && (!h->a[0].first || J->focus_at-- == 0)) {
      J->focus_at = QUANT_FOCUS_ROUNDS;
      if ((st = choose_focus(w, h, err)) != TWINN_OK) break;
      if (!J->linf_done && w->cur.focus != QUANT_FOCUS_LINF && w->cur.focus != SIZE_MAX) {
        J->linf_done = 1; /* the L-inf interval closed: its share of the search */
        J->linf_branches = J->branches + (w->branches - b0);
        J->linf_seconds = J->seconds + (twinn_clock_now() - t_start);
      }
    }
    upper = queue_upper(h, w->cur.best_lo);
    report_progress(w, w->cur.best_lo, w->nfb && w->opt->progress ? queue_max(h, upper) : upper);
    if (!h->n || twinn_quant_gap_closed(w->opt, w->cur.best_lo, upper)) break;
    if (sign_stop && (upper < 0 || w->cur.best_lo > 0)) break;
    if (h->a[0].exact) break; /* the largest bound is an exact maximum: nothing to refine */
    if (S->linf && w->branches - checked >= QUANT_SLICE) {
      checked = w->branches;
      if (should_yield(w, J, upper)) {
        J->suspended = 1;
        break;
      }
    }
    if (h->n + 4 * QUANT_ROUND > max_open) break;
    if (must_stop(w)) { /* its share of the time: suspended if the call's time is not over */
      J->suspended = !call_over(S);
      break;
    }
    done = J->branches + (w->branches - b0); /* the job's boxes so far, this run's included */
    /* Every QUANT_POLISH_EVERY boxes a pattern search: from the best point if it is new since
     * the last one, else from a random point of the box holding the upper end or (every other
     * time) of the root box. Not in per-output mode, like near_exact: paired, one worker, 60 s,
     * without / with it, the same lower ends on acasxu_1_1 fp16 p3, 1_3 p3, 2_6 p1, 3_8 p1,
     * 4_6 p1 and 5_9 p1 (the open outputs' too), and 1-4 % more boxes in the outputs' part
     * (2_6 p1: 43 776 / 36 480). It ran on the owner alone while the helper waited. */
    if (!w->nfb && done - J->polished_at >= QUANT_POLISH_EVERY) {
      int from_best = best_mark(w) > J->polished;
      const double *plo = h->a[0].box, *phi = h->a[0].box + n;
      if (!from_best && (J->n_polish++ & 1)) plo = w->root_lo, phi = w->root_hi;
      J->polished = best_mark(w);
      J->polished_at = done;
      if ((st = polish(w, o, from_best ? NULL : plo, phi)) != TWINN_OK) {
        twinn_error_set(err, st, NULL, 0, 0, "out of memory (network evaluation)");
        break;
      }
      continue;
    }
    /* Not in per-output mode: there it found no higher values for the outputs still open
     * than the exact searches of the halves (try_exact_outs) and the other searches, and cost
     * their time. Paired, one worker each, 60 s, without it against with it: acasxu_2_6 fp16 p1
     * 46 528 / 34 624 boxes of the outputs' part (2 outputs open / 4), 1_4 p1 every output
     * 26.2 / 29.4 s, 1_3 p3 38.5 / 45.6 s, 3_8 p1 22 784 / 13 824 boxes of the outputs' part
     * (4 / 4 open), the same lower ends but two of 3_8 p1's open outputs (7.13e-5 / 7.91e-5,
     * 8.52e-5 / 9.08e-5) and one of 4_6 p1's. A search of the focus output's forms alone around
     * its own best point did no better. With --margin it still pays (acasxu_1_3 fp16 p3, 30 s:
     * m_g - m_f attained 2.859e-3 with it, 2.505e-3 without). */
    near = !w->nfb && done - J->near_at >= QUANT_NEAR_EVERY;
    if (near) J->near_at = done;
    /* A round: the box on top and the next ones, QUANT_ROUND at most (not an exact one, whose
     * bound halving cannot lower; not one that cannot beat the best value), after the
     * near_exact task if one is due: it runs beside the halves, from the round's state like
     * them, and its result is merged first (the owner ran it between rounds while the helper
     * waited: 8.65 of the 11.84 s the helper waited in 60 s of acasxu_2_6 fp16 p1). It is
     * decided after polish's turn, which ends the iteration (decided before, it was lost
     * whenever both were due, and with QUANT_NEAR_EVERY a multiple of QUANT_POLISH_EVERY that
     * was always). */
    nt = 0;
    if (near) { /* shaped by a copy of the top box (the queue is not empty here) */
      double *top = twinn_malloc(box_bytes(w));
      if (!top) {
        st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory (bound queue)");
        break;
      }
      memcpy(top, h->a[0].box, box_bytes(w));
      J->t[0].box = top;
      J->t[0].near = 1;
      nt = 1;
    }
    while (nt < 2 * QUANT_ROUND + (size_t)near && h->n && !(nt > (size_t)near && h->a[0].exact)) {
      qbox top;
      double *right, mid;
      if (w->nfb && (refresh_top(w, h), !h->n)) break;
      top = heap_pop(h);
      if (!(top.u > w->cur.best_lo)) { /* the best value rose since it was queued */
        twinn_free(top.box);
        continue;
      }
      if (!(right = twinn_malloc(box_bytes(w)))) {
        twinn_free(top.box);
        st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory (bound queue)");
        break;
      }
      t = top.dim;
      mid = top.box[t] + (top.box[n + t] - top.box[t]) / 2;
      memcpy(right, top.box, box_bytes(w));
      top.box[n + t] = mid;
      right[t] = mid;
      J->t[nt].box = top.box;
      J->t[nt].near = 0;
      J->t[nt].live = top.live;
      J->t[nt].cap_fk = top.fk;
      J->t[nt++].cap = top.u;
      J->t[nt].box = right;
      J->t[nt].near = 0;
      J->t[nt].live = top.live;
      J->t[nt].cap_fk = top.fk;
      J->t[nt++].cap = top.u;
    }
    if (st != TWINN_OK) {
      for (t = 0; t < nt; t++) twinn_free(J->t[t].box);
      break;
    }
    if (nt && (st = run_round(w, J, h, nt, err)) != TWINN_OK) break;
  }
  job_save(w, k, b0, t_start);
  return st;
}

/* Objective k's result into S->out[k] (and its top-1 disagreement into S->dis*), from its
 * search state; closed when its gap closed (or nothing is left to refine). */
static twinn_status job_result(qshared *S, size_t k, twinn_error *err) {
  qjob *J = &S->jobs[k];
  twinn_quant_bound *out = S->out[k];
  double upper = job_upper(J);
  memset(out, 0, sizeof *out);
  if (!(out->point = twinn_mallocarray(S->n_in, sizeof(double))))
    return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  out->lower = J->best.best_lo;
  out->value = J->best.best_val;
  out->upper = upper;
  out->closed = !J->h.n || twinn_quant_gap_closed(S->opt, J->best.best_lo, upper);
  memcpy(out->point, J->best.best_pt, S->n_in * sizeof(double));
  out->branches = J->branches;
  out->refined = J->refined;
  out->seconds = J->seconds;
  if (S->per_out) { /* every output's own interval */
    S->linf_branches = J->linf_done ? J->linf_branches : J->branches;
    S->linf_seconds = J->linf_done ? J->linf_seconds : J->seconds;
    for (size_t j = 0; j < S->n_out; j++) {
      twinn_quant_bound *oj = &S->outs[j];
      double F = fmax(J->best.ob_lo[j], fmax(S->opt->abs_gap, 1e-200)), up = F;
      /* Every box dropped, and every form of a queued box not live, was at or below output
       * j's floor then, so at or below F (floors only rise); the live ones are bounded by
       * their per-form bounds. */
      for (size_t b = 0; b < J->h.n; b++)
        for (size_t sg = 0; sg < 2; sg++)
          if (J->h.a[b].live >> (2 * j + sg) & 1)
            up = fmax(up, box_fb_of(J->h.a[b].box, S->n_in)[2 * j + sg]);
      twinn_free(oj->point);
      memset(oj, 0, sizeof *oj);
      if (!(oj->point = twinn_mallocarray(S->n_in, sizeof(double))))
        return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
      memcpy(oj->point, J->best.ob_pt + j * S->n_in, S->n_in * sizeof(double));
      oj->lower = J->best.ob_lo[j];
      oj->value = J->best.ob_val[j];
      oj->upper = up;
      oj->closed = twinn_quant_gap_closed(S->opt, oj->lower, up);
    }
  }
  if (J->best.disagree) {
    S->dis[k] = 1;
    S->dis_f[k] = J->best.dis_f;
    S->dis_g[k] = J->best.dis_g;
    memcpy(S->dis_pt + k * S->n_in, J->best.dis_pt, S->n_in * sizeof(double));
  }
  return TWINN_OK;
}

/* The deadline of the objective worker `id` takes now (S->mu held; S->next already counts it).
 * The objectives not started before this one share the workers' free time up to the call's
 * deadline (what the other workers' running objectives have not claimed); this worker's part
 * of it, left = time to the deadline, covers left / free * waiting of them, rounded UP to r
 * objectives run back to back, and this one gets left / r. With one worker that is the time
 * left divided by the objectives left; with 5 objectives on 2 workers each gets 1/3 of the time
 * (equal shares of 2/5 would leave the fifth alone with 1/5 and a worker idle). An objective
 * that closes early leaves its time to the later ones, and once all have started the running
 * ones may run to the call's deadline (must_stop). */
static double objective_deadline(const qshared *S, size_t id) {
  double now = twinn_clock_now(), left, free_time, r;
  size_t j, waiting = S->n_obj - S->next + 1;
  if (S->deadline <= 0) return 0;
  left = S->deadline - now;
  if (left <= 0) return S->deadline;
  free_time = (double)S->n_workers * left;
  for (j = 0; j < S->n_slots; j++)
    if (j != id && S->busy_until[j] > now) free_time -= fmin(S->busy_until[j], S->deadline) - now;
  /* 1e-9: an exact multiple must not round up one more (left <= free_time always holds). */
  r = ceil((double)waiting * left / free_time - 1e-9);
  r = fmax(1.0, fmin((double)waiting, r));
  return now + left / r;
}

/* Refines objective k on worker w (S->mu held on entry and on return): in share mode first
 * with its share of the time (objective_deadline), after a suspension (resume) and in L-inf
 * mode with the call's. */
static void run_job(qws *w, size_t k, int resume) {
  qshared *S = w->S;
  qjob *J = &S->jobs[k];
  twinn_status st;
  if (resume || S->linf) {
    w->deadline = S->deadline;
  } else {
    w->deadline = objective_deadline(S, w->id);
    if (S->next == S->n_obj) atomic_store(&S->all_started, 1);
  }
  S->busy_until[w->id] = w->deadline;
  J->running = 1;
  J->owner = w->id;
  S->running++;
  pthread_cond_broadcast(&S->cv); /* a waiting worker may help it */
  pthread_mutex_unlock(&S->mu);
  twinn_error_clear(&w->err);
  st = job_search(w, k, &w->err);
  if (st == TWINN_OK && !J->suspended) st = job_result(S, k, &w->err);
  pthread_mutex_lock(&S->mu);
  if (S->linf) publish(S, J, job_upper(J), J->best.best_lo);
  J->running = 0;
  J->finished = !J->suspended;
  S->running--;
  pthread_cond_broadcast(&S->cv);
  S->busy_until[w->id] = 0;
  if (st != TWINN_OK && !atomic_load(&S->stop)) {
    S->st = st;
    S->err = w->err;
    atomic_store(&S->stop, 1);
  }
}

/* Helps objective J while its owner runs it (S->mu held on entry and on return): takes tasks
 * of its rounds (run_round). A failure goes back to the owner in the task. */
static void help_job(qws *w, qjob *J) {
  qshared *S = w->S;
  J->helper = 1;
  while (J->running && !atomic_load(&S->stop))
    if (!take_task(w, J)) pthread_cond_wait(&S->cv, &S->mu);
  J->helper = 0;
}

/* The objective to run or help next (S->mu held), or SIZE_MAX; *help: help it. L-inf mode,
 * by upper ends: a waiting relevant objective (the largest first), else a running relevant one
 * without a helper, else a waiting one that is no longer relevant (its own interval still
 * counts), else any running one without a helper. Share mode: the next objective in index
 * order, else a running one without a helper, else a suspended one. */
static size_t pick(const qshared *S, int *help) {
  size_t k, best = SIZE_MAX;
  int pass;
  *help = 0;
  if (!S->linf) {
    if (S->next < S->n_obj) return S->next;
    for (k = 0; k < S->n_obj; k++)
      if (S->jobs[k].running && !S->jobs[k].helper) {
        *help = 1;
        return k;
      }
    for (k = 0; k < S->n_obj; k++)
      if (!S->jobs[k].running && !S->jobs[k].finished && S->jobs[k].suspended) return k;
    return SIZE_MAX;
  }
  for (pass = 0; pass < 4 && best == SIZE_MAX; pass++) {
    int run = pass == 1 || pass == 3; /* help a running one */
    for (k = 0; k < S->n_obj; k++) {
      const qjob *J = &S->jobs[k];
      if (J->finished || (pass < 2 && !relevant(S, J)) || (pass == 2 && relevant(S, J))) continue;
      if (run ? !(J->running && !J->helper) : J->running) continue;
      if (best == SIZE_MAX || J->upper > S->jobs[best].upper) best = k;
    }
    *help = run;
  }
  return best;
}

/* Every objective's root phase first (any worker), then what pick says, while any runs. */
static void *worker_main(void *arg) {
  qws *w = arg;
  qshared *S = w->S;
  pthread_mutex_lock(&S->mu);
  for (;;) {
    size_t k;
    int help;
    if (atomic_load(&S->stop)) break;
    if (S->next_prep < S->n_obj) {
      twinn_status st;
      k = S->next_prep++;
      w->deadline = S->deadline;
      pthread_mutex_unlock(&S->mu);
      twinn_error_clear(&w->err);
      st = job_prepare(w, k, &w->err);
      pthread_mutex_lock(&S->mu);
      if (st != TWINN_OK && !atomic_load(&S->stop)) {
        S->st = st;
        S->err = w->err;
        atomic_store(&S->stop, 1);
      }
      if (S->linf) publish(S, &S->jobs[k], job_upper(&S->jobs[k]), S->jobs[k].best.best_lo);
      S->n_prepared++;
      pthread_cond_broadcast(&S->cv);
      continue;
    }
    if (S->n_prepared < S->n_obj) {
      pthread_cond_wait(&S->cv, &S->mu);
      continue;
    }
    if ((k = pick(S, &help)) != SIZE_MAX) {
      if (help)
        help_job(w, &S->jobs[k]);
      else if (!S->linf && k == S->next)
        run_job(w, S->next++, 0);
      else
        run_job(w, k, 1);
      continue;
    }
    if (!S->running) break;
    pthread_cond_wait(&S->cv, &S->mu);
  }
  pthread_cond_broadcast(&S->cv); /* a stop must wake the waiting workers */
  pthread_mutex_unlock(&S->mu);
  return NULL;
}

/* The workers for n_obj objectives: opt->threads (<= 0: the online cores), at most 2 n_obj
 * (an objective and its helper), at least 1. */
static size_t worker_count(const twinn_quant_options *opt, size_t n_obj) {
  long n = opt->threads;
  if (n <= 0) n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n > 256) n = 256;
  if (n > 0 && (size_t)n > 2 * n_obj) n = (long)(2 * n_obj);
  return n < 1 ? 1 : (size_t)n;
}

/* After every objective ran: each objective |g_k - f_k| also takes the points the others
 * attained, if they certify a higher value for it (both networks are evaluated in full at
 * every point, so another output's maximiser often lies where output k is large too: on
 * acasxu_1_3 fp16 p3, output 3's point gave output 2 0.00145 where output 2's own search had
 * reached 0.00086). The lower ends stay attained values (certified_value). */
static void share_points(qws *w, qshared *S) {
  size_t k, j;
  for (k = 0; k < S->n_obj; k++) {
    twinn_quant_bound *ok = S->out[k];
    if (S->obj[k].kind != OBJ_ABS || !ok->point) continue;
    for (j = 0; j < S->n_obj; j++) {
      const twinn_quant_bound *oj = S->out[j];
      double cert;
      if (j == k || S->obj[j].kind != OBJ_ABS || !oj->point || !(oj->lower > -INFINITY)) continue;
      cert = certified_value(w, &S->obj[k], oj->point);
      if (!(cert > ok->lower)) continue;
      if (twinn_net_eval(w->f, oj->point, w->yf) != TWINN_OK ||
          twinn_net_eval(w->g, oj->point, w->yg) != TWINN_OK)
        return;
      ok->lower = cert;
      ok->value = double_value(w, &S->obj[k]);
      memcpy(ok->point, oj->point, w->n_in * sizeof(double));
      if (twinn_quant_gap_closed(w->opt, ok->lower, ok->upper)) ok->closed = 1;
    }
  }
}

/* Runs S->obj[0..n_obj) on the workers and fills S->out, S->dis*. The objective fields of S
 * must be set. Each out[k] gets its point (owned) only on success; on failure out[k] may hold
 * points the caller releases as usual. */
static twinn_status run_objectives(qshared *S, twinn_error *err) {
  qws *W = NULL;
  size_t t, nw = worker_count(S->opt, S->n_obj);
  int mu_ok = 0, blas_prev = 0;
  twinn_status st = TWINN_OK;
  S->n_workers = S->n_slots = nw;
  /* The queue memory budget is for the whole call: each objective's queue (suspended ones keep
   * theirs) gets its share. */
  S->max_open = S->opt->max_open;
  if (S->max_open == 0)
    S->max_open = (size_t)256 * 1024 * 1024 /
                  ((2 * S->n_in + (S->per_out ? 2 * S->n_out : 0)) * sizeof(double) + 64) /
                  (S->n_obj + 1);
  S->busy_until = twinn_calloc(nw, sizeof(double));
  S->dis = twinn_calloc(S->n_obj, sizeof(int));
  S->dis_f = twinn_calloc(S->n_obj, sizeof(size_t));
  S->dis_g = twinn_calloc(S->n_obj, sizeof(size_t));
  S->dis_pt = twinn_calloc(S->n_obj * S->n_in + 1, sizeof(double));
  S->jobs = twinn_calloc(S->n_obj, sizeof *S->jobs);
  for (t = 0; S->jobs && t < S->n_obj; t++) { /* arrays of n_in: 4, and 2 per task */
    qjob *J = &S->jobs[t];
    size_t ob = S->per_out ? OB_DOUBLES(S->n_out, S->n_in) : 0; /* per qbest */
    double *a =
        twinn_calloc((4 + 2 * QUANT_TASKS) * S->n_in + (2 + QUANT_TASKS) * ob + 1, sizeof(double));
    size_t i;
    if (!a) break;
    if (ob) {
      double *q = a + (4 + 2 * QUANT_TASKS) * S->n_in;
      best_attach(&J->best, q, S->n_out);
      best_attach(&J->save, q + ob, S->n_out);
      for (i = 0; i < QUANT_TASKS; i++) best_attach(&J->t[i].out, q + (2 + i) * ob, S->n_out);
    }
    J->best.best_pt = a;
    J->best.dis_pt = a + S->n_in;
    J->save.best_pt = a + 2 * S->n_in;
    J->save.dis_pt = a + 3 * S->n_in;
    for (i = 0; i < QUANT_TASKS; i++) {
      J->t[i].out.best_pt = a + (4 + 2 * i) * S->n_in;
      J->t[i].out.dis_pt = a + (5 + 2 * i) * S->n_in;
    }
  }
  W = twinn_calloc(nw, sizeof *W);
  if (!S->busy_until || !S->dis || !S->dis_f || !S->dis_g || !S->dis_pt || !S->jobs || !W ||
      (S->n_obj && !S->jobs[S->n_obj - 1].best.best_pt)) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory (bound analysis)");
    goto done;
  }
  for (t = 0; t < nw; t++)
    if ((st = ws_init(&W[t], S, t, err)) != TWINN_OK) {
      nw = t; /* W[t] released itself; W[0..t) are released below */
      goto done;
    }
  if ((st = share_root(W, nw, S, err)) != TWINN_OK) goto done;
  if (pthread_mutex_init(&S->mu, NULL) != 0) {
    st = twinn_error_set(err, TWINN_ERR_INTERNAL, NULL, 0, 0, "cannot create a mutex");
    goto done;
  }
  if (pthread_cond_init(&S->cv, NULL) != 0) {
    pthread_mutex_destroy(&S->mu);
    st = twinn_error_set(err, TWINN_ERR_INTERNAL, NULL, 0, 0, "cannot create a condition");
    goto done;
  }
  mu_ok = 1;
  /* One BLAS thread per worker, one worker included: BLAS threads on top of busy cores spin in
   * sched_yield (measured: 40 % of a --threads 1 MNIST run on a loaded machine, 4 regions
   * instead of about 200). */
  blas_prev = openblas_get_num_threads();
  openblas_set_num_threads(1);
  for (t = 1; t < nw; t++)
    if (!(W[t].started = pthread_create(&W[t].thread, NULL, worker_main, &W[t]) == 0)) {
      pthread_mutex_lock(&S->mu); /* fewer workers share the time */
      S->n_workers--;
      pthread_mutex_unlock(&S->mu);
    }
  worker_main(&W[0]);
  for (t = 1; t < nw; t++)
    if (W[t].started) pthread_join(W[t].thread, NULL);
  openblas_set_num_threads(blas_prev);
  /* Objectives still suspended when the time ran out: their results as they stand. */
  for (t = 0; !atomic_load(&S->stop) && t < S->n_obj; t++)
    if (!S->jobs[t].finished && (st = job_result(S, t, err)) != TWINN_OK) break;
  if (atomic_load(&S->stop)) {
    st = S->st;
    if (err) *err = S->err;
  } else if (st == TWINN_OK) {
    share_points(&W[0], S);
  }
done:
  if (mu_ok) {
    pthread_cond_destroy(&S->cv);
    pthread_mutex_destroy(&S->mu);
  }
  for (t = 0; W && t < nw; t++) ws_release(&W[t]);
  twinn_free(W);
  return st;
}

/* What run_objectives left (its objectives' states), for another run on S. */
static void run_release(qshared *S) {
  for (size_t k = 0; S->jobs && k < S->n_obj; k++) {
    twinn_free(S->jobs[k].best.best_pt);
    heap_release(&S->jobs[k].h);
  }
  twinn_free(S->jobs);
  twinn_free(S->busy_until);
  twinn_free(S->dis);
  twinn_free(S->dis_f);
  twinn_free(S->dis_g);
  twinn_free(S->dis_pt);
  S->jobs = NULL;
  S->busy_until = NULL;
  S->dis = NULL;
  S->dis_f = S->dis_g = NULL;
  S->dis_pt = NULL;
  S->next_prep = S->n_prepared = S->running = S->next = 0;
  atomic_store(&S->all_started, 0);
  S->last_target = NULL;
}

static void shared_release(qshared *S) {
  twinn_net_free(S->own_f);
  twinn_net_free(S->own_g);
  run_release(S);
}

twinn_status twinn_quant_diff_bounds(const twinn_net *f, const twinn_net *g, const double *lo,
                                     const double *hi, const twinn_quant_options *opt,
                                     twinn_quant_diff *res, twinn_error *err) {
  qshared S;
  size_t i;
  objective *objs = NULL;
  twinn_quant_bound **outs = NULL;
  char(*names)[32] = NULL;
  const char **name_ptrs = NULL;
  twinn_quant_bound joint_out, *own = NULL;
  const double **seeds = NULL;
  double *caps = NULL;
  size_t n_open, k;
  twinn_status st;
  memset(res, 0, sizeof *res);
  memset(&joint_out, 0, sizeof joint_out);
  if ((st = shared_init(&S, f, g, lo, hi, opt, err)) != TWINN_OK) return st;
  res->n_in = S.n_in;
  res->n_out = S.n_out;
  res->pairing = S.pairing;
  res->matched = S.matched;
  res->out = twinn_calloc(S.n_out, sizeof *res->out);
  objs = twinn_calloc(S.n_out, sizeof *objs);
  outs = twinn_calloc(S.n_out, sizeof *outs);
  names = twinn_calloc(S.n_out, sizeof *names);
  name_ptrs = twinn_calloc(S.n_out, sizeof *name_ptrs);
  own = twinn_calloc(S.n_out, sizeof *own);
  seeds = twinn_calloc(S.n_out, sizeof *seeds);
  caps = twinn_calloc(S.n_out, sizeof *caps);
  if (!res->out || !objs || !outs || !names || !name_ptrs || !own || !seeds || !caps) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
    goto fail;
  }
  for (i = 0; i < S.n_out; i++) {
    objs[i].kind = OBJ_ABS;
    objs[i].i = i;
    outs[i] = &res->out[i];
    snprintf(names[i], sizeof names[i], "output %zu", i);
    name_ptrs[i] = names[i];
  }
  /* On few inputs, one search for every output's own maximum at once (per-output mode): boxes
   * where several outputs are above their best values are bounded once for all of them
   * (acasxu_2_5 fp16 p1: outputs 2 and 4 peak at the same point). Its first focus is the L-inf
   * interval (QUANT_FOCUS_LINF): the boxes it alone needs come first, as one search of the
   * L-inf maximum would take them, and the boxes that search would drop stay queued for the
   * outputs. Before, that search ran first, alone, and the outputs' began again at the root:
   * paired, one worker each, every output closed on acasxu_1_4 fp16 p1 in 31.7 s against
   * 42.8 s, the L-inf interval at 13.3 s against 13.1 s. Then a search of its own for each
   * output left open (the only one where the joint search did not run). */
  S.linf = 1;
  if (!S.prod && S.n_in <= QUANT_EXACT_DIMS && S.n_out >= 2 && 2 * S.n_out <= QUANT_LINF_FORMS) {
    objective jobj = {OBJ_LINF, 0, 0.0, 0};
    twinn_quant_bound *jout = &joint_out;
    const char *jname = "outputs (upper / attained)";
    double t1 = twinn_clock_now();
    S.linf = 0;
    S.per_out = 1;
    S.outs = res->out;
    S.n_obj = 1;
    S.obj = &jobj;
    S.out = &jout;
    S.names = &jname;
    st = run_objectives(&S, err);
    run_release(&S);
    S.per_out = 0;
    S.linf = 1;
    if (st != TWINN_OK) goto fail;
    res->linf_searched = res->outs_searched = 1;
    res->linf_branches = S.linf_branches;
    res->linf_seconds = S.linf_seconds;
    res->outs_branches = joint_out.branches - S.linf_branches;
    res->outs_refined = joint_out.refined;
    res->outs_seconds = fmax(0.0, twinn_clock_now() - t1 - S.linf_seconds);
    S.lam = -INFINITY; /* the outputs' values attained, for the outputs left open */
    for (i = 0; i < S.n_out; i++) S.lam = fmax(S.lam, res->out[i].lower);
  }
  /* Each output not closed yet: a search of its own (from the joint search's point and below
   * its upper end, where that ran), its result merged into what it had. */
  n_open = 0;
  for (i = 0; i < S.n_out; i++) {
    if (res->outs_searched && res->out[i].closed) continue;
    objs[n_open] = objs[i];
    outs[n_open] = &own[n_open];
    name_ptrs[n_open] = names[i];
    seeds[n_open] = res->outs_searched ? res->out[i].point : NULL;
    caps[n_open] = res->outs_searched ? res->out[i].upper : INFINITY;
    n_open++;
  }
  S.n_obj = n_open;
  S.obj = objs;
  S.out = outs;
  S.names = name_ptrs;
  S.seed_of = seeds;
  S.cap_of = caps;
  if (res->outs_searched && S.deadline > 0 && twinn_clock_now() >= S.deadline) n_open = 0;
  if (n_open && (st = run_objectives(&S, err)) != TWINN_OK) goto fail;
  for (k = 0; k < n_open; k++) {
    twinn_quant_bound *r = &res->out[objs[k].i], *o = &own[k];
    if (!res->outs_searched) { /* its only result */
      *r = *o;
      o->point = NULL;
      continue;
    }
    if (o->lower > r->lower && o->point) {
      twinn_free(r->point);
      r->point = o->point;
      o->point = NULL;
      r->lower = o->lower;
      r->value = o->value;
    }
    r->upper = fmin(r->upper, o->upper);
    r->closed = o->closed || twinn_quant_gap_closed(opt, r->lower, r->upper);
    r->branches += o->branches;
    r->refined += o->refined;
    r->seconds += o->seconds;
  }
  res->linf_lower = res->linf_upper = -INFINITY;
  for (i = 0; i < S.n_out; i++) {
    if (!res->out[i].closed) res->timed_out = 1;
    if (res->out[i].lower > res->linf_lower) {
      res->linf_lower = res->out[i].lower;
      res->linf_arg = i;
    }
    res->linf_upper = fmax(res->linf_upper, res->out[i].upper);
    res->branches += res->out[i].branches;
  }
  res->branches += res->linf_branches + res->outs_branches;
  res->linf_closed = twinn_quant_gap_closed(opt, res->linf_lower, res->linf_upper);
  res->helped = atomic_load(&S.helped);
  res->seconds = twinn_clock_now() - S.t0;
  goto done;
fail:
  twinn_quant_diff_release(res);
done:
  shared_release(&S);
  twinn_free(objs);
  twinn_free(outs);
  twinn_free(names);
  twinn_free(name_ptrs);
  twinn_free(joint_out.point);
  for (k = 0; own && k < S.n_out; k++) twinn_free(own[k].point);
  twinn_free(own);
  twinn_free(seeds);
  twinn_free(caps);
  return st;
}

void twinn_quant_diff_release(twinn_quant_diff *res) {
  size_t i;
  for (i = 0; res->out && i < res->n_out; i++) twinn_free(res->out[i].point);
  twinn_free(res->out);
  memset(res, 0, sizeof *res);
}

twinn_status twinn_quant_margin_bounds(const twinn_net *f, const twinn_net *g, const double *lo,
                                       const double *hi, size_t cls, int argmin,
                                       const twinn_quant_options *opt, twinn_quant_margin *res,
                                       twinn_error *err) {
  qshared S;
  twinn_status st;
  size_t k;
  static const char *const names[4] = {"f keeps the class", "g keeps the class", "margin max",
                                       "margin min"};
  const objective objs[4] = {
      {OBJ_MNEG, 0, 0, 0}, {OBJ_MNEG, 0, 0, 1}, {OBJ_MDIFF, 0, 1.0, 0}, {OBJ_MDIFF, 0, -1.0, 0}};
  twinn_quant_bound *outs[4];
  memset(res, 0, sizeof *res);
  if (f->n_out < 2 || cls >= f->n_out)
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0,
                           "class %zu: the networks have %zu outputs", cls, f->n_out);
  if ((st = shared_init(&S, f, g, lo, hi, opt, err)) != TWINN_OK) return st;
  S.cls = cls;
  S.dir = argmin ? -1.0 : 1.0;
  res->pairing = S.pairing;
  res->matched = S.matched;
  res->n_in = S.n_in;
  res->n_out = S.n_out;
  res->cls = cls;
  res->argmin = argmin != 0;
  outs[0] = &res->fneg;
  outs[1] = &res->gneg;
  outs[2] = &res->dmax;
  outs[3] = &res->dmin;
  S.n_obj = 4;
  S.obj = objs;
  S.out = outs;
  S.names = names;
  S.n_sign_stop = 2; /* -m_f and -m_g: top-1 needs only their signs */
  if ((st = run_objectives(&S, err)) != TWINN_OK) goto fail;
  for (k = 0; k < 4; k++) {
    if (!outs[k]->closed && !(k < 2 && (outs[k]->upper < 0 || outs[k]->lower > 0)))
      res->timed_out = 1;
    res->branches += outs[k]->branches;
  }
  res->helped = atomic_load(&S.helped);
  /* The disagreement of the first objective that met one: independent of scheduling. */
  for (k = 0; k < 4 && !S.dis[k]; k++) continue;
  if (k < 4) {
    if (!(res->witness = twinn_mallocarray(S.n_in, sizeof(double)))) {
      st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
      goto fail;
    }
    memcpy(res->witness, S.dis_pt + k * S.n_in, S.n_in * sizeof(double));
    res->witness_f = S.dis_f[k];
    res->witness_g = S.dis_g[k];
    res->top1 = TWINN_TOP1_DISAGREE;
  } else if (res->fneg.upper < 0 && res->gneg.upper < 0) {
    res->top1 = TWINN_TOP1_AGREE;
  }
  res->seconds = twinn_clock_now() - S.t0;
  goto done;
fail:
  twinn_quant_margin_release(res);
done:
  shared_release(&S);
  return st;
}

void twinn_quant_margin_release(twinn_quant_margin *res) {
  twinn_free(res->dmax.point);
  twinn_free(res->dmin.point);
  twinn_free(res->fneg.point);
  twinn_free(res->gneg.point);
  twinn_free(res->witness);
  memset(res, 0, sizeof *res);
}

size_t twinn_quant_decide(const twinn_net *net, const double *x, int argmin) {
  double *y = twinn_mallocarray(net->n_out ? net->n_out : 1, sizeof *y);
  size_t j, best = 0;
  if (!y || twinn_net_eval(net, x, y) != TWINN_OK) {
    twinn_free(y);
    return SIZE_MAX;
  }
  for (j = 1; j < net->n_out; j++)
    if (argmin ? y[j] < y[best] : y[j] > y[best]) best = j;
  twinn_free(y);
  return best;
}

twinn_status twinn_quant_diff_at(const twinn_net *f, const twinn_net *g, const double *x,
                                 double *lower, double *value, twinn_error *err) {
  twinn_ibounds bf, bg;
  size_t Lf = f->n_layers, Lg = g->n_layers, n = f->n_out, i;
  double *yf = twinn_mallocarray(n ? 2 * n : 1, sizeof *yf), *yg = yf + n;
  twinn_status st = TWINN_ERR_NOMEM;
  memset(&bf, 0, sizeof bf);
  memset(&bg, 0, sizeof bg);
  if (!yf || twinn_ibounds_init(&bf, f) != TWINN_OK || twinn_ibounds_init(&bg, g) != TWINN_OK ||
      twinn_net_eval(f, x, yf) != TWINN_OK || twinn_net_eval(g, x, yg) != TWINN_OK)
    goto done;
  twinn_interval_propagate(f, x, x, &bf);
  twinn_interval_propagate(g, x, x, &bg);
  for (i = 0; i < n; i++) {
    lower[i] = abs_diff_lower(bg.lo[bg.off[Lg] + i], bg.hi[bg.off[Lg] + i], bf.lo[bf.off[Lf] + i],
                              bf.hi[bf.off[Lf] + i]);
    if (value) value[i] = fabs(yg[i] - yf[i]);
  }
  st = TWINN_OK;
done:
  twinn_ibounds_release(&bf);
  twinn_ibounds_release(&bg);
  twinn_free(yf);
  if (st != TWINN_OK) twinn_error_set(err, st, NULL, 0, 0, "out of memory");
  return st;
}
