/* cli_bound.c: `twinn bound`: certified intervals on the output difference of a twin pair
 * (or on the change of a classifier's decision margin) over an input region given as --box or
 * by a VNN-LIB file: a box, or one disjunction of boxes (bounded box by box, quant_union.h).
 * Prints a table (or JSON with --json) and can draw an SVG plot. The region must be exactly
 * that: any other input constraint is refused, since a lower end must be attained INSIDE it. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "align.h"
#include "cli.h"
#include "cli_bound.h"
#include "onnx_load.h"
#include "quant.h"
#include "quant_union.h"
#include "report.h"
#include "space.h"
#include "twinn.h"
#include "vnnlib.h"

static const char usage_bound[] =
    "usage: twinn bound [REGION.vnnlib] --network f=F.onnx --network g=G.onnx [options]\n"
    "\n"
    "Certified bounds on max over the region of |g_i(x) - f_i(x)| for every output i, and\n"
    "their maximum (L-inf): an interval [lower, upper] per output whose lower end is\n"
    "attained at a reported point of the region (both networks evaluated there) and whose\n"
    "upper end is proved. The region is the input box of REGION (its output constraints\n"
    "are ignored) or --box. REGION may also give one disjunction of boxes (each disjunct\n"
    "only bounds of single inputs): every box is bounded with a share of the time left and\n"
    "the intervals are combined (max of the lowers, max of the uppers).\n"
    "f and g must read the same inputs and give the same outputs. An isomorphic twin is\n"
    "bounded through g - f directly; one of other widths that shares most hidden neurons\n"
    "(structured pruning) is aligned neuron by neuron and bounded so too where that is\n"
    "tighter at the root; others (distilled) through the product network (both networks'\n"
    "linear bounds summed before the box). The `pairing:` line says which.\n"
    "On inputs of at most 16 dimensions (twins bounded through g - f) the L-inf maximum\n"
    "is searched first, all outputs in one branch and bound; then, with the time left, every\n"
    "output's own maximum in one more (a box is bounded for each output still above its best\n"
    "value there), from that search's point and upper end; an output it leaves open (queue\n"
    "full) gets a search of its own.\n"
    "On inputs of over 16 dimensions bisection gets a fifth of --timeout (12 s without\n"
    "one) and the verifier (`twinn verify`'s search) the rest: it is asked\n"
    "whether every |g_i - f_i| <= t on the region for thresholds t between the L-inf ends\n"
    "(a quarter of the upper end, or the geometric midpoint once the ends are closer); a\n"
    "proof makes t the upper end of every output, a counterexample is taken as an\n"
    "attained point. Once the L-inf interval closes, or an L-inf question after a proof\n"
    "goes undecided, each open output is asked about alone (|g_i - f_i| <= t), the\n"
    "widest relative gap first, in passes that share out the time left. Without\n"
    "--timeout each question gets 60 s.\n"
    "\n"
    "options:\n"
    "  --network f=PATH      the reference f and its twin g (--network g=PATH); without\n"
    "                        a name, the first given is f\n"
    "  --box LO,HI,LO,HI,..  the region: one LO,HI pair per input\n"
    "  --gap G               refine an interval until upper - lower <= G * |upper|\n"
    "                        (default 1e-3)\n"
    "  --timeout S           stop refining after S seconds, all boxes together (the\n"
    "                        intervals stay valid)\n"
    "  --seed N              seed of the point search (default 1)\n"
    "  --threads N           worker threads, on the outputs that may hold the L-inf max first\n"
    "                        (default 0: all cores); the intervals do not depend on N\n"
    "                        unless --timeout stops the refinement\n"
    "  --margin              bound the decision margin change m_g - m_f instead, with\n"
    "                        m(x) = y_c - max_{j!=c} y_j, and check top-1 agreement\n"
    "  --class C             the class c of --margin (default: f's decision at the centre)\n"
    "  --argmin              the decision is the argmin (ACAS Xu): m = min_{j!=c} y_j - y_c\n"
    "  --json                print the result as JSON (specs/report-schema.md)\n"
    "  --plot FILE.svg       draw the intervals and attained values\n"
    "  --quiet, -q           no progress line on stderr\n"
    "\n"
    "exit codes: 0 bounds printed, 1 bad input, 2 usage error, 3 out of memory or internal\n"
    "error.\n";

typedef struct {
  const char *region, *box, *plot;
  const char *net_paths[2];
  size_t n_nets;
  double gap, timeout;
  unsigned long seed, cls, threads;
  int margin, has_class, argmin, json, quiet;
} bound_args;

static int usage(const char *fmt, const char *arg) {
  fprintf(stderr, "twinn: bound: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\ntwinn: run `twinn bound --help` for usage\n");
  return CLI_EXIT_USAGE;
}

static int number(const char *s, double *out) {
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  return s[0] && *end == '\0' && errno == 0 && isfinite(*out);
}

static int parse(int argc, char **argv, bound_args *a) {
  int i;
  for (i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *eq = strchr(arg, '=');
    size_t klen = arg[0] == '-' && eq ? (size_t)(eq - arg) : strlen(arg);
    const char *val = NULL;
    char *end;
    /* Options with a value: `--opt V` or `--opt=V`. */
    static const char *const valued[] = {"--network", "--box",     "--gap",  "--timeout", "--seed",
                                         "--class",   "--threads", "--plot", NULL};
    for (int k = 0; valued[k]; k++)
      if (strlen(valued[k]) == klen && strncmp(arg, valued[k], klen) == 0) {
        if (eq)
          val = eq + 1;
        else if (i + 1 < argc)
          val = argv[++i];
        else
          return usage("%s needs a value", arg);
      }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(usage_bound, stdout);
      return CLI_EXIT_VERDICT;
    } else if (strncmp(arg, "--network", klen) == 0 && val) {
      /* f=PATH / g=PATH go to their place, another name is an error, a plain PATH takes the
       * first free one (names as verify reads them). */
      const char *name, *path;
      char buf[64];
      int slot;
      cli_split_network(val, &name, &path, buf, sizeof buf);
      if (name && strcmp(name, "f") != 0 && strcmp(name, "g") != 0)
        return usage("--network %s: the two networks are named f (the reference) and g (its twin)",
                     val);
      slot = name ? name[0] == 'g' : a->net_paths[0] != NULL;
      if (a->n_nets == 2) return usage("exactly two --network options (f and g)%s", "");
      if (a->net_paths[slot]) return usage("--network %s: that network is already given", val);
      a->net_paths[slot] = path;
      a->n_nets++;
    } else if (strncmp(arg, "--box", klen) == 0 && val) {
      if (a->box) return usage("--box %s: the region is already given by another --box", val);
      a->box = val;
    } else if (strncmp(arg, "--gap", klen) == 0 && val) {
      if (!number(val, &a->gap) || a->gap < 0)
        return usage("--gap %s: expected a number >= 0", val);
    } else if (strncmp(arg, "--timeout", klen) == 0 && val) {
      if (!number(val, &a->timeout) || a->timeout <= 0)
        return usage("--timeout %s: expected a positive number of seconds", val);
    } else if (strncmp(arg, "--seed", klen) == 0 && val) {
      errno = 0;
      a->seed = strtoul(val, &end, 10);
      if (!isdigit((unsigned char)val[0]) || *end || errno)
        return usage("--seed %s: expected a non-negative integer", val);
    } else if (strncmp(arg, "--threads", klen) == 0 && val) {
      errno = 0;
      a->threads = strtoul(val, &end, 10);
      if (!isdigit((unsigned char)val[0]) || *end || errno || a->threads > 1024)
        return usage("--threads %s: expected an integer from 0 (all cores) to 1024", val);
    } else if (strncmp(arg, "--class", klen) == 0 && val) {
      errno = 0;
      a->cls = strtoul(val, &end, 10);
      if (!isdigit((unsigned char)val[0]) || *end || errno)
        return usage("--class %s: expected a class index", val);
      a->has_class = 1;
    } else if (strncmp(arg, "--plot", klen) == 0 && val) {
      a->plot = val;
    } else if (strcmp(arg, "--margin") == 0) {
      a->margin = 1;
    } else if (strcmp(arg, "--argmin") == 0) {
      a->argmin = 1;
    } else if (strcmp(arg, "--json") == 0) {
      a->json = 1;
    } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
      a->quiet = 1;
    } else if (arg[0] == '-' && arg[1]) {
      return usage("unknown option %s", arg);
    } else {
      if (a->region) return usage("unexpected argument %s", arg);
      a->region = arg;
    }
  }
  if (a->n_nets != 2)
    return usage("needs two networks: --network f=F.onnx --network g=G.onnx%s", "");
  if (!a->region == !a->box) return usage("give the region as a VNN-LIB file or as --box%s", "");
  if ((a->has_class || a->argmin) && !a->margin)
    return usage("--class and --argmin go with --margin%s", "");
  return -1;
}

