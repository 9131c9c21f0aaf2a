#!/bin/bash
# Bounded libFuzzer run (20 s) of the cloud wire parsers (tests/cloud/fuzz); `make fuzz-cloud` runs longer.
cd "$(dirname "$0")/../.."
make -s fuzz-cloud-bins >/dev/null 2>&1 || { echo "not ok 1 - build the cloud fuzz target (clang with libclang-rt)"; exit 1; }
log="${SEALED_TEST_OUT:-/tmp}/fuzz_cloud_wire.log"
mkdir -p build/fuzz/corpus_cloud_wire
if build/fuzz/cloud_wire -max_total_time=${FUZZ_SECONDS:-20} -max_len=8192 build/fuzz/corpus_cloud_wire \
    tests/cloud/fuzz/corpus >"$log" 2>&1; then
    echo "ok 1 - fuzz cloud wire parsers ($(grep -o 'Done [0-9]* runs' "$log"))"
else
    echo "not ok 1 - fuzz cloud wire parsers"; tail -30 "$log" | sed 's/^/  /'; exit 1
fi
