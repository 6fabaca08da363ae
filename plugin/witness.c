/* witness.c: the sat-witness writers (2.0 and VNN-COMP 1.0 forms) and the reader for both.
 * Invariant: what the writers print, the reader reads back to the same values (float32-valued
 * variables as float32 with %.9g, others with %.9g only when that round-trips, else %.17g).
 * The reader holds the whole stream in memory (witnesses are small) and trusts no size in it. */
#include "witness.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ONNX FLOAT, FLOAT16, BFLOAT16: types whose values are float32 numbers. */
static int is_f32_type(twinn_elem_type t) { return t == 1 || t == 10 || t == 16; }

/* A value of a float32-valued variable is printed as the float32 nearest to it with %.9g
 * (which reads back to that float32); any other value with %.9g when that reads back to the
 * same double, else %.17g. */
static void format_value(char *buf, size_t n, const twinn_var *var, double v) {
  if (is_f32_type(var->elem_type)) {
    snprintf(buf, n, "%.9g", (double)(float)v);
    return;
  }
  snprintf(buf, n, "%.9g", v);
  if (strtod(buf, NULL) != v) snprintf(buf, n, "%.17g", v);
}

static int write_header(FILE *out, const twinn_var *v) {
  size_t d;
  if (fprintf(out, "%s %s [", v->name, v->type_name ? v->type_name : "real") < 0) return -1;
  for (d = 0; d < v->rank; d++)
    if (fprintf(out, d ? ",%zu" : "%zu", v->dims[d]) < 0) return -1;
  return fputs("]\n", out) < 0 ? -1 : 0;
}

twinn_status twinn_witness_write_v2(FILE *out, const twinn_prop *prop, const double *x) {
  char buf[64];
  size_t i, k;
  for (i = 0; i < prop->n_vars; i++) {
    const twinn_var *v = &prop->vars[i];
    if (write_header(out, v) < 0) return TWINN_ERR_IO;
    for (k = 0; k < v->n; k++) {
      format_value(buf, sizeof buf, v, x[v->offset + k]);
      if (fprintf(out, "%s\n", buf) < 0) return TWINN_ERR_IO;
    }
  }
  return fflush(out) == 0 && !ferror(out) ? TWINN_OK : TWINN_ERR_IO;
}

twinn_status twinn_witness_write_v1(FILE *out, const twinn_prop *prop, const double *x) {
  char buf[64];
  size_t i, k, done = 0;
  for (i = 0; i < prop->n_vars; i++) {
    const twinn_var *v = &prop->vars[i];
    for (k = 0; k < v->n; k++, done++) {
      const char *open = done == 0 ? "((" : " (";
      const char *close = done + 1 == prop->n_scalars ? "))" : ")";
      int r;
      format_value(buf, sizeof buf, v, x[v->offset + k]);
      r = v->rank == 0 ? fprintf(out, "%s%s %s%s\n", open, v->name, buf, close)
                       : fprintf(out, "%s%s_%zu %s%s\n", open, v->name, k, buf, close);
      if (r < 0) return TWINN_ERR_IO;
    }
  }
  if (done == 0 && fputs("()\n", out) < 0) return TWINN_ERR_IO;
  return fflush(out) == 0 && !ferror(out) ? TWINN_OK : TWINN_ERR_IO;
}

/* A cursor over the witness text with 1-based line and column for messages. */
typedef struct {
  const char *s;
  size_t len, pos;
  unsigned long line, col;
} cursor;

static int cur_peek(const cursor *c) { return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1; }

static void cur_next(cursor *c) {
  if (c->pos >= c->len) return;
  if (c->s[c->pos] == '\n') {
    c->line++;
    c->col = 1;
  } else {
    c->col++;
  }
  c->pos++;
}

static void skip_space(cursor *c, int newlines) {
  int ch;
  while ((ch = cur_peek(c)) >= 0 && isspace(ch) && (newlines || ch != '\n')) cur_next(c);
}

/* Copies the next atom (a run of characters other than space and parentheses) into buf.
 * Returns 1 on success, 0 if there is none or it does not fit. */
