#!/usr/bin/env bash
# A fuzz campaign: builds tests/fuzz's libFuzzer targets with clang-19 (ASan +
# UBSan, libFuzzer's coverage) into build-fuzz/ and runs one of them.
#
#   scripts/fuzz.sh TARGET [SECONDS]     TARGET: safetensors config tokens
#                                        vocabulary schedule mlir (default 600 s)
#   scripts/fuzz.sh --build              only build every target
#
# New inputs go to build-fuzz/fuzz-work/TARGET/corpus (the committed seeds in
# tests/fuzz/corpus are read, never written); a crash is written to
# build-fuzz/fuzz-work/TARGET/crash-*: fix it and copy the file into
# tests/fuzz/crashes/fuzz-TARGET/, where ctest's fuzz.replay.* replays it.
# Extra libFuzzer flags: TXL_FUZZ_FLAGS="-jobs=2 -workers=2".
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${TXL_FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${TXL_JOBS:-$(nproc)}
TARGETS=(safetensors config tokens vocabulary schedule mlir)
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}

usage() {
  echo "usage: scripts/fuzz.sh TARGET [SECONDS] | --build   (TARGET: ${TARGETS[*]})" >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
target=${1#fuzz-}
if [[ $target != --build ]] && [[ " ${TARGETS[*]} " != *" $target "* ]]; then
  usage
fi
seconds=${2:-600}

if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DTXL_FUZZ=ON -DTXL_BUILD_BENCHMARKS=OFF
fi
if [[ $target == --build ]]; then
  ninja -C "$BUILD_DIR" -j "$JOBS" txl-fuzzers
  exit 0
fi
ninja -C "$BUILD_DIR" -j "$JOBS" "fuzz-$target"

work="$BUILD_DIR/fuzz-work/$target"
mkdir -p "$work/corpus"
# -timeout: a slow input is a finding (a hang); -rss_limit_mb: so is one that
# needs more memory than any valid input of that size would.
exec "$BUILD_DIR/bin/fuzz-$target" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -dict="tests/fuzz/dict/fuzz-$target.dict" \
  -artifact_prefix="$work/" -print_final_stats=1 \
  ${TXL_FUZZ_FLAGS:-} \
  "$work/corpus" "tests/fuzz/corpus/fuzz-$target"
