# common.sh: helpers sourced by the VNN-COMP scripts (not run on its own).
# twinn_onnx_args ONNX fills the array NETARGS with twinn's network arguments and NETPATHS with
# the model paths. ONNX is one path, or the harness's Python list literal
# [('f', 'a.onnx'), ('g', 'b.onnx')] (single or double quotes, any spacing), parsed with bash
# regexes only: no Python. Returns 1 with a message on stderr when the literal is malformed.

# The default binary, found without starting a process (run_instance.sh sources this file once
# per instance, and every process counts in the competition's time of an instance).
TWINN_VNNCOMP_DIR="${BASH_SOURCE[0]%/*}"
[[ "$TWINN_VNNCOMP_DIR" == "${BASH_SOURCE[0]}" ]] && TWINN_VNNCOMP_DIR=.
[[ "$TWINN_VNNCOMP_DIR" == /* ]] || TWINN_VNNCOMP_DIR="$PWD/$TWINN_VNNCOMP_DIR"
TWINN_BIN="${TWINN_BIN:-$TWINN_VNNCOMP_DIR/../build/twinn}"

twinn_onnx_args() {
  local spec="$1" rest pair_re name path
  NETARGS=()
  NETPATHS=()
  # Trim surrounding whitespace.
  spec="${spec#"${spec%%[![:space:]]*}"}"
  spec="${spec%"${spec##*[![:space:]]}"}"
  if [[ "$spec" != \[* ]]; then
    NETARGS=("$spec")
    NETPATHS=("$spec")
    return 0
  fi
  pair_re="\\([[:space:]]*['\"]([^'\"]*)['\"][[:space:]]*,[[:space:]]*['\"]([^'\"]*)['\"][[:space:]]*\\)"
  rest="$spec"
  while [[ "$rest" =~ $pair_re ]]; do
    name="${BASH_REMATCH[1]}"
    path="${BASH_REMATCH[2]}"
    rest="${rest#*"${BASH_REMATCH[0]}"}"
    NETARGS+=(--network "$name=$path")
    NETPATHS+=("$path")
  done
  if ((${#NETPATHS[@]} == 0)) || [[ "$spec" != *\] ]]; then
    echo "twinn: cannot read the network list $spec (expected [('f', 'a.onnx'), ...])" >&2
    return 1
  fi
  return 0
}

# twinn_csv_row LINE splits one instances.csv row ONNX,VNNLIB[,TIMEOUT] into ROW_ONNX,
# ROW_VNNLIB and ROW_TIMEOUT (empty when the row has none). The ONNX field may be quoted (a
# list literal contains commas). Carriage returns are dropped.
twinn_csv_row() {
  local line="${1%$'\r'}" rest
  if [[ "$line" == \"* ]]; then
    ROW_ONNX="${line#\"}"
    ROW_ONNX="${ROW_ONNX%%\"*}"
    rest="${line#\"*\",}"
  else
    ROW_ONNX="${line%%,*}"
    rest="${line#*,}"
  fi
  ROW_VNNLIB="${rest%%,*}"
  ROW_TIMEOUT="${rest#*,}"
  [[ "$ROW_TIMEOUT" == "$rest" ]] && ROW_TIMEOUT=""
  return 0
}

# twinn_set_args "$@": the arguments SET_DIR [TIMEOUT [MAX_INSTANCES]] of the set scripts, into
# SET_DIR (absolute), ARG_TIMEOUT (may be empty) and MAX (0: all). Exits 2 with a usage line
# when they do not fit or SET_DIR/instances.csv is unreadable.
twinn_set_args() {
  if [[ $# -lt 1 || $# -gt 3 || ! -r "$1/instances.csv" ]]; then
    echo "usage: $0 SET_DIR [TIMEOUT [MAX_INSTANCES]]   (SET_DIR/instances.csv must exist)" >&2
    exit 2
  fi
  SET_DIR="$(cd "$1" && pwd)"
  ARG_TIMEOUT="${2:-}"
  MAX="${3:-0}"
}
