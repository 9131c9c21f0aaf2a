"""Whole-binary tests of PROXY protocol v2 (src/login/proxy_v2.c, http_server.c) over real sockets:
the service configured with SEALED_PROXY_V2_FROM=127.0.0.2/32 stands behind a load balancer at
127.0.0.2. From there every connection must start with a v2 header, and the header's client address
is the one the per-address cap counts; from anywhere else (127.0.0.1) a header is not honoured and
connections are served as they come."""
import os
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import case, check, done   # noqa: E402
from service import Service, free_port, tls_context   # noqa: E402

HTTP_PORT = free_port()
S = Service(name="proxy_v2", env={"SEALED_PROXY_V2_FROM": "127.0.0.2/32", "SEALED_HTTP_PORT": str(HTTP_PORT)}).__enter__()
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
LB = "127.0.0.2"


def header(src, sport=40000, dst="10.0.1.50", dport=443, cmd=1, tlv=b""):
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(">HH", sport, dport) + tlv
    return SIG + bytes([0x20 | cmd, 0x11]) + struct.pack(">H", len(body)) + body


def sock(source, port=None, timeout=10):
    s = socket.create_connection(("127.0.0.1", port or S.port), timeout=timeout, source_address=(source, 0))
    return s


def tls_over(s):
    return tls_context().wrap_socket(s, server_hostname="localhost")


def healthz(s):
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    buf = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        buf += chunk
    return int(buf.split(b" ")[1]) if buf.startswith(b"HTTP/1.") else None


def served_via_lb(src):
    s = sock(LB)
    try:
        s.sendall(header(src))
        return healthz(tls_over(s))
    except (ssl.SSLError, ConnectionResetError, OSError):
        return None
    finally:
        s.close()


@case
def the_load_balancer_must_send_a_header_and_is_served_after_it():
    check(served_via_lb("198.51.100.7") == 200)
    # the header arriving in pieces is fine
    s = sock(LB)
    h = header("198.51.100.8", tlv=b"\x04\x00\x02ok")
    for i in range(0, len(h), 5):
        s.sendall(h[i:i + 5])
        time.sleep(0.02)
    check(healthz(tls_over(s)) == 200)
    s.close()
    # LOCAL (the balancer's own health check) is served under the balancer's address
    s = sock(LB)
    s.sendall(SIG + bytes([0x20, 0x00, 0, 0]))
    check(healthz(tls_over(s)) == 200)
    s.close()


@case
def without_a_header_or_with_a_bad_one_the_balancer_is_refused():
    for pre in (b"", SIG[:11] + b"X" + bytes([0x21, 0x11, 0, 12]) + bytes(12), header("198.51.100.9")[:12] + b"\x11\x11\x00\x0c"
                + bytes(12), SIG + bytes([0x21, 0x11]) + struct.pack(">H", 2000)):
        s = sock(LB)
        try:
            s.sendall(pre)
            ok = healthz(tls_over(s)) == 200
        except (ssl.SSLError, ConnectionResetError, OSError):
            ok = False
        s.close()
        check(not ok, pre)
    check("http.proxy_v2_rejected" in open(S.log_path).read())


@case
def a_header_from_outside_the_range_is_not_honoured():
    s = sock("127.0.0.1")
    s.sendall(header("198.51.100.10"))
    try:
        ok = healthz(tls_over(s)) == 200
    except (ssl.SSLError, ConnectionResetError, OSError):
        ok = False
    s.close()
    check(not ok, "a PROXY header from 127.0.0.1 was taken")
    s = sock("127.0.0.1")                                   # and a plain client there is served as usual
    check(healthz(tls_over(s)) == 200)
    s.close()


@case
def the_per_address_cap_counts_the_client_behind_the_balancer():
    socks = []
    try:
        for _ in range(64):                               # LIMIT_CONNECTIONS_PER_IP from one client (no TLS
            s = sock(LB)                                  # yet: quick, well inside the handshake deadline)
            s.sendall(header("203.0.113.5"))
            socks.append(s)
        time.sleep(0.5)
        check(S.status()["http"]["connections_open"] >= 64)
        # the cap holds per client, not per balancer: that client's 65th connection takes the place
        # of its own oldest waiting one (docs/architecture.md), another client's are not touched
        check(served_via_lb("203.0.113.5") == 200, "the 65th connection of one client was not served")
        socks[0].settimeout(2)
        try:
            gone = socks[0].recv(1) == b""
        except socket.timeout:
            gone = False
        except (ConnectionResetError, OSError):
            gone = True
        check(gone, "the client's oldest waiting connection was kept: the cap was bent")
        check(served_via_lb("203.0.113.6") == 200, "another client behind the same balancer was refused")
    finally:
        for s in socks:
            s.close()
    time.sleep(0.5)
    check(served_via_lb("203.0.113.5") == 200)


@case
def plain_http_listener_takes_the_header_too():
    s = sock(LB, HTTP_PORT)
    s.sendall(header("198.51.100.11", dport=80))
    st = healthz(s)
    s.close()
    check(st is not None and st != 400, st)
    s = sock(LB, HTTP_PORT)                               # no header: refused, not parsed as HTTP
    st = healthz(s)
    s.close()
    check(st is None, st)


try:
    done()
finally:
    S.__exit__(None, None, None)
