/* test_oracle.c: differential soundness test. Random small ReLU twins (rounded, pruned, noisy,
 * unrelated) with random boxes and random VNN-LIB 2.0 properties are decided by the default
 * engine (twinn_verify) and by the exact MILP mode (twinn_milp_verify); the verdicts must never
 * contradict (sat vs unsat) and every sat witness must replay. Seeded and reproducible: case k
 * depends only on (TWINN_ORACLE_SEED, k); TWINN_ORACLE_CASES=N sets the count (default 200),
 * TWINN_ORACLE_FIRST=k starts at case k (to rerun one failure). Hand-made cases check answers
 * known in advance (point box, empty box, strict comparison at the boundary). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milp.h"
#include "twinn.h"
#include "vnnlib.h"

/* ---- random numbers (xorshift64*, per case) ---- */

static uint64_t rng_next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ULL;
}

static double rng_unit(uint64_t *s) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }
static double rng_range(uint64_t *s, double lo, double hi) { return lo + (hi - lo) * rng_unit(s); }
static size_t rng_int(uint64_t *s, size_t lo, size_t hi) {
  return lo + (size_t)(rng_next(s) % (uint64_t)(hi - lo + 1));
}

/* ---- a growing text buffer for the property ---- */

typedef struct {
  char *p;
  size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) {
  va_list ap;
  int k;
  for (;;) {
    va_start(ap, fmt);
    k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    assert_true(k >= 0);
    if (b->p && b->n + (size_t)k < b->cap) break;
    b->cap = 2 * (b->cap + (size_t)k + 64);
    b->p = realloc(b->p, b->cap);
    assert_non_null(b->p);
  }
  b->n += (size_t)k;
}

/* ---- networks ---- */

typedef struct {
  size_t n_in, n_out, n_hidden, width[3];
} shape;

/* Float32-representable weights, so double and float32 evaluation agree on the model. */
static double fw(double v) { return (double)(float)v; }

static twinn_net *random_net(uint64_t *s, const shape *sh) {
  twinn_error err;
  twinn_net *net = twinn_net_new(sh->n_in);
  size_t k, i, in = sh->n_in;
  twinn_error_clear(&err);
  assert_non_null(net);
  for (k = 0; k <= sh->n_hidden; k++) {
    size_t out = k < sh->n_hidden ? sh->width[k] : sh->n_out;
    double *w = twinn_mallocarray(out * in, sizeof *w), *b = twinn_mallocarray(out, sizeof *b);
    double scale = 1.0 / sqrt((double)in);
    assert_non_null(w);
    assert_non_null(b);
    for (i = 0; i < out * in; i++) w[i] = fw(rng_range(s, -1.5, 1.5) * scale);
    for (i = 0; i < out; i++) b[i] = fw(rng_range(s, -0.3, 0.3));
    assert_int_equal(twinn_net_push_affine(net, out, w, b, &err), TWINN_OK);
    if (k < sh->n_hidden)
      assert_int_equal(twinn_net_push_act(net, TWINN_LAYER_RELU, &err), TWINN_OK);
    in = out;
  }
  return net;
}

enum { TWIN_ROUND, TWIN_PRUNE, TWIN_NOISE, TWIN_UNRELATED, TWIN_SAME, TWIN_KINDS };
static const char *const twin_name[] = {"round", "prune", "noise", "unrelated", "same"};

/* A twin of f: the same layers with weights rounded to a few bits, pruned, or perturbed;
 * an unrelated network of the same shape; or an exact copy. */
static twinn_net *make_twin(uint64_t *s, const twinn_net *f, const shape *sh, int kind) {
  twinn_error err;
  twinn_net *g;
  size_t k, i;
  double q = ldexp(1.0, -(int)rng_int(s, 2, 6)), thr = rng_range(s, 0.05, 0.4);
  double amp = rng_range(s, 1e-3, 5e-2);
  if (kind == TWIN_UNRELATED) return random_net(s, sh);
  twinn_error_clear(&err);
  g = twinn_net_new(f->n_in);
  assert_non_null(g);
  for (k = 0; k < f->n_layers; k++) {
    const twinn_layer *L = &f->layers[k];
    if (L->kind == TWINN_LAYER_AFFINE) {
      double *w = twinn_mallocarray(L->n_out * L->n_in, sizeof *w);
      double *b = twinn_mallocarray(L->n_out, sizeof *b);
      assert_non_null(w);
      assert_non_null(b);
      for (i = 0; i < L->n_out * L->n_in + L->n_out; i++) {
        double v = i < L->n_out * L->n_in ? L->w[i] : L->b[i - L->n_out * L->n_in];
        if (kind == TWIN_ROUND) v = q * nearbyint(v / q);
        if (kind == TWIN_PRUNE && fabs(v) < thr) v = 0.0;
        if (kind == TWIN_NOISE) v = fw(v + rng_range(s, -amp, amp));
        if (i < L->n_out * L->n_in)
          w[i] = v;
        else
          b[i - L->n_out * L->n_in] = v;
      }
      assert_int_equal(twinn_net_push_affine(g, L->n_out, w, b, &err), TWINN_OK);
    } else {
      assert_int_equal(twinn_net_push_act(g, L->kind, &err), TWINN_OK);
    }
  }
  return g;
}

