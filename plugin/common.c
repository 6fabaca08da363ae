/* common.c: error records and the checked allocation wrapper with fault injection.
 * The fault counter is process-global on purpose: it is a test hook, set only by tests. */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long alloc_fail_at; /* 0 = never fail */
static unsigned long alloc_count;
static size_t alloc_limit; /* 0 = no cap */

void twinn_error_clear(twinn_error *err) {
  if (!err) return;
  memset(err, 0, sizeof *err);
}

twinn_status twinn_error_set(twinn_error *err, twinn_status status, const char *path,
                             unsigned long line, unsigned long col, const char *fmt, ...) {
  va_list ap;
  if (!err || err->status != TWINN_OK) return status;
  err->status = status;
  err->path[0] = '\0';
  if (path) snprintf(err->path, sizeof err->path, "%s", path);
  err->line = line;
  err->col = col;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return status;
}

void twinn_error_format(const twinn_error *err, char *buf, size_t n) {
  size_t used = 0;
  int k;
  if (!buf || n == 0) return;
  buf[0] = '\0';
  if (!err) return;
  if (err->path[0]) {
    if (err->line)
      k = err->col ? snprintf(buf, n, "%s:%lu:%lu: ", err->path, err->line, err->col)
                   : snprintf(buf, n, "%s:%lu: ", err->path, err->line);
    else
      k = snprintf(buf, n, "%s: ", err->path);
    if (k > 0) used = (size_t)k < n ? (size_t)k : n - 1;
  }
  snprintf(buf + used, n - used, "%s", err->msg[0] ? err->msg : twinn_status_name(err->status));
}

const char *twinn_status_name(twinn_status status) {
  switch (status) {
  case TWINN_OK: return "ok";
  case TWINN_ERR_IO: return "input/output error";
  case TWINN_ERR_SYNTAX: return "syntax error";
  case TWINN_ERR_SEMANTIC: return "semantic error";
  case TWINN_ERR_UNSUPPORTED: return "unsupported";
  case TWINN_ERR_NOMEM: return "out of memory";
  case TWINN_ERR_USAGE: return "usage error";
  case TWINN_ERR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

/* Returns 1 if this allocation must fail (injected fault or size cap). */
static int alloc_refuse(size_t size) {
  alloc_count++;
  if (alloc_fail_at && alloc_count == alloc_fail_at) return 1;
  if (alloc_limit && size > alloc_limit) return 1;
  return 0;
}

void *twinn_malloc(size_t size) {
  if (alloc_refuse(size)) return NULL;
  return malloc(size ? size : 1);
}

void *twinn_mallocarray(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  return twinn_malloc(n * size);
}

void *twinn_calloc(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  if (alloc_refuse(n * size)) return NULL;
  return calloc(n ? n : 1, size ? size : 1);
}

void *twinn_realloc(void *p, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  if (alloc_refuse(n * size)) return NULL;
  return realloc(p, n * size != 0 ? n * size : 1);
}

char *twinn_strdup(const char *s) {
  size_t n;
  char *d;
  if (!s) return NULL;
  n = strlen(s) + 1;
  d = twinn_malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

void twinn_free(void *p) { free(p); }

uint64_t twinn_mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void twinn_alloc_set_fail(unsigned long k) {
  alloc_fail_at = k;
  alloc_count = 0;
}

unsigned long twinn_alloc_count(void) { return alloc_count; }

void twinn_alloc_set_limit(size_t bytes) { alloc_limit = bytes; }

void twinn_assert_fail(const char *cond, const char *file, int line) {
  fprintf(stderr, "twinn: internal error: assertion '%s' failed at %s:%d\n", cond, file, line);
  abort();
}
