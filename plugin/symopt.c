/* symopt.c: optimised bounds of one network's linear objective (alpha-CROWN lower slopes and
 * beta-CROWN multipliers of the neuron split constraints), after twinn_sym_analyse.
 *
 * The lower bound of c . N(x) over the box and the splits, for lower slopes alpha in [0, 1] of the
 * unstable ReLUs and multipliers beta >= 0 of the split constraints s_j z_j >= 0, is
 *   min over the box of  c . N~(x) - sum_j beta_j s_j z~_j(x),
 * where N~ replaces each ReLU by the linear bound the back-substitution picks (by the sign of its
 * coefficient). Every such choice is a valid bound on the box intersected with the splits, so the
 * search for good (alpha, beta) may be heuristic: projected gradient ascent (Adam) in plain
 * float, where the gradient at the minimising box vertex x* is, per parameter, the coefficient
 * times the pre-activation of the linearised network evaluated at x* (the bound is piecewise
 * linear in the parameters). The best parameters are then handed to the sound back-substitution
 * (twinn_sym_backsub: outward rounding and error terms), whose result alone is returned. The
 * intermediate bounds stay those of the analysis. */
#include <math.h>
#include <string.h>

#include "clock.h"
#include "interval.h"
#include "sym_int.h"
#include "symkern.h"

/* Adam's parameters (those of alpha-CROWN): step sizes for alpha and beta, decay rates. */
#define OPT_LR_ALPHA 0.1
#define OPT_LR_BETA 0.05
#define OPT_B1 0.9
#define OPT_B2 0.999

static size_t width_at(const twinn_sym *s, size_t p) { return s->off[p + 1] - s->off[p]; }

/* Scratch layout in s->opt: 10 arrays of `total` entries, then 3 of max_w. */
enum { O_AL, O_BE, O_LAM, O_ZH, O_MA, O_VA, O_MB, O_VB, O_BAL, O_BBE, O_N };

static double *slot(twinn_sym *s, int k) { return s->opt + (size_t)k * s->off[s->n_points]; }

static int ensure_scratch(twinn_sym *s) {
  size_t total = s->off[s->n_points];
  if (!s->opt) s->opt = twinn_calloc(O_N * total + 3 * (s->max_w ? s->max_w : 1), sizeof(double));
  for (int w = 0; w < (s->net[1] ? 2 : 1); w++) {
    if (!s->beta[w]) s->beta[w] = twinn_calloc(total ? total : 1, sizeof(double));
    if (!s->osc[w]) s->osc[w] = twinn_calloc(total ? total : 1, sizeof(double));
    if (!s->beta[w] || !s->osc[w]) return 0;
  }
  return s->opt != NULL;
}

static int is_relu(const twinn_sym *s, size_t k) {
  return s->net[0]->layers[k].kind == TWINN_LAYER_RELU;
}

/* The float lower bound of c . N~ (c on point p) for parameters al, be; lam gets each ReLU's coefficient (at its
 * input point's entries), x the minimising vertex. */
static double lower_pass(twinn_sym *s, int w, size_t p, const double *c, const double *al,
                         const double *be, double *lam, double *x) {
  const twinn_net *net = s->net[w];
  double *cur = s->opt + O_N * s->off[s->n_points], *nxt = cur + s->max_w, cst = 0.0;
  memcpy(cur, c, width_at(s, p) * sizeof(double));
  for (size_t q = p; q > 0; q--) {
    const twinn_layer *ly = &net->layers[q - 1];
    size_t n = width_at(s, q - 1), m = width_at(s, q), o = s->off[q - 1];
    if (ly->kind == TWINN_LAYER_AFFINE) {
      for (size_t i = 0; i < m; i++) cst += cur[i] * ly->b[i];
      twinn_symk_gemv_t_f64(m, n, ly->w, n, cur, nxt);
    } else {
      const double *lo = s->lo[w] + o, *hi = s->hi[w] + o;
      const double *rs = s->rs[w] + o, *rt = s->rt[w] + o;
      const signed char *sg = s->split[w] + o;
      for (size_t j = 0; j < n; j++) {
        double l = cur[j], v;
        lam[o + j] = l;
        if (hi[j] <= 0.0)
          v = 0.0;
        else if (lo[j] >= 0.0)
          v = l;
        else if (l >= 0.0)
          v = l * al[o + j];
        else {
          v = l * rs[j];
          cst += l * rt[j];
        }
        if (sg[j]) v -= be[o + j] * sg[j];
        nxt[j] = v;
      }
    }
    double *t = cur;
    cur = nxt;
    nxt = t;
  }
  for (size_t i = 0; i < net->n_in; i++) {
    x[i] = cur[i] >= 0.0 ? s->lo[0][i] : s->hi[0][i];
    cst += cur[i] * x[i];
  }
  return cst;
}

