/* splitscore.c: relaxation-aware input split scores (see splitscore.h). */
#include "splitscore.h"

#include <math.h>
#include <string.h>

#include "common.h"
#include "interval.h"
#include "symkern.h"

struct twinn_splitscore {
  const twinn_net *net[2];    /* f, g (NULL: one network) */
  size_t n_in, max_w, n_relu; /* inputs, widest point, ReLU neurons of all layers */
  double *m, *m2;             /* max_w x n_in: input widths carried forward */
  double *phi;                /* n_relu x n_in */
  double *slack[2];           /* n_relu: the f pass' and the g pass' slack weights */
  double *slope[2];           /* n_relu: f's and g's chord slopes */
  double *lam, *lam2, *w;     /* cap_r x max_w: backward rows */
  size_t cap_r;
};

static double height(double l, double u) { return l < 0.0 && u > 0.0 ? -l * u / (u - l) : 0.0; }

static double chord(double l, double u) {
  double s = l >= 0.0 ? 1.0 : u <= 0.0 ? 0.0 : u / (u - l);
  return isfinite(s) ? s : 0.5;
}

twinn_splitscore *twinn_splitscore_new(const twinn_net *f, const twinn_net *g) {
  twinn_splitscore *x = twinn_calloc(1, sizeof *x);
  size_t k;
  if (!x) return NULL;
  x->net[0] = f;
  x->net[1] = g;
  x->n_in = f->n_in;
  x->max_w = f->n_in;
  for (k = 0; k < f->n_layers; k++) {
    if (f->layers[k].n_out > x->max_w) x->max_w = f->layers[k].n_out;
    if (f->layers[k].kind == TWINN_LAYER_RELU) x->n_relu += f->layers[k].n_in;
  }
  x->m = twinn_calloc(x->max_w * x->n_in + 1, sizeof(double));
  x->m2 = twinn_calloc(x->max_w * x->n_in + 1, sizeof(double));
  x->phi = twinn_calloc(x->n_relu * x->n_in + 1, sizeof(double));
  for (k = 0; k < 2; k++) {
    x->slack[k] = twinn_calloc(x->n_relu + 1, sizeof(double));
    x->slope[k] = twinn_calloc(x->n_relu + 1, sizeof(double));
  }
  if (!x->m || !x->m2 || !x->phi || !x->slack[0] || !x->slack[1] || !x->slope[0] || !x->slope[1]) {
    twinn_splitscore_free(x);
    return NULL;
  }
  return x;
}

void twinn_splitscore_free(twinn_splitscore *x) {
  if (!x) return;
  twinn_free(x->m);
  twinn_free(x->m2);
  twinn_free(x->phi);
  for (int k = 0; k < 2; k++) {
    twinn_free(x->slack[k]);
    twinn_free(x->slope[k]);
  }
  twinn_free(x->lam);
  twinn_free(x->lam2);
  twinn_free(x->w);
  twinn_free(x);
}

/* Where the carried widths explain less than this share of a neuron's width, they are not
 * scaled up beyond it (the rest comes from relaxations upstream, credited there). Without the
 * floor a neuron's whole width was shared out over whatever inputs were left, however narrow:
 * on acasxu_3_3 fp16 p1 (`twinn bound`) the inputs 0, 1, 3, 4 of one box, down to 1e-6 of the
 * region and below, kept the largest gains while input 2 (1/32 of its range) was never split, and
 * the box's bound stayed 3.5 % above the attained maximum for 50 s. Floors 0.01 (same stall) and
 * 1 (closes it, but acasxu_5_3 int8 p1 in `twinn verify` took 29 s instead of 15) measured. */
#define NEURON_SHARE_FLOOR 0.1

/* phi of one neuron with bounds [l, u] from its row of carried widths mj (n entries). */
static void neuron_phi(size_t n, double l, double u, const double *mj, double *phi) {
  double h = height(l, u), tot = 0.0;
  size_t c;
  for (c = 0; c < n; c++) tot += fabs(mj[c]);
  tot = twinn_fmax(tot, NEURON_SHARE_FLOOR * (u - l));
  for (c = 0; c < n; c++) {
    double del = tot > 0.0 ? (u - l) * fabs(mj[c]) / (2.0 * tot) : 0.0;
    phi[c] =
        h > 0.0 && isfinite(h) ? 1.0 - (height(l, u - del) + height(l + del, u)) / (2.0 * h) : 0.0;
  }
}

