/* vnnlib.c: recursive-descent VNN-LIB parser over the sexp.h token stream, building prop.h's
 * flat arrays through propbuild.h in one pass. Recursion follows parenthesis nesting, which the
 * tokenizer bounds; memory is linear in the input. Linear terms are folded in double as they
 * are read (like reading any decimal constant); terms of one scalar are merged, zeros dropped.
 * It must not evaluate networks or touch anything beyond the property it returns. */
#include "vnnlib.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "propbuild.h"
#include "sexp.h"

typedef struct {
  size_t var; /* global scalar index */
  double coef;
  size_t seq; /* reading order: merged coefficients are summed in it, deterministically */
} term;

/* A VNN-LIB 1.0 (declare-const X_k Real): collected, then laid out once all are read. */
typedef struct {
  size_t k;
  unsigned long line, col;
} const_decl;

/* The constant part and flags of a term being read; its variable part is the tail of the
 * scratch array, from where the term started. */
typedef struct {
  double c;
  int nonlinear;
} form;

typedef enum { MODE_NONE = 0, MODE_V1, MODE_V2 } query_mode;

typedef struct {
  twinn_sexp *sx;
  const char *name;
  twinn_error *err;
  twinn_propbuild b; /* the property being built */
  twinn_prop *p;     /* b.p */
  twinn_token tok;
  term *sc; /* scratch terms of the comparison being read */
  size_t n_sc, cap_sc, seq;
  size_t *ks; /* pending children of open and/or nodes, then the asserts */
  size_t n_ks, cap_ks;
  query_mode mode;
  int any_command;
  size_t n_asserts;
  unsigned long first_assert_line;
  const_decl *xs, *ys;
  size_t n_xs, cap_xs, n_ys, cap_ys;
} parser;

/* ---- errors ------------------------------------------------------------------------------ */

static twinn_status fail_at(parser *P, twinn_status st, unsigned long line, unsigned long col,
                            const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static twinn_status fail_at(parser *P, twinn_status st, unsigned long line, unsigned long col,
                            const char *fmt, ...) {
  char msg[sizeof P->err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return twinn_error_set(P->err, st, P->name, line, col, "%s", msg);
}

static twinn_status nomem(parser *P) {
  return fail_at(P, TWINN_ERR_NOMEM, P->tok.line, P->tok.col, "out of memory");
}

static void describe(const twinn_token *t, char *buf, size_t n) {
  switch (t->kind) {
  case TWINN_TOK_EOF: snprintf(buf, n, "end of file"); break;
  case TWINN_TOK_LPAREN: snprintf(buf, n, "'('"); break;
  case TWINN_TOK_RPAREN: snprintf(buf, n, "')'"); break;
  case TWINN_TOK_SYMBOL:
  case TWINN_TOK_NUMBER: snprintf(buf, n, "'%.64s'", t->text); break;
  case TWINN_TOK_INDEXED: snprintf(buf, n, "'%.64s[...]'", t->text); break;
  case TWINN_TOK_DIMS: snprintf(buf, n, "'[...]'"); break;
  case TWINN_TOK_VERSION: snprintf(buf, n, "'<%.64s>'", t->text); break;
  case TWINN_TOK_STRING: snprintf(buf, n, "a string"); break;
  }
}

/* "expected WHAT, found TOKEN" at the current token (end of file says so). */
static twinn_status expected(parser *P, const char *what) {
  char found[96];
  if (P->tok.kind == TWINN_TOK_EOF)
    return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                   "unexpected end of file, expected %s", what);
  describe(&P->tok, found, sizeof found);
  return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col, "expected %s, found %s", what,
                 found);
}

static twinn_status next(parser *P) { return twinn_sexp_next(P->sx, &P->tok, P->err); }

/* Reads the ')' closing (WHAT ...) opened at line:col. */
static twinn_status expect_close(parser *P, const char *what, unsigned long line,
                                 unsigned long col) {
  twinn_status st = next(P);
  char found[96];
  if (st != TWINN_OK) return st;
  if (P->tok.kind == TWINN_TOK_RPAREN) return TWINN_OK;
  if (P->tok.kind == TWINN_TOK_EOF)
    return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                   "unexpected end of file: (%s ... opened at %lu:%lu is not closed", what, line,
                   col);
  describe(&P->tok, found, sizeof found);
  return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                 "expected ')' after (%s ..., found %s", what, found);
}

/* ---- growth and the tree --------------------------------------------------------------- */

#define RESERVE(P, arr, cap, need)                                                                 \
  do {                                                                                             \
    if ((need) > (cap)) {                                                                          \
      void *q_ = twinn_propbuild_grow((arr), &(cap), (need), sizeof *(arr));                       \
      if (!q_) return nomem(P);                                                                    \
      (arr) = q_;                                                                                  \
    }                                                                                              \
  } while (0)

