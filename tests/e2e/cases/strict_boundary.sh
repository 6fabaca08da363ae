#!/usr/bin/env bash
# strict_boundary.sh TWINN REPO: on a point box, Y_f[0] takes one value v (read back from a
# witness twinn prints, %.17g when needed). `Y_f[0] > v` has no solution: never sat; `Y_f[0] >= v`
# holds at the point: never unsat. Prints `ok` or what went wrong; exit 1 on a wrong verdict.
set -euo pipefail
twinn="$1" repo="$2"
net="$repo/specs/examples/acasxu_1_1.onnx"
# A thin box (no zero-width side) around the point of point_box.vnnlib.
{
  echo '(vnnlib-version <2.0>)'
  echo '(declare-network f (declare-input X_f real [5]) (declare-output Y_f real [5]))'
  i=0
  for c in 0.1 -0.2 0.3 0.25 -0.4; do
    echo "(assert (and (>= X_f[$i] $c) (<= X_f[$i] $(awk -v c="$c" 'BEGIN { print c + 0.0001 }'))))"
    i=$((i + 1))
  done
  echo '(assert (>= Y_f[0] -1000000))'
} >thin.vnnlib
"$twinn" verify thin.vnnlib --network "f=$net" --timeout 20 >w.txt
if [[ "$(head -n 1 w.txt)" != sat ]]; then
  echo "no witness to read v from: $(head -n 1 w.txt)"
  exit 1
fi
# Fix every input at the witness's values, then compare Y_f[0] with the printed value.
mapfile -t v < <(awk '/^X_f/ { x = 1; next } /^Y_f/ { x = 0; y = 1; next } x || y { print }' w.txt)
{
  echo '(vnnlib-version <2.0>)'
  echo '(declare-network f (declare-input X_f real [5]) (declare-output Y_f real [5]))'
  for i in 0 1 2 3 4; do echo "(assert (and (>= X_f[$i] ${v[$i]}) (<= X_f[$i] ${v[$i]})))"; done
} >point.vnnlib
{ cat point.vnnlib; echo "(assert (> Y_f[0] ${v[5]}))"; } >strict.vnnlib
{ cat point.vnnlib; echo "(assert (>= Y_f[0] ${v[5]}))"; } >nonstrict.vnnlib
s="$("$twinn" verify strict.vnnlib --network "f=$net" --timeout 20 2>/dev/null | head -n 1)"
n="$("$twinn" verify nonstrict.vnnlib --network "f=$net" --timeout 20 2>/dev/null | head -n 1)"
echo "strict: $s, non-strict: $n"
[[ "$s" == unsat || "$s" == unknown || "$s" == timed-out ]] || { echo "strict answered $s"; exit 1; }
[[ "$n" == sat || "$n" == unknown || "$n" == timed-out ]] || { echo "non-strict answered $n"; exit 1; }
echo ok