/* ---- properties ---- */

static void header(sbuf *b, size_t n_in, size_t n_out) {
  sb_printf(b, "(vnnlib-version <2.0>)\n");
  sb_printf(b,
            "(declare-network f (declare-input X_f real [%zu]) (declare-output Y_f real [%zu]))\n",
            n_in, n_out);
  sb_printf(b,
            "(declare-network g (isomorphic-to f) (declare-input X_g real [%zu]) "
            "(declare-output Y_g real [%zu]))\n",
            n_in, n_out);
}

/* A random box on X_f with X_g tied to it, or (sometimes) a separate box on X_g. */
static void random_box(uint64_t *s, sbuf *b, size_t n_in) {
  size_t i;
  int tied = rng_unit(s) < 0.85;
  for (i = 0; i < n_in; i++) {
    double c = rng_range(s, -1, 1), r = rng_range(s, 0.005, 0.6);
    sb_printf(b, "(assert (>= X_f[%zu] %.17g))\n(assert (<= X_f[%zu] %.17g))\n", i, c - r, i,
              c + r);
    if (tied) {
      sb_printf(b, "(assert (== X_g[%zu] X_f[%zu]))\n", i, i);
    } else {
      c += rng_range(s, -0.1, 0.1);
      sb_printf(b, "(assert (<= X_g[%zu] %.17g))\n(assert (>= X_g[%zu] %.17g))\n", i, c + r, i,
                c - r);
    }
  }
}

enum { PROP_EPS, PROP_TOP1, PROP_MIXED, PROP_KINDS };
static const char *const prop_name[] = {"eps", "top1", "mixed"};

static void prop_eps(uint64_t *s, sbuf *b, size_t m) {
  static const double eps_choice[] = {0.005, 0.02, 0.05, 0.2, 1.0};
  double eps = eps_choice[rng_int(s, 0, 4)];
  size_t i;
  sb_printf(b, "(assert (or");
  for (i = 0; i < m; i++)
    sb_printf(b, " (> Y_g[%zu] (+ Y_f[%zu] %g)) (< Y_g[%zu] (- Y_f[%zu] %g))", i, i, eps, i, i,
              eps);
  sb_printf(b, "))\n");
}

/* The decision (argmax) of g differs from that of f. */
static void prop_top1(sbuf *b, size_t m) {
  size_t i, j, k;
  sb_printf(b, "(assert (or");
  for (i = 0; i < m; i++)
    for (k = 0; k < m; k++) {
      if (k == i) continue;
      sb_printf(b, "\n (and");
      for (j = 0; j < m; j++)
        if (j != i) sb_printf(b, " (>= Y_f[%zu] Y_f[%zu])", i, j);
      sb_printf(b, " (> Y_g[%zu] Y_g[%zu]))", k, i);
    }
  sb_printf(b, "))\n");
}

static void mixed_leaf(uint64_t *s, sbuf *b, size_t n_in, size_t m) {
  static const char *const cmp[] = {"<=", "<", ">=", ">", "<=", ">=", "!="};
  const char *c = cmp[rng_int(s, 0, 6)];
  double a1 = nearbyint(rng_range(s, -4, 4)) / 2, a2 = nearbyint(rng_range(s, -4, 4)) / 2;
  double k = rng_range(s, -1, 1);
  if (rng_unit(s) < 0.15) /* an input constraint inside the formula */
    sb_printf(b, " (%s (+ (* %g X_f[%zu]) (* %g X_g[%zu])) %.6g)", c, a1, rng_int(s, 0, n_in - 1),
              a2, rng_int(s, 0, n_in - 1), k);
  else
    sb_printf(b, " (%s (+ (* %g Y_f[%zu]) (* %g Y_g[%zu])) %.6g)", c, a1, rng_int(s, 0, m - 1), a2,
              rng_int(s, 0, m - 1), k);
}

