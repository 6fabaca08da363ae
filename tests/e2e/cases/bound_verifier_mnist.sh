#!/usr/bin/env bash
# bound_verifier_mnist.sh TWINN SHARED: see bound_verifier_mnist.case. Prints `ok`.
set -euo pipefail
twinn="$1" shared="$2"
set_dir="$shared/benchmarks/sets/mnist_fp16_eps"
start=$(date +%s)
"$twinn" bound "$set_dir/vnnlib/mnist_256x2_fp16_img4_eps.vnnlib" \
  --network "f=$shared/benchmarks/onnx/mnist/mnist_256x2.onnx" \
  --network "g=$shared/benchmarks/onnx/mnist_fp16/mnist_256x2_fp16.onnx" \
  --timeout 12 --json -q >b.json
(($(date +%s) - start <= 20)) || { echo "took over 20 s with --timeout 12"; exit 1; }
# The interval ends and the verifier's questions from the JSON (see bound_ends.awk).
awk -f "$(dirname "${BASH_SOURCE[0]}")/bound_ends.awk" b.json >ends.txt
grep -q '^try null [^ ]* unsat ' ends.txt || { echo "no L-inf threshold proved"; cat ends.txt; exit 1; }
grep -q '^try [0-9]* [^ ]* unsat ' ends.txt || { echo "no output threshold proved"; cat ends.txt; exit 1; }
# An output's upper end is the least of the thresholds proved and the bounds certified by the
# questions about it (its own and the L-inf ones), never above any of them.
awk '$1 == "linf" { ll = $2; lu = $3 }
     $1 == "out" { n++; if ($2 > $3) { print "output " n - 1 ": lower " $2 " > upper " $3; bad = 1 }
                   ou[n - 1] = $3 }
     $1 == "try" && $4 == "unsat" { k++; to[k] = $2; tt[k] = $3; tu[k] = 1 }
     $1 == "try" && $4 != "unsat" && $5 != "null" { k++; to[k] = $2; tt[k] = $5; tu[k] = 0 }
     END {
       if (n != 10) { print "expected 10 outputs, got " n; bad = 1 }
       if (ll + 0 > lu + 0) { print "L-inf lower " ll " > upper " lu; bad = 1 }
       for (i = 0; i < n; i++) {
         if (ou[i] + 0 > max + 0) max = ou[i]
         least = ""; own = 0
         for (j = 1; j <= k; j++)
           if ((to[j] == "null" || to[j] == i) && (least == "" || tt[j] + 0 < least + 0)) least = tt[j]
         for (j = 1; j <= k; j++) if (to[j] == i && tu[j]) own = 1
         if (least != "" && ou[i] + 0 > least + 0) { print "output " i ": upper " ou[i] " above a proved end " least; bad = 1 }
         if (own && ou[i] != least) { print "output " i ": upper " ou[i] " is not its least proved end " least; bad = 1 }
       }
       if (lu != max) { print "L-inf upper " lu " is not the max of the outputs upper ends " max; bad = 1 }
       exit bad }' ends.txt
echo ok
