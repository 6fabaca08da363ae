/* graph.h (private to onnx/): the decoded protobuf model and constant tensors that load.c
 * hands to lower.c. The ModelProto is unpacked through a twinn_malloc-backed allocator so
 * fault injection reaches protobuf-c too. Nothing here is visible outside the front end. */
#ifndef TWINN_ONNX_GRAPH_H
#define TWINN_ONNX_GRAPH_H

#include "common.h"
#include "net.h"
#include "onnx.pb-c.h"

#define TWINN_ONNX_MAX_RANK 8

/* A constant tensor decoded to double (exact for every supported element type). */
typedef struct {
  size_t rank;
  int64_t dims[TWINN_ONNX_MAX_RANK];
  size_t n;      /* product of dims (1 for a scalar) */
  double *v;     /* n values, row-major, owned */
  int elem_type; /* TensorProto.DataType it was stored as */
} twinn_onnx_const;

typedef struct {
  const char *path;        /* name for messages (not owned) */
  Onnx__ModelProto *model; /* owned, freed with the allocator below */
  int64_t opset;           /* default-domain opset */
} twinn_onnx_graph;

/* Decodes the protobuf bytes (already decompressed) and checks IR version, opset and that a
 * graph is present. On failure g->model is NULL. */
twinn_status twinn_onnx_graph_decode(const void *data, size_t n, const char *path,
                                     twinn_onnx_graph *g, twinn_error *err);
void twinn_onnx_graph_release(twinn_onnx_graph *g);
/* Decodes tensor t into out (owned by the caller: twinn_onnx_const_release). what names the
 * tensor in messages. Refuses external data, unknown element types, size mismatches, more
 * than TWINN_ONNX_MAX_ELEMS elements and non-finite float values. */
twinn_status twinn_onnx_const_decode(const twinn_onnx_graph *g, const Onnx__TensorProto *t,
                                     const char *what, twinn_onnx_const *out, twinn_error *err);
void twinn_onnx_const_release(twinn_onnx_const *c);
/* Lowers the decoded graph into a new network (*out, caller-owned). */
twinn_status twinn_onnx_lower(const twinn_onnx_graph *g, twinn_net **out, twinn_error *err);

/* ProtobufCAllocator routing protobuf-c through twinn_malloc/twinn_free. */
extern ProtobufCAllocator twinn_onnx_pb_allocator;

#endif
