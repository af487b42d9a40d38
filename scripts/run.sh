#!/usr/bin/env bash
# The one command to try Sori on this machine: installs what is missing, builds, fetches and
# verifies the models, then runs Sori on the default config: the assistant itself, listening on
# the microphone for "hey jarvis" and answering on the speaker, until Ctrl-C.
# On a machine without a microphone it says so and runs the same loop on a synthesized
# "hey jarvis … what time is it", writing the reply to a WAV. Extra arguments go to `sori run`
# (e.g. `--input my.wav --output reply.wav`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
echo "==> building Sori (release)"
cargo build --release --locked
sori=target/release/sori

echo "==> fetching models"
$sori models fetch

if [[ $# -gt 0 ]]; then
  exec $sori run "$@"
fi

if $sori devices --json 2>/dev/null | grep -q '"inputs": \[$' ; then
  echo "==> Sori is listening: say \"hey jarvis\", then a command. Ctrl-C stops it."
  exec $sori run
fi

echo "==> no microphone found on this machine."
echo "    Sori runs on a file instead: $sori run --input your.wav --output reply.wav --events events.jsonl"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
espeak-ng -v en-us -s 130 -w "$dir/wake.wav" "hey jarvis"
espeak-ng -v en-us -s 130 -w "$dir/command.wav" "what is the weather like today"
sox "$dir/wake.wav" -p pad 1 0.5 | sox - "$dir/command.wav" "$dir/sample.wav" pad 0 2
echo "==> running the loop on a synthesized sample: \"hey jarvis … what is the weather like today\""
$sori run --input "$dir/sample.wav" --output reply.wav --events "$dir/events.jsonl"
echo "==> events:"
cat "$dir/events.jsonl"
echo "==> Sori's reply is in reply.wav"