/* An AND/OR node whose children are the pending ks[mark ..]; pops them. */
static twinn_status close_andor(parser *P, twinn_bool_kind kind, size_t mark, size_t *node) {
  twinn_status st =
      twinn_propbuild_add_andor(&P->b, kind, P->ks ? P->ks + mark : NULL, P->n_ks - mark, node);
  P->n_ks = mark;
  return st;
}

static twinn_status push_kid(parser *P, size_t node) {
  RESERVE(P, P->ks, P->cap_ks, P->n_ks + 1);
  P->ks[P->n_ks++] = node;
  return TWINN_OK;
}

/* ---- linear forms ------------------------------------------------------------------------ */

static int term_cmp(const void *a, const void *b) {
  const term *x = a, *y = b;
  if (x->var != y->var) return x->var < y->var ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts sc[from ..] by scalar, merges equal scalars and drops zero coefficients. */
static void compact(parser *P, size_t from) {
  size_t i, out = from;
  if (P->n_sc - from > 1) qsort(P->sc + from, P->n_sc - from, sizeof *P->sc, term_cmp);
  for (i = from; i < P->n_sc; i++) {
    if (out > from && P->sc[out - 1].var == P->sc[i].var)
      P->sc[out - 1].coef += P->sc[i].coef;
    else
      P->sc[out++] = P->sc[i];
  }
  P->n_sc = out;
  for (i = out = from; i < P->n_sc; i++)
    if (P->sc[i].coef != 0.0) P->sc[out++] = P->sc[i];
  P->n_sc = out;
}

static void scale(parser *P, size_t from, double k) {
  size_t i;
  for (i = from; i < P->n_sc; i++) P->sc[i].coef *= k;
}

static twinn_status push_term(parser *P, size_t var) {
  RESERVE(P, P->sc, P->cap_sc, P->n_sc + 1);
  P->sc[P->n_sc].var = var;
  P->sc[P->n_sc].coef = 1.0;
  P->sc[P->n_sc].seq = P->seq++;
  P->n_sc++;
  return TWINN_OK;
}

/* ---- variable references ----------------------------------------------------------------- */

static int is_nonfinite_name(const char *s) {
  if (*s == '+' || *s == '-') s++;
  return strcmp(s, "nan") == 0 || strcmp(s, "NaN") == 0 || strcmp(s, "inf") == 0 ||
         strcmp(s, "Inf") == 0 || strcmp(s, "infinity") == 0 || strcmp(s, "Infinity") == 0;
}

/* k of a 1.0 name PREFIX_k (no sign, no leading zeros), or 0 if s is not such a name. */
static int v1_index(const char *s, char prefix, size_t *k) {
  size_t v = 0;
  if (s[0] != prefix || s[1] != '_' || s[2] < '0' || s[2] > '9') return 0;
  if (s[2] == '0' && s[3] != '\0') return 0;
  for (s += 2; *s; s++) {
    if (*s < '0' || *s > '9' || v > (SIZE_MAX - 9) / 10) return 0;
    v = v * 10 + (size_t)(*s - '0');
  }
  *k = v;
  return 1;
}

/* The global scalar index named by the current token (SYMBOL or INDEXED); *scalar is 0 on
 * failure, so it is defined on every path (the error paths end in fail_at, whose status the
 * compiler cannot see to be non-OK). */
static twinn_status resolve(parser *P, size_t *scalar) {
  const twinn_token *t = &P->tok;
  const twinn_var *v;
  size_t i, k, at, off = 0;
  *scalar = 0;
  if (P->mode == MODE_V1 && t->kind == TWINN_TOK_SYMBOL) {
    if (v1_index(t->text, 'X', &k) && k < P->p->vars[0].n) {
      *scalar = P->p->vars[0].offset + k;
      return TWINN_OK;
    }
    if (v1_index(t->text, 'Y', &k) && k < P->p->vars[1].n) {
      *scalar = P->p->vars[1].offset + k;
      return TWINN_OK;
    }
  }
  at = P->mode == MODE_V2 ? twinn_propbuild_find_var(&P->b, t->text) : 0;
  if (!at) {
    if (t->kind == TWINN_TOK_SYMBOL && is_nonfinite_name(t->text))
      return fail_at(P, TWINN_ERR_SYNTAX, t->line, t->col,
                     "'%s': NaN and infinity are not VNN-LIB numbers", t->text);
    return fail_at(P, TWINN_ERR_SEMANTIC, t->line, t->col, "unknown variable '%.64s'", t->text);
  }
  v = &P->p->vars[at - 1];
  if (t->n_idx != v->rank)
    return fail_at(P, TWINN_ERR_SEMANTIC, t->line, t->col,
                   "wrong number of indices: '%s' has rank %zu, got %zu", v->name, v->rank,
                   t->n_idx);
  for (i = 0; i < v->rank; i++) {
    if (t->idx[i] >= v->dims[i])
      return fail_at(P, TWINN_ERR_SEMANTIC, t->line, t->col,
                     "index %zu out of range for dimension %zu of '%s' (size %zu)", t->idx[i], i,
                     v->name, v->dims[i]);
    off = off * v->dims[i] + t->idx[i];
  }
  *scalar = v->offset + off;
  return TWINN_OK;
}

/* ---- terms ------------------------------------------------------------------------------- */

/* term := NUMBER | V | V[i,...] | (- term) | (+ term+) | (- term term+) | (* term+)
 * Reads the term starting at the current token; its variable part is appended to the scratch
 * array, its constant part and nonlinearity go to *f. */
static twinn_status parse_term(parser *P, form *f) {
  twinn_status st;
  unsigned long line = P->tok.line, col = P->tok.col;
  size_t start = P->n_sc, arg_start, s, n_args = 0;
  char op;
  form a;
  f->c = 0.0;
  f->nonlinear = 0;
  if (P->tok.kind == TWINN_TOK_NUMBER) {
    f->c = P->tok.num;
    return TWINN_OK;
  }
  if (P->tok.kind == TWINN_TOK_SYMBOL || P->tok.kind == TWINN_TOK_INDEXED) {
    if ((st = resolve(P, &s)) != TWINN_OK) return st;
    return push_term(P, s);
  }
  if (P->tok.kind != TWINN_TOK_LPAREN) return expected(P, "a term");
  if ((st = next(P)) != TWINN_OK) return st;
  if (P->tok.kind != TWINN_TOK_SYMBOL || P->tok.len != 1 ||
      (P->tok.text[0] != '+' && P->tok.text[0] != '-' && P->tok.text[0] != '*'))
    return expected(P, "'+', '-' or '*'");
  op = P->tok.text[0];
  for (;;) {
    if ((st = next(P)) != TWINN_OK) return st;
    if (P->tok.kind == TWINN_TOK_RPAREN) break;
    if (P->tok.kind == TWINN_TOK_EOF)
      return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                     "unexpected end of file: (%c ... opened at %lu:%lu is not closed", op, line,
                     col);
    arg_start = P->n_sc;
    if ((st = parse_term(P, &a)) != TWINN_OK) return st;
    n_args++;
    if (op == '+' || n_args == 1) {
      if (op == '*') compact(P, arg_start);
      f->c += a.c;
      f->nonlinear |= a.nonlinear;
    } else if (op == '-') {
      scale(P, arg_start, -1.0);
      f->c -= a.c;
      f->nonlinear |= a.nonlinear;
    } else { /* '*': at most one factor may have variables */
      compact(P, arg_start);
      if (f->nonlinear || a.nonlinear || (arg_start > start && P->n_sc > arg_start)) {
        f->nonlinear = 1;
      } else if (arg_start == start) { /* constant so far: scale the new factor */
        scale(P, arg_start, f->c);
        f->c *= a.c;
        compact(P, start); /* a zero factor leaves no variable: (* 0 X Y) is 0, linear */
      } else {             /* the new factor is a constant */
        scale(P, start, a.c);
        f->c *= a.c;
        compact(P, start);
      }
    }
  }
  if (n_args == 0)
    return fail_at(P, TWINN_ERR_SYNTAX, line, col, "(%c) needs at least one argument", op);
  if (op == '-' && n_args == 1) {
    scale(P, start, -1.0);
    f->c = -f->c;
  }
  return TWINN_OK;
}

