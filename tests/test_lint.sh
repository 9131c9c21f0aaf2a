#!/bin/bash
# The source tree passes `make lint` (no banned functions).
cd "$(dirname "$0")/.."
if scripts/lint.sh; then echo "ok 1 - no banned functions"; else echo "not ok 1 - no banned functions"; exit 1; fi
