#!/usr/bin/env bash
# Benchmarks `qmp-probe probe` against its peers, in one run, and prints a table of medians and ratios:
#
#   cold, one accelerator    the naive floor (negotiation, the definitions, every model expanded static and full,
#                            written at once to a fresh QEMU), the floor of the probe's own commands (recorded; for
#                            KVM with the quiet TCG reference's, side by side), `qmp-probe probe --accel ACCEL`,
#                            qemu.qmp sending the same commands one after the other (probe_peer.py). Every peer
#                            starts its own QEMU; the commands and bytes each conversation sends are printed.
#   cold, both accelerators  the floor of both conversations side by side, qmp-probe (1 and 2 QEMU processes per
#                            accelerator), qemu.qmp (kvm then tcg).
#   warm                     qmp-probe served from its cache (hyperfine; the cache in a private directory).
#   guest CPU --live         the read of a paused guest's realized CPU (RealizedCPU: qom-list + one qom-get per
#                            feature), QMPClient as `qmp-probe cpu --live` drives it (qmp-bench --mode realized)
#                            against socat writing the same lines at once.
#   memory                   peak RSS of a cold probe: qmp-probe itself and the QEMU it started (--stats).
#
#   benchmarks/run-probe-bench.sh [--repeat N] [--warm-runs N] [--dynamic] [--no-install]
#
# Environment (the flags win): REPEAT (11), WARM_RUNS (300), QEMU (qemu-system-x86_64), PYTHON (python3),
# SWIFT_BIN (/opt/swift/usr/bin when present), ACCEL (the one-accelerator runs: kvm when /dev/kvm is usable,
# else tcg), BUILD (static: `--static-swift-stdlib`, as a release would ship; dynamic: the default `swift build`),
# PARTS ("cold both warm realized rss": which parts run), SCRATCH (the build directory: .build-bench-static or
# .build-bench), OLD_PROBE (another qmp-probe executable, e.g. an earlier commit's release build, run beside this one).
#
# Each repetition runs every cold peer once, in an order that rotates, so that drift on a shared machine hits
# them all. The raw lines and the table are also written to benchmarks/results/ (git-ignored).
set -euo pipefail

REPEAT=${REPEAT:-11}
WARM_RUNS=${WARM_RUNS:-300}
QEMU=${QEMU:-qemu-system-x86_64}
PYTHON=${PYTHON:-python3}
BUILD=${BUILD:-static}
PARTS=${PARTS:-cold both warm realized rss}
INSTALL=1

while (($#)); do
    case $1 in
        --repeat) REPEAT=$2; shift 2 ;;
        --warm-runs) WARM_RUNS=$2; shift 2 ;;
        --dynamic) BUILD=dynamic; shift ;;
        --no-install) INSTALL=0; shift ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-probe-bench.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR="$ROOT/benchmarks"
RESULTS_DIR="$BENCH_DIR/results"
TOOLS="$BENCH_DIR/probe_bench_tools.py"
if [[ -z ${SWIFT_BIN:-} && -x /opt/swift/usr/bin/swift ]]; then SWIFT_BIN=/opt/swift/usr/bin; fi
[[ -n ${SWIFT_BIN:-} ]] && export PATH="$SWIFT_BIN:$PATH"

say() { printf '%s\n' "$*" >&2; }
die() { say "run-probe-bench.sh: $*"; exit 1; }
has_part() { [[ " $PARTS " == *" $1 "* ]]; }

# --- What it needs -------------------------------------------------------------------------

need_apt() {  # need_apt COMMAND PACKAGE
    command -v "$1" >/dev/null && return 0
    if ((INSTALL)) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        say "installing $2 (apt-get)"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    fi
    command -v "$1" >/dev/null || die "'$1' is missing: install it (Debian/Ubuntu: apt-get install $2)"
}
need_apt socat socat
need_apt hyperfine hyperfine
need_apt "$QEMU" qemu-system-x86
need_apt /usr/bin/time time
command -v swift >/dev/null || die "swift is missing: install Swift 6 or set SWIFT_BIN to its bin folder"
command -v "$PYTHON" >/dev/null || die "'$PYTHON' is missing: install Python 3.8+ or set PYTHON"
if ! "$PYTHON" -c 'import qemu.qmp' 2>/dev/null; then
    ((INSTALL)) && { say "installing qemu.qmp (pip)"; "$PYTHON" -m pip install -q qemu.qmp >&2 || true; }
    "$PYTHON" -c 'import qemu.qmp' 2>/dev/null || die "qemu.qmp is missing: $PYTHON -m pip install qemu.qmp"