/* ---- Booleans ---------------------------------------------------------------------------- */

/* A comparison (OP a b) whose operator has just been read; adds a LIN node: e CMP 0 with
 * e = a - b (or b - a for > and >=, so that only LE/LT/EQ/NE remain). */
static twinn_status parse_cmp(parser *P, const char *op, unsigned long line, unsigned long col,
                              size_t *node) {
  twinn_prop *p = P->p;
  twinn_status st;
  size_t mark = P->n_sc, mid, i, lin;
  form a, b;
  twinn_lin proto;
  twinn_cmp cmp;
  int flip = 0;
  if (strcmp(op, "<=") == 0) {
    cmp = TWINN_CMP_LE;
  } else if (strcmp(op, "<") == 0) {
    cmp = TWINN_CMP_LT;
  } else if (strcmp(op, ">=") == 0) {
    cmp = TWINN_CMP_LE;
    flip = 1;
  } else if (strcmp(op, ">") == 0) {
    cmp = TWINN_CMP_LT;
    flip = 1;
  } else if (strcmp(op, "==") == 0 || strcmp(op, "=") == 0) {
    cmp = TWINN_CMP_EQ;
  } else {
    cmp = TWINN_CMP_NE;
  }
  if ((st = next(P)) != TWINN_OK) return st;
  if ((st = parse_term(P, &a)) != TWINN_OK) return st;
  mid = P->n_sc;
  if ((st = next(P)) != TWINN_OK) return st;
  if ((st = parse_term(P, &b)) != TWINN_OK) return st;
  if ((st = next(P)) != TWINN_OK) return st;
  if (P->tok.kind != TWINN_TOK_RPAREN) {
    if (P->tok.kind == TWINN_TOK_EOF) return expected(P, "')'");
    return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                   "expected ')' after (%s a b: a comparison takes exactly two terms", op);
  }
  scale(P, mid, -1.0);
  a.c -= b.c;
  if (flip) {
    scale(P, mark, -1.0);
    a.c = -a.c;
  }
  compact(P, mark);
  /* Folding finite numbers can still overflow ((* 1e200 1e200), (+ 1e308 1e308)): an
   * infinite or NaN constant or coefficient means nothing over the reals, as an overflowing
   * number does not. */
  for (i = mark; i < P->n_sc && isfinite(a.c); i++)
    if (!isfinite(P->sc[i].coef)) a.c = NAN;
  if (!isfinite(a.c))
    return fail_at(P, TWINN_ERR_SYNTAX, line, col,
                   "the constant arithmetic of this comparison overflows the double range");
  memset(&proto, 0, sizeof proto);
  proto.c0 = a.c == 0.0 ? 0.0 : a.c; /* no -0.0 */
  proto.cmp = cmp;
  proto.nonlinear = a.nonlinear || b.nonlinear;
  proto.line = line;
  proto.col = col;
  st = twinn_propbuild_add_lin(&P->b, &proto, P->n_sc - mark, &lin, node);
  if (st != TWINN_OK) return st;
  for (i = 0; i < P->n_sc - mark; i++) {
    p->term_var[p->lins[lin].first + i] = P->sc[mark + i].var;
    p->term_coef[p->lins[lin].first + i] = P->sc[mark + i].coef;
  }
  P->n_sc = mark;
  return TWINN_OK;
}

