#!/usr/bin/env bash
# fetch-qemu-backports.sh — make a second, newer QEMU (10.0 from Debian's
# <codename>-backports suite) runnable on this Debian machine WITHOUT
# installing it system-wide, so tests can compare two real QEMU versions
# (the system one, e.g. 7.2 from `qemu-system-x86`, and the backport).
#
# What it does (everything lives under $QEMU_BACKPORTS_DIR, by default
# <repo>/.qemu-backports/, which is meant to be git-ignored):
#
#   apt/        a PRIVATE apt configuration: its own sources.list (the system's
#               Debian suites + <codename>-backports, same mirror host as
#               /etc/apt), lists dir, cache dir and a copy of the dpkg status
#               file. The system's /etc/apt and /var/lib/apt are only read.
#   debs/       the .deb files fetched with `apt-get download`
#   root/       those .debs unpacked with `dpkg-deb -x` (no maintainer scripts)
#   bin/qemu-system-x86_64
#               a small wrapper that runs root/usr/bin/qemu-system-x86_64 with
#               -L for the extracted data/firmware dirs, QEMU_MODULE_DIR set to
#               the extracted module dir and, only if needed, LD_LIBRARY_PATH.
#   stamp       written last, after verification succeeded; its presence makes
#               a second run a quick no-op.
#
# Which packages are fetched is decided by apt itself: we ask apt to simulate
# `install --no-install-recommends qemu-system-x86/<codename>-backports`
# against a copy of the dpkg status from which the installed qemu packages
# were removed (they are bound to each other by exact-version dependencies,
# which would otherwise drag unrelated upgrades into the simulation). What apt
# would install is exactly what Debian 12 (as installed here) does not provide
# at a sufficient version: the qemu packages from backports, seabios from
# backports, and any library that is missing or too old.
#
# Isolation from the system QEMU:
#   * -L <root>/usr/share/qemu, <root>/usr/share/seabios, <root>/usr/lib/ipxe/qemu
#   * QEMU_MODULE_DIR=<root>/usr/lib/<multiarch>/qemu
#   * root/usr/bin/qemu-bundle -> ../..  : QEMU's own relocation hook (used
#     upstream to run from a build tree). When <dir of binary>/qemu-bundle
#     exists, QEMU prefixes ALL its compiled-in paths (data dir, firmware path,
#     module dir, helper dir) with it. Without it the 10.0 binary would still
#     fall back to /usr/share/qemu and /usr/lib/<multiarch>/qemu, i.e. the
#     7.2 data files and 7.2 modules. Firmware dirs that come from a system
#     package that is recent enough (e.g. ipxe-qemu) are symlinked into root/.
#
# Usage:
#   scripts/fetch-qemu-backports.sh [--force] [--quiet]
#     --force   re-fetch and re-extract even if a verified copy is present
#     --quiet   only print errors and the wrapper path
#   The LAST line of stdout is the absolute path of the wrapper; progress goes
#   to stderr. Typical use in tests:
#     QEMU_NEW=$(scripts/fetch-qemu-backports.sh --quiet | tail -n1)
#
# Environment:
#   QEMU_BACKPORTS_DIR      where to put everything (default <repo>/.qemu-backports)
#   QEMU_BACKPORTS_SUITE    suite to take QEMU from (default <codename>-backports)
#   QEMU_BACKPORTS_EXPECT   upstream version prefix that must be fetched
#                           (default 10.0); fails clearly if backports moved on
#   QEMU_BACKPORTS_KEYRING  keyring(s) for signed-by, comma separated (default:
#                           /usr/share/keyrings/debian-archive-keyring.gpg, else
#                           the Debian keys in /etc/apt/trusted.gpg.d)
#   QEMU_BACKPORTS_MIN_CPUS minimum number of CPU models query-cpu-definitions
#                           must return (default 100; 10.0 has 154)
#
# Needs: root (or a user allowed to run apt-get download), network access to
# the Debian mirror the system already uses. Runs in well under a minute cold.

set -euo pipefail

PROG=fetch-qemu-backports
# shellcheck source=scripts/fetch-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/fetch-common.sh"
fetch_parse_args "$@"

# ---------------------------------------------------------------------------
# Locations
# ---------------------------------------------------------------------------
D=${QEMU_BACKPORTS_DIR:-$REPO_ROOT/.qemu-backports}
EXPECT=${QEMU_BACKPORTS_EXPECT:-10.0}
MIN_CPUS=${QEMU_BACKPORTS_MIN_CPUS:-100}

