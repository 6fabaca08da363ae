/* cli_bound_verify.c: the parts of `twinn bound` that ask the verifier (twinn_verify) instead of
 * bisecting inputs: top-1 agreement for --margin, and thresholds on the differences (all
 * outputs at once, then each alone) for inputs of many dimensions, where the verifier's neuron
 * branching proves in seconds what bisection of hundreds of pixels never gets to. Each question is
 * a VNN-LIB 2.0 query over the region's own boxes (printed with %.17g, which reads back to the same
 * doubles), so a proof holds exactly on the region, parsed and bound like a user's query. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_bound.h"
#include "vnnlib.h"

/* Opens a memory stream on *text and writes the networks' declarations (g isomorphic-to f where
 * it is: the verifier then bounds g - f directly; else two networks of their own, which it
 * bounds as the product network), X_g == X_f, the region as a disjunction of boxes and the
 * start of the output disjunction "(assert (or". NULL on out of memory. */
static FILE *query_open(char **text, size_t *len, const bound_region *r, const twinn_net *f,
                        const twinn_net *g) {
  size_t n_in = f->n_in, n_out = f->n_out;
  FILE *q = open_memstream(text, len);
  if (!q) return NULL;
  fprintf(q,
          "(vnnlib-version <2.0>)\n(declare-network f (declare-input X_f real [%zu]) "
          "(declare-output Y_f real [%zu]))\n(declare-network g%s "
          "(declare-input X_g real [%zu]) (declare-output Y_g real [%zu]))\n",
          n_in, n_out, twinn_net_isomorphic(f, g) ? " (isomorphic-to f)" : "", n_in, n_out);
  for (size_t i = 0; i < n_in; i++) fprintf(q, "(assert (== X_g[%zu] X_f[%zu]))\n", i, i);
  fputs("(assert (or", q);
  for (size_t k = 0; k < r->n_boxes; k++) {
    fputs("\n (and", q);
    for (size_t i = 0; i < n_in; i++)
      fprintf(q, " (>= X_f[%zu] %.17g) (<= X_f[%zu] %.17g)", i, r->lo[k * n_in + i], i,
              r->hi[k * n_in + i]);
    fputs(")", q);
  }
  fputs("))\n(assert (or", q);
  return q;
}

/* Closes the memory stream q (open_memstream(text, ...)) and returns its text; NULL (freed) on
 * a write error. */
static char *query_done(FILE *q, char **text) {
  int bad = ferror(q);
  if (fclose(q) != 0 || bad) {
    free(*text);
    return NULL;
  }
  return *text;
}

/* The query "f or g does not decide class c somewhere in the region" (decisions as
 * twinn_quant_decide: ties go to the smallest index). NULL on out of memory. */
static char *top1_query(const bound_region *r, const twinn_net *f, const twinn_net *g, size_t c,
                        int argmin) {
  char *text = NULL;
  size_t len = 0, n_out = f->n_out;
  FILE *q = query_open(&text, &len, r, f, g);
  if (!q) return NULL;
  /* Not deciding c: some i < c with v_i >= v_c, or i > c with v_i > v_c (v = y, or -y). */
  for (int net = 0; net < 2; net++)
    for (size_t i = 0; i < n_out; i++) {
      if (i == c) continue;
      const char *cmp = i < c ? (argmin ? "<=" : ">=") : (argmin ? "<" : ">");
      fprintf(q, " (%s Y_%c[%zu] Y_%c[%zu])", cmp, net ? 'g' : 'f', i, net ? 'g' : 'f', c);
    }
  fputs("))\n", q);
  return query_done(q, &text);
}

/* The query "some |g_i - f_i| > t somewhere in the region", i over all outputs (which ==
 * SIZE_MAX) or i = which only. NULL on out of memory. */
