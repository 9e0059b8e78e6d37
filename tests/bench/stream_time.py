#!/usr/bin/env python3
"""Times a command that streams to stdout: wall time (spawn to exit) and time to the first token
(spawn to the first byte matching MARKER, a regex over bytes). Prints medians as
`wall_ms ttft_ms` after one warm-up run. Usage: stream_time.py RUNS MARKER CMD [ARG...]"""
import os
import re
import statistics
import subprocess
import sys
import time


def once(cmd, marker):
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    seen, first = b"", None
    while True:
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            break
        if first is None:
            seen += chunk
            if marker.search(seen):
                first = time.perf_counter()
            seen = seen[-256:]
    p.wait()
    end = time.perf_counter()
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} exited with {p.returncode}")
    return (end - start) * 1000, ((first or end) - start) * 1000


def main():
    runs, marker, cmd = int(sys.argv[1]), re.compile(sys.argv[2].encode()), sys.argv[3:]
    once(cmd, marker)
    walls, ttfts = zip(*(once(cmd, marker) for _ in range(runs)))
    print(f"{statistics.median(walls):.1f} {statistics.median(ttfts):.1f}")


if __name__ == "__main__":
    main()
