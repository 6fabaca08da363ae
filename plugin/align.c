/* align.c: twins of different widths rebuilt as an isomorphic pair (align.h). Layer by layer:
 * every row (incoming weights and bias) of f's and g's hidden affine layer is written over the
 * aligned neurons of the previous layer; the pairs of rows closer than TWINN_ALIGN_TOL are
 * matched greedily, nearest first (ties by index: the result depends only on the networks);
 * f's neurons keep their order, g's unmatched ones follow. Each rebuilt layer takes a network's
 * own rows where it has the neuron and the other's where it does not, and every row is written
 * over the previous layer through that network's own positions, so the columns of neurons a
 * network lacks stay 0 in its next layer: the added neurons are never read. */
#include "align.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "symbolic.h"

typedef struct {
  double d;
  size_t i, j;
} cand;

static int cand_cmp(const void *pa, const void *pb) {
  const cand *a = pa, *b = pb;
  if (a->d != b->d) return a->d < b->d ? -1 : 1;
  if (a->i != b->i) return a->i < b->i ? -1 : 1;
  return a->j < b->j ? -1 : a->j > b->j;
}

/* Row r of affine layer ly and its bias over the aligned previous layer (pos: ly's inputs to
 * aligned indices) into out (m_prev + 1 entries, the bias last). */
static void place_row(const twinn_layer *ly, size_t r, const size_t *pos, size_t m_prev,
                      double *out) {
  memset(out, 0, (m_prev + 1) * sizeof *out);
  for (size_t c = 0; c < ly->n_in; c++) out[pos[c]] = ly->w[r * ly->n_in + c];
  out[m_prev] = ly->b[r];
}

static double norm2(const double *v, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += v[i] * v[i];
  return sqrt(s);
}

/* The matching of one hidden layer: at[j] = f's neuron matched to g's neuron j, or SIZE_MAX.
 * Rows are compared over the previous layer's neurons both networks have (and the bias): a
 * neuron one of them lacks (pruned) is what differs, not what identifies the rest. Returns the
 * number matched, SIZE_MAX on out of memory. */
static size_t match_layer(const twinn_layer *lf, const twinn_layer *lg, const size_t *pos_f,
                          const size_t *pos_g, size_t m_prev, size_t *at) {
  size_t nf = lf->n_out, ng = lg->n_out, w = m_prev + 1, n_c = 0, n_m = 0, i, j, t;
  double *F = twinn_mallocarray(nf * w, sizeof *F), *G = twinn_mallocarray(ng * w, sizeof *G);
  double *nF = twinn_mallocarray(nf, sizeof *nF), *nG = twinn_mallocarray(ng, sizeof *nG);
  cand *c = twinn_mallocarray(nf * ng, sizeof *c);
  unsigned char *used = twinn_calloc(nf, 1), *has = twinn_calloc(m_prev + 1, 1);
  if (!F || !G || !nF || !nG || !c || !used || !has) {
    n_m = SIZE_MAX;
    goto done;
  }
  for (t = 0; t < lf->n_in; t++) has[pos_f[t]] |= 1;
  for (t = 0; t < lg->n_in; t++) has[pos_g[t]] |= 2;
  has[m_prev] = 3; /* the bias */
  for (i = 0; i < nf; i++) {
    place_row(lf, i, pos_f, m_prev, F + i * w);
    for (t = 0; t < w; t++)
      if (has[t] != 3) F[i * w + t] = 0.0;
    nF[i] = norm2(F + i * w, w);
  }
  for (j = 0; j < ng; j++) {
    place_row(lg, j, pos_g, m_prev, G + j * w);
    for (t = 0; t < w; t++)
      if (has[t] != 3) G[j * w + t] = 0.0;
    nG[j] = norm2(G + j * w, w);
    at[j] = SIZE_MAX;
  }
  for (i = 0; i < nf; i++)
    for (j = 0; j < ng; j++) {
      double s = 0, scale = fmax(nF[i], nG[j]);
      for (t = 0; t < w; t++) {
        double e = F[i * w + t] - G[j * w + t];
        s += e * e;
      }
      s = sqrt(s);
      if (s <= TWINN_ALIGN_TOL * scale) c[n_c++] = (cand){scale > 0 ? s / scale : 0.0, i, j};
    }
  qsort(c, n_c, sizeof *c, cand_cmp);
  for (t = 0; t < n_c; t++)
    if (!used[c[t].i] && at[c[t].j] == SIZE_MAX) {
      used[c[t].i] = 1;
      at[c[t].j] = c[t].i;
      n_m++;
    }
done:
  twinn_free(F);
  twinn_free(G);
  twinn_free(nF);
  twinn_free(nG);
  twinn_free(c);
  twinn_free(used);
  twinn_free(has);
  return n_m;
}

