#!/usr/bin/env bash
# Installs hassil (Home Assistant's intent matcher) and Home Assistant's intent data from PyPI
# into a cached venv, for the differential test (tests/hassil.rs). Prints the venv's python.
set -euo pipefail
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/sori/hassil/venv
PINS=(hassil==3.12.1 home-assistant-intents==2026.10.27)
if ! "$VENV/bin/python" -c "import hassil, home_assistant_intents" 2>/dev/null; then
  echo "==> installing ${PINS[*]} into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}" >&2
fi
echo "$VENV/bin/python"
