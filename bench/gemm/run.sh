#!/usr/bin/env bash
# txl's GEMM kernels (packed weights, txl-tile's schedules, compiled ahead of
# time) against oneDNN's sgemm and matmul primitive, 1 and 2 threads.
#
#   bench/gemm/run.sh [bench-gemm options...]     e.g. --filter=wt103.ffn
#
# oneDNN is a benchmark peer, not a dependency of txl: libdnnl-dev is
# installed here (apt-get, with sudo when not root) and bench-gemm is only
# built when CMake finds it. Environment: TXL_BUILD_DIR (default build),
# TXL_BENCH_THREADS (default "1 2"). With 2 threads the timings are wall
# time on a machine that may be shared: more, shorter rounds, best kept.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${TXL_BUILD_DIR:-$root/build}"
threads="${TXL_BENCH_THREADS:-1 2}"

if [ ! -f /usr/include/dnnl.hpp ] && [ ! -f /usr/include/oneapi/dnnl/dnnl.hpp ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libdnnl-dev
fi

cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" bench-gemm

for t in $threads; do
  if [ "$t" = 1 ]; then
    "$build/bin/bench-gemm" --threads=1 "$@"
  else
    "$build/bin/bench-gemm" --threads="$t" --rounds=21 --min-time=0.05 "$@"
  fi
done
