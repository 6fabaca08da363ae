/* symhalf.c: concretisation over the box intersected with the half-spaces of first-layer
 * neuron splits.
 *
 * A neuron of the ReLU right after the first affine layer has the pre-activation
 * z_k = w_k . x + b_k, affine in the input, so its split s_k z_k >= 0 (s_k = +1 active, -1
 * inactive) is a half-space of the input space. A row bounding some quantity from below by
 * a . x + c on the box then bounds it on the box intersected with every such half-space by
 *   a . x + c - sum_k beta_k s_k (w_k . x + b_k)      for any beta_k >= 0
 * (the subtracted terms are >= 0 there), and its minimum over the box is a lower bound for
 * every beta: the Lagrangian relaxation of min a . x over the polytope. Upper rows mirror it
 * (+ beta_k s_k (w_k . x + b_k)). The multipliers are chosen heuristically, in plain float,
 * by coordinate ascent: for one multiplier the minimum over the box is concave and piecewise
 * linear in it, and its maximiser is a weighted median of the breakpoints where a coordinate of
 * the row changes sign; one histogram pass over them finds it to within a bucket, and the
 * bucket's lower end is taken (a multiplier at most the maximiser's: any beta >= 0 is valid, this
 * one gives a little less than the maximum). Only the certification is
 * sound: the new row is formed in float with an explicit error term and concretised like any
 * row (twinn_sym_concretise_box); the tighter of it and the plain bound is returned.
 * For the pair the same applies to the difference rows (they are concretised on the input
 * like the others), so a split of f's or g's first-layer neuron tightens every bound behind
 * it. Without such splits nothing here runs. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sym_int.h"

#define HS_DENORM 4.9406564584124654e-324 /* 2^-1074: a product's absolute loss to underflow */

void twinn_symhalf_collect(twinn_sym *s) {
  s->nhs = 0;
  if (s->n_layers < 2 || s->net[0]->layers[0].kind != TWINN_LAYER_AFFINE ||
      s->net[0]->layers[1].kind != TWINN_LAYER_RELU)
    return;
  size_t o = s->off[1], n = s->off[2] - s->off[1], n_in = s->net[0]->n_in, nk = 0;
  for (int w = 0; w < (s->net[1] ? 2 : 1); w++) {
    const twinn_layer *ly = &s->net[w]->layers[0];
    for (size_t j = 0; j < n; j++) {
      signed char sg = s->split[w][o + j];
      if (!sg) continue;
      s->hs_w[nk] = ly->w + j * n_in;
      s->hs_b[nk] = ly->b[j];
      s->hs_s[nk] = (double)sg;
      nk++;
    }
  }
  if (nk > s->hs_cap) {
    double *iw = twinn_realloc(s->hs_iw, nk * (n_in ? n_in : 1), sizeof *iw);
    if (!iw) return; /* out of memory: no half-spaces (sound, only looser) */
    s->hs_iw = iw;
    s->hs_cap = nk;
  }
  for (size_t k = 0; k < nk; k++) /* 1 / |w_ki| for the breakpoints (inf where w_ki = 0) */
    for (size_t i = 0; i < n_in; i++) s->hs_iw[k * n_in + i] = 1.0 / fabs(s->hs_w[k][i]);
  /* The magnitudes the certification's error term weighs (twinn_symhalf_concretise). */
  double *m = s->hsx + 4 * n_in, msum = 0.0;
  for (size_t i = 0; i < n_in; i++) {
    m[i] = fmax(fabs(s->lo[0][i]), fabs(s->hi[0][i]));
    msum += m[i];
  }
  s->hs_msum = msum;
  for (size_t k = 0; k < nk; k++) {
    double wm = 0.0;
    for (size_t i = 0; i < n_in; i++) wm += fabs(s->hs_w[k][i]) * m[i];
    s->hs_wm[k] = wm;
  }
  s->nhs = nk;
}

/* The smallest t[i] at which the weights wt of the entries with t <= t[i] sum to at least need
 * (> 0); the largest t if they never do. Reorders t and wt (m > 0 entries, t >= 0). */
SYM_HOT static double quick_select(double *t, double *wt, size_t m, double need) {
  size_t lo = 0, hi = m;
  double tmax = 0.0;
  for (size_t i = 0; i < m; i++) tmax = fmax(tmax, t[i]);
  while (lo < hi) {
    double piv = t[lo + (hi - lo) / 2];
    /* Three-way partition of [lo, hi): [lo, a) < piv, [a, b) == piv, [b, hi) > piv. */
    size_t a = lo, i = lo, b = hi;
    while (i < b) {
      if (t[i] < piv) {
        double tt = t[i], ww = wt[i];
        t[i] = t[a], wt[i] = wt[a];
        t[a] = tt, wt[a] = ww;
        a++, i++;
      } else if (t[i] > piv) {
        b--;
        double tt = t[i], ww = wt[i];
        t[i] = t[b], wt[i] = wt[b];
        t[b] = tt, wt[b] = ww;
      } else {
        i++;
      }
    }
    double wl = 0.0, we = 0.0;
    for (size_t k = lo; k < a; k++) wl += wt[k];
    if (wl >= need) {
      hi = a;
      continue;
    }
    need -= wl;
    for (size_t k = a; k < b; k++) we += wt[k];
    if (we >= need) return piv;
    need -= we;
    lo = b;
  }
  return tmax;
}

