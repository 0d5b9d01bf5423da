#!/usr/bin/env bash
# Benchmarks QMP clients against a live QEMU: this package's client (qmp-bench, release build),
# QEMU's Python library qemu.qmp, and a raw floor (the command bytes piped with socat).
#
#   benchmarks/run-client-bench.sh [--seq N] [--pipe N] [--repeat N] [--no-install]
#
# Environment (the flags win): SEQ_COUNT (2000), PIPE_COUNT (10000), REPEAT (5),
# QEMU (qemu-system-x86_64), PYTHON (python3), SWIFT_BIN (/opt/swift/usr/bin when present),
# PEERS ("floor raw swift swift_oob python": which peers run, in this order; floor = socat,
# raw = raw-lockstep, swift = qmp-bench, swift_oob = qmp-bench --oob, python = qemu.qmp).
#
# Every measurement gets a fresh QEMU (`-machine none -S`, TCG), killed afterwards. Each peer
# runs each mode REPEAT times (the peers take turns within a repetition); the table shows
# medians. See benchmarks/README.md for what exactly is timed.
set -euo pipefail

SEQ_COUNT=${SEQ_COUNT:-2000}
PIPE_COUNT=${PIPE_COUNT:-10000}
REPEAT=${REPEAT:-5}
QEMU=${QEMU:-qemu-system-x86_64}
PYTHON=${PYTHON:-python3}
PEERS=${PEERS:-floor raw swift swift_oob python}
INSTALL=1

while (($#)); do
    case $1 in
        --seq) SEQ_COUNT=$2; shift 2 ;;
        --pipe) PIPE_COUNT=$2; shift 2 ;;
        --repeat) REPEAT=$2; shift 2 ;;
        --no-install) INSTALL=0; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-client-bench.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR="$ROOT/benchmarks"
RESULTS_DIR="$BENCH_DIR/results"
if [[ -z ${SWIFT_BIN:-} && -x /opt/swift/usr/bin/swift ]]; then SWIFT_BIN=/opt/swift/usr/bin; fi
[[ -n ${SWIFT_BIN:-} ]] && export PATH="$SWIFT_BIN:$PATH"

say() { printf '%s\n' "$*" >&2; }
die() { say "run-client-bench.sh: $*"; exit 1; }

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
need_apt "$QEMU" qemu-system-x86
command -v swift >/dev/null || die "swift is missing: install Swift 6 or set SWIFT_BIN to its bin folder"
command -v "$PYTHON" >/dev/null || die "'$PYTHON' is missing: install Python 3.8+ or set PYTHON"
if ! "$PYTHON" -c 'import qemu.qmp' 2>/dev/null; then
    ((INSTALL)) && { say "installing qemu.qmp (pip)"; "$PYTHON" -m pip install -q qemu.qmp >&2 || true; }
    "$PYTHON" -c 'import qemu.qmp' 2>/dev/null || die "qemu.qmp is missing: $PYTHON -m pip install qemu.qmp"
fi

say "building qmp-bench (release)"
(cd "$ROOT" && swift build --package-path benchmarks -c release --product qmp-bench --scratch-path .build-bench >&2) \
    || die "the qmp-bench build failed"
SWIFT_PEER="$ROOT/.build-bench/release/qmp-bench"

