#!/usr/bin/env bash
# Configures and builds txl into build/ (ccache + ninja). Extra arguments are ninja targets.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${TXL_BUILD_DIR:-build}
JOBS=${TXL_JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
fi
ninja -C "$BUILD_DIR" -j "$JOBS" "$@"
