#!/usr/bin/env bash
# Installs what qmp-probe needs on Debian 12 (bookworm) that a fresh machine may lack:
# json-c's headers, pkg-config, QEMU for x86 (the main job and the live tests), socat (benchmarks' floor).
# Swift itself is expected at /opt/swift or on PATH. Idempotent; needs root (or sudo).
set -euo pipefail

packages=(libjson-c-dev pkg-config qemu-system-x86 qemu-utils socat)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "installing: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null && [[ ! -x /opt/swift/usr/bin/swift ]]; then
    echo "Swift 6 is required: put it on PATH (or at /opt/swift)" >&2
    exit 1
fi

# hyperfine: the warm-probe timings of benchmarks/run-probe-bench.sh (not needed to build or test).
if ! command -v hyperfine >/dev/null; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "installing: hyperfine" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends hyperfine >/dev/null || echo "hyperfine could not be installed (benchmarks only)" >&2
fi
