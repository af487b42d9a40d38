#!/usr/bin/env bash
# The one command to try Sori on this machine: installs what is missing, builds, fetches and
# verifies the models, then runs Sori on the default config.
# Until the listening loop lands, "running Sori" means transcribing speech: from the microphone
# when there is one, else a sample synthesized here. Extra arguments go to `sori transcribe`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
echo "==> building Sori (release)"
cargo build --release --locked
sori=target/release/sori

echo "==> fetching models"
$sori models fetch

if [[ $# -gt 0 ]]; then
  exec $sori transcribe "$@"
fi

if $sori devices --json 2>/dev/null | grep -q '"inputs": \[$' ; then
  echo "==> say something (5 s) …"
  exec $sori transcribe --mic 5
fi

echo "==> no microphone found on this machine."
echo "    To try your own audio: $sori transcribe your.wav  (any WAV)"
sample=$(mktemp --suffix=.wav)
trap 'rm -f "$sample"' EXIT
espeak-ng -v en-us -s 130 -w "$sample" "Hey Sori, what's the weather like in Busan tomorrow?"
echo "==> transcribing a synthesized sample: \"Hey Sori, what's the weather like in Busan tomorrow?\""
$sori transcribe --json "$sample"
