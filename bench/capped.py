"""Capped HTTPS benchmark (not a test): sealed-login and nginx each in its own cgroup capped at 1/8
of a core and 1 GB (bench/cgroup.py), like an OCI E2.1.Micro, same key type, TLS 1.3, same machine,
same run. Reuses bench/https.py for the servers and the load (wrk, the fixed-rate client), and the
test suite's Service and fake PayPal (tests/lib/service.py) for real logins. Needs root.

Part 1, ROUNDS interleaved rounds (medians, min, max), as in https.py but under the cap:
  full_handshakes, keepalive_root, keepalive_healthz, fixed_rate_healthz (p50/p99 at CAP_RATE/s).
  Each round checks the cap is in force: the server's CPU time stays near 1/8 of the wall time
  and the group's cpu.stat counts throttled periods; otherwise the run fails.
Part 2, slowloris: SLOW_CONNS connections (default 5,000; SLOW_TLS_SHARE of them TLS, the rest plain
  TCP to the TLS port) from many loopback addresses trickle a byte every 2 s and reconnect when
  closed (bench/slowloris.py, its own process). Against each capped server, BASE_S seconds without
  it, then RAMP_S for it to build up, then ATTACK_S with it:
    sealed-login: real logins at LOGIN_RATE/s (GET /login, the fake PayPal's authorize form, the
      callback, each request over a new TLS connection from 127.0.0.1; latency = the two requests to
      sealed-login, the fake's form excluded) and GET / over a new TLS connection at PROBE_RATE/s
    nginx (static copy of the page; no login): GET / over a new TLS connection at PROBE_RATE/s
  Reports p50/p99 and failures per phase, slow connections held by the server (established sockets
  on its port, sampled each second), refused and closed as the attacker saw them.
The run fails loudly (exit 1, a message) when the setup is wrong: no cgroup or no cap in force, a
baseline request failing, the attacker unable to open its connections or the server never holding
them. A missed goal is a result: it is printed and written, the exit status stays 0.
Writes bench/results/capped.json."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
os.environ.setdefault("SEALED_TEST_OUT", os.path.join(HERE, "..", "build", "bench"))
os.makedirs(os.environ["SEALED_TEST_OUT"], exist_ok=True)
import https as H  # noqa: E402
from cgroup import Cgroup, CgroupError  # noqa: E402

CAP_CPU = float(os.environ.get("CAP_CPU", "0.125"))
CAP_MEM = int(os.environ.get("CAP_MEM_MB", "1024")) << 20
ROUNDS = int(os.environ.get("ROUNDS", "3"))
CAP_RATE = int(os.environ.get("CAP_RATE", "50"))
SLOW_CONNS = int(os.environ.get("SLOW_CONNS", "5000"))
SLOW_TLS_SHARE = float(os.environ.get("SLOW_TLS_SHARE", "0.2"))
LOGIN_RATE = float(os.environ.get("LOGIN_RATE", "3"))
PROBE_RATE = float(os.environ.get("PROBE_RATE", "5"))
BASE_S = int(os.environ.get("BASE_S", "10"))
RAMP_S = int(os.environ.get("RAMP_S", "15"))
ATTACK_S = int(os.environ.get("ATTACK_S", "60"))
LOGIN_GOAL_P99_MS = 100
LOAD_NOTE = os.environ.get("LOAD_NOTE", "")


class SetupError(RuntimeError):
    pass


def capped(name):
    """A fresh capped group and the preexec_fn that puts a starting server into it."""
    cg = Cgroup(name, CAP_CPU, CAP_MEM)

    def pre():
        H.raise_nofile()
        cg.enter()
    return cg, pre


def check_cap(srv, cg, res, before):
    """The load ran the server flat out: its CPU share must be near the cap and the group throttled."""
    share = res["server_cpu_s"] / H.DUR
    thr = cg.throttled()[1] - before
    res["server_cpu_share"], res["throttled_periods"] = share, thr
    if share > CAP_CPU * 1.3 + 0.02 or thr <= 0:
        raise SetupError(f"{srv.name}: the CPU cap is not in force (CPU share {share:.3f} of one core over "
                         f"{H.DUR} s, {thr} throttled periods; cap {CAP_CPU})")


# ---- part 1 -------------------------------------------------------------------------------------

def part1(work):
    groups, servers = {}, []
    cg, pre = capped("sealed")
    sealed = H.start_sealed(work, preexec=pre)
    groups[sealed.name] = cg
    servers.append(sealed)
    H.copy_page(sealed, work)
    cg, pre = capped("nginx")
    nginx = H.start_nginx(work, preexec=pre)
    groups[nginx.name] = cg
    servers.append(nginx)
    raw = {s.name: {} for s in servers}
    try:
        for s in servers:
            groups[s.name].check_member(s.pid)
        for rnd in range(ROUNDS):
            for srv in (servers if rnd % 2 == 0 else servers[::-1]):
                cg = groups[srv.name]
                t0 = cg.throttled()[1]
                r = H.wrk(srv, "/healthz", 32, close=True)
                check_cap(srv, cg, r, t0)
                raw[srv.name].setdefault("full_handshakes", []).append(r)
                raw[srv.name].setdefault("keepalive_root", []).append(H.wrk(srv, "/", 64))
                raw[srv.name].setdefault("keepalive_healthz", []).append(H.wrk(srv, "/healthz", 64))
                raw[srv.name].setdefault("fixed_rate_healthz", []).append(H.fixed_rate(srv, CAP_RATE))
                print(f"capped round {rnd + 1}/{ROUNDS} {srv.name} done", file=sys.stderr, flush=True)
        peaks = {n: groups[n].memory_peak_bytes() for n in groups}
    finally:
        stop(servers)
        for g in groups.values():
            g.remove()
    return raw, peaks, cg.describe()


def stop(servers):
    for s in servers:
        s.proc.terminate()
        try:
            s.proc.wait(5)
        except subprocess.TimeoutExpired:
            s.proc.kill()


# ---- part 2 -------------------------------------------------------------------------------------

def get_fresh(port):
    """GET / over a new TLS connection from 127.0.0.1; returns ms to the end of the answer."""
    t0 = time.monotonic()
    s = H.ctx().wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30), server_hostname="localhost")
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        status, _ = H.read_answer(s)
        if status != 200:
            raise RuntimeError(f"status {status}")
    finally:
        s.close()
    return (time.monotonic() - t0) * 1000


def login_once(S, user):
    """A real login; returns the ms sealed-login took on its two requests (the fake's form excluded)."""
    t0 = time.monotonic()
    cookie, url = S.start_login()
    t1 = time.monotonic()
    cb = S.authorize(url, user)
    t2 = time.monotonic()
    r = S.get(cb, headers={"Cookie": cookie})
    t3 = time.monotonic()
    if r.status != 200:
        raise RuntimeError(f"callback status {r.status}")
    return ((t1 - t0) + (t3 - t2)) * 1000


def on_schedule(jobs, secs):
    """jobs: [(name, rate, fn)]; calls each fn at its rate for secs, each call on its own thread so a
    slow answer does not delay the schedule. Returns {name: {"ms": [...], "errors": {kind: n}}}."""
    out = {name: {"ms": [], "errors": {}} for name, _, _ in jobs}
    lock = threading.Lock()
    threads = []
    start = time.monotonic() + 0.2

    def call(name, fn):
        try:
            ms = fn()
            with lock:
                out[name]["ms"].append(ms)
        except Exception as e:   # noqa: BLE001 (every failure is counted by kind)
            kind = type(e).__name__ + (f": {e}" if isinstance(e, (RuntimeError, AssertionError)) else "")
            with lock:
                out[name]["errors"][kind[:80]] = out[name]["errors"].get(kind[:80], 0) + 1
    events = sorted((start + k / rate, name, fn) for name, rate, fn in jobs for k in range(int(secs * rate)))
    for due, name, fn in events:
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        t = threading.Thread(target=call, args=(name, fn))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return out


def latency(r):
    ms = sorted(r["ms"])
    n_err = sum(r["errors"].values())
    q = lambda p: ms[min(len(ms) - 1, int(p * len(ms)))] if ms else None  # noqa: E731
    return {"n": len(ms) + n_err, "ok": len(ms), "failed": n_err, "errors": r["errors"],
            "p50_ms": q(0.50), "p99_ms": q(0.99), "max_ms": ms[-1] if ms else None}


def held(port):
    """Established TCP connections on the server's side of port (accepted or waiting to be)."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return sum(1 for line in out.splitlines() if line.strip())


def slowloris(name, port, jobs, pid, cg):
    """Baseline, then the attack; returns the figures. pid: the server process whose RSS and CPU
    time are sampled; cg: its group (throttled periods)."""
    base = on_schedule(jobs, BASE_S)
    for job, r in base.items():
        if r["errors"] or not r["ms"]:
            raise SetupError(f"{name}: {job} fails without any attack: {r['errors']}")
    # the attacker shares the server's core (the server may use 1/8 of it), not the measuring
    # client's and the fake PayPal's
    cmd = ["taskset", "-c", H.SERVER_CPU, sys.executable, os.path.join(HERE, "slowloris.py"), str(port),
           "--conns", str(SLOW_CONNS), "--tls-share", str(SLOW_TLS_SHARE), "--ramp", str(RAMP_S * 2 // 3),
           "--duration", str(RAMP_S + ATTACK_S + 60)]
    atk = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=H.raise_nofile)
    samples, rss, done = [], [], threading.Event()

    def sample():
        while not done.wait(1.0):
            samples.append(held(port))
            rss.append(H.rss_kb(pid))
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        time.sleep(RAMP_S)
        ramp_samples = len(samples)
        c0, a0, t0, w0 = H.cpu_s(pid), H.cpu_s(atk.pid), cg.throttled(), time.monotonic()
        under = on_schedule(jobs, ATTACK_S)
        wall = time.monotonic() - w0
        cpu = {"server_cpu_share": (H.cpu_s(pid) - c0) / wall, "attacker_cpu_share": (H.cpu_s(atk.pid) - a0) / wall,
               "periods": cg.throttled()[0] - t0[0], "throttled_periods": cg.throttled()[1] - t0[1]}
    finally:
        done.set()
        sampler.join()
        atk.terminate()
        try:
            out, err = atk.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            atk.kill()
            out, err = atk.communicate()
    try:
        attacker = json.loads(out)
    except ValueError:
        raise SetupError(f"{name}: the slowloris client failed (exit {atk.returncode}): {err[-800:]}")
    attacker.pop("timeline", None)
    during = samples[ramp_samples:] or samples
    if attacker["peak_open"] < SLOW_CONNS // 2:
        raise SetupError(f"{name}: the slowloris client never had half its {SLOW_CONNS} connections open "
                         f"(peak {attacker['peak_open']}; connect failures {attacker['connect_failed']})")
    if not during or max(during) < min(1000, SLOW_CONNS // 2):
        raise SetupError(f"{name}: the server never held the slow connections (samples {during[:10]}...)")
    return {"baseline": {k: latency(v) for k, v in base.items()},
            "attack": {k: latency(v) for k, v in under.items()},
            "held": {"median": sorted(during)[len(during) // 2], "min": min(during), "max": max(during),
                     "samples": len(during)},
            "server_rss_kb_max": max(rss) if rss else None, "cpu_during_attack": cpu, "attacker": attacker}


def part2(work):
    from service import Service
    res = {}
    n_users = int(LOGIN_RATE * (BASE_S + ATTACK_S)) + 10
    users = [f"u{i}" for i in range(n_users)]
    cg, pre = capped("sealed-slow")
    try:
        with Service(users=users, name="bench-capped", preexec=pre,
                     env={"SEALED_IDSET_CAPACITY": str(10 * n_users)}) as S:
            cg.check_member(S.proc.pid)
            H.copy_page(S, work)   # nginx serves this instance's page (part 1 may not have run)
            it = iter(users)
            lock = threading.Lock()

            def login():
                with lock:
                    u = next(it)
                return login_once(S, u)
            jobs = [("login", LOGIN_RATE, login), ("get_root", PROBE_RATE, lambda: get_fresh(S.port))]
            r = slowloris("sealed-login", S.port, jobs, S.proc.pid, cg)
            st = S.status()
            r["server_status_after"] = dict(st.get("http") or {}, results=st.get("results"), failures=st.get("failures"))
            r["memory_peak_bytes"] = cg.memory_peak_bytes()
            res["sealed-login"] = r
    finally:
        cg.remove()
    cg, pre = capped("nginx-slow")
    nginx = H.start_nginx(work, preexec=pre)
    try:
        cg.check_member(nginx.pid)
        r = slowloris("nginx", nginx.port, [("get_root", PROBE_RATE, lambda: get_fresh(nginx.port))], nginx.pid, cg)
        r["memory_peak_bytes"] = cg.memory_peak_bytes()
        res["nginx"] = r
    finally:
        stop([nginx])
        cg.remove()
    return res


def main():
    H.raise_nofile()
    os.makedirs(H.RESULTS, exist_ok=True)
    load0 = os.getloadavg()
    work = H.make_work()
    try:
        raw, peaks, cap = part1(work) if ROUNDS else ({}, {}, None)
        slow = part2(work) if SLOW_CONNS else {}
    except (SetupError, CgroupError) as e:
        sys.exit(f"capped bench: SETUP WRONG, no figures written: {e}")
    summary = H.summarize(raw) if raw else {}
    lg = slow.get("sealed-login", {}).get("attack", {}).get("login", {})
    p99 = lg.get("p99_ms")
    goal = {"login_p99_under_attack_ms": p99, "goal_ms": LOGIN_GOAL_P99_MS,
            "met": bool(p99 is not None and p99 < LOGIN_GOAL_P99_MS and not lg.get("failed")),
            "login_failures_under_attack": lg.get("failed")}
    res = {"what": "sealed-login vs nginx, each in a cgroup capped at 1/8 core and 1 GB, same run",
           "cap": cap or Cgroup.__doc__, "rounds": ROUNDS, "seconds": H.DUR, "fixed_rate": CAP_RATE,
           "nginx": H.run([H.NGINX, "-v"]).stderr.strip(), "cpus": os.cpu_count(),
           "loadavg_at_start": load0, "loadavg_at_end": os.getloadavg(), "load_note": LOAD_NOTE,
           "memory_peak_bytes_part1": peaks, "summary": summary, "runs": raw,
           "slowloris_setup": {"conns": SLOW_CONNS, "tls_share": SLOW_TLS_SHARE, "login_rate": LOGIN_RATE,
                               "probe_rate": PROBE_RATE, "baseline_s": BASE_S, "ramp_s": RAMP_S, "attack_s": ATTACK_S},
           "slowloris": slow, "login_goal": goal}
    with open(os.path.join(H.RESULTS, "capped.json"), "w") as f:
        json.dump(res, f, indent=1)
    if summary:
        H.print_summary(summary)
    for name, r in slow.items():
        for phase in ("baseline", "attack"):
            for job, v in r[phase].items():
                print(f"slowloris {name:12} {phase:8} {job:8} p50 {v['p50_ms'] or 0:8.1f} ms  p99 "
                      f"{v['p99_ms'] or 0:8.1f} ms  failed {v['failed']}/{v['n']}")
        a = r["attacker"]
        print(f"slowloris {name:12} held {r['held']} attacker: peak {a['peak_open']}, refused {a['refused']}, "
              f"closed by server {a['closed_by_server']} (lifetime p50 {a['lifetime_p50_s']} s); "
              f"during the attack {r['cpu_during_attack']}; errors {[r[p][j]['errors'] for p in ('attack',) for j in r[p]]}")
    if slow:
        print(("GOAL MET" if goal["met"] else "GOAL MISSED") +
              f": login p99 under slowloris {p99} ms (goal < {LOGIN_GOAL_P99_MS} ms), "
              f"{goal['login_failures_under_attack']} logins failed")


if __name__ == "__main__":
    main()
