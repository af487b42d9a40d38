#!/usr/bin/env bash
# Wake word and listening-loop benchmark on ../shared/eval, side by side with Python
# openWakeWord (openwakeword 0.4.0 + onnxruntime from PyPI) in one run. Writes
# bench/results/wake.md; copy the tables into docs/benchmarks.md with the machine and date.
#   bench/wake.sh [EVAL_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
EVAL=${1:-../shared/eval}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/sori
B=$CACHE/bench
mkdir -p "$B" bench/results

scripts/deps.sh
command -v /usr/bin/time >/dev/null || { [[ $(id -u) -eq 0 ]] && apt-get install -y -qq time >/dev/null || sudo apt-get install -y -qq time >/dev/null; }
cargo build --release --locked
target/release/sori models fetch --only whisper,wakeword,vad,onnxruntime

if [[ ! -x $B/venv/bin/python ]]; then
  python3 -m venv "$B/venv"
fi
"$B/venv/bin/pip" install -q "openwakeword==0.4.0" "onnxruntime" "numpy" "scipy" "tqdm" "requests" 2>&1 | tail -2 || true
exec "$B/venv/bin/python" bench/wake_bench.py "$EVAL" bench/results/wake.md
