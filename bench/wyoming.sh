#!/usr/bin/env bash
# Local vs remote (Wyoming) speech to text in the listening loop, with the reference wyoming
# library's server on loopback. Writes bench/results/wyoming.md.
#   bench/wyoming.sh [EVAL_DIR]
source "$(dirname "$0")/prepare.sh" "$@"
target/release/sori models fetch --only whisper,wakeword,vad,onnxruntime,piper
PY=$(scripts/pyservers.sh)
exec "$PY" bench/wyoming_bench.py "$EVAL" bench/results/wyoming.md
