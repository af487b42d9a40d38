#!/usr/bin/env bash
# The listening loop end to end: end of speech → first reply audio, per stage, and the whole
# daemon's peak memory, for spoken commands through `sori run` in real time; configurations
# side by side in one run. Writes bench/results/loop.md.
#   bench/loop.sh [EVAL_DIR]      (ROUNDS=2 by default; ONLY=shipped runs one configuration;
#                                 BASELINE=path/to/older/sori adds that build as shipped;
#                                 several: BASELINE=a:b; PY=0 leaves out the Python
#                                 reference pipeline, bench/py_pipeline.py; NOISE_DB=-50
#                                 adds white noise at that level to every stream)
source "$(dirname "$0")/prepare.sh" "$@"
target/release/sori models fetch
[[ -x $B/venv/bin/python ]] || python3 -m venv "$B/venv"
"$B/venv/bin/pip" install -q numpy scipy
if [[ ${PY:-1} != 0 ]]; then
  echo "==> the Python reference pipeline's packages"
  "$B/venv/bin/pip" install -q "openwakeword==0.4.0" onnxruntime faster-whisper "piper-tts==1.8.0" \
    "hassil==3.12.1" "home-assistant-intents==2026.10.27" tqdm requests 2>&1 | tail -2
  export PY_PYTHON=$B/venv/bin/python PY_CT2
  PY_CT2=$(scripts/faster-whisper-model.sh)
fi
"$B/venv/bin/python" bench/loop_bench.py "$EVAL" bench/results/loop.md
