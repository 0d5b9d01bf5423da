#!/usr/bin/env bash
# The guest ABI comparison's cost (qmp-probe cpu SPEC --to OTHER) against its parts, in one run:
#   7.2 alone      one realization on QEMU 7.2 (cpu --from SAVED-10.0 --qemu 7.2: the saved side costs a file read)
#   10.0 alone     one realization on QEMU 10.0 (cpu --from SAVED-7.2 --qemu 10.0)
#   both           cpu SPEC --to 10.0: both realized side by side, compared
#   sequential     the peer: the two single realizations one after the other (what realizing each side in turn costs)
# Runs alternate (one of each per round), REPEAT rounds, medians printed with the ratio both / max(7.2, 10.0).
# A benchmark, not a test: nothing fails on a slow number. Usage: REPEAT=11 ACCELS="kvm tcg" benchmarks/run-guest-abi-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"
REPEAT=${REPEAT:-11}
ACCELS=${ACCELS:-$([[ -w /dev/kvm ]] && echo "kvm tcg" || echo tcg)}
CPU=${CPU:-EPYC}
MACHINE=${MACHINE:-pc-i440fx-7.2}
SMP=${SMP:-4,sockets=1,cores=2,threads=2}
swift build -c release --product qmp-probe --scratch-path .build-release >&2
probe="$(swift build -c release --scratch-path .build-release --show-bin-path)/qmp-probe"
old=$(command -v qemu-system-x86_64)
new=$(scripts/fetch-qemu-backports.sh --quiet | tail -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p benchmarks/results
out="benchmarks/results/guest-abi-$(date -u +%Y%m%dT%H%M%SZ).txt"

now() { date +%s.%N; }
for accel in $ACCELS; do
    guest=("$CPU" --machine "$MACHINE" --smp "$SMP" --accel "$accel")
    "$probe" cpu "${guest[@]}" --qemu "$old" --live --json > "$work/saved-7.2.json" || [[ $? == 1 ]]
    "$probe" cpu "${guest[@]}" --qemu "$new" --live --json > "$work/saved-10.0.json" || [[ $? == 1 ]]
    : > "$work/times"
    for ((i = 0; i < REPEAT; i++)); do
        t0=$(now); "$probe" cpu --from "$work/saved-10.0.json" --qemu "$old" > /dev/null || true; t1=$(now)
        echo "old $(echo "$t1 - $t0" | bc)" >> "$work/times"
        t0=$(now); "$probe" cpu --from "$work/saved-7.2.json" --qemu "$new" > /dev/null || true; t1=$(now)
        echo "new $(echo "$t1 - $t0" | bc)" >> "$work/times"
        t0=$(now); "$probe" cpu "${guest[@]}" --qemu "$old" --to "$new" > /dev/null || true; t1=$(now)
        echo "both $(echo "$t1 - $t0" | bc)" >> "$work/times"
        t0=$(now)
        "$probe" cpu --from "$work/saved-10.0.json" --qemu "$old" > /dev/null || true
        "$probe" cpu --from "$work/saved-7.2.json" --qemu "$new" > /dev/null || true
        t1=$(now)
        echo "sequential $(echo "$t1 - $t0" | bc)" >> "$work/times"
    done
    python3 - "$work/times" "$accel" "$REPEAT" "$CPU" "$MACHINE" "$SMP" <<'PY' | tee -a "$out"
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    name, value = line.split()
    times.setdefault(name, []).append(float(value))
m = {name: statistics.median(values) for name, values in times.items()}
slower = max(m["old"], m["new"])
print(f"{sys.argv[2]}: -cpu {sys.argv[4]} -machine {sys.argv[5]} -smp {sys.argv[6]}, medians of {sys.argv[3]} alternating runs")
print(f"  7.2 alone   {m['old']:.3f} s")
print(f"  10.0 alone  {m['new']:.3f} s")
print(f"  both        {m['both']:.3f} s  = {m['both'] / slower:.2f}x the slower single realization (aim: at most 1.2x)")
print(f"  sequential  {m['sequential']:.3f} s  (peer: one after the other) = {m['sequential'] / slower:.2f}x")
PY
done
echo "written to $out" >&2
