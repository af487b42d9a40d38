#!/usr/bin/env bash
# Music library benchmark: scan rate, search latency and name-list memory on a generated
# library of FILES (default 2000) tagged files, with MPD indexing and searching the same files
# in the same run (needs `mpd`: scripts/deps.sh --test). Writes bench/results/music.md.
#   bench/music.sh [FILES]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench music -- bench/results/music.md "${1:-2000}"
