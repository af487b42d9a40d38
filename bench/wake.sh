#!/usr/bin/env bash
# Wake word benchmark on ../shared/eval, side by side with Python
# openWakeWord (openwakeword 0.4.0 + onnxruntime from PyPI) in one run. Writes
# bench/results/wake.md; copy the tables into docs/benchmarks.md with the machine and date.
#   bench/wake.sh [EVAL_DIR]
source "$(dirname "$0")/prepare.sh" "$@"
target/release/sori models fetch --only whisper,wakeword,vad,onnxruntime

if [[ ! -x $B/venv/bin/python ]]; then
  python3 -m venv "$B/venv"
fi
"$B/venv/bin/pip" install -q "openwakeword==0.4.0" "onnxruntime" "numpy" "scipy" "tqdm" "requests" 2>&1 | tail -2 || true
exec "$B/venv/bin/python" bench/wake_bench.py "$EVAL" bench/results/wake.md
