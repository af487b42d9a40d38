#!/usr/bin/env bash
# Installs the Python servers the messaging tests start (aiosmtpd, a real SMTP server) into a
# cached venv. Prints the venv's python.
set -euo pipefail
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/sori/servers/venv
PINS=(aiosmtpd==1.4.6)
if ! "$VENV/bin/python" -c "import aiosmtpd" 2>/dev/null; then
  echo "==> installing ${PINS[*]} into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}" >&2
fi
echo "$VENV/bin/python"
