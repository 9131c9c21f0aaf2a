"""HTTPS benchmark (not a test): sealed-login against nginx on the same machine, in the same run,
rounds interleaved (sealed-login first in odd rounds, nginx first in even ones) so that the other
jobs sharing this machine hit both alike. ECDSA P-256 certificates (sealed-login makes its own self-
signed one, nginx gets one from openssl req), TLS 1.2/1.3 with
X25519, the same response headers, each server pinned to core 0 and the load to core 1.

Figures (medians over ROUNDS, with min and max):
  full_handshakes    new TLS 1.3 connection per request: wrk -H 'Connection: close', 32 connections
  s_time_new         the same, one connection at a time: openssl s_time -new -www /healthz
  resumed_handshakes openssl s_time -reuse: TLS 1.3 ticket resumption; 'resumed' counts the
                     connections s_client reports as reused ('r'), so a server that never resumes
                     shows 0
  keepalive_root, keepalive_healthz   wrk, 64 keep-alive connections, GET / and GET /healthz
                     (nginx serves a static copy of sealed-login's / page)
  fixed_rate_healthz p50/p99 latency of GET /healthz at a fixed RATE requests/s over 8 keep-alive
                     connections on a fixed schedule, from send to the last byte of the answer
                     ('late' counts sends the client itself made more than 10 ms behind schedule)
  idle_memory        resident memory per idle TLS connection: IDLE_CONNS connections from many
                     loopback addresses, each after one keep-alive request, RSS growth / count
  half_open_memory   the same for IDLE_CONNS plain TCP connections to the TLS port that sent the
                     first 11 bytes of a ClientHello and then nothing (a slowloris's connection)
  slow_head_memory   the same for IDLE_CONNS TLS connections that sent the start of a request head
                     and then nothing (the other slowloris)
Every load figure also reports the server's own CPU time (utime+stime from /proc), as requests
per server-CPU-second: on a machine shared with other jobs that is the steadier number.
The bound: `openssl speed ecdsap256 ecdhx25519` per CPU second; one full handshake costs the
server at least one ECDSA P-256 signature and one X25519 key agreement, so
bound = 1 / (1/sign_per_s + 1/ecdh_per_s) full handshakes per CPU second.
Writes bench/results/https.json; prints a summary."""
import json
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
BIN = os.path.join(ROOT, "build", "sealed-login")
RESULTS = os.path.join(ROOT, "bench", "results")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
DUR = int(os.environ.get("DUR", "8"))
RATE = int(os.environ.get("RATE", "200"))
IDLE_CONNS = int(os.environ.get("IDLE_CONNS", "4000"))
PER_ADDR = 50            # below both servers' per-address caps (sealed-login: 64)
SERVER_CPU, LOAD_CPU = "0", "1"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def cpu_s(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Server:
    def __init__(self, name, port, proc, pid):
        self.name, self.port, self.proc, self.pid = name, port, proc, pid


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def raise_nofile():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_sealed(work, preexec=raise_nofile):
    """preexec: run in the server before exec (bench/capped.py adds its cgroup)."""
    port = free_port()
    env = {"PATH": os.environ["PATH"], "PAYPAL_ENV": "local", "PAYPAL_AUTHORIZE_URL": "http://127.0.0.1:9/a",
           "PAYPAL_API_BASE": "http://127.0.0.1:9", "SEALED_HTTPS_PORT": str(port), "SEALED_LISTEN": "127.0.0.1",
           "SEALED_IDSET_CAPACITY": "1000", "SEALED_DOMAIN": f"localhost:{port}",
}
    p = subprocess.Popen(["taskset", "-c", SERVER_CPU, BIN], env=env, stdout=subprocess.PIPE,
                         stderr=open(f"{work}/sealed.err", "w"), text=True, preexec_fn=preexec)
    line = p.stdout.readline()
    if "serving" not in line:
        raise RuntimeError("sealed-login did not start: " + line + open(f"{work}/sealed.err").read())
    return Server("sealed-login", port, p, p.pid)


NGINX_CONF = """worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx.err;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {work}/cert.pem;
    ssl_certificate_key {work}/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1;
    keepalive_requests 1000;
    keepalive_timeout 30s;
    root {work}/www;
    add_header Cache-Control no-store always;
    add_header X-Content-Type-Options nosniff always;
    add_header X-Frame-Options DENY always;
    add_header Referrer-Policy no-referrer always;
    add_header Strict-Transport-Security max-age=31536000 always;
    location = / {{ default_type "text/html; charset=utf-8"; try_files /index.html =404; }}
    location = /healthz {{ default_type "text/plain; charset=utf-8"; return 200 "ok\\n"; }}
  }}
}}
"""


def start_nginx(work, preexec=raise_nofile):
    port = free_port()
    with open(f"{work}/nginx.conf", "w") as f:
        f.write(NGINX_CONF.format(work=work, port=port))
    p = subprocess.Popen(["taskset", "-c", SERVER_CPU, NGINX, "-c", f"{work}/nginx.conf", "-p", work],
                         stdout=subprocess.DEVNULL, stderr=open(f"{work}/nginx.stderr", "w"), preexec_fn=preexec)
    for _ in range(100):
        out = run(["pgrep", "-P", str(p.pid)]).stdout.split()
        if out:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return Server("nginx", port, p, int(out[0]))   # the worker does the work
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError("nginx did not start: " + open(f"{work}/nginx.stderr").read())


def measured(srv, fn):
    """Runs fn(); returns (its result, server CPU seconds used meanwhile)."""
    c0 = cpu_s(srv.pid)
    r = fn()
    return r, cpu_s(srv.pid) - c0


def wrk(srv, path, conns, close=False):
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{DUR}s", "--latency"]
    if close:
        cmd += ["-H", "Connection: close"]
    out, cpu = measured(srv, lambda: run(cmd + [f"https://127.0.0.1:{srv.port}{path}"]).stdout)
    m = re.search(r"(\d+) requests in ([\d.]+)s", out)
    if not m:
        raise RuntimeError("wrk: " + out)
    n, secs = int(m.group(1)), float(m.group(2))
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"per_s": n / secs, "per_server_cpu_s": n / cpu if cpu else None, "requests": n,
            "non_2xx": int(errs.group(1)) if errs else 0, "server_cpu_s": cpu}