static int read_atom(cursor *c, char *buf, size_t n) {
  size_t k = 0;
  int ch;
  while ((ch = cur_peek(c)) >= 0 && !isspace(ch) && ch != '(' && ch != ')') {
    if (k + 1 >= n) return 0;
    buf[k++] = (char)ch;
    cur_next(c);
  }
  buf[k] = '\0';
  return k > 0;
}

/* The global scalar index named by a VNN-COMP name: a scalar variable's own name, or V_i for
 * element i of variable V. Returns 0 if no variable matches. */
static int lookup_scalar(const twinn_prop *prop, const char *name, size_t *s) {
  size_t i, len = strlen(name);
  for (i = 0; i < prop->n_vars; i++) {
    const twinn_var *v = &prop->vars[i];
    size_t vl = strlen(v->name);
    if (v->n == 1 && strcmp(v->name, name) == 0) {
      *s = v->offset;
      return 1;
    }
    if (len > vl + 1 && strncmp(name, v->name, vl) == 0 && name[vl] == '_' &&
        isdigit((unsigned char)name[vl + 1])) {
      char *end;
      unsigned long long k;
      errno = 0;
      k = strtoull(name + vl + 1, &end, 10);
      if (*end == '\0' && errno == 0 && k < v->n) {
        *s = v->offset + (size_t)k;
        return 1;
      }
    }
  }
  return 0;
}

/* Parses a finite number that fills all of atom. */
static int parse_number(const char *atom, double *out) {
  char *end;
  if (!atom[0]) return 0;
  errno = 0;
  *out = strtod(atom, &end);
  return *end == '\0' && isfinite(*out);
}

/* Stores value into scalar s (as float32 for a float32-valued variable, undoing the %.9g
 * printing), refusing a second value for the same scalar. */
static twinn_status store(const twinn_prop *prop, double *x, unsigned char *seen, size_t s,
                          double value, const cursor *c, twinn_error *err) {
  size_t elem;
  const twinn_var *v;
  if (seen[s]) {
    v = twinn_prop_var_of(prop, s, &elem);
    return twinn_error_set(err, TWINN_ERR_SEMANTIC, NULL, c->line, c->col,
                           "value of %s element %zu given twice", v ? v->name : "?", elem);
  }
  v = twinn_prop_var_of(prop, s, &elem);
  seen[s] = 1;
  x[s] = v && is_f32_type(v->elem_type) ? (double)(float)value : value;
  return TWINN_OK;
}

/* v1 := '(' pair* ')' | pair*  with  pair := '(' NAME NUMBER ')' */
static twinn_status read_v1(cursor *c, const twinn_prop *prop, double *x, unsigned char *seen,
                            twinn_error *err) {
  char name[256], num[128];
  int wrapped = 0;
  twinn_status st;
  size_t save_pos = c->pos;
  unsigned long save_line = c->line, save_col = c->col;
  cur_next(c); /* the first '(' */
  skip_space(c, 1);
  if (cur_peek(c) == '(') {
    wrapped = 1;
  } else {
    c->pos = save_pos;
    c->line = save_line;
    c->col = save_col;
  }
  for (;;) {
    size_t s;
    double value;
    unsigned long nl, ncol;
    skip_space(c, 1);
    if (cur_peek(c) == ')' && wrapped) {
      cur_next(c);
      skip_space(c, 1);
      if (cur_peek(c) >= 0)
        return twinn_error_set(err, TWINN_ERR_SYNTAX, NULL, c->line, c->col,
                               "unexpected text after the witness");
      return TWINN_OK;
    }
    if (cur_peek(c) < 0) {
      if (!wrapped) return TWINN_OK;
      return twinn_error_set(err, TWINN_ERR_SYNTAX, NULL, c->line, c->col,
                             "unexpected end of witness: missing ')'");
    }
    if (cur_peek(c) != '(')
      return twinn_error_set(err, TWINN_ERR_SYNTAX, NULL, c->line, c->col,
                             "expected '(' starting a (NAME value) pair");
    cur_next(c);
    skip_space(c, 1);
    nl = c->line;
    ncol = c->col;
    if (!read_atom(c, name, sizeof name))
      return twinn_error_set(err, TWINN_ERR_SYNTAX, NULL, nl, ncol, "expected a variable name");
    skip_space(c, 1);
    if (!read_atom(c, num, sizeof num) || !parse_number(num, &value))
      return twinn_error_set(err, TWINN_ERR_SYNTAX, NULL, c->line, c->col,
                             "expected a finite number after %s", name);
    skip_space(c, 1);
    if (cur_peek(c) != ')')
      return twinn_error_set(err, TWINN_ERR_SYNTAX, NULL, c->line, c->col,
                             "expected ')' after (%s %s", name, num);
    cur_next(c);
    if (!lookup_scalar(prop, name, &s))
      return twinn_error_set(err, TWINN_ERR_SEMANTIC, NULL, nl, ncol,
                             "unknown variable '%s' in witness", name);
    if ((st = store(prop, x, seen, s, value, c, err)) != TWINN_OK) return st;
  }
}