/* A random and/or of linear constraints over both networks' outputs (and inputs). */
static void prop_mixed(uint64_t *s, sbuf *b, size_t n_in, size_t m) {
  size_t n_asserts = rng_int(s, 1, 2), a, d, n_d, l, n_l;
  for (a = 0; a < n_asserts; a++) {
    n_d = rng_int(s, 1, 3);
    sb_printf(b, "(assert (or");
    for (d = 0; d < n_d; d++) {
      n_l = rng_int(s, 1, 3);
      sb_printf(b, " (and");
      for (l = 0; l < n_l; l++) mixed_leaf(s, b, n_in, m);
      sb_printf(b, ")");
    }
    sb_printf(b, "))\n");
  }
}

/* ---- running both engines ---- */

typedef struct {
  unsigned long cases, agree, both_decided, contradictions;
  unsigned long neuron_decided; /* the default engine with neuron splits decided */
  unsigned long count[2][4];    /* [engine][verdict] */
  double seconds[2], slowest[2];
} tally;

/* A sat witness must satisfy the property as given and after recomputing every network's
 * outputs from its inputs. */
static void check_witness(const twinn_problem *pb, const double *w, const char *engine) {
  const twinn_prop *prop = pb->prop;
  double *x = malloc((prop->n_scalars + 1) * sizeof *x);
  assert_non_null(x);
  memcpy(x, w, prop->n_scalars * sizeof *x);
  if (!twinn_prop_holds(prop, x)) fail_msg("%s: sat witness does not satisfy the property", engine);
  assert_int_equal(twinn_problem_complete(pb, x), TWINN_OK);
  if (!twinn_prop_holds(prop, x))
    fail_msg("%s: sat witness does not replay (outputs recomputed)", engine);
  free(x);
}

/* A run of the default engine (r, named `engine`) against MILP's verdict vm: a contradiction
 * (sat against unsat) is counted and printed, a sat witness must replay. */
static void against_milp(const twinn_problem *pb, const twinn_result *r, twinn_verdict vm,
                         const char *engine, const char *label, const char *text, tally *t) {
  twinn_verdict v = r->verdict;
  if ((v == TWINN_VERDICT_SAT && vm == TWINN_VERDICT_UNSAT) ||
      (v == TWINN_VERDICT_UNSAT && vm == TWINN_VERDICT_SAT)) {
    t->contradictions++;
    print_message("CONTRADICTION in %s: %s %s, milp %s\n%s\n", label, engine, twinn_verdict_name(v),
                  twinn_verdict_name(vm), text);
  }
  if (v == TWINN_VERDICT_SAT) {
    assert_non_null(r->witness);
    check_witness(pb, r->witness, engine);
  }
}

