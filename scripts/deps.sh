#!/bin/sh
# Installs what the project needs on Debian (bookworm): the packages listed in scripts/packages/*.txt
# (whitespace-separated, '#' comments; "pkg:cmd" means pkg is not needed when cmd is already on
# PATH, e.g. a Node.js installed another way) and the npm modules in tests/browser/package.json and
# tests/sdjwt/package.json (the independent SD-JWT implementation the credential tests use).
# Idempotent and quiet when everything is there; needs root (or sudo) only when something is missing.
set -eu
cd "$(dirname "$0")/.."
want=$(cat scripts/packages/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
missing=""
for p in $want; do
    case "$p" in *:*) command -v "${p#*:}" >/dev/null 2>&1 && continue; p=${p%%:*} ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
# The static image build (scripts/build-musl-deps.sh) fetches pinned Debian *source* packages:
# make sure apt has a bookworm deb-src entry (source only: it changes no installed binary).
src_entry=/etc/apt/sources.list.d/sealed-login-bookworm-src.sources
if ! grep -rqsE '^(Types:.*deb-src|deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/ ; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    echo "deps: adding a bookworm deb-src entry ($src_entry)"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb-src\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        | $SUDO tee "$src_entry" >/dev/null
    need_update=1
fi
# The SNP manifest needs edk2's AmdSevX64 OVMF with the kernel-hashes section, first in trixie's
# edk2 (scripts/ovmf-amdsev.sh): a trixie deb-src entry (source only, no binary from trixie).
trixie_entry=/etc/apt/sources.list.d/sealed-login-trixie-src.sources
if ! grep -rqsE '^(Suites:.*[[:space:]]trixie([[:space:]]|$)|deb-src .* trixie )' /etc/apt/sources.list /etc/apt/sources.list.d/ ; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    echo "deps: adding a trixie deb-src entry ($trixie_entry)"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        | $SUDO tee "$trixie_entry" >/dev/null
    need_update=1
fi
if [ -n "$missing" ] || [ -n "${need_update:-}" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    if [ -n "$missing" ]; then
        echo "deps: installing:$missing"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
fi
# The image's build environment (image/buildroot.lock): install the locked versions of what differs,
# when the mirror still has them and they are not older than what is installed (make image refuses a
# machine that differs; tests then build with BUILDROOT=host, which the manifest records).
if ! /usr/bin/python3 scripts/buildroot.py check >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO /usr/bin/python3 scripts/buildroot.py sync || echo "deps: the build environment still differs from image/buildroot.lock (make buildroot-check)"
fi
# npm ls fails when any module of package.json (playwright-core, axe-core) is missing or differs
if [ -f tests/browser/package.json ] && ! (cd tests/browser && npm ls --silent >/dev/null 2>&1); then
    echo "deps: installing browser test modules (npm)"
    (cd tests/browser && npm install --no-audit --no-fund --silent >/dev/null)
fi
if [ -f tests/sdjwt/package.json ] && [ ! -d tests/sdjwt/node_modules/@sd-jwt/sd-jwt-vc ]; then
    echo "deps: installing SD-JWT test modules (npm)"
    (cd tests/sdjwt && npm install --no-audit --no-fund --silent >/dev/null)
fi
