/* test_vnnlib.c: the VNN-LIB front end (parser/sexp.c, parser/vnnlib.c) and the property IR
 * queries (plugin/prop.c). Counts for the shared corpus were worked out by hand from the files;
 * benchmark files are checked against an independent count of their asserts; every malformed
 * file in tests/data/bad must fail with the message in its .expected file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "prop.h"
#include "sexp.h"
#include "vnnlib.h"

#define CORPUS TWINN_SHARED_DIR "/specs/vnnlib2-corpus/"
#define SETS TWINN_SHARED_DIR "/benchmarks/sets/"
#define BAD TWINN_SOURCE_DIR "/tests/data/bad/"

/* ---- helpers ----------------------------------------------------------------------------- */

static twinn_prop *parse_str(const char *text) {
  twinn_prop *p = NULL;
  twinn_error err;
  char buf[1200];
  twinn_error_clear(&err);
  if (twinn_vnnlib_parse_buffer(text, strlen(text), "mem.vnnlib", &p, &err) != TWINN_OK) {
    twinn_error_format(&err, buf, sizeof buf);
    fail_msg("parse failed: %s", buf);
  }
  return p;
}

static twinn_prop *parse_path(const char *path) {
  twinn_prop *p = NULL;
  twinn_error err;
  char buf[1200];
  twinn_error_clear(&err);
  if (twinn_vnnlib_parse_file(path, &p, &err) != TWINN_OK) {
    twinn_error_format(&err, buf, sizeof buf);
    fail_msg("parse failed: %s", buf);
  }
  return p;
}

/* Reads a whole small file (test data only) into a NUL-terminated heap string. */
static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  char *s;
  long len;
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  len = ftell(f);
  assert_true(len >= 0);
  rewind(f);
  s = malloc((size_t)len + 1);
  assert_non_null(s);
  assert_int_equal(fread(s, 1, (size_t)len, f), (size_t)len);
  s[len] = '\0';
  fclose(f);
  if (n) *n = (size_t)len;
  return s;
}

/* Asserts counted independently of the parser: "(assert" outside ; comments. */
static size_t count_asserts(const char *s) {
  size_t k = 0;
  int in_comment = 0;
  for (; *s; s++) {
    if (*s == ';') in_comment = 1;
    if (*s == '\n') in_comment = 0;
    if (!in_comment && strncmp(s, "(assert", 7) == 0) k++;
  }
  return k;
}

static const twinn_lin *root_lin(const twinn_prop *p, size_t k) {
  const twinn_bool *b = &p->nodes[p->kids[p->nodes[p->root].first_kid + k]];
  assert_int_equal(b->kind, TWINN_BOOL_LIN);
  return &p->lins[b->lin];
}

static char *make_tempdir(void) {
  char tmpl[] = "/tmp/twinn_vnnlib_XXXXXX";
  char *d = mkdtemp(tmpl);
  assert_non_null(d);
  d = strdup(d);
  assert_non_null(d);
  return d;
}

/* ---- tokenizer --------------------------------------------------------------------------- */

static void test_sexp_tokens(void **state) {
  static const char text[] = "(vnnlib-version <2.1>) ; comment ( ) \n"
                             " -0.5 3 1e-05 .05 -.5 5. X[1, 2] [] [4,5] \"a\"\"b\" - <=";
  twinn_sexp *sx;
  twinn_token t;
  twinn_error err;
  (void)state;
  twinn_error_clear(&err);
  assert_int_equal(twinn_sexp_open_buffer(text, sizeof text - 1, "t", &sx, &err), TWINN_OK);
  assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
  assert_int_equal(t.kind, TWINN_TOK_LPAREN);
  assert_int_equal(twinn_sexp_depth(sx), 1);
  assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
  assert_int_equal(t.kind, TWINN_TOK_SYMBOL);
  assert_string_equal(t.text, "vnnlib-version");
  assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
  assert_int_equal(t.kind, TWINN_TOK_VERSION);
  assert_string_equal(t.text, "2.1");
  assert_int_equal(t.col, 17);
  assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
  assert_int_equal(t.kind, TWINN_TOK_RPAREN);
  assert_int_equal(twinn_sexp_depth(sx), 0);
  {
    static const double nums[] = {-0.5, 3, 1e-05, .05, -.5, 5.};
    size_t i;
    for (i = 0; i < 6; i++) {
      assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
      assert_int_equal(t.kind, TWINN_TOK_NUMBER);
      assert_true(t.num == nums[i]);
      if (i == 0) {
        assert_int_equal(t.line, 2);
        assert_int_equal(t.col, 2);
      }
    }
  }
  assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
  assert_int_equal(t.kind, TWINN_TOK_INDEXED);
  assert_string_equal(t.text, "X");
  assert_int_equal(t.n_idx, 2);
  assert_int_equal(t.idx[0], 1);
  assert_int_equal(t.idx[1], 2);
  assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
  assert_int_equal(t.kind, TWINN_TOK_DIMS);
  assert_int_equal(t.n_idx, 0);
  assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
  assert_int_equal(t.kind, TWINN_TOK_DIMS);
  assert_int_equal(t.n_idx, 2);
  assert_int_equal(t.idx[1], 5);
  assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
  assert_int_equal(t.kind, TWINN_TOK_STRING);
  assert_string_equal(t.text, "a\"b");
  assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
  assert_int_equal(t.kind, TWINN_TOK_SYMBOL);
  assert_string_equal(t.text, "-");
  assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
  assert_string_equal(t.text, "<=");
  assert_int_equal(twinn_sexp_next(sx, &t, &err), TWINN_OK);
  assert_int_equal(t.kind, TWINN_TOK_EOF);
  twinn_sexp_free(sx);
}

