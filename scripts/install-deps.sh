#!/usr/bin/env bash
# Installs what qmp-probe needs on Debian 12 (bookworm) that a fresh machine may lack:
# json-c's headers, pkg-config, QEMU for x86 (the main job and the live tests), socat (benchmarks' floor),
# QEMU for s390x (qemu-system-misc) and aarch64 (qemu-system-arm): the other targets' live tests.
# Swift itself is expected at /opt/swift or on PATH. Idempotent; needs root (or sudo).
set -euo pipefail

packages=(libjson-c-dev pkg-config qemu-system-x86 qemu-utils socat qemu-system-misc qemu-system-arm)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null && [[ ! -x /opt/swift/usr/bin/swift ]]; then
    echo "Swift 6 is required: put it on PATH (or at /opt/swift)" >&2
    exit 1
fi

# The tests validate JSON output against schemas/ with Python's jsonschema.
if ! python3 -c "import jsonschema" 2>/dev/null; then
    echo "installing: python jsonschema" >&2
    python3 -m pip install -q jsonschema 2>/dev/null || {
        DEBIAN_FRONTEND=noninteractive ${sudo:-} apt-get install -y -qq --no-install-recommends python3-jsonschema >/dev/null
    }
fi

# compare/baseline: the HTML tests render the page with headless Chromium (screenshot and DOM).
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "installing: chromium" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# hyperfine: the warm-probe timings of benchmarks/run-probe-bench.sh (not needed to build or test).
if ! command -v hyperfine >/dev/null; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "installing: hyperfine" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends hyperfine >/dev/null || echo "hyperfine could not be installed (benchmarks only)" >&2
fi