/* The same, approximately, from below: the bit patterns of doubles >= 0 (as integers) are
 * ordered like the doubles, so their top bits (exponent and leading mantissa bits) sort the
 * entries into HS_BUCKETS ordered buckets; the weights are summed per bucket, and the lower end
 * of the bucket where the running sum reaches `need` is returned (a double at most every t in
 * it, so at most the exact answer). Exact (quick_select) for at most 32 entries or a single
 * key. Narrowing the bucket down to the exact answer (compaction, further rounds, selection)
 * took half of the function's time; the lower end gives bounds a little looser per region and
 * more regions per second: mnist_256x4 fp16 img3 568 regions in 12.2 s against 542 in 13.1 s,
 * int8 top-1 img3 9 854 in 37.2 s against 8 880 in 41.2 s, fp16 img7 at 40 s 1 251 regions and
 * worst margin -0.0388 against 1 072 and -0.0392. -0 must not occur (its sign bit would sort it
 * last). */
#define HS_BUCKETS 256
static uint64_t key_of(double x) {
  uint64_t k;
  memcpy(&k, &x, sizeof k);
  return k >> 40;
}

SYM_HOT static double weighted_select(double *t, double *wt, size_t m, double need) {
  double hist[HS_BUCKETS];
  if (m <= 32) return quick_select(t, wt, m, need);
  uint64_t kmin = UINT64_MAX, kmax = 0;
  for (size_t i = 0; i < m; i++) {
    uint64_t k = key_of(t[i]);
    kmin = k < kmin ? k : kmin;
    kmax = k > kmax ? k : kmax;
  }
  if (kmin == kmax) return quick_select(t, wt, m, need);
  unsigned sh = 0;
  while (((kmax - kmin) >> sh) >= HS_BUCKETS) sh++;
  memset(hist, 0, sizeof hist);
  for (size_t i = 0; i < m; i++) hist[(key_of(t[i]) - kmin) >> sh] += wt[i];
  double below = 0.0;
  for (size_t bk = 0; bk < HS_BUCKETS; bk++) {
    if (below + hist[bk] >= need) {
      uint64_t edge = (kmin + ((uint64_t)bk << sh)) << 40;
      double r;
      memcpy(&r, &edge, sizeof r);
      return r;
    }
    below += hist[bk];
  }
  double tmax = 0.0; /* never reached: the largest t */
  for (size_t i = 0; i < m; i++) tmax = fmax(tmax, t[i]);
  return tmax;
}

/* The box vertex minimising q . x into v (lo_i where q_i > 0, hi_i where q_i < 0, 0 where
 * q_i = 0: those are listed in zi, their count returned). */
SYM_HOT static size_t hs_vertex(const twinn_sym *s, const double *q, double *v, size_t *zi) {
  size_t n = s->net[0]->n_in, nz = 0;
  const double *lo = s->lo[0], *hi = s->hi[0];
  for (size_t i = 0; i < n; i++) {
    v[i] = q[i] > 0.0 ? lo[i] : q[i] < 0.0 ? hi[i] : 0.0;
    nz += q[i] == 0.0;
  }
  if (nz) /* rare (an input no row depends on): listed only then, the loop does not vectorise */
    for (size_t i = 0, z = 0; i < n; i++) {
      zi[z] = i;
      z += q[i] == 0.0;
    }
  return nz;
}

/* q += f w, and v and zi as hs_vertex leaves them for the new q (one pass over both). */
SYM_HOT static size_t hs_update(const twinn_sym *s, double *restrict q, double *restrict v,
                                size_t *zi, double f, const double *restrict w) {
  size_t n = s->net[0]->n_in, nz = 0;
  const double *lo = s->lo[0], *hi = s->hi[0];
  for (size_t i = 0; i < n; i++) {
    double qi = q[i] + f * w[i];
    q[i] = qi;
    v[i] = qi > 0.0 ? lo[i] : qi < 0.0 ? hi[i] : 0.0;
    nz += qi == 0.0;
  }
  if (nz)
    for (size_t i = 0, z = 0; i < n; i++) {
      zi[z] = i;
      z += q[i] == 0.0;
    }
  return nz;
}

