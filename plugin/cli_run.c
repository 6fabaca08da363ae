/* cli_run.c: `twinn verify` and `twinn replay`: load the query and the networks, bind them,
 * then verify (printing the verdict and witness) or re-check a witness. The --timeout promise
 * is kept twice: the remaining time goes to the engine, and a POSIX timer armed at start
 * answers `timed-out` from a signal handler at timeout + 0.5 s, even inside a parse. The
 * handler uses only async-signal-safe calls (write, _exit). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "onnx_load.h"
#include "report.h"
#include "twinn.h"
#include "vnnlib.h"
#include "milp.h"
#include "witness.h"

/* Set while a progress line is on stderr, so the deadline handler can clear it. */
static volatile sig_atomic_t progress_on_screen;
/* Set when print_sat printed unknown instead of sat (the witness did not re-check). */
static int sat_demoted;
/* --report: the file, created (empty) before anything else runs, and the report the deadline
 * handler writes into it if it fires (prepared beforehand: the handler may only write()). */
static int report_fd = -1;
static char *fallback_report;
static size_t fallback_len;

static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, s, n);
    if (k <= 0) return;
    s += k;
    n -= (size_t)k;
  }
}

static void on_deadline(int sig) {
  static const char clear[] = "\r\033[K";
  static const char verdict[] = "timed-out\n";
  static const char why[] = "twinn: timed out (hard deadline of --timeout reached)\n";
  (void)sig;
  if (progress_on_screen) write_all(2, clear, sizeof clear - 1);
  if (report_fd >= 0 && fallback_report) write_all(report_fd, fallback_report, fallback_len);
  write_all(1, verdict, sizeof verdict - 1);
  write_all(2, why, sizeof why - 1);
  _exit(CLI_EXIT_VERDICT);
}

/* Arms the fallback deadline at `seconds` from now. Returns 0 on success. */
static int arm_deadline(timer_t *timer, double seconds) {
  struct sigaction sa;
  struct sigevent sev;
  struct itimerspec its;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_deadline;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGALRM, &sa, NULL) != 0) return -1;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGALRM;
  if (timer_create(CLOCK_MONOTONIC, &sev, timer) != 0) return -1;
  memset(&its, 0, sizeof its);
  its.it_value.tv_sec = (time_t)seconds;
  its.it_value.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9);
  if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
  if (timer_settime(*timer, 0, &its, NULL) != 0) {
    timer_delete(*timer);
    return -1;
  }
  return 0;
}

/* OpenBLAS maps one 128 MiB work buffer per thread that calls it, lazily, and retries a
 * failed mmap forever (0.3.21 blas_memory_alloc): an rlimit that refused it would hang the run
 * instead of ending it. The limit leaves room for one buffer per core plus two. */
#define OPENBLAS_BUFFER_MIB 128.0

/* --memory-limit: the address space may grow by `mib` MiB beyond what is mapped now (the
 * executable, shared libraries and library threads exist before any input is read, and are
 * not the input's doing) plus OpenBLAS's buffers, and no single allocation may exceed `mib`
 * MiB, which refuses absurd sizes before they touch the address space. Libraries that
 * allocate outside twinn_malloc (GLPK, zlib) meet the same rlimit. Returns 0 on success. */
static int apply_memory_limit(double mib) {
  size_t bytes = (size_t)(mib * 1048576.0);
  unsigned long pages = 0;
  long page = sysconf(_SC_PAGESIZE), cores = sysconf(_SC_NPROCESSORS_ONLN);
  double blas = OPENBLAS_BUFFER_MIB * (double)((cores > 0 ? cores : 1) + 2) * 1048576.0;
  struct rlimit rl;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%lu", &pages) != 1) pages = 0;
    fclose(f);
  }
  if (getrlimit(RLIMIT_AS, &rl) != 0) return -1;
  rl.rlim_cur = (rlim_t)pages * (rlim_t)(page > 0 ? page : 4096) + (rlim_t)bytes + (rlim_t)blas;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_AS, &rl) != 0) return -1;
  twinn_alloc_set_limit(bytes);
  return 0;
}