fi
QEMU_PATH=$(command -v "$QEMU")

case $BUILD in
    static) SCRATCH=${SCRATCH:-$ROOT/.build-bench-static}; BUILD_FLAGS=(--static-swift-stdlib) ;;
    dynamic) SCRATCH=${SCRATCH:-$ROOT/.build-bench}; BUILD_FLAGS=() ;;
    *) die "BUILD must be static or dynamic" ;;
esac
say "building qmp-probe and qmp-bench (release, $BUILD)"
(cd "$ROOT" && swift build -c release "${BUILD_FLAGS[@]}" --product qmp-probe --scratch-path "$SCRATCH" >&2 \
    && swift build --package-path benchmarks -c release "${BUILD_FLAGS[@]}" --product qmp-bench --scratch-path "$SCRATCH-benchmarks" >&2) \
    || die "the build failed"
PROBE="$SCRATCH/release/qmp-probe"
QMP_BENCH="$SCRATCH-benchmarks/release/qmp-bench"

KVM=0
[[ -r /dev/kvm && -w /dev/kvm ]] && KVM=1
ACCEL=${ACCEL:-$( ((KVM)) && echo kvm || echo tcg)}
ACCELS=(tcg); ((KVM)) && ACCELS=(kvm tcg)

# --- Clean-up ------------------------------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/qmp-probe-bench.XXXXXX")
chmod 700 "$WORK"
QEMU_PID=
cleanup() {
    [[ -n $QEMU_PID ]] && { kill "$QEMU_PID" 2>/dev/null || true; wait "$QEMU_PID" 2>/dev/null || true; }
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The warm runs use a private cache; the cold runs pass --no-cache.
export XDG_CACHE_HOME="$WORK/cache"

mkdir -p "$RESULTS_DIR"
RAW="$RESULTS_DIR/probe-bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
: >"$RAW"
label() { echo "# label $1 $2" >>"$RAW"; }

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
{
    echo "# machine: $(nproc) CPUs, $CPU_MODEL, $(uname -sr), KVM $( ((KVM)) && echo usable || echo not usable)"
    echo "# $("$QEMU" --version | head -n 1); $(swift --version 2>&1 | head -n 1) ($BUILD build)"
    echo "# $("$PYTHON" --version 2>&1), qemu.qmp $("$PYTHON" -c 'from importlib.metadata import version; print(version("qemu.qmp"))'); $(socat -V | awk '/socat version/ { print "socat", $3; exit }'); $(hyperfine --version)"
    echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$RAW"

# --- The conversations: the probe's own commands, recorded, and the naive one --------------------------------
#
# Every floor is `probe_bench_tools.py floor`: one fresh QEMU per conversation (started as qmp-probe starts it, the
# monitor on a socketpair), every command line written at once, timed from just before the first QEMU is started to
# the last reply. The own-commands floors send exactly what qmp-probe sends (recorded with --record --workers 1):
#   ACCEL        `probe --accel ACCEL`: its own session, and for KVM the quiet reference qmp-probe starts beside it
#                (TCG: target, each model's static expansion; it takes the models from KVM's session), the two
#                QEMUs side by side;
#   both         `probe` (KVM and TCG reported), the two sessions side by side, TCG without the introspection that
#                KVM's session asks for both.
# The naive floor is the conversation a client asking everything would have: negotiation, query-cpu-definitions,
# and every model of it (aliases too) expanded static and full, in one fresh QEMU of ACCEL.

declare -A COMMANDS
for accel in "${ACCELS[@]}"; do
    recording="$WORK/record-$accel.jsonl"
    "$PROBE" probe --accel "$accel" --workers 1 --no-cache --record "$recording" --json >"$WORK/report-$accel.json" \
        || die "qmp-probe probe --accel $accel failed"
    COMMANDS[$accel]="$WORK/commands-$accel.txt"
    "$PYTHON" "$TOOLS" commands "$recording" "${COMMANDS[$accel]}"
done
COMMANDS[naive]="$WORK/commands-naive.txt"
"$PYTHON" "$TOOLS" naive-commands "$WORK/record-$ACCEL.jsonl" "${COMMANDS[naive]}"
FLOOR_OWN=("$ACCEL=${COMMANDS[$ACCEL]}")
if [[ $ACCEL == kvm ]]; then
    COMMANDS[reference]="$WORK/commands-reference.txt"
    "$PYTHON" "$TOOLS" reference-commands "$WORK/record-tcg.jsonl" "${COMMANDS[reference]}"
    FLOOR_OWN+=("tcg=${COMMANDS[reference]}")
fi
if ((KVM)); then
    COMMANDS[tcg-shared]="$WORK/commands-tcg-shared.txt"
    grep -v '"execute":"query-commands"' "${COMMANDS[tcg]}" >"${COMMANDS[tcg-shared]}"
fi
# The accelerator a conversation runs under (the reference's and tcg-shared are TCG's).
accel_of() { case $1 in naive) echo "$ACCEL" ;; kvm) echo kvm ;; *) echo tcg ;; esac; }
# Each conversation once, to check that every command is answered, and what each sends.
for name in "${!COMMANDS[@]}"; do
    "$PYTHON" "$TOOLS" floor "$QEMU_PATH" "$(accel_of "$name")=${COMMANDS[$name]}" >/dev/null || die "the $name conversation failed"
    read -r _ count bytes < <("$PYTHON" "$TOOLS" count "${COMMANDS[$name]}")
    expansions=$(grep -c query-cpu-model-expansion "${COMMANDS[$name]}" || true)
    echo "# conversation $name: $count commands ($expansions expansions), $bytes bytes sent" >>"$RAW"
    say "conversation $name: $count commands ($expansions expansions), $bytes bytes sent"
