#!/usr/bin/env python3
"""The qemu.qmp peer of qmp-bench: the same two workloads with QEMU's Python QMP library.

    python3 qmp_qmp_peer.py --socket PATH --mode sequential|pipelined --count N

sequential: N `query-version` calls, each awaited before the next.
pipelined:  N `qom-get {"path": "/machine", "property": "type"}` calls issued at once with
            asyncio.gather (qemu.qmp writes them all; it does not limit the commands in flight).

Prints one line, in the same format as qmp-bench:
    qemu.qmp MODE N TOTALs RATE/s cmd=CMDs connect=CONNs
TOTAL is connect + greeting + qmp_capabilities + the N commands, CMD the command phase alone,
RATE is N / TOTAL. Times come from time.perf_counter(); interpreter start-up, imports and
disconnect() are excluded.
"""

import argparse
import asyncio
import logging
import sys
import time

try:
    from qemu.qmp import QMPClient
except ImportError:  # pragma: no cover - told to the user, not tested
    sys.exit("qmp_qmp_peer.py: the qemu.qmp package is missing: pip install qemu.qmp")


async def run(socket_path: str, mode: str, count: int) -> None:
    qmp = QMPClient("qmp-bench")
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
    await qmp.disconnect()

    total = end - start
    print(f"qemu.qmp {mode} {count} {total:.4f}s {count / total:.0f}/s "
          f"cmd={end - negotiated:.4f}s connect={negotiated - start:.4f}s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, help="the QMP Unix socket")
    parser.add_argument("--mode", required=True, choices=["sequential", "pipelined"])
    parser.add_argument("--count", required=True, type=int)
    options = parser.parse_args()
    if options.count <= 0:
        parser.error("--count must be positive")
    # qemu.qmp logs every message at DEBUG; keep the default (WARNING) so logging costs nothing.
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(options.socket, options.mode, options.count))


if __name__ == "__main__":
    main()
