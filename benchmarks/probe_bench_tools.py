#!/usr/bin/env python3
"""Helpers of run-probe-bench.sh (no third-party modules).

    probe_bench_tools.py commands RECORDING OUT      the "out" lines of a qmp-probe recording, byte for byte, CRLF
    probe_bench_tools.py reference-commands RECORDING OUT
                                                     from a recorded TCG probe, the commands of the quiet reference that
                                                     `probe --accel kvm` asks (ProbeGatherer.referenceOnly): negotiation,
                                                     query-target, each model's static expansion (the models are those
                                                     KVM's session lists: the reference does not ask for them)
    probe_bench_tools.py naive-commands RECORDING OUT
                                                     the naive conversation: negotiation (oob), query-cpu-definitions, then
                                                     every model it lists (aliases too) expanded static and full
    probe_bench_tools.py floor QEMU ACCEL=FILE...    starts one fresh QEMU per ACCEL=FILE side by side (as qmp-probe does:
                                                     the monitor on a socketpair), writes every line of FILE at once, reads
                                                     until every command is answered; prints the seconds from just before
                                                     the first QEMU is started to the last reply (QEMU's stop not timed)
    probe_bench_tools.py count FILE...               commands and bytes of command files
    probe_bench_tools.py realized SOCKET MODEL PROPS FLOOR
                                                     asks a paused guest (QMP at SOCKET) which feature properties
                                                     `qmp-probe cpu MODEL --live` reads (RealizedCPU), writes them to
                                                     PROPS and the floor's command lines to FLOOR
    probe_bench_tools.py table RAW                   the tables of a run (RAW: one "NAME SECONDS" line per run,
                                                     "rss NAME SELF_KB CHILDREN_KB" lines, "#" comments)
"""

import json
import socket
import statistics
import sys


def out_messages(recording):
    """The raw bytes of every message the client sent, in order."""
    messages = []
    with open(recording, "rb") as lines:
        next(lines)  # the header
        for line in lines:
            if not line.startswith(b'{"dir":"out"'):
                continue
            start = line.index(b'"msg":') + len(b'"msg":')
            messages.append(line[start:line.rindex(b"}")])
    return messages


def commands(recording, out):
    with open(out, "wb") as file:
        for message in out_messages(recording):
            file.write(message + b"\r\n")


def messages_of(path):
    with open(path, "rb") as lines:
        return [line.strip() for line in lines if line.strip()]


def reference_commands(recording, out):
    """The quiet reference's conversation, from a recorded TCG probe of the same binary."""
    kept = []
    for message in out_messages(recording):
        command = json.loads(message)
        name = command.get("execute")
        arguments = command.get("arguments") or {}
        if name in ("qmp_capabilities", "query-target") or (
                name == "query-cpu-model-expansion" and arguments.get("type") == "static"
                and "props" not in arguments.get("model", {})):
            kept.append(message)
    with open(out, "wb") as file:
        for message in kept:
            file.write(message + b"\r\n")


def naive_commands(recording, out):
    """Negotiation, the definitions, and every model of them (aliases too) expanded static and full."""
    definitions = None
    with open(recording, "rb") as lines:
        next(lines)
        for line in lines:
            entry = json.loads(line)
            reply = entry.get("msg", {}).get("return") if entry.get("dir") == "in" else None
            if isinstance(reply, list) and reply and isinstance(reply[0], dict) and "typename" in reply[0]:
                definitions = reply
    if definitions is None:
        sys.exit(f"{recording}: no query-cpu-definitions reply")
    messages = [b'{"execute":"qmp_capabilities","arguments":{"enable":["oob"]},"id":1}',
                b'{"execute":"query-cpu-definitions","id":2}']
    for definition in definitions:
        for kind in ("static", "full"):
            command = {"execute": "query-cpu-model-expansion",
                       "arguments": {"type": kind, "model": {"name": definition["name"]}}, "id": len(messages) + 1}
            messages.append(json.dumps(command, separators=(",", ":")).encode())
    with open(out, "wb") as file:
        for message in messages:
            file.write(message + b"\r\n")


def count(paths):
    for path in paths:
        messages = messages_of(path)
        print(f"{path} {len(messages)} {sum(len(m) for m in messages)}")


