/* load.c: bytes -> decoded ONNX graph. Reads files (gzip detected by magic bytes), unpacks the
 * protobuf through a twinn_malloc-backed allocator, checks IR/opset versions, and decodes
 * constant tensors to double exactly. Sizes are checked before any allocation: a hostile file
 * can make loading fail, never allocate absurd memory or read out of bounds. */
#include "graph.h"
#include "onnx_load.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

/* A compressed file may not inflate to more than this (the largest real models are ~100 MB). */
#define MAX_INFLATED ((size_t)1 << 31)

/* allocator_data, when set, points to an int raised on a failed allocation: protobuf-c
 * reports out of memory and bad bytes alike as NULL, and the two must be told apart. */
static void *pb_alloc(void *data, size_t size) {
  void *p = twinn_malloc(size);
  if (!p && data) *(int *)data = 1;
  return p;
}

static void pb_free(void *data, void *p) {
  (void)data;
  twinn_free(p);
}

ProtobufCAllocator twinn_onnx_pb_allocator = {pb_alloc, pb_free, NULL};

static const char *const element_types[] = {"float32", "float64", "float16", "int8",
                                            "uint8",   "int32",   "int64",   NULL};

const char *const *twinn_onnx_element_types(void) { return element_types; }

twinn_status twinn_onnx_graph_decode(const void *data, size_t n, const char *path,
                                     twinn_onnx_graph *g, twinn_error *err) {
  Onnx__ModelProto *m;
  size_t i;
  int found = 0, nomem = 0;
  ProtobufCAllocator alloc = {pb_alloc, pb_free, NULL};
  g->path = path;
  g->model = NULL;
  g->opset = 0;
  alloc.allocator_data = &nomem;
  m = onnx__model_proto__unpack(&alloc, n, data);
  if (!m) {
    if (nomem)
      return twinn_error_set(err, TWINN_ERR_NOMEM, path, 0, 0,
                             "out of memory while decoding the model");
    return twinn_error_set(err, TWINN_ERR_SYNTAX, path, 0, 0,
                           "not a valid ONNX model (protobuf decoding failed)");
  }
  g->model = m;
  if (!m->graph)
    return twinn_error_set(err, TWINN_ERR_SYNTAX, path, 0, 0, "not a valid ONNX model (no graph)");
  if (!m->has_ir_version || m->ir_version < TWINN_ONNX_IR_MIN || m->ir_version > TWINN_ONNX_IR_MAX)
    return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, path, 0, 0,
                           "ONNX IR version %lld not supported (supported: %d to %d)",
                           (long long)m->ir_version, TWINN_ONNX_IR_MIN, TWINN_ONNX_IR_MAX);
  for (i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (o->domain && o->domain[0] && strcmp(o->domain, "ai.onnx") != 0) continue;
    g->opset = o->version;
    found = 1;
  }
  if (!found)
    return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, path, 0, 0,
                           "no default-domain opset import (ONNX opset version unknown)");
  if (g->opset < TWINN_ONNX_OPSET_MIN || g->opset > TWINN_ONNX_OPSET_MAX)
    return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, path, 0, 0,
                           "ONNX opset %lld not supported (supported: %d to %d)",
                           (long long)g->opset, TWINN_ONNX_OPSET_MIN, TWINN_ONNX_OPSET_MAX);
  return TWINN_OK;
}

void twinn_onnx_graph_release(twinn_onnx_graph *g) {
  if (g->model) onnx__model_proto__free_unpacked(g->model, &twinn_onnx_pb_allocator);
  g->model = NULL;
}

void twinn_onnx_const_release(twinn_onnx_const *c) {
  twinn_free(c->v);
  c->v = NULL;
  c->n = 0;
}

/* IEEE binary16 -> double (exact). */
static double half_to_double(uint16_t h) {
  int e = (h >> 10) & 0x1f;
  double m = (double)(h & 0x3ff);
  double s = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 0) return s * ldexp(m, -24);
  if (e == 31) return m != 0.0 ? NAN : s * INFINITY;
  return s * ldexp(m + 1024.0, e - 25);
}

/* Bytes per element in raw_data, 0 for an element type we do not decode. */
static size_t elem_size(int dt) {
  switch (dt) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return 4;
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return 8;
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return 2;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return 1;
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return 1;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return 4;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return 8;
  default: return 0;
  }
}

