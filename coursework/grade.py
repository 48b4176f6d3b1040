#!/usr/bin/env python3
"""Grade a folder of submitted notebooks for one assignment, locally, into a CSV file.

Usage (from the project root):

    .venv/bin/python coursework/grade.py hw01_bernoulli_to_bce SUBMISSIONS_DIR --out scores.csv

Every ``*.ipynb`` in SUBMISSIONS_DIR is graded with ``otter run`` (no Docker) against the
autograder bundle that ``coursework/build.py`` wrote to
``coursework/dist/ASSIGNMENT/autograder/ASSIGNMENT-autograder.zip``.  The CSV has one row per
submission and the columns ``submission``, one per question, ``total``, ``possible`` and
``status``.

Time limits, because a student's infinite loop must not hang the grader:

* ``--cell-timeout`` (default 60 s): a copy of each submission is graded with one cell added at
  the top that arms a timer before every cell runs (an IPython ``pre_run_cell`` hook and
  ``signal.setitimer``).  A cell that runs longer is stopped with ``TimeoutError``; the
  following cells still run, so only the questions that needed that cell lose their points.
  The timer re-arms itself, so a hidden test that calls a never-ending function fails after
  the same limit instead of hanging.  (``otter run`` itself sets no per-cell limit: it
  executes the notebook with nbconvert's ``ExecutePreprocessor`` and no ``timeout``, and
  ``otter grade --timeout`` only limits a whole Docker container.)
* ``--submission-timeout`` (default 600 s): the wall-clock limit of one ``otter run``.  Code
  that the timer cannot interrupt (a long call inside a C extension) hits this limit; the
  submission then gets 0 for every question and the status ``timed-out``.

Exit status: 0 when every submission was graded, whatever the scores (a low score, an empty
notebook, a notebook that does not parse or times out is a result, written to the CSV);
1 when grading itself failed for at least one submission (``otter run`` crashed or wrote no
results; those rows have the status ``grading-error``); 2 for bad arguments.
Standard library and otter only.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The cell that grade.py puts at the top of the copy of each submission it grades.
TIME_LIMIT_CELL = '''\
# Added by coursework/grade.py (not part of the submission): stop any cell after {seconds} s.
import signal as _grader_signal


def _grader_time_limit(signum, frame):
    _grader_signal.setitimer(_grader_signal.ITIMER_REAL, {seconds})  # re-arm for the next test
    raise TimeoutError("stopped by the grader: this cell ran longer than {seconds} s")


def _grader_arm(*args, **kwargs):
    _grader_signal.signal(_grader_signal.SIGALRM, _grader_time_limit)
    _grader_signal.setitimer(_grader_signal.ITIMER_REAL, {seconds})


def _grader_disarm(*args, **kwargs):
    _grader_signal.setitimer(_grader_signal.ITIMER_REAL, 0)


get_ipython().events.register("pre_run_cell", _grader_arm)
get_ipython().events.register("post_run_cell", _grader_disarm)
'''


def autograder_zip(assignment: str) -> Path:
    return HERE / "dist" / assignment / "autograder" / f"{assignment}-autograder.zip"


def questions_of(zip_path: Path) -> dict[str, float]:
    """Question names and their points, read from the tests inside the autograder bundle."""
    questions: dict[str, float] = {}
    with zipfile.ZipFile(zip_path) as bundle:
        for name in sorted(bundle.namelist()):
            match = re.fullmatch(r"tests/(\w+)\.py", name)
            if not match:
                continue
            text = bundle.read(name).decode("utf-8")
            points = re.search(r"^points = (.+)$", text, re.M)
            if points is None:
                raise RuntimeError(f"{zip_path}: {name} has no 'points = ...' line")
            value = json.loads(points.group(1))
            questions[match.group(1)] = float(sum(value) if isinstance(value, list) else value)
    if not questions:
        raise RuntimeError(f"{zip_path}: no tests/*.py inside; rebuild with coursework/build.py")
    return questions


def with_time_limit(notebook: dict, seconds: float) -> dict:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": TIME_LIMIT_CELL.format(seconds=seconds)}
    if notebook.get("nbformat", 4) >= 4 and notebook.get("nbformat_minor", 0) >= 5:
        cell["id"] = "grader-time-limit"
    copy = dict(notebook)
    copy["cells"] = [cell] + list(notebook.get("cells", []))
    return copy


def grade_one(submission: Path, zip_path: Path, questions: dict[str, float],
              cell_timeout: float, submission_timeout: float,
              results_dir: Path | None = None) -> dict:
    """Grade one notebook; return its CSV row.  A crash of otter itself (for instance a
    kernel that does not start on a busy machine) is retried once before it is reported."""
    row = _grade_once(submission, zip_path, questions, cell_timeout, submission_timeout, results_dir)
    if row["status"] == "grading-error":
        row = _grade_once(submission, zip_path, questions, cell_timeout, submission_timeout,
                          results_dir)
    return row


def _grade_once(submission: Path, zip_path: Path, questions: dict[str, float],
                cell_timeout: float, submission_timeout: float, results_dir: Path | None) -> dict:
    row: dict = {"submission": submission.name, **{q: 0.0 for q in questions}}
    try:
        notebook = json.loads(submission.read_text(encoding="utf-8"))
        if not isinstance(notebook, dict) or not isinstance(notebook.get("cells", []), list):
            raise ValueError("not a notebook")
    except (OSError, UnicodeDecodeError, ValueError):
        row["status"] = "unreadable"
        return row

    with tempfile.TemporaryDirectory(prefix="grade-") as work:
        work_dir = Path(work)
        (work_dir / "in").mkdir()
        copy = work_dir / "in" / submission.name
        copy.write_text(json.dumps(with_time_limit(notebook, cell_timeout)), encoding="utf-8")
        command = [sys.executable, "-m", "otter", "run", "-a", str(zip_path),
                   "-o", str(work_dir), "--no-logo", str(copy)]
        process = subprocess.Popen(command, cwd=work_dir, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            log, _ = process.communicate(timeout=submission_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # otter, its kernel and anything they started
            process.communicate()
            row["status"] = "timed-out"
            return row
        results_file = work_dir / "results.json"
        if process.returncode != 0 or not results_file.exists():
            tail = log.decode("utf-8", "replace").strip().splitlines()[-5:]
            print(f"grade.py: otter run failed on {submission.name} (exit {process.returncode}): " + " | ".join(tail),
                  file=sys.stderr)
            row["status"] = "grading-error"
            return row
        results = json.loads(results_file.read_text(encoding="utf-8"))
        if results_dir is not None:  # otter's feedback (every test's message) for this student
            shutil.copy(results_file, results_dir / f"{submission.stem}.json")

    for test in results.get("tests", []):
        if test.get("name") in questions and test.get("score") is not None:
            row[test["name"]] = float(test["score"])
    row["status"] = "ok"
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="assignment name, e.g. hw01_bernoulli_to_bce")
    parser.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--autograder", type=Path, help="autograder zip (default: the built one)")
    parser.add_argument("--results-dir", type=Path,
                        help="also keep otter's results.json of each submission here (feedback)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    parser.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell")
    parser.add_argument("--submission-timeout", type=float, default=600.0,
                        help="seconds per submission")
    args = parser.parse_args(argv)

    zip_path = args.autograder or autograder_zip(args.assignment)
    if not zip_path.is_file():
        parser.error(f"no autograder bundle at {zip_path}: run coursework/build.py first")
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    questions = questions_of(zip_path)
    if args.results_dir is not None:
        args.results_dir.mkdir(parents=True, exist_ok=True)
    submissions = sorted(args.submissions.glob("*.ipynb"))

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(lambda path: grade_one(path, zip_path, questions, args.cell_timeout,
                                                    args.submission_timeout, args.results_dir),
                                 submissions))
    possible = sum(questions.values())
    for row in rows:
        row["total"] = sum(row[q] for q in questions)
        row["possible"] = possible

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["submission", *questions, "total", "possible", "status"])
        writer.writeheader()
        for row in rows:
            writer.writerow({key: (f"{value:g}" if isinstance(value, float) else value)
                             for key, value in row.items()})
    failed = [row["submission"] for row in rows if row["status"] == "grading-error"]
    print(f"grade.py: {len(rows)} submission(s) of {args.assignment} graded in "
          f"{time.monotonic() - start:.0f} s -> {args.out}"
          + (f"; grading FAILED for {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
