#!/usr/bin/env bash
# The README's main command: install what is missing, build, and run the txl pipeline on the bundled Transformer-XL example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh txl-opt
BIN=${TXL_BUILD_DIR:-build}/bin
EXAMPLE=models/examples/wt103_base_layer.mlir
echo "== txl-opt: parse, verify and print $EXAMPLE (one wt103-base layer + its segment scan)"
"$BIN/txl-opt" "$EXAMPLE" --mlir-timing
