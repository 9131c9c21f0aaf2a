#!/bin/sh
# Installs what the project needs on Debian (bookworm): the packages listed in scripts/packages/*.txt
# (whitespace-separated, '#' comments; "pkg:cmd" means pkg is not needed when cmd is already on
# PATH, e.g. a Node.js installed another way) and the npm modules in tests/browser/package.json.
# Idempotent and quiet when everything is there; needs root (or sudo) only when something is missing.
set -eu
cd "$(dirname "$0")/.."
want=$(cat scripts/packages/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
missing=""
for p in $want; do
    case "$p" in *:*) command -v "${p#*:}" >/dev/null 2>&1 && continue; p=${p%%:*} ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    echo "deps: installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
    echo "deps: installing browser test modules (npm)"
    (cd tests/browser && npm install --no-audit --no-fund --silent >/dev/null)
fi