/* --box LO,HI,...: exactly 2 n finite numbers with LO <= HI. */
static twinn_status parse_box(const char *s, size_t n, double *lo, double *hi, twinn_error *err) {
  size_t k = 0;
  const char *p = s;
  while (*p) {
    char *end;
    double v;
    errno = 0;
    v = strtod(p, &end);
    if (end == p || errno || !isfinite(v) || (*end && *end != ',') || k == 2 * n)
      return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0,
                             "--box: expected %zu LO,HI pairs of finite numbers", n);
    if (k % 2 == 0)
      lo[k / 2] = v;
    else
      hi[k / 2] = v;
    k++;
    p = *end ? end + 1 : end;
  }
  if (k != 2 * n)
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0,
                           "--box: expected %zu LO,HI pairs, got %zu numbers", n, k);
  for (k = 0; k < n; k++)
    if (lo[k] > hi[k])
      return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "--box: input %zu has LO > HI", k);
  return TWINN_OK;
}

static void region_release(bound_region *r) {
  twinn_free(r->lo);
  twinn_free(r->hi);
  twinn_free(r->disjunct);
  memset(r, 0, sizeof *r);
}

static int is_input(const twinn_prop *p, size_t s) {
  const twinn_var *v = twinn_prop_var_of(p, s, NULL);
  return v && v->role == TWINN_VAR_INPUT;
}

