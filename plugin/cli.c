/* cli.c: main() of the `twinn` executable: command-line parsing, help texts, `--version` and
 * `supports` (answered from the front ends' own lists, so it never claims more than they
 * read). Verification and replay live in cli_run.c. This file and cli_run.c are the only
 * places that print or exit; the libraries report through twinn_status and twinn_error. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blas_threads.h"
#include "onnx_load.h"
#include "twinn.h"
#include "vnnlib.h"

static const char usage_main[] =
    "usage: twinn verify QUERY.vnnlib --network NAME=MODEL.onnx ... [options]\n"
    "       twinn replay QUERY.vnnlib --network NAME=MODEL.onnx ... --witness FILE\n"
    "       twinn bound [REGION.vnnlib] --network f=F.onnx --network g=G.onnx [options]\n"
    "       twinn supports --vnnlib-versions | --onnx-opset-versions | --onnx-operators |\n"
    "                      --onnx-element-types | --multiple-network-theories ...\n"
    "       twinn --version | --help\n"
    "\n"
    "twinn decides differential properties of neural-network twins: two (or more) ONNX\n"
    "networks and a VNN-LIB property whose asserts describe the unsafe set.\n"
    "Run `twinn verify --help` or `twinn replay --help` for the options of a command.\n"
    "\n"
    "supports: prints what this build really reads, one item per line; with several\n"
    "flags, each line is `FLAG ITEM`.\n"
    "\n"
    "exit codes:\n"
    "  0  a verdict was printed (sat, unsat, unknown, timed-out); replay: valid\n"
    "  1  bad input: unreadable file, syntax or semantic error, unsupported construct\n"
    "  2  usage error (wrong options, missing or extra --network)\n"
    "  3  internal error, or out of memory without --memory-limit\n"
    "  4  replay: the witness does not satisfy the property (`invalid: ...`)\n";

static const char usage_verify[] =
    "usage: twinn verify QUERY.vnnlib --network NAME=MODEL.onnx ... [options]\n"
    "       twinn verify QUERY.vnnlib MODEL.onnx [options]      (VNN-LIB 1.0 queries)\n"
    "\n"
    "Decides whether some input makes every assert of QUERY true (a counterexample).\n"
    "QUERY and models may be gzip-compressed (.gz).\n"
    "\n"
    "options:\n"
    "  --network NAME=PATH   the model of declared network NAME; one per declared network\n"
    "                        without equal-to. A 1.0 query takes one, under any name.\n"
    "  --timeout S           answer within S seconds of wall time, parsing and loading\n"
    "                        included (hard: the process answers timed-out by S + 0.5 s)\n"
    "  --memory-limit MB     cap memory at MB MiB beyond the startup footprint (address\n"
    "                        space, setrlimit; no single allocation above MB MiB): running\n"
    "                        out answers unknown with `memory limit reached` on stderr\n"
    "  --seed N              random seed of the counterexample search (default 1)\n"
    "  --threads N           worker threads (default: all cores)\n"
    "  --engine E            default (bounds and branch and bound), or milp: an exact\n"
    "                        mixed-integer encoding solved by GLPK, for small networks\n"
    "  --neuron-split        branch on unstable ReLU neurons before input dimensions\n"
    "                        (default: so for inputs of over 64 dimensions; for 17-64\n"
    "                        on 2 or more threads both orders at once; else bisect\n"
    "                        inputs, neurons only once a box cannot be halved)\n"
    "  --no-decompose        never split a property into sub-problems first (by\n"
    "                        network or by disjunct; see README)\n"
    "  --opt-rounds N        rounds of optimised ReLU slopes and split multipliers\n"
    "                        (alpha/beta-CROWN) per undecided single-network\n"
    "                        constraint (default 20; 0: none)\n"
    "  --exact-relus N       decide a region of over 16 input dimensions by LPs over\n"
    "                        the phases of its undecided ReLUs when at most N are\n"
    "                        left (default 8; 0: never)\n"
    "  --witness-format F    v2 (NAME TYPE [dims] then one value per line), v1\n"
    "                        ((X_0 v) ... (Y_0 v)), or auto: v1 for a 1.0 query, else v2\n"
    "  --report FILE.json    also write a JSON report: verdict, witness, bound reached,\n"
    "                        branches, seconds per phase, seed, version\n"
    "                        (specs/report-schema.md)\n"
    "  --quiet, -q           no progress line on stderr\n"
    "  --verbose, -v         phase summaries on stderr\n"
    "\n"
    "output: line 1 on stdout is sat, unsat, unknown or timed-out. After sat, the witness:\n"
    "every declared variable in declaration order (inputs, hidden, outputs of each\n"
    "network). Values are printed with %.9g when that reads back to the same double (all\n"
    "float32 values), else with %.17g. For unknown and timed-out, stderr gets one line\n"
    "with the reason. Errors: one line `twinn: PATH:LINE:COL: message` on stderr.\n"
    "\n"
    "exit codes: 0 verdict printed, 1 bad input, 2 usage error, 3 internal error or out\n"
    "of memory without --memory-limit.\n";

static const char usage_replay[] =
    "usage: twinn replay QUERY.vnnlib --network NAME=MODEL.onnx ... --witness FILE\n"
    "\n"
    "Re-checks a sat witness: reads FILE (twinn's output, or a VNN-COMP RESULTS file:\n"
    "`sat` then `((X_0 v) ...)` or the 2.0 form), takes its input values, evaluates every\n"
    "network in double and in float32 arithmetic, and checks the asserts in both.\n"
    "Prints `valid` (exit 0) or `invalid: REASON` (exit 4). Other exit codes as verify.\n";

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cli_exit_code(twinn_status st) {
  switch (st) {
  case TWINN_OK: return CLI_EXIT_VERDICT;
  case TWINN_ERR_USAGE: return CLI_EXIT_USAGE;
  case TWINN_ERR_NOMEM:
  case TWINN_ERR_INTERNAL: return CLI_EXIT_INTERNAL;
  case TWINN_ERR_IO:
  case TWINN_ERR_SYNTAX:
  case TWINN_ERR_SEMANTIC:
  case TWINN_ERR_UNSUPPORTED: break;
  }
  return CLI_EXIT_INPUT;
}

int cli_report_error(const twinn_error *err) {
  char buf[1200];
  twinn_error_format(err, buf, sizeof buf);
  fprintf(stderr, "twinn: %s\n", buf);
  return cli_exit_code(err->status);
}

int cli_flush_stdout(int rc) {
  if (fflush(stdout) == 0 && !ferror(stdout)) return rc;
  fprintf(stderr, "twinn: cannot write to standard output: %s\n", strerror(errno));
  return CLI_EXIT_INTERNAL;
}

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "twinn: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\ntwinn: run `twinn --help` for usage\n");
  return CLI_EXIT_USAGE;
}

/* NAME=PATH where NAME is an identifier; anything else is a path without a name. */
void cli_split_network(const char *spec, const char **name, const char **path, char *name_buf,
                       size_t n) {
  const char *eq = strchr(spec, '=');
  size_t len = eq ? (size_t)(eq - spec) : 0, i;
  int ident = len > 0 && len < n && (isalpha((unsigned char)spec[0]) || spec[0] == '_');
  for (i = 0; ident && i < len; i++)
    if (!isalnum((unsigned char)spec[i]) && spec[i] != '_') ident = 0;
  if (!ident) {
    *name = NULL;
    *path = spec;
    return;
  }
  memcpy(name_buf, spec, len);
  name_buf[len] = '\0';
  *name = name_buf;
  *path = eq + 1;
}

