#!/usr/bin/env python3
"""The qemu.qmp peer of run-probe-bench.sh: the probe's own commands, sent one after the other.

    python3 probe_peer.py --qemu BINARY --accel kvm --commands cmd-kvm.txt [--accel tcg --commands cmd-tcg.txt]

For each accelerator in turn (never side by side): starts a fresh QEMU exactly as qmp-probe does
(`-no-user-config -nodefaults -display none -S -machine none -accel ACCEL`, the monitor on one end of a
socketpair, `-chardev socket,id=qmp,fd=N -mon chardev=qmp,mode=control`), connects qemu.qmp's QMPClient to the
other end (it negotiates `oob`, as qmp-probe does), then sends every command of the file (the "out" lines of a
`qmp-probe probe --record` session, minus `qmp_capabilities`, which the client sends itself), each awaited
before the next, then stops QEMU as qmp-probe does (SIGKILL, reaped) and disconnects.

Prints one line per accelerator on stderr (commands, replies' bytes); the benchmark times the whole process
(interpreter start-up and imports included, as for every peer).
"""

import argparse
import asyncio
import json
import logging
import os
import socket
import subprocess
import sys


def read_commands(path):
    commands = []
    with open(path, "rb") as lines:
        for line in lines:
            line = line.strip()
            if not line:
                continue
            message = json.loads(line)
            if message.get("execute") == "qmp_capabilities":
                continue
            commands.append((message["execute"], message.get("arguments")))
    return commands


async def probe(qemu, accelerator, commands):
    from qemu.qmp import QMPClient
    from qemu.qmp.error import QMPError

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    arguments = [qemu, "-chardev", f"socket,id=qmp,fd={theirs.fileno()}", "-mon", "chardev=qmp,mode=control",
                 "-no-user-config", "-nodefaults", "-display", "none", "-S", "-machine", "none", "-accel", accelerator]
    process = subprocess.Popen(arguments, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    theirs.close()
    client = QMPClient(f"probe-peer-{accelerator}")
    received = 0
    try:
        await client.connect(ours)
        for name, arguments in commands:
            if name == "quit":
                continue  # older recordings end with quit; QEMU is stopped below either way
            reply = await client.execute(name, arguments)
            received += len(json.dumps(reply))
    finally:
        process.kill()
        process.wait()
        try:
            await client.disconnect()
        except (QMPError, EOFError, ConnectionError):
            pass  # the connection ended with QEMU
    print(f"qemu.qmp {accelerator}: {len(commands)} commands, {received} bytes of replies", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qemu", default="qemu-system-x86_64")
    parser.add_argument("--accel", action="append", required=True)
    parser.add_argument("--commands", action="append", required=True)
    options = parser.parse_args()
    if len(options.accel) != len(options.commands):
        parser.error("give one --commands file per --accel")
    logging.basicConfig(level=logging.WARNING)
    for accelerator, path in zip(options.accel, options.commands):
        asyncio.run(probe(options.qemu, accelerator, read_commands(path)))


if __name__ == "__main__":
    try:
        import qemu.qmp  # noqa: F401
    except ImportError:
        sys.exit("probe_peer.py: the qemu.qmp package is missing: pip install qemu.qmp")
    main()
