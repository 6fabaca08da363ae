#!/usr/bin/env bash
# tests/e2e/run.sh TWINN_BIN SHARED_DIR [CASE...]: end-to-end tests. Each tests/e2e/cases/*.case
# carries its command and its expected verdict or error; see tests/e2e/cases/README.md for the
# keys. Time limits are generous (never tuned to this machine). Cases marked `slow: yes` are
# skipped when TWINN_E2E_QUICK=1 or the binary is built with a sanitizer (they would only
# measure the sanitizer). Prints `N passed, N failed` and exits 1 on any failure.
set -uo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 TWINN_BIN SHARED_DIR [CASE...]" >&2
  exit 2
fi
TWINN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
SHARED="$(cd "$2" && pwd)"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CASES="$REPO/tests/e2e/cases"
export TWINN_BIN="$TWINN" # run_instance.sh runs this binary
shift 2
if [[ $# -gt 0 ]]; then
  files=()
  for c in "$@"; do files+=("$CASES/${c%.case}.case"); done
else
  files=("$CASES"/*.case)
fi

passed=0
failed=0
skipped=0
quick="${TWINN_E2E_QUICK:-0}"
if ldd "$TWINN" 2>/dev/null | grep -q 'lib[at]san\|libubsan'; then quick=1; fi

subst() {
  local s="$1"
  s="${s//@TWINN@/$TWINN}"
  s="${s//@REPO@/$REPO}"
  s="${s//@SHARED@/$SHARED}"
  s="${s//@TMP@/$tmp}"
  printf '%s' "$s"
}

# Runs one case file; prints why it failed on stdout and returns 1 if it did.
run_case() {
  local file="$1" key val args="" cmd="" verdict="" exit_want="" max_secs=120 replay=no
  local -a setup=() want_err=() want_out=() want_file=()
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    key="${line%%:*}"
    val="${line#*:}"
    val="${val# }"
    case "$key" in
    args) args="$val" ;;
    cmd) cmd="$val" ;;
    setup) setup+=("$val") ;;
    expect) verdict="$val" ;;
    expect-exit) exit_want="$val" ;;
    expect-stderr) want_err+=("$val") ;;
    expect-stdout) want_out+=("$val") ;;
    expect-file) want_file+=("$val") ;;
    max-seconds) max_secs="$val" ;;
    replay) replay="$val" ;;
    slow) ;;
    *)
      echo "unknown key '$key'"
      return 1
      ;;
    esac
  done <"$file"
  [[ -z "$exit_want" ]] && exit_want=0
  local s
  for s in "${setup[@]}"; do
    if ! (cd "$tmp" && eval "$(subst "$s")") >"$tmp/setup.log" 2>&1; then
      echo "setup failed: $s"
      sed 's/^/    /' "$tmp/setup.log"
      return 1
    fi
  done
  local t0 t1 rc
  t0="$(date +%s.%N)"
  if [[ -n "$cmd" ]]; then
    (cd "$tmp" && eval "$(subst "$cmd")") >"$tmp/stdout" 2>"$tmp/stderr"
  else
    local -a argv
    eval "argv=($(subst "$args"))"
    (cd "$tmp" && "$TWINN" "${argv[@]}") >"$tmp/stdout" 2>"$tmp/stderr"
  fi
  rc=$?
  t1="$(date +%s.%N)"
  local secs
  secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
  local why=""
  [[ "$rc" != "$exit_want" ]] && why+="exit status $rc, expected $exit_want; "
  if [[ -n "$verdict" && "$(head -n 1 "$tmp/stdout")" != "$verdict" ]]; then
    why+="verdict '$(head -n 1 "$tmp/stdout")', expected '$verdict'; "
  fi
  for s in "${want_err[@]}"; do
    grep -qF -- "$(subst "$s")" "$tmp/stderr" || why+="stderr lacks '$s'; "
  done
  for s in "${want_out[@]}"; do
    grep -qF -- "$(subst "$s")" "$tmp/stdout" || why+="stdout lacks '$s'; "
  done
  for s in "${want_file[@]}"; do
    local path first
    path="$(subst "${s%% *}")"
    first="${s#* }"
    [[ "$(head -n 1 "$path" 2>/dev/null)" == "$first" ]] ||
      why+="$path starts with '$(head -n 1 "$path" 2>/dev/null)', expected '$first'; "
  done
  if awk -v a="$secs" -v b="$max_secs" 'BEGIN { exit !(a > b) }'; then
    why+="took $secs s, limit $max_secs s; "
  fi
  if [[ "$replay" == yes && -z "$why" ]]; then
    local -a rargv
    eval "rargv=($(subst "$args"))"
    rargv[0]=replay
    if ! "$TWINN" "${rargv[@]}" --witness "$tmp/stdout" >"$tmp/replay" 2>&1; then
      why+="witness does not replay: $(head -n 1 "$tmp/replay"); "
    fi
  fi
  if [[ -n "$why" ]]; then
    echo "$why"
    echo "    stdout: $(head -c 300 "$tmp/stdout" | head -n 3 | tr '\n' '|')"
    echo "    stderr: $(head -c 300 "$tmp/stderr" | head -n 3 | tr '\n' '|')"
    return 1
  fi
  echo "ok ($secs s)"
  return 0
}

for f in "${files[@]}"; do
  name="$(basename "$f" .case)"
  if [[ "$quick" == 1 ]] && grep -q '^slow: *yes' "$f"; then
    skipped=$((skipped + 1))
    printf 'SKIP %-32s slow\n' "$name"
    continue
  fi
  tmp="$(mktemp -d)"
  if result="$(run_case "$f")"; then
    passed=$((passed + 1))
    printf 'PASS %-32s %s\n' "$name" "$result"
  else
    failed=$((failed + 1))
    printf 'FAIL %-32s %s\n' "$name" "$result"
  fi
  rm -rf "$tmp"
done
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