done

# --- Cold runs -----------------------------------------------------------------------------
FLOOR_END=
floor() { FLOOR_END=$("$PYTHON" "$TOOLS" floor "$QEMU_PATH" "$@"); }
probe() { "$PROBE" probe --no-cache --json "$@" >/dev/null; }
old() { "$OLD_PROBE" probe --no-cache --json "$@" >/dev/null; }
peer() {  # peer NAME...: qemu.qmp, one conversation after the other
    local arguments=() name
    for name in "$@"; do arguments+=(--accel "$(accel_of "$name")" --commands "${COMMANDS[$name]}"); done
    "$PYTHON" "$BENCH_DIR/probe_peer.py" --qemu "$QEMU_PATH" "${arguments[@]}" 2>/dev/null
}

RUNS=()  # "NAME command..." (eval'd)
if has_part cold; then
    own="own commands at once"
    [[ $ACCEL == kvm ]] && own+=" (+ TCG reference beside)"
    label "naive-$ACCEL" "naive floor: every model static and full, at once"
    label "floor-$ACCEL" "floor: $own"
    label "probe-auto-$ACCEL" "qmp-probe probe --accel $ACCEL"
    label "qemu.qmp-$ACCEL" "qemu.qmp 0.0.x, the same commands, sequential"
    peer_names=$ACCEL; [[ $ACCEL == kvm ]] && peer_names="kvm reference"
    RUNS+=("naive-$ACCEL floor $ACCEL=${COMMANDS[naive]}" "floor-$ACCEL floor ${FLOOR_OWN[*]}"
           "probe-auto-$ACCEL probe --accel $ACCEL" "qemu.qmp-$ACCEL peer $peer_names")
    if [[ $ACCEL == kvm ]]; then
        # The KVM session alone: `--against` a saved KVM result (an upgrade check against the old QEMU's) takes
        # added/removed from it, so no TCG reference is started.
        label "floor-alone-$ACCEL" "floor: own commands at once, the $ACCEL session alone"
        label "probe-against-$ACCEL" "qmp-probe probe --accel $ACCEL --against SAVED (one QEMU)"
        RUNS+=("floor-alone-$ACCEL floor $ACCEL=${COMMANDS[$ACCEL]}"
               "probe-against-$ACCEL probe --accel $ACCEL --against $WORK/report-$ACCEL.json")
    fi
