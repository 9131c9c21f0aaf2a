"""Whole-binary tests of the HTTP server's named limits (src/login/limits.h) over real TLS
sockets: oversized heads, slow heads, bodies, bad framing, keep-alive and pipelining, per-IP
connection caps, and the fail-closed capacity of the used-id set."""
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import case, check, done   # noqa: E402
from service import Service, tls_context   # noqa: E402

S = Service(name="limits").__enter__()


def tls_sock(timeout=20):
    raw = socket.create_connection(("127.0.0.1", S.port), timeout=timeout)
    return tls_context().wrap_socket(raw, server_hostname="localhost")


def read_response(s):
    """Reads one response (head + Content-Length body); returns (status, head, body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None, buf, b""
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ")[1])
    cl = 0
    for line in head.split(b"\r\n")[1:]:
        k, v = line.split(b":", 1)
        if k.lower() == b"content-length":
            cl = int(v)
    while len(rest) < cl:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, head.decode(), rest[:cl]


def raw(request, timeout=20):
    s = tls_sock(timeout)
    try:
        s.sendall(request)
        return read_response(s)
    finally:
        s.close()


def closed(s):
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True


@case
def oversized_header_gets_431():
    st, head, _ = raw(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
    check(st == 431, st)
    check("Connection: close" in head)


@case
def huge_header_still_gets_its_431_not_a_reset():
    # the server drains what the client still sends before closing (lingering close), so the
    # 431 is read instead of being destroyed by a TCP reset
    for _ in range(5):
        st, _, _ = raw(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
        check(st == 431, st)


@case
def too_many_header_fields_gets_431():
    st, _, _ = raw(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(60)) + b"\r\n")
    check(st == 431, st)


@case
def overlong_request_line_gets_414():
    st, _, _ = raw(b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    check(st == 414, st)


@case
def large_body_gets_413_and_transfer_encoding_501():
    st, _, _ = raw(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
    check(st == 413, st)
    st, _, _ = raw(b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    check(st == 501, st)


@case
def malformed_heads_get_400_and_versions_505():
    for req in (b"GET / HTTP/1.1\r\n\r\n",                         # no Host in 1.1
                b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
                b"GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                b"GET / HTTP/1.1\nHost: x\n\n"):
        st, _, _ = raw(req)
        check(st == 400, (req, st))
    st, _, _ = raw(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
    check(st == 505, st)


@case
def slow_header_times_out_with_408():
    s = tls_sock(timeout=30)
    t = time.time()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")     # never finishes the head
    st, _, _ = read_response(s)
    el = time.time() - t
    check(st == 408, st)
    check(8 <= el <= 15, el)
    check(closed(s))
    s.close()


@case
def keep_alive_and_pipelining_are_served_in_order():
    s = tls_sock()
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    a = read_response(s)
    b = read_response(s)
    c = read_response(s)
    check((a[0], b[0], c[0]) == (200, 404, 200), (a[0], b[0], c[0]))
    check("Connection: keep-alive" in a[1] and "Connection: close" in c[1])
    check(closed(s))
    s.close()


@case
def http10_closes_unless_keep_alive():
    s = tls_sock()
    s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
    st, head, _ = read_response(s)
    check(st == 200 and "Connection: close" in head)
    check(closed(s))
    s.close()


def still_open(s):
    """False once the server has closed s; True while it holds it (nothing to read for 0.5 s)."""
    s.settimeout(0.5)
    try:
        return s.recv(1) != b""
    except socket.timeout:
        return True
    except (ConnectionResetError, ssl.SSLError, OSError):
        return False


@case
def per_ip_connection_cap_an_extra_connection_takes_the_place_of_the_addresss_oldest_waiting_one():
    """The cap holds (64 per address): the 65th connection from one address is served in place of
    that address's oldest connection still waiting for a request, which the server closes
    (docs/architecture.md, "Connection lifecycle"); refused only when all 64 are busy
    (tests/integration/test_connection_pressure.py)."""
    before = S.status()["http"]
    socks = []
    try:
        for _ in range(64):
            socks.append(tls_sock())
        extra = tls_sock(timeout=5)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        check(read_response(extra)[0] == 200, "the 65th connection from one address was not served")
        check(not still_open(socks[0]), "the address's oldest waiting connection was kept")
        check(still_open(socks[2]) and still_open(socks[63]), "more than the oldest gave way")
        extra.close()
    finally:
        for s in socks:
            s.close()
    time.sleep(0.5)
    check(raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200)
    after = S.status()["http"]
    check(after["refused_per_address"] == before["refused_per_address"], after)
    check(after["evicted"]["head"] > before["evicted"]["head"], after)


@case
def tls_policy_is_1_2_or_1_3_with_ecdsa():
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    ctx = tls_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    try:
        ctx.wrap_socket(socket.create_connection(("127.0.0.1", S.port), timeout=5), server_hostname="localhost")
        check(False, "TLS 1.1 accepted")
    except (ssl.SSLError, ConnectionResetError, OSError):
        pass
    s = tls_sock()
    check(s.version() in ("TLSv1.3", "TLSv1.2"))
    cert = s.getpeercert(binary_form=True)
    check(b"\x2a\x86\x48\xce\x3d\x02\x01" in cert, "not an EC key")   # id-ecPublicKey
    s.close()


@case
def idset_capacity_fails_closed():
    with Service(users=["u1", "u2"], env={"SEALED_IDSET_CAPACITY": "1"}, name="capacity") as s:
        check(s.login("u1").status == 200)
        r = s.login("u2")
        check(r.status == 503 and "full" in r.text, r.status)
        check(s.login("u1").status == 409)      # never forgets the one it holds
        check(s.status()["ids_served"] == 1)


try:
    done()
finally:
    S.__exit__()