static void test_sexp_errors(void **state) {
  static const char *const bad[] = {"1.2.3", "1e",     "-.",   "1e999",  "X[1",
                                    "X[a]",  "\"open", "<2.0", "a\001b", "X[1]]"};
  size_t i;
  twinn_sexp *sx;
  twinn_token t;
  twinn_error err;
  twinn_status st;
  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    twinn_error_clear(&err);
    assert_int_equal(twinn_sexp_open_buffer(bad[i], strlen(bad[i]), "t", &sx, &err), TWINN_OK);
    do st = twinn_sexp_next(sx, &t, &err);
    while (st == TWINN_OK && t.kind != TWINN_TOK_EOF);
    if (st != TWINN_ERR_SYNTAX) fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(err.line, 1);
    assert_true(err.col >= 1);
    twinn_sexp_free(sx);
  }
}

/* ---- the shared corpus ------------------------------------------------------------------- */

static void test_corpus(void **state) {
  static const struct {
    const char *file;
    size_t nets, vars, scalars, asserts, lins;
    twinn_vnnlib_version version;
  } cases[] = {
      {"acc.vnnlib", 1, 2, 4, 8, 9, TWINN_VNNLIB_2_0},
      {"cartpole.vnnlib", 1, 2, 6, 9, 9, TWINN_VNNLIB_2_0},
      {"drones.vnnlib", 1, 2, 13, 25, 26, TWINN_VNNLIB_2_0},
      {"dubinsrejoin.vnnlib", 1, 2, 16, 17, 22, TWINN_VNNLIB_2_0},
      {"initialized.vnnlib", 1, 2, 10, 1, 1, TWINN_VNNLIB_2_1},
      {"intermediate_nodes.vnnlib", 1, 3, 8, 10, 13, TWINN_VNNLIB_2_0},
      {"lunarlander.vnnlib", 1, 2, 12, 17, 17, TWINN_VNNLIB_2_0},
      {"mnist.vnnlib", 1, 2, 794, 8, 8, TWINN_VNNLIB_2_0},
      {"multiple_networks.vnnlib", 3, 6, 30, 12, 17, TWINN_VNNLIB_2_0},
      {"single_network.vnnlib", 1, 2, 7, 10, 15, TWINN_VNNLIB_2_0},
      {"test_linearise.vnnlib", 1, 2, 4, 21, 23, TWINN_VNNLIB_2_0},
  };
  size_t i, n_files = 0;
  char path[1024];
  DIR *d;
  struct dirent *e;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    twinn_prop *p;
    snprintf(path, sizeof path, CORPUS "%s", cases[i].file);
    p = parse_path(path);
    assert_int_equal(p->version, cases[i].version);
    assert_int_equal(p->n_nets, cases[i].nets);
    assert_int_equal(p->n_vars, cases[i].vars);
    assert_int_equal(p->n_scalars, cases[i].scalars);
    assert_int_equal(p->nodes[p->root].kind, TWINN_BOOL_AND);
    assert_int_equal(p->nodes[p->root].n_kids, cases[i].asserts);
    assert_int_equal(p->n_lins, cases[i].lins);
    assert_int_equal(p->n_nonlinear, 0);
    twinn_prop_free(p);
  }
  /* Every file in the corpus is in the table above. */
  d = opendir(CORPUS);
  assert_non_null(d);
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    int known = 0;
    if (len < 7 || strcmp(e->d_name + len - 7, ".vnnlib") != 0) continue;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) known |= !strcmp(cases[i].file, e->d_name);
    if (!known) fail_msg("corpus file %s has no expected counts", e->d_name);
    n_files++;
  }
  closedir(d);
  assert_int_equal(n_files, sizeof cases / sizeof cases[0]);
}

