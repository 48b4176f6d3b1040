#!/usr/bin/env python3
"""Regenerate every assignment's student notebook and autograder bundle from its source.

Usage (from the project root):

    .venv/bin/python coursework/build.py            # all assignments, into coursework/dist/
    .venv/bin/python coursework/build.py --dist DIR  # somewhere else (the tests do this)
    .venv/bin/python coursework/build.py --students-only DIR   # only the student notebooks, DIR/NAME.ipynb
                                                               # (the site build does this for its downloads)

For each ``coursework/source/NAME.ipynb`` (otter-assign format) it

1. runs ``otter assign`` on it, which also runs the reference solutions against every test
   (it exits 1 if one fails; ``--students-only`` skips that run, the tests and a full build do it),
2. writes ``DIST/NAME/student/NAME.ipynb`` (questions and public tests only: hand this out),
   ``DIST/NAME/autograder/NAME.ipynb`` (the reference solutions) and
   ``DIST/NAME/autograder/NAME-autograder.zip`` (tests, hidden ones included: for grade.py).

The source is not executed first: every test is a ``def test_...`` function with asserts, not a
comparison with a stored output, so otter assign writes the same files from the unexecuted source
(checked: identical apart from otter's random cell ids), and each notebook runs once, not twice.
Timing metadata is dropped and the zip is written with fixed dates, so a rebuild with
unchanged sources gives the same files.  Never edit the files in dist/ by hand: edit the
source and run this again.  Exits non-zero if any step fails.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"build.py: command failed ({result.returncode}): {' '.join(command)}")


def clean_notebook(path: Path) -> None:
    """Drop per-cell timing metadata (it changes on every run)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        cell.get("metadata", {}).pop("execution", None)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def stable_zip(source: Path, target: Path) -> None:
    """Copy a zip with its entries sorted and dated 1980-01-01, so rebuilds are identical."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name in sorted(old.namelist()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = old.getinfo(name).external_attr
            info.compress_type = zipfile.ZIP_DEFLATED
            new.writestr(info, old.read(name))


def build(source: Path, dist: Path, run_tests: bool = True) -> None:
    name = source.stem
    with tempfile.TemporaryDirectory(prefix=f"build-{name}-") as work:
        work_dir = Path(work)
        copy = work_dir / source.name
        shutil.copy(source, copy)
        run([str(BIN / "otter"), "assign", *([] if run_tests else ["--no-run-tests"]), str(copy),
             str(work_dir / "out")], cwd=work_dir)

        target = dist / name
        shutil.rmtree(target, ignore_errors=True)
        (target / "student").mkdir(parents=True)
        (target / "autograder").mkdir(parents=True)
        shutil.copy(work_dir / "out" / "student" / source.name, target / "student" / source.name)
        shutil.copy(work_dir / "out" / "autograder" / source.name,
                    target / "autograder" / source.name)
        zips = sorted((work_dir / "out" / "autograder").glob("*.zip"))
        if len(zips) != 1:
            raise SystemExit(f"build.py: expected one autograder zip for {name}, found {len(zips)}")
        stable_zip(zips[0], target / "autograder" / f"{name}-autograder.zip")
    for notebook in (target / "student" / source.name, target / "autograder" / source.name):
        clean_notebook(notebook)
    print(f"build.py: {name} -> {target}")


def students_only(sources: list[Path], folder: Path, jobs: int) -> None:
    """Only the student notebooks, as folder/NAME.ipynb (never the solutions or the tests), rebuilt
    only when a source or this script changed (a stamp in the folder records what they were)."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for source in sources:
        digest.update(source.name.encode() + source.read_bytes())
    stamp = folder / ".sources.sha256"
    if stamp.exists() and stamp.read_text().strip() == digest.hexdigest() and all(
            (folder / source.name).exists() for source in sources):
        print(f"build.py: the student notebooks in {folder} are up to date")
        return
    with tempfile.TemporaryDirectory(prefix="students-") as work:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(lambda source: build(source, Path(work), run_tests=False), sources))
        folder.mkdir(parents=True, exist_ok=True)
        for source in sources:
            shutil.copy(Path(work) / source.stem / "student" / source.name, folder / source.name)
    stamp.write_text(digest.hexdigest() + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=HERE / "dist", help="output folder")
    parser.add_argument("--students-only", type=Path, metavar="DIR",
                        help="write only the student notebooks, as DIR/NAME.ipynb")
    parser.add_argument("--jobs", type=int, default=1, help="assignments built in parallel")
    parser.add_argument("--no-run-tests", action="store_true",
                        help="skip otter's check that the solutions pass every test (for a caller "
                             "that grades the solutions itself, as coursework/tests does)")
    parser.add_argument("names", nargs="*", help="assignments to build (default: all)")
    args = parser.parse_args(argv)
    sources = sorted((HERE / "source").glob("*.ipynb"))
    if args.names:
        sources = [s for s in sources if s.stem in args.names]
    if not sources:
        raise SystemExit("build.py: no source notebooks found")
    if args.students_only:
        students_only(sources, args.students_only.resolve(), args.jobs)
        return 0
    args.dist.mkdir(parents=True, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for _ in pool.map(lambda source: build(source, args.dist.resolve(), not args.no_run_tests), sources):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
