# Sourced by the bench scripts: repository root as working directory, EVAL (first argument,
# default ../shared/eval), CACHE and B (Sori's and the bench's caches), packages, GNU time and a release build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
EVAL=${1:-../shared/eval}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/sori
B=$CACHE/bench
mkdir -p "$B" bench/results

scripts/deps.sh
command -v /usr/bin/time >/dev/null || { [[ $(id -u) -eq 0 ]] && apt-get install -y -qq time >/dev/null || sudo apt-get install -y -qq time >/dev/null; }
cargo build --release --locked