typedef struct {
  int enabled;
  double last;
  double bound; /* the engine's last reported bound, for --report (NaN: none) */
} progress_state;

/* One status line on stderr, redrawn at most 4 times a second once a run passes 1 s. */
static void on_progress(void *ctx, const twinn_progress *p) {
  progress_state *ps = ctx;
  ps->bound = p->bound;
  if (!ps->enabled || p->elapsed < 1.0 || p->elapsed - ps->last < 0.25) return;
  ps->last = p->elapsed;
  if (isnan(p->bound))
    fprintf(stderr, "\r\033[K%7.1fs  branches %lu done, %lu open", p->elapsed, p->branches,
            p->open);
  else
    /* The bound is the worst open region's margin: > 0 there would finish the proof, so
     * -bound is how far the proof still is. */
    fprintf(stderr, "\r\033[K%7.1fs  branches %lu done, %lu open  worst margin %.3g (gap %.3g)",
            p->elapsed, p->branches, p->open, p->bound, p->bound < 0 ? -p->bound : 0.0);
  fflush(stderr);
  progress_on_screen = 1;
}

static void clear_progress(void) {
  if (!progress_on_screen) return;
  fputs("\r\033[K", stderr);
  fflush(stderr);
  progress_on_screen = 0;
}

/* Everything one run loads; released by session_release. */
typedef struct {
  twinn_prop *prop;
  twinn_net *nets[CLI_MAX_NETWORKS];
  size_t n_nets;
  twinn_problem pb;
  int bound;
  double t_parse, t_load; /* seconds, for --report */
} session;

static void session_release(session *s) {
  size_t i;
  if (s->bound) twinn_problem_release(&s->pb);
  for (i = 0; i < s->n_nets; i++) twinn_net_free(s->nets[i]);
  twinn_prop_free(s->prop);
  memset(s, 0, sizeof *s);
}

/* Parses the query, loads every network and binds them. */
static twinn_status session_load(session *s, const cli_args *a, twinn_error *err) {
  const char *names[CLI_MAX_NETWORKS];
  twinn_status st;
  size_t i;
  double t0 = cli_now();
  if ((st = twinn_vnnlib_parse_file(a->query, &s->prop, err)) != TWINN_OK) return st;
  s->t_parse = cli_now() - t0;
  if (a->verbose)
    fprintf(stderr, "twinn: parsed %s in %.3f s: %zu networks, %zu variables, %zu constraints\n",
            a->query, cli_now() - t0, s->prop->n_nets, s->prop->n_vars, s->prop->n_lins);
  for (i = 0; i < a->n_nets; i++) {
    t0 = cli_now();
    if ((st = twinn_onnx_load_file(a->net_paths[i], &s->nets[i], err)) != TWINN_OK) return st;
    s->n_nets++;
    s->t_load += cli_now() - t0;
    if (a->verbose)
      fprintf(stderr, "twinn: loaded %s in %.3f s: %zu inputs, %zu outputs, %zu layers\n",
              a->net_paths[i], cli_now() - t0, s->nets[i]->n_in, s->nets[i]->n_out,
              s->nets[i]->n_layers);
  }
  memcpy(names, a->net_names, a->n_nets * sizeof names[0]);
  /* One model without a name (VNN-COMP passes a plain path) for a 2.0 query that declares
   * exactly one network needing a model: it can only be that one. */
  if (a->n_nets == 1 && !names[0] && s->prop->version != TWINN_VNNLIB_1_0) {
    size_t k, need = 0, which = 0;
    for (k = 0; k < s->prop->n_nets; k++)
      if (s->prop->nets[k].rel != TWINN_NETREL_EQUAL) {
        need++;
        which = k;
      }
    if (need == 1) names[0] = s->prop->nets[which].name;
  }
  st =
      twinn_problem_bind(&s->pb, s->prop, s->n_nets, names, (const twinn_net *const *)s->nets, err);
  if (st != TWINN_OK) return st;
  s->bound = 1;
  /* The verdict stays about the models given, but a twin declared isomorphic that is not
   * (other layers or sizes: the wrong file, most likely) is analysed as two networks of their
   * own (aligned neuron by neuron where they share most hidden neurons, align.h). */
  for (i = 0; i < s->prop->n_nets; i++) {
    const twinn_prop_net *pn = &s->prop->nets[i];
    if (pn->rel == TWINN_NETREL_ISO && pn->rel_to < s->pb.n_nets &&
        !twinn_net_isomorphic(s->pb.nets[i], s->pb.nets[pn->rel_to]))
      fprintf(stderr,
              "twinn: warning: network '%s' is declared isomorphic-to '%s' but the models "
              "differ in layers or sizes; they are verified as two networks of their own\n",
              pn->name, s->prop->nets[pn->rel_to].name);
  }
  return TWINN_OK;
}

