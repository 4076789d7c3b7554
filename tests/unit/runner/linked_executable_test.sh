#!/bin/bash
# The reference model linked into an executable with libTxlExecutableSupport.a
# (as txlc --emit=exe links one) takes txl-run's flags and gives txl-run's
# results: tokens, text scoring, generation, weights and vocabulary beside it.
#   linked_executable_test.sh EXE SOURCE_DIR TXL_RUN WORK_DIR
set -u
EXE=$1 SRC=$2 TXL_RUN=$3 WORK=$4
VECTORS=$SRC/tests/vectors
DEMO=$SRC/models/demo
NAME=$(basename "$EXE")
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect_in OUTPUT TEXT: OUTPUT contains TEXT.
expect_in() {
  if [[ "$1" != *"$2"* ]]; then fail "expected '$2' in: $1"; fi
}

rm -rf "$WORK" && mkdir -p "$WORK"

# Help, and no model argument.
out=$("$EXE" --help 2>&1) || fail "--help exits non-zero"
expect_in "$out" "usage: $NAME (--tokens FILE"
expect_in "$out" "--generate N"
[[ "$out" == *MODEL* ]] && fail "an executable has no MODEL argument"

# No LLVM, MLIR or Halide at run time.
if ldd "$EXE" | grep -Ei 'llvm|mlir|halide'; then fail "links LLVM/MLIR/Halide"; fi

# Tokens: the numbers of tests/lit/txl-run/compiled-reference-model.test.
export TXL_REFERENCE_MODEL_DIR=$VECTORS/adaptive_div4 TXL_REFERENCE_MODEL_BATCH=2 TXL_REFERENCE_MODEL_TGT_LEN=4
out=$("$EXE" --tokens "$VECTORS/adaptive_div4/tokens.safetensors" \
  --weights "$VECTORS/adaptive_div4/model.safetensors" --out "$WORK/div4.safetensors" --log-probs 2>&1) \
  || fail "tokens mode: $out"
expect_in "$out" "$NAME: 2 x 14 tokens in 4 segment(s) of 4 (compiled backend,"
expect_in "$out" "mean next-token loss 8.526601 nats, perplexity 5047.2606, 12.3013 bits/token"
out=$(python3 "$SRC/tests/lit/txl-run/Inputs/safetensors_tool.py" compare \
  "$VECTORS/adaptive_div4/expected.safetensors" "$WORK/div4.safetensors" 1e-4 hidden log_probs nll mems) \
  || fail "outputs differ from the PyTorch vectors: $out"

# Weights beside the executable, or a message naming the file it looked for.
mkdir -p "$WORK/deployed"
cp "$EXE" "$WORK/deployed/model-exe"
out=$("$WORK/deployed/model-exe" --tokens "$VECTORS/adaptive_div4/tokens.safetensors" 2>&1) \
  && fail "ran without weights"
expect_in "$out" "model-exe: error: $WORK/deployed/model.safetensors: cannot open"
cp "$VECTORS/adaptive_div4/model.safetensors" "$WORK/deployed/"
out=$("$WORK/deployed/model-exe" --tokens "$VECTORS/adaptive_div4/tokens.safetensors" 2>&1) \
  || fail "weights beside: $out"
expect_in "$out" "mean next-token loss 8.526601 nats"

# Text modes need batch 1.
out=$("$WORK/deployed/model-exe" --prompt "abc" 2>&1) && fail "text on batch 2"
expect_in "$out" "model-exe: error: $WORK/deployed/model-exe was compiled for batch 2; --text and --prompt run one stream"

# Text on the demo model: the vocabulary embedded in the model (the reference
# model exports the folder's vocab.txt), the bpc of txl-run's reference backend.
export TXL_REFERENCE_MODEL_DIR=$DEMO TXL_REFERENCE_MODEL_BATCH=1
unset TXL_REFERENCE_MODEL_TGT_LEN
head -c 1000 "$DEMO/heldout.txt" > "$WORK/part.txt"
exe_bpc=$("$EXE" --weights "$DEMO/model.safetensors" --text "$WORK/part.txt" 2>&1) || fail "text: $exe_bpc"
ref_bpc=$("$TXL_RUN" "$DEMO" --text "$WORK/part.txt" 2>&1) || fail "txl-run text: $ref_bpc"
expect_in "$exe_bpc" "$NAME: scored 1,000 characters in 16 segments of 64 (compiled backend,"
exe_line=$(grep "bits/char" <<<"$exe_bpc")
ref_line=$(grep "bits/char" <<<"$ref_bpc")
[[ -n "$exe_line" && "$exe_line" == "$ref_line" ]] || fail "bpc differs: '$exe_line' vs '$ref_line'"

# Greedy generation: the same text as txl-run's reference backend.
exe_text=$("$EXE" --weights "$DEMO/model.safetensors" --prompt "In the beginning" --generate 40 --temperature 0 2>/dev/null) \
  || fail "generate"
ref_text=$("$TXL_RUN" "$DEMO" --prompt "In the beginning" --generate 40 --temperature 0 2>/dev/null)
[[ "$exe_text" == "In the beginning"* && "$exe_text" == "$ref_text" ]] \
  || fail "greedy text differs: '$exe_text' vs '$ref_text'"

# vocab.txt beside the executable when given no embedded one: --vocab wins.
out=$("$EXE" --weights "$DEMO/model.safetensors" --prompt "abc" --vocab "$WORK/none.txt" 2>&1) && fail "missing --vocab"
expect_in "$out" "$NAME: error: $WORK/none.txt: cannot open the vocabulary file"

# Flag errors.
out=$("$EXE" 2>&1) && fail "ran with no mode"
expect_in "$out" "$NAME: error: nothing to run: give --tokens FILE, --text FILE or --prompt TEXT"
out=$("$EXE" --backend=reference --prompt a 2>&1) && fail "--backend=reference"
expect_in "$out" "$NAME: error: --backend=reference runs a model directory; $EXE is a compiled model (backend: compiled)"

if [[ $failures -gt 0 ]]; then echo "$failures failure(s)"; exit 1; fi
echo "all checks passed"
