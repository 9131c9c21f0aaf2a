#!/bin/bash
# Benchmarks, each against a peer in the same run (never part of `make test`). `make bench`
# installs the peers first (scripts/deps.sh with scripts/packages/bench.txt: nginx, wrk, perf).
#   idset: sealed-login's used-id set vs std::unordered_set<std::string>, 10 million ids, and its
#          keyed hash vs the same HMAC through OpenSSL's EVP_MAC (bench/bench_idset.c)
#   state: saved-state commits/s vs bare append+fdatasync, spent states/s, start-up with N ids
#   https: handshakes (full, resumed, vs the `openssl speed` bound), keep-alive req/s on / and
#          /healthz, latency at a fixed rate, memory per idle TLS connection and per connection
#          stalled in its ClientHello or its head: sealed-login vs nginx, interleaved rounds (bench/https.py)
#   logins: 1,000 logins in flight against the fake PayPal answering after 300 ms (bench/logins.py)
#   capped: each server in a cgroup capped at 1/8 core and 1 GB (an OCI E2.1.Micro): handshakes,
#          keep-alive req/s, fixed-rate latency, then a 5,000-connection slowloris while real logins
#          (sealed-login) or GETs (nginx) keep going (bench/capped.py; needs root for the cgroups)
#   acme:  start to first HTTPS response with a Pebble certificate vs lego issuing alone
# Results: bench/results/*.json and bench/results/chart.svg (bench/chart.py; shown in README).
#   state-save (only with BENCH_ONLY=state-save; needs swtpm): a sealed save's blob size and time with
#          10,000 used ids, with none, 1,000 and 10,000 of them holding a 24-hour result
#          (bench/make_state.c, bench/state_save.py; the real binary against the OCI store fake)
# BENCH_ONLY=idset|state|https|logins|capped|acme runs one of them (the chart is redrawn from what is there).
set -eu
cd "$(dirname "$0")/.."
mkdir -p build/bench bench/results
only=${BENCH_ONLY:-}
if [ -z "$only" ] || [ "$only" = idset ]; then
    N=${IDSET_N:-10000000}
    cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -o build/bench/bench_idset bench/bench_idset.c build/liblogin.a build/libcommon.a \
       $(pkg-config --libs libcrypto)
    c++ -O2 -o build/bench/bench_peer_set bench/bench_peer_set.cc
    echo "== idset, $N ids, one core"
    taskset -c 0 build/bench/bench_idset "$N" | tee bench/results/idset.json
    taskset -c 0 build/bench/bench_peer_set "$N" | tee bench/results/idset_peer.json
fi
if [ -z "$only" ] || [ "$only" = state ]; then
    echo "== state (service_state over state_store): commits, spent states, start-up with 1 M ids; tmpfs"
    cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -o build/bench/bench_state bench/bench_state.c build/liblogin.a build/libcommon.a \
       $(pkg-config --libs libcrypto jansson)
    d=$(mktemp -d /dev/shm/bench-state-XXXXXX)
    build/bench/bench_state "$d" "${STATE_N:-1000000}" 2>/dev/null | tee bench/results/state.json
    rm -rf "$d"
fi
if [ "$only" = state-save ]; then
    cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -o build/bench/make_state bench/make_state.c build/liblogin.a build/libcommon.a \
       $(pkg-config --libs libcrypto jansson)
    for m in 0 1000 10000; do python3 bench/state_save.py 10000 "$m"; done | tee bench/results/state_save.json
fi
if [ -z "$only" ] || [ "$only" = https ]; then
    echo "== https: sealed-login vs nginx"
    python3 bench/https.py
fi
if [ -z "$only" ] || [ "$only" = logins ]; then
    echo "== logins in flight"
    python3 bench/logins.py
fi
if [ -z "$only" ] || [ "$only" = capped ]; then
    echo "== capped at 1/8 core and 1 GB: sealed-login vs nginx, then slowloris"
    python3 bench/capped.py
fi
if [ -z "$only" ] || [ "$only" = acme ]; then
    bench/acme/run.sh
fi
python3 bench/chart.py
