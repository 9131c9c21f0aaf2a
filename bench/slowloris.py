"""Slowloris load for bench/capped.py (not a test): keeps CONNS connections open to a TLS port from
many loopback addresses and trickles one byte every INTERVAL seconds, reconnecting (after a short
pause) whenever the server closes one, until SIGTERM or DURATION. Owns: only its own sockets. Never
touches: the servers (it only connects to them). Two kinds, mixed:
  tcp  plain TCP to the TLS port, trickling a TLS record header and then a ClientHello that never ends
  tls  a complete TLS handshake, then 'GET / HTTP/1.1' and a header line that never ends
Prints one JSON object on stdout when done: connections attempted, connected, refused (closed by
the server within 0.5 s of connecting, or the connect failed), closed by the server later (with
lifetimes), open now, peak open, and the count open each second.

    slowloris.py PORT [--conns 5000] [--tls-share 0.2] [--per-addr 40] [--interval 2]
                 [--ramp 5] [--duration 600] [--first-addr 256]"""
import argparse
import asyncio
import json
import resource
import signal
import ssl
import sys
import time

REFUSED_WITHIN_S = 0.5
RECONNECT_PAUSE_S = 0.5


class Stats:
    def __init__(self):
        self.attempts = self.connected = self.connect_failed = self.refused = self.closed = 0
        self.open = self.peak = 0
        self.lifetimes = []
        self.timeline = []
        self.by_kind = {"tcp": {"open": 0, "closed": 0, "refused": 0}, "tls": {"open": 0, "closed": 0, "refused": 0}}


def addr(i, per_addr, first):
    a = first + i // per_addr
    return f"127.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"


async def one(i, kind, a, st, ctx, stop):
    src = addr(i, a.per_addr, a.first_addr)
    await asyncio.sleep(a.ramp * i / a.conns)
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)) * 40
    head = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 7000
    while not stop.is_set():
        st.attempts += 1
        t0 = time.monotonic()
        w = None
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(
                "127.0.0.1", a.port, local_addr=(src, 0), ssl=ctx if kind == "tls" else None,
                server_hostname="localhost" if kind == "tls" else None), 30)
        except (OSError, ssl.SSLError, asyncio.TimeoutError):
            st.connect_failed += 1
            st.refused += 1
            st.by_kind[kind]["refused"] += 1
            if w:
                w.close()
            await asyncio.sleep(RECONNECT_PAUSE_S)
            continue
        st.connected += 1
        st.open += 1
        st.by_kind[kind]["open"] += 1
        st.peak = max(st.peak, st.open)
        payload = hello if kind == "tcp" else head
        k = 0
        try:
            while not stop.is_set() and k < len(payload):
                w.write(payload[k:k + 1])
                k += 1
                await w.drain()
                try:
                    await asyncio.wait_for(r.read(4096), a.interval)
                    break   # EOF, or an answer (408, an alert): the server is done with us
                except asyncio.TimeoutError:
                    pass
        except (OSError, ssl.SSLError):
            pass
        st.open -= 1
        st.by_kind[kind]["open"] -= 1
        w.close()
        if stop.is_set():
            break
        life = time.monotonic() - t0
        if life < REFUSED_WITHIN_S:
            st.refused += 1
            st.by_kind[kind]["refused"] += 1
        else:
            st.closed += 1
            st.by_kind[kind]["closed"] += 1
            st.lifetimes.append(life)
        await asyncio.sleep(RECONNECT_PAUSE_S)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--conns", type=int, default=5000)
    p.add_argument("--tls-share", type=float, default=0.2)
    p.add_argument("--per-addr", type=int, default=40)
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--ramp", type=float, default=5.0)
    p.add_argument("--duration", type=float, default=600.0)
    p.add_argument("--first-addr", type=int, default=256)   # 127.0.1.0 on: never 127.0.0.1
    a = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < a.conns + 100:
        sys.exit(f"slowloris: RLIMIT_NOFILE {hard} is below {a.conns + 100}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    st, stop = Stats(), asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.call_later(a.duration, stop.set)
    n_tls = int(a.conns * a.tls_share)
    # tls connections spread evenly among the tcp ones
    kinds = ["tls" if n_tls and (i * n_tls) // a.conns != ((i + 1) * n_tls) // a.conns else "tcp"
             for i in range(a.conns)]
    tasks = [asyncio.create_task(one(i, kinds[i], a, st, ctx, stop)) for i in range(a.conns)]
    t0 = time.monotonic()
    print("slowloris started", file=sys.stderr, flush=True)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass
        st.timeline.append([round(time.monotonic() - t0, 1), st.open])
    await asyncio.wait(tasks, timeout=5)
    open_at_end = st.timeline[-1][1] if st.timeline else 0
    lt = sorted(st.lifetimes)
    q = lambda f: round(lt[min(len(lt) - 1, int(f * len(lt)))], 2) if lt else None  # noqa: E731
    print(json.dumps({"conns": a.conns, "tls_conns": n_tls, "addresses": (a.conns + a.per_addr - 1) // a.per_addr,
                      "interval_s": a.interval, "attempts": st.attempts, "connected": st.connected,
                      "connect_failed": st.connect_failed, "refused": st.refused, "closed_by_server": st.closed,
                      "lifetime_p50_s": q(0.5), "lifetime_p90_s": q(0.9), "open_at_end": open_at_end,
                      "peak_open": st.peak, "by_kind": st.by_kind, "timeline": st.timeline}))


if __name__ == "__main__":
    asyncio.run(main())
