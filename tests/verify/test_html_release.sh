#!/bin/bash
# The sha256 the README and the service's pages publish for the offline verifier
# (src/login/verifier_release.h, written by `make verify-html-release`) is that of the
# build/sealed-verify.html this tree builds: a verifier change without the release step fails here.
cd "$(dirname "$0")/../.."
html=build/sealed-verify.html
[ -f "$html" ] || { echo "not ok 1 - $html is built (make all)"; exit 1; }
built=$(sha256sum "$html" | cut -d' ' -f1)
readme=$(sed -n '/^<!-- verify-html-sha256 -->$/{n;p}' README.md | awk '{print $1}')
header=$(sed -n 's/^#define VERIFIER_HTML_SHA256 "\([0-9a-f]*\)"$/\1/p' src/login/verifier_release.h)
n=0 bad=0
t() { n=$((n + 1)); if [ "$1" = "$2" ]; then echo "ok $n - $3"; else echo "not ok $n - $3"; echo "  built $1, published $2: run make verify-html-release"; bad=1; fi; }
t "$built" "$readme" "README.md publishes the built verifier's sha256"
t "$built" "$header" "the pages (verifier_release.h) publish the built verifier's sha256"
exit $bad
