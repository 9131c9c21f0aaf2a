#!/bin/bash
# Builds sealed-verify's libFuzzer targets (fuzz/fuzz_*.c, clang with ASan+UBSan, mk/verify.mk) and
# runs each for FUZZ_TEST_SECONDS (default 20) from its committed corpus (fuzz/corpus/<target>)
# plus the matching real data in ../shared/testdata. Each target asserts properties of the parsed
# output (see the file headers), so "ok" means no crash, no sanitizer report and no broken property.
# `make fuzz` runs the same targets longer (FUZZ_SECONDS, default 300).
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_TEST_SECONDS:-20}
n=0
fail=0
if ! command -v clang >/dev/null; then
    echo "ok 1 # skip clang not installed (scripts/packages/verify.txt)"
    exit 0
fi
if ! make -s -j2 fuzz-bins >"${SEALED_TEST_OUT:-/tmp}/verify-fuzz-build.log" 2>&1; then
    echo "not ok 1 - fuzz targets build"
    sed 's/^/  /' "${SEALED_TEST_OUT:-/tmp}/verify-fuzz-build.log" | tail -20
    exit 1
fi
extra_seeds() {
    case $1 in
        fuzz_snp_report) echo ../shared/testdata/snp-reports-go-sev-guest ;;
        fuzz_eventlog) echo ../shared/testdata/tpm-eventlogs-go-eventlog/tpm ;;
        fuzz_cert_table) echo ../shared/testdata/snp-reports-virtee-sev ;;
        fuzz_sd_jwt) echo tests/verify/rfc9901 ;;
    esac
}
for src in fuzz/fuzz_*.c; do
    t=$(basename "$src" .c)
    n=$((n + 1))
    work=$(mktemp -d)
    seeds=()
    for d in $(extra_seeds "$t"); do [ -d "$d" ] && seeds+=("$d"); done
    log=$work/log
    if build/fuzz/"$t" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 -artifact_prefix="$work/" \
        -print_final_stats=1 "$work" "fuzz/corpus/$t" "${seeds[@]}" >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
        echo "ok $n - $t (${runs:-?} inputs in ${secs}s)"
    else
        fail=1
        echo "not ok $n - $t"
        grep -E 'ERROR|SUMMARY|Test unit written|abort' "$log" | head -10 | sed 's/^/  /'
        ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null | sed 's/^/  artifact: /'
        continue
    fi
    rm -rf "$work"
done
exit $fail