/* 1 if the tree under node mentions an input scalar. */
static int mentions_input(const twinn_prop *p, size_t node) {
  const twinn_bool *b = &p->nodes[node];
  size_t t;
  if (b->kind == TWINN_BOOL_LIN) {
    const twinn_lin *l = &p->lins[b->lin];
    for (t = 0; t < l->n_terms; t++)
      if (is_input(p, p->term_var[l->first + t])) return 1;
    return 0;
  }
  for (t = 0; t < b->n_kids; t++)
    if (mentions_input(p, p->kids[b->first_kid + t])) return 1;
  return 0;
}

/* A face of a box: a non-strict (or equality) linear bound of one input scalar. */
static int is_face(const twinn_prop *p, const twinn_lin *l) {
  return !l->nonlinear && l->n_terms == 1 && l->cmp != TWINN_CMP_NE && l->cmp != TWINN_CMP_LT &&
         is_input(p, p->term_var[l->first]);
}

/* A tie of two inputs: a x - a y == 0 (f's and g's inputs are the same point). */
static int is_tie(const twinn_prop *p, const twinn_lin *l) {
  return !l->nonlinear && l->n_terms == 2 && l->cmp == TWINN_CMP_EQ && l->c0 == 0 &&
         p->term_coef[l->first] == -p->term_coef[l->first + 1] &&
         is_input(p, p->term_var[l->first]) && is_input(p, p->term_var[l->first + 1]);
}

/* The conjuncts of node: descends through ANDs, appends every other node to out. */
static void conjuncts(const twinn_prop *p, size_t node, size_t *out, size_t *n) {
  const twinn_bool *b = &p->nodes[node];
  size_t k;
  if (b->kind != TWINN_BOOL_AND) {
    out[(*n)++] = node;
    return;
  }
  for (k = 0; k < b->n_kids; k++) conjuncts(p, p->kids[b->first_kid + k], out, n);
}

/* Meets the box of dimensions (lo, hi) with face l. The quotient is exact for a coefficient of
 * +-1 and rounded outward otherwise (as twinn_space does), so the box contains the region. */
static twinn_status apply_face(const twinn_prop *p, const twinn_space *sp, const twinn_lin *l,
                               double *lo, double *hi, twinn_error *err) {
  double a = p->term_coef[l->first], q = -l->c0 / a, ql = q, qh = q;
  size_t d = sp->dim_of[p->term_var[l->first]];
  if (isnan(q))
    return twinn_error_set(err, TWINN_ERR_SEMANTIC, p->path, l->line, l->col,
                           "bound: an input bound is NaN");
  if (a != 1.0 && a != -1.0) {
    ql = nextafter(q, -INFINITY);
    qh = nextafter(q, INFINITY);
  }
  if ((l->cmp == TWINN_CMP_EQ || a > 0) && qh < hi[d]) hi[d] = qh; /* a x + c0 <= 0 */
  if ((l->cmp == TWINN_CMP_EQ || a < 0) && ql > lo[d]) lo[d] = ql;
  return TWINN_OK;
}

/* Applies the input faces among the conjuncts nodes[0..n) to the box (lo, hi). */
static twinn_status apply_faces(const twinn_prop *p, const twinn_space *sp, const size_t *nodes,
                                size_t n, double *lo, double *hi, twinn_error *err) {
  size_t k;
  twinn_status st = TWINN_OK;
  for (k = 0; k < n && st == TWINN_OK; k++) {
    const twinn_bool *b = &p->nodes[nodes[k]];
    if (b->kind == TWINN_BOOL_LIN && is_face(p, &p->lins[b->lin]))
      st = apply_face(p, sp, &p->lins[b->lin], lo, hi, err);
  }
  return st;
}

/* Checks the shape of the input constraints: at the top level (through ANDs) only faces, ties
 * and at most one disjunction whose disjuncts hold only faces over the inputs (constraints
 * without inputs, the output constraints, are ignored). Sets *or_node (SIZE_MAX: none). */
static twinn_status check_shape(const twinn_prop *p, size_t *top, size_t n_top, size_t *sub,
                                size_t *or_node, twinn_error *err) {
  size_t k, d, j, n_sub;
  *or_node = SIZE_MAX;
  for (k = 0; k < n_top; k++) {
    const twinn_bool *b = &p->nodes[top[k]];
    if (!mentions_input(p, top[k])) continue;
    if (b->kind == TWINN_BOOL_LIN) {
      const twinn_lin *l = &p->lins[b->lin];
      if (!is_face(p, l) && !is_tie(p, l))
        return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, p->path, l->line, l->col,
                               "bound: the region must be a box or a disjunction of boxes: only "
                               "non-strict bounds of one input and equalities of two inputs "
                               "are accepted");
      continue;
    }
    if (*or_node != SIZE_MAX)
      return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, p->path, 0, 0,
                             "bound: the region must be a box or a disjunction of boxes: a "
                             "second disjunction constrains the inputs");
    *or_node = top[k];
    for (d = 0; d < b->n_kids; d++) {
      n_sub = 0;
      conjuncts(p, p->kids[b->first_kid + d], sub, &n_sub);
      for (j = 0; j < n_sub; j++) {
        const twinn_bool *c = &p->nodes[sub[j]];
        if (!mentions_input(p, sub[j])) continue;
        if (c->kind != TWINN_BOOL_LIN)
          return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, p->path, 0, 0,
                                 "bound: the region must be a box or a disjunction of boxes: "
                                 "disjunct %zu holds a nested disjunction over the inputs",
                                 d);
        if (!is_face(p, &p->lins[c->lin]))
          return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, p->path, p->lins[c->lin].line,
                                 p->lins[c->lin].col,
                                 "bound: the region must be a box or a disjunction of boxes: "
                                 "disjunct %zu is not a box (only non-strict bounds of one "
                                 "input are accepted in a disjunct)",
                                 d);
      }
    }
  }
  return TWINN_OK;
}