/* Pre-activations zh of the linearised network (the relaxations lower_pass chose) at x. */
static void forward_pass(twinn_sym *s, int w, size_t p, const double *al, const double *lam,
                         const double *x, double *zh) {
  const twinn_net *net = s->net[w];
  double *cur = s->opt + O_N * s->off[s->n_points], *nxt = cur + s->max_w;
  memcpy(cur, x, net->n_in * sizeof(double));
  for (size_t k = 0; k < p; k++) {
    const twinn_layer *ly = &net->layers[k];
    size_t o = s->off[k];
    if (ly->kind == TWINN_LAYER_AFFINE) {
      memcpy(nxt, ly->b, ly->n_out * sizeof(double));
      twinn_symk_gemv_f64(ly->n_out, ly->n_in, ly->w, ly->n_in, cur, 1.0, nxt);
    } else {
      const double *lo = s->lo[w] + o, *hi = s->hi[w] + o;
      const double *rs = s->rs[w] + o, *rt = s->rt[w] + o;
      for (size_t j = 0; j < ly->n_out; j++) {
        double z = cur[j];
        zh[o + j] = z;
        if (hi[j] <= 0.0)
          nxt[j] = 0.0;
        else if (lo[j] >= 0.0)
          nxt[j] = z;
        else
          nxt[j] = lam[o + j] >= 0.0 ? al[o + j] * z : rs[j] * z + rt[j];
      }
    }
    double *t = cur;
    cur = nxt;
    nxt = t;
  }
}

static void adam(double *p, double *m, double *v, double g, double lr, double c1, double c2) {
  *m = OPT_B1 * *m + (1.0 - OPT_B1) * g;
  *v = OPT_B2 * *v + (1.0 - OPT_B2) * g * g;
  double vh = sqrt(*v / c2);
  if (vh > 0.0) *p += lr * (*m / c1) / (vh + 1e-12);
}

/* The sound lower bound with slopes al and multipliers be: they are installed in the workspace
 * (slopes rounded to multiples of 2^-52, which keeps the relaxation arithmetic exact), the rows
 * are back-substituted, and the analysis' own relaxations are restored. */
static double certify(twinn_sym *s, int w, size_t p, const double *c, const double *al,
                      const double *be) {
  size_t total = s->off[s->n_points], n_out = width_at(s, p);
  double l, h;
  memcpy(s->ra0[w], s->ra[w], total * sizeof(double));
  memcpy(s->beta[w], be, total * sizeof(double));
  s->beta_w = w;
  for (size_t k = 0; k < s->n_layers; k++) {
    if (!is_relu(s, k)) continue;
    size_t o = s->off[k];
    for (size_t j = 0; j < width_at(s, k); j++)
      if (s->lo[w][o + j] < 0.0 && s->hi[w][o + j] > 0.0) {
        double a = fmin(fmax(al[o + j], 0.0), 1.0);
        s->ra[w][o + j] = ldexp(nearbyint(ldexp(a, 52)), -52);
      }
    twinn_sym_relax_live(s, w, k);
    twinn_sym_pack_layer(s, k, 1u << w);
  }
  memcpy(s->a[0], c, n_out * sizeof(double));
  memcpy(s->a[0] + n_out, c, n_out * sizeof(double));
  s->cst[0] = s->cst[1] = s->er[0] = s->er[1] = 0.0;
  twinn_sym_backsub(s, w, p, 1, &l, &h, NULL);
  memcpy(s->ra[w], s->ra0[w], total * sizeof(double));
  s->beta_w = -1;
  for (size_t k = 0; k < s->n_layers; k++) {
    if (!is_relu(s, k)) continue;
    twinn_sym_relax_live(s, w, k);
    twinn_sym_pack_layer(s, k, 1u << w);
  }
  return l;
}