/* bool := (and bool*) | (or bool*) | (CMP term term), CMP in < <= > >= == != */
static twinn_status parse_bool(parser *P, size_t *node) {
  twinn_status st;
  unsigned long line = P->tok.line, col = P->tok.col;
  size_t mark, kid;
  twinn_bool_kind kind;
  const char *op;
  static const char *const cmps[] = {"<=", "<", ">=", ">", "==", "=", "!="};
  size_t i;
  if (P->tok.kind != TWINN_TOK_LPAREN)
    return expected(P, "a Boolean: (and ...), (or ...) or a comparison");
  if ((st = next(P)) != TWINN_OK) return st;
  if (P->tok.kind != TWINN_TOK_SYMBOL) return expected(P, "'and', 'or' or a comparison");
  op = P->tok.text;
  for (i = 0; i < sizeof cmps / sizeof cmps[0]; i++)
    if (strcmp(op, cmps[i]) == 0) return parse_cmp(P, cmps[i], line, col, node);
  if (strcmp(op, "and") == 0)
    kind = TWINN_BOOL_AND;
  else if (strcmp(op, "or") == 0)
    kind = TWINN_BOOL_OR;
  else
    return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                   "unknown Boolean operator '%.64s' (VNN-LIB has and, or, <, <=, >, >=, ==, !=)",
                   op);
  mark = P->n_ks;
  for (;;) {
    if ((st = next(P)) != TWINN_OK) return st;
    if (P->tok.kind == TWINN_TOK_RPAREN) break;
    if (P->tok.kind == TWINN_TOK_EOF)
      return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                     "unexpected end of file: (%s ... opened at %lu:%lu is not closed",
                     kind == TWINN_BOOL_AND ? "and" : "or", line, col);
    if ((st = parse_bool(P, &kid)) != TWINN_OK) return st;
    if ((st = push_kid(P, kid)) != TWINN_OK) return st;
  }
  return close_andor(P, kind, mark, node);
}

/* ---- declarations ------------------------------------------------------------------------ */

static int const_cmp(const void *a, const void *b) {
  const const_decl *x = a, *y = b;
  if (x->k != y->k) return x->k < y->k ? -1 : 1;
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  return x->col < y->col ? -1 : x->col > y->col;
}

