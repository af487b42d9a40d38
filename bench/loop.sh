#!/usr/bin/env bash
# The listening loop end to end: end of speech → first reply audio, per stage, and the whole
# daemon's peak memory, for spoken commands through `sori run` in real time; configurations
# side by side in one run. Writes bench/results/loop.md.
#   bench/loop.sh [EVAL_DIR]      (ROUNDS=2 by default; ONLY=shipped runs one configuration;
#                                 BASELINE=path/to/older/sori adds that build as shipped;
#                                 several: BASELINE=a:b)
source "$(dirname "$0")/prepare.sh" "$@"
target/release/sori models fetch
[[ -x $B/venv/bin/python ]] || python3 -m venv "$B/venv"
"$B/venv/bin/pip" install -q numpy scipy
"$B/venv/bin/python" bench/loop_bench.py "$EVAL" bench/results/loop.md
