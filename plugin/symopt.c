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
#include <pthread.h>
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

/* Affine layers with at least this many weights take the float products (opt_product). */
#define OPT_F32_MIN ((size_t)1 << 16)

/* x in float for the optimiser's passes: magnitudes below 1e-30 flush to 0 (a subnormal float
 * costs a microcode assist per operation; see settle_point in symbolic.c). Only for values that
 * f32_ok accepts. */
static float to_f32(double x) { return fabs(x) < 1e-30 ? 0.0f : (float)x; }

/* Whether every x[j] is finite and at most 1e30 in magnitude (else the products stay double). */
static int f32_ok(const double *x, size_t n) {
  for (size_t j = 0; j < n; j++)
    if (!(fabs(x[j]) <= 1e30)) return 0;
  return 1;
}

/* Objectives optimised together: their passes are matrix products. The batch shrinks (to 2 at
 * least: tighten's pairs) so that the scratch stays under OPT_SCRATCH bytes where it can. */
#define OPT_BATCH 32
#define OPT_SCRATCH ((size_t)64 << 20)

/* Scratch layout in s->opt, B = s->opt_batch: O_N arrays of B x total entries (row r: objective
 * r), then two B x max_w pass buffers, B x n_in vertices and B bounds. */
enum { O_AL, O_BE, O_LAM, O_ZH, O_MA, O_VA, O_MB, O_VB, O_BAL, O_BBE, O_N };

static size_t total_of(const twinn_sym *s) { return s->off[s->n_points]; }
static double *slot(twinn_sym *s, int k) { return s->opt + (size_t)k * s->opt_batch * total_of(s); }
static double *buf(twinn_sym *s, int i) {
  return s->opt + O_N * s->opt_batch * total_of(s) + (size_t)i * s->opt_batch * s->max_w;
}
static double *vert(twinn_sym *s) { return buf(s, 2); }
static double *bnds(twinn_sym *s) { return vert(s) + s->opt_batch * s->net[0]->n_in; }

static int ensure_scratch(twinn_sym *s) {
  size_t total = total_of(s);
  if (!s->opt) {
    size_t row = O_N * total + 2 * s->max_w + s->net[0]->n_in + 1;
    s->opt_batch = OPT_SCRATCH / sizeof(double) / row;
    s->opt_batch = s->opt_batch < 2 ? 2 : s->opt_batch > OPT_BATCH ? OPT_BATCH : s->opt_batch;
    s->opt = twinn_calloc(s->opt_batch, row * sizeof(double));
  }
  for (int w = 0; w < (s->net[1] ? 2 : 1); w++) {
    if (!s->beta[w]) s->beta[w] = twinn_calloc(total ? total : 1, sizeof(double));
    if (!s->osc[w]) s->osc[w] = twinn_calloc(total ? total : 1, sizeof(double));
    if (!s->beta[w] || !s->osc[w]) return 0;
    if (!s->w32[w]) {
      const twinn_net *net = s->net[w];
      s->w32[w] = twinn_calloc(s->n_layers ? s->n_layers : 1, sizeof(float *));
      if (!s->w32[w]) return 0;
      for (size_t k = 0; k < s->n_layers; k++) {
        const twinn_layer *ly = &net->layers[k];
        size_t nw = ly->n_in * ly->n_out;
        if (ly->kind != TWINN_LAYER_AFFINE || nw < OPT_F32_MIN || !f32_ok(ly->w, nw)) continue;
        if (!(s->w32[w][k] = twinn_mallocarray(nw, sizeof(float)))) return 0;
        for (size_t j = 0; j < nw; j++) s->w32[w][k][j] = to_f32(ly->w[j]);
      }
    }
  }
  if (!s->opt32 && s->opt)
    s->opt32 = twinn_mallocarray(2 * s->opt_batch * (s->max_w ? s->max_w : 1), sizeof(float));
  return s->opt != NULL && s->opt32 != NULL;
}

