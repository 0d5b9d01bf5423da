# fetch-common.sh — sourced (not run) by the fetch scripts (fetch-qemu-backports.sh, fetch-libvirt-corpus.sh):
# their messages, the report of an unexpected failure, their shared options, and where the repository is.
# The sourcing script sets PROG first and calls fetch_parse_args "$@".
#   log MSG    progress on stderr, unless --quiet
#   warn MSG   a warning on stderr
#   die MSG    an error on stderr, exit 1
#   fetch_reuse WANT HAVE RESULT WHAT   the no-op of a second run
#   FORCE, QUIET (0/1), REPO_ROOT (absolute)

QUIET=0
FORCE=0

log()  { [[ $QUIET == 1 ]] || printf '%s: %s\n' "$PROG" "$*" >&2; }
warn() { printf '%s: WARNING: %s\n' "$PROG" "$*" >&2; }
die()  { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }
# Any unexpected failing command (set -e) gets reported with its line.
on_err() {
    local rc=$?
    printf '%s: ERROR: command failed (exit %s) at line %s: %s\n' "$PROG" "$rc" "$1" "$2" >&2
    exit "$rc"
}
trap 'on_err "$LINENO" "$BASH_COMMAND"' ERR

# --force, --quiet/-q, --help/-h (the calling script's header comment, up to `set -euo`).
fetch_parse_args() {
    local arg
    for arg in "$@"; do
        case "$arg" in
            --force) FORCE=1 ;;
            --quiet|-q) QUIET=1 ;;
            -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
            *) die "unknown argument: $arg (try --help)" ;;
        esac
    done
}

# fetch_reuse WANT HAVE RESULT WHAT: the fast path of a second run. When WANT (from the stamp) is set and equals
# HAVE (what is there now), say WHAT is already present, print RESULT (the script's last line) and exit 0;
# otherwise say why everything is fetched again, and return.
fetch_reuse() {
    if [[ -n $1 && $1 == "$2" ]]; then
        log "already present: $4"
        echo "$3"
        exit 0
    fi
    log "existing copy is stale or incomplete (wanted '$1', found '$2'); fetching again"
}

REPO_ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null || (cd "$(dirname "$0")/.." && pwd))
