#!/bin/bash
# HTTPS throughput and memory: sealed-login vs nginx, same machine, same run, both with an ECDSA
# P-256 certificate, TLS 1.3 and keep-alive, serving a tiny /healthz; load from wrk (Debian).
# Prints one JSON line per server to bench/results/https.json.
set -eu
cd "$(dirname "$0")/.."
DUR=${DUR:-10}
CONNS=${CONNS:-64}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
    -days 2 -subj /CN=localhost 2>/dev/null
cat >"$work/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:18444 ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_requests 1000;
    location = /healthz { return 200 "ok\n"; }
  }
}
NGX
taskset -c 0 nginx -c "$work/nginx.conf" -p "$work" &
env -i PATH="$PATH" PAYPAL_ENV=local PAYPAL_AUTHORIZE_URL=http://127.0.0.1:9/a PAYPAL_API_BASE=http://127.0.0.1:9 \
    SEALED_HTTPS_PORT=18443 SEALED_LISTEN=127.0.0.1 SEALED_IDSET_CAPACITY=1000 \
    taskset -c 0 build/sealed-login >/dev/null 2>"$work/sl.err" &
sleep 1
rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
: > bench/results/https.json
for target in "sealed-login 18443 $(pgrep -n sealed-login)" "nginx 18444 $(pgrep -n -f "nginx: worker" || pgrep -n nginx)"; do
    set -- $target
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" "https://127.0.0.1:$2/healthz")
    rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
    lat=$(echo "$out" | awk '/Latency/{print $2}')
    printf '{"server":"%s","conns":%s,"seconds":%s,"requests_per_s":%s,"latency_avg":"%s","rss_kb_after":%s}\n' \
        "$1" "$CONNS" "$DUR" "$rps" "$lat" "$(rss "$3")" | tee -a bench/results/https.json
done
