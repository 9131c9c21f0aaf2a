#!/bin/bash
# Bounded libFuzzer run (20 s) of the tpm2 provider against a TPM answering with fuzzed bytes,
# seeded with a recorded swtpm session (tests/attest/fuzz/make_seed.py); `make fuzz-attest` runs
# longer. The seed alone must reach the success path (evidence verified by the target's checks).
cd "$(dirname "$0")/../.."
log=${SEALED_TEST_OUT:-/tmp}/fuzz_tpm2_provider.log
make -s fuzz-attest-bins >/dev/null 2>&1 || { echo "not ok 1 - build fuzz target (clang with libclang-rt)"; exit 1; }
seed=tests/attest/fuzz/corpus/tpm2_provider/swtpm_session
if FUZZ_TPM2_VERBOSE=1 build/fuzz/tpm2_provider "$seed" 2>&1 | grep -q 'evidence 1 verified'; then
    echo "ok 1 - the recorded swtpm session replays to verified evidence"
else
    echo "not ok 1 - the recorded swtpm session replays to verified evidence"
fi
mkdir -p build/fuzz/corpus_tpm2_provider
if build/fuzz/tpm2_provider -max_total_time=${FUZZ_SECONDS:-20} -max_len=16384 -timeout=60 \
    -artifact_prefix=build/fuzz/ -report_slow_units=60 \
    build/fuzz/corpus_tpm2_provider tests/attest/fuzz/corpus/tpm2_provider >"$log" 2>&1; then
    echo "ok 2 - fuzz tpm2 provider ($(grep -o 'Done [0-9]* runs' "$log"))"
else
    echo "not ok 2 - fuzz tpm2 provider"; tail -30 "$log" | sed 's/^/  /'; exit 1
fi