/* nxt (k rows, stride max_w) = cur (k rows of m) * W (m x n) for layer `layer` of network w, or
 * cur * W^T when nt (then cur has n_in entries per row, nxt n_out). Layers of at least
 * OPT_F32_MIN weights go through float: these passes only steer the parameters (certify()
 * bounds soundly), and OpenBLAS packs the weight matrix on every call: on MNIST 256x2 top-1 the
 * double products were 47 % of the run, half of it packing. */
static void opt_product(twinn_sym *s, int w, size_t layer, size_t k, const double *cur, double *nxt,
                        int nt) {
  const twinn_layer *ly = &s->net[w]->layers[layer];
  size_t mw = s->max_w, m = nt ? ly->n_in : ly->n_out, n = nt ? ly->n_out : ly->n_in;
  const float *w32 = s->w32[w] ? s->w32[w][layer] : NULL;
  int f32 = w32 != NULL;
  for (size_t r = 0; r < k && f32; r++) f32 = f32_ok(cur + r * mw, m);
  if (!f32) {
    if (nt)
      twinn_symk_gemm_nt_f64(k, m, n, cur, mw, ly->w, ly->n_in, nxt, mw);
    else
      twinn_symk_gemm_f64(k, m, n, cur, mw, ly->w, n, 0.0, nxt, mw);
    return;
  }
  float *a = s->opt32, *c = s->opt32 + s->opt_batch * mw;
  for (size_t r = 0; r < k; r++)
    for (size_t i = 0; i < m; i++) a[r * mw + i] = to_f32(cur[r * mw + i]);
  if (nt)
    twinn_symk_gemm_nt_f32(k, m, n, a, mw, w32, ly->n_in, c, mw);
  else
    twinn_symk_gemm_f32(k, m, n, a, mw, w32, n, c, mw);
  for (size_t r = 0; r < k; r++)
    for (size_t j = 0; j < n; j++) nxt[r * mw + j] = c[r * mw + j];
}

static int is_relu(const twinn_sym *s, size_t k) {
  return s->net[0]->layers[k].kind == TWINN_LAYER_RELU;
}

/* The float lower bounds of c_r . N~ (k objectives c, rows on point p) for parameters al, be
 * (rows of total entries) into bnds(); lam gets each ReLU's coefficient (at its input point's
 * entries), vert() the minimising vertices. */
static void lower_pass(twinn_sym *s, int w, size_t p, size_t k, const double *c, const double *al,
                       const double *be, double *lam) {
  const twinn_net *net = s->net[w];
  size_t total = total_of(s), mw = s->max_w, n_in = net->n_in;
  double *cur = buf(s, 0), *nxt = buf(s, 1), *x = vert(s), *cst = bnds(s);
  for (size_t r = 0; r < k; r++) {
    memcpy(cur + r * mw, c + r * width_at(s, p), width_at(s, p) * sizeof(double));
    cst[r] = 0.0;
  }
  for (size_t q = p; q > 0; q--) {
    const twinn_layer *ly = &net->layers[q - 1];
    size_t n = width_at(s, q - 1), m = width_at(s, q), o = s->off[q - 1];
    if (ly->kind == TWINN_LAYER_AFFINE) {
      for (size_t r = 0; r < k; r++)
        for (size_t i = 0; i < m; i++) cst[r] += cur[r * mw + i] * ly->b[i];
      if (k == 1)
        twinn_symk_gemv_t_f64(m, n, ly->w, n, cur, nxt);
      else
        opt_product(s, w, q - 1, k, cur, nxt, 0);
    } else {
      const double *lo = s->lo[w] + o, *hi = s->hi[w] + o;
      const double *rs = s->rs[w] + o, *rt = s->rt[w] + o;
      const signed char *sg = s->split[w] + o;
      for (size_t r = 0; r < k; r++) {
        const double *a = al + r * total + o, *bt = be + r * total + o, *cr = cur + r * mw;
        double *lr = lam + r * total + o, *nr = nxt + r * mw, acc = 0.0;
        for (size_t j = 0; j < n; j++) {
          double l = cr[j], v;
          lr[j] = l;
          if (hi[j] <= 0.0)
            v = 0.0;
          else if (lo[j] >= 0.0)
            v = l;
          else if (l >= 0.0)
            v = l * a[j];
          else {
            v = l * rs[j];
            acc += l * rt[j];
          }
          if (sg[j]) v -= bt[j] * sg[j];
          nr[j] = v;
        }
        cst[r] += acc;
      }
    }
    double *t = cur;
    cur = nxt;
    nxt = t;
  }
  for (size_t r = 0; r < k; r++)
    for (size_t i = 0; i < n_in; i++) {
      double a = cur[r * mw + i];
      x[r * n_in + i] = a >= 0.0 ? s->lo[0][i] : s->hi[0][i];
      cst[r] += a * x[r * n_in + i];
    }
}

