/* prop.h: the property IR. A query declares networks, each with named tensor variables
 * (inputs, hidden values, outputs); every scalar element of every variable has one index in a
 * global vector of n_scalars entries (variables laid out in declaration order, row-major).
 * The assertions are linear constraints  sum coef_i * x[var_i] + c0  CMP  0  under an and/or
 * tree whose root is the conjunction of all asserts; the tree is kept as written, never
 * expanded to DNF. The conjunction describes the UNSAFE set: sat = a counterexample exists.
 * Front ends (parser/) build it; the engine only reads it. */
#ifndef TWINN_PROP_H
#define TWINN_PROP_H

#include "common.h"
#include "net.h"

typedef enum { TWINN_VAR_INPUT = 0, TWINN_VAR_HIDDEN, TWINN_VAR_OUTPUT } twinn_var_role;

#define TWINN_MAX_RANK 8

typedef struct {
  char *name; /* as declared ("X_f"; "X" for a 1.0 query's X_i) */
  twinn_var_role role;
  size_t net;                /* index into twinn_prop.nets */
  char *type_name;           /* as written: "Real", "real", "float32", ... */
  twinn_elem_type elem_type; /* ONNX DataType number; 0 for real */
  size_t rank;               /* 0 = scalar */
  size_t dims[TWINN_MAX_RANK];
  size_t n;                /* element count (1 for a scalar) */
  size_t offset;           /* index of element 0 in the global scalar vector */
  char *node_name;         /* declare-hidden only: the ONNX node name, else NULL */
  unsigned long line, col; /* where it was declared */
} twinn_var;

typedef enum { TWINN_NETREL_NONE = 0, TWINN_NETREL_EQUAL, TWINN_NETREL_ISO } twinn_netrel;

typedef struct {
  char *name;       /* "f"; for a 1.0 query, "" */
  twinn_netrel rel; /* equal-to / isomorphic-to another network */
  size_t rel_to;    /* index of that network when rel != NONE */
  size_t first_var; /* this network's variables are vars[first_var .. first_var+n_vars) */
  size_t n_vars;
  unsigned long line, col;
} twinn_prop_net;

typedef enum {
  TWINN_CMP_LE = 0, /* e <= 0 */
  TWINN_CMP_LT,     /* e <  0 (strict: a witness must satisfy it strictly) */
  TWINN_CMP_EQ,     /* e == 0 */
  TWINN_CMP_NE      /* e != 0 */
} twinn_cmp;

/* One linear constraint  sum_{t < n_terms} coef[first+t] * x[var[first+t]] + c0  CMP  0.
 * Terms of the same scalar are merged and zero coefficients dropped. `nonlinear` marks a
 * constraint that had a product of variables: it is kept (so the file still reads whole) but
 * its terms are meaningless and an engine must treat it as undecidable. */
typedef struct {
  size_t first, n_terms; /* slice of twinn_prop.term_var / term_coef */
  double c0;
  twinn_cmp cmp;
  int nonlinear;
  unsigned long line, col;
} twinn_lin;

typedef enum { TWINN_BOOL_LIN = 0, TWINN_BOOL_AND, TWINN_BOOL_OR } twinn_bool_kind;

/* A node of the and/or tree. LIN: `lin` indexes twinn_prop.lins. AND/OR: children are
 * kids[first_kid .. first_kid+n_kids) (indices into nodes). An empty AND is true, an empty
 * OR is false. */
typedef struct {
  twinn_bool_kind kind;
  size_t lin;
  size_t first_kid, n_kids;
} twinn_bool;

typedef enum {
  TWINN_VNNLIB_1_0 = 10,
  TWINN_VNNLIB_2_0 = 20,
  TWINN_VNNLIB_2_1 = 21
} twinn_vnnlib_version;

typedef struct {
  char *path; /* source, for messages; owned, may be NULL */
  twinn_vnnlib_version version;
  size_t n_nets;
  twinn_prop_net *nets;
  size_t n_vars;
  twinn_var *vars;
  size_t n_scalars; /* length of the global scalar vector */
  size_t n_lins;
  twinn_lin *lins;
  size_t n_terms;
  size_t *term_var; /* global scalar index */
  double *term_coef;
  size_t n_nodes;
  twinn_bool *nodes;
  size_t n_kids;
  size_t *kids;
  size_t root;        /* an AND node: the conjunction of all asserts */
  size_t n_nonlinear; /* how many lins are marked nonlinear */
} twinn_prop;

/* Frees everything the property owns. NULL is a no-op. */
void twinn_prop_free(twinn_prop *prop);

/* The variable holding global scalar index s, and the element index within it. */
const twinn_var *twinn_prop_var_of(const twinn_prop *prop, size_t s, size_t *elem);
/* The network's variable of the given role (the first one declared), or NULL. */
const twinn_var *twinn_prop_net_var(const twinn_prop *prop, size_t net, twinn_var_role role);
/* Number of variables of the given role in network `net`. */
size_t twinn_prop_net_count(const twinn_prop *prop, size_t net, twinn_var_role role);
/* Value of constraint l's left side at the point x (n_scalars entries), in double. */
double twinn_prop_lin_eval(const twinn_prop *prop, const twinn_lin *l, const double *x);
/* 1 if the tree holds at x, evaluated exactly as written (strict comparisons strict). A
 * nonlinear constraint evaluates as false (twinn cannot check it). */
int twinn_prop_holds(const twinn_prop *prop, const double *x);
/* dup[i] (n_lins entries): the first constraint with lins[i]'s terms (same variables and
 * coefficients in the same order), constant and comparison, found through a hash table; i
 * itself for a nonlinear one. A property of top-1 agreement repeats each constraint of f's
 * argmax in every disjunct (1 000 lins, 190 distinct, on MNIST). TWINN_ERR_NOMEM if the table
 * cannot be allocated. */
twinn_status twinn_prop_lin_dups(const twinn_prop *prop, size_t *dup);

#endif