/* Parses text, binds f and g, runs both engines, checks, tallies. Returns the MILP verdict. */
static twinn_verdict run_case(const char *text, const twinn_net *f, const twinn_net *g, tally *t,
                              const char *label, twinn_verdict *def_out) {
  static const char *const names[] = {"f", "g"};
  const twinn_net *nets[2];
  twinn_prop *prop = NULL;
  twinn_problem pb;
  twinn_options opt;
  twinn_result r0, r1, r2;
  twinn_error err;
  twinn_verdict v0, v1, v2;
  nets[0] = f;
  nets[1] = g;
  twinn_error_clear(&err);
  if (twinn_vnnlib_parse_buffer(text, strlen(text), label, &prop, &err) != TWINN_OK) {
    char msg[1200];
    twinn_error_format(&err, msg, sizeof msg);
    fail_msg("parse: %s\n%s", msg, text);
  }
  assert_int_equal(twinn_problem_bind(&pb, prop, prop->n_nets > 1 ? 2 : 1, names, nets, &err),
                   TWINN_OK);
  twinn_options_init(&opt);
  opt.timeout = 2.0;
  opt.threads = 1;
  opt.seed = 7;
  assert_int_equal(twinn_verify(&pb, &opt, &r0, &err), TWINN_OK);
  /* The same engine branching on neurons first (pairs: one network's neuron at a time, chosen
   * layer first, children analysed at once, so the twins' phases can come to differ): no
   * contradiction with MILP either. */
  opt.neuron_split = 1;
  assert_int_equal(twinn_verify(&pb, &opt, &r2, &err), TWINN_OK);
  opt.neuron_split = 0;
  opt.timeout = 5.0;
  assert_int_equal(twinn_milp_verify(&pb, &opt, &r1, &err), TWINN_OK);
  v0 = r0.verdict;
  v1 = r1.verdict;
  v2 = r2.verdict;
  against_milp(&pb, &r0, v1, "default", label, text, t);
  against_milp(&pb, &r2, v1, "neuron splits", label, text, t);
  t->neuron_decided += v2 == TWINN_VERDICT_SAT || v2 == TWINN_VERDICT_UNSAT;
  if (v1 == TWINN_VERDICT_SAT) {
    assert_non_null(r1.witness);
    check_witness(&pb, r1.witness, "milp");
  }
  if (v1 == TWINN_VERDICT_UNKNOWN || v1 == TWINN_VERDICT_TIMEOUT)
    print_message("%s: milp %s: %s\n", label, twinn_verdict_name(v1), r1.reason);
  t->cases++;
  t->seconds[0] += r0.seconds;
  t->seconds[1] += r1.seconds;
  if (r0.seconds > t->slowest[0]) t->slowest[0] = r0.seconds;
  if (r1.seconds > t->slowest[1]) t->slowest[1] = r1.seconds;
  t->count[0][v0]++;
  t->count[1][v1]++;
  if ((v0 == TWINN_VERDICT_SAT || v0 == TWINN_VERDICT_UNSAT) &&
      (v1 == TWINN_VERDICT_SAT || v1 == TWINN_VERDICT_UNSAT)) {
    t->both_decided++;
    if (v0 == v1) t->agree++;
  }
  twinn_result_release(&r0);
  twinn_result_release(&r1);
  twinn_result_release(&r2);
  twinn_problem_release(&pb);
  twinn_prop_free(prop);
  if (def_out) *def_out = v0;
  return v1;
}

static unsigned long env_ulong(const char *name, unsigned long dflt) {
  const char *v = getenv(name);
  char *end;
  unsigned long r;
  if (!v || !*v) return dflt;
  r = strtoul(v, &end, 10);
  return *end ? dflt : r;
}

static void test_random_pairs(void **state) {
  unsigned long seed = env_ulong("TWINN_ORACLE_SEED", 20251125UL);
  unsigned long n = env_ulong("TWINN_ORACLE_CASES", 200UL);
  unsigned long first = env_ulong("TWINN_ORACLE_FIRST", 0UL), k;
  tally t;
  (void)state;
  memset(&t, 0, sizeof t);
  for (k = first; k < first + n; k++) {
    uint64_t s =
        (seed * 0x9E3779B97F4A7C15ULL) ^ (k * 0xD1B54A32D192ED03ULL) ^ 0x5851F42D4C957F2DULL;
    shape sh;
    twinn_net *f, *g;
    sbuf b = {NULL, 0, 0};
    char label[96];
    size_t i;
    int twin, pk;
    rng_next(&s);
    sh.n_in = rng_int(&s, 2, 6);
    sh.n_out = rng_int(&s, 2, 4);
    sh.n_hidden = rng_int(&s, 1, 3);
    for (i = 0; i < sh.n_hidden; i++) sh.width[i] = rng_int(&s, 2, 12);
    twin = (int)rng_int(&s, 0, TWIN_KINDS - 1);
    pk = (int)rng_int(&s, 0, PROP_KINDS - 1);
    f = random_net(&s, &sh);
    g = make_twin(&s, f, &sh, twin);
    header(&b, sh.n_in, sh.n_out);
    random_box(&s, &b, sh.n_in);
    if (pk == PROP_EPS) prop_eps(&s, &b, sh.n_out);
    if (pk == PROP_TOP1) prop_top1(&b, sh.n_out);
    if (pk == PROP_MIXED) prop_mixed(&s, &b, sh.n_in, sh.n_out);
    snprintf(label, sizeof label, "case %lu (seed %lu, %s twin, %s)", k, seed, twin_name[twin],
             prop_name[pk]);
    run_case(b.p, f, g, &t, label, NULL);
    free(b.p);
    twinn_net_free(f);
    twinn_net_free(g);
  }
  print_message("oracle: seed %lu, %lu cases, both decided %lu, agreements %lu, contradictions "
                "%lu | default: sat %lu unsat %lu unknown %lu timed-out %lu | milp: sat %lu "
                "unsat %lu unknown %lu timed-out %lu | seconds: default %.1f (max %.2f), milp %.1f "
                "(max %.2f) | neuron splits decided %lu\n",
                seed, t.cases, t.both_decided, t.agree, t.contradictions,
                t.count[0][TWINN_VERDICT_SAT], t.count[0][TWINN_VERDICT_UNSAT],
                t.count[0][TWINN_VERDICT_UNKNOWN], t.count[0][TWINN_VERDICT_TIMEOUT],
                t.count[1][TWINN_VERDICT_SAT], t.count[1][TWINN_VERDICT_UNSAT],
                t.count[1][TWINN_VERDICT_UNKNOWN], t.count[1][TWINN_VERDICT_TIMEOUT], t.seconds[0],
                t.slowest[0], t.seconds[1], t.slowest[1], t.neuron_decided);
  assert_int_equal(t.contradictions, 0);
  assert_true(t.neuron_decided >= t.cases / 2);
  /* The oracle must actually decide: an encoding that always said unknown would pass the
   * contradiction check vacuously. */
  assert_true(t.count[1][TWINN_VERDICT_SAT] + t.count[1][TWINN_VERDICT_UNSAT] >= t.cases * 3 / 4);
  assert_true(t.count[1][TWINN_VERDICT_SAT] > 0 || t.cases < 20);
  assert_true(t.count[1][TWINN_VERDICT_UNSAT] > 0 || t.cases < 20);
}

