/* bind.h: engine-internal queries on a bound problem (twinn.h declares the binding itself). */
#ifndef TWINN_BIND_H
#define TWINN_BIND_H

#include "twinn.h"

/* The point (0 = input, k = after layer k-1) of net that hidden variable v names, looked up by
 * ONNX node name, then tensor name. Returns 0 if no tap matches. */
int twinn_problem_tap_point(const twinn_net *net, const twinn_var *v, size_t *point);

#endif
