#!/usr/bin/env bash
# prepare_instance.sh v1 CATEGORY ONNX VNNLIB: checks that twinn is built and the instance's
# files exist (ONNX may be the two-network list literal). Nothing to start or warm up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ $# -ne 4 || "$1" != "v1" ]]; then
  echo "usage: $0 v1 CATEGORY ONNX VNNLIB" >&2
  exit 2
fi
if [[ ! -x "$TWINN_BIN" ]]; then
  echo "prepare_instance.sh: $TWINN_BIN is not built: run vnncomp/install_tool.sh v1" >&2
  exit 1
fi
twinn_onnx_args "$3"
for f in "${NETPATHS[@]}" "$4"; do
  if [[ ! -r "$f" ]]; then
    echo "prepare_instance.sh: cannot read $f" >&2
    exit 1
  fi
done
exit 0