/* ---- hand-made cases with known answers ---- */

/* 2 -> 2 -> ReLU -> 2 with fixed dyadic weights; bias_shift moves output 0's bias. */
static twinn_net *tiny_net(double bias_shift) {
  static const double w1[] = {1, -1, 0.5, 2}, b1[] = {0.25, -0.5};
  static const double w2[] = {1, 1, -1, 0.5}, b2[] = {0, 0.125};
  twinn_error err;
  twinn_net *net = twinn_net_new(2);
  double *w, *b;
  twinn_error_clear(&err);
  assert_non_null(net);
  w = twinn_mallocarray(4, sizeof *w);
  b = twinn_mallocarray(2, sizeof *b);
  assert_non_null(w);
  assert_non_null(b);
  memcpy(w, w1, sizeof w1);
  memcpy(b, b1, sizeof b1);
  assert_int_equal(twinn_net_push_affine(net, 2, w, b, &err), TWINN_OK);
  assert_int_equal(twinn_net_push_act(net, TWINN_LAYER_RELU, &err), TWINN_OK);
  w = twinn_mallocarray(4, sizeof *w);
  b = twinn_mallocarray(2, sizeof *b);
  assert_non_null(w);
  assert_non_null(b);
  memcpy(w, w2, sizeof w2);
  b[0] = b2[0] + bias_shift;
  b[1] = b2[1];
  assert_int_equal(twinn_net_push_affine(net, 2, w, b, &err), TWINN_OK);
  return net;
}

/* A point box: the answer is the comparison at that one point, computed here. */
static void test_point_box(void **state) {
  twinn_net *f = tiny_net(0.0), *g = tiny_net(0.375);
  double x[2] = {0.75, 0.25}, yf[2], yg[2], d;
  sbuf b = {NULL, 0, 0};
  tally t;
  int sat;
  (void)state;
  memset(&t, 0, sizeof t);
  assert_int_equal(twinn_net_eval(f, x, yf), TWINN_OK);
  assert_int_equal(twinn_net_eval(g, x, yg), TWINN_OK);
  d = fabs(yg[0] - yf[0]); /* 0.375 by construction, exactly representable */
  for (sat = 0; sat < 2; sat++) {
    double eps = sat ? d / 2 : d * 2;
    b.n = 0;
    header(&b, 2, 2);
    sb_printf(&b, "(assert (>= X_f[0] 0.75)) (assert (<= X_f[0] 0.75))\n");
    sb_printf(&b, "(assert (>= X_f[1] 0.25)) (assert (<= X_f[1] 0.25))\n");
    sb_printf(&b, "(assert (== X_g[0] X_f[0])) (assert (== X_g[1] X_f[1]))\n");
    sb_printf(&b, "(assert (or (> Y_g[0] (+ Y_f[0] %.17g)) (< Y_g[0] (- Y_f[0] %.17g))))\n", eps,
              eps);
    assert_int_equal(run_case(b.p, f, g, &t, "point box", NULL),
                     sat ? TWINN_VERDICT_SAT : TWINN_VERDICT_UNSAT);
  }
  assert_int_equal(t.contradictions, 0);
  free(b.p);
  twinn_net_free(f);
  twinn_net_free(g);
}