static void test_multiple_networks(void **state) {
  twinn_prop *p = parse_path(CORPUS "multiple_networks.vnnlib");
  const twinn_var *v;
  size_t elem = 99;
  (void)state;
  assert_string_equal(p->nets[0].name, "AcasXu");
  assert_int_equal(p->nets[0].rel, TWINN_NETREL_NONE);
  assert_int_equal(p->nets[1].rel, TWINN_NETREL_EQUAL);
  assert_int_equal(p->nets[1].rel_to, 0);
  assert_int_equal(p->nets[2].rel, TWINN_NETREL_ISO);
  assert_int_equal(p->nets[2].rel_to, 0);
  /* equal-to networks still get their own scalars. */
  v = twinn_prop_net_var(p, 1, TWINN_VAR_INPUT);
  assert_non_null(v);
  assert_string_equal(v->name, "C");
  assert_int_equal(v->offset, 10);
  v = twinn_prop_net_var(p, 2, TWINN_VAR_OUTPUT);
  assert_string_equal(v->name, "F");
  assert_int_equal(v->offset, 25);
  assert_null(twinn_prop_net_var(p, 2, TWINN_VAR_HIDDEN));
  assert_null(twinn_prop_net_var(p, 3, TWINN_VAR_INPUT));
  assert_int_equal(twinn_prop_net_count(p, 0, TWINN_VAR_INPUT), 1);
  assert_int_equal(twinn_prop_net_count(p, 0, TWINN_VAR_HIDDEN), 0);
  v = twinn_prop_var_of(p, 13, &elem);
  assert_string_equal(v->name, "C");
  assert_int_equal(elem, 3);
  v = twinn_prop_var_of(p, 29, &elem);
  assert_string_equal(v->name, "F");
  assert_int_equal(elem, 4);
  assert_null(twinn_prop_var_of(p, 30, &elem));
  /* (>= D[0] 3.99...) is stored as -D[0] + 3.99... <= 0. */
  {
    const twinn_lin *l = root_lin(p, 10);
    assert_int_equal(l->n_terms, 1);
    assert_int_equal(p->term_var[l->first], 15);
    assert_true(p->term_coef[l->first] == -1.0);
    assert_true(l->c0 == 3.991125645861615);
    assert_int_equal(l->cmp, TWINN_CMP_LE);
  }
  twinn_prop_free(p);
}

static void test_hidden_and_shapes(void **state) {
  twinn_prop *p = parse_path(CORPUS "intermediate_nodes.vnnlib");
  const twinn_var *h;
  (void)state;
  h = twinn_prop_net_var(p, 0, TWINN_VAR_HIDDEN);
  assert_non_null(h);
  assert_string_equal(h->node_name, "onnx");
  assert_int_equal(h->rank, 2);
  assert_int_equal(h->dims[1], 2);
  assert_int_equal(h->n, 2);
  assert_int_equal(h->offset, 3);
  assert_int_equal(h->elem_type, 0);
  twinn_prop_free(p);
  p = parse_path(CORPUS "mnist.vnnlib");
  /* X[27,27] is element 27 * 28 + 27 = 783 of X. */
  {
    const twinn_lin *l = root_lin(p, 2);
    assert_int_equal(p->term_var[l->first], 783);
    assert_true(p->term_coef[l->first] == -1.0);
  }
  twinn_prop_free(p);
  p = parse_str("(vnnlib-version <2.1>) (declare-network n (declare-input I float16 [1,2] "
                "initialized) (declare-output O int8 []))"
                "(assert (<= O (* 2 I[0,1])))");
  assert_int_equal(p->vars[0].elem_type, 10);
  assert_string_equal(p->vars[0].type_name, "float16");
  assert_int_equal(p->vars[1].elem_type, 3);
  assert_int_equal(p->vars[1].rank, 0);
  assert_int_equal(p->vars[1].n, 1);
  twinn_prop_free(p);
}

/* ---- linear forms ------------------------------------------------------------------------ */

typedef struct {
  double c[4]; /* coefficient of X[0], X[1], X[2], Y */
  double c0;
  twinn_cmp cmp;
} expect_lin;

static void check_lin(const twinn_prop *p, size_t li, const expect_lin *e) {
  const twinn_lin *l = &p->lins[li];
  double got[4] = {0, 0, 0, 0};
  size_t t, nz = 0;
  for (t = 0; t < l->n_terms; t++) {
    assert_true(p->term_var[l->first + t] < 4);
    assert_true(p->term_coef[l->first + t] != 0.0); /* zeros are dropped */
    if (t) assert_true(p->term_var[l->first + t] > p->term_var[l->first + t - 1]); /* merged */
    got[p->term_var[l->first + t]] = p->term_coef[l->first + t];
  }
  for (t = 0; t < 4; t++) {
    if (got[t] != e->c[t])
      fail_msg("lin %zu: coefficient %zu is %g, expected %g", li, t, got[t], e->c[t]);
    nz += e->c[t] != 0.0;
  }
  assert_int_equal(l->n_terms, nz);
  if (l->c0 != e->c0) fail_msg("lin %zu: constant %g, expected %g", li, l->c0, e->c0);
  assert_int_equal(l->cmp, e->cmp);
  assert_int_equal(l->nonlinear, 0);
}

