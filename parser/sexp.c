/* sexp.c: the streaming tokenizer of sexp.h. Input arrives in CHUNK-byte pieces from zlib's
 * gzread (which passes plain files through) or from a caller's buffer; a token may straddle
 * chunks because bytes are copied into a bounded token buffer one at a time. Positions count
 * bytes (a tab is one column). It must not allocate in proportion to the input's size. */
#include "sexp.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK 65536

struct twinn_sexp {
  gzFile gz;                 /* NULL when reading a caller's buffer */
  unsigned char *chunk;      /* file mode: CHUNK bytes, owned */
  const unsigned char *data; /* the bytes being consumed: chunk, or the caller's buffer */
  size_t n, pos;             /* data[pos .. n) are unread */
  int eof;                   /* no more data after data[n-1] */
  int io_failed;
  char *name;
  unsigned long line, col; /* position of data[pos] */
  size_t depth, max_depth;
  char text[TWINN_SEXP_MAX_TOKEN + 1];
  size_t len;
  size_t idx[TWINN_SEXP_MAX_INDICES];
  size_t n_idx;
};

static twinn_status reader_new(const char *name, twinn_sexp **out, twinn_error *err) {
  twinn_sexp *sx = twinn_calloc(1, sizeof *sx);
  if (!sx) goto fail;
  sx->name = twinn_strdup(name ? name : "");
  if (!sx->name) goto fail;
  sx->line = 1;
  sx->col = 1;
  sx->max_depth = TWINN_SEXP_DEFAULT_MAX_DEPTH;
  *out = sx;
  return TWINN_OK;
fail:
  if (sx) twinn_free(sx->name);
  twinn_free(sx);
  return twinn_error_set(err, TWINN_ERR_NOMEM, name, 0, 0, "out of memory opening the input");
}

twinn_status twinn_sexp_open_file(const char *path, twinn_sexp **out, twinn_error *err) {
  twinn_sexp *sx = NULL;
  twinn_status st;
  *out = NULL;
  st = reader_new(path, &sx, err);
  if (st != TWINN_OK) return st;
  sx->chunk = twinn_malloc(CHUNK);
  if (!sx->chunk) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, path, 0, 0, "out of memory opening the input");
    goto fail;
  }
  sx->data = sx->chunk;
  errno = 0;
  sx->gz = gzopen(path, "rb");
  if (!sx->gz) {
    st = twinn_error_set(err, TWINN_ERR_IO, path, 0, 0, "cannot open: %s",
                         errno ? strerror(errno) : "out of memory");
    goto fail;
  }
  *out = sx;
  return TWINN_OK;
fail:
  twinn_sexp_free(sx);
  return st;
}

twinn_status twinn_sexp_open_buffer(const char *data, size_t n, const char *name, twinn_sexp **out,
                                    twinn_error *err) {
  twinn_sexp *sx = NULL;
  twinn_status st;
  *out = NULL;
  st = reader_new(name, &sx, err);
  if (st != TWINN_OK) return st;
  sx->data = (const unsigned char *)data;
  sx->n = data ? n : 0;
  sx->eof = 1;
  *out = sx;
  return TWINN_OK;
}

void twinn_sexp_set_max_depth(twinn_sexp *sx, size_t max_depth) {
  sx->max_depth = max_depth ? max_depth : 1;
}

size_t twinn_sexp_depth(const twinn_sexp *sx) { return sx->depth; }

const char *twinn_sexp_name(const twinn_sexp *sx) { return sx->name; }

void twinn_sexp_free(twinn_sexp *sx) {
  if (!sx) return;
  if (sx->gz) gzclose(sx->gz);
  twinn_free(sx->chunk);
  twinn_free(sx->name);
  twinn_free(sx);
}

/* The next byte without consuming it, or -1 at end of input (or after a read error, which
 * sets io_failed for the caller to report). */
static int peek(twinn_sexp *sx) {
  int got;
  if (sx->pos < sx->n) return sx->data[sx->pos];
  if (sx->eof || sx->io_failed) return -1;
  got = gzread(sx->gz, sx->chunk, CHUNK);
  if (got < 0) {
    sx->io_failed = 1;
    return -1;
  }
  sx->n = (size_t)got;
  sx->pos = 0;
  if (got == 0) {
    /* zlib ends a truncated gzip stream like a complete one (0 bytes), with Z_BUF_ERROR left
     * in gzerror: a query cut between two asserts would otherwise parse as a shorter one. */
    int zerr = Z_OK;
    gzerror(sx->gz, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END) sx->io_failed = 1;
    sx->eof = 1;
    return -1;
  }
  return sx->data[0];
}

