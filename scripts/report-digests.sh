#!/usr/bin/env bash
# report-digests.sh — rewrite Tests/ProberTests/Expectations/report-digests.txt: per recorded probe (recorded-sessions/,
# ../shared/corpus/libvirt, libvirt's source package fetched by scripts/fetch-libvirt-corpus.sh) and accelerator, the
# digest of each part of the replayed report. ReportDigestTests compares every replay with it, so that a change to the
# probe's conversation is proven to leave every report as it was. Run it before such a change, never to make a
# failing test pass.
#
# Usage: scripts/report-digests.sh [--check] [--dump DIR]
#   --check      do not write: exit 1 when the checked-in file differs from fresh digests
#   --dump DIR   also write every full report (JSON) to DIR, to diff two commits' reports
set -euo pipefail
cd "$(dirname "$0")/.."
CHECK=0 DUMP=
while (($#)); do
    case $1 in
        --check) CHECK=1; shift ;;
        --dump) DUMP=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
        *) echo "report-digests: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
FILE=Tests/ProberTests/Expectations/report-digests.txt
QMP_PROBE_LIBVIRT_CORPUS="$(scripts/fetch-libvirt-corpus.sh --quiet | tail -n 1)"
export QMP_PROBE_LIBVIRT_CORPUS
[[ -d ../shared/corpus/libvirt ]] || { echo "report-digests: ../shared/corpus/libvirt is absent: the file would lack its sessions" >&2; exit 1; }
NEW=$(mktemp)
trap 'rm -f "$NEW"' EXIT
swift build --build-tests >&2
QMP_PROBE_REPORT_DIGESTS="$NEW" QMP_PROBE_REPORT_DUMP="$DUMP" swift test --skip-build --filter 'ReportDigestTests/write' >&2
[[ -s $NEW ]] || { echo "report-digests: the test wrote nothing" >&2; exit 1; }
if ((CHECK)); then
    diff -u "$FILE" "$NEW" && echo "report-digests: $FILE is up to date" >&2
    exit $?
fi
mkdir -p "$(dirname "$FILE")"
cp "$NEW" "$FILE"
echo "report-digests: $FILE written ($(grep -vc '^#' "$FILE") lines)" >&2