/* A rebuilt network's metadata from its original (shapes and types as declared, path). */
static void copy_meta(twinn_net *dst, const twinn_net *src) {
  dst->in_rank = src->in_rank;
  dst->out_rank = src->out_rank;
  memcpy(dst->in_dims, src->in_dims, sizeof dst->in_dims);
  memcpy(dst->out_dims, src->out_dims, sizeof dst->out_dims);
  dst->in_type = src->in_type;
  dst->out_type = src->out_type;
}

twinn_status twinn_net_align(const twinn_net *f, const twinn_net *g, twinn_net **fa, twinn_net **ga,
                             size_t *matched, twinn_error *err) {
  size_t k, last = SIZE_MAX, total = 0, mw, m_prev;
  size_t *pos_f = NULL, *pos_g = NULL, *npf = NULL, *npg = NULL, *at = NULL, *src_f = NULL,
         *src_g = NULL;
  double *row = NULL;
  twinn_net *A = NULL, *B = NULL;
  twinn_status st = TWINN_OK;
  *fa = *ga = NULL;
  if (matched) *matched = 0;
  if (f->n_in != g->n_in || f->n_out != g->n_out || f->n_layers != g->n_layers ||
      twinn_net_isomorphic(f, g))
    return TWINN_ERR_UNSUPPORTED;
  for (k = 0; k < f->n_layers; k++) {
    if (f->layers[k].kind != g->layers[k].kind) return TWINN_ERR_UNSUPPORTED;
    if (f->layers[k].kind == TWINN_LAYER_AFFINE) last = k;
  }
  if (last == SIZE_MAX) return TWINN_ERR_UNSUPPORTED;
  /* The widest aligned layer: at most the sum of both networks' widths. */
  mw = twinn_net_max_width(f) + twinn_net_max_width(g);
  pos_f = twinn_mallocarray(mw, sizeof *pos_f);
  pos_g = twinn_mallocarray(mw, sizeof *pos_g);
  npf = twinn_mallocarray(mw, sizeof *npf);
  npg = twinn_mallocarray(mw, sizeof *npg);
  at = twinn_mallocarray(mw, sizeof *at);
  src_f = twinn_mallocarray(mw, sizeof *src_f);
  src_g = twinn_mallocarray(mw, sizeof *src_g);
  row = twinn_mallocarray(mw + 1, sizeof *row);
  A = twinn_net_new(f->n_in);
  B = twinn_net_new(g->n_in);
  if (!pos_f || !pos_g || !npf || !npg || !at || !src_f || !src_g || !row || !A || !B) goto nomem;
  for (k = 0; k < f->n_in; k++) pos_f[k] = pos_g[k] = k;
  m_prev = f->n_in;
  for (k = 0; k < f->n_layers; k++) {
    const twinn_layer *lf = &f->layers[k], *lg = &g->layers[k];
    size_t nf = lf->n_out, ng = lg->n_out, m, p, i, j, u = 0, *tmp;
    double *wa, *ba, *wb, *bb;
    if (lf->kind != TWINN_LAYER_AFFINE) {
      if ((st = twinn_net_push_act(A, lf->kind, err)) != TWINN_OK ||
          (st = twinn_net_push_act(B, lf->kind, err)) != TWINN_OK)
        goto fail;
      continue;
    }
    if (k == last) { /* the outputs: the same, in order */
      if (nf != ng) goto unsupported;
      for (j = 0; j < ng; j++) at[j] = j;
      i = ng;
    } else if ((i = match_layer(lf, lg, pos_f, pos_g, m_prev, at)) == SIZE_MAX) {
      goto nomem;
    } else if ((double)i < TWINN_ALIGN_MIN_MATCHED * (double)(nf < ng ? nf : ng)) {
      goto unsupported;
    } else {
      total += i;
    }
    m = nf + (ng - i);
    for (p = 0; p < m; p++) src_f[p] = p < nf ? p : SIZE_MAX, src_g[p] = SIZE_MAX;
    for (i = 0; i < nf; i++) npf[i] = i;
    for (j = 0; j < ng; j++) {
      npg[j] = at[j] != SIZE_MAX ? at[j] : nf + u++;
      src_g[npg[j]] = j;
    }
    wa = twinn_mallocarray(m * m_prev, sizeof *wa);
    ba = twinn_mallocarray(m, sizeof *ba);
    wb = twinn_mallocarray(m * m_prev, sizeof *wb);
    bb = twinn_mallocarray(m, sizeof *bb);
    if (wa && ba && wb && bb) {
      for (p = 0; p < m; p++) {
        /* Its own row where a network has the neuron, the other's where it does not. */
        if (src_f[p] != SIZE_MAX)
          place_row(lf, src_f[p], pos_f, m_prev, row);
        else
          place_row(lg, src_g[p], pos_g, m_prev, row);
        memcpy(wa + p * m_prev, row, m_prev * sizeof *row);
        ba[p] = row[m_prev];
        if (src_g[p] != SIZE_MAX)
          place_row(lg, src_g[p], pos_g, m_prev, row);
        else
          place_row(lf, src_f[p], pos_f, m_prev, row);
        memcpy(wb + p * m_prev, row, m_prev * sizeof *row);
        bb[p] = row[m_prev];
      }
    }
    /* push_affine takes the arrays (and frees them on failure, NULL ones included). */
    if ((st = twinn_net_push_affine(A, m, wa, ba, err)) != TWINN_OK) {
      twinn_free(wb);
      twinn_free(bb);
      goto fail;
    }
    if ((st = twinn_net_push_affine(B, m, wb, bb, err)) != TWINN_OK) goto fail;
    tmp = pos_f, pos_f = npf, npf = tmp;
    tmp = pos_g, pos_g = npg, npg = tmp;
    m_prev = m;
  }
  copy_meta(A, f);
  copy_meta(B, g);
  if ((f->path && !(A->path = twinn_strdup(f->path))) ||
      (g->path && !(B->path = twinn_strdup(g->path))))
    goto nomem;
  *fa = A;
  *ga = B;
  if (matched) *matched = total;
  A = B = NULL;
  goto done;
unsupported:
  st = TWINN_ERR_UNSUPPORTED;
  goto fail;
nomem:
  st = twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory (aligning twins)");
fail:
  twinn_net_free(A);
  twinn_net_free(B);
done:
  twinn_free(pos_f);
  twinn_free(pos_g);
  twinn_free(npf);
  twinn_free(npg);
  twinn_free(at);
  twinn_free(src_f);
  twinn_free(src_g);
  twinn_free(row);
  return st;
}

