# pinned-deb.sh: sourced by the image build scripts. One function:
#
#   pinned_deb LOCKFILE CACHEDIR WHO [--no-unpack]
#
# makes sure CACHEDIR/<package>_<version>/root holds the .deb that LOCKFILE pins (lines package=,
# version=, sha256=) unpacked, and prints that directory's parent (CACHEDIR/<package>_<version>).
# The .deb is fetched once with `apt-get download PACKAGE=VERSION` and refused when its sha256
# differs from the lock (with SEALED_SOURCE_ARCHIVE=DIR set, copied from DIR/pinned/ instead: a
# release's source archive, scripts/image-sources.sh); --no-unpack only fetches. Concurrent
# callers (worktrees, test runs) share the cache through flock.
# WHO names the caller in messages. Call it in a command substitution, DIR=$(pinned_deb ...): the
# lock (fd 9) is released when that subshell ends; a caller that changes the tree afterwards takes
# its own lock.
pinned_deb() {
    local lockfile=$1 cache=$2 who=$3 unpack=${4:-} pkg ver sha dir deb
    pkg=$(sed -n 's/^package=//p' "$lockfile")
    ver=$(sed -n 's/^version=//p' "$lockfile")
    sha=$(sed -n 's/^sha256=//p' "$lockfile")
    if [ -z "$pkg" ] || [ -z "$ver" ] || [ -z "$sha" ]; then
        echo "$who: $lockfile needs package, version, sha256" >&2; return 1
    fi
    dir=$cache/${pkg}_$ver
    mkdir -p "$dir"
    exec 9>"$dir.lock"
    flock 9
    if [ ! -f "$dir/.unpacked" ]; then
        deb=$(ls "$dir"/*.deb 2>/dev/null | head -1 || true)
        if [ -z "$deb" ] && [ -n "${SEALED_SOURCE_ARCHIVE:-}" ]; then
            cp "$SEALED_SOURCE_ARCHIVE/pinned/${pkg}_"*.deb "$dir/" 2>/dev/null ||
                { echo "$who: no $pkg .deb in $SEALED_SOURCE_ARCHIVE/pinned" >&2; return 1; }
            deb=$(ls "$dir"/*.deb | head -1)
        fi
        if [ -z "$deb" ]; then
            echo "$who: downloading $pkg=$ver into $dir" >&2
            if ! (cd "$dir" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1); then
                echo "$who: apt-get download $pkg=$ver failed (superseded? update $lockfile)" >&2; return 1
            fi
            deb=$(ls "$dir"/*.deb | head -1)
        fi
        if ! echo "$sha  $deb" | sha256sum -c --quiet - >/dev/null 2>&1; then
            echo "$who: $deb does not match $lockfile's sha256" >&2; return 1
        fi
        if [ "$unpack" = --no-unpack ]; then echo "$dir"; return 0; fi
        rm -rf "$dir/root"
        dpkg-deb -x "$deb" "$dir/root"
        touch "$dir/.unpacked"
    fi
    echo "$dir"
}
