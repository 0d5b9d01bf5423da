#!/usr/bin/env bash
# fetch-libvirt-corpus.sh — fetch libvirt's own test data for QEMU capability
# probes (tests/qemucapabilitiesdata/: a .replies QMP conversation and the .xml
# libvirt computed from it, per QEMU binary) from Debian trixie's libvirt
# source package, so the tests can replay every session and compare with
# libvirt's answer.
#
# What it does (everything lives under $LIBVIRT_CORPUS_DIR, by default
# <repo>/.libvirt-corpus/, which is git-ignored):
#
#   apt/        a PRIVATE apt configuration: one deb-src line for trixie on the
#               mirror host the system already uses, its own lists and cache.
#               The system's /etc/apt and /var/lib/apt are only read.
#   src/        the upstream tarball libvirt_<version>.orig.tar.xz, checked
#               against the sha256 in trixie's signed Sources index
#   qemucapabilitiesdata/
#               tests/qemucapabilitiesdata/ of that tarball, nothing else
#   COPYING, COPYING.LESSER
#               libvirt's licence texts (the data belongs to libvirt:
#               LGPL-2.1-or-later / GPL-2.0-or-later)
#   stamp       written last; its presence (with the same version and the data
#               folder in place) makes a second run a quick no-op
#
# The mirror may answer 404 for the .dsc, its .asc or the Debian tarball, so
# `apt-get source --download-only` can exit non-zero: that is accepted. What
# counts is the upstream tarball: it must be there and its sha256 must be the
# one the signed Sources index gives (apt verified InRelease with the Debian
# archive keyring). The script fails when it is missing or differs.
#
# Usage:
#   scripts/fetch-libvirt-corpus.sh [--force] [--quiet]
#     --force   re-fetch and re-extract even if a verified copy is present
#     --quiet   only print errors and the data folder
#   The LAST line of stdout is the absolute path of qemucapabilitiesdata/;
#   progress goes to stderr. scripts/test.sh exports it to the tests as
#   QMP_PROBE_LIBVIRT_CORPUS.
#
# Environment:
#   LIBVIRT_CORPUS_DIR      where to put everything (default <repo>/.libvirt-corpus)
#   LIBVIRT_CORPUS_VERSION  the source package version (default 11.3.0-3+deb13u3)
#   LIBVIRT_CORPUS_SUITE    the suite carrying it (default trixie)
#   LIBVIRT_CORPUS_MIRROR   the mirror (default: the one the system's apt uses)
#
# Needs: network access to the Debian mirror; root or a user allowed to run
# apt-get (the private configuration needs no root, apt's sandbox user aside).

set -euo pipefail

PROG=fetch-libvirt-corpus
# shellcheck source=scripts/fetch-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/fetch-common.sh"
fetch_parse_args "$@"

