/* symand.c: bounds of a row over the outputs of the first ReLU layer with each ReLU relaxed by
 * a plane of its hull over the input box, not by its triangle.
 *
 * The first affine layer is exact: z_k = w_k . x + b_k over the box [lo, hi]. The triangle
 * bounds relu(z_k) through z_k alone; the convex hull of {(x, relu(w_k . x + b_k))} over the
 * box (Anderson et al., "Strong mixed-integer programming formulations for trained neural
 * networks", 2020) is far tighter where a row sums many such neurons: on a 0.03 box of MNIST
 * 256x4 the triangle bounds a second-layer neuron by 0.30, the hull by -0.88, which is its
 * exact maximum (MILP). Its upper planes are, for any t in [0, 1]^n,
 *   P(x) = sum_i t_i w_i (x_i - L_i) + beta,  beta >= max(0, l + sum_i (1 - t_i) r_i),
 * with L_i the end of [lo_i, hi_i] where w_i x_i is least, l = b + sum_i w_i L_i (the box
 * lower bound of z) and r_i = |w_i| (hi_i - lo_i). Valid: at every box vertex v, P(v) >= 0
 * (t, w_i (v_i - L_i) and beta are >= 0) and P(v) - (w . v + b) = beta - l - sum_i (1 - t_i)
 * w_i (v_i - L_i) >= 0; relu(w . x + b) is convex and P linear, so P >= relu on the box. The
 * triangle is t_i = u / (u - l) for every i; per input the t_i may differ, and minimising the
 * bound over them reaches the hull's (the bound is convex in t).
 *
 * For one row  mu . relu(z) + c  (an upper bound): neurons with l_k >= 0 on the region are z_k,
 * those with u_k <= 0 are 0, unstable ones with mu_k < 0 take a lower slope alpha_k z_k
 * (alpha in [0, 1]) and unstable ones with mu_k > 0 a plane P_k. t and alpha are chosen by
 * projected gradient descent (Adam) on the float bound, whose (sub)gradient at the maximising
 * box vertex x* is mu_k z_k(x*) for alpha_k and mu_k (w_ki (x*_i - L_ki) - r_ki [beta_k > 0])
 * for t_ki. The chosen planes are then evaluated soundly: beta_k rounded up with its error,
 * the linear form's coefficients and constant with error terms (gamma bounds of their sums of
 * products), concretised by twinn_sym_concretise_box. Only the choice of t and alpha is
 * heuristic. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "interval.h"
#include "sym_int.h"

/* Adam's step (decaying per round) and rates; those of the probes that matched MILP. */
#define AND_LR 0.2
#define AND_DECAY 0.98
#define AND_B1 0.9
#define AND_B2 0.999

#define AND_ETA 1e-290 /* underflow, as SYM_ETA */

/* Scratch cap per workspace: MNIST's 256 x 784 first layer takes 6.4 MB. */
#define AND_MAX_BYTES ((size_t)128 << 20)

static int first_relu(const twinn_sym *s, int w) {
  const twinn_net *net = s->net[w];
  return net && net->n_layers >= 2 && net->layers[0].kind == TWINN_LAYER_AFFINE &&
         net->layers[1].kind == TWINN_LAYER_RELU;
}

int twinn_symand_applies(const twinn_sym *s, int w, size_t p) {
  /* Behind a second affine layer, so that the back-substitution's rows on point 2 are full
   * (an affine step unpacks them). */
  return s->and_iters > 0 && p >= 3 && first_relu(s, w) &&
         s->net[w]->layers[2].kind == TWINN_LAYER_AFFINE;
}

/* Scratch for rows of width m = width of point 1 and n inputs: per neuron t, Adam's moments and
 * the best t (4 m n), per input the coefficients, magnitudes, vertex and widths (4 n), per
 * neuron its box bounds, alpha and moments, best alpha, kind, sums (8 m), and the rows kept by
 * the back-substitution (its SYM_BLOCK lower rows of m, with constants and errors). */
static int ensure(twinn_sym *s, size_t m, size_t n) {
  if (s->and_buf) return 1;
  size_t need = 4 * m * n + 4 * n + 8 * m + SYM_BLOCK * (m + 2);
  /* Not for first layers so wide that the slopes would take over AND_MAX_BYTES (the
   * triangle's bounds stand); nor when the count overflows. */
  if (m && n && (m > SIZE_MAX / 8 / n || need > AND_MAX_BYTES / sizeof(double))) return 0;
  s->and_buf = twinn_calloc(need ? need : 1, sizeof(double));
  s->and_idx = twinn_calloc(m ? m : 1, sizeof(size_t));
  return s->and_buf && s->and_idx;
}

