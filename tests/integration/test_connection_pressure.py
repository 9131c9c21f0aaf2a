"""Whole-binary tests of what the HTTP server does when it is full (src/login/http_server.c,
docs/architecture.md "Connection lifecycle"): a new connection takes the place of the oldest
connection that made the least progress (a ClientHello still arriving, then a TLS handshake, then
a first request head, then idle keep-alive); connections busy with a request are never closed for
it; the per-address cap is never bent. Also the wait for a complete first TLS record, before any
OpenSSL state exists: a ClientHello trickled in pieces still completes, a client that half-closes
or speaks something else is closed at once; behind a load balancer (PROXY v2) the same holds. The
service runs with RLIMIT_NOFILE 228, so its descriptor budget (main.c) makes the connection cap
100. Every check counts (the service's /status counters, which connections the server closed, its
log); none measures time."""
import os
import resource
import select
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import case, check, done   # noqa: E402
from service import Service, tls_context   # noqa: E402

CAP = 100
NOFILE = CAP + 128   # LIMIT_FD_RESERVE


def small_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


S = Service(name="pressure", preexec=small_nofile).__enter__()
HELLO_PART = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"   # a ClientHello record's first 11 of 517 bytes
open_socks = []


def addr(i):
    return f"127.0.0.{i}"


def tcp(src):
    s = socket.create_connection(("127.0.0.1", S.port), timeout=20, source_address=(src, 0))
    open_socks.append(s)
    return s


def hello_part(src):
    """A connection stuck in its ClientHello."""
    s = tcp(src)
    s.sendall(HELLO_PART)
    return s


def tls(src):
    """A connection with a finished TLS handshake that has sent no request."""
    s = tls_context().wrap_socket(tcp(src), server_hostname="localhost")
    open_socks.append(s)
    return s


def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    cl = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < cl:
        rest += s.recv(65536)
    return int(head.split(b" ")[1]), rest


def served(src, path=b"/healthz"):
    """A real visitor: a new TLS connection, one request answered, the connection kept open (idle)."""
    s = tls(src)
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    st, body = read_response(s)
    check(st == 200, st)
    return s, body


def status_over(s):
    import json
    s.sendall(b"GET /status?format=json HTTP/1.1\r\nHost: localhost\r\n\r\n")
    st, body = read_response(s)
    check(st == 200, st)
    return json.loads(body)["http"]


def closed_by_server(s):
    """True when the server has closed s (FIN, reset or close_notify waiting); False while it holds it."""
    if isinstance(s, ssl.SSLSocket) and s.pending():
        return False
    if not select.select([s], [], [], 0)[0]:
        return False
    try:
        if isinstance(s, ssl.SSLSocket):
            s.setblocking(False)
            return s.recv(1) == b""
        return s.recv(1, socket.MSG_PEEK) == b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except (ConnectionResetError, ssl.SSLError, OSError):
        return True


def refused(s):
    """True when the server closed s at once (a blocking read ends without an answer)."""
    try:
        s.settimeout(20)
        return s.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True
    except socket.timeout:
        return False


def settle():
    """Closes every test connection and waits until the server holds none but the status call."""
    while open_socks:
        try:
            open_socks.pop().close()
        except OSError:
            pass
    for _ in range(200):
        if S.status()["http"]["connections_open"] == 1:
            return
        time.sleep(0.1)
    raise AssertionError("the server still holds connections after the test closed them all")


def delta(after, before, key):
    return {k: after[key][k] - before[key][k] for k in after[key]}


@case
def the_cap_is_what_the_descriptor_budget_gives():
    check("service.fd_budget nofile=%d connections=%d" % (NOFILE, CAP) in S.log_text(), "budget line")
    st = S.status()["http"]
    check(set(st["waiting"]) == {"hello", "handshake", "head", "idle"}, st)


