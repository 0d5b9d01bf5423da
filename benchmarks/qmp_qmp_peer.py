#!/usr/bin/env python3
"""The qemu.qmp peer of qmp-bench: the same two workloads with QEMU's Python QMP library.

    python3 qmp_qmp_peer.py --socket PATH --mode sequential|pipelined --count N

sequential: N `query-version` calls, each awaited before the next.
pipelined:  N `qom-get {"path": "/machine", "property": "type"}` calls issued at once with
            asyncio.gather (qemu.qmp writes them all; it does not limit the commands in flight).

Prints one line, in the same format as qmp-bench:
    qemu.qmp MODE N TOTALs RATE/s cmd=CMDs connect=CONNs cpu=CPUs
TOTAL is connect + greeting + qmp_capabilities + the N commands, CMD the command phase alone,
RATE is N / TOTAL, CPU the process's user + system time over TOTAL. Times come from time.perf_counter(); interpreter start-up, imports and
disconnect() are excluded.

With --raw, no qemu.qmp: a lock-step raw reference named raw-lockstep (see run_raw).
"""

import argparse
import asyncio
import logging
import sys
import time



async def run(socket_path: str, mode: str, count: int) -> None:
    try:
        from qemu.qmp import QMPClient
    except ImportError:
        sys.exit("qmp_qmp_peer.py: the qemu.qmp package is missing: pip install qemu.qmp")
    qmp = QMPClient("qmp-bench")
    cpu_start = time.process_time()
    start = time.perf_counter()
    await qmp.connect(socket_path)
    negotiated = time.perf_counter()
    if mode == "sequential":
        for _ in range(count):
            await qmp.execute("query-version")
    else:
        arguments = {"path": "/machine", "property": "type"}
        await asyncio.gather(*(qmp.execute("qom-get", arguments) for _ in range(count)))
    end = time.perf_counter()
    cpu = time.process_time() - cpu_start
    await qmp.disconnect()

    total = end - start
    print(f"qemu.qmp {mode} {count} {total:.4f}s {count / total:.0f}/s "
          f"cmd={end - negotiated:.4f}s connect={negotiated - start:.4f}s cpu={cpu:.4f}s", flush=True)


def run_raw(socket_path: str, mode: str, count: int) -> None:
    """A lock-step raw reference: a blocking socket, one command line written, its reply line read.

    No JSON parsing or library: the least a strictly sequential client can cost. Replies are checked
    only for "return" (QEMU writes one message per line). Pipelined mode keeps 8 commands in flight.
    """
    import socket

    if mode == "sequential":
        line = b'{"execute":"query-version","id":%d}\r\n'
    else:
        line = b'{"execute":"qom-get","arguments":{"path":"/machine","property":"type"},"id":%d}\r\n'
    cpu_start = time.process_time()
    start = time.perf_counter()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    replies = sock.makefile("rb")
    replies.readline()  # the greeting
    sock.sendall(b'{"execute":"qmp_capabilities"}\r\n')
    if b'"return"' not in replies.readline():
        sys.exit("qmp_qmp_peer.py: qmp_capabilities failed")
    negotiated = time.perf_counter()
    window = 1 if mode == "sequential" else 8
    sent = received = 0
    while received < count:
        while sent < count and sent - received < window:
            sock.sendall(line % sent)
            sent += 1
        reply = replies.readline()
        if b'"return"' not in reply:
            sys.exit(f"qmp_qmp_peer.py: unexpected reply {reply[:200]!r}")
        received += 1
    end = time.perf_counter()
    cpu = time.process_time() - cpu_start
    sock.close()
    total = end - start
    print(f"raw-lockstep {mode} {count} {total:.4f}s {count / total:.0f}/s "
          f"cmd={end - negotiated:.4f}s connect={negotiated - start:.4f}s cpu={cpu:.4f}s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, help="the QMP Unix socket")
    parser.add_argument("--mode", required=True, choices=["sequential", "pipelined"])
    parser.add_argument("--count", required=True, type=int)
    parser.add_argument("--raw", action="store_true",
                        help="instead of qemu.qmp, a raw lock-step reference (blocking socket, no parsing): "
                             "1 command in flight when sequential, 8 when pipelined")
    options = parser.parse_args()
    if options.count <= 0:
        parser.error("--count must be positive")
    if options.raw:
        run_raw(options.socket, options.mode, options.count)
        return
    # qemu.qmp logs every message at DEBUG; keep the default (WARNING) so logging costs nothing.
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(options.socket, options.mode, options.count))


if __name__ == "__main__":
    main()