/* Reads the rest of the current line, trimmed, into buf; returns 0 if it does not fit. */
static int read_line(cursor *c, char *buf, size_t n) {
  size_t k = 0;
  int ch;
  skip_space(c, 0);
  while ((ch = cur_peek(c)) >= 0 && ch != '\n') {
    if (k + 1 >= n) return 0;
    buf[k++] = (char)ch;
    cur_next(c);
  }
  while (k > 0 && isspace((unsigned char)buf[k - 1])) k--;
  buf[k] = '\0';
  return 1;
}

/* Element count of a `[d1,d2,...]` shape ("[]" = 1); 0 if malformed. */
static size_t shape_count(const char *s) {
  size_t count = 1;
  if (*s++ != '[') return 0;
  while (isspace((unsigned char)*s)) s++;
  if (*s == ']') return s[1] == '\0' ? 1 : 0;
  for (;;) {
    char *end;
    unsigned long long d;
    while (isspace((unsigned char)*s)) s++;
    if (!isdigit((unsigned char)*s)) return 0;
    errno = 0;
    d = strtoull(s, &end, 10);
    if (errno || d == 0 || count > SIZE_MAX / d) return 0;
    count *= (size_t)d;
    s = end;
    while (isspace((unsigned char)*s)) s++;
    if (*s == ']') return s[1] == '\0' ? count : 0;
    if (*s++ != ',') return 0;
  }
}

/* v2 := (NAME TYPE SHAPE '\n' (NUMBER '\n'){count})*  -- one value per line */
static twinn_status read_v2(cursor *c, const twinn_prop *prop, double *x, unsigned char *seen,
                            twinn_error *err) {
  char name[256], type[64], shape[256], num[128];
  twinn_status st;
  for (;;) {
    const twinn_var *v = NULL;
    unsigned long hl, hc;
    size_t i, k;
    skip_space(c, 1);
    if (cur_peek(c) < 0) return TWINN_OK;
    hl = c->line;
    hc = c->col;
    if (!read_atom(c, name, sizeof name))
      return twinn_error_set(err, TWINN_ERR_SYNTAX, NULL, hl, hc,
                             "expected a header line 'NAME TYPE [dims]'");
    skip_space(c, 0);
    if (!read_atom(c, type, sizeof type) || !read_line(c, shape, sizeof shape) ||
        shape_count(shape) == 0)
      return twinn_error_set(err, TWINN_ERR_SYNTAX, NULL, hl, hc,
                             "expected 'TYPE [dims]' after the variable name %s", name);
    for (i = 0; i < prop->n_vars && !v; i++)
      if (strcmp(prop->vars[i].name, name) == 0) v = &prop->vars[i];
    if (!v)
      return twinn_error_set(err, TWINN_ERR_SEMANTIC, NULL, hl, hc,
                             "unknown variable '%s' in witness", name);
    if (shape_count(shape) != v->n)
      return twinn_error_set(err, TWINN_ERR_SEMANTIC, NULL, hl, hc,
                             "%s has %zu elements in the query but shape %s in the witness", name,
                             v->n, shape);
    for (k = 0; k < v->n; k++) {
      double value;
      skip_space(c, 1);
      if (cur_peek(c) < 0)
        return twinn_error_set(err, TWINN_ERR_SYNTAX, NULL, c->line, c->col,
                               "witness ends after %zu of the %zu values of %s", k, v->n, name);
      hl = c->line;
      hc = c->col;
      if (!read_line(c, num, sizeof num) || !parse_number(num, &value))
        return twinn_error_set(err, TWINN_ERR_SYNTAX, NULL, hl, hc,
                               "expected a finite number (value %zu of %s)", k, name);
      if ((st = store(prop, x, seen, v->offset + k, value, c, err)) != TWINN_OK) return st;
    }
  }
}