static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  return s[0] && *end == '\0' && errno == 0 && isfinite(*out);
}

static int parse_ulong(const char *s, unsigned long *out) {
  char *end;
  if (!isdigit((unsigned char)s[0])) return 0;
  errno = 0;
  *out = strtoul(s, &end, 10);
  return *end == '\0' && errno == 0;
}

/* Names of networks are copied here: argv strings cannot be cut in place. */
static char name_store[CLI_MAX_NETWORKS][128];

/* The value of option argv[*i] given as `--opt VALUE` or `--opt=VALUE`; NULL if missing. */
static const char *option_value(int argc, char **argv, int *i, const char *opt) {
  size_t n = strlen(opt);
  if (strncmp(argv[*i], opt, n) == 0 && argv[*i][n] == '=') return argv[*i] + n + 1;
  if (*i + 1 >= argc) return NULL;
  return argv[++*i];
}

static int is_option(const char *arg, const char *opt) {
  size_t n = strlen(opt);
  return strncmp(arg, opt, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

/* Parses the arguments of verify/replay (argv[0] is the command). Returns -1 when fine, else
 * the exit code to leave with (help printed or usage error reported). */
static int parse_args(int argc, char **argv, int replay, cli_args *a) {
  const char *positional[2] = {NULL, NULL};
  size_t n_pos = 0;
  int i;
  for (i = 1; i < argc; i++) {
    const char *arg = argv[i], *val;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(replay ? usage_replay : usage_verify, stdout);
      return CLI_EXIT_VERDICT;
    } else if (is_option(arg, "--network")) {
      if (!(val = option_value(argc, argv, &i, "--network")))
        return usage_error("%s needs NAME=PATH", arg);
      if (a->n_nets == CLI_MAX_NETWORKS) return usage_error("too many --network options%s", "");
      cli_split_network(val, &a->net_names[a->n_nets], &a->net_paths[a->n_nets],
                        name_store[a->n_nets], sizeof name_store[0]);
      if (!a->net_paths[a->n_nets][0]) return usage_error("--network %s: empty path", val);
      a->n_nets++;
    } else if (is_option(arg, "--timeout")) {
      if (!(val = option_value(argc, argv, &i, "--timeout")) || !parse_double(val, &a->timeout) ||
          a->timeout <= 0 || a->timeout > 1e7)
        return usage_error("--timeout needs a number of seconds above 0, at most 1e7%s", "");
    } else if (!replay && is_option(arg, "--memory-limit")) {
      if (!(val = option_value(argc, argv, &i, "--memory-limit")) ||
          !parse_double(val, &a->memory_limit) || a->memory_limit < 1 || a->memory_limit > 1e9)
        return usage_error("--memory-limit needs a number of MiB from 1 to 1e9%s", "");
    } else if (is_option(arg, "--seed")) {
      if (!(val = option_value(argc, argv, &i, "--seed")) || !parse_ulong(val, &a->seed))
        return usage_error("--seed needs a non-negative integer%s", "");
    } else if (is_option(arg, "--threads")) {
      unsigned long t;
      if (!(val = option_value(argc, argv, &i, "--threads")) || !parse_ulong(val, &t) || t > 1024)
        return usage_error("--threads needs an integer from 0 (all cores) to 1024%s", "");
      a->threads = (int)t;
    } else if (!replay && is_option(arg, "--opt-rounds")) {
      unsigned long t;
      if (!(val = option_value(argc, argv, &i, "--opt-rounds")) || !parse_ulong(val, &t) ||
          t > 10000)
        return usage_error("--opt-rounds needs an integer from 0 (none) to 10000%s", "");
      a->opt_rounds = t == 0 ? -1 : (int)t;
    } else if (!replay && is_option(arg, "--exact-relus")) {
      unsigned long t;
      if (!(val = option_value(argc, argv, &i, "--exact-relus")) || !parse_ulong(val, &t) || t > 64)
        return usage_error("--exact-relus needs an integer from 0 (never) to 64%s", "");
      a->exact_relus = t == 0 ? -1 : (int)t;
    } else if (!replay && is_option(arg, "--engine")) {
      if (!(val = option_value(argc, argv, &i, "--engine")))
        return usage_error("--engine needs default or milp%s", "");
      if (strcmp(val, "milp") == 0)
        a->engine_milp = 1;
      else if (strcmp(val, "default") == 0)
        a->engine_milp = 0;
      else
        return usage_error("--engine %s: expected default or milp", val);
    } else if (is_option(arg, "--witness-format")) {
      if (!(val = option_value(argc, argv, &i, "--witness-format")))
        return usage_error("--witness-format needs v1, v2 or auto%s", "");
      if (strcmp(val, "v1") == 0)
        a->witness_format = CLI_WITNESS_V1;
      else if (strcmp(val, "v2") == 0)
        a->witness_format = CLI_WITNESS_V2;
      else if (strcmp(val, "auto") == 0)
        a->witness_format = CLI_WITNESS_AUTO;
      else
        return usage_error("--witness-format %s: expected v1, v2 or auto", val);
    } else if (!replay && is_option(arg, "--report")) {
      if (!(val = option_value(argc, argv, &i, "--report")))
        return usage_error("--report needs a file%s", "");
      a->report_path = val;
    } else if (replay && is_option(arg, "--witness")) {
      if (!(val = option_value(argc, argv, &i, "--witness")))
        return usage_error("--witness needs a file%s", "");
      a->witness_path = val;
    } else if (!replay && strcmp(arg, "--neuron-split") == 0) {
      a->neuron_split = 1;
    } else if (!replay && strcmp(arg, "--no-decompose") == 0) {
      a->no_decompose = 1;
    } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
      a->quiet = 1;
    } else if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
      a->verbose = 1;
    } else if (arg[0] == '-' && arg[1] != '\0') {
      return usage_error("unknown option %s", arg);
    } else {
      if (n_pos == 2) return usage_error("unexpected argument %s", arg);
      positional[n_pos++] = arg;
    }
  }
  if (!positional[0]) return usage_error("%s: no query file given", argv[0]);
  a->query = positional[0];
  if (positional[1]) {
    /* `twinn verify QUERY MODEL`: the VNN-LIB 1.0 habit; the binder checks it is one network. */
    if (a->n_nets == CLI_MAX_NETWORKS) return usage_error("too many networks%s", "");
    a->net_names[a->n_nets] = NULL;
    a->net_paths[a->n_nets++] = positional[1];
  }
  if (replay && !a->witness_path) return usage_error("replay needs --witness FILE%s", "");
  return -1;
}