/* Little-endian unsigned of k bytes at p (raw_data is little-endian whatever the host). */
static uint64_t read_le(const uint8_t *p, size_t k) {
  uint64_t v = 0;
  size_t i;
  for (i = 0; i < k; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static double raw_value(int dt, const uint8_t *p) {
  uint64_t u = read_le(p, elem_size(dt));
  switch (dt) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
    uint32_t b = (uint32_t)u;
    float f;
    memcpy(&f, &b, sizeof f);
    return (double)f;
  }
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
  }
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return half_to_double((uint16_t)u);
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return (double)(int8_t)(uint8_t)u;
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return (double)(uint8_t)u;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return (double)(int32_t)(uint32_t)u;
  default: return (double)(int64_t)u; /* INT64: exact up to 2^53, enough for shapes */
  }
}

/* Value i from the typed repeated fields (float_data, int32_data, ...), whose count the caller
 * has checked. int8/uint8/float16 are stored in int32_data as ONNX specifies. */
static double typed_value(int dt, const Onnx__TensorProto *t, size_t i) {
  switch (dt) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return (double)t->float_data[i];
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return t->double_data[i];
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return half_to_double((uint16_t)t->int32_data[i]);
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return (double)(int8_t)t->int32_data[i];
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return (double)(uint8_t)t->int32_data[i];
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return (double)t->int32_data[i];
  default: return (double)t->int64_data[i];
  }
}

static size_t typed_count(int dt, const Onnx__TensorProto *t) {
  switch (dt) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return t->n_float_data;
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return t->n_double_data;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return t->n_int64_data;
  default: return t->n_int32_data;
  }
}

twinn_status twinn_onnx_const_decode(const twinn_onnx_graph *g, const Onnx__TensorProto *t,
                                     const char *what, twinn_onnx_const *out, twinn_error *err) {
  size_t i, n = 1, es;
  int dt = t->data_type;
  twinn_status st;
  memset(out, 0, sizeof *out);
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, g->path, 0, 0,
                           "%s: external tensor data not supported", what);
  es = elem_size(dt);
  if (es == 0)
    return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, g->path, 0, 0,
                           "%s: tensor element type %d not supported", what, dt);
  if (t->n_dims > TWINN_ONNX_MAX_RANK)
    return twinn_error_set(err, TWINN_ERR_UNSUPPORTED, g->path, 0, 0,
                           "%s: tensor rank %zu exceeds %d", what, t->n_dims, TWINN_ONNX_MAX_RANK);
  for (i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0)
      return twinn_error_set(err, TWINN_ERR_SEMANTIC, g->path, 0, 0,
                             "%s: negative tensor dimension %lld", what, (long long)t->dims[i]);
    /* Checked before multiplying: the product cannot overflow while it stays under the cap. */
    if ((uint64_t)t->dims[i] > TWINN_ONNX_MAX_ELEMS ||
        (t->dims[i] > 0 && n > TWINN_ONNX_MAX_ELEMS / (size_t)t->dims[i]))
      return twinn_error_set(err, TWINN_ERR_NOMEM, g->path, 0, 0,
                             "%s: tensor too large (more than 2^28 elements)", what);
    n *= (size_t)t->dims[i];
    out->dims[i] = t->dims[i];
  }
  out->rank = t->n_dims;
  out->n = n;
  out->elem_type = dt;
  if (t->has_raw_data) {
    if (t->raw_data.len != n * es)
      return twinn_error_set(err, TWINN_ERR_SEMANTIC, g->path, 0, 0,
                             "%s: raw data holds %zu bytes, shape needs %zu", what, t->raw_data.len,
                             n * es);
  } else if (typed_count(dt, t) != n) {
    return twinn_error_set(err, TWINN_ERR_SEMANTIC, g->path, 0, 0,
                           "%s: tensor holds %zu values, shape needs %zu", what, typed_count(dt, t),
                           n);
  }
  out->v = twinn_mallocarray(n, sizeof *out->v);
  if (!out->v)
    return twinn_error_set(err, TWINN_ERR_NOMEM, g->path, 0, 0, "%s: out of memory", what);
  for (i = 0; i < n; i++) {
    out->v[i] = t->has_raw_data ? raw_value(dt, t->raw_data.data + i * es) : typed_value(dt, t, i);
    /* No analysis of a network with NaN/Inf weights can be sound: refuse it here. */
    if (!isfinite(out->v[i])) {
      st = twinn_error_set(err, TWINN_ERR_SEMANTIC, g->path, 0, 0,
                           "%s: weight is NaN/Inf at element %zu", what, i);
      goto fail;
    }
  }
  return TWINN_OK;
fail:
  twinn_onnx_const_release(out);
  return st;
}