D=${LIBVIRT_CORPUS_DIR:-$REPO_ROOT/.libvirt-corpus}
VERSION=${LIBVIRT_CORPUS_VERSION:-11.3.0-3+deb13u3}
SUITE=${LIBVIRT_CORPUS_SUITE:-trixie}
UPSTREAM=${VERSION#*:}; UPSTREAM=${UPSTREAM%-*}
TARBALL=libvirt_${UPSTREAM}.orig.tar.xz
DATA=qemucapabilitiesdata

mkdir -p "$D"
D=$(cd "$D" && pwd)
STAMP=$D/stamp

exec 9>"$D/.lock"
flock -w 900 9 || die "timed out waiting for another $PROG run holding $D/.lock"

# Fast path: the same version was fetched, verified and extracted before.
if [[ $FORCE == 0 && -f $STAMP && -d $D/$DATA ]] && grep -qxF "version=$VERSION" "$STAMP"; then
    have=$(find "$D/$DATA" -maxdepth 1 -name '*.replies' | wc -l)
    fetch_reuse "$(sed -n 's/^sessions=//p' "$STAMP")" "$have" "$D/$DATA" "libvirt $VERSION, $have sessions in $D/$DATA"
fi

START=$SECONDS
for cmd in apt-get apt-cache apt-config sha256sum tar xz awk sed grep flock find; do
    command -v "$cmd" >/dev/null 2>&1 || die "required command '$cmd' not found"
done

# Mirror: the host the system's Debian sources already use (apt parses them).
if [[ -n ${LIBVIRT_CORPUS_MIRROR:-} ]]; then
    MIRROR=$LIBVIRT_CORPUS_MIRROR
else
    # shellcheck disable=SC2016  # $(...) is apt's format syntax, not the shell's
    MIRROR=$(apt-get indextargets --no-release-info --format '$(TARGET_OF)|$(SITE)|$(RELEASE)' 2>/dev/null \
             | awk -F'|' '$1 == "deb" && $3 !~ /-security$/ { print $2; exit }' || true)
fi
[[ -n $MIRROR ]] || die "no Debian 'deb' source in /etc/apt/sources.list(.d) to take the mirror from; set LIBVIRT_CORPUS_MIRROR"

if [[ -s /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
    KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
else
    die "no Debian archive keyring at /usr/share/keyrings/debian-archive-keyring.gpg (install 'debian-archive-keyring')"
fi
log "mirror: $MIRROR; suite: $SUITE; keyring: $KEYRING"

A=$D/apt
mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
echo "deb-src [signed-by=$KEYRING] $MIRROR $SUITE main" >"$A/sources.list"
cat >"$A/apt.conf" <<'EOF'
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
EOF
: >"$A/status"
APT_OPTS=(
    -c "$A/apt.conf"
    -o "Dir::Etc::SourceList=$A/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=/dev/null"
    -o "Dir::State::Lists=$A/lists"
    -o "Dir::State::status=$A/status"
    -o "Dir::Cache=$A/cache"
    -o "Acquire::Languages=none"
)

log "apt-get update (private lists in $A/lists)"
if ! apt-get "${APT_OPTS[@]}" -q update --error-on=any >"$A/update.log" 2>&1; then
    cat "$A/update.log" >&2
    die "apt-get update of the private configuration failed (mirror unreachable, or $SUITE's signature not verifiable with $KEYRING)"
fi

# The sha256 of the upstream tarball, from the Sources index apt verified.
SHOWSRC=$(apt-cache "${APT_OPTS[@]}" showsrc libvirt 2>/dev/null || true)
grep -qx "Version: $VERSION" <<<"$SHOWSRC" || die "libvirt $VERSION is not in $SUITE's Sources on $MIRROR"
EXPECTED=$(awk -v v="$VERSION" -v f="$TARBALL" '
    /^Version: / { inside = ($2 == v) }
    /^Checksums-Sha256:/ { sums = inside; next }
    /^[^ ]/ { sums = 0 }
    sums && $3 == f { print $1; exit }
' <<<"$SHOWSRC")
[[ $EXPECTED =~ ^[0-9a-f]{64}$ ]] || die "no sha256 for $TARBALL in the Sources entry of libvirt $VERSION"
log "expected sha256 of $TARBALL (signed Sources index): $EXPECTED"

SRC=$D/src
mkdir -p "$SRC"
# apt downloads as the unprivileged _apt user when run as root: let it write.
if [[ $(id -u) == 0 ]] && id _apt >/dev/null 2>&1; then chown _apt "$SRC"; fi
have_tarball() { [[ -f $SRC/$TARBALL ]] && [[ $(sha256sum "$SRC/$TARBALL" | cut -d' ' -f1) == "$EXPECTED" ]]; }
if [[ $FORCE == 1 ]] || ! have_tarball; then
    rm -f "$SRC/$TARBALL"
    log "apt-get source --download-only libvirt=$VERSION"
    # The mirror may 404 the .dsc, .asc or Debian tarball: apt-get then exits non-zero, which is accepted here;
    # only the upstream tarball matters, and it is checked below.
    if ! (cd "$SRC" && apt-get "${APT_OPTS[@]}" -q source --download-only "libvirt=$VERSION") >"$A/source.log" 2>&1; then
        log "apt-get source exited non-zero (accepted: $(grep -c '^E: Failed to fetch http' "$A/source.log" || true) other file(s) of the package not served)"
    fi
    [[ -f $SRC/$TARBALL ]] || { cat "$A/source.log" >&2; die "$TARBALL was not downloaded"; }
    ACTUAL=$(sha256sum "$SRC/$TARBALL" | cut -d' ' -f1)
    [[ $ACTUAL == "$EXPECTED" ]] || die "$TARBALL has sha256 $ACTUAL, the signed Sources index says $EXPECTED"
fi
log "$TARBALL: sha256 OK"

# Extract the data folder and the licence texts into a staging folder, then swap it in.
TOP=libvirt-$UPSTREAM
rm -rf "$D/extract.new"
mkdir -p "$D/extract.new"
tar -xJf "$SRC/$TARBALL" -C "$D/extract.new" --no-same-owner \
    "$TOP/tests/$DATA" "$TOP/COPYING" "$TOP/COPYING.LESSER"
SESSIONS=$(find "$D/extract.new/$TOP/tests/$DATA" -maxdepth 1 -name '*.replies' | wc -l)
((SESSIONS > 0)) || die "no .replies in tests/$DATA of $TARBALL"
rm -rf "${D:?}/$DATA"
mv "$D/extract.new/$TOP/tests/$DATA" "$D/$DATA"
mv "$D/extract.new/$TOP/COPYING" "$D/extract.new/$TOP/COPYING.LESSER" "$D/"
rm -rf "$D/extract.new"
cat >"$D/README" <<EOF
tests/$DATA/ of libvirt $UPSTREAM (Debian source package libvirt $VERSION, $SUITE),
fetched and verified by scripts/$PROG.sh. The data belongs to libvirt
(LGPL-2.1-or-later / GPL-2.0-or-later; COPYING and COPYING.LESSER here).
Read it from here; it is not part of this repository.
EOF

{
    echo "version=$VERSION"
    echo "sha256=$EXPECTED"
    echo "sessions=$SESSIONS"
    echo "mirror=$MIRROR"
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
log "done in $((SECONDS - START))s: $SESSIONS sessions in $D/$DATA"
echo "$D/$DATA"
