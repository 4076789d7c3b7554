#!/usr/bin/env bash
# The sanitizer job (docs/RELIABILITY.md), called by scripts/test.sh:
#
#   1. build-sanitize/ with -DTXL_SANITIZE=address,undefined (gcc): the
#      runtime, runner, model spec, reference executor and safetensors code,
#      their unit tests, the stress test, the fuzz replays and txl-run; runs
#      them and the txl-run lit tests;
#   2. build-tsan/ with -DTXL_SANITIZE=thread: the runtime's multi-session
#      tests (Threads.*, Session.Interleaved*, the stress test).
#
# Any report fails the run (-fno-sanitize-recover=all, halt_on_error).
# TXL_SANITIZE_STAGES="asan tsan" picks the stages; TXL_JOBS the parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${TXL_JOBS:-$(nproc)}
STAGES=${TXL_SANITIZE_STAGES:-asan tsan}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp}
start=$(date +%s)
# The stress test's compiled model comes from the normal build (a sanitized
# build has no txlc); scripts/test.sh builds it before calling this.
compiled="${TXL_BUILD_DIR:-build}/tests/unit/runtime/compiled/plain_postln.so"
if [[ -f "$compiled" ]]; then
  export TXL_STRESS_COMPILED_MODEL="$(realpath "$compiled")"
else
  echo "sanitize: $compiled missing (build the normal tree first):" \
       "Stress.CompiledModelSessionsOnManyThreads is skipped" >&2
fi

# -O1: gcc at -O3 with UBSan spends minutes on one nlohmann-json file; -O1
# is the sanitizers' usual level and still inlines enough to run the tests
# quickly.
configure() { # DIR SANITIZERS
  if [[ ! -f "$1/build.ninja" ]]; then
    cmake -G Ninja -S . -B "$1" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
      -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" \
      -DTXL_SANITIZE="$2" -DTXL_BUILD_BENCHMARKS=OFF >/dev/null
  fi
}

# The unit tests of the code the sanitizers watch; each binary runs whole.
UNIT_TESTS=(TxlSupportTests TxlModelSpecTests TxlRuntimeTests
            TxlRuntimeStressTests TxlRunnerTests TxlReferenceKernelsTests)
# fuzz-mlir's replay needs the passes (a large build): the clang fuzz build
# runs it under ASan + UBSan (scripts/fuzz.sh), the normal suite replays it.
FUZZ_REPLAYS=(safetensors config tokens vocabulary schedule)

if [[ " $STAGES " == *" asan "* ]]; then
  dir=build-sanitize
  configure "$dir" address,undefined
  ninja -C "$dir" -j "$JOBS" "${UNIT_TESTS[@]}" txl-run txl_reference_model \
    $(printf 'fuzz-%s-replay ' "${FUZZ_REPLAYS[@]}")
  echo "sanitize: asan+ubsan build done in $(( $(date +%s) - start )) s"
  for test in "${UNIT_TESTS[@]}"; do
    "$dir/bin/$test" --gtest_brief=1
  done
  for target in "${FUZZ_REPLAYS[@]}"; do
    "$dir/bin/fuzz-$target-replay" "tests/fuzz/corpus/fuzz-$target" \
      -- "tests/fuzz/crashes/fuzz-$target"
  done
  # compiled-demo.test links an executable with txlc --emit=exe, whose
  # archive would carry ASan's instrumentation without its runtime; it runs
  # in the normal suite.
  /usr/bin/python3 /usr/lib/llvm-19/build/utils/lit/lit.py -q \
    --filter-out 'compiled-demo' "$dir/tests/lit/txl-run"
  echo "sanitize: asan+ubsan stage passed at $(( $(date +%s) - start )) s"
fi

if [[ " $STAGES " == *" tsan "* ]]; then
  dir=build-tsan
  configure "$dir" thread
  ninja -C "$dir" -j "$JOBS" TxlRuntimeTests TxlRuntimeStressTests \
    txl_reference_model
  "$dir/bin/TxlRuntimeTests" --gtest_brief=1 \
    --gtest_filter='Threads.*:Session.Interleaved*:KernelErrors.StayWithTheThreadThatFailed'
  # The leak cycles are one thread: nothing for TSan (LeakSanitizer ran them).
  "$dir/bin/TxlRuntimeStressTests" --gtest_brief=1 --gtest_filter='-*Leak*'
  echo "sanitize: tsan stage passed at $(( $(date +%s) - start )) s"
fi
echo "sanitize.sh: done in $(( $(date +%s) - start )) s"
