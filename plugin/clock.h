/* clock.h: monotonic wall-clock seconds for timeouts and progress reports. */
#ifndef TWINN_CLOCK_H
#define TWINN_CLOCK_H

#include <time.h>

static inline double twinn_clock_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