mkdir -p "$D"
D=$(cd "$D" && pwd)   # absolute, so the printed wrapper path is too
WRAPPER=$D/bin/qemu-system-x86_64
STAMP=$D/stamp

# Serialise concurrent runs (e.g. parallel test jobs) on a lock file.
exec 9>"$D/.lock"
if ! flock -w 900 9; then
    die "timed out waiting for another $PROG run holding $D/.lock"
fi

# ---------------------------------------------------------------------------
# Fast path: everything present and verified before -> just re-check that the
# wrapper still reports the version recorded in the stamp, and exit.
# ---------------------------------------------------------------------------
if [[ $FORCE == 0 && -f $STAMP && -x $WRAPPER ]]; then
    have=$(timeout 30 "$WRAPPER" --version 2>/dev/null | head -n1 || true)
    fetch_reuse "$(sed -n 's/^version-line=//p' "$STAMP")" "$have" "$WRAPPER" "$have"
fi

START=$SECONDS

# ---------------------------------------------------------------------------
# Preconditions
# ---------------------------------------------------------------------------
for cmd in apt-get apt-cache dpkg dpkg-deb dpkg-query gpgv ldd awk sed grep timeout flock readlink; do
    command -v "$cmd" >/dev/null 2>&1 || die "required command '$cmd' not found"
done
[[ -r /etc/os-release ]] || die "/etc/os-release missing; this script is for Debian"
# shellcheck disable=SC1091  # (os-release is sourced in subshells only)
OS_ID=$(. /etc/os-release && echo "${ID:-}")
# shellcheck disable=SC1091
CODENAME=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ $OS_ID == debian && -n $CODENAME ]] \
    || die "this is not Debian (ID=$OS_ID, codename=$CODENAME); backports are Debian-specific"
SUITE=${QEMU_BACKPORTS_SUITE:-$CODENAME-backports}
ARCH=$(dpkg --print-architecture)
[[ $ARCH == amd64 ]] || die "only amd64 hosts are supported (this is $ARCH)"

# ---------------------------------------------------------------------------
# Mirror: reuse the host(s) the system's apt sources already use. apt itself
# parses /etc/apt/sources.list and sources.list.d (one-line and deb822), so we
# ask it rather than parsing those files ourselves.
# ---------------------------------------------------------------------------
# shellcheck disable=SC2016  # $(...) is apt's format syntax, not the shell's
SYS_TARGETS=$(apt-get indextargets --no-release-info \
                --format '$(TARGET_OF)|$(SITE)|$(RELEASE)|$(COMPONENT)' 2>/dev/null \
              | awk -F'|' '$1 == "deb"' | sort -u || true)
MIRROR=$(awk -F'|' -v c="$CODENAME" '$3 == c { print $2; exit }' <<<"$SYS_TARGETS")
[[ -n $MIRROR ]] || die "no 'deb' source for suite '$CODENAME' in /etc/apt/sources.list(.d); cannot tell which Debian mirror to use"
log "Debian mirror (from system apt sources): $MIRROR; suite: $SUITE"

# ---------------------------------------------------------------------------
# Keyring: backports is signed by the regular Debian archive keys.
# ---------------------------------------------------------------------------
if [[ -n ${QEMU_BACKPORTS_KEYRING:-} ]]; then
    KEYRINGS=${QEMU_BACKPORTS_KEYRING}
