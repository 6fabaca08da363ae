/* space.h: the search space of a problem. Input scalars tied by top-level (== X_g[i] X_f[i])
 * asserts are one dimension (union-find); top-level single-variable bounds give a box; a
 * top-level OR whose disjuncts carry input bounds splits the box into cases. Everything is an
 * over-approximation of the feasible inputs: the constraints themselves stay in the formula. */
#ifndef TWINN_SPACE_H
#define TWINN_SPACE_H

#include "prop.h"

#define TWINN_SPACE_MAX_CASES 64

typedef enum {
  TWINN_SPACE_BOXED = 0, /* n_cases >= 1 finite boxes */
  TWINN_SPACE_EMPTY,     /* the bounds contradict each other: no input at all */
  TWINN_SPACE_UNBOUNDED, /* a dimension has no finite bound (reason says which) */
  TWINN_SPACE_NAN        /* a bound is NaN */
} twinn_space_kind;

typedef struct {
  twinn_space_kind kind;
  size_t n_free;  /* dimensions: classes of tied input scalars */
  size_t *dim_of; /* n_scalars: the dimension of an input scalar, SIZE_MAX for others */
  size_t *rep;    /* n_free: the smallest input scalar of each dimension (for names) */
  size_t n_cases;
  double *lo, *hi;  /* n_cases * n_free, case c at c * n_free */
  char reason[256]; /* EMPTY / UNBOUNDED / NAN: why */
} twinn_space;

/* Builds the space of prop. Errors only for out of memory. Release with twinn_space_release. */
twinn_status twinn_space_build(twinn_space *sp, const twinn_prop *prop, twinn_error *err);
void twinn_space_release(twinn_space *sp);
/* Writes point p (n_free values) into every input scalar of x (n_scalars). */
void twinn_space_scatter(const twinn_space *sp, size_t n_scalars, const double *p, double *x);
/* The user-facing name of global scalar s: "X_f[3]", "X_3" (VNN-LIB 1.0), "Y_f[0,2]". */
void twinn_space_scalar_name(const twinn_prop *prop, size_t s, char *buf, size_t n);

#endif
