"""Whole-binary tests of the state outside the service process (SEALED_STATE_DIR): a used id stays
used across kill -9, a result survives a dropped connection and a restart and is fetched again
byte-identical only by its browser, a login state is good for one callback (200 replays make one
token request), /callback is rate-limited with a 429 page, a bad state file refuses logins and is
left alone, SIGTERM lets a login in flight finish, and failed saves use nothing up."""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import case, check, done                         # noqa: E402
from service import Service, FAULTS_BIN, OUT, jws_from_page, cookie_header, tls_context   # noqa: E402
import jws_check                                          # noqa: E402

USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ines", "jo", "kim", "lou"]
STATE = tempfile.mkdtemp(prefix="state-", dir=OUT)
STATE_FILE = os.path.join(STATE, "state.v1")
S = Service(users=USERS, name="state", env={"SEALED_STATE_DIR": STATE, "SEALED_CALLBACK_RATE_PER_ADDR": "100000",
                                            "SEALED_CALLBACK_RATE_GLOBAL": "100000"}).__enter__()
JARS = {}
_restarts = [0]


def restart(sig=signal.SIGKILL):
    S.proc.send_signal(sig)
    rc = S.proc.wait(30)
    S.log.close()
    _restarts[0] += 1
    S.name = f"state-{_restarts[0]}"
    S.start_service()
    return rc


def login(user, jar=None):
    """A browser login keeping its cookie jar; returns (response, jar)."""
    jar = {} if jar is None else jar
    cookie, url = S.start_login(jar)
    cb = S.authorize(url, user)
    r = S.get(cb, headers={"Cookie": cookie})
    for c in r.all("Set-Cookie"):
        name, _, value = c.split(";", 1)[0].partition("=")
        if "Max-Age=0" in c:
            jar.pop(name, None)
        else:
            jar[name] = value
    return r, jar


def code_of(text):
    m = re.search(r'<code id="retrieval-code">([A-Z0-9]+)</code>', text)
    return m.group(1) if m else None


def fetch(code, jar):
    return S.get("/result?code=" + code, headers={"Cookie": cookie_header(jar)} if jar else None)


def tokens():
    return json.loads(S.fake_request("GET", "/__control/stats").body)["requests"].get("token", 0)


@case
def kill9_keeps_used_ids_and_results():
    r, jar = login("alice")
    check(r.status == 200, (r.status, r.text[:300]))
    jws, code = jws_from_page(r.text), code_of(r.text)
    check(jws and code and len(code) == 10, code)
    _, payload = jws_check.verify(jws)
    st = S.status()["state"]
    check(st["scope"] == "directory" and st["ok"], st)
    check(payload["state_scope"] == "directory" and payload["state_epoch"] == st["epoch"], payload.get("state_epoch"))
    check("once per PayPal account since" in r.text)
    JARS["alice"] = (jar, code, jws)
    # sealed-verify states the scope it cannot prove
    import html as htmlmod
    import shlex
    import subprocess
    argv = shlex.split(htmlmod.unescape(re.search(r'<pre id="verify-command">([^<]+)</pre>', r.text).group(1)))
    path = os.path.join(OUT, "state-result.jws")
    open(path, "w").write(jws)
    p = subprocess.run([os.path.join(os.path.dirname(FAULTS_BIN), "..", "sealed-verify"), "result", path] + argv[3:],
                       capture_output=True, text=True)
    check(p.returncode == 0, p.stdout[-500:])
    check("once per PayPal account since" in p.stdout and "state directory is kept" in p.stdout, p.stdout[-800:])
    restart(signal.SIGKILL)
    check(S.status()["state"]["epoch"] == st["epoch"])
    check(S.status()["ids_served"] == 1)
    r2, _ = login("alice")
    check(r2.status == 409, r2.status)
    r3, jar_b = login("bob")
    check(r3.status == 200, r3.status)
    JARS["bob"] = (jar_b, code_of(r3.text), jws_from_page(r3.text))
    # the kept result, byte-identical, to its browser only
    f = fetch(code, jar)
    check(f.status == 200 and f.body == jws.encode(), f.status)
    check(f.header("Content-Type") == "application/jose")
    check(fetch(code, None).status == 404)
    check(fetch(code, jar_b).status == 404)
    check(fetch("A" * 10, jar).status == 404)
    lst = S.get("/result", headers={"Cookie": cookie_header(jar)})
    check(lst.status == 200 and code in lst.text and JARS["bob"][1] not in lst.text)
    check(S.status()["ids_served"] == 2)