def s_time(srv, mode):
    cmd = ["taskset", "-c", LOAD_CPU, "openssl", "s_time", "-connect", f"127.0.0.1:{srv.port}", f"-{mode}",
           "-time", str(DUR), "-www", "/healthz"]
    out, cpu = measured(srv, lambda: run(cmd).stdout)
    m = re.search(r"(\d+) connections in (\d+) real seconds", out)
    if not m:
        raise RuntimeError("s_time: " + out[-500:])
    n, secs = int(m.group(1)), int(m.group(2))
    marks = re.findall(r"^[r*t123]+$", out, re.M)   # s_time prints one mark per connection
    resumed = sum(line.count("r") for line in marks) if mode == "reuse" else 0
    return {"per_s": n / secs, "per_server_cpu_s": n / cpu if cpu else None, "connections": n,
            "resumed": resumed, "server_cpu_s": cpu}


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)   # no CA store to load (~40 ms): nothing is verified
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def read_answer(s, buf=b""):
    """Reads one HTTP answer with a Content-Length from socket s, after buf (bytes already read);
    returns (status, the bytes read past its end). Raises ConnectionError if s closes first."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            m = re.search(rb"Content-Length: (\d+)", buf[:end], re.I)
            if m and len(buf) >= end + 4 + int(m.group(1)):
                return int(buf.split(b" ", 2)[1]), buf[end + 4 + int(m.group(1)):]
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the end of the answer")
        buf += chunk


def fixed_rate(srv, rate, conns=8):
    """GET /healthz at `rate`/s for DUR s over `conns` keep-alive connections, one thread each on
    its own schedule; latency from the send to the end of the answer."""
    lat, late, lock = [], [0], threading.Lock()
    start = time.monotonic() + 0.5
    per_conn = rate / conns
    n_each = int(DUR * per_conn)
    req = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"

    def worker(k):
        s = ctx().wrap_socket(socket.create_connection(("127.0.0.1", srv.port)), server_hostname="localhost")
        mine, behind = [], 0
        buf = b""
        for i in range(n_each):
            due = start + (i + k / conns) / per_conn
            d = due - time.monotonic()
            if d > 0:
                time.sleep(d)
            elif d < -0.010:
                behind += 1
            t0 = time.monotonic()
            s.sendall(req)
            _, buf = read_answer(s, buf)
            mine.append(time.monotonic() - t0)
        s.close()
        with lock:
            lat.extend(mine)
            late[0] += behind

    def go():
        ts = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
        [t.start() for t in ts]
        [t.join() for t in ts]
    _, cpu = measured(srv, go)
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000  # noqa: E731
    return {"rate": rate, "requests": len(lat), "p50_ms": q(0.50), "p99_ms": q(0.99), "max_ms": lat[-1] * 1000,
            "late": late[0], "per_server_cpu_s": len(lat) / cpu if cpu else None}


def idle_memory(srv, n):
    """Opens n TLS connections from 127.0.0.2... (PER_ADDR each), one keep-alive request each,
    leaves them idle; returns the server's RSS growth per connection."""
    time.sleep(0.5)
    before = rss_kb(srv.pid)
    socks = []
    c = ctx()
    req = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
    try:
        for i in range(n):
            a = 2 + i // PER_ADDR
            src = f"127.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"
            raw = socket.create_connection(("127.0.0.1", srv.port), timeout=20, source_address=(src, 0))
            s = c.wrap_socket(raw, server_hostname="localhost")
            s.sendall(req)
            got = b""
            while b"ok\n" not in got:
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError(f"{srv.name} closed connection {i}")
                got += chunk
            socks.append(s)
        time.sleep(1.0)
        after = rss_kb(srv.pid)
    finally:
        for s in socks:
            s.close()
    return {"connections": n, "rss_before_kb": before, "rss_after_kb": after,
            "kb_per_connection": (after - before) / n}