/* The breakpoints of best_beta: for each entry i where q_i - beta u_i changes sign as beta grows
 * (u = sg w), t = |q_i| / |w_i| (as |q_i| iw_i) and its weight |u_i| (hi_i - lo_i), packed to
 * the front of t and wt in input order; returns their count. */
static size_t hs_pack_plain(const double *q, const double *w, const double *iw, const double *lo,
                            const double *hi, double sg, size_t n, double *t, double *wt) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) { /* branch-free compaction */
    double u = sg * w[i], qi = q[i];
    t[m] = fabs(qi) * iw[i]; /* >= 0 for the entries kept; no -0 (see key_of) */
    wt[m] = fabs(u) * (hi[i] - lo[i]);
    m += (size_t)(((u > 0.0) & (qi >= 0.0)) | ((u < 0.0) & (qi <= 0.0)));
  }
  return m;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
#include <immintrin.h>
/* The same, four entries at a time (AVX2 left-pack: the kept lanes are permuted to the front and
 * all four stored; the others are overwritten later or lie past the count). The same float
 * operations on the same values, so the same result bit for bit. Stores stay inside t[0, n) and
 * wt[0, n): the count never passes the entries read. The scalar compaction was about two thirds
 * of best_beta's time on mnist_256x4 (session 25). */
__attribute__((target("avx2"))) static size_t hs_pack_avx2(const double *q, const double *w,
                                                           const double *iw, const double *lo,
                                                           const double *hi, double sg, size_t n,
                                                           double *t, double *wt) {
  /* lut[mask]: the 32-bit lanes of the kept doubles (bits of mask) first, in order. */
  static const int lut[16][8] = {
      {0, 0, 0, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0, 0, 0}, {2, 3, 0, 0, 0, 0, 0, 0},
      {0, 1, 2, 3, 0, 0, 0, 0}, {4, 5, 0, 0, 0, 0, 0, 0}, {0, 1, 4, 5, 0, 0, 0, 0},
      {2, 3, 4, 5, 0, 0, 0, 0}, {0, 1, 2, 3, 4, 5, 0, 0}, {6, 7, 0, 0, 0, 0, 0, 0},
      {0, 1, 6, 7, 0, 0, 0, 0}, {2, 3, 6, 7, 0, 0, 0, 0}, {0, 1, 2, 3, 6, 7, 0, 0},
      {4, 5, 6, 7, 0, 0, 0, 0}, {0, 1, 4, 5, 6, 7, 0, 0}, {2, 3, 4, 5, 6, 7, 0, 0},
      {0, 1, 2, 3, 4, 5, 6, 7}};
  __m256d vsg = _mm256_set1_pd(sg), zero = _mm256_setzero_pd();
  __m256d sign = _mm256_set1_pd(-0.0);
  size_t m = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256d wv = _mm256_loadu_pd(w + i), qv = _mm256_loadu_pd(q + i);
    __m256d u = _mm256_mul_pd(vsg, wv);
    __m256d keep = _mm256_or_pd(
        _mm256_and_pd(_mm256_cmp_pd(u, zero, _CMP_GT_OQ), _mm256_cmp_pd(qv, zero, _CMP_GE_OQ)),
        _mm256_and_pd(_mm256_cmp_pd(u, zero, _CMP_LT_OQ), _mm256_cmp_pd(qv, zero, _CMP_LE_OQ)));
    __m256d tv = _mm256_mul_pd(_mm256_andnot_pd(sign, qv), _mm256_loadu_pd(iw + i));
    __m256d wtv = _mm256_mul_pd(_mm256_andnot_pd(sign, u),
                                _mm256_sub_pd(_mm256_loadu_pd(hi + i), _mm256_loadu_pd(lo + i)));
    int mask = _mm256_movemask_pd(keep);
    __m256i perm = _mm256_loadu_si256((const __m256i *)lut[mask]);
    _mm256_storeu_pd(t + m, _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(tv), perm)));
    _mm256_storeu_pd(wt + m,
                     _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(wtv), perm)));
    m += (size_t)__builtin_popcount((unsigned)mask);
  }
  return m + hs_pack_plain(q + i, w + i, iw + i, lo + i, hi + i, sg, n - i, t + m, wt + m);
}
#define HS_PACK_AVX2 1
#endif

static size_t hs_pack(const double *q, const double *w, const double *iw, const double *lo,
                      const double *hi, double sg, size_t n, double *t, double *wt) {
#ifdef HS_PACK_AVX2
  if (__builtin_cpu_supports("avx2")) return hs_pack_avx2(q, w, iw, lo, hi, sg, n, t, wt);
#endif
  return hs_pack_plain(q, w, iw, lo, hi, sg, n, t, wt);
}

