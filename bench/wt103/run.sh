#!/usr/bin/env bash
# The wt103-base benchmark: compiled txl (model.so) vs. a float32 PyTorch peer.
#
#   bench/wt103/run.sh                 # 1 thread, 704 tokens (11 segments of 64)
#   TXL_BENCH_THREADS="1 2" TXL_BENCH_TOKENS=768 bench/wt103/run.sh
#   TXL_BENCH_TXLC_FLAGS="--no-kv-cache --no-hoist" bench/wt103/run.sh   # the original algorithm
#   TXL_BENCH_ARGS=--no-log-probs bench/wt103/run.sh     # hidden states only, every segment
#
# Everything it makes (weights ~600 MB, model.so, logs, an OpenBLAS copy) goes to
# ${TXL_BENCH_DIR:-/tmp/txl-bench}, never into the repository. Results: docs/PERF.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${TXL_BENCH_DIR:-/tmp/txl-bench}
BUILD=${TXL_BUILD_DIR:-$ROOT/build}
CONFIG=$ROOT/models/configs/wt103-base/config.json
PY=/usr/bin/python3                    # Debian's, with torch
TOKENS=${TXL_BENCH_TOKENS:-704}
TXLC_FLAGS=${TXL_BENCH_TXLC_FLAGS:-}
# One compiled model per flag set.
SO=$DIR/model${TXLC_FLAGS:+$(echo "$TXLC_FLAGS" | tr -c 'a-z0-9\n' '_')}.so
THREADS=${TXL_BENCH_THREADS:-1}
mkdir -p "$DIR"

[ -x "$BUILD/bin/txlc" ] || ninja -C "$BUILD" -j2 txlc txl-run

if [ ! -f "$DIR/model.safetensors" ]; then
  "$PY" "$ROOT/bench/wt103/make_weights.py" "$CONFIG" "$DIR/model.safetensors" --seed 0
fi

# Compile (timed) unless a model.so newer than txlc and the config is there.
if [ ! -f "$SO" ] || [ "$BUILD/bin/txlc" -nt "$SO" ] \
   || [ "$CONFIG" -nt "$SO" ] || [ -n "${TXL_BENCH_RECOMPILE:-}" ]; then
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$BUILD/bin/txlc" "$CONFIG" -o "$SO.new" --batch 1 --tgt-len 64 $TXLC_FLAGS
  end=$(date +%s.%N)
  mv "$SO.new" "$SO"
  echo "txlc: $(echo "$end - $start" | bc) s wall" | tee "$DIR/compile-time.txt"
else
  echo "txlc: $SO up to date ($(cat "$DIR/compile-time.txt" 2>/dev/null || echo 'compile time not recorded'))"
fi

# The peer needs an optimised BLAS. Debian's torch calls libblas.so.3; where that is the
# reference BLAS (~1-4 GFLOP/s), use OpenBLAS from the Debian package, unpacked into $DIR
# (no system change), through LD_LIBRARY_PATH for the peer's process only.
BLAS=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 || true)
PEER_LD=""
case "$BLAS" in
  *openblas*|*blis*|*mkl*) ;;
  *)
    OB=$DIR/openblas/root/usr/lib/x86_64-linux-gnu/openblas-pthread
    if [ ! -f "$OB/libblas.so.3" ]; then
      mkdir -p "$DIR/openblas"
      (cd "$DIR/openblas" && apt-get download libopenblas0-pthread >/dev/null 2>&1 \
        && dpkg -x libopenblas0-pthread_*.deb root)
    fi
    PEER_LD=$OB
    echo "peer BLAS: system libblas.so.3 is $BLAS; using OpenBLAS from $OB"
    ;;
esac

for t in $THREADS; do
  echo "=== $t thread(s) ==="
  env LD_LIBRARY_PATH="$PEER_LD${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      HL_NUM_THREADS=$t OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX \
      OMP_NUM_THREADS=$t \
      "$PY" "$ROOT/bench/wt103/bench.py" --so "$SO" \
      --weights "$DIR/model.safetensors" --config "$CONFIG" --tokens "$TOKENS" \
      --threads "$t" --which "${TXL_BENCH_WHICH:-torch,txl}" --hidden-only \
      ${TXL_BENCH_ARGS:-} --json "$DIR/result-$t.json" \
    | tee "$DIR/bench-$t.log"
done
