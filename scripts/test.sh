#!/usr/bin/env bash
# The README's test command: install what is missing, build everything, run the whole suite (lit + GoogleTest) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/setup.sh
bash scripts/build.sh
cd "${TXL_BUILD_DIR:-build}"
ctest --output-on-failure -j "${TXL_JOBS:-$(nproc)}"
echo "test.sh: done in $(( $(date +%s) - start )) s"