int twinn_align_pays(const twinn_net *f, const twinn_net *g, const twinn_net *fa,
                     const twinn_net *ga, const double *lo, const double *hi) {
  twinn_sym *p = twinn_sym_new(fa, ga), *sf = twinn_sym_new(f, NULL), *sg = twinn_sym_new(g, NULL);
  size_t n_out = f->n_out, n_in = f->n_in;
  double *cf = twinn_calloc(2 * n_out + 1, sizeof *cf), *cg = cf ? cf + n_out : NULL;
  double *a = twinn_mallocarray(4 * n_in + 1, sizeof *a), w_pair = 0.0, w_prod = 0.0;
  twinn_error err;
  int pays = 0;
  twinn_error_clear(&err);
  if (!p || !sf || !sg || !cf || !a || twinn_sym_analyse(p, lo, hi, &err) != TWINN_OK ||
      twinn_sym_analyse(sf, lo, hi, &err) != TWINN_OK ||
      twinn_sym_analyse(sg, lo, hi, &err) != TWINN_OK)
    goto done;
  for (size_t i = 0; i < n_out; i++) {
    double l, h, pl, ph;
    cf[i] = -1.0;
    cg[i] = 1.0;
    if (twinn_sym_bound_lin(p, cf, cg, &l, &h, &err) != TWINN_OK) goto done;
    twinn_sym_sum_bounds(sf, cf, sg, cg, a, a + 2 * n_in, &pl, &ph);
    cf[i] = cg[i] = 0.0;
    w_pair += h - l;
    w_prod += ph - pl;
  }
  pays = w_pair <= w_prod || !(w_prod < INFINITY);
done:
  twinn_sym_free(p);
  twinn_sym_free(sf);
  twinn_sym_free(sg);
  twinn_free(cf);
  twinn_free(a);
  return pays;
}

twinn_status twinn_net_align_for(const twinn_net *f, const twinn_net *g, const double *lo,
                                 const double *hi, twinn_net **fa, twinn_net **ga, size_t *matched,
                                 twinn_error *err) {
  twinn_status st = twinn_net_align(f, g, fa, ga, matched, err);
  if (st != TWINN_OK || twinn_align_pays(f, g, *fa, *ga, lo, hi)) return st;
  twinn_net_free(*fa); /* far apart: the product network bounds them better */
  twinn_net_free(*ga);
  *fa = *ga = NULL;
  if (matched) *matched = 0;
  return TWINN_ERR_UNSUPPORTED;
}
