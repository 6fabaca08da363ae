/* quant_union.c: quant.h over a union of boxes (quant_union.h). Every quantity bounded by quant
 * is a MAXIMUM over the region, and the max over a union is the max of the per-box maxima, so
 * the combined upper is the max of the proved uppers (still proved) and the combined lower the
 * max of the attained lowers (still attained, at that box's point). The deadline is shared
 * across the boxes; a box that gets no time left still yields valid (loose) bounds. */
#include "quant_union.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

/* Forwards quant's progress snapshots with the box in the target name and the elapsed time of
 * the whole union. */
typedef struct {
  const twinn_quant_options *user;
  size_t k, n;
  double offset; /* seconds between the union's start and this box's */
  char target[128];
} progress_wrap;

static void wrap_progress(void *ctx, const twinn_quant_progress *p) {
  progress_wrap *w = ctx;
  twinn_quant_progress q = *p;
  snprintf(w->target, sizeof w->target, "box %zu/%zu %s", w->k, w->n, p->target);
  q.target = w->target;
  q.elapsed += w->offset;
  w->user->progress(w->user->progress_ctx, &q);
}

/* The options for box k of n: the time left divided by the boxes left (a tiny positive budget
 * when none is left, since timeout <= 0 would mean "no limit"). */
static void box_options(const twinn_quant_options *opt, double t0, size_t k, size_t n,
                        progress_wrap *pw, twinn_quant_options *o) {
  double now = twinn_clock_now();
  *o = *opt;
  if (opt->timeout > 0) {
    o->timeout = (t0 + opt->timeout - now) / (double)(n - k);
    if (!(o->timeout > 1e-6)) o->timeout = 1e-6;
  }
  pw->user = opt;
  pw->k = k;
  pw->n = n;
  pw->offset = now - t0;
  if (opt->progress && n > 1) {
    o->progress = wrap_progress;
    o->progress_ctx = pw;
  }
}

/* Folds part (box part_box) into acc (box *acc_box): the point of the larger lower wins and
 * takes its box; the other point is freed. A NaN upper propagates (never silently dropped). */
static void merge_bound(twinn_quant_bound *acc, size_t *acc_box, twinn_quant_bound *part,
                        size_t part_box) {
  if (part->lower > acc->lower) {
    double *p = acc->point;
    acc->lower = part->lower;
    acc->value = part->value;
    acc->point = part->point;
    part->point = p;
    *acc_box = part_box;
  }
  if (!(part->upper <= acc->upper)) acc->upper = part->upper;
  acc->branches += part->branches;
  acc->refined += part->refined;
  acc->seconds += part->seconds;
}

twinn_status twinn_quant_union_diff_bounds(const twinn_net *f, const twinn_net *g, size_t n_boxes,
                                           const double *lo, const double *hi,
                                           const twinn_quant_options *opt, twinn_quant_diff *res,
                                           size_t *out_box, twinn_error *err) {
  twinn_quant_diff part;
  twinn_quant_options o;
  progress_wrap pw;
  double t0 = twinn_clock_now();
  size_t k, i, n = f->n_in;
  twinn_status st;
  memset(res, 0, sizeof *res);
  memset(&part, 0, sizeof part);
  if (n_boxes == 0)
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "bound: the region has no box");
  box_options(opt, t0, 0, n_boxes, &pw, &o);
  if ((st = twinn_quant_diff_bounds(f, g, lo, hi, &o, res, err)) != TWINN_OK) return st;
  for (i = 0; i < res->n_out; i++) out_box[i] = 0;
  if (n_boxes == 1) return TWINN_OK;
  for (k = 1; k < n_boxes; k++) {
    box_options(opt, t0, k, n_boxes, &pw, &o);
    if ((st = twinn_quant_diff_bounds(f, g, lo + k * n, hi + k * n, &o, &part, err)) != TWINN_OK)
      goto fail;
    for (i = 0; i < res->n_out; i++) merge_bound(&res->out[i], &out_box[i], &part.out[i], k);
    res->branches += part.branches;
    res->helped += part.helped;
    res->linf_searched |= part.linf_searched;
    res->linf_branches += part.linf_branches;
    res->linf_seconds += part.linf_seconds;
    res->outs_searched |= part.outs_searched;
    res->outs_branches += part.outs_branches;
    res->outs_refined += part.outs_refined;
    res->outs_seconds += part.outs_seconds;
    twinn_quant_diff_release(&part);
  }
  /* Recomputed from the combined intervals with quant's own rules. */
  res->timed_out = 0;
  res->linf_lower = res->linf_upper = -INFINITY;
  res->linf_arg = 0;
  for (i = 0; i < res->n_out; i++) {
    twinn_quant_bound *b = &res->out[i];
    b->closed = twinn_quant_gap_closed(opt, b->lower, b->upper);
    if (!b->closed) res->timed_out = 1;
    if (b->lower > res->linf_lower) {
      res->linf_lower = b->lower;
      res->linf_arg = i;
    }
    if (!(b->upper <= res->linf_upper)) res->linf_upper = b->upper;
  }
  res->linf_closed = twinn_quant_gap_closed(opt, res->linf_lower, res->linf_upper);
  res->seconds = twinn_clock_now() - t0;
  return TWINN_OK;
