/* onnx_load.h: the ONNX front end. Reads an ONNX model (protobuf, optionally gzip-compressed)
 * and lowers its single input -> single output chain of operators into a twinn_net; writes a
 * twinn_net back as a plain Gemm/activation ONNX model. Unsupported graphs are an error naming
 * the node and operator, never a silently different network. */
#ifndef TWINN_ONNX_LOAD_H
#define TWINN_ONNX_LOAD_H

#include "net.h"

/* Default-domain opset versions accepted. Above 13 only operators whose semantics did not
 * change are taken, and attributes added later (Reshape allowzero, DequantizeLinear
 * block_size, ...) are refused when they would change the meaning. */
#define TWINN_ONNX_OPSET_MIN 8
#define TWINN_ONNX_OPSET_MAX 21
/* ONNX IR versions accepted (IR 3 lists initializers among the graph inputs). */
#define TWINN_ONNX_IR_MIN 3
#define TWINN_ONNX_IR_MAX 10
/* Largest tensor (elements) or dense lowered map (entries) twinn builds: 2^28. */
#define TWINN_ONNX_MAX_ELEMS ((size_t)1 << 28)

/* Loads the model at path (gzip detected by its magic bytes). On success *out is a new network
 * owned by the caller (twinn_net_free), with path, shapes, element types and taps filled in.
 * On failure *out is NULL and err says why (IO, SYNTAX, SEMANTIC, UNSUPPORTED or NOMEM). */
twinn_status twinn_onnx_load_file(const char *path, twinn_net **out, twinn_error *err);
/* Same from memory (the bytes of a .onnx or .onnx.gz file); name is used in messages and as
 * net->path (may be NULL). The buffer is not kept. */
twinn_status twinn_onnx_load_buffer(const void *data, size_t n, const char *name, twinn_net **out,
                                    twinn_error *err);
/* Writes net as an ONNX model (IR 7, opset 13): input "input" float [1, n_in], one Gemm
 * (transB = 1) per affine layer and Relu/Sigmoid/Tanh nodes, output "output" float [1, n_out].
 * Weights are stored as float32 (rounded from double). */
twinn_status twinn_onnx_save_file(const twinn_net *net, const char *path, twinn_error *err);

/* NULL-terminated list of the operator types the front end lowers (static storage). */
const char *const *twinn_onnx_operators(void);
/* NULL-terminated list of tensor element types decoded in initializers, as VNN-LIB names
 * ("float32", "float16", ...). Graph inputs and outputs must be of a float type. */
const char *const *twinn_onnx_element_types(void);

#endif