def half_open_memory(srv, n, tls=False):
    """Opens n TCP connections from 127.0.0.2... (PER_ADDR each) to the TLS port, sends each the
    first 11 bytes of a ClientHello record (it announces 512 bytes), or with tls a finished
    handshake and the start of a request head, and leaves it there; returns the server's RSS growth
    per connection once it holds them all."""
    time.sleep(0.5)
    before = rss_kb(srv.pid)
    socks = []
    part = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: a" if tls else b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
    c = ctx()
    try:
        for i in range(n):
            a = 2 + i // PER_ADDR
            src = f"127.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=20, source_address=(src, 0))
            if tls:
                s = c.wrap_socket(s, server_hostname="localhost")
            s.sendall(part)
            socks.append(s)
        time.sleep(2.0)   # every connection accepted and its bytes seen (well within the 10 s timeouts)
        after = rss_kb(srv.pid)
        alive = 0
        for s in socks:   # still held (none closed or refused)?
            s.setblocking(False)
            try:
                alive += s.recv(1) != b""
            except (BlockingIOError, ssl.SSLWantReadError):
                alive += 1
            except OSError:
                pass
    finally:
        for s in socks:
            s.close()
    return {"connections": n, "held": alive, "rss_before_kb": before, "rss_after_kb": after,
            "kb_per_connection": (after - before) / n}


def speed_bound():
    out = run(["taskset", "-c", SERVER_CPU, "openssl", "speed", "-seconds", "3", "ecdsap256", "ecdhx25519"]).stdout
    sign = float(re.search(r"256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)", out).group(1))
    ecdh = float(re.search(r"253 bits ecdh \(X25519\)\s+[\d.]+s\s+([\d.]+)", out).group(1))
    return {"ecdsa_p256_sign_per_s": sign, "x25519_per_s": ecdh,
            "full_handshake_bound_per_cpu_s": 1 / (1 / sign + 1 / ecdh)}


def med(vals):
    vals = [v for v in vals if v is not None]
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)} if vals else None


def make_work():
    """A directory with nginx's ECDSA P-256 key and certificate and an empty www/."""
    work = tempfile.mkdtemp(prefix="sealed-bench-")
    os.chmod(work, 0o755)   # nginx's worker runs as nobody and reads www/ from here
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", f"{work}/key.pem", "-out", f"{work}/cert.pem", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    os.makedirs(f"{work}/www")
    return work


def copy_page(srv, work):
    """Gives nginx a static copy of sealed-login's / page."""
    page = subprocess.run(["curl", "-sk", f"https://127.0.0.1:{srv.port}/"], capture_output=True, check=True).stdout
    with open(f"{work}/www/index.html", "wb") as f:
        f.write(page)


def summarize(raw):
    """{server: {figure: [run, ...]}} -> {server: {figure: {field: med(...)}}} over numeric fields."""
    summary = {}
    for name, figs in raw.items():
        summary[name] = {}
        for key, runs in figs.items():
            fields = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
            summary[name][key] = {f: med([r.get(f) for r in runs]) for f in fields}
    return summary


