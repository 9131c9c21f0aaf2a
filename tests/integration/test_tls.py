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


def s_client(*args):
    """One HTTP/1.1 request through `openssl s_client`; returns its stdout+stderr."""
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{S.port}", "-servername", "localhost",
                        "-tls1_3", "-ign_eof", *args], input=req, capture_output=True, timeout=30)
    return (p.stdout + p.stderr).decode("utf-8", "replace")


@case
def s_client_resumes_with_a_saved_ticket():
    sess = os.path.join(tempfile.mkdtemp(dir=OUT), "sess.pem")
    out = s_client("-sess_out", sess)
    check("New, TLSv1.3" in out and "200 OK" in out, out[-600:])
    check(os.path.getsize(sess) > 0)
    for _ in range(2):   # a saved ticket resumes (the client reads the same file each time)
        out = s_client("-sess_in", sess)
        check("Reused, TLSv1.3" in out and "200 OK" in out, out[-600:])
    st = S.status()
    check(st.get("tls", {}).get("tickets_key_hits", 0) >= 2, st.get("tls"))


def der_children(buf, start, end):
    """(tag, content_start, content_end) of each DER element in buf[start:end]."""
    i = start
    while i < end:
        tag, n = buf[i], buf[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7f
            n = int.from_bytes(buf[i:i + k], "big")
            i += k
        yield tag, i, i + n
        i += n


def ticket_span(der):
    """Where the ticket bytes sit in a DER SSL_SESSION (OpenSSL's ASN.1: [10] EXPLICIT OCTET
    STRING inside the top SEQUENCE)."""
    (tag, s0, e0), = list(der_children(der, 0, len(der)))
    for tag, s1, e1 in der_children(der, s0, e0):
        if tag == 0xAA:
            (inner, s2, e2), = list(der_children(der, s1, e1))
            return s2, e2
    return None


@case
def a_forged_ticket_gets_a_full_handshake():
    import base64
    sess = os.path.join(tempfile.mkdtemp(dir=OUT), "sess.pem")
    s_client("-sess_out", sess)
    lines = open(sess).read().strip().split("\n")
    der = bytearray(base64.b64decode("".join(lines[1:-1])))
    span = ticket_span(der)
    check(span and span[1] - span[0] > 64, span)
    st = S.status()["tls"]
    for name, lo, hi in (("key name", 0, 16), ("sealed body", 40, 48)):
        forged = bytearray(der)
        for i in range(span[0] + lo, span[0] + hi):
            forged[i] ^= 0x55
        b64 = base64.b64encode(bytes(forged)).decode()
        with open(sess, "w") as f:
            f.write(lines[0] + "\n" + "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) + "\n"
                    + lines[-1] + "\n")
        out = s_client("-sess_in", sess)
        check("200 OK" in out, out[-600:])
        check("New, TLSv1.3" in out, f"a ticket with a forged {name} resumed: " + out[-600:])
    after = S.status()["tls"]
    check(after["tickets_unknown_key"] == st["tickets_unknown_key"] + 1, (st, after))
    check(after["tickets_key_hits"] == st["tickets_key_hits"] + 1, (st, after))   # then its HMAC failed


try:
    done()
finally:
    S.__exit__()
