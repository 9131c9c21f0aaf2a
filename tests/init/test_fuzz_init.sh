#!/bin/bash
# Bounded libFuzzer run (15 s) of sealed-init's parser target with its property checks;
# `make fuzz-init` runs longer.
cd "$(dirname "$0")/../.."
log=${SEALED_TEST_OUT:-/tmp}/fuzz_init_parse.log
make -s fuzz-init-bins >/dev/null 2>&1 || { echo "not ok 1 - build fuzz target (clang with libclang-rt)"; exit 1; }
mkdir -p build/fuzz/corpus_init_parse
if build/fuzz/init_parse -max_total_time=${FUZZ_SECONDS:-15} -max_len=4096 build/fuzz/corpus_init_parse \
    tests/init/fuzz/corpus/init_parse >"$log" 2>&1; then
    echo "ok 1 - fuzz init_parse ($(grep -o 'Done [0-9]* runs' "$log"))"
else
    echo "not ok 1 - fuzz init_parse"; tail -30 "$log" | sed 's/^/  /'; exit 1
fi
