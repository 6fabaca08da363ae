/* cli_bound.c: `twinn bound`: certified intervals on the output difference of a twin pair
 * (or on the change of a classifier's decision margin) over an input region given as a
 * VNN-LIB file's input box or as --box. Prints a table (or JSON with --json) and can draw an
 * SVG plot. The region must be exactly a box: input constraints other than single-variable
 * bounds and f/g ties are refused, since a lower end must be attained INSIDE the region. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "onnx_load.h"
#include "quant.h"
#include "report.h"
#include "space.h"
#include "vnnlib.h"

static const char usage_bound[] =
    "usage: twinn bound [REGION.vnnlib] --network f=F.onnx --network g=G.onnx [options]\n"
    "\n"
    "Certified bounds on max over the region of |g_i(x) - f_i(x)| for every output i, and\n"
    "their maximum (L-inf): an interval [lower, upper] per output whose lower end is\n"
    "attained at a reported point of the region (both networks evaluated there) and whose\n"
    "upper end is proved. The region is the input box of REGION (its output constraints\n"
    "are ignored) or --box.\n"
    "\n"
    "options:\n"
    "  --network NAME=PATH   the two networks, f first (names are only labels)\n"
    "  --box LO,HI,LO,HI,..  the region: one LO,HI pair per input\n"
    "  --gap G               refine an interval until upper - lower <= G * |upper|\n"
    "                        (default 1e-3)\n"
    "  --timeout S           stop refining after S seconds (the intervals stay valid)\n"
    "  --seed N              seed of the point search (default 1)\n"
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
  unsigned long seed, cls;
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
    static const char *const valued[] = {"--network", "--box", "--gap", "--timeout", "--seed",
                                         "--class", "--plot", NULL};
    for (int k = 0; valued[k]; k++)
      if (strlen(valued[k]) == klen && strncmp(arg, valued[k], klen) == 0) {
        if (eq) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        else return usage("%s needs a value", arg);
      }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(usage_bound, stdout);
      return CLI_EXIT_VERDICT;
    } else if (strncmp(arg, "--network", klen) == 0 && val) {
      const char *p = strchr(val, '=');
      if (a->n_nets == 2) return usage("exactly two --network options (f and g)%s", "");
      a->net_paths[a->n_nets++] = p ? p + 1 : val;
    } else if (strncmp(arg, "--box", klen) == 0 && val) {
      a->box = val;
    } else if (strncmp(arg, "--gap", klen) == 0 && val) {
      if (!number(val, &a->gap) || a->gap < 0) return usage("--gap %s: expected a number >= 0", val);
    } else if (strncmp(arg, "--timeout", klen) == 0 && val) {
      if (!number(val, &a->timeout) || a->timeout <= 0)
        return usage("--timeout %s: expected a positive number of seconds", val);
    } else if (strncmp(arg, "--seed", klen) == 0 && val) {
      errno = 0;
      a->seed = strtoul(val, &end, 10);
      if (!isdigit((unsigned char)val[0]) || *end || errno)
        return usage("--seed %s: expected a non-negative integer", val);
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
  if (a->n_nets != 2) return usage("needs two networks: --network f=F.onnx --network g=G.onnx%s", "");
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
    if (k % 2 == 0) lo[k / 2] = v;
    else hi[k / 2] = v;
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

/* 1 if the tree under node mentions an input scalar. */
static int mentions_input(const twinn_prop *p, size_t node) {
  const twinn_bool *b = &p->nodes[node];
  size_t t;
  if (b->kind == TWINN_BOOL_LIN) {
    const twinn_lin *l = &p->lins[b->lin];
    for (t = 0; t < l->n_terms; t++) {
      const twinn_var *v = twinn_prop_var_of(p, p->term_var[l->first + t], NULL);
      if (v && v->role == TWINN_VAR_INPUT) return 1;
    }
    return 0;
  }
  for (t = 0; t < b->n_kids; t++)
    if (mentions_input(p, p->kids[b->first_kid + t])) return 1;
  return 0;
}

/* Checks that the input constraints of prop are a box (non-strict single-variable bounds and
 * equalities between two inputs) at the top level. */
