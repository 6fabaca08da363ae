/* symkern.c: OpenBLAS-backed dense kernels of the symbolic analysis and their plain-loop
 * references. Shapes are checked by TWINN_ASSERT (a mismatch is a bug of the caller, never bad
 * input); sizes are converted to blasint only after checking that they fit. */
#include "symkern.h"

#include <cblas.h>
#include <limits.h>

#include "common.h"

/* twinn_symk_gemm_f64: at most this many rows or columns of C go through dgemv. */
#define GEMM_FEW 2

static blasint to_blas(size_t v) {
  TWINN_ASSERT(v <= (size_t)INT_MAX);
  return (blasint)v;
}

void twinn_symk_gemm_f64(size_t r, size_t m, size_t n, const double *a, size_t lda, const double *b,
                         size_t ldb, double beta, double *c, size_t ldc) {
  TWINN_ASSERT(lda >= m && ldb >= n && ldc >= n && (beta == 0.0 || beta == 1.0));
  if (r == 0 || n == 0) return;
  if (m == 0) {
    /* BLAS leaves C untouched for k == 0 only when beta == 1; make beta == 0 explicit. */
    twinn_symk_gemm_f64_ref(r, m, n, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  /* Products of one or two rows, or one or two columns, as matrix-vector products: dgemm
   * packs its operands and takes OpenBLAS's global buffer lock on every call, which for these
   * costs more than the product (a single-thread loop: 1 x 50 x 50 0.41 -> 0.22 us, 2 x 17 x 5
   * 0.10 -> 0.07 us, 50 x 100 x 2 1.79 -> 0.86 us). The back-substitutions of `twinn bound` on
   * ACAS Xu make millions of such calls (BENCHMARKS.md, session 48). */
  if (r <= GEMM_FEW) {
    for (size_t i = 0; i < r; i++) /* row i of C: B^T times row i of A */
      cblas_dgemv(CblasRowMajor, CblasTrans, to_blas(m), to_blas(n), 1.0, b, to_blas(ldb),
                  a + i * lda, 1, beta, c + i * ldc, 1);
    return;
  }
  if (n <= GEMM_FEW) {
    for (size_t j = 0; j < n; j++) /* column j of C: A times column j of B */
      cblas_dgemv(CblasRowMajor, CblasNoTrans, to_blas(r), to_blas(m), 1.0, a, to_blas(lda), b + j,
                  to_blas(ldb), beta, c + j, to_blas(ldc));
    return;
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, to_blas(r), to_blas(n), to_blas(m), 1.0, a,
              to_blas(lda), b, to_blas(ldb), beta, c, to_blas(ldc));
}

void twinn_symk_gemm_f64_ref(size_t r, size_t m, size_t n, const double *a, size_t lda,
                             const double *b, size_t ldb, double beta, double *c, size_t ldc) {
  TWINN_ASSERT(lda >= m && ldb >= n && ldc >= n && (beta == 0.0 || beta == 1.0));
  for (size_t i = 0; i < r; i++) {
    double *ci = c + i * ldc;
    if (beta == 0.0)
      for (size_t j = 0; j < n; j++) ci[j] = 0.0;
    for (size_t k = 0; k < m; k++) {
      double aik = a[i * lda + k];
      const double *bk = b + k * ldb;
      for (size_t j = 0; j < n; j++) ci[j] += aik * bk[j];
    }
  }
}

void twinn_symk_gemv_f64(size_t r, size_t m, const double *a, size_t lda, const double *x,
                         double beta, double *y) {
  TWINN_ASSERT(lda >= m && (beta == 0.0 || beta == 1.0));
  if (r == 0) return;
  if (m == 0) {
    twinn_symk_gemv_f64_ref(r, m, a, lda, x, beta, y);
    return;
  }
  cblas_dgemv(CblasRowMajor, CblasNoTrans, to_blas(r), to_blas(m), 1.0, a, to_blas(lda), x, 1, beta,
              y, 1);
}

void twinn_symk_gemv_f64_ref(size_t r, size_t m, const double *a, size_t lda, const double *x,
                             double beta, double *y) {
  TWINN_ASSERT(lda >= m && (beta == 0.0 || beta == 1.0));
  for (size_t i = 0; i < r; i++) {
    double s = beta == 0.0 ? 0.0 : y[i];
    for (size_t k = 0; k < m; k++) s += a[i * lda + k] * x[k];
    y[i] = s;
  }
}

void twinn_symk_gemv_t_f64(size_t r, size_t m, const double *a, size_t lda, const double *x,
                           double *y) {
  TWINN_ASSERT(lda >= m);
  if (r == 0 || m == 0) {
    twinn_symk_gemv_t_f64_ref(r, m, a, lda, x, y);
    return;
  }
  cblas_dgemv(CblasRowMajor, CblasTrans, to_blas(r), to_blas(m), 1.0, a, to_blas(lda), x, 1, 0.0, y,
              1);
}

void twinn_symk_gemv_t_f64_ref(size_t r, size_t m, const double *a, size_t lda, const double *x,
                               double *y) {
  TWINN_ASSERT(lda >= m);
  for (size_t k = 0; k < m; k++) y[k] = 0.0;
  for (size_t i = 0; i < r; i++)
    for (size_t k = 0; k < m; k++) y[k] += x[i] * a[i * lda + k];
}

void twinn_symk_gemm_nt_f64(size_t r, size_t m, size_t n, const double *a, size_t lda,
                            const double *b, size_t ldb, double *c, size_t ldc) {
  TWINN_ASSERT(lda >= m && ldb >= m && ldc >= n);
  if (r == 0 || n == 0) return;
  if (m == 0) {
    twinn_symk_gemm_nt_f64_ref(r, m, n, a, lda, b, ldb, c, ldc);
    return;
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, to_blas(r), to_blas(n), to_blas(m), 1.0, a,
              to_blas(lda), b, to_blas(ldb), 0.0, c, to_blas(ldc));
}

void twinn_symk_gemm_nt_f64_ref(size_t r, size_t m, size_t n, const double *a, size_t lda,
                                const double *b, size_t ldb, double *c, size_t ldc) {
  TWINN_ASSERT(lda >= m && ldb >= m && ldc >= n);
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < n; j++) {
      double acc = 0.0;
      for (size_t k = 0; k < m; k++) acc += a[i * lda + k] * b[j * ldb + k];
      c[i * ldc + j] = acc;
    }
}

/* C = 0 (r x n, row stride ldc): the float kernels' result for an empty inner dimension. */
static void zero_f32(size_t r, size_t n, float *c, size_t ldc) {
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < n; j++) c[i * ldc + j] = 0.0f;
}

void twinn_symk_gemm_f32(size_t r, size_t m, size_t n, const float *a, size_t lda, const float *b,
                         size_t ldb, float *c, size_t ldc) {
  TWINN_ASSERT(lda >= m && ldb >= n && ldc >= n);
  if (r == 0 || n == 0) return;
  if (m == 0) {
    zero_f32(r, n, c, ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, to_blas(r), to_blas(n), to_blas(m), 1.0f,
              a, to_blas(lda), b, to_blas(ldb), 0.0f, c, to_blas(ldc));
}

void twinn_symk_gemm_nt_f32(size_t r, size_t m, size_t n, const float *a, size_t lda,
                            const float *b, size_t ldb, float *c, size_t ldc) {
  TWINN_ASSERT(lda >= m && ldb >= m && ldc >= n);
  if (r == 0 || n == 0) return;
  if (m == 0) {
    zero_f32(r, n, c, ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, to_blas(r), to_blas(n), to_blas(m), 1.0f, a,
              to_blas(lda), b, to_blas(ldb), 0.0f, c, to_blas(ldc));
}
