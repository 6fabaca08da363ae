/* sexp.h: streaming S-expression tokenizer for VNN-LIB. Reads a file (plain or gzip) in fixed
 * chunks or a caller's buffer, and hands out one token at a time with its line:column.
 * It never holds the whole input; it bounds token length and parenthesis nesting so that the
 * recursive-descent parser above it recurses at most max_depth deep. It knows no VNN-LIB. */
#ifndef TWINN_SEXP_H
#define TWINN_SEXP_H

#include <stddef.h>

#include "common.h"

#define TWINN_SEXP_DEFAULT_MAX_DEPTH 10000
#define TWINN_SEXP_MAX_TOKEN 65536 /* longest symbol, number or string, in bytes */
#define TWINN_SEXP_MAX_INDICES 64  /* most entries in one [...] */

typedef enum {
  TWINN_TOK_EOF = 0,
  TWINN_TOK_LPAREN,  /* ( */
  TWINN_TOK_RPAREN,  /* ) */
  TWINN_TOK_SYMBOL,  /* assert, X_0, <=, Real ... */
  TWINN_TOK_NUMBER,  /* -0.5, 3, 1e-05, .05, 5. : `num` holds the nearest double */
  TWINN_TOK_INDEXED, /* V[i,j]: `text` is V, idx/n_idx the indices */
  TWINN_TOK_DIMS,    /* [d1,d2] or []: idx/n_idx the entries */
  TWINN_TOK_VERSION, /* <2.0>: `text` is 2.0 */
  TWINN_TOK_STRING   /* "...": `text` is the content ("" inside stands for ") */
} twinn_tok_kind;

/* One token. text (NUL-terminated) and idx point into the reader and stay valid only until the
 * next call to twinn_sexp_next. line/col (1-based) are those of the token's first byte. */
typedef struct {
  twinn_tok_kind kind;
  const char *text;
  size_t len;
  double num;
  const size_t *idx;
  size_t n_idx;
  unsigned long line, col;
} twinn_token;

typedef struct twinn_sexp twinn_sexp;

/* Opens a file for reading (gzip-compressed or plain, detected by zlib). `path` is copied and
 * used in every message. On failure *out is NULL and err says why (TWINN_ERR_IO/NOMEM). */
twinn_status twinn_sexp_open_file(const char *path, twinn_sexp **out, twinn_error *err);
/* Reads n bytes at data (not copied: it must outlive the reader). name is used in messages. */
twinn_status twinn_sexp_open_buffer(const char *data, size_t n, const char *name, twinn_sexp **out,
                                    twinn_error *err);
/* Sets the deepest allowed parenthesis nesting (>= 1); deeper input is a syntax error. */
void twinn_sexp_set_max_depth(twinn_sexp *sx, size_t max_depth);
/* Current nesting: open parentheses not yet closed. */
size_t twinn_sexp_depth(const twinn_sexp *sx);
/* The name given at open time (for the caller's own messages). */
const char *twinn_sexp_name(const twinn_sexp *sx);
/* Reads the next token. Errors (TWINN_ERR_SYNTAX with position, TWINN_ERR_IO, NOMEM) are
 * final: the reader must not be used again except to free it. At end of input returns TWINN_OK
 * with an EOF token, positioned just after the last byte. */
twinn_status twinn_sexp_next(twinn_sexp *sx, twinn_token *tok, twinn_error *err);
/* Closes the file and frees the reader. NULL is a no-op. */
void twinn_sexp_free(twinn_sexp *sx);

#endif