/* Reads the whole stream into a NUL-terminated buffer. */
static twinn_status slurp(FILE *in, char **out, size_t *len, twinn_error *err) {
  size_t cap = 4096, n = 0;
  char *buf = twinn_malloc(cap), *grown;
  if (!buf) goto nomem;
  for (;;) {
    size_t got = fread(buf + n, 1, cap - n - 1, in);
    n += got;
    if (n + 1 < cap) break;
    if (!(grown = twinn_realloc(buf, cap, 2))) goto nomem;
    buf = grown;
    cap *= 2;
  }
  if (ferror(in)) {
    twinn_free(buf);
    return twinn_error_set(err, TWINN_ERR_IO, NULL, 0, 0, "cannot read the witness");
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return TWINN_OK;
nomem:
  twinn_free(buf);
  return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory reading the witness");
}

twinn_status twinn_witness_read(FILE *in, const twinn_prop *prop, double *x, twinn_error *err) {
  static const char *const not_sat[] = {"unsat", "unknown", "timeout", "timed-out", "error"};
  char *text = NULL, word[32];
  unsigned char *seen = NULL;
  cursor c;
  size_t i, k;
  twinn_status st;
  if ((st = slurp(in, &text, &c.len, err)) != TWINN_OK) goto fail;
  c.s = text;
  c.pos = 0;
  c.line = c.col = 1;
  if (!(seen = twinn_calloc(prop->n_scalars ? prop->n_scalars : 1, 1))) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory reading the witness");
    goto fail;
  }
  skip_space(&c, 1);
  /* The verdict line of a RESULTS file or of twinn's own output. */
  if (cur_peek(&c) != '(') {
    cursor probe = c;
    if (read_atom(&probe, word, sizeof word)) {
      skip_space(&probe, 0);
      if (strcmp(word, "sat") == 0 && (cur_peek(&probe) == '\n' || cur_peek(&probe) < 0)) {
        c = probe;
        skip_space(&c, 1);
      } else {
        for (i = 0; i < sizeof not_sat / sizeof not_sat[0]; i++)
          if (strcmp(word, not_sat[i]) == 0) {
            st = twinn_error_set(err, TWINN_ERR_SYNTAX, NULL, c.line, c.col,
                                 "the result is '%s', not a sat witness", word);
            goto fail;
          }
      }
    }
  }
  st = cur_peek(&c) == '(' ? read_v1(&c, prop, x, seen, err) : read_v2(&c, prop, x, seen, err);
  if (st != TWINN_OK) goto fail;
  for (i = 0; i < prop->n_vars; i++) {
    const twinn_var *v = &prop->vars[i];
    if (v->role != TWINN_VAR_INPUT) continue;
    for (k = 0; k < v->n; k++)
      if (!seen[v->offset + k]) {
        st = twinn_error_set(err, TWINN_ERR_SEMANTIC, NULL, 0, 0,
                             "the witness gives no value for input %s element %zu", v->name, k);
        goto fail;
      }
  }
  st = TWINN_OK;
fail:
  twinn_free(seen);
  twinn_free(text);
  return st;
}