int twinn_splitscore_prepare(twinn_splitscore *x, const twinn_sym *s, const double *width) {
  const twinn_net *f = x->net[0];
  size_t n = x->n_in, k, a, t = 0;
  memset(x->m, 0, n * n * sizeof *x->m);
  for (a = 0; a < n; a++) x->m[a * n + a] = width[a];
  for (k = 0; k < f->n_layers; k++) {
    const twinn_layer *ly = &f->layers[k];
    if (ly->kind == TWINN_LAYER_AFFINE) {
      twinn_symk_gemm_f64(ly->n_out, ly->n_in, n, ly->w, ly->n_in, x->m, n, 0.0, x->m2, n);
      double *sw = x->m;
      x->m = x->m2;
      x->m2 = sw;
      continue;
    }
    const double *fl = twinn_sym_point_lo(s, TWINN_SYM_F, k);
    const double *fh = twinn_sym_point_hi(s, TWINN_SYM_F, k);
    const double *gl = NULL, *gh = NULL, *dl = NULL, *dh = NULL;
    if (x->net[1]) {
      gl = twinn_sym_point_lo(s, TWINN_SYM_G, k);
      gh = twinn_sym_point_hi(s, TWINN_SYM_G, k);
      dl = twinn_sym_point_lo(s, TWINN_SYM_DIFF, k);
      dh = twinn_sym_point_hi(s, TWINN_SYM_DIFF, k);
      if (!gl || !gh || !dl || !dh) return 0;
    }
    if (!fl || !fh) return 0;
    for (a = 0; a < ly->n_in; a++, t++) {
      double l = fl[a], u = fh[a];
      int unst_f = l < 0.0 && u > 0.0, unst_g = gl && gl[a] < 0.0 && gh[a] > 0.0;
      if (!unst_f && unst_g) l = gl[a], u = gh[a];
      neuron_phi(n, l, u, x->m + a * n, x->phi + t * n);
      x->slope[0][t] = chord(fl[a], fh[a]);
      x->slack[0][t] = height(fl[a], fh[a]);
      if (gl) {
        x->slope[1][t] = chord(gl[a], gh[a]);
        x->slack[1][t] = unst_f || unst_g ? twinn_fmax(fabs(dl[a]), fabs(dh[a])) / 2.0 : 0.0;
      }
      for (size_t c = 0; c < n; c++) x->m[a * n + c] *= x->slope[0][t];
    }
  }
  return 1;
}

/* Adds the gains of the nr rows c (n_out each) of one pass through network which to gain. */
static void pass(twinn_splitscore *x, int which, size_t nr, const double *c, double *gain) {
  const twinn_net *net = x->net[which];
  size_t n = x->n_in, k, r, a, t = x->n_relu, wd = net->n_out;
  memcpy(x->lam, c, nr * wd * sizeof *x->lam);
  for (k = net->n_layers; k-- > 0;) {
    const twinn_layer *ly = &net->layers[k];
    if (ly->kind == TWINN_LAYER_AFFINE) {
      twinn_symk_gemm_f64(nr, ly->n_out, ly->n_in, x->lam, ly->n_out, ly->w, ly->n_in, 0.0, x->lam2,
                          ly->n_in);
      double *sw = x->lam;
      x->lam = x->lam2;
      x->lam2 = sw;
      wd = ly->n_in;
      continue;
    }
    t -= ly->n_in;
    for (r = 0; r < nr; r++)
      for (a = 0; a < wd; a++) {
        double v = fabs(x->lam[r * wd + a]) * x->slack[which][t + a];
        x->w[r * wd + a] = isfinite(v) ? v : 0.0;
        x->lam[r * wd + a] *= x->slope[which][t + a];
      }
    twinn_symk_gemm_f64(nr, wd, n, x->w, wd, x->phi + t * n, n, 1.0, gain, n);
  }
}

static int all_zero(const double *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (v[i] != 0.0) return 0;
  return 1;
}

int twinn_splitscore_gains(twinn_splitscore *x, size_t nr, const double *c_f, const double *c_g,
                           double *gain) {
  if (nr > x->cap_r) {
    size_t cap = nr > 2 * x->cap_r ? nr : 2 * x->cap_r;
    double *l1 = twinn_calloc(cap * x->max_w + 1, sizeof(double));
    double *l2 = twinn_calloc(cap * x->max_w + 1, sizeof(double));
    double *w = twinn_calloc(cap * x->max_w + 1, sizeof(double));
    if (!l1 || !l2 || !w) {
      twinn_free(l1);
      twinn_free(l2);
      twinn_free(w);
      return 0;
    }
    twinn_free(x->lam);
    twinn_free(x->lam2);
    twinn_free(x->w);
    x->lam = l1;
    x->lam2 = l2;
    x->w = w;
    x->cap_r = cap;
  }
  memset(gain, 0, nr * x->n_in * sizeof *gain);
  if (!all_zero(c_f, nr * x->net[0]->n_out)) pass(x, 0, nr, c_f, gain);
  if (x->net[1] && c_g && !all_zero(c_g, nr * x->net[1]->n_out)) pass(x, 1, nr, c_g, gain);
  return 1;
}
