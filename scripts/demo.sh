#!/usr/bin/env bash
# The README's main command: install what is missing, build, lower the bundled Transformer-XL example through the
# pass pipeline, and run a bundled model with the reference executor.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh txl-opt txl-run
BIN=${TXL_BUILD_DIR:-build}/bin
EXAMPLE=models/examples/wt103_base_layer.mlir

echo "== txl-opt: one wt103-base layer ($EXAMPLE) through window-memory, decompose, fuse"
"$BIN/txl-opt" "$EXAMPLE" --txl-window-memory --txl-decompose --txl-fuse --mlir-timing -o /dev/null
echo "kernels:"
"$BIN/txl-opt" "$EXAMPLE" --txl-window-memory --txl-decompose --txl-fuse |
  grep -o 'txl.kernel "[a-z_.]*"' | sed 's/^/  /'

MODEL=tests/vectors/adaptive_div4
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "== txl-run: $MODEL (adaptive softmax, div_val 2, pre-LN), reference backend"
"$BIN/txl-run" "$MODEL" --backend=reference --tokens "$MODEL/tokens.safetensors" --tgt-len 4 \
  --out "$OUT/out.safetensors"
