#!/usr/bin/env bash
# Installs the Debian/Raspberry Pi OS packages Sori needs, only those missing.
#   scripts/deps.sh          build + run: compiler tools for whisper.cpp, ALSA headers, espeak-ng,
#                            sox, binutils (strip, for scripts/deb.sh)
#   scripts/deps.sh --test   also what the tests use: PulseAudio (virtual mic/speaker),
#                            systemd (systemd-analyze checks the unit), python3-venv (hassil
#                            for the differential intent test), mpd and sox's MP3 encoder
#                            (the music tests)
#   scripts/deps.sh --cross  the aarch64 cross build: gcc/g++ for aarch64, arm64 ALSA, qemu-user
set -euo pipefail

pkgs=(cmake clang libclang-dev pkg-config libasound2-dev espeak-ng alsa-utils sox ca-certificates binutils)
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(pulseaudio pulseaudio-utils libasound2-plugins systemd python3-venv mpd libsox-fmt-mp3)
fi
if [[ "${1:-}" == "--cross" ]]; then
  # The Raspberry Pi build (scripts/cross-arm64.sh): cross compilers, arm64 ALSA, and qemu-user
  # to run the result here.
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "==> enabling arm64 packages (dpkg --add-architecture arm64)"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo dpkg --add-architecture arm64
  fi
  pkgs+=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross libasound2-dev:arm64 qemu-user)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> installing Debian packages: ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "error: Rust is not installed. Install it with rustup (https://rustup.rs):" >&2
  echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh" >&2
  exit 1
fi