static char *linf_query(const bound_region *r, const twinn_net *f, const twinn_net *g, size_t which,
                        double t) {
  char *text = NULL;
  size_t len = 0, n_out = f->n_out;
  FILE *q = query_open(&text, &len, r, f, g);
  if (!q) return NULL;
  for (size_t i = which == SIZE_MAX ? 0 : which; i < (which == SIZE_MAX ? n_out : which + 1); i++)
    fprintf(q, " (> Y_g[%zu] (+ Y_f[%zu] %.17g)) (< Y_g[%zu] (- Y_f[%zu] %.17g))", i, i, t, i, i,
            t);
  fputs("))\n", q);
  return query_done(q, &text);
}

/* Runs twinn_verify on the query text for (f, g) within `seconds`, keeping and reusing root
 * bounds in `roots` (may be NULL). On sat, x (n_in entries, may be NULL) gets f's input of the
 * witness and *have_x is set. *branches gets the regions analysed, *margin (may be NULL) the
 * result's open_margin. TWINN_VERDICT_UNKNOWN on any failure. */
static twinn_verdict run_query(const char *text, const twinn_net *f, const twinn_net *g,
                               twinn_roots *roots, unsigned long seed, int threads, double seconds,
                               void (*progress)(void *, const twinn_progress *), void *ctx,
                               double *x, int *have_x, unsigned long *branches, double *margin) {
  twinn_prop *prop = NULL;
  twinn_problem pb;
  twinn_options opt;
  twinn_result res;
  twinn_error err;
  twinn_verdict v = TWINN_VERDICT_UNKNOWN;
  const char *names[2] = {"f", "g"};
  const twinn_net *nets[2] = {f, g};
  memset(&pb, 0, sizeof pb);
  memset(&res, 0, sizeof res);
  twinn_error_clear(&err);
  if (have_x) *have_x = 0;
  if (branches) *branches = 0;
  if (margin) *margin = NAN;
  if (!text ||
      twinn_vnnlib_parse_buffer(text, strlen(text), "bound query", &prop, &err) != TWINN_OK ||
      twinn_problem_bind(&pb, prop, 2, names, nets, &err) != TWINN_OK)
    goto done;
  twinn_options_init(&opt);
  opt.timeout = seconds;
  opt.seed = seed;
  opt.threads = threads;
  opt.progress = progress;
  opt.progress_ctx = ctx;
  opt.roots = roots;
  if (twinn_verify(&pb, &opt, &res, &err) != TWINN_OK) goto done;
  v = res.verdict;
  if (branches) *branches = res.branches;
  if (margin) *margin = res.open_margin;
  if (v == TWINN_VERDICT_SAT && x && res.witness)
    for (size_t k = 0; k < prop->n_vars; k++)
      if (prop->vars[k].role == TWINN_VAR_INPUT && prop->vars[k].net == 0 &&
          prop->vars[k].n == f->n_in) {
        memcpy(x, res.witness + prop->vars[k].offset, f->n_in * sizeof *x);
        *have_x = 1;
        break;
      }
done:
  twinn_result_release(&res);
  twinn_problem_release(&pb);
  twinn_prop_free(prop);
  return v;
}

twinn_verdict cli_bound_top1(const bound_region *r, const twinn_net *f, const twinn_net *g,
                             size_t c, int argmin, unsigned long seed, int threads,
                             double seconds) {
  char *text = top1_query(r, f, g, c, argmin);
  twinn_verdict v =
      run_query(text, f, g, NULL, seed, threads, seconds, NULL, NULL, NULL, NULL, NULL, NULL);
  free(text);
  return v;
}

/* ---- L-inf thresholds ---- */

typedef struct {
  const twinn_quant_options *opt;
  double start, lower, upper;
  char target[64];
} linf_progress;

/* The verifier's progress, shown as `twinn bound`'s (the current interval, the try). */
static void on_verify_progress(void *ctx, const twinn_progress *p) {
  linf_progress *lp = ctx;
  twinn_quant_progress q;
  q.elapsed = cli_now() - lp->start;
  q.branches = p->branches;
  q.target = lp->target;
  q.lower = lp->lower;
  q.upper = lp->upper;
  lp->opt->progress(lp->opt->progress_ctx, &q);
}