/* Copies box (dimension bounds dl, dh) into r as box r->n_boxes if it is not empty; else 0. A
 * dimension of f's inputs must be finite. */
static twinn_status add_box(const twinn_prop *p, const twinn_space *sp, const twinn_var *vf,
                            const double *dl, const double *dh, size_t disjunct, bound_region *r,
                            int *added, twinn_error *err) {
  size_t i, n = vf->n, k = r->n_boxes;
  *added = 0;
  for (i = 0; i < sp->n_free; i++)
    if (dl[i] > dh[i]) return TWINN_OK;
  for (i = 0; i < n; i++) {
    size_t d = sp->dim_of[vf->offset + i];
    if (!isfinite(dl[d]) || !isfinite(dh[d])) {
      char name[128];
      twinn_space_scalar_name(p, vf->offset + i, name, sizeof name);
      if (disjunct == SIZE_MAX)
        return twinn_error_set(err, TWINN_ERR_SEMANTIC, p->path, 0, 0,
                               "bound: input %s is unbounded", name);
      return twinn_error_set(err, TWINN_ERR_SEMANTIC, p->path, 0, 0,
                             "bound: input %s is unbounded in disjunct %zu", name, disjunct);
    }
    r->lo[k * n + i] = dl[d];
    r->hi[k * n + i] = dh[d];
  }
  r->disjunct[k] = disjunct;
  r->n_boxes++;
  *added = 1;
  return TWINN_OK;
}

/* The region of f's inputs described by the query: f's input variable is network 0's; a second
 * network's input must be tied to it element by element. A disjunct that is empty once the
 * bounds outside the disjunction apply is skipped with a note on stderr. */
static twinn_status region_from_query(const char *path, const twinn_net *f, bound_region *r,
                                      twinn_error *err) {
  twinn_prop *p = NULL;
  twinn_space sp;
  const twinn_var *vf, *vg = NULL;
  size_t *top = NULL, *sub = NULL, n_top = 0, n_sub, i, j, or_node, n_cases, nf;
  double *bl = NULL, *bh = NULL, *dl = NULL, *dh = NULL;
  int have_sp = 0, added;
  twinn_status st;
  memset(&sp, 0, sizeof sp);
  memset(r, 0, sizeof *r);
  if ((st = twinn_vnnlib_parse_file(path, &p, err)) != TWINN_OK) return st;
  vf = twinn_prop_net_var(p, 0, TWINN_VAR_INPUT);
  if (p->n_nets > 1) vg = twinn_prop_net_var(p, 1, TWINN_VAR_INPUT);
  if (!vf || twinn_prop_net_count(p, 0, TWINN_VAR_INPUT) != 1 || vf->n != f->n_in ||
      (vg && vg->n != vf->n)) {
    st = twinn_error_set(err, TWINN_ERR_SEMANTIC, path, 0, 0,
                         "bound: the first network's input must be one variable of %zu elements",
                         f->n_in);
    goto done;
  }
  top = twinn_mallocarray(p->n_nodes + 1, sizeof *top);
  sub = twinn_mallocarray(p->n_nodes + 1, sizeof *sub);
  if (!top || !sub) goto nomem;
  conjuncts(p, p->root, top, &n_top);
  if ((st = check_shape(p, top, n_top, sub, &or_node, err)) != TWINN_OK) goto done;
  /* Only the tie classes (dim_of) are used: the boxes are built here, exactly. */
  if ((st = twinn_space_build(&sp, p, err)) != TWINN_OK) goto done;
  have_sp = 1;
  for (i = 0; i < vf->n; i++) {
    size_t d = sp.dim_of[vf->offset + i];
    /* Two f inputs tied together would make the region a slice of the box. */
    for (j = 0; j < i; j++)
      if (sp.dim_of[vf->offset + j] == d) {
        st = twinn_error_set(err, TWINN_ERR_UNSUPPORTED, path, 0, 0,
                             "bound: inputs %zu and %zu of f are tied: not a box", j, i);
        goto done;
      }
    if (vg && sp.dim_of[vg->offset + i] != d) {
      st = twinn_error_set(err, TWINN_ERR_UNSUPPORTED, path, 0, 0,
                           "bound: input %zu of the second network is not tied to f's", i);
      goto done;
    }
  }
  nf = sp.n_free;
  n_cases = or_node == SIZE_MAX ? 1 : p->nodes[or_node].n_kids;
  bl = twinn_mallocarray(nf + 1, sizeof *bl);
  bh = twinn_mallocarray(nf + 1, sizeof *bh);
  dl = twinn_mallocarray(nf + 1, sizeof *dl);
  dh = twinn_mallocarray(nf + 1, sizeof *dh);
  r->lo = twinn_mallocarray(n_cases * vf->n + 1, sizeof *r->lo);
  r->hi = twinn_mallocarray(n_cases * vf->n + 1, sizeof *r->hi);
  r->disjunct = twinn_mallocarray(n_cases + 1, sizeof *r->disjunct);
  if (!bl || !bh || !dl || !dh || !r->lo || !r->hi || !r->disjunct) goto nomem;
  for (i = 0; i < nf; i++) {
    bl[i] = -INFINITY;
    bh[i] = INFINITY;
  }
  /* The box outside the disjunction; each disjunct's box is met with it. */
  if ((st = apply_faces(p, &sp, top, n_top, bl, bh, err)) != TWINN_OK) goto done;
  if (or_node == SIZE_MAX) {
    if ((st = add_box(p, &sp, vf, bl, bh, SIZE_MAX, r, &added, err)) != TWINN_OK) goto done;
    if (!added) {
      st = twinn_error_set(err, TWINN_ERR_SEMANTIC, path, 0, 0,
                           "bound: the region is empty: the input bounds contradict each other");
      goto done;
    }
    goto done;
  }
  for (j = 0; j < n_cases; j++) {
    n_sub = 0;
    conjuncts(p, p->kids[p->nodes[or_node].first_kid + j], sub, &n_sub);
    memcpy(dl, bl, nf * sizeof *dl);
    memcpy(dh, bh, nf * sizeof *dh);
    if ((st = apply_faces(p, &sp, sub, n_sub, dl, dh, err)) != TWINN_OK) goto done;
    if ((st = add_box(p, &sp, vf, dl, dh, j, r, &added, err)) != TWINN_OK) goto done;
    if (!added)
      fprintf(stderr,
              "twinn: bound: note: %s: disjunct %zu of the input disjunction is empty once the "
              "other input bounds apply: skipped\n",
              path, j);
  }
  if (r->n_boxes == 0)
    st = twinn_error_set(err, TWINN_ERR_SEMANTIC, path, 0, 0,
                         "bound: the region is empty: every disjunct of the input disjunction "
                         "is empty");
  goto done;
nomem:
  st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
done:
  if (st != TWINN_OK) region_release(r);
  if (have_sp) twinn_space_release(&sp);
  twinn_free(top);
  twinn_free(sub);
  twinn_free(bl);
  twinn_free(bh);
  twinn_free(dl);
  twinn_free(dh);
  twinn_prop_free(p);
  return st;
}

