#!/usr/bin/env bash
# The project's full test run: installs what is missing, fetches the second QEMU (10.0 from
# bookworm-backports, unpacked into .qemu-backports/) and libvirt's test corpus (.libvirt-corpus/),
# builds, and runs every test, live QEMU tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
QMP_PROBE_QEMU_NEW="$(scripts/fetch-qemu-backports.sh --quiet | tail -n 1)"
export QMP_PROBE_QEMU_NEW
# libvirt's capability probes (29 QEMU sessions, Debian trixie's libvirt source package), replayed by the tests.
QMP_PROBE_LIBVIRT_CORPUS="$(scripts/fetch-libvirt-corpus.sh --quiet | tail -n 1)"
export QMP_PROBE_LIBVIRT_CORPUS
swift build --build-tests
swift test --skip-build "$@"