fi
if [[ -n ${OLD_PROBE:-} ]] && has_part cold; then
    # Another build of qmp-probe (an earlier commit), to show a change's effect in the same run; both must print
    # the same reports, byte for byte, live.
    [[ -x $OLD_PROBE ]] || die "OLD_PROBE=$OLD_PROBE is not an executable"
    for arguments in "--accel $ACCEL --json" "--json" ""; do
        # shellcheck disable=SC2086 # the arguments are words
        cmp -s <("$OLD_PROBE" probe --no-cache $arguments) <("$PROBE" probe --no-cache $arguments) \
            || die "OLD_PROBE and this build print different reports for 'probe $arguments'"
    done
    echo "# OLD_PROBE $OLD_PROBE: the same reports as this build (probe --accel $ACCEL --json, probe --json, probe)" >>"$RAW"
    label "old-auto-$ACCEL" "the earlier qmp-probe (OLD_PROBE) probe --accel $ACCEL"
    RUNS+=("old-auto-$ACCEL old --accel $ACCEL")
fi
if has_part both && ((KVM)); then
    label floor-both "floor: both conversations at once, side by side"
    label probe-w1-all "qmp-probe probe (kvm and tcg, 1 QEMU each: the default here)"
    label probe-w2-all "qmp-probe probe --workers 2 (4 QEMU)"
    label qemu.qmp-all "qemu.qmp, kvm then tcg"
    RUNS+=("floor-both floor kvm=${COMMANDS[kvm]} tcg=${COMMANDS[tcg-shared]}")
    RUNS+=("probe-w1-all probe --workers 1" "probe-w2-all probe --workers 2" "qemu.qmp-all peer kvm tcg-shared")
    if [[ -n ${OLD_PROBE:-} ]]; then
        label old-w1-all "the earlier qmp-probe (OLD_PROBE) probe"
        RUNS+=("old-w1-all old --workers 1")
    fi
fi