/* The forms stated in test_linearise.vnnlib's comments, as e = lhs - rhs, e CMP 0. */
static void test_linearise(void **state) {
  static const expect_lin want[] = {
      {{1, 0, 0, 0}, 5.0 - 10.0, TWINN_CMP_LE},  /* (+ X[0] 5.0) <= 10 */
      {{-1, 0, 0, 0}, 0, TWINN_CMP_LE},          /* (- X[0]) */
      {{1, 0, 0, 0}, -5, TWINN_CMP_LE},          /* (- X[0] 5.0) */
      {{-1, 0, 0, 0}, 5, TWINN_CMP_LE},          /* (- 5.0 X[0]) */
      {{3.5, 0, 0, 0}, -7, TWINN_CMP_LE},        /* (* X[0] 3.5) <= 7 */
      {{-2, 0, 0, 0}, 0, TWINN_CMP_LE},          /* (* -2.0 X[0]) */
      {{2, 0, 0, 0}, 5.0 - 10.0, TWINN_CMP_LE},  /* (+ X[0] 5.0 X[0]) <= 10 */
      {{0, 0, 0, 0}, 0, TWINN_CMP_LE},           /* (- X[0] X[0]): cancels */
      {{1, -1, 0, 0}, 3, TWINN_CMP_LE},          /* (+ (- X[0] X[1]) 3.0) */
      {{1, -1, -1, 0}, 0, TWINN_CMP_LE},         /* (- X[0] X[1] X[2]) */
      {{-1, -1, 0, 0}, 5, TWINN_CMP_LE},         /* (+ 5.0 (* -1.0 X[0]) (- X[1])) */
      {{0, 0, 0, 0}, 0, TWINN_CMP_LE},           /* (* X[0] 0.0) */
      {{1, 0, 0, 0}, -5, TWINN_CMP_LE},          /* (* X[0] 1.0) <= 5 */
      {{1, 0, 0, 0}, -5, TWINN_CMP_LE},          /* (+ X[0] 0.0) <= 5 */
      {{0, 0, 0, 0}, 15.0 - 20.0, TWINN_CMP_LE}, /* (* 2.0 3.0 2.5) <= 20 */
      {{0, 0, 0, 0}, 8.0 - 10.0, TWINN_CMP_LE},  /* (+ 1.0 2.0 5.0) <= 10 */
      {{-1, 1, 0, 0}, 3, TWINN_CMP_LE},          /* (- (+ X[1] 5.0) (+ X[0] 2.0)) */
      {{6, 0, 0, 0}, 2.0 - 20.0, TWINN_CMP_LE},  /* (+ (* 2.0 (* X[0] 3.0)) 2.0) <= 20 */
      {{1, 1, -1, 0}, -10, TWINN_CMP_LE},        /* >= flipped: -(10 - X1 + X2 - X0) <= 0 */
      {{-1, 0, 0, 0}, 0, TWINN_CMP_LE},          /* (and (>= X[0] 0.0) */
      {{0, 1, 0, 0}, -100, TWINN_CMP_LE},        /*      (<= X[1] 100.0)) */
      {{0, 0, 0, 1}, 5, TWINN_CMP_LE},           /* (or (<= Y -5.0) */
      {{0, 0, 0, -1}, 5, TWINN_CMP_LE},          /*     (>= Y 5.0)) */
  };
  twinn_prop *p = parse_path(CORPUS "test_linearise.vnnlib");
  size_t i;
  (void)state;
  assert_int_equal(p->n_lins, sizeof want / sizeof want[0]);
  for (i = 0; i < p->n_lins; i++) check_lin(p, i, &want[i]);
  /* The last two asserts are an AND and an OR of two comparisons each. */
  {
    const twinn_bool *r = &p->nodes[p->root];
    assert_int_equal(p->nodes[p->kids[r->first_kid + 19]].kind, TWINN_BOOL_AND);
    assert_int_equal(p->nodes[p->kids[r->first_kid + 20]].kind, TWINN_BOOL_OR);
    assert_int_equal(p->nodes[p->kids[r->first_kid + 20]].n_kids, 2);
  }
  twinn_prop_free(p);
}

