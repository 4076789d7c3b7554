#!/usr/bin/env bash
# Installs every Debian package txl needs to build, test and benchmark. Idempotent; fast when all is present.
set -euo pipefail

PACKAGES=(
  # Build
  cmake ninja-build ccache g++ pkg-config
  # LLVM/MLIR 19 (+ what LLVM's CMake config looks for)
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools
  libncurses-dev libzstd-dev zlib1g-dev libxml2-dev libedit-dev
  # Halide 14 (kernel generator; links its own LLVM 14)
  libhalide14-0-dev
  # Fuzz targets (libFuzzer, ASan + UBSan runtimes): scripts/fuzz.sh
  clang-19 libclang-rt-19-dev
  # Tests, benchmarks, formats
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev nlohmann-json3-dev
  # txl-tune's databases: SQLite (above) and PostgreSQL (client library; the
  # server for tuning across machines and for its test)
  libpq-dev postgresql
  # Test vectors (independent PyTorch implementation) and the demo model's
  # training — Debian's python, not a pyenv one
  python3 python3-torch python3-numpy
  # GPU kernels checked without a GPU: OpenCL on the CPU (PoCL) runs the
  # host-opencl vector tests (tests/lit/gpu, docs/GPU.md)
  pocl-opencl-icd ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-headers clinfo
  # The demo model's corpus: the King James Bible (public domain); `bible` decodes it
  bible-kjv bible-kjv-text
)

missing=()
for p in "${PACKAGES[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