if ((${#RUNS[@]})); then
    say "cold: ${#RUNS[@]} peers x $REPEAT repetitions; raw lines in $RAW"
    for ((rep = 0; rep < REPEAT; rep++)); do
        for ((i = 0; i < ${#RUNS[@]}; i++)); do
            entry=${RUNS[$(((i + rep) % ${#RUNS[@]}))]}
            name=${entry%% *}
            command=${entry#* }
            FLOOR_END=
            start=$EPOCHREALTIME
            eval "$command" || die "$name failed"
            end=$EPOCHREALTIME
            if [[ -n $FLOOR_END ]]; then
                line="$name $FLOOR_END"
            else
                line=$(awk -v s="$start" -v e="$end" -v n="$name" 'BEGIN { printf "%s %.4f", n, e - s }')
            fi
            echo "$line" >>"$RAW"
            say "  [$((rep + 1))/$REPEAT] $line"
        done
    done
fi

# --- Memory --------------------------------------------------------------------------------

if has_part rss; then
    say "memory: qmp-probe --stats, 5 runs each"
    rss_runs=("$ACCEL --accel $ACCEL")
    ((KVM)) && rss_runs+=("all")
    for entry in "${rss_runs[@]}"; do
        name=${entry%% *}
        arguments=(); [[ $entry == *" "* ]] && read -r -a arguments <<<"${entry#* }"
        label "rss-$name" "qmp-probe probe ${arguments[*]:-} --no-cache --json (cold)"
        for ((rep = 0; rep < 5; rep++)); do
            stats=$("$PROBE" probe --no-cache --json --stats "${arguments[@]}" 2>&1 >/dev/null | grep 'qmp-probe stats:')
            self=$(sed -n 's/.* peak_rss=\([0-9]*\)KB.*/\1/p' <<<"$stats")
            children=$(sed -n 's/.*qemu_peak_rss=\([0-9]*\)KB.*/\1/p' <<<"$stats")
            echo "rss $name $self $children" >>"$RAW"
        done
        # What /usr/bin/time -v reports for the whole command: the larger of qmp-probe and its reaped QEMU.
        total=$(/usr/bin/time -f '%M' "$PROBE" probe --no-cache --json "${arguments[@]}" 2>&1 >/dev/null | tail -n 1)
        echo "# /usr/bin/time -f %M qmp-probe probe ${arguments[*]:-} --no-cache --json: $total KB (the largest of qmp-probe and the QEMU it reaped)" >>"$RAW"
    done
fi

# --- Warm runs -----------------------------------------------------------------------------

if has_part warm; then
    say "warm: priming the cache in $XDG_CACHE_HOME, then hyperfine ($WARM_RUNS runs)"
    "$PROBE" probe --accel "$ACCEL" --json >"$WORK/primed.json"
    cmp -s "$WORK/primed.json" "$WORK/report-$ACCEL.json" || die "the cached report differs from the recorded probe's"
    "$PROBE" probe --accel "$ACCEL" --json | cmp -s - "$WORK/report-$ACCEL.json" || die "the cache hit differs from the probe"
    warm=("hit-text-$ACCEL|$PROBE probe --accel $ACCEL" "hit-json-$ACCEL|$PROBE probe --accel $ACCEL --json")
    label "hit-text-$ACCEL" "qmp-probe probe --accel $ACCEL (cache hit)"
    label "hit-json-$ACCEL" "qmp-probe probe --accel $ACCEL --json (cache hit)"
    if ((KVM)); then
        "$PROBE" probe --json >/dev/null
        warm+=("hit-text-all|$PROBE probe" "hit-json-all|$PROBE probe --json")
        label hit-text-all "qmp-probe probe (both accelerators, cache hit)"
        label hit-json-all "qmp-probe probe --json (both accelerators, cache hit)"
    fi
    warm+=("hit-help|$PROBE --help")
    label hit-help "qmp-probe --help (process start-up alone)"
    for entry in "${warm[@]}"; do
        name=${entry%%|*}
        hyperfine -N --warmup 20 --runs "$WARM_RUNS" --export-json "$WORK/warm.json" "${entry#*|}" >/dev/null 2>&1 \
            || die "hyperfine failed for ${entry#*|}"
        "$PYTHON" -c 'import json, sys; [print("warm", sys.argv[1], t) for t in json.load(open(sys.argv[2]))["results"][0]["times"]]' \
            "$name" "$WORK/warm.json" >>"$RAW"
    done
fi

# --- The realized CPU (qmp-probe cpu --live) -------------------------------------------------

if has_part realized; then
    SOCK="$WORK/guest.qmp"
    start_guest() {
        rm -f "$SOCK"
        "$QEMU_PATH" -no-user-config -nodefaults -display none -S -machine pc -cpu qemu64 -accel "$ACCEL" \
            -qmp "unix:$SOCK,server=on,wait=off" >"$WORK/guest.log" 2>&1 &
        QEMU_PID=$!
        local tries=0
        until [[ -S $SOCK ]]; do
            kill -0 "$QEMU_PID" 2>/dev/null || die "the guest QEMU exited: $(cat "$WORK/guest.log")"
            ((++tries > 1000)) && die "the guest's socket did not appear"
            sleep 0.01
        done
    }
    stop_guest() { kill "$QEMU_PID" 2>/dev/null || true; wait "$QEMU_PID" 2>/dev/null || true; QEMU_PID=; }
    start_guest
    count=$("$PYTHON" "$TOOLS" realized "$SOCK" qemu64 "$WORK/properties.txt" "$WORK/realized-floor.txt")
    stop_guest
    say "guest CPU: $count commands (query-cpus-fast, qom-list, $(wc -l <"$WORK/properties.txt") qom-get, unavailable-features)"
    echo "# guest CPU (-machine pc -cpu qemu64 -S -accel $ACCEL): $count commands after qmp_capabilities" >>"$RAW"
    label realized-floor "socat floor: the same lines at once"
    label realized-swift "QMPClient as RealizedCPU.read drives it"
    for ((rep = 0; rep < REPEAT; rep++)); do
        for peer in floor swift; do
            start_guest
            if [[ $peer == floor ]]; then
                fifo="$WORK/realized.out"; rm -f "$fifo"; mkfifo "$fifo"
                start=$EPOCHREALTIME
                socat -t 600 STDIO "UNIX-CONNECT:$SOCK,shut-none" <"$WORK/realized-floor.txt" >"$fifo" &
                socat_pid=$!
                timeout 600 head -n $((count + 2)) <"$fifo" >"$WORK/realized.replies" || die "the realized floor did not finish"
                end=$EPOCHREALTIME
                kill "$socat_pid" 2>/dev/null || true; wait "$socat_pid" 2>/dev/null || true
                line=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "realized-floor %.4f", e - s }')
            else
                result=$("$QMP_BENCH" --socket "$SOCK" --mode realized --properties "$WORK/properties.txt") || die "qmp-bench failed"
                line="realized-swift $(awk '{ sub(/s$/, "", $4); print $4 }' <<<"$result")"
            fi
            stop_guest
            echo "$line" >>"$RAW"
            say "  [$((rep + 1))/$REPEAT] $line"
        done
    done
fi

# --- The table -----------------------------------------------------------------------------

echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW"
echo
"$PYTHON" "$TOOLS" table "$RAW" | tee "$RAW.table"