static void test_nonlinear(void **state) {
  twinn_prop *p = parse_str("(vnnlib-version <2.0>) (declare-network n (declare-input X real "
                            "[2]) (declare-output Y real []))"
                            "(assert (<= (* X[0] X[1]) 10.0))"
                            "(assert (<= (* X[0] (+ X[1] 2.0)) 25.0))"
                            "(assert (<= (* (- X[0] X[0]) X[1]) 1.0))"
                            "(assert (<= Y 1.0))"
                            "(assert (<= (* 0 X[0] X[1]) 1.0))"
                            "(assert (<= (* X[0] 0 X[1]) 1.0))");
  double x[3] = {0, 0, 0};
  (void)state;
  assert_int_equal(p->n_lins, 6);
  assert_int_equal(p->n_nonlinear, 2);
  assert_int_equal(p->lins[0].nonlinear, 1);
  assert_int_equal(p->lins[1].nonlinear, 1);
  /* (X0 - X0) * X1 is 0 * X1: linear. */
  assert_int_equal(p->lins[2].nonlinear, 0);
  assert_int_equal(p->lins[2].n_terms, 0);
  /* A zero factor anywhere in a product leaves the constant 0. */
  assert_int_equal(p->lins[4].nonlinear, 0);
  assert_int_equal(p->lins[4].n_terms, 0);
  assert_int_equal(p->lins[5].nonlinear, 0);
  assert_int_equal(p->lins[5].n_terms, 0);
  /* A nonlinear constraint never holds for twinn. */
  assert_int_equal(twinn_prop_holds(p, x), 0);
  twinn_prop_free(p);
}

/* ---- evaluation -------------------------------------------------------------------------- */

static void test_holds(void **state) {
  twinn_prop *p = parse_str("(vnnlib-version <2.0>) (declare-network n (declare-input X real "
                            "[2]) (declare-output Y real [2]))"
                            "(assert (<= -1 X[0])) (assert (<= X[0] 1))"
                            "(assert (or (and (> Y[0] Y[1]) (!= X[1] 0.5)) (== Y[0] 7)))");
  static const struct {
    double x[4];
    int holds;
  } pts[] = {
      {{0, 0, 2, 1}, 1},   /* Y0 > Y1, X1 != 0.5 */
      {{0, 0.5, 2, 1}, 0}, /* X1 == 0.5 and Y0 != 7 */
      {{0, 0.5, 7, 1}, 1}, /* the second disjunct */
      {{0, 0, 1, 1}, 0},   /* strict: Y0 == Y1 fails */
      {{1, 0, 2, 1}, 1},   /* X0 on its bound */
      {{1.5, 0, 2, 1}, 0}, /* X0 out of bounds */
      {{0, 0, NAN, 1}, 0}, /* NaN satisfies nothing */
      {{0, NAN, 7, 1}, 1}, /* the NaN sits in a disjunct that is not needed */
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof pts / sizeof pts[0]; i++)
    if (twinn_prop_holds(p, pts[i].x) != pts[i].holds) fail_msg("point %zu", i);
  assert_true(twinn_prop_lin_eval(p, &p->lins[0], pts[0].x) == -1.0);
  twinn_prop_free(p);
  /* An empty conjunction holds; an empty disjunction does not. */
  p = parse_str("(vnnlib-version <2.0>) (declare-network n (declare-input X real []) "
                "(declare-output Y real []))");
  assert_int_equal(p->nodes[p->root].n_kids, 0);
  {
    double x[2] = {0, 0};
    assert_int_equal(twinn_prop_holds(p, x), 1);
    twinn_prop_free(p);
    p = parse_str("(vnnlib-version <2.0>) (declare-network n (declare-input X real []) "
                  "(declare-output Y real [])) (assert (or))");
    assert_int_equal(twinn_prop_holds(p, x), 0);
  }
  twinn_prop_free(p);
}

static void test_v1(void **state) {
  twinn_prop *p = parse_path(SETS "acasxu_single/vnnlib/prop_1.vnnlib");
  const twinn_var *x, *y;
  (void)state;
  assert_int_equal(p->version, TWINN_VNNLIB_1_0);
  assert_int_equal(p->n_nets, 1);
  assert_string_equal(p->nets[0].name, "");
  x = twinn_prop_net_var(p, 0, TWINN_VAR_INPUT);
  y = twinn_prop_net_var(p, 0, TWINN_VAR_OUTPUT);
  assert_string_equal(x->name, "X");
  assert_string_equal(y->name, "Y");
  assert_int_equal(x->n, 5);
  assert_int_equal(y->n, 5);
  assert_int_equal(y->offset, 5);
  twinn_prop_free(p);
  /* 2.0 terms inside a 1.0 file, constants declared out of order. */
  p = parse_str("(declare-const Y_1 Real)(declare-const X_0 Real)(declare-const Y_0 Real)"
                "(assert (>= (- Y_1 Y_0) 0.05))");
  assert_int_equal(p->n_scalars, 3);
  {
    const twinn_lin *l = &p->lins[0];
    assert_int_equal(l->n_terms, 2);
    assert_int_equal(p->term_var[l->first], 1);
    assert_true(p->term_coef[l->first] == 1.0);
    assert_int_equal(p->term_var[l->first + 1], 2);
    assert_true(p->term_coef[l->first + 1] == -1.0);
    assert_true(l->c0 == 0.05);
  }
  twinn_prop_free(p);
}

