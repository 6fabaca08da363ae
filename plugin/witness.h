/* witness.h: writing and reading sat witnesses (the assignment of every declared variable).
 * Two forms: the VNN-LIB 2.0 verifier-interface form (`NAME TYPE [dims]` then one value per
 * line) and the VNN-COMP 1.0 form `((X_0 v) (X_1 v) ... (Y_0 v))`. Values are printed so they
 * read back exactly. These functions take open streams: they never open files or print
 * anything else; the reader reports failures through twinn_error. */
#ifndef TWINN_WITNESS_H
#define TWINN_WITNESS_H

#include <stdio.h>

#include "prop.h"

/* Writes every declared variable of prop in declaration order: a line `NAME TYPE [d1,d2]`
 * (`[]` for a scalar), then its n values row-major, one per line. x has prop->n_scalars
 * entries. Values of float32/float16/bfloat16 variables are printed as float32 with %.9g (the
 * reader rounds them back to float32: exact); other values with %.9g when that reads back to
 * the same double, else %.17g (exact). Returns TWINN_ERR_IO if the stream fails. */
twinn_status twinn_witness_write_v2(FILE *out, const twinn_prop *prop, const double *x);

/* Writes the VNN-COMP form: `((X_0 v)` newline ` (X_1 v)` ... ` (Y_4 v))`, one scalar per
 * line, for every variable in declaration order; element i of a tensor variable V is named
 * V_i (flat row-major index), a scalar variable keeps its name. Same value format as v2. */
twinn_status twinn_witness_write_v1(FILE *out, const twinn_prop *prop, const double *x);

/* Reads a witness in either form from `in` into x (prop->n_scalars entries). An optional first
 * line `sat` is skipped; any other verdict word is a syntax error. Every scalar of every input
 * variable must be given; hidden and output values are read when present (callers recompute
 * them). Messages carry line and column but no path (the caller knows the file). Errors:
 * TWINN_ERR_IO (read failure), TWINN_ERR_SYNTAX (malformed, with line and column),
 * TWINN_ERR_SEMANTIC (unknown variable, wrong size, missing input), TWINN_ERR_NOMEM. */
twinn_status twinn_witness_read(FILE *in, const twinn_prop *prop, double *x, twinn_error *err);

#endif