static twinn_status write_witness(const cli_args *a, const twinn_prop *prop, const double *x,
                                  FILE *out) {
  cli_witness_format f = a->witness_format;
  if (f == CLI_WITNESS_AUTO)
    f = prop->version == TWINN_VNNLIB_1_0 ? CLI_WITNESS_V1 : CLI_WITNESS_V2;
  return f == CLI_WITNESS_V1 ? twinn_witness_write_v1(out, prop, x)
                             : twinn_witness_write_v2(out, prop, x);
}

/* Network k's variables of one role, in declaration order, form its flat input (or output)
 * vector. to_flat: copies x into flat; else copies flat back into x. Returns the element
 * count and copies nothing when it exceeds cap. */
static size_t copy_role(const twinn_prop *prop, size_t k, twinn_var_role role, double *x,
                        double *flat, size_t cap, int to_flat) {
  size_t i, j, n = 0;
  const twinn_prop_net *pn = &prop->nets[k];
  for (i = pn->first_var; i < pn->first_var + pn->n_vars; i++)
    if (prop->vars[i].role == role) n += prop->vars[i].n;
  if (n > cap) return n;
  n = 0;
  for (i = pn->first_var; i < pn->first_var + pn->n_vars; i++) {
    const twinn_var *v = &prop->vars[i];
    if (v->role != role) continue;
    for (j = 0; j < v->n; j++, n++) {
      if (to_flat)
        flat[n] = x[v->offset + j];
      else
        x[v->offset + j] = flat[n];
    }
  }
  return n;
}

/* Overwrites every output variable of x with the networks' float32 evaluation. */
static twinn_status complete_f32(const twinn_problem *pb, double *x, twinn_error *err) {
  const twinn_prop *prop = pb->prop;
  double *in = NULL, *out = NULL;
  size_t k, max = 1;
  twinn_status st = TWINN_OK;
  for (k = 0; k < pb->n_nets; k++) {
    size_t w = twinn_net_max_width(pb->nets[k]);
    if (w > max) max = w;
  }
  in = twinn_mallocarray(max, sizeof *in);
  out = twinn_mallocarray(max, sizeof *out);
  if (!in || !out) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory replaying");
    goto fail;
  }
  for (k = 0; k < pb->n_nets; k++) {
    const twinn_net *net = pb->nets[k];
    if (twinn_prop_net_count(prop, k, TWINN_VAR_INPUT) == 0 ||
        twinn_prop_net_count(prop, k, TWINN_VAR_OUTPUT) == 0 ||
        copy_role(prop, k, TWINN_VAR_INPUT, x, in, max, 1) != net->n_in) {
      st = twinn_error_set(err, TWINN_ERR_INTERNAL, NULL, 0, 0,
                           "network %zu: inputs do not match the bound model", k);
      goto fail;
    }
    if ((st = twinn_net_eval_f32(net, in, out)) != TWINN_OK) {
      twinn_error_set(err, st, NULL, 0, 0, "float32 evaluation of network %zu failed", k);
      goto fail;
    }
    if (copy_role(prop, k, TWINN_VAR_OUTPUT, x, out, net->n_out, 0) != net->n_out) {
      st = twinn_error_set(err, TWINN_ERR_INTERNAL, NULL, 0, 0,
                           "network %zu: outputs do not match the bound model", k);
      goto fail;
    }
  }
