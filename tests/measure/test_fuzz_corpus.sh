#!/bin/bash
# Regression run of the fuzz targets (tests/measure/fuzz/fuzz_*.c) without libFuzzer: each target
# is built with ASan and UBSan and fed the committed corpus plus the shared testdata; every input
# must pass the target's property checks (an abort or a sanitizer report fails the suite).
set -u
cd "${SEALED_ROOT:-$(dirname "$0")/../..}"
OUT=${SEALED_TEST_OUT:-/tmp}/measure-fuzz
mkdir -p "$OUT"
SAN="-g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=address,undefined -fno-sanitize-recover=all"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1
fail=0
build_run() {   # name, sources..., -- files...
    local name=$1; shift
    local src=()
    while [ "$1" != "--" ]; do src+=("$1"); shift; done
    shift
    if ! cc $SAN -o "$OUT/$name" tests/measure/fuzz/driver.c "tests/measure/fuzz/fuzz_$name.c" "${src[@]}" -lcrypto 2>"$OUT/$name.build.log"; then
        echo "not ok - build fuzz_$name"; sed 's/^/  /' "$OUT/$name.build.log" | head; fail=1; return
    fi
    "$OUT/$name" "$@" | sed "s|^\(n\?o\?t\? \?ok\) [0-9]* - |\1 - fuzz_$name |" || { echo "not ok - fuzz_$name crashed"; fail=1; }
}
M=src/measure
build_run tpm_eventlog src/common/tpm_eventlog.c -- tests/measure/fuzz/corpus/tpm_eventlog/* \
    ../shared/testdata/tpm-eventlogs-go-eventlog/tpm/*
build_run ovmf $M/launch.c $M/ovmf.c $M/sev_hashes.c $M/snp_gctx.c $M/vmsa.c $M/measure.c src/common/file.c src/common/dynbuf.c -- \
    tests/measure/fuzz/corpus/ovmf/* ../shared/testdata/snp-measure-sev-snp-measure/fixtures/*
build_run pe $M/pe_hash.c $M/pcr_predict.c $M/measure.c src/common/file.c src/common/dynbuf.c src/common/tpm_eventlog.c -- tests/measure/fuzz/corpus/pe/*
exit $fail
