#!/usr/bin/env bash
# Intent matching benchmark, Sori side by side with hassil (Home Assistant's matcher, from
# PyPI) on the same sentences in one run. Writes bench/results/intents.md; copy the table
# into docs/benchmarks.md with the machine and date.
#   bench/intents.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(scripts/hassil.sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "==> sampling Home Assistant sentences"
"$PY" tests/hassil/sample.py "${1:-7}" > "$tmp/cases.jsonl"
echo "==> timing hassil"
"$PY" bench/intents_bench.py "$tmp/cases.jsonl" "$tmp/hassil.json"
echo "==> timing Sori"
cargo bench --bench intents -- "$tmp/cases.jsonl" "$tmp/hassil.json" bench/results/intents.md
