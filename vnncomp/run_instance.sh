#!/usr/bin/env bash
# run_instance.sh v1 CATEGORY ONNX VNNLIB RESULTS TIMEOUT: runs twinn on one instance and
# writes RESULTS: sat (then the witness, 1.0 form for a 1.0 query, 2.0 form for 2.0), unsat,
# timeout, unknown, or error (any failure of twinn; its message goes to stderr). twinn itself
# keeps TIMEOUT (it answers timed-out by TIMEOUT + 0.5 s); .gz files are read by twinn.
# Besides twinn it starts no process (no dirname, mktemp, head): on the many instances that
# twinn decides in about 10 ms, each would be a visible part of the instance's time.
set -uo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" == "${BASH_SOURCE[0]}" ]] && here=.
source "$here/common.sh"

if [[ $# -ne 6 || "$1" != "v1" ]]; then
  echo "usage: $0 v1 CATEGORY ONNX VNNLIB RESULTS TIMEOUT" >&2
  exit 2
fi
VNNLIB="$4"
RESULTS="$5"
TIMEOUT="$6"

if ! twinn_onnx_args "$3"; then
  echo error >"$RESULTS"
  exit 0
fi
# twinn's answer goes straight to RESULTS, which is then rewritten unless it is a sat with its
# witness. twinn sets OpenBLAS to one thread per worker anyway; the variable spares OpenBLAS
# starting its own threads when the library loads.
OPENBLAS_NUM_THREADS=1 "$TWINN_BIN" verify "$VNNLIB" "${NETARGS[@]}" --timeout "$TIMEOUT" --quiet \
  >"$RESULTS"
rc=$?
first=""
IFS= read -r first <"$RESULTS"
if [[ $rc -ne 0 ]]; then
  echo "run_instance.sh: twinn exited with status $rc" >&2
  echo error >"$RESULTS"
else
  case "$first" in
  sat) ;;
  unsat | unknown) echo "$first" >"$RESULTS" ;;
  timed-out) echo timeout >"$RESULTS" ;;
  *)
    echo "run_instance.sh: unexpected output from twinn: $first" >&2
    echo error >"$RESULTS"
    ;;
  esac
fi
exit 0