fail:
  twinn_quant_diff_release(res);
  return st;
}

twinn_status twinn_quant_union_margin_bounds(const twinn_net *f, const twinn_net *g, size_t n_boxes,
                                             const double *lo, const double *hi, size_t cls,
                                             int argmin, const twinn_quant_options *opt,
                                             twinn_quant_margin *res,
                                             twinn_quant_margin_boxes *boxes, twinn_error *err) {
  twinn_quant_margin part;
  twinn_quant_options o;
  progress_wrap pw;
  double t0 = twinn_clock_now();
  size_t k, n = f->n_in;
  int all_agree;
  twinn_status st;
  memset(res, 0, sizeof *res);
  memset(&part, 0, sizeof part);
  memset(boxes, 0, sizeof *boxes);
  if (n_boxes == 0)
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "bound: the region has no box");
  box_options(opt, t0, 0, n_boxes, &pw, &o);
  if ((st = twinn_quant_margin_bounds(f, g, lo, hi, cls, argmin, &o, res, err)) != TWINN_OK)
    return st;
  if (n_boxes == 1) return TWINN_OK;
  all_agree = res->top1 == TWINN_TOP1_AGREE;
  for (k = 1; k < n_boxes; k++) {
    box_options(opt, t0, k, n_boxes, &pw, &o);
    if ((st = twinn_quant_margin_bounds(f, g, lo + k * n, hi + k * n, cls, argmin, &o, &part,
                                        err)) != TWINN_OK)
      goto fail;
    /* dmax and dmin are both maxima (of m_g - m_f and of m_f - m_g): the max of each end over
     * the boxes is the max over the union, so the range of m_g - m_f over the union,
     * [-dmin.upper, dmax.upper], is the hull of the per-box ranges, as it must be. */
    merge_bound(&res->dmax, &boxes->dmax, &part.dmax, k);
    merge_bound(&res->dmin, &boxes->dmin, &part.dmin, k);
    merge_bound(&res->fneg, &boxes->fneg, &part.fneg, k);
    merge_bound(&res->gneg, &boxes->gneg, &part.gneg, k);
    if (part.top1 != TWINN_TOP1_AGREE) all_agree = 0;
    if (!res->witness && part.witness) {
      res->witness = part.witness;
      part.witness = NULL;
      res->witness_f = part.witness_f;
      res->witness_g = part.witness_g;
      boxes->witness = k;
    }
    res->branches += part.branches;
    res->helped += part.helped;
    twinn_quant_margin_release(&part);
  }
  res->top1 = res->witness ? TWINN_TOP1_DISAGREE
              : all_agree  ? TWINN_TOP1_AGREE
                           : TWINN_TOP1_UNKNOWN;
  /* quant's rule: a target is open unless its gap closed; -m_f and -m_g also count as done
   * once their sign is decided (that is all top-1 needs). */
  res->dmax.closed = twinn_quant_gap_closed(opt, res->dmax.lower, res->dmax.upper);
  res->dmin.closed = twinn_quant_gap_closed(opt, res->dmin.lower, res->dmin.upper);
  res->fneg.closed = twinn_quant_gap_closed(opt, res->fneg.lower, res->fneg.upper);
  res->gneg.closed = twinn_quant_gap_closed(opt, res->gneg.lower, res->gneg.upper);
  res->timed_out = !res->dmax.closed || !res->dmin.closed ||
                   (!res->fneg.closed && !(res->fneg.upper < 0 || res->fneg.lower > 0)) ||
                   (!res->gneg.closed && !(res->gneg.upper < 0 || res->gneg.lower > 0));
  res->seconds = twinn_clock_now() - t0;
  return TWINN_OK;
fail:
  twinn_quant_margin_release(res);
  return st;
}