/* ---- the benchmark properties ------------------------------------------------------------ */

static void test_benchmark_sets(void **state) {
  DIR *sets, *d;
  struct dirent *s, *e;
  char dir[1024], path[2048];
  size_t n_files = 0;
  (void)state;
  sets = opendir(SETS);
  assert_non_null(sets);
  while ((s = readdir(sets)) != NULL) {
    if (s->d_name[0] == '.') continue;
    snprintf(dir, sizeof dir, SETS "%s/vnnlib", s->d_name);
    d = opendir(dir);
    if (!d) continue;
    while ((e = readdir(d)) != NULL) {
      twinn_prop *p;
      char *text;
      if (!strstr(e->d_name, ".vnnlib")) continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      p = parse_path(path);
      text = strstr(e->d_name, ".gz") ? NULL : slurp(path, NULL);
      if (text) assert_int_equal(p->nodes[p->root].n_kids, count_asserts(text));
      assert_true(p->n_nets == 1 || p->n_nets == 2);
      if (p->version == TWINN_VNNLIB_1_0) {
        assert_int_equal(p->n_nets, 1);
      } else {
        assert_int_equal(p->nets[1].rel, TWINN_NETREL_ISO);
        assert_int_equal(twinn_prop_net_var(p, 0, TWINN_VAR_INPUT)->n,
                         twinn_prop_net_var(p, 1, TWINN_VAR_INPUT)->n);
      }
      free(text);
      twinn_prop_free(p);
      n_files++;
    }
    closedir(d);
  }
  closedir(sets);
  assert_true(n_files >= 100);
}

static void test_gzip(void **state) {
  char *dir = make_tempdir(), path[512];
  size_t n;
  char *text = slurp(CORPUS "multiple_networks.vnnlib", &n);
  gzFile gz;
  twinn_prop *a, *b;
  size_t i;
  (void)state;
  snprintf(path, sizeof path, "%s/q.vnnlib.gz", dir);
  gz = gzopen(path, "wb");
  assert_non_null(gz);
  assert_int_equal(gzwrite(gz, text, (unsigned)n), (int)n);
  assert_int_equal(gzclose(gz), Z_OK);
  a = parse_path(path);
  b = parse_str(text);
  assert_int_equal(a->n_lins, b->n_lins);
  assert_int_equal(a->n_nodes, b->n_nodes);
  for (i = 0; i < a->n_terms; i++) {
    assert_int_equal(a->term_var[i], b->term_var[i]);
    assert_true(a->term_coef[i] == b->term_coef[i]);
  }
  assert_string_equal(a->path, path);
  twinn_prop_free(a);
  twinn_prop_free(b);
  /* A truncated gzip stream is an I/O error, not a silently shorter property. */
  {
    twinn_error err;
    twinn_prop *p = NULL;
    FILE *f;
    char *z;
    size_t zn;
    z = slurp(path, &zn);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(z, 1, zn / 2, f), zn / 2);
    fclose(f);
    twinn_error_clear(&err);
    assert_int_equal(twinn_vnnlib_parse_file(path, &p, &err), TWINN_ERR_IO);
    assert_null(p);
    free(z);
  }
  /* Cut where the text read so far is a complete query (inside a trailing comment, before a
   * last assert that makes it unsatisfiable): still an I/O error. zlib returns 0 bytes there
   * as at a real end, so only gzerror tells them apart. */
  {
    twinn_error err;
    twinn_prop *p = NULL;
    FILE *f;
    char *z;
    size_t zn, k;
    uint64_t st = 12345;
    gz = gzopen(path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, text, (unsigned)n), (int)n);
    gzputs(gz, "\n;");
    for (k = 0; k < 65536; k++) { /* letters that deflate cannot shrink much */
      st = st * 6364136223846793005ull + 1442695040888963407ull;
      gzputc(gz, 'a' + (int)((st >> 33) % 26));
    }
    gzputs(gz, "\n(assert (>= A[0] 1e30))\n");
    assert_int_equal(gzclose(gz), Z_OK);
    z = slurp(path, &zn);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(z, 1, zn * 9 / 10, f), zn * 9 / 10);
    fclose(f);
    twinn_error_clear(&err);
    assert_int_equal(twinn_vnnlib_parse_file(path, &p, &err), TWINN_ERR_IO);
    assert_null(p);
    assert_non_null(strstr(err.msg, "truncated"));
    free(z);
  }
  unlink(path);
  {
    twinn_error err;
    twinn_prop *p = NULL;
    twinn_error_clear(&err);
    assert_int_equal(twinn_vnnlib_parse_file(path, &p, &err), TWINN_ERR_IO);
    assert_string_equal(err.path, path);
  }
  rmdir(dir);
  free(dir);
  free(text);
}