def print_summary(summary, a_name="sealed-login", b_name="nginx"):
    for key in summary[a_name]:
        for f in ("per_s", "per_server_cpu_s", "p50_ms", "p99_ms", "kb_per_connection", "resumed"):
            a, b = summary[a_name][key].get(f), summary[b_name].get(key, {}).get(f)
            if a and b and b["median"]:
                print(f"{key:20} {f:18} {a_name} {a['median']:10.1f} [{a['min']:.1f}-{a['max']:.1f}]"
                      f"   {b_name} {b['median']:10.1f} [{b['min']:.1f}-{b['max']:.1f}]   ratio {a['median'] / b['median']:.2f}")


def main():
    raise_nofile()
    os.makedirs(RESULTS, exist_ok=True)
    work = make_work()
    sealed = start_sealed(work)
    copy_page(sealed, work)
    nginx = start_nginx(work)
    servers = [sealed, nginx]
    raw = {s.name: {} for s in servers}

    def add(name, key, val):
        raw[name].setdefault(key, []).append(val)

    def stop_all():
        for s in servers:
            s.proc.terminate()
            try:
                s.proc.wait(5)
            except subprocess.TimeoutExpired:
                s.proc.kill()

    if os.environ.get("IDLE_ONLY"):   # redo only the idle-memory figure in an existing https.json
        rounds = 0
    else:
        rounds = ROUNDS
    try:
        bound = speed_bound() if rounds else None
        for rnd in range(rounds):
            order = servers if rnd % 2 == 0 else servers[::-1]
            for srv in order:
                add(srv.name, "full_handshakes", wrk(srv, "/healthz", 32, close=True))
                add(srv.name, "s_time_new", s_time(srv, "new"))
                add(srv.name, "resumed_handshakes", s_time(srv, "reuse"))
                add(srv.name, "keepalive_root", wrk(srv, "/", 64))
                add(srv.name, "keepalive_healthz", wrk(srv, "/healthz", 64))
                add(srv.name, "fixed_rate_healthz", fixed_rate(srv, RATE))
                print(f"round {rnd + 1}/{ROUNDS} {srv.name} done", file=sys.stderr, flush=True)
        # Last, once each, on freshly started servers: after the load above, a server's heap
        # holds freed memory that new connections reuse, which would hide their cost.
        stop_all()
        servers[:] = [start_sealed(work), start_nginx(work)]
        for srv in servers:
            add(srv.name, "idle_memory", idle_memory(srv, IDLE_CONNS))
        stop_all()
        servers[:] = [start_sealed(work), start_nginx(work)]
        for srv in servers:
            add(srv.name, "half_open_memory", half_open_memory(srv, IDLE_CONNS))
        stop_all()
        servers[:] = [start_sealed(work), start_nginx(work)]
        for srv in servers:
            add(srv.name, "slow_head_memory", half_open_memory(srv, IDLE_CONNS, tls=True))
    finally:
        stop_all()
    if not rounds:
        with open(os.path.join(RESULTS, "https.json")) as f:
            old = json.load(f)
        figs = ("idle_memory", "half_open_memory", "slow_head_memory")
        for name in raw:
            for fig in figs:
                old["runs"][name][fig] = raw[name][fig]
                r = raw[name][fig]
                old["summary"][name][fig] = {f: med([x.get(f) for x in r]) for f in r[0]}
        old["idle_memory_note"] = "idle_memory and half_open_memory measured again on fresh servers (IDLE_ONLY run)"
        with open(os.path.join(RESULTS, "https.json"), "w") as f:
            json.dump(old, f, indent=1)
        print(json.dumps({n: {fig: old["summary"][n][fig] for fig in figs} for n in raw}))
        return
    summary = summarize(raw)
    res = {"what": "sealed-login vs nginx, HTTPS, same machine, same run", "rounds": ROUNDS, "seconds": DUR,
           "nginx": run([NGINX, "-v"]).stderr.strip(), "openssl": run(["openssl", "version"]).stdout.strip(),
           "cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg(), "openssl_speed": bound,
           "summary": summary, "runs": raw}
    with open(os.path.join(RESULTS, "https.json"), "w") as f:
        json.dump(res, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    print(f"openssl speed bound: {bound['full_handshake_bound_per_cpu_s']:.0f} full handshakes per CPU second")
    print_summary(summary)


if __name__ == "__main__":
    main()
