#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS]: builds every tests/fuzz/fuzz_*.c target with clang
# (-DTWINN_FUZZ=ON, build dir build-fuzz; the libraries too are built with coverage
# instrumentation so libFuzzer sees inside them) and runs each for SECONDS (default 25) on a
# temp copy of its seed corpus (the repository's is never modified). For target fuzz_X the
# corpus is tests/fuzz/corpus_X/ (or corpus/X/) and the dictionary tests/fuzz/X.dict if present.
# A crashing input is kept as <build dir>/fuzz_X-crash-<hash>; any crash or UB fails the run.
# Skips, with a message, when clang or fuzz targets are absent.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECS="${1:-25}"
BUILD="${TWINN_FUZZ_BUILD:-build-fuzz}" # relative to the repository, or absolute
[[ "$BUILD" == /* ]] || BUILD="$REPO/$BUILD"

shopt -s nullglob
targets=("$REPO"/tests/fuzz/fuzz_*.c)
if ((${#targets[@]} == 0)); then
  echo "fuzz: no tests/fuzz/fuzz_*.c targets; skipped"
  exit 0
fi
CLANG="$(command -v clang || command -v clang-14 || true)"
if [[ -z "$CLANG" ]]; then
  echo "fuzz: clang not found; skipped"
  exit 0
fi

names=()
for src in "${targets[@]}"; do names+=("$(basename "$src" .c)"); done
cmake -S "$REPO" -B "$BUILD" -DCMAKE_C_COMPILER="$CLANG" -DCMAKE_BUILD_TYPE=Debug \
  -DTWINN_FUZZ=ON -DTWINN_TESTS=OFF \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
for name in "${names[@]}"; do
  cmake --build "$BUILD" -j "$(nproc)" --target "$name"
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for name in "${names[@]}"; do
  corpus="$work/$name"
  mkdir -p "$corpus"
  short="${name#fuzz_}"
  for seeds in "$REPO/tests/fuzz/corpus_$short" "$REPO/tests/fuzz/corpus/$short"; do
    if [[ -d "$seeds" ]]; then cp -r "$seeds/." "$corpus/"; fi
  done
  dict=()
  if [[ -f "$REPO/tests/fuzz/$short.dict" ]]; then dict=("-dict=$REPO/tests/fuzz/$short.dict"); fi
  echo "fuzz: $name for $SECS s"
  (cd "$work" && "$BUILD/$name" "${dict[@]}" -max_total_time="$SECS" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$BUILD/$name-" "$corpus")
done
echo "fuzz: all targets ran without a crash"