double *twinn_symand_rows(twinn_sym *s, int w) {
  const twinn_layer *ly = &s->net[w]->layers[0];
  if (!ensure(s, ly->n_out, ly->n_in)) return NULL;
  return s->and_buf + 4 * ly->n_out * ly->n_in + 4 * ly->n_in + 8 * ly->n_out;
}

/* One plane's part of the float bound: A += mk t w, *sub = sum t_i w_i L_i, *beta = sum
 * (1 - t_i) r_i (before l). Branch-free with restrict arrays and four partial sums, so that
 * it vectorises (w_i L_i is min(w_i lo_i, w_i hi_i), r_i the max minus it). */
SYM_HOT static void plane_pass(size_t n, double mk, const double *restrict wk,
                               const double *restrict tq, const double *restrict lo,
                               const double *restrict hi, double *restrict A, double *sub,
                               double *beta) {
  double s[4] = {0.0, 0.0, 0.0, 0.0}, b[4] = {0.0, 0.0, 0.0, 0.0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (size_t u = 0; u < 4; u++) {
      double wl = wk[i + u] * lo[i + u], wh = wk[i + u] * hi[i + u], t = tq[i + u];
      double mn = wl < wh ? wl : wh, mx = wl < wh ? wh : wl;
      A[i + u] += mk * (wk[i + u] * t);
      s[u] += t * mn;
      b[u] += (1.0 - t) * (mx - mn);
    }
  for (; i < n; i++) {
    double wl = wk[i] * lo[i], wh = wk[i] * hi[i], t = tq[i];
    double mn = wl < wh ? wl : wh, mx = wl < wh ? wh : wl;
    A[i] += mk * (wk[i] * t);
    s[0] += t * mn;
    b[0] += (1.0 - t) * (mx - mn);
  }
  *sub = (s[0] + s[1]) + (s[2] + s[3]);
  *beta = (b[0] + b[1]) + (b[2] + b[3]);
}

/* One Adam step of a plane's slopes t (moments mq, vq; bias corrections r1, r2) at the vertex
 * X, minimising the bound: the gradient is mk (w_i X_i - w_i L_i - on r_i), on = [beta > 0].
 * Branch-free; sqrt vectorises because this file is built with -fno-math-errno (its argument
 * is never negative). */
SYM_HOT static void plane_step(size_t n, double mk, double on, double lr, double r1, double r2,
                               const double *restrict wk, const double *restrict lo,
                               const double *restrict hi, const double *restrict X,
                               double *restrict tq, double *restrict mq, double *restrict vq) {
  for (size_t i = 0; i < n; i++) {
    double wl = wk[i] * lo[i], wh = wk[i] * hi[i];
    double mn = wl < wh ? wl : wh, mx = wl < wh ? wh : wl;
    double g = mk * (wk[i] * X[i] - mn - on * (mx - mn));
    double mm = AND_B1 * mq[i] + (1.0 - AND_B1) * g, vv = AND_B2 * vq[i] + (1.0 - AND_B2) * g * g;
    double t = tq[i] - lr * (mm * r1) / (sqrt(vv * r2) + 1e-12);
    t = t > 0.0 ? t : 0.0;
    mq[i] = mm, vq[i] = vv, tq[i] = t < 1.0 ? t : 1.0;
  }
}

/* Sound upper bound of  mu . relu(W x + b) + c  (+ e) over the box, for mu on point 2 (after
 * the first ReLU) of network w; INFINITY when no unstable neuron takes a plane (the triangle's
 * bound is then as good) or scratch is missing. */
static double upper(twinn_sym *s, int w, const double *mu, double c, double e) {
  const twinn_layer *ly = &s->net[w]->layers[0];
  size_t m = ly->n_out, n = ly->n_in, o = s->off[1];
  const double *W = ly->w, *b = ly->b, *lo = s->lo[0], *hi = s->hi[0];
  const double *zl = s->lo[w] + o, *zu = s->hi[w] + o;
  double *T = s->and_buf, *TM = T + m * n, *TV = TM + m * n, *TB = TV + m * n;
  double *A = TB + m * n, *AM = A + n, *X = AM + n, *D = X + n;
  double *kl = D + n, *al = kl + m, *am = al + m, *av = am + m, *ab = av + m, *bs = ab + m;
  size_t *idx = s->and_idx, npos = 0, nneg = 0;
  if (!isfinite(c) || !isfinite(e)) return INFINITY;
  for (size_t i = 0; i < n; i++) D[i] = hi[i] - lo[i];
  /* List the planes' neurons first (idx[0..npos)), then the slopes' (from the end). */
  for (size_t k = 0; k < m; k++) {
    /* A row or bound that is not a number (overflow) gets no bound here: the triangle's is
     * then infinite too. */
    if (!isfinite(mu[k]) || isnan(zl[k]) || isnan(zu[k])) return INFINITY;
    if (mu[k] == 0.0 || !(zl[k] < 0.0 && zu[k] > 0.0)) continue;
    if (mu[k] > 0.0)
      idx[npos++] = k;
    else
      idx[m - 1 - nneg++] = k;
  }
  if (!npos) return INFINITY;
  /* Start from the triangle over the box bounds of z (float; any start is valid). */
  for (size_t q = 0; q < npos; q++) {
    size_t k = idx[q];
    const double *wk = W + k * n;
    double l = b[k], u = b[k];
    for (size_t i = 0; i < n; i++) {
      double p0 = wk[i] * lo[i], p1 = wk[i] * hi[i];
      l += twinn_fmin(p0, p1), u += twinn_fmax(p0, p1);
    }
    kl[q] = l;
    double lam = u > l ? twinn_fmin(twinn_fmax(u / (u - l), 0.0), 1.0) : 1.0;
    for (size_t i = 0; i < n; i++) T[q * n + i] = lam;
  }
  memset(TM, 0, npos * n * sizeof(double));
  memset(TV, 0, npos * n * sizeof(double));
  for (size_t q = 0; q < nneg; q++) {
    size_t k = idx[m - 1 - q];
    al[q] = zu[k] > -zl[k] ? 1.0 : 0.0;
    am[q] = av[q] = 0.0;
  }
  /* The stable part of the form once: Abase in AM, its constant cb. */
  double cb = c;
  memset(AM, 0, n * sizeof(double));
  for (size_t k = 0; k < m; k++) {
    if (mu[k] == 0.0 || !(zl[k] >= 0.0) || !(zu[k] > 0.0)) continue;
    const double *wk = W + k * n;
    for (size_t i = 0; i < n; i++) AM[i] += mu[k] * wk[i];
    cb += mu[k] * b[k];
  }
  double best = INFINITY, lr = AND_LR, c1 = 1.0, c2 = 1.0;
  size_t iters = s->and_iters;
  for (size_t it = 0; it <= iters; it++) {
    memcpy(A, AM, n * sizeof(double));
    double cst = cb;
    for (size_t q = 0; q < nneg; q++) {
      size_t k = idx[m - 1 - q];
      double f = mu[k] * al[q];
      const double *wk = W + k * n;
      for (size_t i = 0; i < n; i++) A[i] += f * wk[i];
      cst += f * b[k];
    }
    for (size_t q = 0; q < npos; q++) {
      double sub, beta;
      plane_pass(n, mu[idx[q]], W + idx[q] * n, T + q * n, lo, hi, A, &sub, &beta);
      bs[q] = beta += kl[q];
      cst += mu[idx[q]] * (twinn_fmax(beta, 0.0) - sub);
    }
    double v = cst;
    for (size_t i = 0; i < n; i++) {
      X[i] = A[i] > 0.0 ? hi[i] : lo[i];
      v += A[i] * X[i];
    }
    if (v < best) {
      best = v;
      memcpy(TB, T, npos * n * sizeof(double));
      for (size_t q = 0; q < nneg; q++) ab[q] = al[q];
    }
    if (it == iters) break;
    c1 *= AND_B1;
    c2 *= AND_B2;
    for (size_t q = 0; q < nneg; q++) {
      size_t k = idx[m - 1 - q];
      const double *wk = W + k * n;
      double z = b[k];
      for (size_t i = 0; i < n; i++) z += wk[i] * X[i];
      double g = mu[k] * z;
      am[q] = AND_B1 * am[q] + (1.0 - AND_B1) * g;
      av[q] = AND_B2 * av[q] + (1.0 - AND_B2) * g * g;
      double vh = sqrt(av[q] / (1.0 - c2));
      if (vh > 0.0)
        al[q] = twinn_fmin(twinn_fmax(al[q] - lr * (am[q] / (1.0 - c1)) / (vh + 1e-12), 0.0), 1.0);
    }
    double r1 = 1.0 / (1.0 - c1), r2 = 1.0 / (1.0 - c2);
    for (size_t q = 0; q < npos; q++)
      plane_step(n, mu[idx[q]], bs[q] > 0.0 ? 1.0 : 0.0, lr, r1, r2, W + idx[q] * n, lo, hi, X,
                 T + q * n, TM + q * n, TV + q * n);
    lr *= AND_DECAY;
  }
  if (!isfinite(best)) return INFINITY;
  /* Sound evaluation of the best planes and slopes. The form is sum_i A_i x_i + C with
   * A_i = sum_k a_ki w_ki over the neurons taken (a_ki = mu_k, mu_k alpha_k or mu_k t_ki: at most
   * two roundings each, m terms), so |fl(A_i) - A_i| <= gamma(m + 2) sum_k |a_ki w_ki|, which
   * the box turns into an error of at most that times max(|lo_i|, |hi_i|). */
  double gA = twinn_sym_gamma(m + 2);
  memset(A, 0, n * sizeof(double));
  memset(AM, 0, n * sizeof(double));
  double C = c, CM = fabs(c);
  size_t nc = 1;
  for (size_t k = 0; k < m; k++) {
    if (mu[k] == 0.0 || !(zl[k] >= 0.0) || !(zu[k] > 0.0)) continue;
    const double *wk = W + k * n;
    for (size_t i = 0; i < n; i++) {
      double t = mu[k] * wk[i];
      A[i] += t, AM[i] += fabs(t);
    }
    double t = mu[k] * b[k];
    C += t, CM += fabs(t), nc++;
  }
  for (size_t q = 0; q < nneg; q++) {
    size_t k = idx[m - 1 - q];
    const double *wk = W + k * n;
    double f = mu[k] * ldexp(nearbyint(ldexp(ab[q], 52)), -52);
    for (size_t i = 0; i < n; i++) {
      double t = f * wk[i];
      A[i] += t, AM[i] += fabs(t);
    }
    double t = f * b[k];
    C += t, CM += fabs(t), nc++;
  }
  double gB = twinn_sym_gamma(2 * n + 8);
  for (size_t q = 0; q < npos; q++) {
    size_t k = idx[q];
    const double *wk = W + k * n, *tq = TB + q * n;
    /* beta >= l + sum (1 - t_i) r_i, with l = b + sum w_i L_i: 2n + 1 terms of at most four
     * roundings each (the width, 1 - t, two products) and their sum, within gamma(2n + 5) of
     * their magnitudes; doubled. */
    double sb = b[k], mb = fabs(b[k]);
    for (size_t i = 0; i < n; i++) {
      double Li = wk[i] >= 0.0 ? lo[i] : hi[i];
      double t1 = wk[i] * Li, t2 = (1.0 - tq[i]) * fabs(wk[i]) * D[i];
      sb += t1 + t2, mb += fabs(t1) + t2;
    }
    double beta = twinn_fmax(0.0, twinn_round_up(sb + 2.0 * gB * mb + AND_ETA));
    if (!isfinite(beta)) return INFINITY;
    double tb = mu[k] * beta;
    C += tb, CM += fabs(tb), nc++;
    for (size_t i = 0; i < n; i++) {
      double f = mu[k] * tq[i], Li = wk[i] >= 0.0 ? lo[i] : hi[i];
      double t = f * wk[i], tc = -(t * Li);
      A[i] += t, AM[i] += fabs(t);
      C += tc, CM += fabs(tc), nc++;
    }
  }
  double err = 0.0;
  for (size_t i = 0; i < n; i++) err += AM[i] * twinn_fmax(fabs(lo[i]), fabs(hi[i]));
  err = 2.0 * (gA * err + twinn_sym_gamma(nc + 2) * CM) + AND_ETA;
  return twinn_sym_concretise_box(s, A, C, e + err, 1);
}

void twinn_symand_bound_rows(twinn_sym *s, int w, size_t r, double *lo) {
  size_t m = s->net[w]->layers[0].n_out;
  const double *rows = twinn_symand_rows(s, w);
  if (!rows) return;
  const double *cs = rows + SYM_BLOCK * m, *es = cs + SYM_BLOCK;
  double *neg = s->row;            /* 10 max_w: room for one negated row */
  for (size_t i = 0; i < r; i++) { /* the upper bound of the negated row */
    for (size_t k = 0; k < m; k++) neg[k] = -rows[i * m + k];
    double v = upper(s, w, neg, -cs[i], es[i]);
    if (-v > lo[i]) lo[i] = -v;
  }
}
