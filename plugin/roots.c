/* roots.c: see roots.h. A handful of entries searched linearly: `twinn bound` asks about one
 * region at a time, and a pair needs two. */
#include <math.h>
#include <string.h>

#include "common.h"
#include "roots.h"

#define ROOTS_MAX 8

typedef struct {
  const twinn_net *net;
  double *box;    /* n_in lower ends, then n_in upper */
  double *bounds; /* n lower ends, then n upper */
  size_t n;
} roots_entry;

struct twinn_roots {
  roots_entry e[ROOTS_MAX];
  size_t next; /* the entry a full store replaces next */
};

twinn_roots *twinn_roots_new(void) { return twinn_calloc(1, sizeof(twinn_roots)); }

void twinn_roots_free(twinn_roots *r) {
  if (!r) return;
  for (size_t k = 0; k < ROOTS_MAX; k++) {
    twinn_free(r->e[k].box);
    twinn_free(r->e[k].bounds);
  }
  twinn_free(r);
}

static roots_entry *entry_of(const twinn_roots *r, const twinn_net *net, const double *lo,
                             const double *hi) {
  size_t n_in = net->n_in;
  for (size_t k = 0; r && k < ROOTS_MAX; k++) {
    const roots_entry *e = &r->e[k];
    if (e->net != net || !e->box) continue;
    if (memcmp(e->box, lo, n_in * sizeof *lo) == 0 &&
        memcmp(e->box + n_in, hi, n_in * sizeof *hi) == 0)
      return (roots_entry *)e;
  }
  return NULL;
}

const double *twinn_roots_find(const twinn_roots *r, const twinn_net *net, const double *lo,
                               const double *hi, int upper) {
  const roots_entry *e = entry_of(r, net, lo, hi);
  return e ? e->bounds + (upper ? e->n : 0) : NULL;
}

twinn_status twinn_roots_keep(twinn_roots *r, const twinn_net *net, const double *lo,
                              const double *hi, const double *blo, const double *bhi, size_t n) {
  size_t n_in = net->n_in;
  roots_entry *e = entry_of(r, net, lo, hi);
  if (e && e->n == n) {
    for (size_t j = 0; j < n; j++) {
      e->bounds[j] = fmax(e->bounds[j], blo[j]);
      e->bounds[n + j] = fmin(e->bounds[n + j], bhi[j]);
    }
    return TWINN_OK;
  }
  double *box = twinn_mallocarray(2 * n_in + 1, sizeof *box);
  double *bounds = twinn_mallocarray(2 * n + 1, sizeof *bounds);
  if (!box || !bounds) {
    twinn_free(box);
    twinn_free(bounds);
    return TWINN_ERR_NOMEM;
  }
  memcpy(box, lo, n_in * sizeof *lo);
  memcpy(box + n_in, hi, n_in * sizeof *hi);
  memcpy(bounds, blo, n * sizeof *blo);
  memcpy(bounds + n, bhi, n * sizeof *bhi);
  if (!e) {
    e = &r->e[r->next];
    r->next = (r->next + 1) % ROOTS_MAX;
  }
  twinn_free(e->box);
  twinn_free(e->bounds);
  e->net = net;
  e->box = box;
  e->bounds = bounds;
  e->n = n;
  return TWINN_OK;
}