/* Inflates a gzip stream into a new buffer (*out, *n_out). */
static twinn_status gunzip(const uint8_t *data, size_t n, const char *path, uint8_t **out,
                           size_t *n_out, twinn_error *err) {
  z_stream zs;
  size_t cap = n * 4 + 1024, used = 0;
  uint8_t *buf = NULL, *grown;
  int zr = Z_OK, inited = 0;
  twinn_status st;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    st = twinn_error_set(err, TWINN_ERR_NOMEM, path, 0, 0, "cannot initialise zlib");
    goto fail;
  }
  inited = 1;
  buf = twinn_malloc(cap);
  if (!buf) goto nomem;
  zs.next_in = (Bytef *)(uintptr_t)data;
  /* zlib counts in uInt: feed at most 1 GiB at a time. */
  while (zr != Z_STREAM_END) {
    if (zs.avail_in == 0) {
      size_t left = n - (size_t)((const uint8_t *)zs.next_in - data);
      if (left == 0) break;
      zs.avail_in = (uInt)(left > ((size_t)1 << 30) ? ((size_t)1 << 30) : left);
    }
    if (used == cap) {
      if (cap >= MAX_INFLATED) {
        st = twinn_error_set(err, TWINN_ERR_NOMEM, path, 0, 0,
                             "compressed model inflates to more than 2 GiB");
        goto fail;
      }
      grown = twinn_realloc(buf, cap * 2, 1);
      if (!grown) goto nomem;
      buf = grown;
      cap *= 2;
    }
    zs.next_out = buf + used;
    zs.avail_out = (uInt)(cap - used > ((size_t)1 << 30) ? ((size_t)1 << 30) : cap - used);
    {
      uInt before = zs.avail_out;
      zr = inflate(&zs, Z_NO_FLUSH);
      used += before - zs.avail_out;
    }
    if (zr == Z_MEM_ERROR) goto nomem;
    if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) break;
  }
  if (zr != Z_STREAM_END) {
    st = twinn_error_set(err, TWINN_ERR_SYNTAX, path, 0, 0, "corrupt or truncated gzip data");
    goto fail;
  }
  inflateEnd(&zs);
  *out = buf;
  *n_out = used;
  return TWINN_OK;
nomem:
  st = twinn_error_set(err, TWINN_ERR_NOMEM, path, 0, 0, "out of memory while inflating");
fail:
  if (inited) inflateEnd(&zs);
  twinn_free(buf);
  return st;
}

twinn_status twinn_onnx_load_buffer(const void *data, size_t n, const char *name, twinn_net **out,
                                    twinn_error *err) {
  const uint8_t *bytes = data;
  uint8_t *inflated = NULL;
  size_t n_inflated = 0;
  twinn_onnx_graph g = {name, NULL, 0};
  twinn_status st;
  *out = NULL;
  if (n >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
    st = gunzip(bytes, n, name, &inflated, &n_inflated, err);
    if (st != TWINN_OK) goto fail;
    bytes = inflated;
    n = n_inflated;
  }
  st = twinn_onnx_graph_decode(bytes, n, name, &g, err);
  if (st != TWINN_OK) goto fail;
  st = twinn_onnx_lower(&g, out, err);
fail: /* also the success path: the graph and inflated bytes are never kept */
  twinn_onnx_graph_release(&g);
  twinn_free(inflated);
  return st;
}

twinn_status twinn_onnx_load_file(const char *path, twinn_net **out, twinn_error *err) {
  FILE *f = NULL;
  uint8_t *buf = NULL, *grown;
  size_t cap = 1 << 16, used = 0, got;
  twinn_status st;
  *out = NULL;
  f = fopen(path, "rb");
  if (!f) {
    st = twinn_error_set(err, TWINN_ERR_IO, path, 0, 0, "cannot open file");
    goto fail;
  }
  buf = twinn_malloc(cap);
  if (!buf) goto nomem;
  /* Read to EOF with a growing buffer: works for pipes and /dev/fd too. */
  for (;;) {
    if (used == cap) {
      if (cap >= MAX_INFLATED) {
        st = twinn_error_set(err, TWINN_ERR_NOMEM, path, 0, 0, "model file larger than 2 GiB");
        goto fail;
      }
      grown = twinn_realloc(buf, cap * 2, 1);
      if (!grown) goto nomem;
      buf = grown;
      cap *= 2;
    }
    got = fread(buf + used, 1, cap - used, f);
    used += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    st = twinn_error_set(err, TWINN_ERR_IO, path, 0, 0, "read error");
    goto fail;
  }
  st = twinn_onnx_load_buffer(buf, used, path, out, err);
  goto done;
nomem:
  st = twinn_error_set(err, TWINN_ERR_NOMEM, path, 0, 0, "out of memory reading the file");
fail:
done:
  if (f) fclose(f);
  twinn_free(buf);
  return st;
}
