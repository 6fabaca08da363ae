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
# Warnings are errors here, not in install_tool.sh: a VNN-COMP host with another gcc must still
# install the tool. The option is cached, so the next install_tool.sh run keeps it in build/.
cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=Release -DTWINN_WERROR=ON
cmake --build "$REPO/build" -j "$JOBS"
ctest --test-dir "$REPO/build" --output-on-failure -j "$JOBS"

echo "== sanitizer build and tests (build-asan/)"
cmake -S "$REPO" -B "$REPO/build-asan" -DCMAKE_BUILD_TYPE=Debug -DTWINN_SANITIZE=ON -DTWINN_WERROR=ON
cmake --build "$REPO/build-asan" -j "$JOBS"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$REPO/build-asan" --output-on-failure -j "$JOBS"

echo "== fuzzing (tests/fuzz/run.sh)"
# libFuzzer comes with clang (Debian clang-14 + libclang-rt-14-dev); install it if missing.
if ! command -v clang >/dev/null 2>&1 && ! command -v clang-14 >/dev/null 2>&1 ||
  ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed"; then
  SUDO=()
  if [[ "$(id -u)" -ne 0 ]]; then SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
    clang-14 libclang-rt-14-dev || echo "fuzz: could not install clang; the fuzz stage may skip"
fi
bash "$REPO/tests/fuzz/run.sh"

echo "== all tests passed"
