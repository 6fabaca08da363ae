/* common.h: status codes, the caller-owned error record and the one allocation wrapper.
 * Every module of twinn (front ends and engine) reports failure through twinn_status plus a
 * twinn_error; no library code prints or exits. All heap memory goes through twinn_malloc &
 * co., which check size overflow and can be made to fail on the k-th call (fault injection). */
#ifndef TWINN_COMMON_H
#define TWINN_COMMON_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  TWINN_OK = 0,
  TWINN_ERR_IO,          /* a file cannot be opened or read */
  TWINN_ERR_SYNTAX,      /* malformed input text or protobuf */
  TWINN_ERR_SEMANTIC,    /* well-formed but meaningless: unknown variable, bad index, shapes */
  TWINN_ERR_UNSUPPORTED, /* valid input that twinn does not handle (operator, nonlinear term) */
  TWINN_ERR_NOMEM,       /* allocation failed or a size would overflow / exceed limits */
  TWINN_ERR_USAGE,       /* the caller passed wrong arguments (CLI options, missing network) */
  TWINN_ERR_INTERNAL     /* a broken invariant of twinn itself */
} twinn_status;

/* Caller-owned error record, filled by the first failing call. line/col are 1-based, 0 when
 * unknown. The message holds no path or position: twinn_error_format adds them. */
typedef struct {
  twinn_status status;
  char path[512];
  unsigned long line, col;
  char msg[512];
} twinn_error;

/* A hot loop's function gets an AVX2 clone that GCC picks at load time on CPUs that have it
 * (target_clones, x86-64, glibc's ifunc): the same operations in the same order in 4-wide
 * instead of 2-wide vectors, so the same results bit for bit (no FMA: "avx2" alone does not
 * enable it). Not under ASan (the sanitizer builds keep one plain copy). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
#define TWINN_HOT __attribute__((target_clones("avx2", "default")))
#else
#define TWINN_HOT
#endif

/* Resets err to "no error". */
void twinn_error_clear(twinn_error *err);
/* Records an error (only if err holds none yet, so the first cause wins); returns status.
 * path may be NULL; fmt is printf-style. err may be NULL. */
twinn_status twinn_error_set(twinn_error *err, twinn_status status, const char *path,
                             unsigned long line, unsigned long col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
/* Writes "path:line:col: msg" (parts that are unknown are left out) into buf. */
void twinn_error_format(const twinn_error *err, char *buf, size_t n);
/* Short name of a status ("syntax error", "out of memory", ...). */
const char *twinn_status_name(twinn_status status);

/* Allocation. Sizes are checked for overflow (n * size); return NULL on failure, never abort.
 * twinn_free(NULL) is a no-op. */
void *twinn_malloc(size_t size);
void *twinn_calloc(size_t n, size_t size);
void *twinn_mallocarray(size_t n, size_t size);
void *twinn_realloc(void *p, size_t n, size_t size);
char *twinn_strdup(const char *s);
void twinn_free(void *p);

/* The splitmix64 step: z plus the golden-ratio increment, then its finalizer (a bijective
 * hash of 64-bit values; also the random generator's output, twinn_rand_unit). */
uint64_t twinn_mix64(uint64_t z);

/* Fault injection for tests: the k-th allocation from now on fails (k >= 1); 0 disables.
 * twinn_alloc_count returns allocations performed since the last call to set_fail. */
void twinn_alloc_set_fail(unsigned long k);
unsigned long twinn_alloc_count(void);
/* A soft cap on one allocation's size (bytes); 0 = no cap. Used by --memory-limit and to
 * refuse absurd dimensions before they reach malloc. */
void twinn_alloc_set_limit(size_t bytes);

/* Aborts with file:line; only for twinn's own broken invariants, never for bad input. */
#define TWINN_ASSERT(c)                                                                            \
  do {                                                                                             \
    if (!(c)) twinn_assert_fail(#c, __FILE__, __LINE__);                                           \
  } while (0)
void twinn_assert_fail(const char *cond, const char *file, int line);

#endif
