/* milp.h: the exact mode (`--engine milp`): the whole problem (every network's ReLUs with one
 * binary per unstable neuron, the property's and/or tree with one binary per disjunct) as a
 * mixed-integer feasibility problem solved by GLPK. Complete for small ReLU networks; also
 * the oracle the differential soundness test compares the default engine against. Runs on
 * the calling thread only (GLPK's environment is per thread). */
#ifndef TWINN_MILP_H
#define TWINN_MILP_H

#include "twinn.h"

/* Same contract as twinn_verify: TWINN_OK with res filled for every verdict (SAT with a
 * witness replayed in double and float32 arithmetic, UNSAT, UNKNOWN with res->reason, TIMEOUT
 * when opt->timeout ran out); a non-OK status (out of memory) means no verdict. opt may be
 * NULL (defaults). res is overwritten; release it with twinn_result_release. Networks other
 * than affine/ReLU chains, hidden variables without a matching tap, and inputs the property
 * does not bound give UNKNOWN with a reason. */
twinn_status twinn_milp_verify(const twinn_problem *pb, const twinn_options *opt, twinn_result *res,
                               twinn_error *err);

#endif
