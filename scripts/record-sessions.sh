#!/usr/bin/env bash
# Re-records recorded-sessions/: a full CPU probe of this machine's QEMU 7.2 (Debian 12) and of QEMU 10.0
# (bookworm-backports, unpacked by scripts/fetch-qemu-backports.sh), under KVM (when /dev/kvm is usable)
# and TCG; and of Debian's QEMU for the other targets, s390x (qemu-system-misc) and aarch64
# (qemu-system-arm), under TCG, with QEMU's own comparisons and baselines of a few s390x models (and the
# refusal of aarch64) in recorded-sessions/comparisons/. Each session is one JSON Lines file (see
# recorded-sessions/README.md).
# Usage: scripts/record-sessions.sh [all|x86|targets]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
case $which in all|x86|targets|guests) ;; *) echo "usage: $0 [all|x86|targets|guests]" >&2; exit 2 ;; esac
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

if [[ $which == all || $which == guests ]]; then
    # Started guests (paused), one session each, realized by QEMU 7.2 and 10.0: the saved sides of the guest ABI
    # comparison (qmp-probe cpu --from/--to), replayed offline by the tests. Each is recorded as the source of a
    # live comparison with the other QEMU (--record records the source's session).
    mkdir -p "$out/guests"
    old=$(command -v qemu-system-x86_64)
    new=$(scripts/fetch-qemu-backports.sh --quiet | tail -n 1)
    guest() { # guest ACCEL CPU MACHINE SMP LABEL
        local accel=$1 cpu=$2 machine=$3 smp=$4 label=$5
        [[ $accel == kvm && ! -w /dev/kvm ]] && { echo "skipping $label: /dev/kvm is not usable" >&2; return; }
        for side in "7.2 $old $new" "10.0 $new $old"; do
            set -- $side
            local file="$out/guests/guest-$1-x86_64-$accel-$label.jsonl"
            "$probe" cpu "$cpu" --machine "$machine" --smp "$smp" --accel "$accel" --qemu "$2" --to "$3" \
                --record "$file" > /dev/null || [[ $? == 1 ]]
            ls -l "$file" >&2
        done
    }
    guest tcg Skylake-Client-noTSX-IBRS pc-q35-7.2 2,sockets=1,cores=1,threads=2 skylake-q35-7.2-threads2
    guest tcg Skylake-Client-noTSX-IBRS pc-q35-7.2 1 skylake-q35-7.2-smp1
    guest kvm EPYC pc-i440fx-7.2 4,sockets=1,cores=2,threads=2 epyc-i440fx-7.2-cores2-threads2
    guest tcg qemu64 pc-i440fx-7.2 2,sockets=2 qemu64-i440fx-7.2-sockets2
    guest tcg Westmere pc-i440fx-2.4 2,sockets=1,cores=2 westmere-i440fx-2.4-cores2
fi
if [[ $which == all || $which == x86 ]]; then
    record "qemu-7.2-x86_64" "$(command -v qemu-system-x86_64)"
    record "qemu-10.0-x86_64" "$(scripts/fetch-qemu-backports.sh --quiet | tail -n 1)"
    # Guest CPU checks (the prediction session): the seed's example spec under each accelerator.
    for accel in kvm tcg; do
        [[ $accel == kvm && ! -w /dev/kvm ]] && continue
        "$probe" cpu "Haswell-noTSX,+x2apic,-hle,vmx=off" --accel "$accel" \
            --record "$out/cpu-7.2-x86_64-$accel-haswell-notsx.jsonl" --json > /dev/null || [[ $? == 1 ]]
    done
fi
if [[ $which == all || $which == targets ]]; then
    # Other targets cannot use KVM on this host: TCG only, one file each (qemu-MAJOR.MINOR-ARCH-tcg.jsonl).
    for arch in s390x aarch64; do
        binary=$(command -v "qemu-system-$arch") || {
            echo "qemu-system-$arch is not installed: run scripts/install-deps.sh" >&2
            exit 1
        }
        version=$("$binary" --version | sed -n 's/.*version \([0-9]*\.[0-9]*\).*/\1/p')
        "$probe" probe --qemu "$binary" --accel tcg --record "$out/qemu-$version-$arch-tcg.jsonl" --json > /dev/null
        ls -l "$out/qemu-$version-$arch-tcg.jsonl" >&2
    done
    # QEMU's verdicts (query-cpu-model-comparison / -baseline): one small session per question.
    mkdir -p "$out/comparisons"
    s390x=$(command -v qemu-system-s390x)
    version=$("$s390x" --version | sed -n 's/.*version \([0-9]*\.[0-9]*\).*/\1/p')
    ask() { # ask SUBCOMMAND A B LABEL [BINARY]
        local file="$out/comparisons/qemu-$version-$4.jsonl"
        "$probe" "$1" "$2" "$3" --qemu "${5:-$s390x}" --accel tcg --record "$file" > /dev/null || true
        ls -l "$file" >&2
    }
    ask qemu-compare z13 z14 s390x-compare-z13-z14
    ask qemu-compare gen15a z14 s390x-compare-gen15a-z14
    ask qemu-compare z14 z14,vx=off s390x-compare-z14-z14-vx-off
    ask qemu-baseline z13 z14 s390x-baseline-z13-z14
    ask qemu-baseline z14 gen15a s390x-baseline-z14-gen15a
    ask qemu-compare max cortex-a57 aarch64-compare-max-cortex-a57 "$(command -v qemu-system-aarch64)"
fi
