#!/usr/bin/env bash
# The Raspberry Pi build, checked on x86: cross-compiles sori for aarch64 and runs it under
# qemu-user: its version and help, config errors that name the key, and (under qemu 8 or
# newer) understanding and answering text in both languages. ONNX Runtime's arm64 library
# cannot start under qemu-user, so nothing that needs it (wake word, VAD, Piper) runs here;
# whisper and the audio devices are left out too (no models for a quick check, no sound card).
#   scripts/arm64-smoke.sh             debug build (what CI runs: it only has to start)
#   scripts/arm64-smoke.sh --release   the release binary the .deb ships
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--release" ]]; then
    bin=$(scripts/cross-arm64.sh | tail -1)
else
    bin=$(scripts/cross-arm64.sh --debug | tail -1)
fi
readelf -h "$bin" | grep -q "Machine:.*AArch64" || { echo "FAIL: $bin is not an aarch64 binary" >&2; exit 1; }
run() { qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin" "$@"; }
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
export XDG_STATE_HOME=$state XDG_CONFIG_HOME=$state/config XDG_DATA_HOME=$state/data
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "==> qemu-aarch64: sori --version"
v=$(run --version)
[[ "$v" == sori\ * ]] || fail "version printed \"$v\""
echo "    $v"

# Debian 12's qemu-user (7.2) spins forever in the first pthread_create of any aarch64 program
# (a four-line Rust program that spawns a thread shows it), and `sori ask` starts threads; so
# it runs only under a newer qemu.
qemu_major=$(qemu-aarch64 --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -1)
if (( qemu_major >= 8 )); then
    echo "==> qemu-aarch64: sori ask (English, Korean)"
    out=$(run ask --dry-run --lang en "set a timer for 5 minutes")
    [[ "$out" == *"5 minutes"* || "$out" == *"five minutes"* ]] || fail "English answer: $out"
    echo "    $out"
    out=$(run ask --dry-run --lang ko "지금 몇 시야")
    [[ "$out" == *"시"* ]] || fail "Korean answer: $out"
    echo "    $out"
else
    echo "==> SKIP sori ask: qemu-user $qemu_major hangs when an aarch64 program starts a thread"
fi

echo "==> qemu-aarch64: sori --help lists the commands"
run --help | grep -q "wakeword" || fail "--help does not list the commands"

echo "==> qemu-aarch64: a broken config names the key"
if err=$(run --set stt.language=klingon ask "hello" 2>&1); then
    fail "a bad stt.language was accepted"
fi
[[ "$err" == *"stt.language"* ]] || fail "the error does not name stt.language: $err"
echo "    ${err##*$'\n'}"
err=$(run --set 'api.bind="0.0.0.0:8340"' doctor 2>&1) && fail "an open API without a token was accepted"
[[ "$err" == *"api.token"* ]] || fail "the error does not name api.token: $err"
echo "    ${err##*$'\n'}"

echo "==> arm64 smoke run passed (skipped under qemu: ONNX Runtime, whisper, audio devices)"