/* The box of r holding x, SIZE_MAX if none. */
static size_t box_of(const bound_region *r, size_t n, const double *x) {
  for (size_t k = 0; k < r->n_boxes; k++) {
    size_t i = 0;
    while (i < n && x[i] >= r->lo[k * n + i] && x[i] <= r->hi[k * n + i]) i++;
    if (i == n) return k;
  }
  return SIZE_MAX;
}

/* Recomputes d's L-inf ends, every output's `closed` and d's timed_out (some output open)
 * from the per-output intervals. */
static void fold_linf(twinn_quant_diff *d, const twinn_quant_options *opt) {
  d->linf_lower = 0.0;
  d->linf_upper = 0.0;
  d->linf_arg = 0;
  d->timed_out = 0;
  for (size_t i = 0; i < d->n_out; i++) {
    twinn_quant_bound *b = &d->out[i];
    b->closed = twinn_quant_gap_closed(opt, b->lower, b->upper);
    d->timed_out |= !b->closed;
    if (b->lower > d->linf_lower) d->linf_lower = b->lower, d->linf_arg = i;
    d->linf_upper = fmax(d->linf_upper, b->upper);
  }
  d->linf_closed = twinn_quant_gap_closed(opt, d->linf_lower, d->linf_upper);
}

/* Takes the verifier's witness x as an attained point wherever it beats a lower end. */
static twinn_status take_point(twinn_quant_diff *d, size_t *out_box, const bound_region *r,
                               const twinn_net *f, const twinn_net *g, const double *x,
                               twinn_error *err) {
  size_t n = f->n_in, k = box_of(r, n, x);
  double *lower = twinn_mallocarray(2 * d->n_out, sizeof *lower), *value = lower + d->n_out;
  twinn_status st;
  if (!lower) return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  if (k == SIZE_MAX) { /* not in the region (the verifier re-checks, so never expected) */
    twinn_free(lower);
    return TWINN_OK;
  }
  if ((st = twinn_quant_diff_at(f, g, x, lower, value, err)) != TWINN_OK) {
    twinn_free(lower);
    return st;
  }
  for (size_t i = 0; i < d->n_out; i++) {
    twinn_quant_bound *b = &d->out[i];
    if (!(lower[i] > b->lower)) continue;
    if (!b->point && !(b->point = twinn_mallocarray(n, sizeof *b->point))) {
      twinn_free(lower);
      return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
    }
    memcpy(b->point, x, n * sizeof *x);
    b->lower = lower[i];
    b->value = value[i];
    out_box[i] = k;
  }
  twinn_free(lower);
  return TWINN_OK;
}

/* The next threshold below u: a quarter of u while the attained end a is far below (the
 * verifier's time grows about as 1 / t on the MNIST twins: 5, 15, 38 s for t = 3e-3, 1e-3,
 * 5e-4 on mnist_256x4 fp16 img0), the geometric midpoint of (a, u) once it is closer than
 * that; a is the larger of the attained lower end and the largest threshold neither proved
 * nor refuted (a = 0: nothing attained). */
static double next_threshold(double a, double u) {
  double t = fmax(u / 4, a > 0 ? sqrt(a) * sqrt(u) : 0);
  return t > a && t < u ? t : a + (u - a) / 2;
}

/* What the threshold series share. */
typedef struct {
  twinn_quant_diff *d;
  size_t *out_box;
  const bound_region *r;
  const twinn_net *f, *g;
  const twinn_quant_options *opt;
  linf_progress lp;
  double *x;
  double *stuck; /* per output, then L-inf: the largest threshold refuted or undecided */
  twinn_report_threshold *tries;
  size_t n_tries, cap;
  twinn_error *err;
} series;

