/* blas_threads.h: OpenBLAS's own thread control, declared once for the engine (cblas.h of some
 * distributions lacks it). Engines that run several workers of their own set OpenBLAS to one
 * thread, since each worker already keeps a core busy and BLAS threads on top only add system
 * time (spinning and waking) on the small products of the symbolic analysis. Engine-internal. */
#ifndef TWINN_BLAS_THREADS_H
#define TWINN_BLAS_THREADS_H

void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);

#endif