# --- QEMU ----------------------------------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/qmp-bench.XXXXXX")
QEMU_PIDS=()
QEMU_PID=
cleanup() {
    local pid
    for pid in "${QEMU_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${QEMU_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SOCK="$WORK/qmp.sock"

start_qemu() {
    rm -f "$SOCK"
    "$QEMU" -machine none -nodefaults -display none -S -accel tcg \
        -qmp "unix:$SOCK,server=on,wait=off" >"$WORK/qemu.log" 2>&1 &
    QEMU_PID=$!
    QEMU_PIDS+=("$QEMU_PID")
    local tries=0
    until [[ -S $SOCK ]]; do
        kill -0 "$QEMU_PID" 2>/dev/null || die "QEMU exited at start-up: $(cat "$WORK/qemu.log")"
        ((++tries > 1000)) && die "QEMU's socket did not appear within 10 s"
        sleep 0.01
    done
}

stop_qemu() {
    kill "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
    QEMU_PID=
}

# --- The raw floor -------------------------------------------------------------------------

# command_file MODE N: qmp_capabilities, then N commands, one per CRLF-terminated line.
command_file() {
    local file="$WORK/$1-$2.txt"
    if [[ ! -f $file ]]; then
        local line
        if [[ $1 == sequential ]]; then
            line='{"execute":"query-version","id":%d}\r\n'
        else
            line='{"execute":"qom-get","arguments":{"path":"/machine","property":"type"},"id":%d}\r\n'
        fi
        { printf '{"execute":"qmp_capabilities"}\r\n'; seq 1 "$2" | xargs printf "$line"; } >"$file"
    fi
    echo "$file"
}

# floor_peer MODE N: writes every line at once with socat and reads until the N-th reply.
# Timed from just before socat starts (so socat's start-up and connect are in) until the last
# reply has been read. QEMU sees no EOF (shut-none): at EOF it would drop the commands still queued.
floor_peer() {
    local mode=$1 count=$2 file fifo="$WORK/floor.out" start end socat_pid status=0
    file=$(command_file "$mode" "$count")
    rm -f "$fifo"; mkfifo "$fifo"
    start=$EPOCHREALTIME
    socat -t 600 STDIO "UNIX-CONNECT:$SOCK,shut-none" <"$file" >"$fifo" &
    socat_pid=$!
    # greeting + qmp_capabilities + N replies
    timeout 600 head -n $((count + 2)) <"$fifo" >"$WORK/floor.replies" || status=$?
    end=$EPOCHREALTIME
    kill "$socat_pid" 2>/dev/null || true
    wait "$socat_pid" 2>/dev/null || true
    ((status == 0)) || die "the socat floor did not finish ($mode $count)"
    local ok
    ok=$(grep -c '"return"' "$WORK/floor.replies" || true)
    ((ok == count + 1)) || die "the socat floor got $ok successful replies, expected $((count + 1))"
    awk -v s="$start" -v e="$end" -v m="$mode" -v n="$count" \
        'BEGIN { t = e - s; printf "socat-floor %s %d %.4fs %.0f/s\n", m, n, t, n / t }'
}

swift_peer() { "$SWIFT_PEER" --socket "$SOCK" --mode "$1" --count "$2"; }
# The same client with `enableOOB` (what qemu.qmp negotiates whenever QEMU offers it).
swift_oob_peer() { "$SWIFT_PEER" --socket "$SOCK" --mode "$1" --count "$2" --oob --name swift-qmp+oob; }
# A lock-step raw reference (blocking socket, no JSON library; 1 in flight sequential, 8 pipelined).
raw_peer() { "$PYTHON" "$BENCH_DIR/qmp_qmp_peer.py" --raw --socket "$SOCK" --mode "$1" --count "$2"; }
python_peer() { "$PYTHON" "$BENCH_DIR/qmp_qmp_peer.py" --socket "$SOCK" --mode "$1" --count "$2"; }

CLK_TCK=$(getconf CLK_TCK)
qemu_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$QEMU_PID/stat"; }

# --- The runs ------------------------------------------------------------------------------

mkdir -p "$RESULTS_DIR"
RAW="$RESULTS_DIR/client-bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
: >"$RAW"

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
QEMU_VERSION=$("$QEMU" --version | head -n 1)
MACHINE="machine: $(nproc) CPUs, $CPU_MODEL, $(uname -sr); $QEMU_VERSION; $(swift --version 2>&1 | head -n 1); $("$PYTHON" --version 2>&1), qemu.qmp $("$PYTHON" -c 'from importlib.metadata import version; print(version("qemu.qmp"))'); $(socat -V | awk '/socat version/ { print "socat", $3; exit }')"
echo "# $MACHINE" >>"$RAW"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

say "sequential: $SEQ_COUNT query-version; pipelined: $PIPE_COUNT qom-get; $REPEAT repetitions; raw lines in $RAW"
for ((rep = 1; rep <= REPEAT; rep++)); do
    for mode in sequential pipelined; do
        count=$SEQ_COUNT; [[ $mode == pipelined ]] && count=$PIPE_COUNT
        for peer in $PEERS; do
            start_qemu
            before=$(qemu_cpu_ticks)
            line=$("${peer}_peer" "$mode" "$count") || die "the $peer peer failed ($mode $count)"
            after=$(qemu_cpu_ticks)
            stop_qemu
            line="$line qemu_cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')s"
            say "  [$rep/$REPEAT] $line"
            echo "$line" >>"$RAW"
        done
    done
done

# --- The table -----------------------------------------------------------------------------

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "$MACHINE"
echo "load average before: $LOAD_BEFORE, after: $LOAD_AFTER"
echo "sequential = $SEQ_COUNT query-version one after another; pipelined = $PIPE_COUNT qom-get issued at once;"
echo "time = connect + negotiation + all commands, median of $REPEAT fresh-QEMU runs; vs floor = time / floor time;"
echo "client us/cmd = the client process's CPU time (user + system) per command; QEMU us/cmd = QEMU's, per command"
echo
awk '
    !/^#/ {
        key = $1 " " $2; time = $4; sub(/s$/, "", time)
        n[key]++; t[key, n[key]] = time + 0; count[key] = $3
        cpu = ""; qcpu = ""
        for (f = 5; f <= NF; f++) {
            if ($f ~ /^cpu=/) { cpu = substr($f, 5); sub(/s$/, "", cpu) }
            if ($f ~ /^qemu_cpu=/) { qcpu = substr($f, 10); sub(/s$/, "", qcpu) }
        }
        if (cpu != "") { nc[key]++; c[key, nc[key]] = cpu + 0 }
        if (qcpu != "") { nq[key]++; q[key, nq[key]] = qcpu + 0 }
        if (!(key in seen)) { seen[key] = 1; order[++keys] = key }
    }
    function median(key) { return med(t, n, key) }
    function med(arr, cnt, key,    i, j, v, m, tmp) {
        m = cnt[key]
        if (m == 0) return -1
        for (i = 1; i <= m; i++) v[i] = arr[key, i]
        for (i = 2; i <= m; i++) { tmp = v[i]; for (j = i - 1; j >= 1 && v[j] > tmp; j--) v[j + 1] = v[j]; v[j + 1] = tmp }
        return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
    }
    END {
        printf "%-11s %-14s %6s %9s %8s %9s %14s %12s\n", "mode", "peer", "count", "median s", "cmds/s", "vs floor", "client us/cmd", "QEMU us/cmd"
        split("sequential pipelined", modes, " ")
        npeers = split("socat-floor raw-lockstep swift-qmp swift-qmp+oob qemu.qmp", peers, " ")
        for (a = 1; a <= 2; a++) {
            floor = median("socat-floor " modes[a])
            for (b = 1; b <= npeers; b++) {
                key = peers[b] " " modes[a]
                if (!(key in n)) continue
                m = median(key)
                ratio = floor > 0 ? sprintf("%8.2fx", m / floor) : "       -"
                cc = med(c, nc, key); qc = med(q, nq, key)
                printf "%-11s %-14s %6d %9.4f %8.0f %9s %14s %12s\n", modes[a], peers[b], count[key], m, count[key] / m, ratio,
                    cc < 0 ? "-" : sprintf("%.0f", cc * 1e6 / count[key]), qc < 0 ? "-" : sprintf("%.0f", qc * 1e6 / count[key])
            }
        }
    }' "$RAW" | tee -a "$RAW"