/* Checks that PREFIX_0 .. PREFIX_{n-1} are each declared once; n is the count. */
static twinn_status check_consts(parser *P, const_decl *d, size_t n, char prefix) {
  size_t i;
  if (n == 0)
    return fail_at(P, TWINN_ERR_SEMANTIC, P->tok.line, P->tok.col,
                   "no %c_ constants declared (a VNN-LIB 1.0 query needs X_0.. and Y_0..)", prefix);
  qsort(d, n, sizeof *d, const_cmp);
  for (i = 0; i < n; i++) {
    if (i > 0 && d[i].k == d[i - 1].k)
      return fail_at(P, TWINN_ERR_SEMANTIC, d[i].line, d[i].col,
                     "duplicate declaration of '%c_%zu' (first declared at %lu:%lu)", prefix,
                     d[i].k, d[i - 1].line, d[i - 1].col);
    if (d[i].k != i)
      return fail_at(P, TWINN_ERR_SEMANTIC, d[i].line, d[i].col,
                     "'%c_%zu' is declared but '%c_%zu' is not: indices must run from 0 "
                     "without gaps",
                     prefix, d[i].k, prefix, i);
  }
  return TWINN_OK;
}

/* Lays out a 1.0 query: one network "" with input X [n] and output Y [m]. */
static twinn_status finish_v1(parser *P) {
  twinn_status st;
  size_t dim;
  if ((st = check_consts(P, P->xs, P->n_xs, 'X')) != TWINN_OK) return st;
  if ((st = check_consts(P, P->ys, P->n_ys, 'Y')) != TWINN_OK) return st;
  if ((st = twinn_propbuild_add_net(&P->b, "", P->xs[0].line, P->xs[0].col)) != TWINN_OK) return st;
  dim = P->n_xs;
  if ((st = twinn_propbuild_add_var(&P->b, "X", TWINN_VAR_INPUT, "Real", 0, &dim, 1, P->xs[0].line,
                                    P->xs[0].col)) != TWINN_OK)
    return st;
  dim = P->n_ys;
  return twinn_propbuild_add_var(&P->b, "Y", TWINN_VAR_OUTPUT, "Real", 0, &dim, 1, P->ys[0].line,
                                 P->ys[0].col);
}

/* (declare-const X_k Real) | (declare-const Y_k Real), the "(declare-const" already read. */
static twinn_status parse_const(parser *P, unsigned long line, unsigned long col) {
  twinn_status st;
  size_t k;
  unsigned long vl, vc;
  const_decl *d;
  int is_x;
  if ((st = next(P)) != TWINN_OK) return st;
  if (P->tok.kind != TWINN_TOK_SYMBOL) return expected(P, "a constant name X_i or Y_j");
  vl = P->tok.line;
  vc = P->tok.col;
  is_x = v1_index(P->tok.text, 'X', &k);
  if (!is_x && !v1_index(P->tok.text, 'Y', &k))
    return fail_at(P, TWINN_ERR_SEMANTIC, vl, vc,
                   "VNN-LIB 1.0 constants must be named X_i (inputs) or Y_j (outputs), not '%.64s'",
                   P->tok.text);
  if (is_x) {
    RESERVE(P, P->xs, P->cap_xs, P->n_xs + 1);
    d = &P->xs[P->n_xs++];
  } else {
    RESERVE(P, P->ys, P->cap_ys, P->n_ys + 1);
    d = &P->ys[P->n_ys++];
  }
  d->k = k;
  d->line = vl;
  d->col = vc;
  if ((st = next(P)) != TWINN_OK) return st;
  if (P->tok.kind != TWINN_TOK_SYMBOL) return expected(P, "the sort 'Real'");
  if (strcmp(P->tok.text, "Real") != 0 && strcmp(P->tok.text, "real") != 0)
    return fail_at(P, TWINN_ERR_UNSUPPORTED, P->tok.line, P->tok.col,
                   "sort '%.64s' is not supported; VNN-LIB 1.0 constants are Real", P->tok.text);
  return expect_close(P, "declare-const", line, col);
}

/* (declare-input V TYPE DIMS [initialized]) | (declare-hidden V TYPE DIMS "node")
 * | (declare-output V TYPE DIMS), the "(declare-..." already read. */