static void print_list(const char *flag, int prefixed, const char *const *items) {
  size_t i;
  for (i = 0; items && items[i]; i++) {
    if (prefixed) printf("%s ", flag);
    printf("%s\n", items[i]);
  }
}

static void print_opsets(const char *flag, int prefixed) {
  int v;
  for (v = TWINN_ONNX_OPSET_MIN; v <= TWINN_ONNX_OPSET_MAX; v++) {
    if (prefixed) printf("%s ", flag);
    printf("%d\n", v);
  }
}

static int run_supports(int argc, char **argv) {
  /* The versions of prop.h's twinn_vnnlib_version, all of which parser/vnnlib.c reads. */
  static const char *const versions[] = {"1.0", "2.0", "2.1", NULL};
  static const char *const theories[] = {"equal-to", "isomorphic-to", NULL};
  int i, prefixed = argc > 2;
  if (argc < 2) return usage_error("supports needs a flag, e.g. --onnx-operators%s", "");
  for (i = 1; i < argc; i++) {
    const char *f = argv[i];
    if (strcmp(f, "--vnnlib-versions") == 0)
      print_list(f, prefixed, versions);
    else if (strcmp(f, "--onnx-opset-versions") == 0)
      print_opsets(f, prefixed);
    else if (strcmp(f, "--onnx-operators") == 0)
      print_list(f, prefixed, twinn_onnx_operators());
    else if (strcmp(f, "--onnx-element-types") == 0)
      print_list(f, prefixed, twinn_onnx_element_types());
    else if (strcmp(f, "--multiple-network-theories") == 0)
      print_list(f, prefixed, theories);
    else
      return usage_error("supports: unknown flag %s", f);
  }
  return cli_flush_stdout(CLI_EXIT_VERDICT);
}

