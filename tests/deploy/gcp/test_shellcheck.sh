#!/bin/bash
# deploy/gcp/*.sh pass shellcheck at severity warning (following the sourced lib.sh).
cd "$(dirname "$0")/../../.."
if ! command -v shellcheck >/dev/null; then echo "not ok 1 - shellcheck not installed (make deps: scripts/packages/deploy-gcp.txt)"; exit 1; fi
if out=$(shellcheck -x -S warning deploy/gcp/*.sh 2>&1); then echo "ok 1 - shellcheck deploy/gcp"; else
    echo "not ok 1 - shellcheck deploy/gcp"; printf '%s\n' "$out" | sed 's/^/  /'; exit 1; fi
for f in deploy/gcp/*.sh; do bash -n "$f" || { echo "not ok 2 - bash -n $f"; exit 1; }; done
echo "ok 2 - bash -n deploy/gcp"
