#!/bin/bash
# Runs every test and prints the totals as the last line: "N passed, N failed".
#   unit:   build/tests/unit/*/test_*          (compiled C, TAP lines)
#   suites: tests/**/test_*.py, test_*.sh, test_*.mjs  (whole-binary, fakes, browser; TAP lines)
# A program that exits non-zero without printing any "not ok" line counts as one failure.
# Usage: tests/run.sh [PATTERN]   runs only tests whose path contains PATTERN.
set -u
cd "$(dirname "$0")/.."
export SEALED_ROOT=$PWD
export SEALED_TEST_OUT=${SEALED_TEST_OUT:-$PWD/tests/out}
mkdir -p "$SEALED_TEST_OUT"
filter=${1:-}
passed=0 failed=0
failures=()

run_one() {   # $1 = display name, rest = command
    local name=$1; shift
    [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && return
    local log="$SEALED_TEST_OUT/$(echo "$name" | tr '/' '_').log"
    local start=$SECONDS
    "$@" >"$log" 2>&1 </dev/null
    local rc=$?
    local ok nok
    ok=$(grep -c '^ok ' "$log")
    nok=$(grep -c '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then nok=1; echo "not ok - $name exited $rc" >>"$log"; fi
    passed=$((passed + ok)); failed=$((failed + nok))
    printf '%-52s %4d ok %3d failed  (%ds)\n' "$name" "$ok" "$nok" $((SECONDS - start))
    if [ "$nok" -gt 0 ]; then
        failures+=("$name")
        grep -E '^not ok|^  ' "$log" | head -40 | sed 's/^/    /'
    fi
}

for t in $(find build/tests/unit -type f -name 'test_*' -perm -u+x 2>/dev/null | sort); do
    run_one "${t#build/}" "$t"
done
for t in $(find tests -path tests/browser/node_modules -prune -o -type f \( -name 'test_*.py' -o -name 'test_*.sh' -o -name 'test_*.mjs' \) -print | sort); do
    case "$t" in
        *.py)  run_one "$t" python3 "$t" ;;
        *.sh)  run_one "$t" bash "$t" ;;
        *.mjs) run_one "$t" node "$t" ;;
    esac
done
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
