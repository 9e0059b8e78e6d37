#!/usr/bin/env python3
"""Times commands that stream to stdout: wall time (spawn to exit) and time to the first token
(spawn to the first byte matching MARKER, a regex over bytes).

Usage: stream_time.py RUNS -- MARKER CMD [ARG...] [-- MARKER CMD [ARG...]]...

Each command runs once as a warm-up, then the commands take turns, RUNS rounds, so a slow minute of
the machine falls on all of them alike. Prints one line per command: `wall_ms ttft_ms` (medians),
and for every command after the first also the median of its differences to the first within a
round: `wall_ms ttft_ms wall_ratio ttft_diff_ms`."""
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


def parse(args):
    """RUNS -- MARKER CMD... -- MARKER CMD... -> (runs, [(marker, cmd)])"""
    runs, rest = int(args[0]), args[1:]
    commands = []
    while rest and rest[0] == "--":
        end = rest.index("--", 1) if "--" in rest[1:] else len(rest)
        part, rest = rest[1:end], rest[end:]
        if len(part) < 2:
            sys.exit("each command needs a marker and a program")
        commands.append((re.compile(part[0].encode()), part[1:]))
    if not commands or rest:
        sys.exit(__doc__)
    return runs, commands


def main():
    runs, commands = parse(sys.argv[1:])
    for marker, cmd in commands:
        once(cmd, marker)
    rounds = [[once(cmd, marker) for marker, cmd in commands] for _ in range(runs)]
    med = statistics.median
    for i in range(len(commands)):
        wall = med(r[i][0] for r in rounds)
        ttft = med(r[i][1] for r in rounds)
        if i == 0:
            print(f"{wall:.1f} {ttft:.1f}")
        else:
            ratio = med(r[i][0] / r[0][0] for r in rounds)
            diff = med(r[i][1] - r[0][1] for r in rounds)
            print(f"{wall:.1f} {ttft:.1f} {ratio:.3f} {diff:+.1f}")


if __name__ == "__main__":
    main()
