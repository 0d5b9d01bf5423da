#!/usr/bin/env bash
# Loading recordings: our RecordingLoader (and our JSON.parse alone) against json-c's raw tokener and Python's
# json, on the same files (recorded-sessions/*.jsonl), in MB/s of file bytes, medians of REPEAT runs.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
REPEAT=${REPEAT:-20}
swift build --package-path benchmarks -c release --product qmp-load-bench --scratch-path .build-bench >&2
bin="$(swift build --package-path benchmarks -c release --scratch-path .build-bench --show-bin-path)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/jsonc_raw" benchmarks/jsonc_raw.c $(pkg-config --cflags --libs json-c)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); json-c $(pkg-config --modversion json-c); $(python3 --version)"
for file in recorded-sessions/*.jsonl; do
    "$tmp/jsonc_raw" "$REPEAT" "$file"
    "$bin/qmp-load-bench" --repeat "$REPEAT" "$file"
    python3 benchmarks/load_peer.py "$REPEAT" "$file"
done