/* Optimises the parameters for c on point p (`iters` rounds); the best are left in O_BAL and
 * O_BBE. Returns the best float bound (-INFINITY if none was finite). */
static double optimise(twinn_sym *s, int w, size_t p, const double *c, size_t iters) {
  size_t total = s->off[s->n_points];
  double *al = slot(s, O_AL), *be = slot(s, O_BE), *lam = slot(s, O_LAM), *zh = slot(s, O_ZH);
  double *ma = slot(s, O_MA), *va = slot(s, O_VA), *mb = slot(s, O_MB), *vb = slot(s, O_VB);
  double *bal = slot(s, O_BAL), *bbe = slot(s, O_BBE), *x = s->vtx + 6 * s->net[0]->n_in;
  memcpy(al, s->ra[w], total * sizeof(double));
  memset(be, 0, total * sizeof(double));
  memset(ma, 0, 4 * total * sizeof(double)); /* ma, va, mb, vb are adjacent */
  double best = -INFINITY, c1 = 1.0, c2 = 1.0;
  for (size_t t = 0; t <= iters; t++) {
    double b = lower_pass(s, w, p, c, al, be, lam, x);
    if (!isfinite(b)) break;
    if (b > best || t == 0) {
      best = b;
      memcpy(bal, al, total * sizeof(double));
      memcpy(bbe, be, total * sizeof(double));
    }
    if (t == iters) break;
    forward_pass(s, w, p, al, lam, x, zh);
    c1 *= OPT_B1;
    c2 *= OPT_B2;
    for (size_t k = 0; k < p; k++) {
      if (!is_relu(s, k)) continue;
      size_t o = s->off[k];
      for (size_t j = o; j < o + width_at(s, k); j++) {
        signed char sg = s->split[w][j];
        if (s->lo[w][j] < 0.0 && s->hi[w][j] > 0.0 && lam[j] >= 0.0) {
          adam(&al[j], &ma[j], &va[j], lam[j] * zh[j], OPT_LR_ALPHA, 1.0 - c1, 1.0 - c2);
          al[j] = fmin(fmax(al[j], 0.0), 1.0);
        }
        if (sg) {
          adam(&be[j], &mb[j], &vb[j], -(double)sg * zh[j], OPT_LR_BETA, 1.0 - c1, 1.0 - c2);
          be[j] = fmax(be[j], 0.0);
        }
      }
    }
  }
  return best;
}

twinn_status twinn_sym_bound_opt(twinn_sym *s, int which, const double *c, size_t iters,
                                 double *lo, twinn_error *err) {
  *lo = -INFINITY;
  if (!s->analysed)
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: bound before analyse");
  if (which < 0 || which > 1 || !s->net[which])
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: no network %d", which);
  if (s->overflow || s->infeasible) return TWINN_OK;
  if (!ensure_scratch(s)) return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  int w = which;
  size_t L = s->n_layers;
  double *lam = slot(s, O_LAM), *bal = slot(s, O_BAL), *bbe = slot(s, O_BBE);
  if (!isfinite(optimise(s, w, L, c, iters))) return TWINN_OK;
  /* Branching scores: each unstable neuron's coefficient times its triangle's height. */
  lower_pass(s, w, L, c, bal, bbe, lam, s->vtx + 6 * s->net[0]->n_in);
  for (size_t k = 0; k < L; k++) {
    if (!is_relu(s, k)) continue;
    for (size_t j = s->off[k]; j < s->off[k] + width_at(s, k); j++) {
      double l = s->lo[w][j], u = s->hi[w][j];
      if (l < 0.0 && u > 0.0 && isfinite(l) && isfinite(u))
        s->osc[w][j] += fabs(lam[j]) * (-l * u / (u - l));
    }
  }
  *lo = certify(s, w, L, c, bal, bbe);
  return TWINN_OK;
}