static twinn_status check_box_only(const twinn_prop *p, twinn_error *err) {
  const twinn_bool *root = &p->nodes[p->root];
  size_t k;
  for (k = 0; k < root->n_kids; k++) {
    size_t node = p->kids[root->first_kid + k];
    const twinn_bool *b = &p->nodes[node];
    const twinn_lin *l;
    if (!mentions_input(p, node)) continue;
    if (b->kind != TWINN_BOOL_LIN)
      return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, p->path, 0, 0,
                             "bound: the region must be a box: a disjunction or nested formula "
                             "constrains the inputs");
    l = &p->lins[b->lin];
    if (l->nonlinear || l->cmp == TWINN_CMP_NE || l->cmp == TWINN_CMP_LT ||
        (l->n_terms != 1 && !(l->n_terms == 2 && l->cmp == TWINN_CMP_EQ && l->c0 == 0 &&
                              p->term_coef[l->first] == -p->term_coef[l->first + 1])) ||
        (l->n_terms == 2 && (!mentions_input(p, node) ||
                             twinn_prop_var_of(p, p->term_var[l->first], NULL)->role !=
                                 TWINN_VAR_INPUT ||
                             twinn_prop_var_of(p, p->term_var[l->first + 1], NULL)->role !=
                                 TWINN_VAR_INPUT)))
      return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, p->path, l->line, l->col,
                             "bound: the region must be a box: only non-strict bounds of one "
                             "input and equalities of two inputs are accepted");
  }
  return TWINN_OK;
}

/* The box of f's inputs described by the query: f's input variable is network 0's; a second
 * network's input must be tied to it element by element. */
static twinn_status region_from_query(const char *path, const twinn_net *f, double *lo,
                                      double *hi, twinn_error *err) {
  twinn_prop *p = NULL;
  twinn_space sp;
  const twinn_var *vf, *vg = NULL;
  size_t i, j;
  int have_sp = 0;
  twinn_status st;
  memset(&sp, 0, sizeof sp);
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
  if ((st = check_box_only(p, err)) != TWINN_OK) goto done;
  if ((st = twinn_space_build(&sp, p, err)) != TWINN_OK) goto done;
  have_sp = 1;
  if (sp.kind != TWINN_SPACE_BOXED || sp.n_cases != 1) {
    st = twinn_error_set(err, TWINN_ERR_SEMANTIC, path, 0, 0, "bound: the region is not one box: %s",
                         sp.kind == TWINN_SPACE_BOXED ? "several cases" : sp.reason);
    goto done;
  }
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
    lo[i] = sp.lo[d];
    hi[i] = sp.hi[d];
  }
done:
  if (have_sp) twinn_space_release(&sp);
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

static void print_diff(const twinn_quant_diff *r) {
  size_t i;
  printf("%-8s %-24s %-24s %-10s %s\n", "output", "lower (attained)", "upper (proved)", "gap",
         "status");
  for (i = 0; i < r->n_out; i++) {
    const twinn_quant_bound *b = &r->out[i];
    printf("%-8zu %-24.9g %-24.9g %-10.2g %s\n", i, b->lower, b->upper, b->upper - b->lower,
           b->closed ? "closed" : "open");
  }
  printf("%-8s %-24.9g %-24.9g %-10.2g %s\n", "L-inf", r->linf_lower, r->linf_upper,
         r->linf_upper - r->linf_lower, r->timed_out ? "open" : "closed");
  printf("L-inf lower attained at output %zu, x = ", r->linf_arg);
  print_point(r->out[r->linf_arg].point, r->n_in);
  printf("\n%lu boxes in %.2f s\n", r->branches, r->seconds);
}

static void print_margin(const twinn_quant_margin *r) {
  static const char *const top1[] = {"unknown", "agree (proved)", "disagree (witness)"};
  printf("class %zu (%s); margin m = %s\n", r->cls, r->argmin ? "argmin" : "argmax",
         r->argmin ? "min_{j!=c} y_j - y_c" : "y_c - max_{j!=c} y_j");
  printf("m_g - m_f over the region: proved in [%.9g, %.9g], attained [%.9g, %.9g]\n",
         -r->dmin.upper, r->dmax.upper, -r->dmin.lower, r->dmax.lower);
  printf("min m_f: proved >= %.9g, attained %.9g\n", -r->fneg.upper, -r->fneg.lower);
  printf("min m_g: proved >= %.9g, attained %.9g\n", -r->gneg.upper, -r->gneg.lower);
  printf("top-1: %s\n", top1[r->top1]);
  if (r->witness) {
    printf("witness: f decides %zu, g decides %zu at x = ", r->witness_f, r->witness_g);
    print_point(r->witness, r->n_in);
    printf("\n");
  }
  printf("%lu boxes in %.2f s%s\n", r->branches, r->seconds,
         r->timed_out ? " (stopped by --timeout before every gap closed)" : "");
}