typedef struct {
  int enabled, on_screen;
} progress_state;

static void on_progress(void *ctx, const twinn_quant_progress *p) {
  progress_state *ps = ctx;
  if (!ps->enabled || p->elapsed < 1.0) return;
  fprintf(stderr, "\r\033[K%7.1fs  branches %lu  %s: [%.6g, %.6g]  gap %.2g", p->elapsed,
          p->branches, p->target, p->lower, p->upper, p->upper - p->lower);
  fflush(stderr);
  ps->on_screen = 1;
}

static void print_point(const double *x, size_t n) {
  size_t i, shown = n > 8 ? 8 : n;
  printf("[");
  for (i = 0; i < shown; i++) printf("%s%.9g", i ? ", " : "", x[i]);
  if (shown < n) printf(", ... (%zu inputs; --json has all)", n);
  printf("]");
}

/* The first line of the table: how many boxes and where they come from. */
static void print_region(const bound_region *r, const char *source) {
  size_t k, shown = r->n_boxes > 16 ? 16 : r->n_boxes;
  if (r->n_boxes == 1) {
    printf("region: 1 box (%s)\n", source);
    return;
  }
  printf("region: %zu boxes (%s), box k = disjunct [", r->n_boxes, source);
  for (k = 0; k < shown; k++) printf("%s%zu", k ? ", " : "", r->disjunct[k]);
  printf("%s] of the input disjunction\n", shown < r->n_boxes ? ", ..." : "");
}

/* How twins that are not isomorphic were bounded together (nothing for an isomorphic pair). */
static void print_pairing(twinn_pairing p, size_t matched) {
  if (p == TWINN_PAIRING_ALIGNED)
    printf("pairing: twins of different widths aligned (%zu hidden neurons of g matched to f's); "
           "g - f bounded directly\n",
           matched);
  else if (p == TWINN_PAIRING_PRODUCT)
    printf("pairing: not isomorphic; bounded through the product network\n");
}

