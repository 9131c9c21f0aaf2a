#!/bin/sh
# verify-html-sha256.sh HTML: writes the sha256 of the browser verifier (build/sealed-verify.html)
# into README.md (the line after "<!-- verify-html-sha256 -->") and src/login/verifier_release.h
# (VERIFIER_HTML_SHA256, shown on the service's pages), so the published value is the built one.
# Owns those two lines only. Run by `make verify-html-release`.
set -eu
cd "$(dirname "$0")/.."
html=${1:-build/sealed-verify.html}
sum=$(sha256sum "$html" | cut -d' ' -f1)
grep -q '^<!-- verify-html-sha256 -->$' README.md || { echo "README.md has no <!-- verify-html-sha256 --> line" >&2; exit 1; }
sed -i "/^<!-- verify-html-sha256 -->\$/{n;s/^.*\$/    $sum  sealed-verify.html/}" README.md
sed -i "s/^#define VERIFIER_HTML_SHA256 \"[0-9a-f]*\"/#define VERIFIER_HTML_SHA256 \"$sum\"/" src/login/verifier_release.h
grep -q "$sum" src/login/verifier_release.h || { echo "verifier_release.h: no VERIFIER_HTML_SHA256 line" >&2; exit 1; }
echo "$sum  sealed-verify.html: README.md and src/login/verifier_release.h updated"
