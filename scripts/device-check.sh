#!/usr/bin/env bash
# The GPU run of txl, prepared on the CPU machine and run on a GPU machine in one go
# (docs/GPU.md). Two halves:
#
#   scripts/device-check.sh build [DIR]   # here (CPU machine, txl built): compiles every
#                                         # vector case and wt103-base (batch 1 and 8) for
#                                         # CUDA into DIR (default build/device-check, a few MiB)
#   scripts/device-check.sh run [DIR]     # on the GPU machine (CUDA driver, python3 with
#                                         # torch and numpy; no LLVM, Halide or network):
#                                         # 1. every vector case vs. the PyTorch vectors (1e-4)
#                                         # 2. wt103-base, random weights made there with numpy,
#                                         #    batch 1 and 8: txl vs. the PyTorch eager peer
#                                         #    (txl_torch.py, float32) on the same GPU in one
#                                         #    process, TF32 off and on; tokens/s and diffs
#
# The run half needs only the repository's Python files and DIR: carry DIR to the GPU
# machine. Results: DIR/results-*.json and the log; the GPU's name is printed. Exit status
# non-zero if a vector case does not match or anything fails. Budget: under 10 minutes
# (DEVICE_CHECK_TOKENS sets the wt103-base stream length per batch row; default 4 segments
# after the memory is full).
#
#   DEVICE_CHECK_TARGET   (build) the CUDA target, default host-cuda-cuda_capability_86;
#                         host-opencl builds the same set for an OpenCL device (PoCL here)
#   PYTHON                (run) the interpreter with torch, default python3
#   DEVICE_CHECK_MODEL    (both) a models/configs name instead of wt103-base, or a
#                         vector case's config.json for a quick rehearsal (build and run
#                         must agree)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:-}
DIR=${2:-$ROOT/build/device-check}
TARGET=${DEVICE_CHECK_TARGET:-host-cuda-cuda_capability_86}
MODEL=${DEVICE_CHECK_MODEL:-wt103-base}
if [[ $MODEL == *.json ]]; then
  CONFIG=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")
  MODEL=$(basename "$(dirname "$CONFIG")")
else
  CONFIG=$ROOT/models/configs/$MODEL/config.json
fi
[ -f "$CONFIG" ] || { echo "device-check: no $CONFIG" >&2; exit 1; }
# (case, segment length) as the vector tests compile them (tests/lit/gpu).
CASES="adaptive_div1:5 adaptive_div4:4 long_memory_clamp:8 plain_postln:5
       plain_sameln_clamp:6 prelnorm_shared_r:5 untied_all:4"

die() { echo "device-check: $*" >&2; exit 1; }

build() {
  local txlc=${TXL_BUILD_DIR:-$ROOT/build}/bin/txlc
  [ -x "$txlc" ] || die "no $txlc: build txl first (scripts/build.sh)"
  rm -rf "$DIR.new" && mkdir -p "$DIR.new/vectors"
  for entry in $CASES; do
    local case=${entry%%:*} tgt=${entry##*:}
    echo "device-check: $case for $TARGET"
    "$txlc" "$ROOT/tests/vectors/$case" --target="$TARGET" --batch 2 --tgt-len "$tgt" \
      -o "$DIR.new/vectors/$case.so"
  done
  for batch in 1 8; do
    echo "device-check: $MODEL batch $batch for $TARGET"
    "$txlc" "$CONFIG" --target="$TARGET" --batch "$batch" -o "$DIR.new/$MODEL-b$batch.so"
  done
  echo "$TARGET" > "$DIR.new/target.txt"
  rm -rf "$DIR" && mv "$DIR.new" "$DIR"
  du -sh "$DIR"
}

run() {
  local py=${PYTHON:-python3}
  [ -f "$DIR/target.txt" ] || die "no $DIR/target.txt: run '$0 build $DIR' on the CPU machine first"
  "$py" -c 'import torch, numpy' 2>/dev/null || die "$py lacks torch or numpy (set PYTHON)"
  local target
  target=$(cat "$DIR/target.txt")
  if [[ $target == *cuda* ]]; then
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    "$py" -c 'import torch; assert torch.cuda.is_available(), "torch sees no CUDA GPU"; print("torch", torch.__version__, "on", torch.cuda.get_device_name(0))'
  fi
  local start=$SECONDS status=0
  echo "== vector cases ($target)"
  "$py" "$ROOT/bench/gpu/device_check.py" vectors "$DIR/vectors" "$ROOT/tests/vectors" || status=1
  echo "== vectors: $((SECONDS - start)) s"
  local tgt mem
  read -r tgt mem < <("$py" -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["tgt_len"], c["mem_len"])' "$CONFIG")
  local tokens=${DEVICE_CHECK_TOKENS:-$(( tgt * ((mem + tgt - 1) / tgt + 4) ))}
  for batch in 1 8; do
    echo "== $MODEL batch $batch, $tokens tokens per row"
    "$py" "$ROOT/bench/gpu/device_check.py" model --so "$DIR/$MODEL-b$batch.so" \
      --config "$CONFIG" --tokens "$tokens" --json "$DIR/results-$MODEL-b$batch.json" || status=1
    echo "== $((SECONDS - start)) s so far"
  done
  return $status
}

case "$MODE" in
  build) build ;;
  run) run ;;
  *) die "usage: $0 build|run [DIR]" ;;
esac
