/* symkern.h: the dense kernels of the symbolic bound analysis (symbolic.c, symdiff.c), row-major
 * double matrices. Each BLAS-backed kernel has a plain-loop reference with the same contract,
 * compared in tests/unit/test_symbolic.c. Callers account for rounding themselves: the kernels
 * only promise a float evaluation in any summation order (error <= gamma_k * sum |terms|). */
#ifndef TWINN_SYMKERN_H
#define TWINN_SYMKERN_H

#include <stddef.h>

/* C (r x n) = A (r x m) * B (m x n) + beta * C; beta is 0 or 1. lda/ldb/ldc are row strides. */
void twinn_symk_gemm_f64(size_t r, size_t m, size_t n, const double *a, size_t lda, const double *b,
                         size_t ldb, double beta, double *c, size_t ldc);
void twinn_symk_gemm_f64_ref(size_t r, size_t m, size_t n, const double *a, size_t lda,
                             const double *b, size_t ldb, double beta, double *c, size_t ldc);

/* y (r) = A (r x m) * x (m) + beta * y; beta is 0 or 1. */
void twinn_symk_gemv_f64(size_t r, size_t m, const double *a, size_t lda, const double *x,
                         double beta, double *y);
void twinn_symk_gemv_f64_ref(size_t r, size_t m, const double *a, size_t lda, const double *x,
                             double beta, double *y);

/* y (m) = A^T (A: r x m) * x (r). */
void twinn_symk_gemv_t_f64(size_t r, size_t m, const double *a, size_t lda, const double *x,
                           double *y);
void twinn_symk_gemv_t_f64_ref(size_t r, size_t m, const double *a, size_t lda, const double *x,
                               double *y);
/* C (r x n) = A (r x m) * B^T, B being n x m. */
void twinn_symk_gemm_nt_f64(size_t r, size_t m, size_t n, const double *a, size_t lda,
                            const double *b, size_t ldb, double *c, size_t ldc);
void twinn_symk_gemm_nt_f64_ref(size_t r, size_t m, size_t n, const double *a, size_t lda,
                                const double *b, size_t ldb, double *c, size_t ldc);

/* Single precision, for heuristic passes only (symopt.c's optimiser): C (r x n) = A (r x m) * B
 * (m x n), and C = A * B^T with B n x m. Tested against the double references. */
void twinn_symk_gemm_f32(size_t r, size_t m, size_t n, const float *a, size_t lda, const float *b,
                         size_t ldb, float *c, size_t ldc);
void twinn_symk_gemm_nt_f32(size_t r, size_t m, size_t n, const float *a, size_t lda,
                            const float *b, size_t ldb, float *c, size_t ldc);

#endif