static void advance(twinn_sexp *sx) {
  if (sx->data[sx->pos++] == '\n') {
    sx->line++;
    sx->col = 1;
  } else {
    sx->col++;
  }
}

static int is_space(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Bytes that end an atom. '[' also ends the name part of V[i,j]. */
static int is_delim(int c) {
  return c < 0 || is_space(c) || c == '(' || c == ')' || c == ';' || c == '"' || c == '[' ||
         c == ']';
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static twinn_status syntax(twinn_sexp *sx, unsigned long line, unsigned long col, const char *what,
                           twinn_error *err) {
  return twinn_error_set(err, TWINN_ERR_SYNTAX, sx->name, line, col, "%s", what);
}

/* Control bytes other than whitespace never belong in a VNN-LIB file; reporting them early
 * gives binary garbage a precise message and keeps NUL out of token text. */
static twinn_status check_byte(twinn_sexp *sx, int c, twinn_error *err) {
  if ((c < 0x20 && !is_space(c)) || c == 0x7f)
    return twinn_error_set(err, TWINN_ERR_SYNTAX, sx->name, sx->line, sx->col,
                           "unexpected byte 0x%02x", (unsigned)c);
  return TWINN_OK;
}

static twinn_status push_text(twinn_sexp *sx, int c, unsigned long line, unsigned long col,
                              twinn_error *err) {
  if (sx->len >= TWINN_SEXP_MAX_TOKEN)
    return twinn_error_set(err, TWINN_ERR_SYNTAX, sx->name, line, col, "token longer than %d bytes",
                           TWINN_SEXP_MAX_TOKEN);
  sx->text[sx->len++] = (char)c;
  sx->text[sx->len] = '\0';
  return TWINN_OK;
}

/* number := [+-]? (digits ('.' digits?)? | '.' digits) ([eE] [+-]? digits)? */
static int number_syntax_ok(const char *s) {
  size_t i = 0, int_digits = 0, frac_digits = 0, exp_digits = 0;
  if (s[i] == '+' || s[i] == '-') i++;
  while (is_digit(s[i])) i++, int_digits++;
  if (s[i] == '.') {
    i++;
    while (is_digit(s[i])) i++, frac_digits++;
  }
  if (int_digits + frac_digits == 0) return 0;
  if (s[i] == 'e' || s[i] == 'E') {
    i++;
    if (s[i] == '+' || s[i] == '-') i++;
    while (is_digit(s[i])) i++, exp_digits++;
    if (exp_digits == 0) return 0;
  }
  return s[i] == '\0';
}

static int looks_numeric(const char *s) {
  if (is_digit(s[0]) || s[0] == '.') return 1;
  return (s[0] == '+' || s[0] == '-') && (is_digit(s[1]) || s[1] == '.');
}

/* Reads [i, j, ...] (the '[' is next). Whitespace is allowed around entries. */
static twinn_status read_indices(twinn_sexp *sx, twinn_error *err) {
  unsigned long line = sx->line, col = sx->col;
  int c;
  size_t v;
  advance(sx); /* '[' */
  sx->n_idx = 0;
  for (;;) {
    while (is_space(c = peek(sx))) advance(sx);
    if (c == ']' && sx->n_idx == 0) break;
    if (!is_digit(c))
      return syntax(sx, sx->line, sx->col,
                    c < 0 ? "unexpected end of file inside [...]"
                          : "expected a non-negative integer in [...]",
                    err);
    v = 0;
    while (is_digit(c = peek(sx))) {
      size_t d = (size_t)(c - '0');
      if (v > (SIZE_MAX - d) / 10) return syntax(sx, sx->line, sx->col, "integer too large", err);
      v = v * 10 + d;
      advance(sx);
    }
    if (sx->n_idx >= TWINN_SEXP_MAX_INDICES)
      return syntax(sx, line, col, "too many entries in [...]", err);
    sx->idx[sx->n_idx++] = v;
    while (is_space(c = peek(sx))) advance(sx);
    if (c == ']') break;
    if (c != ',')
      return syntax(sx, sx->line, sx->col,
                    c < 0 ? "unexpected end of file inside [...]" : "expected ',' or ']' in [...]",
                    err);
    advance(sx);
  }
  advance(sx); /* ']' */
  c = peek(sx);
  if (!is_delim(c) || c == '[' || c == ']')
    return syntax(sx, sx->line, sx->col, "unexpected character after ']'", err);
  return TWINN_OK;
}

static twinn_status read_string(twinn_sexp *sx, twinn_token *tok, twinn_error *err) {
  twinn_status st;
  int c;
  advance(sx); /* opening quote */
  for (;;) {
    c = peek(sx);
    if (c < 0) return syntax(sx, tok->line, tok->col, "unterminated string", err);
    if ((st = check_byte(sx, c, err)) != TWINN_OK) return st;
    advance(sx);
    if (c == '"') {
      if (peek(sx) != '"') break;
      advance(sx); /* "" stands for one quote, as in SMT-LIB */
    }
    if ((st = push_text(sx, c, tok->line, tok->col, err)) != TWINN_OK) return st;
  }
  tok->kind = TWINN_TOK_STRING;
  return TWINN_OK;
}

/* An atom: symbol, number, version <x.y>, or the name of V[i,j]. */
static twinn_status read_atom(twinn_sexp *sx, twinn_token *tok, twinn_error *err) {
  twinn_status st;
  int c;
  char *end;
  while (!is_delim(c = peek(sx))) {
    if ((st = check_byte(sx, c, err)) != TWINN_OK) return st;
    if ((st = push_text(sx, c, tok->line, tok->col, err)) != TWINN_OK) return st;
    advance(sx);
  }
  if (c == ']') return syntax(sx, sx->line, sx->col, "unexpected ']'", err);
  if (sx->text[0] == '<' && is_digit(sx->text[1])) {
    if (sx->text[sx->len - 1] != '>' || c == '[')
      return syntax(sx, tok->line, tok->col, "malformed version, expected <MAJOR.MINOR>", err);
    sx->text[--sx->len] = '\0';
    memmove(sx->text, sx->text + 1, sx->len);
    sx->len--;
    tok->kind = TWINN_TOK_VERSION;
    return TWINN_OK;
  }
  if (looks_numeric(sx->text)) {
    if (c == '[' || !number_syntax_ok(sx->text))
      return twinn_error_set(err, TWINN_ERR_SYNTAX, sx->name, tok->line, tok->col,
                             "malformed number '%.64s'", sx->text);
    errno = 0;
    tok->num = strtod(sx->text, &end);
    /* Underflow rounds to the nearest double like any decimal constant; overflow would turn
     * a finite constant into an infinity, which no constraint over reals means. */
    if (isinf(tok->num) || *end != '\0')
      return twinn_error_set(err, TWINN_ERR_SYNTAX, sx->name, tok->line, tok->col,
                             "number '%.64s' is out of range", sx->text);
    tok->kind = TWINN_TOK_NUMBER;
    return TWINN_OK;
  }
  if (c == '[') {
    if ((st = read_indices(sx, err)) != TWINN_OK) return st;
    tok->kind = TWINN_TOK_INDEXED;
    return TWINN_OK;
  }
  tok->kind = TWINN_TOK_SYMBOL;
  return TWINN_OK;
}

twinn_status twinn_sexp_next(twinn_sexp *sx, twinn_token *tok, twinn_error *err) {
  twinn_status st = TWINN_OK;
  int c;
  memset(tok, 0, sizeof *tok);
  sx->len = 0;
  sx->text[0] = '\0';
  sx->n_idx = 0;
  for (;;) { /* skip whitespace and ; comments */
    c = peek(sx);
    if (c == ';') {
      while ((c = peek(sx)) >= 0 && c != '\n') advance(sx);
    } else if (c >= 0 && is_space(c)) {
      advance(sx);
    } else {
      break;
    }
  }
  tok->line = sx->line;
  tok->col = sx->col;
  if (c < 0) {
    if (sx->io_failed)
      return twinn_error_set(err, TWINN_ERR_IO, sx->name, sx->line, sx->col,
                             "read error (corrupt or truncated compressed file?)");
    tok->kind = TWINN_TOK_EOF;
  } else if (c == '(') {
    if (sx->depth >= sx->max_depth)
      return twinn_error_set(err, TWINN_ERR_SYNTAX, sx->name, sx->line, sx->col,
                             "nesting deeper than %zu parentheses", sx->max_depth);
    advance(sx);
    sx->depth++;
    tok->kind = TWINN_TOK_LPAREN;
  } else if (c == ')') {
    if (sx->depth == 0) return syntax(sx, sx->line, sx->col, "unbalanced ')'", err);
    advance(sx);
    sx->depth--;
    tok->kind = TWINN_TOK_RPAREN;
  } else if (c == '"') {
    st = read_string(sx, tok, err);
  } else if (c == '[') {
    st = read_indices(sx, err);
    tok->kind = TWINN_TOK_DIMS;
  } else {
    st = read_atom(sx, tok, err);
  }
  if (st != TWINN_OK) return st;
  if (sx->io_failed)
    return twinn_error_set(err, TWINN_ERR_IO, sx->name, sx->line, sx->col,
                           "read error (corrupt or truncated compressed file?)");
  tok->text = sx->text;
  tok->len = sx->len;
  tok->idx = sx->idx;
  tok->n_idx = sx->n_idx;
  return TWINN_OK;
}
