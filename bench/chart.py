"""Draws bench/results/chart.svg from the JSON the benchmarks wrote (bench/results/https.json,
logins.json, capped.json, idset.json, idset_peer.json): one row per figure, sealed-login's bar next to its peer's (nginx,
or the naive set, or OpenSSL's own bound), each pair scaled to its larger value, medians printed
with the min-max spread. Plain SVG written by hand: no plotting library needed (stdlib only)."""
import html
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
COLORS = {"sealed-login": "#2b6cb0", "nginx": "#38a169", "peer": "#38a169", "bound": "#a0aec0",
          "p99 in flight": "#2b6cb0", "p50 in flight": "#2b6cb0", "median alone": "#a0aec0",
          "login alone": "#a0aec0", "login under attack": "#2b6cb0"}


def load(name):
    try:
        with open(os.path.join(RESULTS, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt(v):
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e4:
        return f"{v / 1e3:.1f} k"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


def one(v):
    return {"median": v, "min": v, "max": v}


def pairs_of(res, rows, prefix=""):
    """pair(key, field, title, better, unit): a row of sealed-login's and nginx's medians of one
    figure in res["summary"] (https.json and capped.json share the layout), if both have it."""
    S, N = res["summary"].get("sealed-login", {}), res["summary"].get("nginx", {})

    def pair(key, field, title, better, unit):
        a, b = S.get(key, {}).get(field), N.get(key, {}).get(field)
        if a and b:
            rows.append((prefix + title, better, unit, [("sealed-login", a), ("nginx", b)]))
    return pair


def capped_rows(capped, rows):
    """The 1/8-core rows: the https figures under the cap, then the slowloris phases."""
    cap = "1/8 core, 1 GB: "
    pair = pairs_of(capped, rows, cap)
    pair("full_handshakes", "per_s", "full TLS 1.3 handshakes/s", "higher", "/s")
    pair("keepalive_root", "per_s", "keep-alive GET / req/s", "higher", "/s")
    pair("keepalive_healthz", "per_s", "keep-alive GET /healthz req/s", "higher", "/s")
    rate = capped.get("fixed_rate")
    pair("fixed_rate_healthz", "p50_ms", f"p50 latency at {rate} req/s", "lower", " ms")
    pair("fixed_rate_healthz", "p99_ms", f"p99 latency at {rate} req/s", "lower", " ms")
    slow, setup = capped.get("slowloris") or {}, capped.get("slowloris_setup") or {}
    S, N = slow.get("sealed-login"), slow.get("nginx")
    if not (S and N):
        return
    n = f"{setup.get('conns', 0):,} slowloris conns"

    def fails(r):
        return f" ({r['failed']}/{r['n']} failed)" if r["failed"] else ""
    for q in ("p50_ms", "p99_ms"):
        bars = []
        for label, r in (("login alone", S["baseline"]["login"]), ("login under attack", S["attack"]["login"])):
            if r.get(q) is not None:
                bars.append((label + fails(r), one(r[q])))
        if bars:
            rows.append((f"{cap}real login {q[:3]} (goal: p99 < 100 ms), {n}", "lower", " ms", bars))
        bars = [(f"{name}, {'alone' if phase == 'baseline' else 'under attack'}" + fails(x[phase]["get_root"]),
                 one(x[phase]["get_root"][q]))
                for phase in ("baseline", "attack") for name, x in (("sealed-login", S), ("nginx", N))
                if x[phase]["get_root"].get(q) is not None]
        rows.append((f"{cap}GET / on a new connection, {q[:3]}: alone, then under {n}", "lower", " ms", bars))


def rows_from(https, idset, peer):
    rows = []
    if https:
        pair = pairs_of(https, rows)
        pair("full_handshakes", "per_s", "full TLS 1.3 handshakes/s (wrk, Connection: close)", "higher", "/s")
        pair("full_handshakes", "per_server_cpu_s", "full handshakes per server CPU second", "higher", "/CPU s")
        bound = https.get("openssl_speed", {}).get("full_handshake_bound_per_cpu_s")
        if bound and rows:
            rows[-1][3].append(("bound", {"median": bound, "min": bound, "max": bound}))
        pair("resumed_handshakes", "per_s", "resumed handshakes/s (s_time -reuse)", "higher", "/s")
        pair("resumed_handshakes", "per_server_cpu_s", "resumed handshakes per server CPU second", "higher", "/CPU s")
        pair("keepalive_root", "per_s", "keep-alive GET / req/s (64 conns)", "higher", "/s")
        pair("keepalive_healthz", "per_s", "keep-alive GET /healthz req/s (64 conns)", "higher", "/s")
        pair("keepalive_healthz", "per_server_cpu_s", "keep-alive /healthz per server CPU second", "higher", "/CPU s")
        rate = https["summary"]["sealed-login"].get("fixed_rate_healthz", {}).get("rate", {}).get("median")
        pair("fixed_rate_healthz", "p50_ms", f"p50 latency at {rate:.0f} req/s" if rate else "p50 latency", "lower", " ms")
        pair("fixed_rate_healthz", "p99_ms", f"p99 latency at {rate:.0f} req/s" if rate else "p99 latency", "lower", " ms")
        pair("idle_memory", "kb_per_connection", "memory per idle TLS connection", "lower", " KB")
        pair("half_open_memory", "kb_per_connection", "memory per connection stalled in its ClientHello", "lower", " KB")
        pair("slow_head_memory", "kb_per_connection", "memory per TLS connection stalled in its head", "lower", " KB")
    capped = load("capped.json")
    if capped:
        capped_rows(capped, rows)
    logins = load("logins.json")
    if logins:
        rows.append((f"login, {logins['logins']} in flight ({logins['ok']} ok; fake PayPal +"
                     f"{logins['delay_s_each_call'] * 1000:.0f} ms x2, likely the bottleneck)", "lower", " ms",
                     [("p99 in flight", one(logins["p99_ms"])), ("p50 in flight", one(logins["p50_ms"])),
                      ("median alone", one(logins["alone_median_ms"]))]))
    if idset:
        if idset.get("keyed_hash_per_s") and idset.get("peer_evp_mac_hmac_per_s"):
            rows.append(("used-id set: keyed hash/s (peer: EVP_MAC HMAC)", "higher", "/s",
                         [("sealed-login", one(idset["keyed_hash_per_s"])), ("peer", one(idset["peer_evp_mac_hmac_per_s"]))]))
        if peer and idset.get("rss_mb") and peer.get("rss_mb"):
            rows.append((f"used-id set: memory for {idset['ids'] / 1e6:.0f} M ids (peer: unordered_set)", "lower", " MB",
                         [("sealed-login", one(idset["rss_mb"])), ("peer", one(peer["rss_mb"]))]))
    return rows


def svg(rows, subtitle):
    lines = subtitle.split("\n")           # one text line each, 14 px apart
    dy = 14 * (len(lines) - 1)
    W, left, bar_h, gap, top = 980, 330, 16, 14, 70 + dy
    width = W - left - 170
    y = top
    out = []
    for title, better, unit, bars in rows:
        out.append(f'<text x="10" y="{y + 12}" class="t">{html.escape(title)}</text>')
        out.append(f'<text x="10" y="{y + 27}" class="s">{better} is better</text>')
        top_v = max(b[1]["median"] for b in bars) or 1
        for name, v in bars:
            w = max(1.0, width * v["median"] / top_v)
            color = next((c for k, c in sorted(COLORS.items(), key=lambda kc: -len(kc[0])) if name.startswith(k)),
                         "#718096")
            out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
            spread = "" if v["min"] == v["max"] else f" [{fmt(v['min'])}-{fmt(v['max'])}]"
            label = {"bound": "openssl speed bound"}.get(name, name)
            out.append(f'<text x="{left + w + 6:.1f}" y="{y + 12}" class="v">{fmt(v["median"])}{unit}{spread} '
                       f'{html.escape(label)}</text>')
            y += bar_h + 3
        y += gap
    h = y + 20
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" '
            'font-family="Helvetica,Arial,sans-serif">'
            '<style>.t{font-size:13px;fill:#1a202c}.s{font-size:11px;fill:#718096}.v{font-size:11px;fill:#2d3748}'
            '.h{font-size:16px;font-weight:bold;fill:#1a202c}</style>'
            f'<rect width="{W}" height="{h}" fill="#fff"/>'
            '<text x="10" y="24" class="h">sealed-login against its peers, same machine, same run</text>'
            + "".join(f'<text x="10" y="{44 + 14 * i}" class="s">{html.escape(t)}</text>' for i, t in enumerate(lines))
            + f'<rect x="{left}" y="{52 + dy}" width="10" height="10" fill="{COLORS["sealed-login"]}"/>'
            f'<text x="{left + 14}" y="{61 + dy}" class="s">sealed-login</text>'
            f'<rect x="{left + 100}" y="{52 + dy}" width="10" height="10" fill="{COLORS["nginx"]}"/>'
            f'<text x="{left + 114}" y="{61 + dy}" class="s">nginx / peer</text>'
            f'<rect x="{left + 200}" y="{52 + dy}" width="10" height="10" fill="{COLORS["bound"]}"/>'
            f'<text x="{left + 214}" y="{61 + dy}" class="s">openssl speed bound</text>')
    return head + "".join(out) + "</svg>\n"


def main():
    https, idset, peer = load("https.json"), load("idset.json"), load("idset_peer.json")
    rows = rows_from(https, idset, peer)
    if not rows:
        print("chart: no results to draw", file=sys.stderr)
        return 1
    sub = "medians [min-max]"
    if https:
        sub += (f" of {https['rounds']} interleaved rounds of {https['seconds']} s; {https['nginx']}; "
                f"{https['openssl'].split(' (')[0]}; {https['cpus']} CPUs shared with other jobs "
                f"(load {https['loadavg_at_end'][0]:.1f} at the end)")
    capped = load("capped.json")
    if capped and capped.get("load_note"):
        sub += f"\n1/8-core rows (one cgroup each, bench/capped.py): {capped['load_note']} (load {capped['loadavg_at_end'][0]:.1f})"
    with open(os.path.join(RESULTS, "chart.svg"), "w") as f:
        f.write(svg(rows, sub))
    print("chart: bench/results/chart.svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
