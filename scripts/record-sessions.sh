#!/usr/bin/env bash
# Re-records recorded-sessions/: a full CPU probe of this machine's QEMU 7.2 (Debian 12) and of QEMU 10.0
# (bookworm-backports, unpacked by scripts/fetch-qemu-backports.sh), under KVM (when /dev/kvm is usable)
# and TCG. Each session is one JSON Lines file (see recorded-sessions/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
swift build --product qmp-probe >&2
probe="$(swift build --show-bin-path)/qmp-probe"
out=recorded-sessions
mkdir -p "$out"

record() { # record LABEL QEMU-BINARY
    local label=$1 binary=$2
    "$probe" probe --qemu "$binary" --record "$out/$label.jsonl" --json > /dev/null
    ls -l "$out/$label"-*.jsonl >&2
}

record "qemu-7.2-x86_64" "$(command -v qemu-system-x86_64)"
record "qemu-10.0-x86_64" "$(scripts/fetch-qemu-backports.sh --quiet | tail -n 1)"
for arch in s390x aarch64; do
    if command -v "qemu-system-$arch" >/dev/null; then
        version=$("qemu-system-$arch" --version | sed -n 's/.*version \([0-9]*\.[0-9]*\).*/\1/p')
        "$probe" probe --qemu "$(command -v "qemu-system-$arch")" --accel tcg \
            --record "$out/qemu-$version-$arch-tcg.jsonl" --json > /dev/null
    fi
done