/* With several boxes a `box` column says which box holds each attained point. */
static void print_diff(const twinn_quant_diff *r, const bound_region *reg, const size_t *out_box,
                       const twinn_report_threshold *tries, size_t n_tries) {
  size_t i;
  int many = reg->n_boxes > 1;
  printf("%-8s %-24s %-24s %-10s %s\n", "output", "lower (attained)", "upper (proved)", "gap",
         many ? "status  box" : "status");
  for (i = 0; i < r->n_out; i++) {
    const twinn_quant_bound *b = &r->out[i];
    printf("%-8zu %-24.9g %-24.9g %-10.2g ", i, b->lower, b->upper, b->upper - b->lower);
    if (many)
      printf("%-6s  %zu\n", b->closed ? "closed" : "open", out_box[i]);
    else
      printf("%s\n", b->closed ? "closed" : "open");
  }
  printf("%-8s %-24.9g %-24.9g %-10.2g %s\n", "L-inf", r->linf_lower, r->linf_upper,
         r->linf_upper - r->linf_lower, r->linf_closed ? "closed" : "open");
  printf("L-inf lower attained at output %zu", r->linf_arg);
  if (many) printf(" in box %zu", out_box[r->linf_arg]);
  printf(", x = ");
  print_point(r->out[r->linf_arg].point, r->n_in);
  printf("\n%lu branch-and-bound boxes; %.2f s in all\n", r->branches, r->seconds);
  /* The verifier's tries, one line per interval asked about. */
  for (size_t k = 0; k < n_tries; k++) {
    int first = k == 0 || tries[k].output != tries[k - 1].output;
    int last = k + 1 == n_tries || tries[k + 1].output != tries[k].output;
    if (first && tries[k].output == SIZE_MAX)
      printf("the verifier on max_i |g_i - f_i| <= t:");
    else if (first)
      printf("the verifier on |g_%zu - f_%zu| <= t:", tries[k].output, tries[k].output);
    printf("%s t = %.6g %s (%.1f s, %lu branches", first ? "" : ",", tries[k].threshold,
           tries[k].verdict, tries[k].seconds, tries[k].branches);
    if (isfinite(tries[k].bound)) printf(", <= %.6g certified", tries[k].bound);
    printf(")%s", last ? "\n" : "");
  }
}

static void print_margin(const twinn_quant_margin *r, const bound_region *reg,
                         const twinn_quant_margin_boxes *mb) {
  static const char *const top1[] = {"unknown", "agree (proved)", "disagree (witness)"};
  int many = reg->n_boxes > 1;
  printf("class %zu (%s); margin m = %s\n", r->cls, r->argmin ? "argmin" : "argmax",
         r->argmin ? "min_{j!=c} y_j - y_c" : "y_c - max_{j!=c} y_j");
  printf("m_g - m_f over the region: proved in [%.9g, %.9g], attained [%.9g, %.9g]", -r->dmin.upper,
         r->dmax.upper, -r->dmin.lower, r->dmax.lower);
  if (many) printf(" (in boxes %zu and %zu)", mb->dmin, mb->dmax);
  printf("\nmin m_f: proved >= %.9g, attained %.9g", 0.0 - r->fneg.upper, -r->fneg.lower);
  if (many) printf(" (in box %zu)", mb->fneg);
  printf("\nmin m_g: proved >= %.9g, attained %.9g", 0.0 - r->gneg.upper, -r->gneg.lower);
  if (many) printf(" (in box %zu)", mb->gneg);
  printf("\ntop-1: %s%s\n", top1[r->top1],
         many && r->top1 == TWINN_TOP1_AGREE ? " in every box" : "");
  if (r->witness) {
    printf("witness: f decides %zu, g decides %zu at x = ", r->witness_f, r->witness_g);
    print_point(r->witness, r->n_in);
    if (many) printf(" (in box %zu)", mb->witness);
    printf("\n");
  }
  printf("%lu branch-and-bound boxes in %.2f s%s\n", r->branches, r->seconds,
         r->timed_out ? " (stopped by --timeout before every gap closed)" : "");
}

/* Draws the plot into out (opened at the start, see cli_run_bound) and closes it. */
static twinn_status write_plot(FILE *out, const char *path, int margin, const twinn_quant_diff *d,
                               const twinn_quant_margin *m, twinn_error *err) {
  twinn_status st = TWINN_OK;
  char labels_buf[64][16];
  const char *labels[64];
  double lo[64], hi[64], val[64];
  size_t i, n = 0;
  if (!margin) {
    for (i = 0; i < d->n_out && n < 63; i++, n++) {
      snprintf(labels_buf[n], sizeof labels_buf[n], "y%zu", i);
      labels[n] = labels_buf[n];
      lo[n] = d->out[i].lower;
      hi[n] = d->out[i].upper;
      val[n] = d->out[i].value;
    }
    labels[n] = "L-inf";
    lo[n] = d->linf_lower;
    hi[n] = d->linf_upper;
    val[n] = d->out[d->linf_arg].value;
    n++;
    st = twinn_svg_write_intervals(out, "max |g_i - f_i| over the region", n, labels, lo, hi, val,
                                   err);
  } else {
    const twinn_quant_bound *b[4] = {&m->dmax, &m->dmin, &m->fneg, &m->gneg};
    static const char *const names[4] = {"m_g-m_f", "m_f-m_g", "-m_f", "-m_g"};
    for (n = 0; n < 4; n++) {
      labels[n] = names[n];
      lo[n] = b[n]->lower;
      hi[n] = b[n]->upper;
      val[n] = b[n]->value;
    }
    st = twinn_svg_write_intervals(out, "max over the region of each margin quantity", n, labels,
                                   lo, hi, val, err);
  }
  if (fclose(out) != 0 && st == TWINN_OK)
    st = twinn_error_set(err, TWINN_ERR_IO, path, 0, 0, "cannot write the plot");
  return st;
}

