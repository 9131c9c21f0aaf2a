#!/bin/bash
# Bounded libFuzzer run (15 s) of the ACME parser target; `make fuzz-acme` runs longer.
cd "$(dirname "$0")/../.."
make -s fuzz-acme-bins >/dev/null 2>&1 || { echo "not ok 1 - build ACME fuzz target (clang with libclang-rt)"; exit 1; }
mkdir -p build/fuzz/corpus_acme_parse
log="${SEALED_TEST_OUT:-/tmp}/fuzz_acme_parse.log"
if build/fuzz/acme_parse -max_total_time=${FUZZ_SECONDS:-15} -max_len=8000 build/fuzz/corpus_acme_parse \
    tests/acme/fuzz/corpus/acme_parse >"$log" 2>&1; then
    echo "ok 1 - fuzz acme_parse ($(grep -o 'Done [0-9]* runs' "$log"))"
else
    echo "not ok 1 - fuzz acme_parse"; tail -30 "$log" | sed 's/^/  /'; exit 1
fi