/* Pre-activations zh (rows of total entries) of the linearised networks (the relaxations
 * lower_pass chose for each objective) at the vertices vert(), up to point p. */
static void forward_pass(twinn_sym *s, int w, size_t p, size_t k, const double *al,
                         const double *lam, double *zh) {
  const twinn_net *net = s->net[w];
  size_t total = total_of(s), mw = s->max_w;
  double *cur = buf(s, 0), *nxt = buf(s, 1);
  for (size_t r = 0; r < k; r++)
    memcpy(cur + r * mw, vert(s) + r * net->n_in, net->n_in * sizeof(double));
  for (size_t q = 0; q < p; q++) {
    const twinn_layer *ly = &net->layers[q];
    size_t o = s->off[q];
    if (ly->kind == TWINN_LAYER_AFFINE) {
      opt_product(s, w, q, k, cur, nxt, 1);
      for (size_t r = 0; r < k; r++)
        for (size_t j = 0; j < ly->n_out; j++) nxt[r * mw + j] += ly->b[j];
    } else {
      const double *lo = s->lo[w] + o, *hi = s->hi[w] + o;
      const double *rs = s->rs[w] + o, *rt = s->rt[w] + o;
      for (size_t r = 0; r < k; r++) {
        const double *a = al + r * total + o, *lr = lam + r * total + o, *cr = cur + r * mw;
        double *zr = zh + r * total + o, *nr = nxt + r * mw;
        for (size_t j = 0; j < ly->n_out; j++) {
          double z = cr[j];
          zr[j] = z;
          if (hi[j] <= 0.0)
            nr[j] = 0.0;
          else if (lo[j] >= 0.0)
            nr[j] = z;
          else
            nr[j] = lr[j] >= 0.0 ? a[j] * z : rs[j] * z + rt[j];
        }
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

/* The sound lower bound of c (on point p) with slopes al and multipliers be (one row each):
 * they are installed in the workspace (slopes rounded to multiples of 2^-52, which keeps the
 * relaxation arithmetic exact), the rows are back-substituted, and the analysis' own
 * relaxations are restored. */
static double certify(twinn_sym *s, int w, size_t p, const double *c, const double *al,
                      const double *be) {
  size_t total = total_of(s), n_out = width_at(s, p);
  double l, h;
  memcpy(s->ra0[w], s->ra[w], total * sizeof(double));
  memcpy(s->beta[w], be, total * sizeof(double));
  /* The multipliers of first-layer splits are the half-spaces' (symhalf.c), which the
   * concretisation chooses for the final row itself (one folded in here could only grow). */
  if (s->nhs) memset(s->beta[w] + s->off[1], 0, width_at(s, 1) * sizeof(double));
  s->beta_w = w;
  for (size_t k = 0; k < p; k++) {
    if (!is_relu(s, k)) continue;
    size_t o = s->off[k];
    for (size_t j = 0; j < width_at(s, k); j++)
      if (s->lo[w][o + j] < 0.0 && s->hi[w][o + j] > 0.0) {
        double a = twinn_fmin(twinn_fmax(al[o + j], 0.0), 1.0);
        s->ra[w][o + j] = ldexp(nearbyint(ldexp(a, 52)), -52);
      }
    /* Only multipliers of split inactive neurons make new columns live (unstable neurons are
     * live through their chord): repacking costs a copy of the layer's matrix. */
    if (twinn_sym_relax_live(s, w, k)) twinn_sym_pack_layer(s, k, 1u << w);
  }
  memcpy(s->a[0], c, n_out * sizeof(double));
  memcpy(s->a[0] + n_out, c, n_out * sizeof(double));
  s->cst[0] = s->cst[1] = s->er[0] = s->er[1] = 0.0;
  s->and_iters = s->and_opt;
  twinn_sym_backsub(s, w, p, 1, &l, &h, NULL);
  s->and_iters = 0;
  memcpy(s->ra[w], s->ra0[w], total * sizeof(double));
  s->beta_w = -1;
  for (size_t k = 0; k < p; k++)
    if (is_relu(s, k) && twinn_sym_relax_live(s, w, k)) twinn_sym_pack_layer(s, k, 1u << w);
  if (s->nhs) {
    /* The parameters were chosen for the box alone; with half-spaces the analysis' own
     * relaxations may bound better, so the better of the two (both sound) is returned. */
    double l2, h2;
    memcpy(s->a[0], c, n_out * sizeof(double));
    memcpy(s->a[0] + n_out, c, n_out * sizeof(double));
    s->cst[0] = s->cst[1] = s->er[0] = s->er[1] = 0.0;
    twinn_sym_backsub(s, w, p, 1, &l2, &h2, NULL);
    l = twinn_fmax(l, l2);
  }
  return l;
}

/* Optimises the parameters of k <= s->opt_batch objectives c (rows on point p) over `iters`
 * rounds; the best of each are left in rows of O_BAL and O_BBE, their float bounds in best[]
 * (-INFINITY where none was finite). */
static void optimise(twinn_sym *s, int w, size_t p, size_t k, const double *c, size_t iters,
                     double *best) {
  size_t total = total_of(s);
  double *al = slot(s, O_AL), *be = slot(s, O_BE), *lam = slot(s, O_LAM), *zh = slot(s, O_ZH);
  double *ma = slot(s, O_MA), *va = slot(s, O_VA), *mb = slot(s, O_MB), *vb = slot(s, O_VB);
  double *bal = slot(s, O_BAL), *bbe = slot(s, O_BBE), *b = bnds(s);
  for (size_t r = 0; r < k; r++) {
    memcpy(al + r * total, s->ra[w], total * sizeof(double));
    best[r] = -INFINITY;
  }
  memset(be, 0, k * total * sizeof(double));
  memset(ma, 0, k * total * sizeof(double));
  memset(va, 0, k * total * sizeof(double));
  memset(mb, 0, k * total * sizeof(double));
  memset(vb, 0, k * total * sizeof(double));
  double c1 = 1.0, c2 = 1.0;
  for (size_t t = 0; t <= iters; t++) {
    lower_pass(s, w, p, k, c, al, be, lam);
    for (size_t r = 0; r < k; r++)
      if (isfinite(b[r]) && b[r] > best[r]) {
        best[r] = b[r];
        memcpy(bal + r * total, al + r * total, total * sizeof(double));
        memcpy(bbe + r * total, be + r * total, total * sizeof(double));
      }
    if (t == iters) break;
    forward_pass(s, w, p, k, al, lam, zh);
    c1 *= OPT_B1;
    c2 *= OPT_B2;
    for (size_t q = 0; q < p; q++) {
      if (!is_relu(s, q)) continue;
      for (size_t j = s->off[q]; j < s->off[q] + width_at(s, q); j++) {
        signed char sg = s->split[w][j];
        int free = s->lo[w][j] < 0.0 && s->hi[w][j] > 0.0;
        if (!free && !sg) continue;
        for (size_t r = 0, e = j; r < k; r++, e += total) {
          if (free && lam[e] >= 0.0) {
            adam(&al[e], &ma[e], &va[e], lam[e] * zh[e], OPT_LR_ALPHA, 1.0 - c1, 1.0 - c2);
            al[e] = twinn_fmin(twinn_fmax(al[e], 0.0), 1.0);
          }
          if (sg) {
            adam(&be[e], &mb[e], &vb[e], -(double)sg * zh[e], OPT_LR_BETA, 1.0 - c1, 1.0 - c2);
            be[e] = twinn_fmax(be[e], 0.0);
          }
        }
      }
    }
  }
}

twinn_status twinn_sym_bound_opt_many(twinn_sym *s, int which, const double *c, const double *off,
                                      size_t k, size_t iters, double *lo, twinn_error *err) {
  return twinn_sym_bound_opt_at(s, which, s->n_layers, c, off, k, iters, lo, err);
}

twinn_status twinn_sym_bound_opt_at(twinn_sym *s, int which, size_t point, const double *c,
                                    const double *off, size_t k, size_t iters, double *lo,
                                    twinn_error *err) {
  for (size_t r = 0; r < k; r++) lo[r] = -INFINITY;
  if (!s->analysed)
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: bound before analyse");
  if (which < 0 || which > 1 || !s->net[which])
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: no network %d", which);
  if (point > s->n_layers)
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: no point %zu", point);
  if (s->overflow || s->infeasible || k == 0) return TWINN_OK;
  if (!ensure_scratch(s)) return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  int w = which;
  size_t L = point, total = total_of(s), n_out = width_at(s, L);
  double *lam = slot(s, O_LAM), *bal = slot(s, O_BAL), *bbe = slot(s, O_BBE), best[OPT_BATCH];
  if (!s->osc_set[w]) { /* the first call since the analysis: scores start from 0 */
    memset(s->osc[w], 0, total * sizeof(double));
    s->osc_set[w] = 1;
  }
  for (size_t r0 = 0; r0 < k; r0 += s->opt_batch) {
    size_t kk = k - r0 < s->opt_batch ? k - r0 : s->opt_batch;
    const double *cc = c + r0 * n_out;
    optimise(s, w, L, kk, cc, iters, best);
    for (size_t r = 0; r < kk; r++)
      if (isfinite(best[r]))
        lo[r0 + r] = certify(s, w, L, cc + r * n_out, bal + r * total, bbe + r * total);
    /* Branching scores (BaBSR's intercept term): a lower bound pays for an unstable neuron's
     * triangle only where its coefficient lam is negative (the upper relaxation, with its
     * intercept -l u / (u - l), is taken there); a positive lam takes the lower slope, without
     * intercept, and counts a hundredth (a tie-break that keeps every unstable neuron
     * eligible). Each objective is weighted by how far it is from refutation. Against |lam|
     * times the height, on MNIST 256x2 int8 boxes of 0.9 radius: img1 from a timeout (60 s,
     * 13 000 regions) to 2 648 regions, img3 from 3 510 to 236. */
    lower_pass(s, w, L, kk, cc, bal, bbe, lam);
    for (size_t r = 0; r < kk; r++) {
      double gap = -((off ? off[r0 + r] : 0.0) + lo[r0 + r]);
      best[r] = isfinite(best[r]) && gap > 0.0 ? twinn_fmin(gap, 1e300) : 0.0;
    }
    for (size_t q = 0; q < L; q++) {
      if (!is_relu(s, q)) continue;
      for (size_t j = s->off[q]; j < s->off[q] + width_at(s, q); j++) {
        double l = s->lo[w][j], u = s->hi[w][j];
        if (!(l < 0.0 && u > 0.0 && isfinite(l) && isfinite(u))) continue;
        for (size_t r = 0; r < kk; r++)
          if (best[r] > 0.0)
            s->osc[w][j] += best[r] *
                            (twinn_fmax(-lam[r * total + j], 0.0) +
                             0.01 * twinn_fmax(lam[r * total + j], 0.0)) *
                            (-l * u / (u - l));
      }
    }
  }
  return TWINN_OK;
}

twinn_status twinn_sym_bound_opt(twinn_sym *s, int which, const double *c, size_t iters, double *lo,
                                 twinn_error *err) {
  return twinn_sym_bound_opt_many(s, which, c, NULL, 1, iters, lo, err);
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

/* One batch of a point's tightening objectives: neurons obj[first .. first + k / 2) of network
 * w, each as +e_j (its lower bound) then -e_j (its upper bound). */
typedef struct {
  int w;
  size_t first, k;
} tbatch;

/* One worker's share of a point: batches start, start + step, ... of b on its workspace s,
 * whose prior bounds take the results. */
typedef struct {
  twinn_sym *s;
  size_t p, iters, nb, start, step;
  const tbatch *b;
  const size_t *obj;
  double deadline;
  const atomic_int *cancel; /* raised: stop as at the deadline (may be NULL) */
  double *c;                /* opt_batch rows of the point's width */
  int cut;                  /* the deadline or the flag stopped it */
} tjob;

static void *tighten_job(void *arg) {
  tjob *J = arg;
  twinn_sym *s = J->s;
  size_t p = J->p, o = s->off[p], n = width_at(s, p), total = total_of(s);
  double best[OPT_BATCH];
  for (size_t b = J->start; b < J->nb; b += J->step) {
    const tbatch *B = &J->b[b];
    if ((J->deadline > 0 && twinn_clock_now() > J->deadline) ||
        (J->cancel && atomic_load_explicit(J->cancel, memory_order_relaxed))) {
      J->cut = 1;
      break;
    }
    for (size_t r = 0; r < B->k; r++) {
      memset(J->c + r * n, 0, n * sizeof(double));
      J->c[r * n + J->obj[B->first + r / 2]] = r % 2 ? -1.0 : 1.0;
    }
    optimise(s, B->w, p, B->k, J->c, J->iters, best);
    for (size_t r = 0; r < B->k; r++) {
      if (!isfinite(best[r])) continue;
      double v =
          certify(s, B->w, p, J->c + r * n, slot(s, O_BAL) + r * total, slot(s, O_BBE) + r * total);
      size_t e = o + J->obj[B->first + r / 2];
      if (r % 2)
        s->phi[B->w][e] = twinn_fmin(s->phi[B->w][e], -v);
      else
        s->plo[B->w][e] = twinn_fmax(s->plo[B->w][e], v);
    }
  }
  return NULL;
}

twinn_status twinn_sym_tighten(twinn_sym *s, size_t iters, double deadline, twinn_error *err) {
  return twinn_sym_tighten_par(&s, 1, iters, deadline, NULL, err);
}

twinn_status twinn_sym_tighten_par(twinn_sym *const *ws, size_t n_ws, size_t iters, double deadline,
                                   const atomic_int *cancel, twinn_error *err) {
  twinn_sym *s = ws[0];
  for (size_t t = 0; t < n_ws; t++) {
    if (!ws[t]->analysed)
      return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: tighten before analyse");
    if (!ensure_scratch(ws[t]))
      return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
    if (ws[t]->opt_batch != s->opt_batch) n_ws = t; /* batches must be formed alike */
  }
  size_t n_in = s->net[0]->n_in, total = s->off[s->n_points];
  int n_nets = s->net[1] ? 2 : 1;
  size_t max_obj = (size_t)n_nets * (s->max_w ? s->max_w : 1); /* one point's neurons */
  double *box = twinn_mallocarray(2 * (n_in ? n_in : 1), sizeof(double));
  double *c = twinn_calloc(n_ws * s->opt_batch * (s->max_w ? s->max_w : 1), sizeof(double));
  size_t *obj = twinn_mallocarray(max_obj, sizeof(size_t));
  tbatch *bat = twinn_mallocarray(max_obj, sizeof(tbatch));
  tjob *jobs = twinn_calloc(n_ws, sizeof(tjob));
  pthread_t *th = twinn_calloc(n_ws, sizeof(pthread_t));
  int *started = twinn_calloc(n_ws, sizeof(int));
  twinn_status st = TWINN_OK;
  if (!box || !c || !obj || !bat || !jobs || !th || !started) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
    goto done;
  }
  memcpy(box, s->lo[0], n_in * sizeof(double));
  memcpy(box + n_in, s->hi[0], n_in * sizeof(double));
  for (size_t t = 0; t < n_ws; t++)
    for (int w = 0; w < n_nets && st == TWINN_OK; w++)
      st = twinn_sym_set_prior(ws[t], w, ws[t]->lo[w], ws[t]->hi[w], err);
  /* ReLU input points behind at least one ReLU: their bounds come through relaxations. Each
   * point's unstable neurons, both ends, in batches of opt_batch objectives (the batches, and
   * so the results, do not depend on n_ws); the workspaces take every n_ws-th batch at once,
   * then all see the point's bounds merged, and analyse the box again so that later points see
   * the tighter relaxations. */
  for (size_t p = 1; p < s->n_layers && st == TWINN_OK; p++) {
    int behind = 0, cut = 0;
    for (size_t k = 0; k < p; k++) behind |= is_relu(s, k);
    if (!is_relu(s, p) || !behind) continue;
    if (s->overflow || s->infeasible) break;
    size_t o = s->off[p], n = width_at(s, p), n_obj = 0, nb = 0, per = s->opt_batch / 2;
    for (int w = 0; w < n_nets; w++) {
      size_t first = n_obj;
      for (size_t j = 0; j < n; j++)
        if (s->lo[w][o + j] < 0.0 && s->hi[w][o + j] > 0.0) obj[n_obj++] = j;
      for (size_t f = first; f < n_obj; f += per) {
        bat[nb].w = w;
        bat[nb].first = f;
        bat[nb].k = 2 * (n_obj - f < per ? n_obj - f : per);
        nb++;
      }
    }
    for (size_t t = 0; t < n_ws; t++) {
      tjob *J = &jobs[t];
      J->s = ws[t];
      J->p = p;
      J->iters = iters;
      J->nb = nb;
      J->start = t;
      J->step = n_ws;
      J->b = bat;
      J->obj = obj;
      J->deadline = deadline;
      J->cancel = cancel;
      J->c = c + t * s->opt_batch * (s->max_w ? s->max_w : 1);
      J->cut = 0;
      started[t] = t > 0 && t < nb && pthread_create(&th[t], NULL, tighten_job, J) == 0;
    }
    tighten_job(&jobs[0]);
    for (size_t t = 1; t < n_ws; t++) {
      if (started[t])
        pthread_join(th[t], NULL);
      else if (t < nb)
        tighten_job(&jobs[t]); /* no thread: its share here */
      started[t] = 0;
    }
    for (size_t t = 0; t < n_ws; t++) cut |= jobs[t].cut;
    for (size_t t = 1; t < n_ws; t++) /* the point's bounds, each from the worker that had it */
      for (int w = 0; w < n_nets; w++)
        for (size_t j = o; j < o + n; j++) {
          s->plo[w][j] = twinn_fmax(s->plo[w][j], ws[t]->plo[w][j]);
          s->phi[w][j] = twinn_fmin(s->phi[w][j], ws[t]->phi[w][j]);
        }
    if (cut) break; /* sound as far as it got */
    /* Every workspace gets the merged priors before any is analysed with them (an analysis
     * skips the rows its priors prove inactive, so priors that differed would change which
     * rows share a product, and the last bits of the others). */
    for (size_t t = 1; t < n_ws && st == TWINN_OK; t++)
      for (int w = 0; w < n_nets && st == TWINN_OK; w++)
        st = twinn_sym_set_prior(ws[t], w, s->plo[w], s->phi[w], err);
    for (size_t t = 0; t < n_ws && st == TWINN_OK; t++) {
      st = twinn_sym_analyse(ws[t], box, box + n_in, err);
      for (int w = 0; w < n_nets && st == TWINN_OK; w++) {
        memcpy(ws[t]->plo[w], ws[t]->lo[w], total * sizeof(double));
        memcpy(ws[t]->phi[w], ws[t]->hi[w], total * sizeof(double));
      }
    }
  }
done:
  twinn_free(box);
  twinn_free(c);
  twinn_free(obj);
  twinn_free(bat);
  twinn_free(jobs);
  twinn_free(th);
  twinn_free(started);
  return st;
}

const double *twinn_sym_prior(const twinn_sym *s, int which, int upper) {
  if (which < 0 || which > 1) return NULL;
  return upper ? s->phi[which] : s->plo[which];
}

size_t twinn_sym_prior_len(const twinn_sym *s) { return s->off[s->n_points]; }

twinn_status twinn_sym_refine_relus(twinn_sym *s, size_t n, const size_t *point,
                                    const size_t *neuron, size_t iters, int *moved,
                                    twinn_error *err) {
  size_t total = total_of(s), mw = s->max_w;
  int n_nets = s->net[1] ? 2 : 1;
  double *lo[2] = {NULL, NULL}, *hi[2] = {NULL, NULL}, *c = NULL, *b = NULL;
  twinn_status st = TWINN_OK;
  *moved = 0;
  if (!s->analysed)
    return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "symbolic: refine before analyse");
  for (size_t r = 0; r < n; r++)
    if (point[r] >= s->n_layers || !is_relu(s, point[r]) || neuron[r] >= width_at(s, point[r]))
      return twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0,
                             "symbolic: no ReLU neuron %zu at point %zu", neuron[r], point[r]);
  if (s->overflow || s->infeasible || !n) return TWINN_OK;
  if (!(c = twinn_calloc(2 * n * mw, sizeof(double))) || !(b = twinn_calloc(2 * n, sizeof(double))))
    goto nomem;
  for (int w = 0; w < n_nets; w++) {
    if (!(lo[w] = twinn_mallocarray(total ? total : 1, sizeof(double))) ||
        !(hi[w] = twinn_mallocarray(total ? total : 1, sizeof(double))))
      goto nomem;
    memcpy(lo[w], s->lo[w], total * sizeof(double));
    memcpy(hi[w], s->hi[w], total * sizeof(double));
  }
  /* One call per network and point (the first of its neurons in the list): rows +e_j (the
   * lower end) and -e_j (the upper end) of each of its neurons. */
  for (int w = 0; w < n_nets && st == TWINN_OK; w++)
    for (size_t r = 0, q, k; r < n && st == TWINN_OK; r++) {
      size_t m = width_at(s, point[r]);
      for (q = 0; q < r && point[q] != point[r]; q++) continue;
      if (q < r) continue; /* its point is done */
      for (q = r, k = 0; q < n; q++)
        if (point[q] == point[r]) {
          memset(c + k * m, 0, 2 * m * sizeof(double));
          c[k * m + neuron[q]] = 1.0;
          c[(k + 1) * m + neuron[q]] = -1.0;
          k += 2;
        }
      if ((st = twinn_sym_bound_opt_at(s, w, point[r], c, NULL, k, iters, b, err)) != TWINN_OK)
        break;
      for (q = r, k = 0; q < n; q++)
        if (point[q] == point[r]) {
          size_t x = s->off[point[r]] + neuron[q];
          if (b[k] > lo[w][x]) lo[w][x] = b[k], *moved = 1;
          if (-b[k + 1] < hi[w][x]) hi[w][x] = -b[k + 1], *moved = 1;
          k += 2;
        }
    }
  for (int w = 0; w < n_nets && st == TWINN_OK && *moved; w++)
    st = twinn_sym_set_prior(s, w, lo[w], hi[w], err);
  goto out;
nomem:
  st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
out:
  for (int w = 0; w < 2; w++) {
    twinn_free(lo[w]);
    twinn_free(hi[w]);
  }
  twinn_free(c);
  twinn_free(b);
  return st;
}

const double *twinn_sym_opt_scores(const twinn_sym *s, int which, size_t point) {
  if (which < 0 || which > 1 || !s->osc[which] || !s->osc_set[which] || point >= s->n_points ||
      !s->analysed)
    return NULL;
  return s->osc[which] + s->off[point];
}
