#!/usr/bin/env bash
# Installs the Python servers the tests start (aiosmtpd, a real SMTP server; Synapse, a real
# Matrix homeserver; wyoming, Home Assistant's reference protocol library; zeroconf, what Home
# Assistant discovers Wyoming services with; wyoming-piper and wyoming-faster-whisper, the real
# Wyoming TTS and STT servers) into a cached venv.
# Prints the venv's python.
set -euo pipefail
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/sori/servers/venv
# prometheus-client 0.22+ breaks this Synapse at import (pinned to the last that works);
# requests is what register_new_matrix_user needs.
PINS=(aiosmtpd==1.4.6 matrix-synapse==1.142.0 prometheus-client==0.21.1 requests==2.32.3
  wyoming==1.10.2 zeroconf==0.147.0 wyoming-piper==2.5.2 piper-tts==1.8.0
  wyoming-faster-whisper==3.8.1 faster-whisper==1.2.1 ctranslate2==4.8.5)
if ! "$VENV/bin/python" -c "import aiosmtpd, synapse.metrics, requests, wyoming.server, zeroconf, wyoming_piper, wyoming_faster_whisper" 2>/dev/null; then
  echo "==> installing ${PINS[*]} into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}" >&2
fi
echo "$VENV/bin/python"
