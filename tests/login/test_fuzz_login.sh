#!/bin/bash
# Bounded libFuzzer runs (20 s each) of the service's parser targets; `make fuzz-login` runs longer.
cd "$(dirname "$0")/../.."
n=0; rc=0
make -s fuzz-login-bins >/dev/null 2>&1 || { echo "not ok 1 - build fuzz targets (clang with libclang-rt)"; exit 1; }
for t in http_parse state proxy_v2; do
    n=$((n + 1))
    mkdir -p build/fuzz/corpus_login_$t
    if build/fuzz/login_$t -max_total_time=${FUZZ_SECONDS:-20} -max_len=12000 build/fuzz/corpus_login_$t \
        tests/login/fuzz/corpus/$t >"${SEALED_TEST_OUT:-/tmp}/fuzz_login_$t.log" 2>&1; then
        echo "ok $n - fuzz $t ($(grep -o 'Done [0-9]* runs' "${SEALED_TEST_OUT:-/tmp}/fuzz_login_$t.log"))"
    else
        echo "not ok $n - fuzz $t"; tail -30 "${SEALED_TEST_OUT:-/tmp}/fuzz_login_$t.log" | sed 's/^/  /'; rc=1
    fi
done
exit $rc
