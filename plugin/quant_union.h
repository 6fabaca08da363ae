/* quant_union.h: the quant.h analyses over a union of boxes (a region written as a disjunction
 * of boxes): each box is bounded on its own and the results are folded so that both guarantees
 * of twinn_quant_bound still hold for the union: `upper` proved over every box, `lower`
 * attained at a point of one of them (recorded). Library code: never prints, never exits. */
#ifndef TWINN_QUANT_UNION_H
#define TWINN_QUANT_UNION_H

#include "quant.h"

/* Boxes [lo + k n_in, hi + k n_in] for k < n_boxes (n_boxes >= 1, each finite, lo <= hi).
 * opt->timeout is shared: each box gets the time left divided by the boxes left. On success
 * res holds the combined result (release with twinn_quant_diff_release) and out_box[i] (n_out
 * entries, caller-owned, f->n_out) the box whose point attains out[i].lower. res->seconds is
 * the wall time of the whole call; per-bound branches/seconds are summed over the boxes. With
 * one box the result is exactly twinn_quant_diff_bounds'. Errors: as twinn_quant_diff_bounds. */
twinn_status twinn_quant_union_diff_bounds(const twinn_net *f, const twinn_net *g, size_t n_boxes,
                                           const double *lo, const double *hi,
                                           const twinn_quant_options *opt, twinn_quant_diff *res,
                                           size_t *out_box, twinn_error *err);

/* Which box each point of a combined margin result lies in. */
typedef struct {
  size_t dmax, dmin, fneg, gneg;
  size_t witness; /* meaningful when top1 is TWINN_TOP1_DISAGREE */
} twinn_quant_margin_boxes;

/* Margin bounds for class cls over the union (see twinn_quant_margin_bounds): every quantity
 * is a maximum over the region, so the combined lower / upper are the max of the per-box
 * lowers / uppers. top1 is AGREE only if every box agrees, DISAGREE with the witness of the
 * first box that found one, else UNKNOWN. Release res with twinn_quant_margin_release. */
twinn_status twinn_quant_union_margin_bounds(const twinn_net *f, const twinn_net *g, size_t n_boxes,
                                             const double *lo, const double *hi, size_t cls,
                                             int argmin, const twinn_quant_options *opt,
                                             twinn_quant_margin *res,
                                             twinn_quant_margin_boxes *boxes, twinn_error *err);

#endif