/* The multiplier in [0, inf) maximising  min over the box of (q - beta u) . x - beta sb  for
 * u = sg w (constraint k: s_k = sg, sb = s_k b_k, iw = 1 / |w|), q the current row (lower form),
 * v its minimising vertex and zi its zero entries (hs_vertex). The minimum's slope at beta = 0+
 * is -sb - u . x0 (x0 the vertex v, at the zero entries of q the end minimising u_i x_i): 0 is
 * optimal when it is <= 0; else the slope falls by |u_i| (hi_i - lo_i) where q_i - beta u_i
 * changes sign, at beta = q_i / u_i, and the maximiser is where it reaches 0. */
SYM_HOT static double best_beta(const twinn_sym *s, const double *q, const double *v,
                                const size_t *zi, size_t nz, const double *w, const double *iw,
                                double sg, double sb) {
  size_t n = s->net[0]->n_in, i = 0;
  const double *lo = s->lo[0], *hi = s->hi[0];
  double *t = s->hsx + 2 * n, *wt = s->hsx + 3 * n;
  double p[16] = {0.0}, dot = 0.0; /* 16 partial sums: four vector accumulators, no one chain */
  for (; i + 16 <= n; i += 16)
    for (size_t j = 0; j < 16; j++) p[j] += w[i + j] * v[i + j];
  for (; i < n; i++) dot += w[i] * v[i];
  for (size_t j = 0; j < 16; j++) dot += p[j];
  double d = -sb - sg * dot;
  for (size_t z = 0; z < nz; z++) {
    double u = sg * w[zi[z]];
    d -= u * (u > 0.0 ? lo[zi[z]] : hi[zi[z]]);
  }
  if (!(d > 0.0)) return 0.0;
  size_t m = hs_pack(q, w, iw, lo, hi, sg, n, t, wt);
  if (m == 0) return 0.0;
  double b = weighted_select(t, wt, m, d);
  return isfinite(b) && b > 0.0 ? b : 0.0;
}

SYM_HOT double twinn_symhalf_concretise(const twinn_sym *s, const double *row, double c, double e,
                                        int up, double plain) {
  size_t n = s->net[0]->n_in, nk = s->nhs;
  const double *m = s->hsx + 4 * n;
  double sig = up ? -1.0 : 1.0, *q = s->hsx, *v = s->hsx + n, *beta = s->hs_beta;
  size_t *zi = s->hs_zi;
  for (size_t i = 0; i < n; i++) q[i] = sig * row[i];
  size_t nz = hs_vertex(s, q, v, zi);
  int any = 0;
  /* One pass of coordinate ascent (two were slower for no tighter bounds where it mattered,
   * session 17), so every multiplier starts from 0. */
  for (size_t k = 0; k < nk; k++) {
    const double *w = s->hs_w[k];
    double sg = s->hs_s[k];
    double nb = best_beta(s, q, v, zi, nz, w, s->hs_iw + k * n, sg, sg * s->hs_b[k]);
    beta[k] = nb;
    if (nb != 0.0) {
      nz = hs_update(s, q, v, zi, -nb * sg, w);
      any = 1;
    }
  }
  if (!any) return plain; /* the minimising vertex lies in every half-space */
  /* Certification. q is now, in float, sig row' where row' = row - sig sum_k beta_k s_k w_k
   * (c' likewise): each entry came from sig row_i by K steps q_i += f w_ki (f = -beta_k s_k),
   * so it is within gamma_{2K+2} of |row_i| + sum_k beta_k |w_ki| of the exact value (plus K
   * underflow losses), and x_i is bounded by m_i on the box: the form moves by at most
   *   gamma (sum_i |row_i| m_i + sum_k beta_k sum_i |w_ki| m_i)  (the inner sums are hs_wm)
   * plus the constant's share; doubled to cover the evaluation of these sums. */
  double cc = c, ca = fabs(c), bs = 0.0, em = 0.0;
  for (size_t k = 0; k < nk; k++) {
    double bk = beta[k];
    if (bk == 0.0) continue;
    cc -= sig * s->hs_s[k] * bk * s->hs_b[k];
    ca += bk * fabs(s->hs_b[k]);
    em += bk * s->hs_wm[k];
    bs += 1.0;
  }
  for (size_t i = 0; i < n; i++) em += fabs(row[i]) * m[i];
  double g = twinn_sym_gamma(2 * nk + 2);
  double e2 = e + 2.0 * (g * (em + ca) + bs * HS_DENORM * (s->hs_msum + 1.0));
  /* The upper end of row' . x + c' is minus the lower end of q . x - c' (q = -row'): the
   * concretisation of the negated form takes the negated terms, exactly. */
  double r =
      up ? -twinn_sym_concretise_box(s, q, -cc, e2, 0) : twinn_sym_concretise_box(s, q, cc, e2, 0);
  if (isnan(r)) return plain;
  return up ? fmin(plain, r) : fmax(plain, r);
}
