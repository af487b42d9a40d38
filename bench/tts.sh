#!/usr/bin/env bash
# TTS benchmark: Sori's Piper voice vs Python Piper (`piper-tts` from PyPI), same voice
# (en_US-joe-medium), same texts, alternating in one run; plus espeak-ng Korean through Sori.
# Measures voice load, time to first audio and real-time factor (synthesis time / audio length)
# for a one-sentence and a five-sentence reply. Writes bench/results/tts.md.
#   bench/tts.sh [EVAL_DIR]      (REPEAT=5 by default; BASELINE=path/to/older/sori adds that build)
source "$(dirname "$0")/prepare.sh" "$@"
REPEAT=${REPEAT:-5}
target/release/sori models fetch --only piper,onnxruntime
VENV=$B/venv
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "piper-tts==1.8.0"
REPEAT=$REPEAT "$VENV/bin/python" bench/tts_bench.py target/release/sori models/piper/en_US-joe-medium.onnx bench/results/tts.md
cat bench/results/tts.md