@case
def full_of_stalled_hellos_a_real_request_is_served_in_place_of_the_oldest():
    settle()
    before = S.status()["http"]
    slow = [hello_part(addr(2 + i // 50)) for i in range(CAP)]   # 50 from each of two addresses
    real = [served("127.0.0.1")[0] for _ in range(5)]
    after = S.status()["http"]   # a sixth new connection
    check(after["connections_open"] == CAP, after)
    check(delta(after, before, "evicted") == {"hello": 6, "handshake": 0, "head": 0, "idle": 0}, after)
    check(after["waiting"]["hello"] == CAP - 6 and after["waiting"]["idle"] == len(real), after["waiting"])
    check(after["refused_full"] == before["refused_full"], after)
    gone = [closed_by_server(s) for s in slow]
    check(gone == [True] * 6 + [False] * (CAP - 6), gone)   # the oldest six, in order
    check(not any(closed_by_server(s) for s in real))
    log = S.log_text()
    check("http.pressure action=evict reason=full evicted=hello" in log, log[-2000:])
    # waiting for their ClientHello, the stalled connections have no TLS state: none timed out or
    # reached a handshake
    check(after["waiting"]["handshake"] == 0 and delta(after, before, "timed_out")["handshake"] == 0)


@case
def least_progress_goes_first_then_the_oldest():
    settle()
    before = S.status()["http"]
    p = tls("127.0.0.1")   # the status connection, kept open
    idle = [served(addr(3))[0] for _ in range(48)]        # oldest: each served one request
    fresh = [tls(addr(2)) for _ in range(50)]             # then: handshake done, no request
    for _ in range(200):
        st = status_over(p)
        if st["waiting"]["head"] == 50 and st["waiting"]["idle"] == 48:
            break
        time.sleep(0.05)
    check(st["waiting"]["head"] == 50 and st["waiting"]["idle"] == 48, st["waiting"])
    h = hello_part(addr(4))                               # newest: a stalled ClientHello
    real = [served("127.0.0.1")[0] for _ in range(3)]     # full now: each takes one place
    st = status_over(p)
    check(st["connections_open"] == CAP, st)
    check(delta(st, before, "evicted") == {"hello": 1, "handshake": 0, "head": 2, "idle": 0}, st)
    check(st["waiting"]["head"] == 48 and st["waiting"]["idle"] == 48 + len(real), st["waiting"])
    check(closed_by_server(h))
    check([closed_by_server(s) for s in fresh] == [True] * 2 + [False] * 48)
    check(not any(closed_by_server(s) for s in idle + real + [p]))


@case
def connections_busy_with_a_request_are_never_closed_for_a_new_one():
    settle()
    before = S.status()["http"]
    p = tls("127.0.0.1")
    busy_req = b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc"   # body never ends
    busy = []
    for i in range(CAP - 1):
        s = tls(addr(2 + i // 50))
        s.sendall(busy_req)
        busy.append(s)
    for _ in range(200):
        st = status_over(p)
        if st["connections_open"] == CAP and not any(st["waiting"].values()):
            break
        time.sleep(0.05)
    check(st["connections_open"] == CAP and not any(st["waiting"].values()), st)
    # p answers one more status and then turns busy too (its next request is read once the answer
    # is out, before the server accepts anything else)
    p.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n" + busy_req)
    check(read_response(p)[0] == 200)
    try:
        extra = tls(addr(5))
        check(refused(extra), "a connection was taken while every connection was busy")
    except (ssl.SSLError, ConnectionResetError, OSError):
        pass   # refused during the handshake
    for s in busy[:10]:
        s.close()
    for _ in range(200):
        after = S.status()["http"]
        if after["connections_open"] <= CAP - 9:
            break
        time.sleep(0.05)
    check(delta(after, before, "evicted") == {"hello": 0, "handshake": 0, "head": 0, "idle": 0}, after)
    check(after["refused_full"] - before["refused_full"] == 1, after)
    logged = ("action=refuse reason=full", "refused_full=1 ")
    for _ in range(300):   # logged at once, or summed up in the next http.pressure line (10 s)
        if any(w in S.log_text() for w in logged):
            break
        time.sleep(0.1)
    check(any(w in S.log_text() for w in logged), S.log_text()[-2000:])


@case
def an_address_at_its_cap_gives_way_only_to_itself():
    """The per-address cap is never bent: at it, an address's new connection takes the place of its
    own oldest waiting one (a visitor sharing a NAT or a /64 with stalled connections gets in), and
    the rest of the server keeps what it holds; the server full at the same time changes nothing."""
    settle()
    before = S.status()["http"]
    a = [hello_part(addr(2)) for _ in range(64)]          # this address at its cap
    b = [hello_part(addr(3)) for _ in range(CAP - 64)]    # and the server full
    s, _ = served(addr(2))                                # one more from that address is served
    after = S.status()["http"]                            # (from 127.0.0.1: a hello gives way)
    check(after["refused_per_address"] == before["refused_per_address"], after)
    check(delta(after, before, "evicted")["hello"] == 2, after)   # for s (its own) and for the status call
    check([closed_by_server(x) for x in a[:3]] == [True, True, False], "the address's oldest, then the next")
    check(not any(closed_by_server(x) for x in b), "another address's connections gave way to an address at its cap")


@case
def an_address_whose_connections_are_all_busy_is_refused_at_its_cap():
    """Connections busy with a request (here a body still arriving) never give way: the 65th from
    that address is refused and nobody else's connection is closed for it."""
    settle()
    before = S.status()["http"]
    busy = []
    for _ in range(64):
        t = tls(addr(4))
        t.sendall(b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc")   # body never ends
        busy.append(t)
    p = tls("127.0.0.1")
    for _ in range(200):
        st = status_over(p)
        if st["connections_open"] == 65 and not any(st["waiting"].values()):
            break
        time.sleep(0.05)
    check(st["connections_open"] == 65 and not any(st["waiting"].values()), st)
    other = hello_part(addr(6))
    extra = hello_part(addr(4))
    check(refused(extra), "a 65th connection from an address whose 64 are busy was taken")
    after = S.status()["http"]
    check(after["refused_per_address"] - before["refused_per_address"] == 1, after)
    check(not closed_by_server(other) and not any(closed_by_server(x) for x in busy[:8]), "something gave way")


@case
def a_client_hello_trickled_in_pieces_still_completes():
    settle()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = tls_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    check(hello[0] == 0x16 and len(hello) > 100, len(hello))
    s = tcp("127.0.0.1")
    for piece in (hello[:1], hello[1:5], hello[5:60], hello[60:-1]):
        s.sendall(piece)
        st = S.status()["http"]   # accepted after s: s is in by now
        check(st["waiting"]["hello"] == 1 and st["waiting"]["handshake"] == 0, st["waiting"])   # no OpenSSL state yet
    s.sendall(hello[-1:])
    s.settimeout(20)
    while True:   # finish the handshake over the socket
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            if outgoing.pending:
                s.sendall(outgoing.read())
            data = s.recv(65536)
            check(data, "closed during the handshake")
            incoming.write(data)
    if outgoing.pending:
        s.sendall(outgoing.read())
    obj.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    s.sendall(outgoing.read())
    got = b""
    while b"ok\n" not in got:
        data = s.recv(65536)
        check(data, "no answer")
        incoming.write(data)
        try:
            got += obj.read(65536)
        except ssl.SSLWantReadError:
            pass
    check(got.startswith(b"HTTP/1.1 200"), got[:40])


@case
def a_half_closed_or_foreign_first_record_is_closed_without_waiting_for_the_deadline():
    settle()
    before = S.status()["http"]
    s = hello_part(addr(2))
    s.shutdown(socket.SHUT_WR)
    check(refused(s), "kept after a half-close in its ClientHello")
    f = tcp(addr(2))
    f.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    f.settimeout(20)
    try:
        while f.recv(4096):   # OpenSSL's answer to plain HTTP, if any, then the close
            pass
    except ConnectionResetError:
        pass
    after = S.status()["http"]
    check(delta(after, before, "timed_out") == {"hello": 0, "handshake": 0, "head": 0, "idle": 0}, after)


@case
def behind_a_load_balancer_a_full_server_still_takes_a_new_client():
    # every connection comes from the balancer (127.0.0.2) with a PROXY v2 header naming the client
    import struct
    settle()

    def via_lb(port, client):
        body = socket.inet_aton(client) + socket.inet_aton("10.0.1.50") + struct.pack(">HH", 40000, 443)
        c = socket.create_connection(("127.0.0.1", port), timeout=20, source_address=("127.0.0.2", 0))
        c.sendall(b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + struct.pack(">H", len(body)) + body)
        open_socks.append(c)
        return c
    with Service(name="pressure-lb", preexec=small_nofile, env={"SEALED_PROXY_V2_FROM": "127.0.0.2/32"}) as L:
        slow = [via_lb(L.port, f"198.51.100.{1 + i // 50}") for i in range(CAP)]
        for c in slow:
            c.sendall(HELLO_PART)
        s = tls_context().wrap_socket(via_lb(L.port, "203.0.113.9"), server_hostname="localhost")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        check(read_response(s)[0] == 200)
        st = L.status()["http"]   # not through the balancer: from 127.0.0.1
        check(st["evicted"]["hello"] == 2 and st["connections_open"] == CAP, st)
        check([closed_by_server(c) for c in slow[:3]] == [True, True, False])
        s.close()


try:
    done()
finally:
    settle()
    S.__exit__()
