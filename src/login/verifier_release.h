/* verifier_release: the browser verifier the service's pages point visitors to (a release
 * artifact, never served by this service: a page from the server under test proves nothing).
 * Constants only. scripts/verify-html-sha256.sh (make verify-html-release) writes the sha256 of
 * build/sealed-verify.html here and into README.md; a release commits both. */
#ifndef SEALED_VERIFIER_RELEASE_H
#define SEALED_VERIFIER_RELEASE_H
#define VERIFIER_HTML_NAME   "sealed-verify.html"
/* where releases publish the file; empty: no release host yet, the pages name the file and its
 * sha256 and say `make` builds it from the source commit they show */
#define VERIFIER_HTML_URL    ""
#define VERIFIER_HTML_SHA256 "a65afa9fe674d8725cef4b6a9d1512aca2353029af9a8b21cfbc578b84d40b18"
#endif
