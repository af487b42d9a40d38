#!/usr/bin/env bash
# Installs wyoming-openwakeword, the real Wyoming wake word server (with its bundled
# openWakeWord models), into its own cached venv: it pins an older `wyoming` than the other
# test servers (scripts/pyservers.sh), and its tflite runtime needs numpy 1. Prints the venv's
# python.
set -euo pipefail
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/sori/servers/wake-venv
PINS=(wyoming-openwakeword==1.8.2 wyoming==1.2.0 tflite-runtime-nightly==2.20.0.dev20250409
  numpy==1.26.4)
if ! "$VENV/bin/python" -c "import wyoming_openwakeword, tflite_runtime, numpy; assert numpy.__version__ == '1.26.4'" 2>/dev/null; then
  echo "==> installing ${PINS[*]} into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}" >&2
fi
echo "$VENV/bin/python"