/* lo > hi on one input: no input at all, so unsat whatever the networks do. */
static void test_empty_box(void **state) {
  twinn_net *f = tiny_net(0.0), *g = tiny_net(5.0);
  sbuf b = {NULL, 0, 0};
  tally t;
  twinn_verdict v0;
  (void)state;
  memset(&t, 0, sizeof t);
  header(&b, 2, 2);
  sb_printf(&b, "(assert (>= X_f[0] 0.5)) (assert (<= X_f[0] 0.25))\n");
  sb_printf(&b, "(assert (>= X_f[1] -1)) (assert (<= X_f[1] 1))\n");
  sb_printf(&b, "(assert (== X_g[0] X_f[0])) (assert (== X_g[1] X_f[1]))\n");
  sb_printf(&b, "(assert (> Y_g[0] (+ Y_f[0] 0.5)))\n");
  assert_int_equal(run_case(b.p, f, g, &t, "empty box", &v0), TWINN_VERDICT_UNSAT);
  assert_int_equal(v0, TWINN_VERDICT_UNSAT);
  free(b.p);
  twinn_net_free(f);
  twinn_net_free(g);
}

/* y = I relu(I x), every evaluation (double, float32) exact; tap (if not NULL) names the
 * ReLU's output. */
static twinn_net *ident_net(const char *tap) {
  twinn_error err;
  twinn_net *net = twinn_net_new(2);
  int k;
  twinn_error_clear(&err);
  assert_non_null(net);
  for (k = 0; k < 2; k++) {
    double *w = twinn_calloc(4, sizeof *w), *b = twinn_calloc(2, sizeof *b);
    assert_non_null(w);
    assert_non_null(b);
    w[0] = w[3] = 1.0;
    assert_int_equal(twinn_net_push_affine(net, 2, w, b, &err), TWINN_OK);
    if (k > 0) continue;
    assert_int_equal(twinn_net_push_act(net, TWINN_LAYER_RELU, &err), TWINN_OK);
    if (tap) assert_int_equal(twinn_net_add_tap(net, tap, "relu_out", &err), TWINN_OK);
  }
  return net;
}

/* With y = relu(x), Y_f[0] == 1 exactly at X_f[0] == 1. With (>= Y_f[0] 1) over X_f[0] in
 * [-1, 1] that boundary point is the only witness (sat); with (> Y_f[0] 1) there is none, and
 * the MILP mode, which encodes > as >=, must not claim sat (unknown is its honest answer). */
static void test_strict_boundary(void **state) {
  twinn_net *f = ident_net(NULL), *g = ident_net(NULL);
  sbuf b = {NULL, 0, 0};
  tally t;
  twinn_verdict v0, v1;
  int strict;
  (void)state;
  memset(&t, 0, sizeof t);
  for (strict = 0; strict < 2; strict++) {
    b.n = 0;
    header(&b, 2, 2);
    sb_printf(&b, "(assert (>= X_f[0] -1)) (assert (<= X_f[0] 1))\n");
    sb_printf(&b, "(assert (>= X_f[1] -0.5)) (assert (<= X_f[1] 0.5))\n");
    sb_printf(&b, "(assert (== X_g[0] X_f[0])) (assert (== X_g[1] X_f[1]))\n");
    sb_printf(&b, "(assert (%s Y_f[0] 1))\n", strict ? ">" : ">=");
    v1 = run_case(b.p, f, g, &t, strict ? "strict boundary" : "non-strict boundary", &v0);
    if (strict) {
      assert_int_not_equal(v1, TWINN_VERDICT_SAT);
      assert_int_not_equal(v0, TWINN_VERDICT_SAT);
    } else {
      assert_int_equal(v1, TWINN_VERDICT_SAT);
      assert_int_not_equal(v0, TWINN_VERDICT_UNSAT);
    }
  }
  free(b.p);
  twinn_net_free(f);
  twinn_net_free(g);
}

