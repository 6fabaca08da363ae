/* cli.h: what the parts of the `twinn` executable share (not part of the engine library).
 * cli.c parses the command line and answers `supports`/`--version`/`--help`; cli_run.c runs
 * `verify` and `replay`. Only these files print or exit; they map twinn_status to exit codes. */
#ifndef TWINN_CLI_H
#define TWINN_CLI_H

#include <stddef.h>

#include "common.h"

/* Exit codes, documented in `twinn --help` and README.md. */
enum {
  CLI_EXIT_VERDICT = 0,  /* a verdict was printed (sat, unsat, unknown, timed-out); replay: valid */
  CLI_EXIT_INPUT = 1,    /* bad input: unreadable file, syntax, semantic, unsupported */
  CLI_EXIT_USAGE = 2,    /* wrong command line */
  CLI_EXIT_INTERNAL = 3, /* out of memory or an internal error */
  CLI_EXIT_INVALID = 4   /* replay: the witness does not satisfy the property */
};

typedef enum { CLI_WITNESS_AUTO = 0, CLI_WITNESS_V1, CLI_WITNESS_V2 } cli_witness_format;

#define CLI_MAX_NETWORKS 64

/* The parsed command line of `verify` and `replay`. Strings point into argv. */
typedef struct {
  const char *query;
  size_t n_nets;
  const char *net_names[CLI_MAX_NETWORKS]; /* NULL when given without a name */
  const char *net_paths[CLI_MAX_NETWORKS];
  double timeout;      /* seconds, 0 = none */
  double memory_limit; /* MiB, 0 = none (verify only) */
  unsigned long seed;
  int threads;      /* 0 = all cores */
  int engine_milp;  /* --engine milp: the exact MILP mode (plugin/milp.h) */
  int opt_rounds;   /* --opt-rounds: 0 default, -1 none, else the count (verify only) */
  int exact_relus;  /* --exact-relus: 0 default, -1 none, else the cap (verify only) */
  int neuron_split; /* --neuron-split: branch on ReLU neurons before inputs (verify only) */
  int no_decompose; /* --no-decompose: no network-by-network sub-problems (verify only) */
  int quiet, verbose;
  cli_witness_format witness_format;
  const char *witness_path; /* replay only */
  const char *report_path;  /* verify --report: JSON report (specs/report-schema.md) */
  double start;             /* monotonic clock at process start */
} cli_args;

/* Seconds on the monotonic clock. */
double cli_now(void);
/* Prints `twinn: <formatted error>` on stderr and returns the exit code for its status. */
int cli_report_error(const twinn_error *err);
/* Flushes stdout: rc if everything printed reached it, else (a full disk, a closed pipe)
 * CLI_EXIT_INTERNAL after saying so on stderr. */
int cli_flush_stdout(int rc);
/* --network NAME=PATH: *name points into name_buf (n bytes) when the text before the first '='
 * is an identifier that fits, else *name is NULL and *path is all of spec. */
void cli_split_network(const char *spec, const char **name, const char **path, char *name_buf,
                       size_t n);
/* Exit code for a non-OK status. */
int cli_exit_code(twinn_status st);

int cli_run_verify(const cli_args *args);
int cli_run_replay(const cli_args *args);
/* `twinn bound` (cli_bound.c): parses its own options; argv[0] is "bound". */
int cli_run_bound(int argc, char **argv);

#endif
