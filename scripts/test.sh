#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (Debian packages,
# models), then runs every test with the real models and a headless PulseAudio for the
# device path. Real recordings are read from ../shared/eval (or $SORI_EVAL_DIR) where present.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --test
echo "==> building (release: whisper is too slow unoptimized)"
cargo build --release --locked --all-targets
echo "==> the Raspberry Pi build: aarch64 cross build, smoke run under qemu-user"
scripts/arm64-smoke.sh
echo "==> fetching models"
target/release/sori models fetch
echo "==> installing hassil for the differential intent test"
SORI_HASSIL_PYTHON=$(scripts/hassil.sh)
export SORI_HASSIL_PYTHON
echo "==> installing the Python test servers (SMTP, Matrix)"
SORI_SERVERS_PYTHON=$(scripts/pyservers.sh)
export SORI_SERVERS_PYTHON
echo "==> installing Chromium and playwright-core for the dashboard's browser test"
SORI_BROWSER_NODE_PATH=$(scripts/browser.sh)
export SORI_BROWSER_NODE_PATH
echo "==> running tests"
cargo test --release --locked -- --test-threads=2 "$@"