fail:
  twinn_free(in);
  twinn_free(out);
  return st;
}

/* Reads a witness from `in` and checks it: every network evaluated in double and in float32
 * on its inputs, the asserts evaluated on both. *why is NULL when both hold, else says which
 * failed. */
static twinn_status check_witness(const session *s, FILE *in, const char **why, twinn_error *err) {
  size_t n = s->prop->n_scalars ? s->prop->n_scalars : 1;
  double *x = twinn_calloc(n, sizeof *x), *x32 = twinn_calloc(n, sizeof *x32);
  twinn_status st;
  int ok64, ok32;
  if (!x || !x32) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory replaying");
    goto fail;
  }
  if ((st = twinn_witness_read(in, s->prop, x, err)) != TWINN_OK) goto fail;
  if ((st = twinn_problem_complete(&s->pb, x)) != TWINN_OK) {
    twinn_error_set(err, st, NULL, 0, 0, "evaluating the networks on the witness failed");
    goto fail;
  }
  memcpy(x32, x, s->prop->n_scalars * sizeof *x);
  if ((st = complete_f32(&s->pb, x32, err)) != TWINN_OK) goto fail;
  ok64 = twinn_prop_holds(s->prop, x);
  ok32 = twinn_prop_holds(s->prop, x32);
  *why = ok64 && ok32 ? NULL
         : !ok64 && !ok32
             ? "the asserts do not hold with double and float32 evaluation of the networks"
         : !ok64 ? "the asserts do not hold with double evaluation of the networks"
                 : "the asserts do not hold with float32 evaluation of the networks";
fail:
  twinn_free(x);
  twinn_free(x32);
  return st;
}

/* Prints `sat` and the engine's witness, after re-reading the printed text and re-checking it
 * (check_witness): what is printed, rounding included, is what was checked. A witness that
 * fails the check becomes `unknown`: a wrong sat costs far more than a missed one. */
static twinn_status print_sat(const cli_args *a, const session *s, const double *w,
                              twinn_error *err) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len), *in = NULL;
  const char *why = NULL;
  twinn_status st;
  if (!mem) return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  st = write_witness(a, s->prop, w, mem);
  if (fclose(mem) != 0 && st == TWINN_OK) st = TWINN_ERR_NOMEM;
  if (st != TWINN_OK) {
    twinn_error_set(err, st, NULL, 0, 0, "cannot render the witness");
    goto fail;
  }
  if (!(in = fmemopen(text, len ? len : 1, "r"))) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
    goto fail;
  }
  if ((st = check_witness(s, in, &why, err)) != TWINN_OK) goto fail;
  if (why) {
    sat_demoted = 1;
    printf("unknown\n");
    fprintf(stderr,
            "twinn: unknown: a counterexample was found but its printed witness does "
            "not re-check (%s)\n",
            why);
  } else if (printf("sat\n") < 0 || fwrite(text, 1, len, stdout) != len) {
    st = twinn_error_set(err, TWINN_ERR_IO, NULL, 0, 0, "cannot write the witness");
  }
fail:
  if (in) fclose(in);
  free(text); /* allocated by open_memstream, not by twinn_malloc */
  return st;
}

