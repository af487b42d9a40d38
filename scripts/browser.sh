#!/usr/bin/env bash
# The dashboard's browser test needs Debian's Chromium and playwright-core (npm; it drives the
# system Chromium, so nothing downloads a browser). Installs what is missing and prints the
# node_modules directory to use as NODE_PATH.
set -euo pipefail
dir="${XDG_CACHE_HOME:-$HOME/.cache}/sori/browser"
if ! command -v chromium >/dev/null; then
    echo "==> installing Debian's chromium" >&2
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if [[ ! -d "$dir/node_modules/playwright-core" ]]; then
    echo "==> installing playwright-core into $dir" >&2
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" playwright-core@1.64.1 >&2
fi
echo "$dir/node_modules"