@case
def dropped_connection_after_commit_then_fetch_the_same_jws():
    jar = {}
    cookie, url = S.start_login(jar)
    cb = S.authorize(url, "carol")
    n = S.status()["ids_served"]
    raw = socket.create_connection(("127.0.0.1", S.port))
    tls = tls_context().wrap_socket(raw, server_hostname="localhost")
    tls.sendall(f"GET {cb} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\n\r\n".encode())
    deadline = time.time() + 20
    while S.status()["ids_served"] == n and time.time() < deadline:
        time.sleep(0.02)
    check(S.status()["ids_served"] == n + 1)   # committed...
    tls.close()                                 # ...and the visitor never read the page
    lst = S.get("/result", headers={"Cookie": cookie_header(jar)})
    codes = re.findall(r'href="/result\?code=([A-Z0-9]+)"', lst.text)
    check(len(codes) == 1, lst.text[:500])
    a = fetch(codes[0], jar)
    check(a.status == 200)
    _, payload = jws_check.verify(a.body.decode())
    check(payload["paypal"]["userinfo"]["name"] == "Test carol")
    restart(signal.SIGKILL)
    b = fetch(codes[0], jar)
    check(b.status == 200 and b.body == a.body)   # byte-identical, after a crash too
    check(login("carol")[0].status == 409)
    check(S.status()["ids_served"] == n + 1)


