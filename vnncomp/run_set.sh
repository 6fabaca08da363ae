#!/usr/bin/env bash
# run_set.sh SET_DIR [TIMEOUT [MAX_INSTANCES]]: runs every instance of SET_DIR/instances.csv
# (rows ONNX,VNNLIB,TIMEOUT; ONNX may be a quoted list literal; paths relative to SET_DIR)
# through run_instance.sh with min(row TIMEOUT, TIMEOUT), prints one line per instance and a
# summary, and replays every sat witness with `twinn replay` (a failure counts as bad-witness).
# Exit status 1 if any instance gave error or a bad witness.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/common.sh"

twinn_set_args "$@"
CAP="$ARG_TIMEOUT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

declare -A count=()
times=()
n=0
bad=0
while IFS= read -r line || [[ -n "$line" ]]; do
  line="${line%$'\r'}"
  [[ -z "${line//[[:space:]]/}" ]] && continue
  twinn_csv_row "$line"
  onnx="$ROW_ONNX"
  vnnlib="$ROW_VNNLIB"
  timeout="${ROW_TIMEOUT:-${CAP:-60}}"
  if [[ -n "$CAP" ]] && awk -v a="$CAP" -v b="$timeout" 'BEGIN { exit !(a < b) }'; then
    timeout="$CAP"
  fi
  n=$((n + 1))
  name=""
  if ! (cd "$SET_DIR" && twinn_onnx_args "$onnx"); then
    verdict=error
    secs=0
  else
    (cd "$SET_DIR" && twinn_onnx_args "$onnx" && printf '%s\n' "${NETPATHS[@]}") >"$work/paths"
    nets="$(xargs -d '\n' -n 1 basename <"$work/paths" | sed 's/\.gz$//; s/\.onnx$//' | paste -sd+)"
    name="$nets/$(basename "${vnnlib%.gz}" .vnnlib)"
    res="$work/result_$n.txt"
    t0="$(date +%s.%N)"
    (cd "$SET_DIR" && bash "$HERE/run_instance.sh" v1 set "$onnx" "$vnnlib" "$res" "$timeout" \
      2>"$work/stderr_$n.txt")
    t1="$(date +%s.%N)"
    secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
    verdict="$(head -n 1 "$res" 2>/dev/null || echo error)"
    [[ -z "$verdict" ]] && verdict=error
    if [[ "$verdict" == sat ]]; then
      if ! replay="$(cd "$SET_DIR" && twinn_onnx_args "$onnx" &&
        "$TWINN_BIN" replay "$vnnlib" "${NETARGS[@]}" --witness "$res" 2>&1)"; then
        echo "  replay of $name: $replay" >&2
        verdict=bad-witness
      fi
    fi
    if [[ "$verdict" == error ]]; then
      sed 's/^/  /' "$work/stderr_$n.txt" >&2
    fi
  fi
  printf '%-48s %-12s %8s\n' "${name:-row $n}" "$verdict" "$secs"
  count[$verdict]=$((${count[$verdict]:-0} + 1))
  times+=("$secs")
  [[ "$verdict" == error || "$verdict" == bad-witness ]] && bad=$((bad + 1))
  [[ "$MAX" -gt 0 && "$n" -ge "$MAX" ]] && break
done <"$SET_DIR/instances.csv"

summary=""
for v in sat unsat unknown timeout error bad-witness; do
  summary+="$v ${count[$v]:-0}  "
done
stats="$(printf '%s\n' "${times[@]}" | sort -g |
  awk '{ t[NR] = $1; s += $1 } END { if (NR == 0) { print "0.00 0.00"; exit }
         m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.2f %.2f", s, m }')"
echo "summary: $n instances  $summary total ${stats% *} s  median ${stats#* } s"
[[ $bad -eq 0 ]]
