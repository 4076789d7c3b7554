#!/usr/bin/env bash
# Compiled txl (model.so) vs. a float32 PyTorch peer running the original algorithm, on
# one of the published configurations, in one process, same threads.
#
#   bench/model/run.sh                         # wt103-base, batch 1, 1 thread
#   TXL_BENCH_MODEL=enwik8-base bench/model/run.sh
#   TXL_BENCH_BATCH=8 TXL_BENCH_THREADS="1 2" bench/model/run.sh
#   TXL_BENCH_TXLC_FLAGS="--no-kv-cache --no-hoist" bench/model/run.sh   # txl, original algorithm
#   TXL_BENCH_ARGS=--no-log-probs bench/model/run.sh     # hidden states only, every segment
#   TXL_BENCH_WHICH=txl bench/model/run.sh               # one side only
#
# Tokens default to three segments more than it takes to fill the memory (wt103-base: 832,
# enwik8-base: 2400). Everything it makes (weights, model.so, logs, results, an OpenBLAS
# copy) goes to ${TXL_BENCH_DIR:-/tmp/txl-bench}/MODEL, never into the repository.
# bench/model/plot.py draws time per token against memory length from the results.
# Results: docs/PERF.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=${TXL_BENCH_MODEL:-wt103-base}
DIR=${TXL_BENCH_DIR:-/tmp/txl-bench}/$MODEL
BUILD=${TXL_BUILD_DIR:-$ROOT/build}
CONFIG=$ROOT/models/configs/$MODEL/config.json
PY=/usr/bin/python3                    # Debian's, with torch
BATCH=${TXL_BENCH_BATCH:-1}
THREADS=${TXL_BENCH_THREADS:-1}
TXLC_FLAGS=${TXL_BENCH_TXLC_FLAGS:-}
[ -f "$CONFIG" ] || { echo "run.sh: no configuration $CONFIG" >&2; exit 1; }
read -r TGT_LEN MEM_LEN < <("$PY" -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["tgt_len"], c["mem_len"])' "$CONFIG")
TOKENS=${TXL_BENCH_TOKENS:-$(( TGT_LEN * ((MEM_LEN + TGT_LEN - 1) / TGT_LEN + 3) ))}
# One compiled model per batch and flag set.
SO=$DIR/model-b$BATCH${TXLC_FLAGS:+$(echo "$TXLC_FLAGS" | tr -c 'a-z0-9\n' '_')}.so
mkdir -p "$DIR"

[ -x "$BUILD/bin/txlc" ] || ninja -C "$BUILD" -j2 txlc txl-run

if [ ! -f "$DIR/model.safetensors" ]; then
  "$PY" "$ROOT/bench/model/make_weights.py" "$CONFIG" "$DIR/model.safetensors" --seed 0
fi

if [ ! -f "$SO" ] || [ "$BUILD/bin/txlc" -nt "$SO" ] \
   || [ "$CONFIG" -nt "$SO" ] || [ -n "${TXL_BENCH_RECOMPILE:-}" ]; then
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$BUILD/bin/txlc" "$CONFIG" -o "$SO.new" --batch "$BATCH" --tgt-len "$TGT_LEN" $TXLC_FLAGS
  end=$(date +%s.%N)
  mv "$SO.new" "$SO"
  echo "txlc: $(echo "$end - $start" | bc) s wall" | tee "$SO.compile-time.txt"
else
  echo "txlc: $SO up to date ($(cat "$SO.compile-time.txt" 2>/dev/null || echo 'compile time not recorded'))"
fi

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

# The peer at its best with t threads: OpenBLAS runs its GEMMs on t threads and torch's
# own ops on one (torch's intra-op threads on top of OpenBLAS's oversubscribe the cores:
# 2 + 2 threads ran the wt103 segment 3-5x slower than 1 + 2).
# OpenBLAS's kernels for this CPU (Debian's misdetects both machines of our
# kind): SkylakeX's need AVX-512, which a CPU without it cannot run (SIGILL);
# Haswell's are its AVX2 kernels (also the best on AMD Zen without AVX-512).
if [ -z "${TXL_BENCH_OPENBLAS_CORETYPE:-}" ]; then
  if grep -qw avx512f /proc/cpuinfo; then TXL_BENCH_OPENBLAS_CORETYPE=SkylakeX
  else TXL_BENCH_OPENBLAS_CORETYPE=Haswell; fi
fi
for t in $THREADS; do
  echo "=== $MODEL, batch $BATCH, $t thread(s) (OpenBLAS $TXL_BENCH_OPENBLAS_CORETYPE) ==="
  env LD_LIBRARY_PATH="$PEER_LD${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      HL_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t OPENBLAS_CORETYPE=$TXL_BENCH_OPENBLAS_CORETYPE \
      OMP_NUM_THREADS=1 \
      "$PY" "$ROOT/bench/model/bench.py" --so "$SO" \
      --weights "$DIR/model.safetensors" --config "$CONFIG" --tokens "$TOKENS" \
      --batch "$BATCH" --threads "$t" --torch-threads 1 \
      --which "${TXL_BENCH_WHICH:-torch,txl}" --hidden-only \
      ${TXL_BENCH_ARGS:-} --json "$DIR/result-b$BATCH-t$t${TXL_BENCH_ARGS:+$(echo "$TXL_BENCH_ARGS" | tr -c 'a-z0-9\n' '_')}.json" \
    | tee "$DIR/bench-b$BATCH-t$t.log"
done
