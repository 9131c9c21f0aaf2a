#!/bin/bash
# buildroot-root.sh: the pinned build root, a Debian root made from exactly the packages of
# image/buildroot.lock, and the way into it. Owns ~/.cache/sealed-login/buildroot/ only; never
# touches the host's packages (scripts/buildroot.py sync does that) nor the repository.
#
#   scripts/buildroot-root.sh path        build the root if it is not cached; print its directory
#   scripts/buildroot-root.sh tar         the same root as a tarball (for the Containerfile); print it
#   scripts/buildroot-root.sh key         the cache key: sha256 of the lock's packages and of build_root
#   scripts/buildroot-root.sh ca-bundle   the sha256 of the root's CA bundle (make lock-update locks it)
#   scripts/buildroot-root.sh run [--bind DIR]... [--ro DIR]... -- CMD...
#                                         run CMD in the root: no network (a new, empty network
#                                         namespace), the repository bound read-only at its own path,
#                                         its build/ writable, ~/.cache/sealed-login and
#                                         /var/tmp/sealed-ovmf writable, a fresh /tmp
#
# How the root is made: `buildroot.py download` fetches every locked .deb (or copies it from
# $SEALED_SOURCE_ARCHIVE/debs) and checks it against the lock; dpkg-scanpackages makes a local apt
# repository of them; mmdebstrap (variant essential, every locked package included) installs from
# that repository alone, inside `unshare -n` so that no mirror can be reached. apt can only choose
# the locked versions, since the repository holds nothing else. The result is then checked:
# `buildroot.py check --exact` refuses a root with a package missing, of another version, or not in
# the lock, and a CA bundle other than the locked one. Cached as
# ~/.cache/sealed-login/buildroot/<key>/root (a root-owned directory; needs root, like mmdebstrap's
# root mode) and .../root.tar.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOCK=$ROOT/image/buildroot.lock
CACHE=${SEALED_CACHE:-$HOME/.cache/sealed-login}/buildroot
# the root's own date (file times in the root and its tarball): fixed, so two builds of the root
# from the same lock give the same tarball. The caller's SOURCE_DATE_EPOCH is the image's (run).
CALLER_EPOCH=${SOURCE_DATE_EPOCH:-}
export SOURCE_DATE_EPOCH=1700000000
die() { echo "buildroot-root: $*" >&2; exit 1; }
say() { echo "buildroot-root: $*" >&2; }

# the key: the locked packages and how the root is made (build_root below; not the lock's
# ca-bundle line, which is read from the root: the bundle the pinned ca-certificates makes)
KEY=$( { grep '^deb ' "$LOCK"; sed -n '/^build_root() {$/,/^}$/p' "$0"; } | sha256sum | cut -c1-16)
DIR=$CACHE/$KEY

build_root() {
    [ "$(id -u)" = 0 ] || die "building the root needs root (mmdebstrap --mode=root, chroot)"
    command -v mmdebstrap >/dev/null || die "mmdebstrap missing (scripts/packages/image.txt)"
    command -v dpkg-scanpackages >/dev/null && command -v apt-ftparchive >/dev/null ||
        die "dpkg-scanpackages or apt-ftparchive missing (dpkg-dev, apt-utils)"
    mkdir -p "$CACHE"
    exec 9>"$DIR.lock"
    flock 9   # concurrent callers (worktrees, test runs): one builds, the others wait
    [ -f "$DIR/.done" ] && return 0
    local t0=$SECONDS repo names
    rm -rf "$DIR"
    mkdir -p "$DIR/repo" "$CACHE/debs"
    "$ROOT/scripts/buildroot.py" download "$CACHE/debs" >&2
    # the repository: exactly the locked .deb files (hard links to the shared download cache)
    (cd "$CACHE/debs" && sha256sum -- *.deb) >"$DIR/debs.sha256"
    local name sha f
    while read -r name sha; do
        f=$(awk -v s="$sha" '$1 == s {print $2; exit}' "$DIR/debs.sha256")
        [ -n "$f" ] || die "no .deb of $name with the locked sha256 in $CACHE/debs"
        ln -f "$CACHE/debs/$f" "$DIR/repo/" 2>/dev/null || cp "$CACHE/debs/$f" "$DIR/repo/"
    done < <(awk '$1 == "deb" {print $2, $5}' "$LOCK")
    # a Release naming the suite: mmdebstrap finds the Essential:yes set by the suite's name
    (cd "$DIR/repo" && dpkg-scanpackages -m . /dev/null >Packages 2>/dev/null &&
        apt-ftparchive -o APT::FTPArchive::Release::Suite=bookworm -o APT::FTPArchive::Release::Codename=bookworm \
            release . >Release) || die "dpkg-scanpackages or apt-ftparchive failed"
    [ "$(grep -c '^Package: ' "$DIR/repo/Packages")" = "$(grep -c '^deb ' "$LOCK")" ] ||
        die "the local repository does not hold one .deb per locked package"
    names=$(awk '$1 == "deb" {print $2}' "$LOCK" | paste -sd, -)
    say "building the root from $(grep -c '^deb ' "$LOCK") locked packages in $DIR/root (no network)"
    unshare -n -- mmdebstrap --mode=root --variant=essential --include="$names" \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --aptopt='Acquire::Languages "none"' --aptopt='Apt::Install-Recommends "false"' \
        --customize-hook='rm -f "$1"/etc/machine-id "$1"/var/cache/ldconfig/aux-cache' \
        bookworm "$DIR/root" "deb [trusted=yes] copy://$DIR/repo ./" >"$DIR/mmdebstrap.log" 2>&1 ||
        die "mmdebstrap failed: $DIR/mmdebstrap.log"
    "$ROOT/scripts/buildroot.py" check --exact --admindir "$DIR/root/var/lib/dpkg" \
        --ca-bundle "$DIR/root/etc/ssl/certs/ca-certificates.crt" --no-ca-check >&2 ||
        die "the root differs from image/buildroot.lock (above); it is kept in $DIR/root for a look"
    rm -rf "$DIR/repo"
    touch "$DIR/.done"
    say "root ready in $((SECONDS - t0)) s: $DIR/root"
}