elif [[ -s /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
    KEYRINGS=/usr/share/keyrings/debian-archive-keyring.gpg
else
    KEYRINGS=$(find /etc/apt/trusted.gpg.d -maxdepth 1 -name 'debian-archive-*.gpg' 2>/dev/null \
               | sort | paste -sd, - || true)
fi
[[ -n $KEYRINGS ]] || die "no Debian archive keyring found (install 'debian-archive-keyring')"
IFS=, read -r -a KEYRING_FILES <<<"$KEYRINGS"
for k in "${KEYRING_FILES[@]}"; do
    [[ -r $k ]] || die "keyring '$k' is not readable"
done
log "keyring(s) for signed-by: $KEYRINGS"

# ---------------------------------------------------------------------------
# Private apt configuration
# ---------------------------------------------------------------------------
A=$D/apt
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/preferences.d"

# sources.list: the system's Debian suites for this release (needed so apt
# can resolve dependencies that are not installed) plus the backports suite,
# all verified with the Debian archive keyring.
{
    echo "# generated by scripts/$PROG.sh — private to $D, not used by the system"
    awk -F'|' -v c="$CODENAME" '
        $3 == c || $3 == c "-updates" || $3 == c "-security" {
            key = $2 " " $3
            if (!(key in comps)) { order[++n] = key; comps[key] = $4 }
            else if (index(" " comps[key] " ", " " $4 " ") == 0) comps[key] = comps[key] " " $4
        }
        END { for (i = 1; i <= n; i++) { split(order[i], kv, " "); print kv[1] "|" kv[2] "|" comps[order[i]] } }
    ' <<<"$SYS_TARGETS" | while IFS='|' read -r site rel comps; do
        echo "deb [signed-by=$KEYRINGS] $site $rel $comps"
    done
    echo "deb [signed-by=$KEYRINGS] $MIRROR $SUITE main"
} >"$A/sources.list"

# apt.conf read after the system's: drop the system's update hooks
# (PackageKit/appstream refreshes make no sense for a private list dir).
cat >"$A/apt.conf" <<'EOF'
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
EOF

# A copy of the dpkg status WITHOUT the packages built from the "qemu" source
# (they pin each other to the exact 7.2 version) and, transitively, without
# whatever depends on them. Only used for dependency resolution.
awk '
    BEGIN { RS = ""; FS = "\n" }
    {
        n++; text[n] = $0; pkg = ""; src = ""; deps = ""
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^Package: /)                 pkg = substr($i, 10)
            else if ($i ~ /^Source: /)             { src = substr($i, 9); sub(/ .*/, "", src) }
            else if ($i ~ /^(Pre-)?Depends: /)     { d = $i; sub(/^[^:]*: /, "", d); deps = deps "," d }
        }
        if (src == "") src = pkg
        name[n] = pkg; dep[n] = deps
        if (src == "qemu") { drop[n] = 1; gone[pkg] = 1 }
    }
    END {
        do {
            changed = 0
            for (j = 1; j <= n; j++) {
                if (drop[j]) continue
                m = split(dep[j], alts, /[,|]/)
                for (k = 1; k <= m; k++) {
                    a = alts[k]; gsub(/\(.*\)|\[.*\]|<.*>/, "", a); gsub(/[ \t]/, "", a); sub(/:.*/, "", a)
                    if (a != "" && (a in gone)) { drop[j] = 1; gone[name[j]] = 1; changed = 1; break }
                }
            }
        } while (changed)
        for (j = 1; j <= n; j++) if (!drop[j]) printf "%s\n\n", text[j]
    }
' /var/lib/dpkg/status >"$A/status.tmp"
mv "$A/status.tmp" "$A/status"
: >"$A/extended_states"

APT_OPTS=(
    -c "$A/apt.conf"
    -o "Dir::Etc::SourceList=$A/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=$A/preferences.d"
    -o "Dir::State::Lists=$A/lists"
    -o "Dir::State::status=$A/status"
    -o "Dir::State::extended_states=$A/extended_states"
    -o "Dir::Cache=$A/cache"
    -o "Dir::Cache::archives=$A/cache/archives"
    -o "APT::Default-Release="
    -o "Acquire::Languages=none"
    -o "APT::Install-Recommends=false"
    -o "APT::Install-Suggests=false"
)
papt_get()   { apt-get   "${APT_OPTS[@]}" "$@"; }
papt_cache() { apt-cache "${APT_OPTS[@]}" "$@"; }

