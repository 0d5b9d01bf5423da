#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing (json-c, QEMU, ...), builds qmp-probe in
# release mode (static Swift runtime) and probes the local QEMU (it starts its own QEMU: KVM when /dev/kvm is usable, and TCG).
# Arguments are passed to `qmp-probe probe` (e.g. --json, --accel tcg).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
# Linked with the Swift runtime built in (as a release would ship it): no shared Swift libraries to load, so a
# cached probe answers in ~10 ms instead of ~22 ms. Its own build directory, so test builds do not rebuild it.
BUILD=(-c release --static-swift-stdlib --scratch-path .build-static)
swift build "${BUILD[@]}" --product qmp-probe >&2
exec "$(swift build "${BUILD[@]}" --show-bin-path)/qmp-probe" probe "$@"