twinn_status twinn_sym_set_prior(twinn_sym *s, int which, const double *lo, const double *hi,
                                 twinn_error *err) {
  size_t total = s->off[s->n_points];
  if (which < 0 || which > 1 || !s->net[which])
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: no network %d", which);
  if (!lo || !hi) {
    twinn_free(s->plo[which]);
    twinn_free(s->phi[which]);
    s->plo[which] = s->phi[which] = NULL;
    return TWINN_OK;
  }
  if (!s->plo[which]) s->plo[which] = twinn_mallocarray(total ? total : 1, sizeof(double));
  if (!s->phi[which]) s->phi[which] = twinn_mallocarray(total ? total : 1, sizeof(double));
  if (!s->plo[which] || !s->phi[which])
    return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  memcpy(s->plo[which], lo, total * sizeof(double));
  memcpy(s->phi[which], hi, total * sizeof(double));
  return TWINN_OK;
}

twinn_status twinn_sym_tighten(twinn_sym *s, size_t iters, double deadline, twinn_error *err) {
  if (!s->analysed)
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: tighten before analyse");
  if (!ensure_scratch(s)) return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  size_t n_in = s->net[0]->n_in, total = s->off[s->n_points];
  int n_nets = s->net[1] ? 2 : 1;
  double *box = twinn_mallocarray(2 * (n_in ? n_in : 1), sizeof(double));
  double *c = twinn_calloc(s->max_w ? s->max_w : 1, sizeof(double));
  twinn_status st = TWINN_OK;
  if (!box || !c) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
    goto done;
  }
  memcpy(box, s->lo[0], n_in * sizeof(double));
  memcpy(box + n_in, s->hi[0], n_in * sizeof(double));
  for (int w = 0; w < n_nets && st == TWINN_OK; w++)
    st = twinn_sym_set_prior(s, w, s->lo[w], s->hi[w], err);
  /* ReLU input points behind at least one ReLU: their bounds come through relaxations. */
  for (size_t p = 1; p < s->n_layers && st == TWINN_OK; p++) {
    int behind = 0;
    for (size_t k = 0; k < p; k++) behind |= is_relu(s, k);
    if (!is_relu(s, p) || !behind) continue;
    if (s->overflow || s->infeasible) break;
    size_t o = s->off[p];
    for (int w = 0; w < n_nets; w++)
      for (size_t j = 0; j < width_at(s, p); j++) {
        if (!(s->lo[w][o + j] < 0.0 && s->hi[w][o + j] > 0.0)) continue;
        if (deadline > 0 && twinn_clock_now() > deadline) goto done;
        for (int end = 0; end < 2; end++) {
          c[j] = end ? -1.0 : 1.0;
          if (isfinite(optimise(s, w, p, c, iters))) {
            double b = certify(s, w, p, c, slot(s, O_BAL), slot(s, O_BBE));
            if (end)
              s->phi[w][o + j] = fmin(s->phi[w][o + j], -b);
            else
              s->plo[w][o + j] = fmax(s->plo[w][o + j], b);
          }
          c[j] = 0.0;
        }
      }
    /* The next points see the tighter relaxations. */
    st = twinn_sym_analyse(s, box, box + n_in, err);
    for (int w = 0; w < n_nets && st == TWINN_OK; w++) {
      memcpy(s->plo[w], s->lo[w], total * sizeof(double));
      memcpy(s->phi[w], s->hi[w], total * sizeof(double));
    }
  }
done:
  twinn_free(box);
  twinn_free(c);
  return st;
}

const double *twinn_sym_prior(const twinn_sym *s, int which, int upper) {
  if (which < 0 || which > 1) return NULL;
  return upper ? s->phi[which] : s->plo[which];
}

const double *twinn_sym_opt_scores(const twinn_sym *s, int which, size_t point) {
  if (which < 0 || which > 1 || !s->osc[which] || point >= s->n_points || !s->analysed) return NULL;
  return s->osc[which] + s->off[point];
}
