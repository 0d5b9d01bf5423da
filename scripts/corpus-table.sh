#!/usr/bin/env bash
# corpus-table.sh — regenerate the table of docs/compatibility.md that says, per session of libvirt's test corpus
# (../shared/corpus/libvirt and the source package's, fetched by scripts/fetch-libvirt-corpus.sh), what was compared
# with libvirt's XML and whether the replayed probe agrees. The table is written by the agreement test itself
# (LibvirtAgreementTests/table, run with QMP_PROBE_CORPUS_TABLE=FILE) and put between the markers
# <!-- corpus-table:begin --> and <!-- corpus-table:end --> of docs/compatibility.md.
#
# Usage: scripts/corpus-table.sh [--check]
#   --check   do not write: exit 1 when docs/compatibility.md's table differs from a fresh one
set -euo pipefail
cd "$(dirname "$0")/.."
CHECK=0
[[ ${1:-} == --check ]] && CHECK=1
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
DOC=docs/compatibility.md
BEGIN='<!-- corpus-table:begin -->'
END='<!-- corpus-table:end -->'
grep -qxF "$BEGIN" "$DOC" && grep -qxF "$END" "$DOC" || { echo "corpus-table: $DOC lacks the markers $BEGIN / $END" >&2; exit 1; }

QMP_PROBE_LIBVIRT_CORPUS="$(scripts/fetch-libvirt-corpus.sh --quiet | tail -n 1)"
export QMP_PROBE_LIBVIRT_CORPUS
TABLE=$(mktemp)
NEW=$(mktemp)
trap 'rm -f "$TABLE" "$NEW"' EXIT
swift build --build-tests >&2
QMP_PROBE_CORPUS_TABLE="$TABLE" swift test --skip-build --filter 'LibvirtAgreementTests/table' >&2
[[ -s $TABLE ]] || { echo "corpus-table: the test wrote no table" >&2; exit 1; }

awk -v begin="$BEGIN" -v end="$END" -v table="$TABLE" '
    $0 == begin { print; while ((getline line < table) > 0) print line; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }
' "$DOC" >"$NEW"
if [[ $CHECK == 1 ]]; then
    diff -u "$DOC" "$NEW" && echo "corpus-table: $DOC is up to date" >&2
    exit $?
fi
cp "$NEW" "$DOC"
echo "corpus-table: $DOC updated ($(grep -c '^| `caps_' "$TABLE") sessions)" >&2