/* An unbounded input cannot be encoded: unknown with a reason, never a verdict. */
static void test_unbounded_input(void **state) {
  static const char *const names[] = {"f", "g"};
  twinn_net *f = tiny_net(0.0), *g = tiny_net(1.0);
  const twinn_net *nets[2];
  sbuf b = {NULL, 0, 0};
  twinn_prop *prop = NULL;
  twinn_problem pb;
  twinn_result r;
  twinn_error err;
  (void)state;
  nets[0] = f;
  nets[1] = g;
  twinn_error_clear(&err);
  header(&b, 2, 2);
  sb_printf(&b, "(assert (>= X_f[0] -1)) (assert (<= X_f[0] 1)) (assert (>= X_f[1] 0))\n");
  sb_printf(&b, "(assert (== X_g[0] X_f[0])) (assert (== X_g[1] X_f[1]))\n");
  sb_printf(&b, "(assert (> Y_g[0] (+ Y_f[0] 0.5)))\n");
  assert_int_equal(twinn_vnnlib_parse_buffer(b.p, b.n, "unbounded", &prop, &err), TWINN_OK);
  assert_int_equal(twinn_problem_bind(&pb, prop, 2, names, nets, &err), TWINN_OK);
  assert_int_equal(twinn_milp_verify(&pb, NULL, &r, &err), TWINN_OK);
  assert_int_equal(r.verdict, TWINN_VERDICT_UNKNOWN);
  assert_non_null(strstr(r.reason, "X_f[1]"));
  assert_non_null(strstr(r.reason, "no constant upper bound")); /* not "unbounded": X_f[1] >= 0 */
  twinn_result_release(&r);
  twinn_problem_release(&pb);
  twinn_prop_free(prop);
  free(b.p);
  twinn_net_free(f);
  twinn_net_free(g);
}

/* Parses text, binds f and g (one network if the text declares one) and runs the MILP mode
 * only; returns its status, the verdict in *v and the reason in reason. */
static twinn_status milp_only(const char *text, const twinn_net *f, const twinn_net *g,
                              twinn_verdict *v, char *reason, size_t rn) {
  static const char *const names[] = {"f", "g"};
  const twinn_net *nets[2];
  twinn_prop *prop = NULL;
  twinn_problem pb;
  twinn_result r;
  twinn_error err;
  twinn_status st;
  nets[0] = f;
  nets[1] = g;
  twinn_error_clear(&err);
  assert_int_equal(twinn_vnnlib_parse_buffer(text, strlen(text), "milp", &prop, &err), TWINN_OK);
  assert_int_equal(twinn_problem_bind(&pb, prop, prop->n_nets, names, nets, &err), TWINN_OK);
  st = twinn_milp_verify(&pb, NULL, &r, &err);
  *v = r.verdict;
  snprintf(reason, rn, "%s", r.reason);
  if (st == TWINN_OK && r.verdict == TWINN_VERDICT_SAT) check_witness(&pb, r.witness, "milp");
  if (st != TWINN_OK) assert_int_equal(err.status, st);
  twinn_result_release(&r);
  twinn_problem_release(&pb);
  twinn_prop_free(prop);
  return st;
}

/* A hidden variable (declare-hidden on a tap) is the value after the ReLU: H_f = relu(X_f). */
static void test_hidden_tap(void **state) {
  twinn_net *f = ident_net("relu_node");
  sbuf b = {NULL, 0, 0};
  char reason[256];
  twinn_verdict v;
  int contradict;
  (void)state;
  for (contradict = 0; contradict < 2; contradict++) {
    b.n = 0;
    sb_printf(&b, "(vnnlib-version <2.0>)\n(declare-network f (declare-input X_f real [2]) "
                  "(declare-hidden H_f real [2] \"relu_node\") (declare-output Y_f real [2]))\n");
    sb_printf(&b, "(assert (>= X_f[0] -1)) (assert (<= X_f[0] 1))\n");
    sb_printf(&b, "(assert (>= X_f[1] -1)) (assert (<= X_f[1] 1))\n");
    sb_printf(&b, "(assert (>= H_f[0] 0.5))\n");
    sb_printf(&b, contradict ? "(assert (<= Y_f[0] 0.25))\n" : "(assert (<= Y_f[1] 0.25))\n");
    assert_int_equal(milp_only(b.p, f, NULL, &v, reason, sizeof reason), TWINN_OK);
    assert_int_equal(v, contradict ? TWINN_VERDICT_UNSAT : TWINN_VERDICT_SAT);
  }
  free(b.p);
  twinn_net_free(f);
}

/* A nonlinear constraint is left out of the encoding: unknown with a reason when the rest is
 * feasible, still unsat when the rest is not. */
