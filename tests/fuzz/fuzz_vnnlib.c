/* fuzz_vnnlib.c: libFuzzer target for the VNN-LIB front end. Any input must give TWINN_OK with
 * a property whose indices are all in range, or an error record with a message; never a crash,
 * a leak or an out-of-bounds access. Seeds: corpus_vnnlib/, dictionary: vnnlib.dict. */
#include <stddef.h>
#include <stdint.h>

#include "vnnlib.h"

/* Invariants the engine relies on without checking. */
static void check(const twinn_prop *p) {
  size_t i, t;
  TWINN_ASSERT(p->root < p->n_nodes && p->nodes[p->root].kind == TWINN_BOOL_AND);
  for (i = 0; i < p->n_nodes; i++) {
    const twinn_bool *b = &p->nodes[i];
    if (b->kind == TWINN_BOOL_LIN)
      TWINN_ASSERT(b->lin < p->n_lins);
    else
      TWINN_ASSERT(b->first_kid + b->n_kids <= p->n_kids);
  }
  for (i = 0; i < p->n_kids; i++) TWINN_ASSERT(p->kids[i] < p->n_nodes);
  for (i = 0; i < p->n_lins; i++) {
    const twinn_lin *l = &p->lins[i];
    TWINN_ASSERT(l->first + l->n_terms <= p->n_terms);
    for (t = 0; t < l->n_terms; t++) TWINN_ASSERT(p->term_var[l->first + t] < p->n_scalars);
  }
  for (i = 0; i < p->n_vars; i++) {
    size_t e = 99;
    TWINN_ASSERT(p->vars[i].net < p->n_nets);
    TWINN_ASSERT(twinn_prop_var_of(p, p->vars[i].offset, &e) == &p->vars[i] && e == 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  twinn_prop *p = NULL;
  twinn_error err;
  twinn_error_clear(&err);
  if (twinn_vnnlib_parse_buffer((const char *)data, size, "fuzz.vnnlib", &p, &err) == TWINN_OK)
    check(p);
  else
    TWINN_ASSERT(p == NULL && err.status != TWINN_OK && err.msg[0] != '\0');
  twinn_prop_free(p);
  return 0;
}
