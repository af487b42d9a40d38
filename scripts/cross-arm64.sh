#!/usr/bin/env bash
# Cross-builds Sori for 64-bit Raspberry Pi OS (aarch64) on an x86-64 Debian machine:
# target/aarch64-unknown-linux-gnu/release/sori. Installs what it needs first (Rust's aarch64
# standard library, Debian's aarch64 cross compilers and the arm64 ALSA library).
#   scripts/cross-arm64.sh           the release binary
#   scripts/cross-arm64.sh --debug   an unoptimised build (quicker; scripts/arm64-smoke.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."

target=aarch64-unknown-linux-gnu
scripts/deps.sh --cross
if ! rustup target list --installed | grep -qx "$target"; then
    echo "==> adding Rust's $target standard library"
    rustup target add "$target"
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export CXX_aarch64_unknown_linux_gnu=aarch64-linux-gnu-g++
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
# pkg-config finds the arm64 ALSA, not the host's.
export PKG_CONFIG_ALLOW_CROSS=1
export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
# whisper.cpp: no -march=native (that would be this x86 CPU); bindgen reads arm64 headers.
export GGML_NATIVE=OFF
export BINDGEN_EXTRA_CLANG_ARGS="--target=$target --sysroot=/usr/aarch64-linux-gnu -I/usr/aarch64-linux-gnu/include"

if [[ "${1:-}" == "--debug" ]]; then
    echo "==> building sori for $target (debug)"
    cargo build --locked --target "$target" --bin sori
    echo "target/$target/debug/sori"
else
    echo "==> building sori for $target (release)"
    cargo build --release --locked --target "$target" --bin sori
    echo "target/$target/release/sori"
fi
