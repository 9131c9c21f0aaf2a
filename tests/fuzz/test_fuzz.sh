#!/bin/bash
# Every libFuzzer target under fuzz/ (mk/fuzz.mk builds them, clang with ASan + UBSan), two lines
# each: the committed corpus and the seeds from ../shared/testdata replayed one file at a time
# (a regression test: each input must pass the target's property checks), then a short fuzzing run
# of FUZZ_TEST_SECONDS (default 8; 31 targets, about 4 minutes) from them. `make fuzz` runs each for
# the Makefile's FUZZ_SECONDS, `make fuzz-<name>` one. A failure keeps its artifacts in
# $SEALED_TEST_OUT/fuzz/<name>/.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_TEST_SECONDS:-8}
out=${SEALED_TEST_OUT:-/tmp}/fuzz
mkdir -p "$out"
if ! command -v clang >/dev/null; then
    echo "ok 1 # skip clang not installed (scripts/packages/verify.txt)"
    exit 0
fi
if ! make -s -j2 fuzz-bins >"$out/build.log" 2>&1; then
    echo "not ok 1 - fuzz targets build (mk/fuzz.mk)"
    grep -E 'error|Error' "$out/build.log" | head -20 | sed 's/^/  /'
    exit 1
fi
n=0 fail=0
report() {   # name, log, workdir
    grep -E 'property failed|ERROR|SUMMARY|Assertion|Test unit written' "$2" | head -10 | sed 's/^/  /'
    ls "$3"/crash-* "$3"/leak-* "$3"/timeout-* 2>/dev/null | sed 's/^/  artifact: /'
}
while IFS='|' read -r name src seeds opts; do
    [ -n "$name" ] || continue
    bin=build/fuzz/$name corpus=${src%.c}.corpus work=$out/$name
    rm -rf "$work" && mkdir -p "$work/new"
    # shellcheck disable=SC2086  # seeds and opts are word lists
    mapfile -t files < <(find "$corpus" $seeds -type f 2>/dev/null | LC_ALL=C sort)
    n=$((n + 1))
    if [ ${#files[@]} -eq 0 ]; then
        echo "not ok $n - replay $name: no corpus in $corpus"; fail=1
    elif "$bin" $opts -artifact_prefix="$work/" "${files[@]}" >"$work/replay.log" 2>&1; then
        echo "ok $n - replay $name (${#files[@]} inputs)"
    else
        echo "not ok $n - replay $name"; report "$name" "$work/replay.log" "$work"; fail=1
    fi
    if [ "$name" = tpm2 ]; then   # the recorded swtpm session must reach the success path
        n=$((n + 1))
        if FUZZ_TPM2_VERBOSE=1 "$bin" "$corpus/swtpm_session" 2>&1 | grep -q 'evidence 1 verified'; then
            echo "ok $n - tpm2: the recorded swtpm session replays to verified evidence"
        else
            echo "not ok $n - tpm2: the recorded swtpm session replays to verified evidence"; fail=1
        fi
    fi
    n=$((n + 1))
    # shellcheck disable=SC2086
    if "$bin" -max_total_time="$secs" -print_final_stats=1 $opts -artifact_prefix="$work/" \
        "$work/new" "$corpus" $seeds >"$work/fuzz.log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/fuzz.log" | grep -o '[0-9]*$')
        echo "ok $n - fuzz $name (${runs:-?} inputs in ${secs}s)"
        rm -rf "$work"
    else
        echo "not ok $n - fuzz $name"; report "$name" "$work/fuzz.log" "$work"; fail=1
    fi
done < <(make -s --no-print-directory fuzz-list | tr ';' '\n')
exit $fail
