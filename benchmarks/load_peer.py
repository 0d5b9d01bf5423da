#!/usr/bin/env python3
"""Python's json over a JSON Lines file, line by line: the peer for qmp-load-bench.
Usage: load_peer.py REPEAT FILE -> prints "python-json FILE MB/s" (median of REPEAT runs)."""
import json, os, statistics, sys, time

repeat, path = int(sys.argv[1]), sys.argv[2]
data = open(path, "rb").read()
times = []
for _ in range(repeat):
    start = time.perf_counter()
    count = sum(1 for line in data.split(b"\n") if line.strip() and json.loads(line) is not None)
    times.append(time.perf_counter() - start)
    assert count > 0
print(f"python-json {os.path.basename(path)} {len(data) / 1e6 / statistics.median(times):.1f} MB/s")