/* Narrows the interval of output `which` (SIZE_MAX: the L-inf interval) by thresholds until it
 * reaches opt's gap, `deadline` passes (0: none) or `max_tries` more are used. */
static twinn_status narrow(series *s, size_t which, double deadline, size_t max_tries) {
  twinn_quant_diff *d = s->d;
  double *stuck = &s->stuck[which == SIZE_MAX ? d->n_out : which];
  int proved = 0, ever = 0;
  size_t tried = 0;
  for (;;) {
    double lower = which == SIZE_MAX ? d->linf_lower : d->out[which].lower;
    double upper = which == SIZE_MAX ? d->linf_upper : d->out[which].upper;
    double left = deadline > 0 ? deadline - cli_now() : 0, t0 = cli_now();
    double t = next_threshold(fmax(lower, *stuck), upper), budget;
    twinn_report_threshold *tr;
    char *text;
    int have_x = 0;
    double margin;
    twinn_verdict v;
    if (tried >= max_tries || !isfinite(upper) || !(upper > 0) ||
        twinn_quant_gap_closed(s->opt, lower, upper) || (deadline > 0 && left < 0.5))
      break;
    if (!(t > fmax(lower, *stuck) && t < upper)) break; /* no double between */
    if (s->n_tries == s->cap) {
      size_t cap = s->cap ? 2 * s->cap : 16;
      twinn_report_threshold *grown = twinn_realloc(s->tries, cap, sizeof *grown);
      if (!grown) return twinn_error_set(s->err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
      s->tries = grown;
      s->cap = cap;
    }
    s->lp.lower = lower;
    s->lp.upper = upper;
    if (which == SIZE_MAX)
      snprintf(s->lp.target, sizeof s->lp.target, "L-inf, verifier: <= %.3g?", t);
    else
      snprintf(s->lp.target, sizeof s->lp.target, "output %zu, verifier: <= %.3g?", which, t);
    if (!(text = linf_query(s->r, s->f, s->g, which, t)))
      return twinn_error_set(s->err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
    tr = &s->tries[s->n_tries++];
    tried++;
    /* After a proof, all the time left: the next threshold (a quarter lower) takes a few
     * times as long, and halving its budget lost thresholds that would have been proved.
     * Otherwise half of it, so that a first threshold too ambitious (mnist_256x4 fp16 img7:
     * 0.13 not proved in 48 s) leaves time for a larger one. Without a deadline, 60 s per
     * question, so that one threshold the verifier cannot decide does not stop the rest. */
    budget = proved ? left : left / 2;
    /* An L-inf interval within 10 % leaves most of the time to the outputs alone (the
     * question near the attained end took all that was left: mnist_256x2 fp16 img2 and img6,
     * 48 s, undecided; a quarter of it then left 40 s, in which the outputs alone narrowed the
     * L-inf interval to 0.7 % and 2.4 % from 1.1 % and 4.3 %). */
    if (which == SIZE_MAX && upper - fmax(lower, *stuck) < 0.1 * upper) budget = left / 4;
    v = run_query(text, s->f, s->g, s->opt->roots, s->opt->seed, s->opt->threads,
                  deadline > 0 ? budget : CLI_BOUND_QUESTION_SECONDS,
                  s->opt->progress ? on_verify_progress : NULL, &s->lp, s->x, &have_x,
                  &tr->branches, &margin);
    free(text);
    tr->output = which;
    tr->threshold = t;
    tr->verdict = twinn_verdict_name(v);
    tr->seconds = cli_now() - t0;
    tr->bound = NAN;
    proved = v == TWINN_VERDICT_UNSAT;
    /* A search the time cut short still bounds what it left open: every |g_i - f_i| asked
     * about is at most t - margin there (twinn_result.open_margin), and at most t elsewhere. */
    if (v == TWINN_VERDICT_TIMEOUT && isfinite(margin) && margin < 0)
      tr->bound = nextafter(t - margin, INFINITY); /* t - margin rounded up */
    if (proved || isfinite(tr->bound)) {
      for (size_t i = 0; i < d->n_out; i++)
        if (which == SIZE_MAX || i == which)
          d->out[i].upper = fmin(d->out[i].upper, proved ? t : tr->bound);
    }
    if (!proved) {
      twinn_status st;
      if (v == TWINN_VERDICT_SAT && have_x &&
          (st = take_point(d, s->out_box, s->r, s->f, s->g, s->x, s->err)) != TWINN_OK)
        return st;
      *stuck = fmax(*stuck, t); /* refuted or undecided: the next threshold lies above t */
    }
    ever |= proved;
    fold_linf(d, s->opt);
    /* The L-inf question is as hard as its hardest output: once one is proved, the first
     * undecided one hands the time to the outputs alone, most of which then prove in a
     * fraction of a second what all together could not (mnist_256x2 fp16 img0, t = 1e-3:
     * outputs 0-7 in 0.2 s each, 8 and 9 not in 30 s, all together not in 24 s). */
    if (which == SIZE_MAX && ever && v != TWINN_VERDICT_UNSAT && v != TWINN_VERDICT_SAT) break;
  }
  return TWINN_OK;
}

static double rel_gap(const twinn_quant_bound *b) {
  return b->upper > 0 ? (b->upper - b->lower) / b->upper : 0;
}

twinn_status cli_bound_linf(twinn_quant_diff *d, size_t *out_box, const bound_region *r,
                            const twinn_net *f, const twinn_net *g, const twinn_quant_options *opt,
                            double start, double deadline, twinn_report_threshold **tries,
                            size_t *n_tries, twinn_error *err) {
  series s;
  twinn_status st = TWINN_OK;
  memset(&s, 0, sizeof s);
  s.d = d;
  s.out_box = out_box;
  s.r = r;
  s.f = f;
  s.g = g;
  s.opt = opt;
  s.lp.opt = opt;
  s.lp.start = start;
  s.err = err;
  s.x = twinn_mallocarray(f->n_in, sizeof *s.x);
  s.stuck = twinn_calloc(d->n_out + 1, sizeof *s.stuck);
  if (!s.x || !s.stuck) {
    twinn_free(s.x);
    twinn_free(s.stuck);
    return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  st = narrow(&s, SIZE_MAX, deadline, CLI_BOUND_MAX_TRIES);
  /* Then, with the time left, each open output alone, in passes: the widest relative gap
   * first, each with a share of what is left (what an output does not use passes to the
   * next); a pass that tries nothing ends it. The outputs start from the L-inf interval's
   * proved end (or bisection's, where no L-inf threshold was proved). */
  for (size_t before = SIZE_MAX; st == TWINN_OK && s.n_tries != before;) {
    size_t open = 0, *order;
    before = s.n_tries;
    if (!(order = twinn_mallocarray(d->n_out ? d->n_out : 1, sizeof *order))) {
      st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
      break;
    }
    for (size_t i = 0; i < d->n_out; i++) { /* by decreasing relative gap (insertion) */
      size_t k = open;
      if (d->out[i].closed || !isfinite(d->out[i].upper)) continue;
      for (; k > 0 && rel_gap(&d->out[order[k - 1]]) < rel_gap(&d->out[i]); k--)
        order[k] = order[k - 1];
      order[k] = i;
      open++;
    }
    for (size_t k = 0; st == TWINN_OK && k < open; k++)
      st = narrow(&s, order[k],
                  deadline > 0 ? cli_now() + (deadline - cli_now()) / (double)(open - k) : 0,
                  CLI_BOUND_MAX_TRIES);
    twinn_free(order);
  }
  twinn_free(s.x);
  twinn_free(s.stuck);
  *tries = s.tries;
  *n_tries = s.n_tries;
  return st;
}
