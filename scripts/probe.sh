#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing (json-c, QEMU, ...), builds qmp-probe in
# release mode and probes the local QEMU (it starts its own QEMU: KVM when /dev/kvm is usable, and TCG).
# Arguments are passed to `qmp-probe probe` (e.g. --json, --accel tcg).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product qmp-probe >&2
exec "$(swift build -c release --show-bin-path)/qmp-probe" probe "$@"
