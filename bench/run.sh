#!/bin/bash
# Benchmarks, each against a peer in the same run (never part of `make test`):
#   idset: sealed-login's used-id set vs std::unordered_set<std::string>, 10 million ids
#   https: requests/s for /healthz over TLS with keep-alive, sealed-login vs nginx (same
#          machine, same TLS policy and key type), measured with wrk
#   acme:  start to first HTTPS response with a Pebble certificate vs lego issuing alone
#   state: saved-state commits/s vs bare append+fdatasync, spent states/s, start-up with N ids
# Results: bench/results/*.json (plus the summary printed).
set -eu
cd "$(dirname "$0")/.."
mkdir -p build/bench bench/results
N=${IDSET_N:-10000000}
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -o build/bench/bench_idset bench/bench_idset.c build/liblogin.a build/libcommon.a \
   $(pkg-config --libs libcrypto)
c++ -O2 -o build/bench/bench_peer_set bench/bench_peer_set.cc
echo "== idset, $N ids, one core"
taskset -c 0 build/bench/bench_idset "$N" | tee bench/results/idset.json
taskset -c 0 build/bench/bench_peer_set "$N" | tee bench/results/idset_peer.json
[ "${BENCH_ONLY_IDSET:-}" ] && exit 0
echo "== state (service_state over state_store): commits, spent states, start-up with 1 M ids; tmpfs"
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -o build/bench/bench_state bench/bench_state.c build/liblogin.a build/libcommon.a \
   $(pkg-config --libs libcrypto jansson)
d=$(mktemp -d /dev/shm/bench-state-XXXXXX)
build/bench/bench_state "$d" "${STATE_N:-1000000}" 2>/dev/null | tee bench/results/state.json
rm -rf "$d"
bench/https.sh
bench/acme/run.sh
