/* vnnlib.h: VNN-LIB 1.0 / 2.0 / 2.1 front end: text (plain or gzip) -> property IR (prop.h).
 * One streaming pass in linear time and memory; errors carry path:line:column. A 1.0 query is
 * lowered to one network named "" with input "X" [n] and output "Y" [m]. */
#ifndef TWINN_VNNLIB_H
#define TWINN_VNNLIB_H

#include <stddef.h>

#include "common.h"
#include "prop.h"

typedef struct {
  /* Deepest parenthesis nesting accepted (0 = TWINN_SEXP_DEFAULT_MAX_DEPTH). The parser
   * recurses once per level, so this also bounds its stack use (about 200 bytes a level). */
  size_t max_depth;
} twinn_vnnlib_options;

/* Parses the file at path (gzip-compressed or plain). On success *out is a new property owned
 * by the caller (twinn_prop_free); on failure *out is NULL and err holds the first error:
 * TWINN_ERR_IO, TWINN_ERR_SYNTAX, TWINN_ERR_SEMANTIC, TWINN_ERR_UNSUPPORTED or TWINN_ERR_NOMEM. */
twinn_status twinn_vnnlib_parse_file(const char *path, twinn_prop **out, twinn_error *err);
/* The same for n bytes at data; name stands for the path in messages (may be NULL). */
twinn_status twinn_vnnlib_parse_buffer(const char *data, size_t n, const char *name,
                                       twinn_prop **out, twinn_error *err);
/* Variants taking options (opts may be NULL for the defaults). */
twinn_status twinn_vnnlib_parse_file_opts(const char *path, const twinn_vnnlib_options *opts,
                                          twinn_prop **out, twinn_error *err);
twinn_status twinn_vnnlib_parse_buffer_opts(const char *data, size_t n, const char *name,
                                            const twinn_vnnlib_options *opts, twinn_prop **out,
                                            twinn_error *err);

#endif