/* ---- size and nesting -------------------------------------------------------------------- */

/* Growable test text (the test's own buffer, not the library's). */
typedef struct {
  char *s;
  size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) {
  va_list ap;
  int k;
  for (;;) {
    va_start(ap, fmt);
    k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    assert_true(k >= 0);
    if (b->s && (size_t)k < b->cap - b->n) break;
    b->cap = 2 * (b->cap + (size_t)k + 64);
    b->s = realloc(b->s, b->cap);
    assert_non_null(b->s);
  }
  b->n += (size_t)k;
}

static const char HEADER[] = "(vnnlib-version <2.0>) (declare-network n (declare-input X real "
                             "[4]) (declare-output Y real [3]))\n";

/* Many side-by-side disjunctions stay one node per operator (no DNF expansion). */
static void test_tree_linear(void **state) {
  sbuf b = {0};
  size_t i, k = 300;
  twinn_prop *p;
  (void)state;
  sb_add(&b, "%s", HEADER);
  for (i = 0; i < k; i++)
    sb_add(&b, "(assert (or (and (<= X[0] %zu) (>= X[1] 1)) (and (<= Y[0] Y[1]) (< Y[2] 0))))\n",
           i);
  p = parse_str(b.s);
  assert_int_equal(p->n_lins, 4 * k);
  assert_int_equal(p->n_nodes, 7 * k + 1); /* 4 comparisons + 2 and + 1 or, then the root */
  assert_int_equal(p->n_kids, 6 * k + k);
  twinn_prop_free(p);
  free(b.s);
}

static void test_nesting(void **state) {
  sbuf b = {0};
  size_t i, deep = 3 * TWINN_SEXP_DEFAULT_MAX_DEPTH;
  twinn_prop *p = NULL;
  twinn_error err;
  twinn_vnnlib_options opts = {0};
  double x[7] = {0, 0, 0, 0, 0, 0, 0};
  char msg[1200];
  (void)state;
  /* Over the limit: a clear error at the first parenthesis too deep. */
  sb_add(&b, "%s(assert ", HEADER);
  for (i = 0; i < deep; i++) sb_add(&b, "(and ");
  twinn_error_clear(&err);
  assert_int_equal(twinn_vnnlib_parse_buffer(b.s, b.n, "deep.vnnlib", &p, &err), TWINN_ERR_SYNTAX);
  assert_null(p);
  twinn_error_format(&err, msg, sizeof msg);
  assert_non_null(strstr(msg, "nesting deeper than 10000"));
  assert_int_equal(err.line, 2);
  /* Within the limit, deep nesting parses and evaluates. */
  b.n = 0;
  sb_add(&b, "%s(assert ", HEADER);
  for (i = 0; i < 2000; i++) sb_add(&b, i % 2 ? "(and " : "(or ");
  sb_add(&b, "(<= X[0] (- (- 1)))");
  for (i = 0; i < 2000; i++) sb_add(&b, ")");
  sb_add(&b, ")");
  p = parse_str(b.s);
  assert_int_equal(p->n_nodes, 2002);
  assert_int_equal(twinn_prop_holds(p, x), 1);
  x[0] = 2;
  assert_int_equal(twinn_prop_holds(p, x), 0);
  twinn_prop_free(p);
  /* The limit is an option. */
  opts.max_depth = 100;
  twinn_error_clear(&err);
  assert_int_equal(twinn_vnnlib_parse_buffer_opts(b.s, b.n, "d", &opts, &p, &err),
                   TWINN_ERR_SYNTAX);
  assert_non_null(strstr(err.msg, "nesting deeper than 100 "));
  free(b.s);
}

