#!/usr/bin/env bash
# The README's test command: install what is missing, build everything, run the whole suite (lit + GoogleTest) through ctest, then the sanitizer job (scripts/sanitize.sh; TXL_SKIP_SANITIZE=1 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/setup.sh
bash scripts/build.sh
cd "${TXL_BUILD_DIR:-build}"
ctest --output-on-failure -j "${TXL_JOBS:-$(nproc)}"
cd - >/dev/null
# The sanitizer job: ASan + UBSan, then TSan, over the runtime, runner, model
# spec, reference and safetensors code (docs/RELIABILITY.md).
if [[ "${TXL_SKIP_SANITIZE:-0}" != 1 ]]; then
  bash scripts/sanitize.sh
fi
echo "test.sh: done in $(( $(date +%s) - start )) s"