/* OpenBLAS picks its kernels by the CPU's model number, and a release older than the CPU falls
 * back to its slowest kernels (0.3.21, Debian 12, takes an Emerald Rapids Xeon for a Prescott:
 * the symbolic analysis then runs 1.3-1.5x slower). The choice is made when the library loads,
 * from OPENBLAS_CORETYPE, so when that is unset and the library chose such a fallback on a CPU
 * with AVX2 or AVX-512, twinn re-executes itself once with the variable naming the matching
 * kernels. Any failure leaves the process as it was; the kernels give the same contract. */
static void blas_kernels(char **argv) {
  static const char *const fallback[] = {"Prescott", "Core2", "Penryn",     "Dunnington",
                                         "Nehalem",  "Atom",  "Sandybridge"};
  const char *core = openblas_get_corename(), *want = NULL;
  int old = 0;
  if (getenv("OPENBLAS_CORETYPE") || !core) return;
  for (size_t i = 0; i < sizeof fallback / sizeof *fallback; i++)
    old |= strcmp(core, fallback[i]) == 0;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
    want = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    want = "Haswell";
#endif
  if (!old || !want || setenv("OPENBLAS_CORETYPE", want, 1) != 0) return;
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len > 0) { /* by its own path, so that the process keeps its name (not "exe") */
    self[len] = '\0';
    execv(self, argv);
  }
  unsetenv("OPENBLAS_CORETYPE"); /* exec failed: carry on with the library's choice */
}

int main(int argc, char **argv) {
  cli_args a;
  int rc, replay;
  memset(&a, 0, sizeof a);
  a.start = cli_now();
  a.seed = 1;
  blas_kernels(argv);
  if (argc < 2) {
    fputs(usage_main, stderr);
    return CLI_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    fputs(usage_main, stdout);
    return CLI_EXIT_VERDICT;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("twinn %s\n", TWINN_VERSION);
    return CLI_EXIT_VERDICT;
  }
  if (strcmp(argv[1], "supports") == 0) return run_supports(argc - 1, argv + 1);
  if (strcmp(argv[1], "bound") == 0) return cli_run_bound(argc - 1, argv + 1);
  if (strcmp(argv[1], "verify") != 0 && strcmp(argv[1], "replay") != 0)
    return usage_error("unknown command %s", argv[1]);
  replay = strcmp(argv[1], "replay") == 0;
  rc = parse_args(argc - 1, argv + 1, replay, &a);
  if (rc >= 0) return rc;
  return replay ? cli_run_replay(&a) : cli_run_verify(&a);
}