/* The region of --box: one box. */
static twinn_status region_from_box(const char *s, size_t n, bound_region *r, twinn_error *err) {
  twinn_status st;
  memset(r, 0, sizeof *r);
  r->lo = twinn_mallocarray(n, sizeof *r->lo);
  r->hi = twinn_mallocarray(n, sizeof *r->hi);
  r->disjunct = twinn_mallocarray(1, sizeof *r->disjunct);
  if (!r->lo || !r->hi || !r->disjunct) {
    region_release(r);
    return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  if ((st = parse_box(s, n, r->lo, r->hi, err)) != TWINN_OK) {
    region_release(r);
    return st;
  }
  r->n_boxes = 1;
  r->disjunct[0] = SIZE_MAX;
  return TWINN_OK;
}

int cli_run_bound(int argc, char **argv) {
  bound_args a;
  twinn_error err;
  twinn_net *f = NULL, *g = NULL;
  double *lo = NULL, *hi = NULL, *centre = NULL;
  size_t *out_box = NULL, point_box[5];
  bound_region reg;
  twinn_quant_options opt;
  twinn_quant_diff d;
  twinn_quant_margin m;
  twinn_quant_margin_boxes mb;
  twinn_report_threshold *tries = NULL;
  twinn_roots *roots = NULL;
  twinn_report_bound_ctx ctx;
  progress_state ps = {0, 0};
  int rc, have_d = 0, have_m = 0, aligned = 0;
  size_t matched = 0;
  twinn_verdict top1_verdict = TWINN_VERDICT_UNKNOWN;
  size_t i, k, n;
  twinn_status st;
  FILE *plot = NULL;
  memset(&a, 0, sizeof a);
  memset(&reg, 0, sizeof reg);
  memset(&ctx, 0, sizeof ctx);
  a.gap = 1e-3;
  a.seed = 1;
  twinn_error_clear(&err);
  if ((rc = parse(argc, argv, &a)) >= 0) return rc;
  /* Created first: a --plot path that cannot be written fails before the analysis. */
  if (a.plot && !(plot = fopen(a.plot, "w"))) {
    st = twinn_error_set(&err, TWINN_ERR_IO, a.plot, 0, 0, "cannot create: %s", strerror(errno));
    goto fail;
  }
  if ((st = twinn_onnx_load_file(a.net_paths[0], &f, &err)) != TWINN_OK) goto fail;
  if ((st = twinn_onnx_load_file(a.net_paths[1], &g, &err)) != TWINN_OK) goto fail;
  if (f->n_in != g->n_in || f->n_out != g->n_out) {
    st = twinn_error_set(&err, TWINN_ERR_SEMANTIC, a.net_paths[1], 0, 0,
                         "bound: %zu inputs and %zu outputs, but %s has %zu and %zu (the twins "
                         "must read the same inputs and give the same outputs)",
                         g->n_in, g->n_out, a.net_paths[0], f->n_in, f->n_out);
    goto fail;
  }
  n = f->n_in;
  lo = twinn_mallocarray(n, sizeof *lo);
  hi = twinn_mallocarray(n, sizeof *hi);
  centre = twinn_mallocarray(n, sizeof *centre);
  out_box = twinn_mallocarray(f->n_out ? f->n_out : 1, sizeof *out_box);
  if (!lo || !hi || !centre || !out_box) {
    st = twinn_error_set(&err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
    goto fail;
  }
  st = a.box ? region_from_box(a.box, n, &reg, &err) : region_from_query(a.region, f, &reg, &err);
  if (st != TWINN_OK) goto fail;
  /* The JSON's region lo/hi: the hull of the boxes (the box itself when there is one). */
  for (i = 0; i < n; i++) {
    lo[i] = reg.lo[i];
    hi[i] = reg.hi[i];
    for (k = 1; k < reg.n_boxes; k++) {
      lo[i] = fmin(lo[i], reg.lo[k * n + i]);
      hi[i] = fmax(hi[i], reg.hi[k * n + i]);
    }
  }
  /* Twins of different widths that share most neurons are aligned once, here (align.h; the
   * analysis would do it too), where that bounds them better than the product network over
   * the region's hull, so that the bisection and every verifier question see the same
   * isomorphic pair and share the root bounds they keep by network. Others are bounded
   * through the product network. */
  if (!twinn_net_isomorphic(f, g)) {
    twinn_net *fa, *ga;
    st = twinn_net_align_for(f, g, lo, hi, &fa, &ga, &matched, &err);
    if (st == TWINN_OK) {
      twinn_net_free(f);
      twinn_net_free(g);
      f = fa;
      g = ga;
      aligned = 1;
    } else if (st != TWINN_ERR_UNSUPPORTED) {
      goto fail;
    }
    st = TWINN_OK;
  }
  twinn_quant_options_init(&opt);
  opt.gap = a.gap;
  opt.timeout = a.timeout;
  opt.seed = a.seed;
  opt.threads = (int)a.threads;
  ps.enabled = !a.quiet && isatty(2);
  opt.progress = on_progress;
  opt.progress_ctx = &ps;
  ctx.f_path = a.net_paths[0];
  ctx.g_path = a.net_paths[1];
  ctx.region_source = a.box ? "--box" : a.region;
  ctx.lo = lo;
  ctx.hi = hi;
  ctx.opt = &opt;
  ctx.n_boxes = reg.n_boxes;
  ctx.box_lo = reg.lo;
  ctx.box_hi = reg.hi;
  ctx.box_disjunct = reg.disjunct[0] == SIZE_MAX ? NULL : reg.disjunct;
  if (a.margin) {
    if (!a.has_class) {
      /* One class for the whole region: f's decision at the centre of the first box. */
      for (i = 0; i < n; i++) centre[i] = reg.lo[i] + (reg.hi[i] - reg.lo[i]) / 2;
      a.cls = twinn_quant_decide(f, centre, a.argmin);
    }
    if (a.cls >= f->n_out) {
      st = twinn_error_set(&err, TWINN_ERR_USAGE, NULL, 0, 0,
                           "--class %lu: the networks have %zu outputs", a.cls, f->n_out);
      goto fail;
    }
    /* Top-1 first, by the verifier, with at most half of the time (60 s without a limit):
     * the margin bounds bisect inputs, which cannot prove agreement on MNIST-sized inputs. */
    {
      double t0 = cli_now(), budget = a.timeout > 0 ? 0.5 * a.timeout : 60.0;
      top1_verdict = cli_bound_top1(&reg, f, g, a.cls, a.argmin, a.seed, (int)a.threads, budget);
      if (a.timeout > 0) opt.timeout = fmax(0.001, a.timeout - (cli_now() - t0));
    }
    st = twinn_quant_union_margin_bounds(f, g, reg.n_boxes, reg.lo, reg.hi, a.cls, a.argmin, &opt,
                                         &m, &mb, &err);
    have_m = st == TWINN_OK;
    /* Unsat: no point of the region where f or g decides another class. */
    if (have_m && top1_verdict == TWINN_VERDICT_UNSAT && m.top1 == TWINN_TOP1_UNKNOWN) {
      m.top1 = TWINN_TOP1_AGREE;
      /* Then m_f >= 0 and m_g >= 0 everywhere: max(-m) <= 0 is proved too. */
      m.fneg.upper = fmin(m.fneg.upper, 0.0);
      m.gneg.upper = fmin(m.gneg.upper, 0.0);
    }
    point_box[0] = mb.dmax;
    point_box[1] = mb.dmin;
    point_box[2] = mb.fneg;
    point_box[3] = mb.gneg;
    point_box[4] = mb.witness;
    ctx.point_box = point_box;
  } else {
    /* Many inputs: bisection gets a fifth of the time (its ascents find the attained lower
     * ends early, its upper ends hardly move; 12 s without --timeout, where it would never
     * end on MNIST), the verifier's thresholds the rest. */
    double t0 = cli_now();
    int thresholds = n > CLI_BOUND_VERIFY_DIMS;
    /* The root bounds the bisection optimises serve every question to the verifier. */
    if (thresholds && !(opt.roots = roots = twinn_roots_new())) {
      st = twinn_error_set(&err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
      goto fail;
    }
    if (thresholds) opt.timeout = 0.2 * (a.timeout > 0 ? a.timeout : 60.0);
    st = twinn_quant_union_diff_bounds(f, g, reg.n_boxes, reg.lo, reg.hi, &opt, &d, out_box, &err);
    have_d = st == TWINN_OK;
    opt.timeout = a.timeout;
    if (have_d && thresholds) {
      st = cli_bound_linf(&d, out_box, &reg, f, g, &opt, t0, a.timeout > 0 ? t0 + a.timeout : 0,
                          &tries, &ctx.n_thresholds, &err);
      ctx.thresholds = tries;
      d.seconds = cli_now() - t0;
    }
    ctx.point_box = out_box;
  }
  if (ps.on_screen) fputs("\r\033[K", stderr);
  if (st != TWINN_OK) goto fail;
  if (aligned && have_d) d.pairing = TWINN_PAIRING_ALIGNED, d.matched = matched;
  if (aligned && have_m) m.pairing = TWINN_PAIRING_ALIGNED, m.matched = matched;
  if (a.json) {
    st = a.margin ? twinn_report_write_margin(stdout, &ctx, &m, &err)
                  : twinn_report_write_diff(stdout, &ctx, &d, &err);
  } else {
    print_region(&reg, ctx.region_source);
    print_pairing(a.margin ? m.pairing : d.pairing, a.margin ? m.matched : d.matched);
    if (a.margin)
      print_margin(&m, &reg, &mb);
    else
      print_diff(&d, &reg, out_box, ctx.thresholds, ctx.n_thresholds);
  }
  if (st != TWINN_OK) goto fail;
  if (plot) {
    st = write_plot(plot, a.plot, a.margin, &d, &m, &err);
    plot = NULL; /* closed */
    if (st != TWINN_OK) goto fail;
  }
  rc = cli_flush_stdout(CLI_EXIT_VERDICT);
  goto done;
fail:
  fflush(stdout);
  rc = cli_report_error(&err);
done:
  if (plot) fclose(plot); /* an error before the plot: an empty file is left */
  twinn_roots_free(roots);
  if (have_d) twinn_quant_diff_release(&d);
  if (have_m) twinn_quant_margin_release(&m);
  region_release(&reg);
  twinn_free(lo);
  twinn_free(hi);
  twinn_free(centre);
  twinn_free(out_box);
  twinn_free(tries);
  twinn_net_free(f);
  twinn_net_free(g);
  return rc;
}