static void test_nonlinear(void **state) {
  twinn_net *f = ident_net(NULL), *g = ident_net(NULL);
  sbuf b = {NULL, 0, 0};
  char reason[256];
  twinn_verdict v;
  int empty;
  (void)state;
  for (empty = 0; empty < 2; empty++) {
    b.n = 0;
    header(&b, 2, 2);
    sb_printf(&b, "(assert (>= X_f[0] -1)) (assert (<= X_f[0] %s))\n", empty ? "-2" : "1");
    sb_printf(&b, "(assert (>= X_f[1] -1)) (assert (<= X_f[1] 1))\n");
    sb_printf(&b, "(assert (== X_g[0] X_f[0])) (assert (== X_g[1] X_f[1]))\n");
    sb_printf(&b, "(assert (>= (* Y_f[0] Y_g[1]) 0.5))\n");
    assert_int_equal(milp_only(b.p, f, g, &v, reason, sizeof reason), TWINN_OK);
    if (empty) {
      assert_int_equal(v, TWINN_VERDICT_UNSAT);
    } else {
      assert_int_equal(v, TWINN_VERDICT_UNKNOWN);
      assert_non_null(strstr(reason, "nonlinear"));
    }
  }
  free(b.p);
  twinn_net_free(f);
  twinn_net_free(g);
}

/* Every allocation of the MILP mode failing in turn: out of memory is reported as such, and a
 * run that still returns OK gives the verdict of the fault-free run. */
static void test_nomem(void **state) {
  twinn_net *f = tiny_net(0.0), *g = tiny_net(0.375);
  sbuf b = {NULL, 0, 0};
  char reason[256];
  twinn_verdict want, v;
  unsigned long k, n_fail = 0;
  int sat;
  (void)state;
  for (sat = 0; sat < 2; sat++) {
    b.n = 0;
    header(&b, 2, 2);
    sb_printf(&b, "(assert (>= X_f[0] 0.5)) (assert (<= X_f[0] 1))\n");
    sb_printf(&b, "(assert (>= X_f[1] 0)) (assert (<= X_f[1] 0.5))\n");
    sb_printf(&b, "(assert (== X_g[0] X_f[0])) (assert (== X_g[1] X_f[1]))\n");
    sb_printf(&b, "(assert (or (> Y_g[0] (+ Y_f[0] %s)) (< Y_g[1] (- Y_f[1] 0.1))))\n",
              sat ? "0.25" : "0.5");
    assert_int_equal(milp_only(b.p, f, g, &want, reason, sizeof reason), TWINN_OK);
    assert_int_equal(want, sat ? TWINN_VERDICT_SAT : TWINN_VERDICT_UNSAT);
    for (k = 1; k < 400; k++) {
      twinn_status st;
      twinn_prop *prop = NULL;
      twinn_problem pb;
      twinn_result r;
      twinn_error err;
      static const char *const names[] = {"f", "g"};
      const twinn_net *nets[2];
      nets[0] = f;
      nets[1] = g;
      twinn_error_clear(&err);
      assert_int_equal(twinn_vnnlib_parse_buffer(b.p, b.n, "nomem", &prop, &err), TWINN_OK);
      assert_int_equal(twinn_problem_bind(&pb, prop, 2, names, nets, &err), TWINN_OK);
      twinn_alloc_set_fail(k);
      st = twinn_milp_verify(&pb, NULL, &r, &err);
      twinn_alloc_set_fail(0);
      v = r.verdict;
      if (st == TWINN_OK) {
        assert_int_equal(v, want);
      } else {
        assert_int_equal(st, TWINN_ERR_NOMEM);
        assert_int_equal(err.status, TWINN_ERR_NOMEM);
        assert_null(r.witness);
        n_fail++;
      }
      twinn_result_release(&r);
      twinn_problem_release(&pb);
      twinn_prop_free(prop);
    }
  }
  assert_true(n_fail > 10); /* the injection did reach the MILP mode's allocations */
  free(b.p);
  twinn_net_free(f);
  twinn_net_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_point_box),       cmocka_unit_test(test_empty_box),
      cmocka_unit_test(test_strict_boundary), cmocka_unit_test(test_unbounded_input),
      cmocka_unit_test(test_hidden_tap),      cmocka_unit_test(test_nonlinear),
      cmocka_unit_test(test_nomem),           cmocka_unit_test(test_random_pairs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