static twinn_status parse_var(parser *P, twinn_var_role role, const char *what, unsigned long line,
                              unsigned long col) {
  twinn_status st;
  char *name = NULL, *type_name = NULL;
  size_t dims[TWINN_SEXP_MAX_INDICES], rank, i;
  twinn_elem_type type;
  unsigned long vl, vc;
  if ((st = next(P)) != TWINN_OK) return st;
  if (P->tok.kind != TWINN_TOK_SYMBOL) return expected(P, "a variable name");
  vl = P->tok.line;
  vc = P->tok.col;
  name = twinn_strdup(P->tok.text);
  if (!name) return nomem(P);
  if ((st = next(P)) != TWINN_OK) goto fail;
  if (P->tok.kind != TWINN_TOK_SYMBOL) {
    st = expected(P, "an element type (real, float32, ...)");
    goto fail;
  }
  if (!twinn_propbuild_elem_type(P->tok.text, &type)) {
    st = fail_at(P, TWINN_ERR_SEMANTIC, P->tok.line, P->tok.col, "unknown element type '%.64s'",
                 P->tok.text);
    goto fail;
  }
  type_name = twinn_strdup(P->tok.text);
  if (!type_name) {
    st = nomem(P);
    goto fail;
  }
  if ((st = next(P)) != TWINN_OK) goto fail;
  if (P->tok.kind != TWINN_TOK_DIMS) {
    st = expected(P, "a shape [d1,...] ([] for a scalar)");
    goto fail;
  }
  rank = P->tok.n_idx;
  for (i = 0; i < rank; i++) dims[i] = P->tok.idx[i];
  if ((st = twinn_propbuild_add_var(&P->b, name, role, type_name, type, dims, rank, vl, vc)) !=
      TWINN_OK)
    goto fail;
  if ((st = next(P)) != TWINN_OK) goto fail;
  if (role == TWINN_VAR_HIDDEN) {
    if (P->tok.kind != TWINN_TOK_STRING) {
      st = expected(P, "the ONNX node name as a string");
      goto fail;
    }
    P->p->vars[P->p->n_vars - 1].node_name = twinn_strdup(P->tok.text);
    if (!P->p->vars[P->p->n_vars - 1].node_name) {
      st = nomem(P);
      goto fail;
    }
    if ((st = next(P)) != TWINN_OK) goto fail;
  } else if (role == TWINN_VAR_INPUT && P->tok.kind == TWINN_TOK_SYMBOL &&
             strcmp(P->tok.text, "initialized") == 0) {
    if (P->p->version < TWINN_VNNLIB_2_1) {
      st = fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                   "'initialized' needs (vnnlib-version <2.1>)");
      goto fail;
    }
    if ((st = next(P)) != TWINN_OK) goto fail;
  }
  if (P->tok.kind != TWINN_TOK_RPAREN) {
    if (P->tok.kind == TWINN_TOK_EOF)
      st = fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                   "unexpected end of file: (%s ... opened at %lu:%lu is not closed", what, line,
                   col);
    else
      st = expected(P, "')'");
    goto fail;
  }
  st = TWINN_OK;
fail:
  twinn_free(name);
  twinn_free(type_name);
  return st;
}

/* (declare-network NAME [(equal-to N) | (isomorphic-to N)] input+ hidden* output+), the
 * "(declare-network" already read. */
