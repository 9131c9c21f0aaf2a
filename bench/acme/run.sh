#!/bin/bash
# ACME benchmark: sealed-login start -> first HTTPS response with a Pebble certificate, vs lego's
# issuance alone, same Pebble, one run (bench/acme/bench_acme.py). Result: bench/results/acme.json.
set -eu
cd "$(dirname "$0")/../.."
[ -x build/sealed-login ] || make -j2 all
exec python3 bench/acme/bench_acme.py
