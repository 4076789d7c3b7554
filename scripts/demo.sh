#!/usr/bin/env bash
# The README's first command: install what is missing, build, compile the bundled demo model
# (a character-level Transformer-XL trained on the King James Bible, models/demo) into a native
# executable with txlc, and run it: generated text, then the held-out bits per character and
# tokens/s.
#
#   scripts/demo.sh                       # everything
#   TXL_DEMO_PROMPT="In the beginning" TXL_DEMO_TOKENS=400 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh txlc txl-run TxlExecutableSupport
BUILD=${TXL_BUILD_DIR:-build}
BIN=$BUILD/bin
MODEL=models/demo
EXE=$BUILD/demo/txl-demo
PROMPT=${TXL_DEMO_PROMPT:-And God said}
TOKENS=${TXL_DEMO_TOKENS:-300}

echo "== txlc: $MODEL -> $EXE (native executable, weights and vocabulary embedded)"
mkdir -p "$(dirname "$EXE")"
if [[ ! -x "$EXE" || "$BIN/txlc" -nt "$EXE" || "$MODEL/model.safetensors" -nt "$EXE" ]]; then
  start=$(date +%s.%N)
  "$BIN/txlc" "$MODEL" --embed-weights --emit=exe -o "$EXE"
  echo "compiled in $(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s"
else
  echo "up to date"
fi

echo
echo "== $EXE --prompt \"$PROMPT\" --generate $TOKENS (temperature 0.8, top-k 20, seed 1)"
"$EXE" --prompt "$PROMPT" --generate "$TOKENS" --temperature 0.8 --top-k 20 --seed 1

echo
echo "== $EXE --text $MODEL/heldout.txt (never trained on; a unigram model gives 4.41 bits/char)"
"$EXE" --text "$MODEL/heldout.txt"