static twinn_status parse_network(parser *P, unsigned long line, unsigned long col) {
  twinn_status st;
  twinn_prop_net *net;
  size_t at, self;
  int phase = 0; /* 0: relation allowed, 1: inputs, 2: hidden, 3: outputs */
  unsigned long sl, sc;
  const char *op;
  twinn_var_role role;
  if ((st = next(P)) != TWINN_OK) return st;
  if (P->tok.kind != TWINN_TOK_SYMBOL) return expected(P, "a network name");
  at = twinn_propbuild_find_net(&P->b, P->tok.text);
  if (at)
    return fail_at(P, TWINN_ERR_SEMANTIC, P->tok.line, P->tok.col,
                   "duplicate declaration of network '%.64s' (first declared at %lu:%lu)",
                   P->tok.text, P->p->nets[at - 1].line, P->p->nets[at - 1].col);
  if ((st = twinn_propbuild_add_net(&P->b, P->tok.text, line, col)) != TWINN_OK) return st;
  self = P->p->n_nets - 1;
  for (;;) {
    if ((st = next(P)) != TWINN_OK) return st;
    if (P->tok.kind == TWINN_TOK_RPAREN) break;
    if (P->tok.kind != TWINN_TOK_LPAREN) {
      if (P->tok.kind == TWINN_TOK_EOF)
        return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                       "unexpected end of file: (declare-network ... opened at %lu:%lu is not "
                       "closed",
                       line, col);
      return expected(P, "'(' or ')' in (declare-network ...");
    }
    sl = P->tok.line;
    sc = P->tok.col;
    if ((st = next(P)) != TWINN_OK) return st;
    if (P->tok.kind != TWINN_TOK_SYMBOL) return expected(P, "a declaration");
    op = P->tok.text;
    net = &P->p->nets[self];
    if (strcmp(op, "equal-to") == 0 || strcmp(op, "isomorphic-to") == 0) {
      twinn_netrel rel = op[0] == 'e' ? TWINN_NETREL_EQUAL : TWINN_NETREL_ISO;
      if (phase != 0)
        return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                       "(%s ...) must come first in (declare-network ...", op);
      if ((st = next(P)) != TWINN_OK) return st;
      if (P->tok.kind != TWINN_TOK_SYMBOL) return expected(P, "a network name");
      at = twinn_propbuild_find_net(&P->b, P->tok.text);
      if (!at || at - 1 == self)
        return fail_at(P, TWINN_ERR_SEMANTIC, P->tok.line, P->tok.col,
                       "unknown network '%.64s' (it must be declared before)", P->tok.text);
      if (P->p->nets[at - 1].rel != TWINN_NETREL_NONE)
        return fail_at(P, TWINN_ERR_SEMANTIC, P->tok.line, P->tok.col,
                       "network '%.64s' is itself %s another network; name that one instead",
                       P->tok.text,
                       P->p->nets[at - 1].rel == TWINN_NETREL_EQUAL ? "equal to" : "isomorphic to");
      net->rel = rel;
      net->rel_to = at - 1;
      phase = 1;
      if ((st = expect_close(P, rel == TWINN_NETREL_EQUAL ? "equal-to" : "isomorphic-to", sl,
                             sc)) != TWINN_OK)
        return st;
      continue;
    }
    if (strcmp(op, "declare-input") == 0) {
      role = TWINN_VAR_INPUT;
      if (phase > 1)
        return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                       "declare-input after declare-%s: inputs come first",
                       phase == 2 ? "hidden" : "output");
      phase = 1;
    } else if (strcmp(op, "declare-hidden") == 0) {
      role = TWINN_VAR_HIDDEN;
      if (phase == 0 || phase > 2)
        return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col, "%s",
                       phase == 0 ? "declare-hidden before any declare-input"
                                  : "declare-hidden after declare-output");
      phase = 2;
    } else if (strcmp(op, "declare-output") == 0) {
      role = TWINN_VAR_OUTPUT;
      if (phase == 0)
        return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                       "declare-output before any declare-input");
      phase = 3;
    } else {
      return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                     "unknown declaration '%.64s' in (declare-network ... (expected "
                     "declare-input, declare-hidden or declare-output)",
                     op);
    }
    if ((st = parse_var(P, role,
                        role == TWINN_VAR_INPUT    ? "declare-input"
                        : role == TWINN_VAR_HIDDEN ? "declare-hidden"
                                                   : "declare-output",
                        sl, sc)) != TWINN_OK)
      return st;
  }
  if (phase < 3)
    return fail_at(P, TWINN_ERR_SEMANTIC, P->tok.line, P->tok.col, "network '%s' declares no %s",
                   P->p->nets[self].name, phase == 0 ? "input" : "output");
  return TWINN_OK;
}

/* ---- commands ---------------------------------------------------------------------------- */

/* query := (vnnlib-version <2.x>)? declaration* (assert bool)* */
static twinn_status parse_query(parser *P) {
  twinn_status st;
  twinn_prop *p = P->p;
  unsigned long line, col;
  size_t node;
  const char *cmd;
  for (;;) {
    if ((st = next(P)) != TWINN_OK) return st;
    if (P->tok.kind == TWINN_TOK_EOF) break;
    if (P->tok.kind != TWINN_TOK_LPAREN) return expected(P, "'(' starting a command");
    line = P->tok.line;
    col = P->tok.col;
    if ((st = next(P)) != TWINN_OK) return st;
    if (P->tok.kind != TWINN_TOK_SYMBOL) return expected(P, "a command name");
    cmd = P->tok.text;
    if (strcmp(cmd, "vnnlib-version") == 0) {
      if (P->any_command)
        return fail_at(P, TWINN_ERR_SYNTAX, line, col,
                       "(vnnlib-version ...) must be the first command");
      if ((st = next(P)) != TWINN_OK) return st;
      if (P->tok.kind != TWINN_TOK_VERSION) return expected(P, "a version such as <2.0>");
      if (strcmp(P->tok.text, "2.0") == 0)
        p->version = TWINN_VNNLIB_2_0;
      else if (strcmp(P->tok.text, "2.1") == 0)
        p->version = TWINN_VNNLIB_2_1;
      else
        return fail_at(P, TWINN_ERR_UNSUPPORTED, P->tok.line, P->tok.col,
                       "VNN-LIB version <%.64s> is not supported (2.0 and 2.1 are)", P->tok.text);
      P->mode = MODE_V2;
      if ((st = expect_close(P, "vnnlib-version", line, col)) != TWINN_OK) return st;
    } else if (strcmp(cmd, "declare-network") == 0 || strcmp(cmd, "declare-const") == 0) {
      int v1 = cmd[8] == 'c';
      if (P->n_asserts)
        return fail_at(P, TWINN_ERR_SYNTAX, line, col,
                       "declaration after an assert (line %lu): declarations come first",
                       P->first_assert_line);
      if (v1 && P->mode == MODE_V2)
        return fail_at(P, TWINN_ERR_SYNTAX, line, col,
                       "declare-const is VNN-LIB 1.0; a 2.x query uses declare-network");
      if (!v1 && P->mode != MODE_V2)
        return fail_at(P, TWINN_ERR_SYNTAX, line, col,
                       P->mode == MODE_V1
                           ? "declare-network in a VNN-LIB 1.0 query (declare-const)"
                           : "missing (vnnlib-version <2.0>) before (declare-network ...");
      if (v1) {
        P->mode = MODE_V1;
        p->version = TWINN_VNNLIB_1_0;
        st = parse_const(P, line, col);
      } else {
        st = parse_network(P, line, col);
      }
      if (st != TWINN_OK) return st;
    } else if (strcmp(cmd, "assert") == 0) {
      if (P->mode == MODE_NONE || (P->mode == MODE_V2 && p->n_nets == 0))
        return fail_at(P, TWINN_ERR_SEMANTIC, line, col, "assert before any declaration");
      if (P->n_asserts == 0) {
        P->first_assert_line = line;
        if (P->mode == MODE_V1 && (st = finish_v1(P)) != TWINN_OK) return st;
      }
      P->n_asserts++;
      if ((st = next(P)) != TWINN_OK) return st;
      if ((st = parse_bool(P, &node)) != TWINN_OK) return st;
      if ((st = push_kid(P, node)) != TWINN_OK) return st;
      if ((st = expect_close(P, "assert", line, col)) != TWINN_OK) return st;
    } else {
      return fail_at(P, TWINN_ERR_SYNTAX, P->tok.line, P->tok.col,
                     "unknown command '%.64s' (expected vnnlib-version, declare-network, "
                     "declare-const or assert)",
                     cmd);
    }
    P->any_command = 1;
  }
  if (P->mode == MODE_NONE || (P->mode == MODE_V2 && p->n_nets == 0))
    return fail_at(P, TWINN_ERR_SEMANTIC, P->tok.line, P->tok.col, "the query declares no network");
  if (P->mode == MODE_V1 && P->n_asserts == 0 && (st = finish_v1(P)) != TWINN_OK) return st;
  if ((st = close_andor(P, TWINN_BOOL_AND, 0, &node)) != TWINN_OK) return st;
  p->root = node;
  return TWINN_OK;
}

