/* report.c: the JSON writer and the report documents of report.h. Output is always one
 * complete JSON value (RFC 8259): strings escaped, invalid UTF-8 replaced by U+FFFD, numbers
 * with %.17g, non-finite numbers as null. The schemas are documented in
 * specs/report-schema.md; change them only by adding members. Never prints to stdout/stderr
 * on its own: it writes to the FILE it is given. */
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "twinn.h"

void twinn_json_init(twinn_json *j, FILE *out) {
  memset(j, 0, sizeof *j);
  j->out = out;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s) {
  size_t n, i;
  unsigned c = s[0];
  unsigned long cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4, cp = c & 0x07;
  else
    return 0;
  for (i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  /* Overlong forms, surrogates and values above U+10FFFF are not valid UTF-8. */
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return n;
}

/* s as a JSON string literal. */
static void write_escaped(FILE *out, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  fputc('"', out);
  while (*p) {
    size_t n;
    if (*p == '"' || *p == '\\') {
      fputc('\\', out);
      fputc(*p++, out);
    } else if (*p == '\n') {
      fputs("\\n", out);
      p++;
    } else if (*p == '\t') {
      fputs("\\t", out);
      p++;
    } else if (*p == '\r') {
      fputs("\\r", out);
      p++;
    } else if (*p < 0x20 || *p == 0x7F) {
      fprintf(out, "\\u%04x", (unsigned)*p++);
    } else if ((n = utf8_len(p)) == 0) {
      fputs("\\ufffd", out);
      p++;
    } else {
      fwrite(p, 1, n, out);
      p += n;
    }
  }
  fputc('"', out);
}

/* Separator and key before a value; marks misuse as failure. */
static void prefix(twinn_json *j, const char *key) {
  int d = j->depth;
  if (d == 0) {
    if (key || j->n_items[0] > 0) j->failed = 1;
  } else if (j->in_object[d] != (key != NULL)) {
    j->failed = 1;
  }
  if (j->n_items[d]++ > 0) fputc(',', j->out);
  if (d > 0) {
    fputc('\n', j->out);
    for (int i = 0; i < d; i++) fputs("  ", j->out);
  }
  if (key) {
    write_escaped(j->out, key);
    fputs(": ", j->out);
  }
}

static void open_container(twinn_json *j, const char *key, int object) {
  prefix(j, key);
  fputc(object ? '{' : '[', j->out);
  if (j->depth + 1 >= TWINN_JSON_MAX_DEPTH) {
    j->failed = 1;
    return;
  }
  j->depth++;
  j->n_items[j->depth] = 0;
  j->in_object[j->depth] = object;
}

static void close_container(twinn_json *j, int object) {
  if (j->depth == 0 || j->in_object[j->depth] != object) {
    j->failed = 1;
    return;
  }
  if (j->n_items[j->depth] > 0) {
    fputc('\n', j->out);
    for (int i = 0; i < j->depth - 1; i++) fputs("  ", j->out);
  }
  fputc(object ? '}' : ']', j->out);
  j->depth--;
}

void twinn_json_begin_object(twinn_json *j, const char *key) { open_container(j, key, 1); }
void twinn_json_end_object(twinn_json *j) { close_container(j, 1); }
void twinn_json_begin_array(twinn_json *j, const char *key) { open_container(j, key, 0); }
void twinn_json_end_array(twinn_json *j) { close_container(j, 0); }

void twinn_json_string(twinn_json *j, const char *key, const char *s) {
  if (!s) {
    twinn_json_null(j, key);
    return;
  }
  prefix(j, key);
  write_escaped(j->out, s);
}

void twinn_json_number(twinn_json *j, const char *key, double v) {
  if (!isfinite(v)) {
    twinn_json_null(j, key);
    return;
  }
  prefix(j, key);
  fprintf(j->out, "%.17g", v == 0.0 ? 0.0 : v); /* -0 would read back as 0 anyway */
}

void twinn_json_uint(twinn_json *j, const char *key, unsigned long v) {
  prefix(j, key);
  fprintf(j->out, "%lu", v);
}

void twinn_json_bool(twinn_json *j, const char *key, int v) {
  prefix(j, key);
  fputs(v ? "true" : "false", j->out);
}

void twinn_json_null(twinn_json *j, const char *key) {
  prefix(j, key);
  fputs("null", j->out);
}

void twinn_json_numbers(twinn_json *j, const char *key, const double *v, size_t n) {
  size_t i;
  prefix(j, key);
  fputc('[', j->out);
  for (i = 0; i < n; i++) {
    if (i) fputs(", ", j->out);
    if (isfinite(v[i]))
      fprintf(j->out, "%.17g", v[i] == 0.0 ? 0.0 : v[i]);
    else
      fputs("null", j->out);
  }
  fputc(']', j->out);
}

twinn_status twinn_json_finish(twinn_json *j, twinn_error *err) {
  fputc('\n', j->out);
  if (j->failed || j->depth != 0 || j->n_items[0] != 1)
    return twinn_error_set(err, TWINN_ERR_INTERNAL, NULL, 0, 0, "malformed JSON document");
  if (fflush(j->out) != 0 || ferror(j->out))
    return twinn_error_set(err, TWINN_ERR_IO, NULL, 0, 0, "cannot write the JSON document");
  return TWINN_OK;
}

/* ---- documents ------------------------------------------------------------------------- */

static void write_witness(twinn_json *j, const twinn_prop *prop, const double *x) {
  size_t v;
  twinn_json_begin_array(j, "witness");
  for (v = 0; v < prop->n_vars; v++) {
    const twinn_var *var = &prop->vars[v];
    static const char *const roles[] = {"input", "hidden", "output"};
    twinn_json_begin_object(j, NULL);
    twinn_json_string(j, "name", var->name);
    twinn_json_string(j, "role", roles[var->role]);
    twinn_json_string(j, "network", prop->nets[var->net].name);
    twinn_json_numbers(j, "values", x + var->offset, var->n);
    twinn_json_end_object(j);
  }
  twinn_json_end_array(j);
}

twinn_status twinn_report_write_verify(FILE *out, const twinn_report_verify *r, twinn_error *err) {
  twinn_json j;
  size_t i;
  twinn_json_init(&j, out);
  twinn_json_begin_object(&j, NULL);
  twinn_json_string(&j, "schema", TWINN_REPORT_SCHEMA);
  twinn_json_string(&j, "twinn_version", TWINN_VERSION);
  twinn_json_string(&j, "query", r->query);
  twinn_json_begin_array(&j, "networks");
  for (i = 0; i < r->n_nets; i++) {
    twinn_json_begin_object(&j, NULL);
    twinn_json_string(&j, "name", r->net_names[i]);
    twinn_json_string(&j, "path", r->net_paths[i]);
    twinn_json_end_object(&j);
  }
  twinn_json_end_array(&j);
  twinn_json_string(&j, "verdict", r->verdict);
  twinn_json_string(&j, "reason", r->reason);
  if (r->witness && r->prop)
    write_witness(&j, r->prop, r->witness);
  else
    twinn_json_null(&j, "witness");
  twinn_json_number(&j, "bound", r->bound);
  twinn_json_uint(&j, "branches", r->branches);
  twinn_json_uint(&j, "open", r->open);
  twinn_json_begin_object(&j, "seconds");
  twinn_json_number(&j, "parse", r->t_parse);
  twinn_json_number(&j, "load", r->t_load);
  twinn_json_number(&j, "verify", r->t_verify);
  twinn_json_number(&j, "total", r->t_total);
  twinn_json_end_object(&j);
  twinn_json_begin_object(&j, "options");
  twinn_json_uint(&j, "seed", r->seed);
  twinn_json_number(&j, "timeout", r->timeout);
  twinn_json_uint(&j, "threads", r->threads > 0 ? (unsigned long)r->threads : 0);
  twinn_json_string(&j, "engine", r->engine_milp ? "milp" : "default");
  twinn_json_bool(&j, "neuron_split", r->neuron_split);
  twinn_json_bool(&j, "no_decompose", r->no_decompose);
  twinn_json_uint(&j, "opt_rounds", r->opt_rounds);
  twinn_json_uint(&j, "exact_relus", r->exact_relus);
  twinn_json_end_object(&j);
  twinn_json_end_object(&j);
  return twinn_json_finish(&j, err);
}

static void write_head(twinn_json *j, const twinn_report_bound_ctx *c, size_t n_in,
                       const char *mode) {
  size_t k;
  twinn_json_string(j, "schema", TWINN_BOUND_SCHEMA);
  twinn_json_string(j, "twinn_version", TWINN_VERSION);
  twinn_json_string(j, "mode", mode);
  twinn_json_begin_object(j, "networks");
  twinn_json_string(j, "f", c->f_path);
  twinn_json_string(j, "g", c->g_path);
  twinn_json_end_object(j);
  twinn_json_begin_object(j, "region");
  twinn_json_string(j, "source", c->region_source);
  twinn_json_numbers(j, "lo", c->lo, n_in);
  twinn_json_numbers(j, "hi", c->hi, n_in);
  twinn_json_uint(j, "n_boxes", c->n_boxes ? c->n_boxes : 1);
  twinn_json_begin_array(j, "boxes");
  for (k = 0; k < (c->n_boxes ? c->n_boxes : 1); k++) {
    twinn_json_begin_object(j, NULL);
    twinn_json_numbers(j, "lo", c->n_boxes ? c->box_lo + k * n_in : c->lo, n_in);
    twinn_json_numbers(j, "hi", c->n_boxes ? c->box_hi + k * n_in : c->hi, n_in);
    if (c->n_boxes && c->box_disjunct)
      twinn_json_uint(j, "disjunct", c->box_disjunct[k]);
    else
      twinn_json_null(j, "disjunct");
    twinn_json_end_object(j);
  }
  twinn_json_end_array(j);
  twinn_json_end_object(j);
  twinn_json_begin_object(j, "options");
  twinn_json_number(j, "gap", c->opt->gap);
  twinn_json_number(j, "abs_gap", c->opt->abs_gap);
  twinn_json_number(j, "timeout", c->opt->timeout);
  twinn_json_uint(j, "seed", c->opt->seed);
  twinn_json_end_object(j);
}

/* The box of a union (twinn_report_bound_ctx) that holds point number k. */
static size_t point_box(const twinn_report_bound_ctx *c, size_t k) {
  return c->n_boxes && c->point_box ? c->point_box[k] : 0;
}

static void write_bound(twinn_json *j, const char *key, const twinn_quant_bound *b, size_t n_in,
                        size_t box) {
  twinn_json_begin_object(j, key);
  twinn_json_number(j, "lower", b->lower);
  twinn_json_number(j, "value", b->value);
  twinn_json_number(j, "upper", b->upper);
  twinn_json_bool(j, "closed", b->closed);
  twinn_json_uint(j, "branches", b->branches);
  twinn_json_uint(j, "refined", b->refined);
  twinn_json_number(j, "seconds", b->seconds);
  if (b->point)
    twinn_json_numbers(j, "point", b->point, n_in);
  else
    twinn_json_null(j, "point");
  twinn_json_uint(j, "box", box);
  twinn_json_end_object(j);
}

twinn_status twinn_report_write_diff(FILE *out, const twinn_report_bound_ctx *ctx,
                                     const twinn_quant_diff *res, twinn_error *err) {
  twinn_json j;
  size_t i;
  twinn_json_init(&j, out);
  twinn_json_begin_object(&j, NULL);
  write_head(&j, ctx, res->n_in, "difference");
  twinn_json_string(&j, "pairing", twinn_pairing_name(res->pairing));
  twinn_json_uint(&j, "matched", res->matched);
  twinn_json_begin_array(&j, "outputs");
  for (i = 0; i < res->n_out; i++) {
    write_bound(&j, NULL, &res->out[i], res->n_in, point_box(ctx, i));
  }
  twinn_json_end_array(&j);
  twinn_json_begin_object(&j, "linf");
  twinn_json_number(&j, "lower", res->linf_lower);
  twinn_json_number(&j, "upper", res->linf_upper);
  twinn_json_uint(&j, "output", res->linf_arg);
  twinn_json_bool(&j, "closed", res->linf_closed);
  if (res->linf_searched) {
    twinn_json_uint(&j, "branches", res->linf_branches);
    twinn_json_number(&j, "seconds", res->linf_seconds);
  } else {
    twinn_json_null(&j, "branches");
    twinn_json_null(&j, "seconds");
  }
  twinn_json_end_object(&j);
  if (res->outs_searched) {
    twinn_json_begin_object(&j, "joint");
    twinn_json_uint(&j, "branches", res->outs_branches);
    twinn_json_uint(&j, "refined", res->outs_refined);
    twinn_json_number(&j, "seconds", res->outs_seconds);
    twinn_json_end_object(&j);
  } else {
    twinn_json_null(&j, "joint");
  }
  twinn_json_begin_array(&j, "verifier");
  for (i = 0; i < ctx->n_thresholds; i++) {
    const twinn_report_threshold *t = &ctx->thresholds[i];
    twinn_json_begin_object(&j, NULL);
    if (t->output == SIZE_MAX)
      twinn_json_null(&j, "output");
    else
      twinn_json_uint(&j, "output", t->output);
    twinn_json_number(&j, "threshold", t->threshold);
    twinn_json_string(&j, "verdict", t->verdict);
    twinn_json_number(&j, "seconds", t->seconds);
    twinn_json_uint(&j, "branches", t->branches);
    twinn_json_number(&j, "bound", t->bound);
    twinn_json_end_object(&j);
  }
  twinn_json_end_array(&j);
  twinn_json_bool(&j, "complete", !res->timed_out);
  twinn_json_uint(&j, "branches", res->branches);
  twinn_json_number(&j, "seconds", res->seconds);
  twinn_json_end_object(&j);
  return twinn_json_finish(&j, err);
}

twinn_status twinn_report_write_margin(FILE *out, const twinn_report_bound_ctx *ctx,
                                       const twinn_quant_margin *res, twinn_error *err) {
  static const char *const top1[] = {"unknown", "agree", "disagree"};
  twinn_json j;
  twinn_json_init(&j, out);
  twinn_json_begin_object(&j, NULL);
  write_head(&j, ctx, res->n_in, "margin");
  twinn_json_string(&j, "pairing", twinn_pairing_name(res->pairing));
  twinn_json_uint(&j, "matched", res->matched);
  twinn_json_uint(&j, "class", res->cls);
  twinn_json_string(&j, "decision", res->argmin ? "argmin" : "argmax");
  /* The range of m_g - m_f: proved inside [min.lower, max.upper], attained at both ends'
   * points at least as far as [min.upper, max.lower]. */
  twinn_json_begin_object(&j, "difference_range");
  twinn_json_number(&j, "proved_lo", -res->dmin.upper);
  twinn_json_number(&j, "attained_lo", -res->dmin.lower);
  twinn_json_number(&j, "attained_hi", res->dmax.lower);
  twinn_json_number(&j, "proved_hi", res->dmax.upper);
  twinn_json_end_object(&j);
  write_bound(&j, "max_g_minus_f", &res->dmax, res->n_in, point_box(ctx, 0));
  write_bound(&j, "max_f_minus_g", &res->dmin, res->n_in, point_box(ctx, 1));
  write_bound(&j, "max_neg_margin_f", &res->fneg, res->n_in, point_box(ctx, 2));
  write_bound(&j, "max_neg_margin_g", &res->gneg, res->n_in, point_box(ctx, 3));
  twinn_json_string(&j, "top1", top1[res->top1]);
  if (res->witness) {
    twinn_json_begin_object(&j, "witness");
    twinn_json_numbers(&j, "point", res->witness, res->n_in);
    twinn_json_uint(&j, "class_f", res->witness_f);
    twinn_json_uint(&j, "class_g", res->witness_g);
    twinn_json_uint(&j, "box", point_box(ctx, 4));
    twinn_json_end_object(&j);
  } else {
    twinn_json_null(&j, "witness");
  }
  twinn_json_bool(&j, "complete", !res->timed_out);
  twinn_json_uint(&j, "branches", res->branches);
  twinn_json_number(&j, "seconds", res->seconds);
  twinn_json_end_object(&j);
  return twinn_json_finish(&j, err);
}