def floor(qemu, pairs):
    """One fresh QEMU per accel=file, side by side; every line written at once; the time to the last reply."""
    import subprocess
    import threading
    import time
    jobs = []
    for pair in pairs:
        accel, path = pair.split("=", 1)
        data = b"".join(message + b"\r\n" for message in messages_of(path))
        jobs.append((accel, data, data.count(b"\n")))
    done, failures = [], []

    def run(accel, data, expected):
        mine, theirs = socket.socketpair()
        process = subprocess.Popen(
            [qemu, "-chardev", f"socket,id=qmp,fd={theirs.fileno()}", "-mon", "chardev=qmp,mode=control",
             "-no-user-config", "-nodefaults", "-display", "none", "-S", "-machine", "none", "-accel", accel],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        theirs.close()
        mine.sendall(data)
        replies, rest = 0, b""
        while replies < expected:
            chunk = mine.recv(1 << 20)
            if not chunk:
                failures.append(f"{accel}: QEMU closed the monitor after {replies} of {expected} replies")
                break
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            replies += sum(1 for line in lines if b'"id": ' in line)
        done.append((time.perf_counter(), process, mine))

    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    end = max(moment for moment, _, _ in done)
    for _, process, mine in done:
        process.kill()
        process.wait()
        mine.close()
    if failures:
        sys.exit("; ".join(failures))
    print(f"{end - start:.4f}")


# --- The realized CPU (as Sources/Prober/GuestCPU/RealizedCPU.swift and FeatureNames.swift) -------------------

ALIASES = {"sse3": "pni", "pclmuldq": "pclmulqdq", "xd": "nx", "i64": "lm", "ffxsr": "fxsr-opt"}


def key(name):
    return name.lower().replace("_", "-").replace(".", "-")


def canonical_table(names):
    def preference(name):
        return (name.count("_"), 0 if "." in name else 1, name)
    table = {}
    for name in names:
        k = key(name)
        if k in table and preference(table[k]) <= preference(name):
            continue
        table[k] = name
    return table


def canonical(table, name):
    k = key(ALIASES.get(name, name))
    return table.get(k, k)


class Monitor:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.lines = self.sock.makefile("rb")
        self.lines.readline()
        self.execute("qmp_capabilities")

    def execute(self, name, arguments=None):
        message = {"execute": name}
        if arguments is not None:
            message["arguments"] = arguments
        self.sock.sendall(json.dumps(message).encode() + b"\r\n")
        while True:
            reply = json.loads(self.lines.readline())
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise SystemExit(f"probe_bench_tools.py: {name}: {reply['error']}")


def realized(path, model, properties_out, floor_out):
    monitor = Monitor(path)
    cpu = monitor.execute("query-cpus-fast")[0]["qom-path"]
    listed = monitor.execute("qom-list", {"path": cpu})
    expansion = monitor.execute("query-cpu-model-expansion", {"type": "static", "model": {"name": model}})
    features = {name for name, value in expansion["model"]["props"].items() if isinstance(value, bool)}
    table = canonical_table(features)
    wanted = [p["name"] for p in listed if p["type"] == "bool" and canonical(table, p["name"]) in features]
    has_unavailable = any(p["name"] == "unavailable-features" for p in listed)
    with open(properties_out, "w") as file:
        file.write("".join(name + "\n" for name in wanted))
    # The floor: the same command lines as QMPClient writes them (compact JSON, execute, arguments, id).
    lines = ['{"execute":"qmp_capabilities","arguments":{"enable":["oob"]},"id":1}',
             '{"execute":"query-cpus-fast","id":2}',
             '{"execute":"qom-list","arguments":{"path":%s},"id":3}' % json.dumps(cpu)]
    for index, name in enumerate(wanted):
        lines.append('{"execute":"qom-get","arguments":{"path":%s,"property":%s},"id":%d}'
                     % (json.dumps(cpu), json.dumps(name), 4 + index))
    if has_unavailable:
        lines.append('{"execute":"qom-get","arguments":{"path":%s,"property":"unavailable-features"},"id":%d}'
                     % (json.dumps(cpu), 4 + len(wanted)))
    with open(floor_out, "wb") as file:
        file.write("".join(line + "\r\n" for line in lines).encode())
    print(len(lines) - 1)  # commands after qmp_capabilities


# --- The tables -------------------------------------------------------------------------------------------------

def table(raw):
    times, rss, comments = {}, {}, []
    with open(raw) as lines:
        for line in lines:
            fields = line.split()
            if not fields:
                continue
            if fields[0].startswith("#"):
                comments.append(line.rstrip("\n"))
            elif fields[0] == "rss":
                rss.setdefault(fields[1], []).append((int(fields[2]), int(fields[3])))
            elif fields[0] == "warm":
                times.setdefault(fields[1], []).append(float(fields[2]))
            else:
                times.setdefault(fields[0], []).append(float(fields[1]))

    def median(name):
        values = times.get(name)
        return statistics.median(values) if values else None

    def meta(name):
        for comment in comments:
            if comment.startswith(f"# label {name} "):
                return comment[len(f"# label {name} "):]
        return name

    def ratio(value, base):
        return f"{value / base:6.2f}x" if base else "     -"

    def section(title, rows, naive_name=None):
        """rows: (name, the floor it is compared with)."""
        naive = median(naive_name) if naive_name else None
        present = [(name, floor) for name, floor in rows if name in times]
        if not present:
            return
        print(f"\n{title}")
        header = f"  {'peer':<62} {'median s':>9} {'vs floor':>8}"
        print(header + (f" {'vs naive':>8}" if naive else ""))
        for name, floor_name in present:
            value = median(name)
            line = f"  {meta(name):<62} {value:9.4f} {ratio(value, median(floor_name)):>8}"
            if naive:
                line += f" {ratio(value, naive):>8}"
            print(line + f"  (n={len(times[name])}" + (f", floor: {floor_name})" if floor_name != name else ")"))

    for comment in comments:
        if not comment.startswith("# label "):
            print(comment[2:])
    singles = sorted({name.split("-", 1)[1] for name in times if name.startswith("naive-")})
    for accel in singles:
        floor = f"floor-{accel}"
        section(f"cold probe, one accelerator ({accel}), fresh QEMU included",
                [(f"naive-{accel}", f"naive-{accel}"), (floor, floor), (f"probe-auto-{accel}", floor),
                 (f"qemu.qmp-{accel}", floor), (f"old-auto-{accel}", floor),
                 (f"floor-alone-{accel}", f"floor-alone-{accel}"),
                 (f"probe-against-{accel}", f"floor-alone-{accel}")],
                f"naive-{accel}")
    section("cold probe, both accelerators (kvm and tcg), all models",
            [(name, "floor-both") for name in ["floor-both", "probe-w1-all", "probe-w2-all", "qemu.qmp-all", "old-w1-all"]])
    warm = [name for name in times if name.startswith("hit-")]
    if warm:
        print("\nwarm probe (served from the cache), hyperfine")
        print(f"  {'command':<52} {'median ms':>9} {'min ms':>8}")
        for name in warm:
            values = times[name]
            print(f"  {meta(name):<52} {statistics.median(values) * 1000:9.2f} {min(values) * 1000:8.2f}  (n={len(values)})")
    realized_names = [name for name in times if name.startswith("realized-")]
    if realized_names:
        floor_name = next((name for name in realized_names if name.startswith("realized-floor")), None)
        section("guest CPU check --live: reading the realized CPU of a paused guest (QEMU already running)",
                [(name, floor_name) for name in sorted(realized_names, key=lambda name: (name != floor_name, name))])
    if rss:
        print("\npeak RSS, median of the runs (qmp-probe --stats: getrusage of itself, and of the QEMU it reaped)")
        print(f"  {'run':<52} {'self MB':>9} {'QEMU MB':>8}")
        for name, values in rss.items():
            own = statistics.median(v[0] for v in values) / 1024
            children = statistics.median(v[1] for v in values) / 1024
            print(f"  {meta('rss-' + name):<52} {own:9.1f} {children:8.1f}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "commands" and len(arguments) == 2:
        commands(*arguments)
    elif command == "reference-commands" and len(arguments) == 2:
        reference_commands(*arguments)
    elif command == "naive-commands" and len(arguments) == 2:
        naive_commands(*arguments)
    elif command == "floor" and len(arguments) >= 2:
        floor(arguments[0], arguments[1:])
    elif command == "count" and arguments:
        count(arguments)
    elif command == "realized" and len(arguments) == 4:
        realized(*arguments)
    elif command == "table" and len(arguments) == 1:
        table(*arguments)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