build_tar() {
    build_root
    exec 9>"$DIR.lock"
    flock 9
    if [ ! -f "$DIR/root.tar" ]; then
        # a deterministic tarball: sorted names, numeric owners, the root's fixed date
        tar --sort=name --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime --format=posix \
            --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
            -C "$DIR/root" -cf "$DIR/root.tar.tmp" . && mv "$DIR/root.tar.tmp" "$DIR/root.tar"
    fi
}

# run: enter the root. The mount namespace and the network namespace are new (no interface but lo,
# which stays down); the host's mounts are untouched.
run_in_root() {
    local binds=() ros=() a
    while [ $# -gt 0 ]; do
        case "$1" in
            --bind) binds+=("$2"); shift 2 ;;
            --ro) ros+=("$2"); shift 2 ;;
            --) shift; break ;;
            *) die "run: unknown argument $1" ;;
        esac
    done
    [ $# -gt 0 ] || die "run: no command"
    build_root
    exec 9>&-   # the cache's lock is for building the root, not for using it
    "$ROOT/scripts/buildroot.py" check --exact --admindir "$DIR/root/var/lib/dpkg" \
        --ca-bundle "$DIR/root/etc/ssl/certs/ca-certificates.crt" >/dev/null ||
        die "the root in $DIR differs from image/buildroot.lock (scripts/buildroot.py check --exact --admindir ...)"
    local r=$DIR/root home=${HOME:-/root} src=$ROOT
    mkdir -p "$src/build" "${SEALED_CACHE:-$home/.cache/sealed-login}" /var/tmp/sealed-ovmf
    binds+=("$src/build" "${SEALED_CACHE:-$home/.cache/sealed-login}" /var/tmp/sealed-ovmf)
    ros=("$src" "${ros[@]}")
    [ -n "${SEALED_SOURCE_ARCHIVE:-}" ] && ros+=("$SEALED_SOURCE_ARCHIVE")
    # the script the new namespaces run: mounts first (read-only ones before the writable ones
    # under them), then chroot with a clean environment
    local inner="set -e; mount --make-rprivate /
        mount -t proc proc '$r/proc'; mount --rbind /dev '$r/dev'; mount -t tmpfs tmpfs '$r/tmp'"
    for a in "${ros[@]}"; do
        inner+="; mkdir -p '$r$a'; mount --bind '$a' '$r$a'; mount -o remount,bind,ro '$r$a'"
    done
    for a in "${binds[@]}"; do
        inner+="; mkdir -p '$r$a' 2>/dev/null || true; mount --bind '$a' '$r$a'"
    done
    inner+='; exec chroot "$0" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$1" LC_ALL=C TZ=UTC \
        SOURCE_COMMIT="$2" SOURCE_DATE_EPOCH="$3" SEALED_IN_ROOT=1 ${4:+SEALED_SOURCE_ARCHIVE="$4"} \
        /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$5" "${@:6}"'
    # the commit and its date are read here: the root has no git
    local commit date
    commit=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
    git -C "$src" diff --quiet HEAD 2>/dev/null || commit="$commit+dirty"
    date=${CALLER_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || echo 0)}
    exec unshare --mount --net --pid --fork -- /bin/bash -c "$inner" "$r" "$home" "$commit" "$date" \
        "${SEALED_SOURCE_ARCHIVE:-}" "$PWD" "$@"
}

case "${1:-}" in
    key) echo "$KEY" ;;
    ca-bundle) build_root; sha256sum "$DIR/root/etc/ssl/certs/ca-certificates.crt" | cut -d' ' -f1 ;;
    path) build_root; exec 9>&-; echo "$DIR/root" ;;
    tar) build_tar; exec 9>&-; echo "$DIR/root.tar" ;;
    run) shift; run_in_root "$@" ;;
    *) sed -n '2,/^set -e/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
