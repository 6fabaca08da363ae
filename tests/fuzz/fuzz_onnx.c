/* fuzz_onnx.c: libFuzzer target for the ONNX front end: any byte string must load or fail with
 * a status, never crash, leak or read out of bounds. Seeds: corpus_onnx/ (tiny saved nets). */
#include <stddef.h>
#include <stdint.h>

#include "onnx_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  twinn_net *net = NULL;
  twinn_error err;
  twinn_error_clear(&err);
  /* Keep single inputs cheap: dense maps of hostile shapes are capped, but not tiny. */
  twinn_alloc_set_limit((size_t)64 << 20);
  if (twinn_onnx_load_buffer(data, size, "fuzz.onnx", &net, &err) == TWINN_OK)
    twinn_net_free(net);
  else if (net || err.status == TWINN_OK)
    __builtin_trap(); /* a failure must leave no network and a recorded error */
  twinn_alloc_set_limit(0);
  return 0;
}
