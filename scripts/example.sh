#!/usr/bin/env bash
# Builds and runs the example consumer package (Examples/CPUCheck, which depends on the library by path and uses only
# its public API) against recorded-sessions/, and checks the lines a checker would use.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
swift build --package-path Examples/CPUCheck --scratch-path .build-example >&2
output=$("$(swift build --package-path Examples/CPUCheck --scratch-path .build-example --show-bin-path)/cpu-check-example")
echo "$output"
for line in "probe: QEMU 7.2.22 kvm: 11 of 132 models usable" \
            "compare: tcg Haswell: blocked by [\"x2apic\"]" \
            "abi: pc-i440fx-7.2 ht extra (topology): the destination refuses the guest: guest CPU doesn't match specification: extra features: ht" \
            "abi: identical false"; do
    grep -qxF "$line" <<<"$output" || { echo "example: missing line: $line" >&2; exit 1; }
done
echo "example: 4 of 4 expected lines"
