#!/usr/bin/env bash
# bound_mid_inputs.sh TWINN REPO: see bound_mid_inputs.case. Prints `ok`.
set -euo pipefail
twinn="$1" cases="$2/tests/e2e/cases"
"$twinn" bound "$cases/mid_inputs.vnnlib" --network "f=$cases/mid_inputs_f.onnx" \
  --network "g=$cases/mid_inputs_g.onnx" --timeout 20 --json -q >b.json
# The interval ends and the verifier's questions from the JSON (see bound_ends.awk).
awk -f "$(dirname "${BASH_SOURCE[0]}")/bound_ends.awk" b.json >ends.txt
grep -q '^try null [^ ]* unsat ' ends.txt || { echo "no L-inf threshold proved"; cat ends.txt; exit 1; }
# Proved L-inf thresholds bound the upper end, which is below bisection's alone (0.0739 at
# 10 s) and not below the attained lower end.
awk '$1 == "linf" { l = $2; u = $3 }
     $1 == "try" && $2 == "null" && $4 == "unsat" && (t == "" || $3 + 0 < t + 0) { t = $3 }
     END {
       if (u + 0 > t + 0) { print "L-inf upper " u " above the proved threshold " t; exit 1 }
       if (u + 0 >= 0.07) { print "L-inf upper " u " not below 0.07"; exit 1 }
       if (l + 0 > u + 0 || l + 0 <= 0) { print "L-inf lower " l ", upper " u; exit 1 }
     }' ends.txt
echo ok