static twinn_status run(twinn_sexp *sx, const twinn_vnnlib_options *opts, twinn_prop **out,
                        twinn_error *err) {
  parser P;
  twinn_status st;
  *out = NULL;
  memset(&P, 0, sizeof P);
  P.sx = sx;
  P.name = twinn_sexp_name(sx);
  P.err = err;
  if (opts && opts->max_depth) twinn_sexp_set_max_depth(sx, opts->max_depth);
  if ((st = twinn_propbuild_init(&P.b, P.name, err)) != TWINN_OK) goto fail;
  P.p = P.b.p;
  if ((st = parse_query(&P)) != TWINN_OK) goto fail;
  *out = twinn_propbuild_take(&P.b);
fail:
  twinn_propbuild_release(&P.b);
  twinn_free(P.sc);
  twinn_free(P.ks);
  twinn_free(P.xs);
  twinn_free(P.ys);
  /* A failure path that forgot to say why must still not look like success. */
  if (st != TWINN_OK && err && err->status == TWINN_OK)
    twinn_error_set(err, st, P.name, 0, 0, "%s", twinn_status_name(st));
  return st;
}

twinn_status twinn_vnnlib_parse_file_opts(const char *path, const twinn_vnnlib_options *opts,
                                          twinn_prop **out, twinn_error *err) {
  twinn_sexp *sx;
  twinn_status st;
  *out = NULL;
  st = twinn_sexp_open_file(path, &sx, err);
  if (st != TWINN_OK) return st;
  st = run(sx, opts, out, err);
  twinn_sexp_free(sx);
  return st;
}

twinn_status twinn_vnnlib_parse_buffer_opts(const char *data, size_t n, const char *name,
                                            const twinn_vnnlib_options *opts, twinn_prop **out,
                                            twinn_error *err) {
  twinn_sexp *sx;
  twinn_status st;
  *out = NULL;
  st = twinn_sexp_open_buffer(data, n, name, &sx, err);
  if (st != TWINN_OK) return st;
  st = run(sx, opts, out, err);
  twinn_sexp_free(sx);
  return st;
}

twinn_status twinn_vnnlib_parse_file(const char *path, twinn_prop **out, twinn_error *err) {
  return twinn_vnnlib_parse_file_opts(path, NULL, out, err);
}

twinn_status twinn_vnnlib_parse_buffer(const char *data, size_t n, const char *name,
                                       twinn_prop **out, twinn_error *err) {
  return twinn_vnnlib_parse_buffer_opts(data, n, name, NULL, out, err);
}
