#!/usr/bin/env bash
# Builds the DocC documentation of the library's modules (QMPJSON, QMP, Prober) with swift-docc-plugin and fails on
# any warning (an unresolved symbol link, an ambiguous article name). The archives land in .build/plugins/Swift-DocC/.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
for target in QMPJSON QMP Prober; do
    log=$(mktemp)
    if ! swift package --disable-sandbox generate-documentation --target "$target" --warnings-as-errors >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "docs: $target failed" >&2
        exit 1
    fi
    if grep -q "warning:" "$log"; then
        grep "warning:" "$log" >&2
        echo "docs: $target has warnings" >&2
        exit 1
    fi
    grep "Finished building documentation" "$log" || true
    rm -f "$log"
done