@case
def two_hundred_replays_of_one_state_make_one_token_request():
    jar = {}
    cookie, url = S.start_login(jar)
    cb = S.authorize(url, "dave")
    before = tokens()
    statuses = []
    lock = threading.Lock()

    def worker(k):
        for _ in range(k):
            st = S.get(cb, headers={"Cookie": cookie}).status
            with lock:
                statuses.append(st)
    ts = [threading.Thread(target=worker, args=(20,)) for _ in range(10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(len(statuses) == 200)
    check(tokens() - before == 1, tokens() - before)
    check(statuses.count(200) == 1 and statuses.count(409) == 199, sorted(set(statuses)))
    # and after a restart the spent state is still spent
    restart(signal.SIGKILL)
    check(S.get(cb, headers={"Cookie": cookie}).status == 409)
    check(tokens() - before == 1)


@case
def sigterm_lets_a_login_in_flight_finish():
    jar = {}
    cookie, url = S.start_login(jar)
    cb = S.authorize(url, "erin")
    S.fault("token", "timeout", delay=3)
    out = {}

    def cb_request():
        out["r"] = S.get(cb, headers={"Cookie": cookie}, timeout=60)
    t = threading.Thread(target=cb_request)
    t.start()
    time.sleep(1.0)                     # the callback is waiting on PayPal
    S.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    refused = False
    try:
        socket.create_connection(("127.0.0.1", S.port), timeout=2).close()
    except OSError:
        refused = True
    check(refused, "still accepting after SIGTERM")
    t.join(30)
    r = out.get("r")
    check(r is not None and r.status == 200, r and r.status)
    check(jws_from_page(r.text))
    rc = S.proc.wait(30)
    check(rc == 0, rc)
    log = S.log_text()
    check("service.draining" in log and "drain_timeout" not in log)
    S.log.close()
    _restarts[0] += 1
    S.name = f"state-{_restarts[0]}"
    S.start_service()
    check(login("erin")[0].status == 409)


@case
def a_bad_state_file_refuses_logins_with_a_clear_page_and_is_kept():
    S.proc.send_signal(signal.SIGTERM)
    S.proc.wait(30)
    good = open(STATE_FILE, "rb").read()
    for what, damage, words in (
            ("flipped byte", lambda b: b[:len(b) // 2] + bytes([b[len(b) // 2] ^ 1]) + b[len(b) // 2 + 1:],
             "fails its checksums"),
            ("unknown version", lambda b: b[:8] + b"\x02" + b[9:], "format version")):
        bad = damage(good)
        open(STATE_FILE, "wb").write(bad)
        S.log.close()
        _restarts[0] += 1
        S.name = f"state-{_restarts[0]}"
        S.start_service()
        r = S.get("/login")
        check(r.status == 503, (what, r.status))
        check("saved service state cannot be used" in r.text and words in r.text, (what, r.text[:600]))
        check("saved service state cannot be used" in S.get("/").text)
        st = S.status()["state"]
        check(st["ok"] is False and "refusing_logins_because" in st, st)
        S.proc.send_signal(signal.SIGKILL)
        S.proc.wait(30)
        check(open(STATE_FILE, "rb").read() == bad, what)   # never overwritten
    open(STATE_FILE, "wb").write(good)
    S.log.close()
    _restarts[0] += 1
    S.name = f"state-{_restarts[0]}"
    S.start_service()
    check(login("alice")[0].status == 409)
    check(login("frank")[0].status == 200)


@case
def a_second_service_on_the_same_state_refuses_logins():
    t0 = time.time()
    with Service(users=["x1"], name="state-second", env={"SEALED_STATE_DIR": STATE}) as T:
        check(time.time() - t0 >= 25, "did not wait for the first service to let go")
        r = T.get("/login")
        check(r.status == 503 and "another service process is using this state" in r.text, (r.status, r.text[:400]))
    check(login("gina")[0].status == 200)   # the first one is unaffected


@case
def callback_rate_limit_per_address_gives_a_clear_429():
    with Service(users=["p1", "p2", "p3", "p4"], name="state-rate",
                 env={"SEALED_CALLBACK_RATE_PER_ADDR": "3"}) as R:
        before = json.loads(R.fake_request("GET", "/__control/stats").body)["requests"].get("token", 0)
        st = []
        for u in ("p1", "p2", "p3"):
            cookie, url = R.start_login()
            st.append(R.get(R.authorize(url, u), headers={"Cookie": cookie}).status)
        check(st == [200, 200, 200], st)
        cookie, url = R.start_login()
        cb = R.authorize(url, "p4")
        r = R.get(cb, headers={"Cookie": cookie})
        check(r.status == 429, r.status)
        check("Too many login attempts" in r.text and "Nothing was used up" in r.text)
        check(r.header("Retry-After") and 1 <= int(r.header("Retry-After")) <= 21, r.header("Retry-After"))
        after = json.loads(R.fake_request("GET", "/__control/stats").body)["requests"].get("token", 0)
        check(after - before == 3)
        check(R.status()["callbacks_rate_limited"] == 1)
        time.sleep(int(r.header("Retry-After")))
        check(R.get(cb, headers={"Cookie": cookie}).status == 200)   # the limited callback spent nothing


@case
def failed_saves_use_nothing_up():
    if not os.path.exists(FAULTS_BIN):
        raise AssertionError("build/faults/sealed-login missing: make faults")
    d = tempfile.mkdtemp(prefix="state-f-", dir=OUT)
    ff = tempfile.NamedTemporaryFile("w", delete=False, dir=OUT, suffix=".fault").name
    with Service(users=["q1", "q2"], name="state-faults", binary=FAULTS_BIN,
                 env={"SEALED_STATE_DIR": d, "SEALED_FAULT_FILE": ff}) as F:
        def set_fault(x):
            open(ff, "w").write(x)
        tok = lambda: json.loads(F.fake_request("GET", "/__control/stats").body)["requests"].get("token", 0)
        # the spent state cannot be saved: 503 before PayPal is asked
        t0 = tok()
        set_fault("state_append")
        cookie, url = F.start_login()
        r = F.get(F.authorize(url, "q1"), headers={"Cookie": cookie})
        set_fault("")
        check(r.status == 503 and "Nothing was used up" in r.text, r.status)
        check(tok() == t0)
        # the result cannot be saved: 503, no page, the id stays unused
        set_fault("state_commit")
        cookie, url = F.start_login()
        r = F.get(F.authorize(url, "q1"), headers={"Cookie": cookie})
        set_fault("")
        check(r.status == 503 and "has not used up its result" in r.text, (r.status, r.text[:300]))
        check(jws_from_page(r.text) is None and F.status()["ids_served"] == 0)
        cookie, url = F.start_login()
        r = F.get(F.authorize(url, "q1"), headers={"Cookie": cookie})
        check(r.status == 200 and F.status()["ids_served"] == 1)
        # the state cannot be read at start: logins refused, the file kept
        size = os.path.getsize(os.path.join(d, "state.v1"))
        F.proc.kill()
        F.proc.wait()
        F.log.close()
        set_fault("state_load")
        F.name = "state-faults-2"
        F.start_service()
        set_fault("")
        check(F.get("/login").status == 503)
        check(os.path.getsize(os.path.join(d, "state.v1")) == size)
        # a failed compaction leaves the journal as it was: everything still there
        F.proc.kill()
        F.proc.wait()
        F.log.close()
        set_fault("state_rewrite")
        F.name = "state-faults-3"
        F.start_service()
        set_fault("")
        check("state.rewrite_failed" in F.log_text() or os.path.getsize(os.path.join(d, "state.v1")) == size)
        check(F.status()["ids_served"] == 1 and F.status()["state"]["ok"])
        cookie, url = F.start_login()
        check(F.get(F.authorize(url, "q1"), headers={"Cookie": cookie}).status == 409)
        # a state that cannot be created: logins refused, never an unsaved set
        F.proc.kill()
        F.proc.wait()
        F.log.close()
        d2 = tempfile.mkdtemp(prefix="state-f2-", dir=OUT)
        F.extra_env["SEALED_STATE_DIR"] = d2
        set_fault("state_create")
        F.name = "state-faults-4"
        F.start_service()
        set_fault("")
        r = F.get("/login")
        check(r.status == 503 and "input/output error" in r.text and "logins are refused" in r.text, r.status)


try:
    done()
finally:
    S.__exit__(None, None, None)
    shutil.rmtree(STATE, ignore_errors=True)
