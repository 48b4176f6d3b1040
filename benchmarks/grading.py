#!/usr/bin/env python3
"""How long does grading one coursework submission take, before and after the sandboxed grader?

    .venv/bin/python benchmarks/grading.py                     # builds the assignments first (~1 min)
    .venv/bin/python benchmarks/grading.py --dist coursework/dist --repeats 3

For each assignment it grades the reference solution (the generated autograder notebook):

* ``otter run`` — what coursework/grade.py did before (otter executes the notebook and runs the
  tests in the student's own kernel): one run, wall time;
* ``grade.py, 1 submission`` — the whole command for a folder holding one submission (includes
  starting Python, reading the tests and the assignment's given cells): median wall time;
* ``grade.py, per submission in a class`` — the wall time of grading 10 copies in one command,
  divided by 10: what each student costs when a class is graded (``--jobs 1``);

plus the machine's load average, since the machine is shared. Every grading also checks the
score is full marks (a wrong score would make the timing meaningless). This is a measurement,
not a test: it exits 0 unless a grading failed.
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSEWORK = ROOT / "coursework"
BIN = Path(sys.executable).parent


def timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    return time.monotonic() - start, result


def grade(assignment: str, folder: Path, bundle: Path, out: Path) -> float:
    seconds, result = timed([sys.executable, str(COURSEWORK / "grade.py"), assignment, str(folder),
                             "--out", str(out), "--autograder", str(bundle)])
    rows = list(csv.DictReader(out.open(encoding="utf-8"))) if out.exists() else []
    if result.returncode != 0 or not rows or any(r["total"] != r["possible"] for r in rows):
        raise SystemExit(f"grading failed for {assignment}:\n{result.stdout}{result.stderr}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, help="built assignments (default: build into a temporary folder)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of the one-submission case")
    parser.add_argument("--class-size", type=int, default=10, help="copies graded in one command")
    parser.add_argument("--skip-otter", action="store_true", help="do not time otter run (slow)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as work:
        work_dir = Path(work)
        dist = args.dist
        if dist is None:
            dist = work_dir / "dist"
            subprocess.run([sys.executable, str(COURSEWORK / "build.py"), "--dist", str(dist)],
                           check=True, cwd=ROOT, capture_output=True)
        rows = []
        for assignment in sorted(p.stem for p in (COURSEWORK / "source").glob("*.ipynb")):
            bundle = dist / assignment / "autograder" / f"{assignment}-autograder.zip"
            reference = dist / assignment / "autograder" / f"{assignment}.ipynb"
            one = work_dir / assignment / "one"
            one.mkdir(parents=True)
            shutil.copy(reference, one / "reference.ipynb")
            many = work_dir / assignment / "many"
            many.mkdir()
            for i in range(args.class_size):
                shutil.copy(reference, many / f"student{i:03d}.ipynb")

            otter = float("nan")
            if not args.skip_otter:
                otter_dir = work_dir / assignment / "otter"
                otter_dir.mkdir()
                otter, result = timed([str(BIN / "otter"), "run", "-a", str(bundle), "-o", str(otter_dir),
                                       "--no-logo", str(one / "reference.ipynb")])
                if result.returncode != 0:
                    raise SystemExit(f"otter run failed for {assignment}:\n{result.stdout}{result.stderr}")
            single = statistics.median(grade(assignment, one, bundle, work_dir / f"{assignment}-{i}.csv")
                                       for i in range(args.repeats))
            batch = grade(assignment, many, bundle, work_dir / f"{assignment}-many.csv") / args.class_size
            rows.append((assignment, otter, single, batch))

    load = os.getloadavg()
    print(f"Grading the reference solution (full marks checked); {os.cpu_count()} cores, "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)\n")
    print(f"| {'assignment':<22} | {'otter run (before)':>18} | {'grade.py, 1 submission':>22} | "
          f"{'grade.py, per submission in a class of ' + str(args.class_size):>40} |")
    print(f"|{'-' * 24}|{'-' * 20}:|{'-' * 24}:|{'-' * 42}:|")
    for assignment, otter, single, batch in rows:
        print(f"| {assignment:<22} | {otter:>16.1f} s | {single:>20.2f} s | {batch:>38.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
