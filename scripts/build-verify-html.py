#!/usr/bin/env python3
"""build-verify-html.py: assembles the browser verifier, one self-contained HTML file, from the
page template (web/verify.html), its style and script (web/verify.css, web/verify_ui.js), the
emscripten glue and the WebAssembly module (the C verifier, mk/web.mk). The module is embedded as
base64 in a non-executed data block; the one inline script and the one inline style are allowed by
their SHA-256 in a Content-Security-Policy that forbids everything else, every network request
included (no connect-src, default-src 'none'). Same inputs, same bytes: nothing here depends on
time, place or machine. Writes OUT and prints "sha256  OUT". Owns only OUT."""
import base64
import hashlib
import sys


def csp_hash(text):
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def main():
    if len(sys.argv) != 7:
        sys.exit("usage: build-verify-html.py TEMPLATE CSS UI_JS GLUE_JS WASM OUT")
    tmpl, css, ui, glue, wasm, out = sys.argv[1:]
    page = open(tmpl, encoding="utf-8").read()
    style = open(css, encoding="utf-8").read()
    script = open(glue, encoding="utf-8").read().rstrip("\n") + "\n" + open(ui, encoding="utf-8").read()
    for name, text in (("script", script), ("style", style)):
        if "</" + name in text.lower() or "<!--" in text:
            sys.exit(f"build-verify-html: the inline {name} contains a closing tag or comment opener")
    wasm_b64 = base64.b64encode(open(wasm, "rb").read()).decode()
    # 76-column lines keep the file viewable in an editor; the page strips whitespace before decoding
    wasm_b64 = "\n".join(wasm_b64[i:i + 76] for i in range(0, len(wasm_b64), 76))
    csp = ("default-src 'none'; script-src " + csp_hash(script) + " 'wasm-unsafe-eval'; style-src " +
           csp_hash(style) + "; base-uri 'none'; form-action 'none'")
    for key in ("@CSP@", "@STYLE@", "@WASM_BASE64@", "@SCRIPT@"):
        if page.count(key) != 1:
            sys.exit(f"build-verify-html: {tmpl} must hold {key} exactly once")
    # placeholders replaced in this order, each once, so no inserted text is searched again
    head, rest = page.split("@CSP@")
    rest_a, rest_b = rest.split("@STYLE@")
    rest_b1, rest_c = rest_b.split("@WASM_BASE64@")
    rest_c1, rest_d = rest_c.split("@SCRIPT@")
    html = head + csp + rest_a + style + rest_b1 + wasm_b64 + rest_c1 + script + rest_d
    data = html.encode("utf-8")
    with open(out + ".tmp", "wb") as f:
        f.write(data)
    import os
    os.replace(out + ".tmp", out)
    print(hashlib.sha256(data).hexdigest() + "  " + out)


if __name__ == "__main__":
    main()
