#!/usr/bin/env bash
# tests/run_all.sh: the whole test suite from a clean clone. Installs what is missing and builds
# (vnncomp/install_tool.sh), runs ctest of the normal build (unit + e2e), then ctest of an
# ASan/UBSan build (build-asan), then a short fuzz run of every fuzz target if clang is there
# (tests/fuzz/run.sh). Stops at the first failing stage; exit status 0 only if all pass.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOBS="$(nproc)"

echo "== install and build (build/)"
bash "$REPO/vnncomp/install_tool.sh" v1

echo "== unit and end-to-end tests (build/)"
cmake --build "$REPO/build" -j "$JOBS"
ctest --test-dir "$REPO/build" --output-on-failure -j "$JOBS"

echo "== sanitizer build and tests (build-asan/)"
cmake -S "$REPO" -B "$REPO/build-asan" -DCMAKE_BUILD_TYPE=Debug -DTWINN_SANITIZE=ON
cmake --build "$REPO/build-asan" -j "$JOBS"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$REPO/build-asan" --output-on-failure -j "$JOBS"

echo "== fuzzing (tests/fuzz/run.sh)"
bash "$REPO/tests/fuzz/run.sh"

echo "== all tests passed"