static twinn_status write_plot(const char *path, int margin, const twinn_quant_diff *d,
                               const twinn_quant_margin *m, twinn_error *err) {
  FILE *out = fopen(path, "w");
  twinn_status st = TWINN_OK;
  char labels_buf[64][16];
  const char *labels[64];
  double lo[64], hi[64], val[64];
  size_t i, n = 0;
  if (!out) return twinn_error_set(err, TWINN_ERR_IO, path, 0, 0, "cannot create: %s", strerror(errno));
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

int cli_run_bound(int argc, char **argv) {
  bound_args a;
  twinn_error err;
  twinn_net *f = NULL, *g = NULL;
  double *lo = NULL, *hi = NULL, *centre = NULL;
  twinn_quant_options opt;
  twinn_quant_diff d;
  twinn_quant_margin m;
  twinn_report_bound_ctx ctx;
  progress_state ps = {0, 0};
  int rc, have_d = 0, have_m = 0;
  size_t i;
  twinn_status st;
  memset(&a, 0, sizeof a);
  a.gap = 1e-3;
  a.seed = 1;
  twinn_error_clear(&err);
  if ((rc = parse(argc, argv, &a)) >= 0) return rc;
  if ((st = twinn_onnx_load_file(a.net_paths[0], &f, &err)) != TWINN_OK) goto fail;
  if ((st = twinn_onnx_load_file(a.net_paths[1], &g, &err)) != TWINN_OK) goto fail;
  if (!twinn_net_isomorphic(f, g)) {
    st = twinn_error_set(&err, TWINN_ERR_SEMANTIC, a.net_paths[1], 0, 0,
                         "bound: not isomorphic to %s (same layers and sizes needed)",
                         a.net_paths[0]);
    goto fail;
  }
  lo = twinn_mallocarray(f->n_in, sizeof *lo);
  hi = twinn_mallocarray(f->n_in, sizeof *hi);
  centre = twinn_mallocarray(f->n_in, sizeof *centre);
  if (!lo || !hi || !centre) {
    st = twinn_error_set(&err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
    goto fail;
  }
  st = a.box ? parse_box(a.box, f->n_in, lo, hi, &err)
             : region_from_query(a.region, f, lo, hi, &err);
  if (st != TWINN_OK) goto fail;
  twinn_quant_options_init(&opt);
  opt.gap = a.gap;
  opt.timeout = a.timeout;
  opt.seed = a.seed;
  ps.enabled = !a.quiet && isatty(2);
  opt.progress = on_progress;
  opt.progress_ctx = &ps;
  ctx.f_path = a.net_paths[0];
  ctx.g_path = a.net_paths[1];
  ctx.region_source = a.box ? "--box" : a.region;
  ctx.lo = lo;
  ctx.hi = hi;
  ctx.opt = &opt;
  if (a.margin) {
    if (!a.has_class) {
      for (i = 0; i < f->n_in; i++) centre[i] = lo[i] + (hi[i] - lo[i]) / 2;
      a.cls = twinn_quant_decide(f, centre, a.argmin);
    }
    if (a.cls >= f->n_out) {
      st = twinn_error_set(&err, TWINN_ERR_USAGE, NULL, 0, 0, "--class %lu: the networks have %zu outputs",
                           a.cls, f->n_out);
      goto fail;
    }
    st = twinn_quant_margin_bounds(f, g, lo, hi, a.cls, a.argmin, &opt, &m, &err);
    have_m = st == TWINN_OK;
  } else {
    st = twinn_quant_diff_bounds(f, g, lo, hi, &opt, &d, &err);
    have_d = st == TWINN_OK;
  }
  if (ps.on_screen) fputs("\r\033[K", stderr);
  if (st != TWINN_OK) goto fail;
  if (a.json)
    st = a.margin ? twinn_report_write_margin(stdout, &ctx, &m, &err)
                  : twinn_report_write_diff(stdout, &ctx, &d, &err);
  else if (a.margin)
    print_margin(&m);
  else
    print_diff(&d);
  if (st != TWINN_OK) goto fail;
  if (a.plot && (st = write_plot(a.plot, a.margin, &d, &m, &err)) != TWINN_OK) goto fail;
  rc = fflush(stdout) == 0 ? CLI_EXIT_VERDICT : CLI_EXIT_INTERNAL;
  goto done;
fail:
  fflush(stdout);
  rc = cli_report_error(&err);
done:
  if (have_d) twinn_quant_diff_release(&d);
  if (have_m) twinn_quant_margin_release(&m);
  twinn_free(lo);
  twinn_free(hi);
  twinn_free(centre);
  twinn_net_free(f);
  twinn_net_free(g);
  return rc;
}
