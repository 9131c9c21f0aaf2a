"""httpfake: the HTTP plumbing every fake in tests/fakes/ is built on (Python 3 stdlib only). Owns:
listening, TLS, request-body reading with a cap, replies, the route table and the ready line. Never
touches: what a fake answers (paths, status codes and error bodies stay in the fake).

How to write a fake (see fake_amd_kds.py for the smallest one):

    import httpfake                        # a sibling module: Python puts the script's directory
                                           # first on sys.path, so no path tricks are needed
    ROUTES = httpfake.Routes()

    @ROUTES.route("GET", r"/v1/things/([^/]+)")
    def get_thing(h, query, thing_id):     # h: the Handler; groups of the regex follow the query
        h.send_json(200, {"id": thing_id})

    class Handler(httpfake.Handler):
        routes = ROUTES
        methods = ("GET", "POST")          # anything else: the stdlib's 501
        max_body = 64 * 1024               # h.read_body() returns None above it (or on chunked or
                                           # a bad Content-Length): the fake says which error

        def no_route(self, path, allowed):  # optional: default is 404 (405 if allowed) JSON
            ...

    srv = httpfake.Server(("127.0.0.1", args.port), Handler, tls=httpfake.tls_context(cert, key))
    httpfake.ready(f"fake-thing listening on {srv.url}")   # or ready({...}) for a JSON line
    srv.serve_forever()                    # or srv.start() for a background thread (in-process)

A fake with its own pre-routing duties (signatures, fault injection, logs) overrides dispatch() and
calls self.routes.find(method, path) itself. Tests talk to a fake only over HTTP; a fake is started
as a script (`python3 tests/fakes/fake_x.py ...`) that prints one ready line on stdout.
"""
import json
import re
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024          # default request-body cap; each fake may name its own


class Routes:
    """A route table: (method, full-match path regex, optional Host) -> handler, first match wins.
    method "*" matches any method. Handlers are called as fn(handler, query, *groups)."""

    def __init__(self):
        self.table = []         # (method, compiled regex, host or None, fn, name)

    def add(self, method, pattern, fn, name=None, host=None):
        self.table.append((method, re.compile(pattern), host, fn, name or getattr(fn, "__name__", "")))
        return fn

    def route(self, method, pattern, name=None, host=None):
        """Decorator form of add()."""
        return lambda fn: self.add(method, pattern, fn, name, host)

    def find(self, method, path, host=None):
        """(fn, groups, name) of the first route for method and path (and host), or None."""
        for m, rx, h, fn, name in self.table:
            if (m == "*" or m == method) and (h is None or h == host):
                mt = rx.fullmatch(path)
                if mt:
                    return fn, mt.groups(), name
        return None

    def allowed(self, path, host=None):
        """Methods with a route for path: a non-empty list means 405 rather than 404."""
        return sorted({m for m, rx, h, _, _ in self.table
                       if (h is None or h == host) and rx.fullmatch(path)})


class Handler(BaseHTTPRequestHandler):
    """Base request handler: HTTP/1.1, quiet, one dispatch for every method in `methods`."""
    protocol_version = "HTTP/1.1"
    sys_version = ""
    # headers and body leave in two writes: with Nagle, the body waits for the client's delayed
    # ACK (40 ms on Linux), which bench/capped.py would count as the service's login latency
    disable_nagle_algorithm = True
    methods = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
    routes = None               # a Routes, for the default dispatch()
    max_body = MAX_BODY

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        for m in cls.methods:
            setattr(cls, "do_" + m, lambda self: self.dispatch())

    def log_message(self, fmt, *args):
        pass                    # the default line may quote request lines (tokens, codes)

    # -- requests
    def read_body(self, cap=None):
        """The request body, or None if it is chunked, its Content-Length is not a decimal number,
        or it is longer than cap (default self.max_body). An absent Content-Length is b""."""
        cap = self.max_body if cap is None else cap
        if self.headers.get("Transfer-Encoding"):
            return None
        v = self.headers.get("Content-Length", "0").strip()
        if not v.isdigit() or int(v) > cap:
            return None
        n = int(v)
        return self.rfile.read(n) if n else b""

    def split_path(self):
        path, _, query = self.path.partition("?")
        return path, query

    def dispatch(self):
        """Default: route on (method, path); unknown routes go to no_route()."""
        path, query = self.split_path()
        found = self.routes.find(self.command, path)
        if not found:
            return self.no_route(path, self.routes.allowed(path))
        fn, groups, _ = found
        return fn(self, query, *groups)

    def no_route(self, path, allowed):
        if allowed:
            return self.send_json(405, {"error": "method not allowed"}, [("Allow", ", ".join(allowed))])
        return self.send_json(404, {"error": "not found"})

    # -- replies
    def send(self, status, body=b"", ctype="application/json", headers=()):
        """One reply. body: bytes, str (UTF-8) or a JSON value. ctype None sends no Content-Type;
        a Content-Length in headers replaces the computed one (HEAD of an object). HEAD sends
        no body."""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
        headers = list(headers)
        self.send_response(status)
        if ctype is not None:
            self.send_header("Content-Type", ctype)
        if not any(k.lower() == "content-length" for k, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def send_json(self, status, obj, headers=(), ctype="application/json"):
        self.send(status, json.dumps(obj).encode(), ctype, headers)


def tls_context(cert, key, min_tls12=False):
    """A server context for a PEM certificate chain and key."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if min_tls12:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


class Server(ThreadingHTTPServer):
    """A threading server on (host, port) (port 0: a free one; host with ':' listens on IPv6).
    With tls, the handshake runs in the request's own thread so a silent client blocks no one."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024   # bench/logins.py: 1,000 callbacks reach the PayPal fake at once
    handshake_timeout = 30
    name = "fake"
    quiet = False               # True: connection errors are not logged at all

    def __init__(self, addr, handler, tls=None, name=None):
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        self.tls_ctx = tls
        self.host = addr[0]     # as given, for url (a name stays a name)
        if name:
            self.name = name
        super().__init__(addr, handler)

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls_ctx else 'http'}://{host}:{self.server_address[1]}"

    def finish_request(self, request, client_address):
        if self.tls_ctx is None:
            return super().finish_request(request, client_address)
        request.settimeout(self.handshake_timeout)
        try:
            tls = self.tls_ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return None
        tls.settimeout(None)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()
        return None

    def handle_error(self, request, client_address):
        # name the error class, never its text (it may quote a request)
        if not self.quiet:
            sys.stderr.write(f"{self.name}: connection error: {sys.exc_info()[0].__name__}\n")

    def start(self):
        """Serve in a daemon thread (in-process fakes and multi-listener fakes); returns self."""
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()


def ready(line):
    """The readiness handshake: one line on stdout (a str, or a JSON object), flushed."""
    print(line if isinstance(line, str) else json.dumps(line), flush=True)