static void test_big_file(void **state) {
  char *dir = make_tempdir(), path[512];
  FILE *f;
  size_t i = 0, bytes = 0;
  twinn_prop *p;
  (void)state;
  snprintf(path, sizeof path, "%s/big.vnnlib", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(HEADER, f);
  while (bytes < 20u * 1000 * 1000) {
    int k = fprintf(f,
                    "(assert (or (<= X[%zu] %.17g) (and (>= (+ Y[%zu] (* -0.5 X[%zu])) 1e-05) "
                    "(< Y[1] .05)))) ; %zu\n",
                    i % 4, (double)i / 7.0, i % 3, (i + 1) % 4, i);
    assert_true(k > 0);
    bytes += (size_t)k;
    i++;
  }
  assert_int_equal(fclose(f), 0);
  p = parse_path(path);
  assert_int_equal(p->nodes[p->root].n_kids, i);
  assert_int_equal(p->n_lins, 3 * i);
  /* The last assert was read whole: its bound is (i-1)/7. */
  {
    const twinn_bool *last = &p->nodes[p->kids[p->nodes[p->root].first_kid + i - 1]];
    const twinn_lin *l = &p->lins[p->nodes[p->kids[last->first_kid]].lin];
    assert_true(l->c0 == -((double)(i - 1) / 7.0));
  }
  twinn_prop_free(p);
  unlink(path);
  rmdir(dir);
  free(dir);
}

/* ---- malformed input --------------------------------------------------------------------- */

static void test_bad_files(void **state) {
  DIR *d = opendir(BAD);
  struct dirent *e;
  char path[1024], msg[1200];
  size_t n_files = 0;
  (void)state;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name), n;
    char *want;
    twinn_prop *p = NULL;
    twinn_error err;
    twinn_status st;
    const char *base;
    if (len < 7 || strcmp(e->d_name + len - 7, ".vnnlib") != 0) continue;
    snprintf(path, sizeof path, BAD "%s.expected", e->d_name);
    want = slurp(path, &n);
    while (n && (want[n - 1] == '\n' || want[n - 1] == '\r')) want[--n] = '\0';
    assert_true(n > 0);
    snprintf(path, sizeof path, BAD "%s", e->d_name);
    twinn_error_clear(&err);
    st = twinn_vnnlib_parse_file(path, &p, &err);
    if (st == TWINN_OK) fail_msg("%s was accepted", e->d_name);
    assert_null(p);
    assert_true(err.line > 0);
    /* Compare with the basename in place of the path as given. */
    base = strrchr(err.path, '/');
    memmove(err.path, base ? base + 1 : err.path, strlen(base ? base + 1 : err.path) + 1);
    twinn_error_format(&err, msg, sizeof msg);
    if (strncmp(msg, want, n) != 0) fail_msg("%s:\n  got:  %s\n  want: %s", e->d_name, msg, want);
    free(want);
    n_files++;
  }
  closedir(d);
  assert_true(n_files >= 30);
}

/* ---- out of memory ----------------------------------------------------------------------- */

static void oom_sweep(const char *text, size_t len, int from_file, const char *path) {
  unsigned long k;
  int done = 0;
  for (k = 1; !done && k < 100000; k++) {
    twinn_prop *p = NULL;
    twinn_error err;
    twinn_status st;
    twinn_error_clear(&err);
    twinn_alloc_set_fail(k);
    st = from_file ? twinn_vnnlib_parse_file(path, &p, &err)
                   : twinn_vnnlib_parse_buffer(text, len, "oom.vnnlib", &p, &err);
    if (st == TWINN_OK) {
      assert_non_null(p);
      /* Success only once the failing allocation is past the parse's last one. */
      assert_true(twinn_alloc_count() < k);
      done = 1;
    } else {
      if (st != TWINN_ERR_NOMEM) fail_msg("k=%lu: status %d (%s)", k, (int)st, err.msg);
      assert_null(p);
      assert_int_equal(err.status, TWINN_ERR_NOMEM);
    }
    twinn_prop_free(p);
  }
  twinn_alloc_set_fail(0);
  assert_true(done);
  assert_true(k > 10);
}

static void test_oom(void **state) {
  size_t n;
  char *text = slurp(CORPUS "multiple_networks.vnnlib", &n);
  (void)state;
  oom_sweep(text, n, 0, NULL);
  free(text);
  text = slurp(SETS "acasxu_single/vnnlib/prop_6.vnnlib", &n);
  oom_sweep(text, n, 0, NULL);
  free(text);
  oom_sweep(NULL, 0, 1, CORPUS "intermediate_nodes.vnnlib");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sexp_tokens),
      cmocka_unit_test(test_sexp_errors),
      cmocka_unit_test(test_corpus),
      cmocka_unit_test(test_multiple_networks),
      cmocka_unit_test(test_hidden_and_shapes),
      cmocka_unit_test(test_linearise),
      cmocka_unit_test(test_nonlinear),
      cmocka_unit_test(test_holds),
      cmocka_unit_test(test_v1),
      cmocka_unit_test(test_benchmark_sets),
      cmocka_unit_test(test_gzip),
      cmocka_unit_test(test_tree_linear),
      cmocka_unit_test(test_nesting),
      cmocka_unit_test(test_big_file),
      cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_oom),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
