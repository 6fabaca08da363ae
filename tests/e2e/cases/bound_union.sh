#!/usr/bin/env bash
# bound_union.sh TWINN REPO: `twinn bound` over bound_union.vnnlib (3 boxes after an empty
# disjunct is skipped) against the same three boxes bounded one at a time with --box. Without a
# timeout every run is deterministic, so per output the union's upper must be >= every box's
# upper and its lower >= every box's lower (the union interval is the max of the boxes'); and
# soundly, the union's proved upper must dominate each box's attained lower. Prints `ok`.
set -euo pipefail
twinn="$1" repo="$2"
ex="$repo/specs/examples"
nets=(--network "f=$ex/acasxu_1_1.onnx" --network "g=$ex/acasxu_1_1_int8.onnx" -q --json)
common=0,0.005,0.45,0.455,-0.5,-0.495
boxes=(0.3,0.305,-0.2,-0.195,$common -0.1,-0.095,0.3,0.305,$common 0.6,0.605,0,0.005,$common)
"$twinn" bound "$repo/tests/e2e/cases/bound_union.vnnlib" "${nets[@]}" >union.json 2>union.err
grep -q '"n_boxes": 3' union.json || { echo "union: n_boxes is not 3"; exit 1; }
grep -q 'disjunct 2 .*empty' union.err || { echo "no note on the empty disjunct"; exit 1; }
# One line per output: lower upper box (the members of the objects in "outputs").
ends() {
  awk '/"outputs"/ { o = 1 } /"linf"/ { o = 0 }
       o && /"lower"/ { gsub(/,/, ""); l = $2 } o && /"upper"/ { gsub(/,/, ""); u = $2 }
       o && /"box"/ { gsub(/,/, ""); print l, u, $2 }' "$1"
}
ends union.json >union.txt
[[ "$(wc -l <union.txt)" == 5 ]] || { echo "union: expected 5 outputs"; exit 1; }
for k in 0 1 2; do
  "$twinn" bound --box "${boxes[$k]}" "${nets[@]}" >box$k.json
  ends box$k.json >box$k.txt
  # The union's point for an output from box k must not beat box k's own proved upper.
  paste union.txt box$k.txt | awk -v k="$k" '
    $1 < $4 || $2 < $5 { print "output " NR - 1 ": union [" $1 ", " $2 "] below box " k " [" $4 ", " $5 "]"; bad = 1 }
    $2 < $4 { print "output " NR - 1 ": union upper " $2 " < attained " $4 " in box " k; bad = 1 }
    $3 == k && $1 > $5 { print "output " NR - 1 ": union lower " $1 " > box " k " upper " $5; bad = 1 }
    END { exit bad }'
done
echo ok
