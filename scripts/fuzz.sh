#!/usr/bin/env bash
# Fuzzes the QMP stream decoder and message model for a bounded time: scripts/fuzz.sh [SECONDS] (default 60).
#
# Builds the libFuzzer target qmp-fuzz (QMPFuzzHarness, with AddressSanitizer) in .build-fuzz/, seeds it with every
# message of recorded-sessions/ (split into one file per message here, at fuzz time), a few whole-session prefixes and
# the hand-made edge cases in Tests/QMPTests/FuzzSeeds/, and runs it. The corpus it grows stays in
# .build-fuzz/corpus/ for the next local run. A crash fails the run and leaves its input in .build-fuzz/crashes/:
# `.build/debug/qmp-fuzz --explain FILE` (an ordinary build) shows what went wrong; fix it, then keep the input under
# Tests/QMPTests/FuzzRegressions/ so that FuzzRegressionTests replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2; }
[[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH"

scratch=.build-fuzz
flags=(-c release --product qmp-fuzz --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address -Xswiftc -DQMP_FUZZING)
echo "fuzz: building qmp-fuzz (release, -sanitize=fuzzer,address) in $scratch/"
mkdir -p "$scratch"
# ld.gold warns once per sanitizer symbol it cannot export: noise, left out of what is shown.
if ! swift build "${flags[@]}" >"$scratch/build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$scratch/build.log" | tail -n 60 >&2
    echo "fuzz: the build failed" >&2
    exit 1
fi
grep -v "Cannot export local symbol" "$scratch/build.log" | tail -n 3
binary="$(swift build "${flags[@]}" --show-bin-path)/qmp-fuzz"

# Seeds: one file per recorded message, one per session prefix (the first 40 small messages QEMU sent, CRLF-separated,
# so ids match commands), and the hand-made edge cases.
seeds="$scratch/seeds"
rm -rf "$seeds"
mkdir -p "$seeds" "$scratch/corpus" "$scratch/crashes"
for session in recorded-sessions/*.jsonl; do
    name="$(basename "$session" .jsonl)"
    awk -v out="$seeds/$name" '
        NR > 1 && match($0, /^\{"dir":"(in|out)","t":[-0-9.e+]+,"msg":/) {
            msg = substr($0, RLENGTH + 1, length($0) - RLENGTH - 1)
            file = out "-" NR
            printf "%s\r\n", msg > file
            close(file)
            if (index($0, "{\"dir\":\"in\"") == 1 && length(msg) < 2048 && small < 40) {
                printf "%s\r\n", msg > (out "-prefix")
                small++
            }
        }' "$session"
done
cp Tests/QMPTests/FuzzSeeds/* Tests/QMPTests/FuzzRegressions/* "$seeds/"
rm -f "$seeds/README.md"
echo "fuzz: $(ls "$seeds" | wc -l) seed inputs, running for $seconds s"

log="$scratch/fuzz.log"
status=0
# The Swift runtime's backtracer is off: libFuzzer prints the stack, and the backtracer can hang on a crash.
SWIFT_BACKTRACE=enable=no timeout --kill-after=30 $((seconds + 300)) \
    "$binary" -max_total_time="$seconds" -max_len=16384 -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    -dict=scripts/fuzz.dict -artifact_prefix="$scratch/crashes/" "$scratch/corpus" "$seeds" >"$log" 2>&1 || status=$?
grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)" "$log" || true
if ((status != 0)); then
    echo "fuzz: qmp-fuzz failed (status $status); the end of $log:" >&2
    grep -v "^ *0x\|Shadow\|redzone" "$log" | tail -n 60 >&2
    ls "$scratch/crashes/" >&2
    exit 1
fi
echo "fuzz: no crash in $seconds s"
