"""Logins in flight (not a test): N callbacks (default 1,000) wait on the fake PayPal at once while
it answers the token and the userinfo calls after DELAY s each (default 0.3). Measures, for
sealed-login alone (nginx has no login to compare; the peer is the same login run alone):
  - sustained logins per second: N / (first send to last answer),
  - latency added by the crowd: p50/p99 of the N callbacks minus the median of ALONE logins run
    one at a time with the same delays,
  - memory per login in flight: the server's RSS while all N wait, minus its RSS with the same N
    connections open and idle, divided by N.
Every callback is a real login: /login (sealed cookie, PKCE), the fake's authorize form, then the
callback over its own pre-opened keep-alive TLS connection from one of many loopback addresses
(the service allows 64 connections per address). The /callback rate limits are raised for the run:
this measures capacity, not the shipped policy (20 callbacks/s for all clients together).
Writes bench/results/logins.json."""
import json
import os
import re
import socket
import ssl
import statistics
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
os.environ.setdefault("SEALED_TEST_OUT", os.path.join(ROOT, "build", "bench"))
os.makedirs(os.environ["SEALED_TEST_OUT"], exist_ok=True)
from service import Service, tls_context  # noqa: E402

N = int(os.environ.get("LOGINS", "1000"))
DELAY = float(os.environ.get("DELAY", "0.3"))
ALONE = int(os.environ.get("ALONE", "5"))
PER_ADDR = 50


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_answer(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("closed")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    cl = int(re.search(rb"Content-Length: (\d+)", head, re.I).group(1))
    while len(rest) < cl:
        rest += s.recv(65536)
    return int(head.split(b" ")[1])


def main():
    users = [f"u{i}" for i in range(N + ALONE)]
    with Service(users=users, name="bench-logins",
                 env={"SEALED_IDSET_CAPACITY": str(10 * (N + ALONE)),
                      # capacity, not policy: the shipped /callback limits (20/s for all clients)
                      # would answer most of a 1,000-login burst with 429 by design
                      "SEALED_CALLBACK_RATE_GLOBAL": "1000000", "SEALED_CALLBACK_RATE_PER_ADDR": "1000000"}) as S:
        pid = S.proc.pid
        S.fault("token", "timeout", delay=DELAY, count=-1)
        S.fault("userinfo", "timeout", delay=DELAY, count=-1)
        alone = []
        for i in range(ALONE):
            cookie, url = S.start_login()
            cb = S.authorize(url, users[N + i])
            t = time.monotonic()
            r = S.get(cb, headers={"Cookie": cookie})
            alone.append(time.monotonic() - t)
            assert r.status == 200, r.status
        base = statistics.median(alone)
        print(f"alone: median {base * 1000:.0f} ms over {ALONE}", file=sys.stderr, flush=True)
        # prepare N callbacks and N idle TLS connections
        reqs = []
        for i in range(N):
            cookie, url = S.start_login()
            cb = S.authorize(url, users[i])
            reqs.append(f"GET {cb} HTTP/1.1\r\nHost: localhost:{S.port}\r\nCookie: {cookie}\r\n\r\n".encode())
        ctx = tls_context()

        def open_one(i):
            a = 2 + i // PER_ADDR
            raw = socket.create_connection(("127.0.0.1", S.port), timeout=60,
                                           source_address=(f"127.0.{a >> 8}.{a & 255}", 0))
            s = ctx.wrap_socket(raw, server_hostname="localhost")
            # one request first: an established connection that never sent one is closed after
            # the handshake timeout (10 s); after a request it is an idle keep-alive (30 s)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            read_answer(s)
            return s
        from concurrent.futures import ThreadPoolExecutor
        t_open = time.monotonic()
        with ThreadPoolExecutor(64) as ex:   # quickly: the first must still be open at the start
            socks = list(ex.map(open_one, range(N)))
        print(f"{N} connections open in {time.monotonic() - t_open:.1f} s", file=sys.stderr, flush=True)
        time.sleep(1)
        rss_idle = rss_kb(pid)
        lat, status = [None] * N, [None] * N
        go = threading.Barrier(N + 1)

        def one(i):
            go.wait()
            t = time.monotonic()
            socks[i].sendall(reqs[i])
            status[i] = read_answer(socks[i])
            lat[i] = time.monotonic() - t
        ts = [threading.Thread(target=one, args=(i,)) for i in range(N)]
        [t.start() for t in ts]
        t0 = time.monotonic()
        go.wait()
        time.sleep(DELAY * 1.5)                # all sent, all waiting on the fake
        rss_busy = rss_kb(pid)
        st = S.status()
        pending = {k: v for k, v in st.items() if "pend" in k or "flow" in k or "progress" in k}
        [t.join() for t in ts]
        wall = time.monotonic() - t0
        alive = S.proc.poll()
        print(f"service exit status while running: {alive}", file=sys.stderr, flush=True)
        for s in socks:
            s.close()
    ok = sum(1 for s in status if s == 200)
    lat.sort()
    q = lambda p: lat[min(N - 1, int(p * N))]  # noqa: E731
    res = {"what": "logins in flight against the fake PayPal (token and userinfo each delayed)",
           "logins": N, "delay_s_each_call": DELAY, "ok": ok, "statuses": sorted(set(status)),
           "alone_median_ms": base * 1000, "wall_s": wall, "logins_per_s": N / wall,
           "p50_ms": q(0.5) * 1000, "p99_ms": q(0.99) * 1000,
           "added_p50_ms": (q(0.5) - base) * 1000, "added_p99_ms": (q(0.99) - base) * 1000,
           "rss_idle_conns_kb": rss_idle, "rss_in_flight_kb": rss_busy, "pending_seen": pending,
           "kb_per_login_in_flight": (rss_busy - rss_idle) / N, "loadavg_at_end": os.getloadavg()}
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "logins.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