/* The report's members that come from the command line alone. */
static void report_head(const cli_args *a, twinn_report_verify *r) {
  memset(r, 0, sizeof *r);
  r->query = a->query;
  r->n_nets = a->n_nets;
  r->net_names = a->net_names;
  r->net_paths = a->net_paths;
  r->seed = a->seed;
  r->timeout = a->timeout;
  r->threads = a->threads;
  r->engine_milp = a->engine_milp;
  r->neuron_split = a->neuron_split;
  r->no_decompose = a->no_decompose;
  /* As twinn_options reads them: 0 the default, < 0 none. */
  r->opt_rounds = a->opt_rounds < 0 ? 0
                  : a->opt_rounds   ? (unsigned long)a->opt_rounds
                                    : TWINN_OPT_ROUNDS;
  r->exact_relus = a->exact_relus < 0 ? 0
                   : a->exact_relus   ? (unsigned long)a->exact_relus
                                      : TWINN_EXACT_RELUS;
}

/* Creates the --report file (so that a path that cannot be written fails before the run) and
 * prepares the report of the hard deadline: verdict timed-out, the query and networks as given,
 * null for what is not known then (bound, the seconds but the total: the deadline's). Returns
 * TWINN_OK, or TWINN_ERR_IO with err set. */
static twinn_status open_report(const cli_args *a, twinn_error *err) {
  twinn_report_verify r;
  twinn_error werr;
  FILE *m;
  if (!a->report_path) return TWINN_OK;
  report_fd = open(a->report_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (report_fd < 0)
    return twinn_error_set(err, TWINN_ERR_IO, a->report_path, 0, 0, "cannot create: %s",
                           strerror(errno));
  if (!(a->timeout > 0)) return TWINN_OK;
  report_head(a, &r);
  r.verdict = "timed-out";
  r.reason = "hard deadline of --timeout reached";
  r.bound = NAN;
  r.t_parse = r.t_load = r.t_verify = NAN;
  r.t_total = a->timeout + 0.5;
  twinn_error_clear(&werr);
  /* Without memory for it the deadline leaves the file empty. */
  if (!(m = open_memstream(&fallback_report, &fallback_len))) return TWINN_OK;
  if (twinn_report_write_verify(m, &r, &werr) != TWINN_OK || fclose(m) != 0) {
    free(fallback_report);
    fallback_report = NULL;
  }
  return TWINN_OK;
}

/* --report: writes the JSON report of this run (report.h) into the file open_report created.
 * verdict NULL means "error" with err's message; a failure to write it is reported on stderr
 * and turns rc into an error. */
static int emit_report(const cli_args *a, const session *s, const char *verdict, const char *reason,
                       const twinn_result *res, const progress_state *ps, double t_verify,
                       const twinn_error *err, int rc) {
  twinn_report_verify r;
  twinn_error werr;
  char why[1200];
  FILE *out;
  if (!a->report_path) return rc;
  free(fallback_report); /* the deadline handler is disarmed by now */
  fallback_report = NULL;
  report_head(a, &r);
  if (!verdict) {
    twinn_error_format(err, why, sizeof why);
    verdict = "error";
    reason = why;
  }
  r.verdict = verdict;
  r.reason = reason && reason[0] ? reason : NULL;
  r.prop = s->prop;
  r.witness = res && strcmp(verdict, "sat") == 0 ? res->witness : NULL;
  /* A timed-out search's own account of the regions it left open (queued or on a worker's
   * stack) is the certified one; the progress line only saw the queue. */
  r.bound = res && res->verdict == TWINN_VERDICT_TIMEOUT && !isnan(res->open_margin)
                ? res->open_margin
                : ps->bound;
  r.branches = res ? res->branches : 0;
  r.open = res ? res->open : 0;
  r.t_parse = s->t_parse;
  r.t_load = s->t_load;
  r.t_verify = t_verify;
  r.t_total = cli_now() - a->start;
  twinn_error_clear(&werr);
  out = report_fd >= 0 ? fdopen(report_fd, "w") : fopen(a->report_path, "w");
  if (!out) {
    twinn_error_set(&werr, TWINN_ERR_IO, a->report_path, 0, 0, "cannot create: %s",
                    strerror(errno));
    if (report_fd >= 0) close(report_fd);
    report_fd = -1;
    return cli_report_error(&werr);
  }
  report_fd = -1; /* out owns it */
  if (twinn_report_write_verify(out, &r, &werr) != TWINN_OK || fclose(out) != 0) {
    if (werr.status == TWINN_OK)
      twinn_error_set(&werr, TWINN_ERR_IO, a->report_path, 0, 0, "cannot write the report");
    return cli_report_error(&werr);
  }
  return rc;
}

int cli_run_verify(const cli_args *a) {
  session s;
  twinn_error err;
  twinn_options opt;
  twinn_result res;
  progress_state ps = {0, 0, NAN};
  const char *rep_verdict = NULL; /* for --report */
  const char *rep_reason = NULL;
  double t_verify = 0;
  timer_t timer;
  char buf[1200];
  int armed = 0, rc = CLI_EXIT_VERDICT, have_result = 0;
  twinn_status st;
  memset(&s, 0, sizeof s);
  memset(&res, 0, sizeof res);
  twinn_error_clear(&err);
  if (open_report(a, &err) != TWINN_OK) return cli_report_error(&err);
  if (a->timeout > 0) {
    if (arm_deadline(&timer, a->timeout + 0.5 - (cli_now() - a->start)) != 0) {
      twinn_error_set(&err, TWINN_ERR_INTERNAL, NULL, 0, 0, "cannot arm the --timeout timer");
      return emit_report(a, &s, NULL, NULL, NULL, &ps, 0, &err, cli_report_error(&err));
    }
    armed = 1;
  }
  if (a->memory_limit > 0 && apply_memory_limit(a->memory_limit) != 0) {
    twinn_error_set(&err, TWINN_ERR_INTERNAL, NULL, 0, 0, "cannot set the --memory-limit: %s",
                    strerror(errno));
    if (armed) timer_delete(timer);
    return emit_report(a, &s, NULL, NULL, NULL, &ps, 0, &err, cli_report_error(&err));
  }
  if ((st = session_load(&s, a, &err)) != TWINN_OK) goto fail;
  twinn_options_init(&opt);
  opt.seed = a->seed;
  opt.threads = a->threads;
  opt.neuron_split = a->neuron_split;
  opt.no_decompose = a->no_decompose;
  opt.opt_rounds = a->opt_rounds;
  opt.exact_relus = a->exact_relus;
  opt.verbose = a->verbose;
  ps.enabled = !a->quiet && isatty(2);
  ps.last = 0;
  opt.progress = on_progress;
  opt.progress_ctx = &ps;
  if (a->timeout > 0) {
    opt.timeout = a->timeout - (cli_now() - a->start);
    if (opt.timeout <= 0) {
      if (armed) timer_delete(timer);
      armed = 0;
      printf("timed-out\n");
      fprintf(stderr, "twinn: timed out while reading the query and networks\n");
      rep_verdict = "timed-out";
      rep_reason = "timed out while reading the query and networks";
      goto done;
    }
  }
  if (a->verbose)
    fprintf(stderr, "twinn: verifying (seed %lu, threads %d, timeout %g s)\n", opt.seed,
            opt.threads, opt.timeout);
  t_verify = cli_now();
  st = a->engine_milp ? twinn_milp_verify(&s.pb, &opt, &res, &err)
                      : twinn_verify(&s.pb, &opt, &res, &err);
  t_verify = cli_now() - t_verify;
  if (st != TWINN_OK) {
    clear_progress();
    if (st != TWINN_ERR_UNSUPPORTED) goto fail;
    /* A construct the engine cannot decide (a nonlinear assert): the spec allows unknown. */
    if (armed) timer_delete(timer);
    armed = 0;
    twinn_error_format(&err, buf, sizeof buf);
    printf("unknown\n");
    fprintf(stderr, "twinn: unknown: %s\n", buf);
    rep_verdict = "unknown";
    rep_reason = buf;
    goto done;
  }
  have_result = 1;
  /* From here on the answer is ours: the fallback timer must not print a second verdict. */
  if (armed) timer_delete(timer);
  armed = 0;
  clear_progress();
  if (res.verdict == TWINN_VERDICT_SAT) {
    if (!res.witness) {
      st = twinn_error_set(&err, TWINN_ERR_INTERNAL, NULL, 0, 0, "sat without a witness");
      goto fail;
    }
    if ((st = print_sat(a, &s, res.witness, &err)) != TWINN_OK) goto fail;
  } else {
    printf("%s\n", twinn_verdict_name(res.verdict));
  }
  /* An unsat decided without a search (an empty input set) says why. */
  if (res.verdict == TWINN_VERDICT_UNSAT && res.reason[0])
    fprintf(stderr, "twinn: unsat: %s\n", res.reason);
  if (res.verdict == TWINN_VERDICT_UNKNOWN || res.verdict == TWINN_VERDICT_TIMEOUT) {
    fprintf(stderr, "twinn: %s: %s\n", twinn_verdict_name(res.verdict),
            res.reason[0] ? res.reason : "no reason given");
  }
  rep_verdict = sat_demoted ? "unknown" : twinn_verdict_name(res.verdict);
  rep_reason = sat_demoted ? "the witness found does not re-check" : res.reason;
  if (a->verbose)
    fprintf(stderr, "twinn: %s after %.3f s, %lu branches, %lu open\n",
            twinn_verdict_name(res.verdict), cli_now() - a->start, res.branches, res.open);
done:
  rc = cli_flush_stdout(rc);
  rc = emit_report(a, &s, rep_verdict, rep_reason, have_result ? &res : NULL, &ps, t_verify, &err,
                   rc);
  if (have_result) twinn_result_release(&res);
  session_release(&s);
  return rc;
fail:
  if (armed) timer_delete(timer);
  clear_progress();
  if (st == TWINN_ERR_NOMEM && a->memory_limit > 0) {
    /* Exhaustion under a limit the user chose is a resource answer, like timed-out. */
    twinn_error_format(&err, buf, sizeof buf);
    printf("unknown\n");
    fprintf(stderr, "twinn: unknown: memory limit reached (%s)\n", buf);
    rc = cli_flush_stdout(CLI_EXIT_VERDICT);
    rc = emit_report(a, &s, "unknown", buf, have_result ? &res : NULL, &ps, t_verify, &err, rc);
    if (have_result) twinn_result_release(&res);
    session_release(&s);
    return rc;
  }
  fflush(stdout);
  rc = cli_report_error(&err);
  rc = emit_report(a, &s, NULL, NULL, have_result ? &res : NULL, &ps, t_verify, &err, rc);
  if (have_result) twinn_result_release(&res);
  session_release(&s);
  return rc;
}

int cli_run_replay(const cli_args *a) {
  session s;
  twinn_error err;
  FILE *f = NULL;
  const char *why = NULL;
  int rc;
  twinn_status st;
  memset(&s, 0, sizeof s);
  twinn_error_clear(&err);
  if ((st = session_load(&s, a, &err)) != TWINN_OK) goto fail;
  if (!(f = fopen(a->witness_path, "r"))) {
    st = twinn_error_set(&err, TWINN_ERR_IO, a->witness_path, 0, 0, "cannot open: %s",
                         strerror(errno));
    goto fail;
  }
  if ((st = check_witness(&s, f, &why, &err)) != TWINN_OK) {
    if (!err.path[0]) snprintf(err.path, sizeof err.path, "%s", a->witness_path);
    goto fail;
  }
  if (why)
    printf("invalid: %s\n", why);
  else
    printf("valid\n");
  rc = why ? CLI_EXIT_INVALID : CLI_EXIT_VERDICT;
  rc = cli_flush_stdout(rc);
  goto done;
fail:
  rc = cli_report_error(&err);
done:
  if (f) fclose(f);
  session_release(&s);
  return rc;
}
