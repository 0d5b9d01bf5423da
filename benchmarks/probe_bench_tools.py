#!/usr/bin/env python3
"""Helpers of run-probe-bench.sh (no third-party modules).

    probe_bench_tools.py commands RECORDING OUT      the "out" lines of a qmp-probe recording, byte for byte, CRLF
    probe_bench_tools.py floor-address RECORDING QEMU  socat's EXEC address starting QEMU as the recording's header says
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


def floor_address(recording, qemu):
    with open(recording, "rb") as lines:
        header = json.loads(next(lines))
    arguments = ["-chardev", "socket,id=qmp,fd=0", "-mon", "chardev=qmp,mode=control"] + header["arguments"]
    # socat's EXEC address: options after a comma, so commas inside the command line are escaped.
    print("EXEC:" + " ".join([qemu] + arguments).replace(",", "\\,") + ",shut-none")


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

    def row(name, floor, floor_name):
        value = median(name)
        if value is None:
            return
        ratio = f"{value / floor:6.2f}x" if floor else "     -"
        print(f"  {meta(name):<52} {value:9.4f} {ratio:>8}  (n={len(times[name])}, vs {floor_name})")

    def section(title, names, floor_name, floor_value=None):
        floor = floor_value if floor_value is not None else median(floor_name)
        present = [name for name in names if name in times]
        if not present and floor_value is None:
            return
        print(f"\n{title}")
        print(f"  {'peer':<52} {'median s':>9} {'vs floor':>8}")
        if floor_value is not None:
            print(f"  {meta(floor_name):<52} {floor_value:9.4f} {'1.00x':>8}  (sum of the per-run floors)")
        for name in names:
            row(name, floor, floor_name)

    for comment in comments:
        if not comment.startswith("# label "):
            print(comment[2:])
    singles = sorted({name.split("-", 1)[1] for name in times if name.startswith("floor-") and name != "floor-tcg-shared"})
    for accel in singles:
        section(f"cold probe, one accelerator ({accel}), fresh QEMU included",
                [f"floor-{accel}", f"probe-w1-{accel}", f"probe-w2-{accel}", f"probe-auto-{accel}", f"qemu.qmp-{accel}"],
                f"floor-{accel}")
    if "floor-kvm" in times and "floor-tcg-shared" in times:
        pairs = list(zip(times["floor-kvm"], times["floor-tcg-shared"]))
        sequential = statistics.median(a + b for a, b in pairs)
        section("cold probe, both accelerators (kvm and tcg), all models",
                ["probe-w1-all", "probe-w2-all", "probe-auto-all", "qemu.qmp-all"], "floor-sequential", sequential)
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
                sorted(realized_names, key=lambda name: (name != floor_name, name)), floor_name)
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
    elif command == "floor-address" and len(arguments) == 2:
        floor_address(*arguments)
    elif command == "realized" and len(arguments) == 4:
        realized(*arguments)
    elif command == "table" and len(arguments) == 1:
        table(*arguments)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
