#!/usr/bin/env python3
"""Run a command while a CPU hog keeps every core busy: the suite must pass all the same.

    python3 benchmarks/under_load.py -- python3 dev.py test
    python3 benchmarks/under_load.py --hogs 4 --max-seconds 1800 -- python3 dev.py test --fast

The hog is one busy-looping process per core (or --hogs N), each stopping by itself after
--max-seconds, and all of them are killed when the command ends. It prints the load average
before and after and the command's wall time, and exits with the command's exit code. No test
verdict in this book may depend on wall-clock speed; this is how that is checked (README,
"Tests under load").
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time


def burn(seconds: float) -> None:
    """Spin on one core until `seconds` have passed (a bounded hog, never a fork bomb)."""
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        for _ in range(100_000):
            x = (x * 1103515245 + 12345) % 2147483648


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 1, help="busy processes (default: one per core)")
    parser.add_argument("--max-seconds", type=float, default=3600, help="each hog stops after this long at most")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --, e.g. -- python3 dev.py test")
    if args.hogs < 1 or args.max_seconds <= 0:
        parser.error("--hogs must be at least 1 and --max-seconds positive")

    hogs = [multiprocessing.Process(target=burn, args=(args.max_seconds,), daemon=True) for _ in range(args.hogs)]
    for hog in hogs:
        hog.start()
    time.sleep(2)   # let the hogs reach full speed before the command starts
    print(f"under_load: {args.hogs} hog(s) running; load average {os.getloadavg()[0]:.1f}", flush=True)
    start = time.perf_counter()
    try:
        returncode = subprocess.run(command).returncode
    finally:
        for hog in hogs:
            hog.terminate()
        for hog in hogs:
            hog.join()
    print(f"under_load: command exited {returncode} after {time.perf_counter() - start:.0f} s; "
          f"load average at the end {os.getloadavg()[0]:.1f}", flush=True)
    return returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
