#!/usr/bin/env bash
# install_tool.sh v1: installs what twinn needs (Debian packages, only those missing; apt-get
# update runs once and only then) and builds twinn (Release) into <repo>/build. Idempotent:
# a second run installs nothing and rebuilds only what changed.
set -euo pipefail

if [[ "${1:-}" != "v1" ]]; then
  echo "usage: $0 v1" >&2
  exit 2
fi
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# make and libc6-dev are listed because gcc and cmake only recommend them.
PACKAGES=(libprotobuf-c-dev protobuf-c-compiler libonnx-dev libopenblas-dev libcmocka-dev
  zlib1g-dev cmake gcc make libc6-dev pkg-config libglpk-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  SUDO=()
  if [[ "$(id -u)" -ne 0 ]]; then SUDO=(sudo); fi
  echo "install_tool.sh: installing ${missing[*]}"
  "${SUDO[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=Release
# Only the tool: the tests are built by tests/run_all.sh, and VNN-COMP needs none of them.
cmake --build "$REPO/build" -j "$(nproc)" --target twinn
echo "install_tool.sh: built $REPO/build/twinn"