# Seed the private lists with the system's (same mirror => same file names),
# so `apt-get update` only revalidates them instead of downloading ~10 MB.
SYS_LISTS=$(eval "$(apt-config shell L Dir::State::Lists/d)"; echo "${L:-/var/lib/apt/lists/}")
if [[ -d $SYS_LISTS ]]; then
    find "$SYS_LISTS" -maxdepth 1 -type f \( -name '*_InRelease' -o -name '*_Release' \
        -o -name '*_Release.gpg' -o -name '*_Packages*' \) -print0 \
        | while IFS= read -r -d '' f; do
            [[ -e $A/lists/${f##*/} ]] || cp -p "$f" "$A/lists/"
        done
fi

log "apt-get update (private lists in $A/lists)"
# --error-on=any: a failed download/verification of any index is an error,
# not a warning (plain `apt-get update` exits 0 on fetch failures).
if ! papt_get -q update --error-on=any >"$A/update.log" 2>&1; then
    cat "$A/update.log" >&2
    die "apt-get update of the private configuration failed (mirror unreachable, or signature not verifiable with $KEYRINGS)"
fi

# Belt and braces: check the backports InRelease signature ourselves too.
BP_INRELEASE=$(find "$A/lists" -maxdepth 1 -name "*_dists_${SUITE}_InRelease" | head -n1)
[[ -n $BP_INRELEASE ]] || die "no InRelease for $SUITE after apt-get update (does $MIRROR carry $SUITE?)"
GPGV_ARGS=()
for k in "${KEYRING_FILES[@]}"; do GPGV_ARGS+=(--keyring "$k"); done
if ! gpgv_out=$(gpgv "${GPGV_ARGS[@]}" "$BP_INRELEASE" 2>&1); then
    printf '%s\n' "$gpgv_out" >&2
    die "$SUITE InRelease is not signed by a key in $KEYRINGS"
fi
log "$SUITE signature OK: $(grep -m1 'Good signature' <<<"$gpgv_out" | sed 's/^gpgv: //')"

# ---------------------------------------------------------------------------
# Pick the version and resolve what must be fetched
# ---------------------------------------------------------------------------
VER=$(papt_cache madison qemu-system-x86 \
      | awk -F'|' -v s=" $SUITE/" 'index($3, s) { gsub(/ /, "", $2); print $2; exit }')
[[ -n $VER ]] || die "qemu-system-x86 is not available from $SUITE on $MIRROR"
UPSTREAM=${VER#*:}; UPSTREAM=${UPSTREAM%%[+~-]*}
if [[ $UPSTREAM != "$EXPECT" && $UPSTREAM != "$EXPECT".* ]]; then
    die "$SUITE has qemu-system-x86 $VER (upstream $UPSTREAM), expected $EXPECT.x; set QEMU_BACKPORTS_EXPECT=${UPSTREAM%.*} to accept it"
fi
log "qemu-system-x86 in $SUITE: $VER"

# Simulate the install; every "Inst" line is a package whose required version
# is not installed here. pkg/suite also lets apt take dependencies from the
# suite where needed (qemu-system-common = VER, seabios >> 1.16.3-1~, ...).
if ! SIM=$(papt_get -s -q install --no-install-recommends "qemu-system-x86/$SUITE" 2>&1); then
    printf '%s\n' "$SIM" >&2
    die "apt could not resolve the dependencies of qemu-system-x86/$SUITE"
fi
mapfile -t PKGS < <(sed -nE 's/^Inst ([^ ]+) (\[[^]]*\] )?\(([^ ]+) .*/\1=\3/p' <<<"$SIM")
((${#PKGS[@]} > 0)) || { printf '%s\n' "$SIM" >&2; die "apt simulation listed nothing to install"; }
grep -qx "qemu-system-x86=$VER" < <(printf '%s\n' "${PKGS[@]}") \
    || die "apt chose a different qemu-system-x86 than $VER: ${PKGS[*]}"
for p in "${PKGS[@]}"; do
    case "${p%%=*}" in
        libc6|libc6:*|libc-bin)
            die "QEMU from $SUITE needs a newer C library ($p); that cannot be used via LD_LIBRARY_PATH" ;;
    esac
done
log "packages to fetch (${#PKGS[@]}): ${PKGS[*]}"

# ---------------------------------------------------------------------------
# Download and unpack into a staging tree, then swap it in
# ---------------------------------------------------------------------------
rm -rf "$D/debs.new" "$D/root.new"
mkdir -p "$D/debs.new" "$D/root.new"
# apt downloads as the unprivileged _apt user when run as root: let it write.
if [[ $(id -u) == 0 ]] && id _apt >/dev/null 2>&1; then
    chown _apt "$D/debs.new"
fi
log "apt-get download"
if ! (cd "$D/debs.new" && papt_get -q download "${PKGS[@]}") >"$A/download.log" 2>&1; then
    cat "$A/download.log" >&2
    die "apt-get download failed"
fi
shopt -s nullglob
DEBS=("$D/debs.new"/*.deb)
shopt -u nullglob
((${#DEBS[@]} == ${#PKGS[@]})) || die "expected ${#PKGS[@]} .deb files, got ${#DEBS[@]} in $D/debs.new"

for deb in "${DEBS[@]}"; do
    dpkg-deb -x "$deb" "$D/root.new"
done
R_NEW=$D/root.new
[[ -x $R_NEW/usr/bin/qemu-system-x86_64 ]] || die "qemu-system-x86_64 missing from the extracted packages"

# Standard library directories holding extracted shared libraries (only when
# a library package had to be fetched). Plugin subdirectories (vdeplug/, ...)
# and QEMU's own module dir are not library search paths and stay out.
LIBDIRS_ABS=() LIBDIRS_REL=()
while IFS= read -r dir; do
    rel=${dir#"$R_NEW"}
    if [[ $rel =~ ^(/usr)?/lib(64|/[^/]+-linux-gnu)?$ ]]; then
        LIBDIRS_ABS+=("$dir"); LIBDIRS_REL+=("$rel")
    fi
done < <(find "$R_NEW" \( -type f -o -type l \) -name 'lib*.so*' -printf '%h\n' | sort -u)
ld_path_new=$(IFS=:; echo "${LIBDIRS_ABS[*]}")

# The binary's compiled-in firmware search path (Debian: /usr/share/qemu,
# /usr/share/seabios, /usr/lib/ipxe/qemu). Ask it before the qemu-bundle link
# exists, while it still prints the unrelocated paths.
mapfile -t FWDIRS < <(LD_LIBRARY_PATH=$ld_path_new${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
                      "$R_NEW/usr/bin/qemu-system-x86_64" -L help 2>/dev/null | grep '^/' || true)
((${#FWDIRS[@]} > 0)) || die "the extracted qemu-system-x86_64 does not run (-L help printed nothing); see ldd below:
$(LD_LIBRARY_PATH=$ld_path_new ldd "$R_NEW/usr/bin/qemu-system-x86_64" 2>&1 | grep -E 'not found|version' || true)"
for fw in "${FWDIRS[@]}"; do
    # Firmware provided by a system package that was recent enough (e.g.
    # ipxe-qemu): make it visible inside root/ so the relocated path finds it.
    if [[ ! -e $R_NEW$fw && -d $fw ]]; then
        mkdir -p "$(dirname "$R_NEW$fw")"
        ln -s "$fw" "$R_NEW$fw"
    fi
    [[ -d $R_NEW$fw ]] || warn "firmware dir $fw exists neither extracted nor on the system"
done

# QEMU's relocation hook: <bindir>/qemu-bundle prefixes every compiled-in path.
ln -sfn ../.. "$R_NEW/usr/bin/qemu-bundle"

MODDIRS=("$R_NEW"/usr/lib/*-linux-gnu/qemu)
[[ -d ${MODDIRS[0]} ]] || die "no QEMU module dir in the extracted qemu-system-common"
MODDIR_REL=${MODDIRS[0]#"$R_NEW"}

# ldd: every extracted ELF must resolve all its libraries with the system
# libraries plus the extracted ones. Fatal for the emulator, a warning for
# optional modules/helpers.
missing_main=$(LD_LIBRARY_PATH=$ld_path_new ldd "$R_NEW/usr/bin/qemu-system-x86_64" 2>&1 \
               | grep -E 'not found' || true)
[[ -z $missing_main ]] || die "qemu-system-x86_64 has unresolved libraries:
$missing_main"
while IFS= read -r -d '' elf; do
    head -c4 "$elf" | grep -q 'ELF' || continue
    miss=$(LD_LIBRARY_PATH=$ld_path_new ldd "$elf" 2>&1 | grep -E 'not found' || true)
    [[ -z $miss ]] || warn "${elf#"$R_NEW"}: $(tr '\n' ' ' <<<"$miss")"
done < <(find "$R_NEW/usr/bin" "$R_NEW/usr/lib" -type f -perm -u+x -print0 2>/dev/null;
         find "$R_NEW$MODDIR_REL" -type f -name '*.so' -print0)

# Swap the new tree in.
rm -rf "$D/root" "$D/debs"
mv "$D/root.new" "$D/root"
mv "$D/debs.new" "$D/debs"

# ---------------------------------------------------------------------------
# Wrapper (locates root/ relative to itself, so the directory can be moved)
# ---------------------------------------------------------------------------
mkdir -p "$D/bin"
# shellcheck disable=SC2016  # single-quoted $root etc. are for the wrapper
{
    cat <<EOF
#!/bin/sh
# Generated by scripts/$PROG.sh — do not edit.
# Runs QEMU $VER (from Debian $SUITE), unpacked under ../root,
# without touching the system QEMU: data/firmware via -L, modules via
# QEMU_MODULE_DIR (and root/usr/bin/qemu-bundle, QEMU's relocation hook).
root=\$(dirname "\$(readlink -f "\$0")")/../root
root=\$(cd "\$root" && pwd) || exit 127
QEMU_MODULE_DIR="\$root$MODDIR_REL"
export QEMU_MODULE_DIR
EOF
    if ((${#LIBDIRS_REL[@]} > 0)); then
        ld=""
        for l in "${LIBDIRS_REL[@]}"; do ld="$ld${ld:+:}\$root$l"; done
        printf 'LD_LIBRARY_PATH="%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"\nexport LD_LIBRARY_PATH\n' "$ld"
    else
        echo "# (no extracted libraries: LD_LIBRARY_PATH not needed)"
    fi
    printf 'exec "$root/usr/bin/qemu-system-x86_64"'
    for fw in "${FWDIRS[@]}"; do printf ' -L "$root%s"' "$fw"; done
    printf ' "$@"\n'
} >"$WRAPPER.tmp"
chmod 0755 "$WRAPPER.tmp"
mv "$WRAPPER.tmp" "$WRAPPER"

# ---------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------
log "verifying $WRAPPER"
VLINE=$(timeout 30 "$WRAPPER" --version 2>&1 | head -n1) || die "'$WRAPPER --version' failed: $VLINE"
[[ $VLINE == "QEMU emulator version $EXPECT"* ]] || die "unexpected --version output: $VLINE"
MAJOR=${EXPECT%%.*}

# No compiled-in default may point at the system's 7.2 data.
if "$WRAPPER" -L help 2>/dev/null | grep -qxE '/usr/share/(qemu|seabios)'; then
    die "the wrapper still searches the system QEMU data dirs:
$("$WRAPPER" -L help)"
fi

# qmp ARGS... — feed QMP commands (read from $QMP_IN) on stdin, print output.
qmp() {
    printf '%s\n' "$QMP_IN" | timeout 60 "$WRAPPER" -display none -qmp stdio "$@" 2>"$D/verify.err"
}

QMP_IN='{"execute":"qmp_capabilities"}
{"execute":"query-version"}
{"execute":"query-cpu-definitions"}
{"execute":"quit"}'
out=$(qmp -machine none -nodefaults -S) || die "QMP session with -machine none failed: $(cat "$D/verify.err")"
grep -q "\"major\": $MAJOR" <<<"$out" || die "QMP query-version did not report major $MAJOR:
$out"
NCPUS=$(grep '"typename"' <<<"$out" | grep -o '"typename": "[^"]*"' | wc -l)
((NCPUS >= MIN_CPUS)) || die "query-cpu-definitions returned only $NCPUS CPU models (want >= $MIN_CPUS)"
log "QMP ok: major $MAJOR, $NCPUS CPU models"

# -machine pc with its default devices: needs SeaBIOS, VGA BIOS and the iPXE
# ROM of the default NIC. -S: no guest code runs, ROMs are loaded anyway.
QMP_IN='{"execute":"qmp_capabilities"}
{"execute":"query-status"}
{"execute":"quit"}'
out=$(qmp -machine pc -S) || die "-machine pc did not start: $(cat "$D/verify.err")"
grep -q '"status": "prelaunch"' <<<"$out" || die "-machine pc: unexpected QMP output:
$out
$(cat "$D/verify.err")"
log "-machine pc ok"

if [[ -e /dev/kvm ]]; then
    if [[ -r /dev/kvm && -w /dev/kvm ]]; then
        QMP_IN='{"execute":"qmp_capabilities"}
{"execute":"query-kvm"}
{"execute":"quit"}'
        out=$(qmp -machine none -accel kvm -nodefaults -S) || die "-accel kvm failed: $(cat "$D/verify.err")"
        grep -q '"enabled": true' <<<"$out" || die "-accel kvm: KVM not enabled:
$out"
        log "-accel kvm ok"
    else
        warn "/dev/kvm exists but is not accessible to $(id -un); KVM check skipped"
    fi
else
    log "/dev/kvm absent; KVM check skipped"
fi
rm -f "$D/verify.err"

# ---------------------------------------------------------------------------
# Done: record what we have (the fast path compares version-line).
# ---------------------------------------------------------------------------
{
    echo "version=$VER"
    echo "version-line=$VLINE"
    echo "suite=$SUITE"
    echo "mirror=$MIRROR"
    echo "packages=${PKGS[*]}"
    echo "libdirs=${LIBDIRS_REL[*]}"
    echo "cpu-models=$NCPUS"
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
log "done in $((SECONDS - START))s: $VLINE"
echo "$WRAPPER"
