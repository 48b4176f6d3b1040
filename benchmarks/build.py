#!/usr/bin/env python3
"""How long do the book's build and tests take, and where does the time go?

    python3 benchmarks/build.py              # 3 runs of each scenario (about 15 minutes)
    python3 benchmarks/build.py --runs 5     # more runs, steadier medians
    python3 benchmarks/build.py --quick      # a one-page mini-book, one run: a smoke run

Scenarios, each timed as the median of --runs runs, as `python3 dev.py build` and
`python3 dev.py test` run them:

1. clean build: `_build/` deleted (the build renders the outputs stored in the notebooks,
   which the tests' nbval run proves current: it executes none);
2. no-op rebuild: the build run again with nothing changed;
3. prose-only rebuild: one markdown cell of a notebook edited (the file is restored after);
4. prose-only rebuild with --pdf: the same edit, built with `python3 dev.py build --pdf`;
5. test suite: `_build/` deleted, as in a fresh clone on CI, then the whole suite.
The book's PDF (_ext/book_pdf.py) is printed by the clean build (there is none yet) and by the
--pdf build (a page changed); the no-op rebuild finds it up to date, and the plain prose-only
rebuild leaves the earlier one and says so, as `python3 dev.py build` does. The PDF is
printed beside the JupyterLite build, so its phase below includes that.

Then, to show where the time goes: each notebook's execution time (a fresh kernel, top to
bottom, as nbval runs it in the test suite), the phases of the last clean build (from the time stamps of its log lines), and the import cost of
each library the notebooks use (each in a fresh interpreter) next to a kernel's start-up.
This is a measurement, not a test: it exits 0 and prints the budgets next to the numbers.
Timings on a shared machine vary; run it when the machine is quiet, or compare ratios.
Uses only the standard library (run it with any Python 3.11; it calls dev.py and .venv).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from dev import build_args  # noqa: E402  (the one recipe for the strict build's arguments)
VENV_PYTHON = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
BUDGETS = {"clean build": 60.0, "no-op rebuild": 10.0, "prose-only rebuild": 15.0, "test suite": 240.0}
PDF_SCENARIO = "prose-only, --pdf"   # no budget: it shows what asking for the PDF costs
PROSE_NOTEBOOK = ROOT / "chapters" / "05_why_log.ipynb"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Log lines that open a phase of the build, in the order they appear (the first phase,
# "start", runs from the command's start to the first of these lines).
PHASES = [
    ("figures (make_figures.py)", re.compile(r"^\+ .*make_figures\.py")),
    ("Sphinx and extensions start", re.compile(r"^(\+ .*jupyter-book|Running Jupyter-Book)")),
    ("read sources", re.compile(r"^(reading sources|updating environment)")),
    ("resolve, pickle, check consistency", re.compile(r"^(looking for now-outdated|pickling environment)")),
    ("write HTML pages", re.compile(r"^writing output\.\.\. \[")),
    ("copy assets, search index, finish", re.compile(r"^(copying|dumping|generating indices)")),
    ("book PDF, beside JupyterLite and the downloads", re.compile(r"building the book's PDF")),
]
PDF_DONE = re.compile(r"pdf: (wrote .*book\.pdf.*|.*book\.pdf is (up to date|from an earlier build).*)")
IMPORTS = ["numpy", "sympy", "matplotlib.pyplot", "mpmath", "sklearn.metrics", "myst_nb.ext.glue"]   # glue() imports the last


# --- running and timing ----------------------------------------------------------------------

def run(command: list[str], cwd: Path, log: list[tuple[float, str]] | None = None,
        env: dict[str, str] | None = None) -> float:
    """Run a command, fail loudly if it fails, return its wall time; keep time-stamped lines."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env={**os.environ, "NO_COLOR": "1", **(env or {})})
    lines = []
    for line in process.stdout:
        lines.append((time.perf_counter() - start, ANSI.sub("", line.rstrip("\n"))))
    process.wait()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        tail = "\n".join(text for _, text in lines[-40:])
        raise SystemExit(f"{' '.join(command)} failed (exit {process.returncode}):\n{tail}")
    if log is not None:
        log[:] = lines
    return seconds


def median(values: list[float]) -> float:
    return statistics.median(values)


class Book:
    """The book (or, with --quick, a one-page mini-book) and the commands that build and test it."""

    def __init__(self, root: Path, build: list[str], test: list[str], prose_file: Path):
        self.root, self.build_command, self.test_command, self.prose_file = root, build, test, prose_file

    def clean(self) -> None:
        shutil.rmtree(self.root / "_build", ignore_errors=True)

    def build(self, log=None, pdf: bool = False) -> float:
        """The build; with pdf=True as `python3 dev.py build --pdf` (BOOK_PDF=1) runs it."""
        return run(self.build_command, self.root, log, env={"BOOK_PDF": "1"} if pdf else None)

    def test(self) -> float:
        return run(self.test_command, self.root)

    def prose_edit(self, run_number: int) -> bytes:
        """Add a paragraph to the first markdown cell (or the page); return the original bytes."""
        original = self.prose_file.read_bytes()
        sentence = f"\n\nA sentence added by the build benchmark (edit {run_number}): prose only."
        if self.prose_file.suffix == ".ipynb":
            notebook = json.loads(original)
            cell = [c for c in notebook["cells"] if c["cell_type"] == "markdown"][0]
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = source.rstrip("\n") + sentence + "\n"
            self.prose_file.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
        else:
            self.prose_file.write_text(original.decode("utf-8").rstrip("\n") + sentence + "\n",
                                       encoding="utf-8")
        return original


def mini_book(folder: Path) -> Book:
    """One markdown page with the book's own _config.yml: exercises every code path, fast."""
    shutil.copy(ROOT / "_config.yml", folder)
    shutil.copy(ROOT / "references.bib", folder)
    shutil.copy(ROOT / "jupyter_lite_config.json", folder)   # named in _config.yml
    shutil.copytree(ROOT / "_ext", folder / "_ext")           # local extensions named there
    if (ROOT / "node_modules").is_dir():                      # MathJax, for the mini-book's PDF
        (folder / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    (folder / "_toc.yml").write_text("format: jb-book\nroot: intro\n", encoding="utf-8")
    (folder / "intro.md").write_text("# Mini-book\n\nOne page, to time the build machinery.\n",
                                     encoding="utf-8")
    (folder / "test_tiny.py").write_text("def test_nothing():\n    assert True\n", encoding="utf-8")
    jupyter_book = str(VENV_PYTHON.parent / "jupyter-book")
    return Book(folder, [jupyter_book, *build_args(folder)],
                [str(VENV_PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_tiny.py"],
                folder / "intro.md")


# --- where the time goes -------------------------------------------------------------------------

def notebook_times(root: Path) -> list[tuple[str, float]]:
    """(notebook, seconds): each notebook of the book executed once in a fresh kernel, top to
    bottom, into a temporary copy (the committed file is not touched), slowest first."""
    code = ("import json, sys, time, nbformat\n"
            "sys.path.insert(0, sys.argv[1] + '/tools'); import kernel_transport\n"
            "from nbclient import NotebookClient\n"
            "from pathlib import Path\n"
            "times = {}\n"
            "for name in sys.argv[2:]:\n"
            "    path = Path(sys.argv[1]) / name\n"
            "    notebook = nbformat.read(path, as_version=4)\n"
            "    start = time.perf_counter()\n"
            "    NotebookClient(notebook, timeout=600, kernel_name='python3',\n"
            "                   resources={'metadata': {'path': str(path.parent)}}).execute()\n"
            "    times[name] = time.perf_counter() - start\n"
            "print(json.dumps(times))\n")
    names = sorted(p.relative_to(root).as_posix() for folder in ("chapters", "back")
                   for p in (root / folder).glob("*.ipynb"))
    if not names:
        return []
    result = subprocess.run([str(VENV_PYTHON), "-c", code, str(root), *names], capture_output=True,
                            text=True, check=True)
    times = json.loads(result.stdout.strip().splitlines()[-1])
    return sorted(times.items(), key=lambda item: -item[1])


def phases(log: list[tuple[float, str]], total: float) -> list[tuple[str, float]]:
    """Seconds spent in each phase of a build, from the time stamps of its log lines."""
    starts, position = [(0.0, "start")], 0
    for name, pattern in PHASES:
        for index in range(position, len(log)):
            if pattern.search(log[index][1]):
                starts.append((log[index][0], name))
                position = index
                break
    result = []
    for index, (stamp, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else total
        result.append((name, end - stamp))
    return result


def import_seconds(module: str, repeats: int) -> float:
    code = (f"import time; start = time.perf_counter(); import {module}; "
            "print(time.perf_counter() - start)")
    return median([float(subprocess.run([str(VENV_PYTHON), "-c", code], capture_output=True,
                                        text=True, check=True).stdout) for _ in range(repeats)])


def kernel_start_seconds(repeats: int) -> float:
    """A python3 kernel started, one empty cell executed, the kernel shut down."""
    code = ("import time; from jupyter_client.manager import start_new_kernel\n"
            "start = time.perf_counter(); km, kc = start_new_kernel(kernel_name='python3')\n"
            "kc.execute_interactive('pass', timeout=60); kc.stop_channels(); km.shutdown_kernel(now=True)\n"
            "print(time.perf_counter() - start)")
    return median([float(subprocess.run([str(VENV_PYTHON), "-c", code], capture_output=True,
                                        text=True, check=True).stdout.strip().splitlines()[-1])
                   for _ in range(repeats)])


# --- the report ------------------------------------------------------------------------------

def versions() -> str:
    code = ("import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in "
            "['jupyter-book', 'sphinx', 'myst-nb', 'nbclient', 'nbval', "
            "'pytest', 'pytest-xdist', 'numpy', 'sympy', 'matplotlib', 'scikit-learn']))")
    return subprocess.run([str(VENV_PYTHON), "-c", code], capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each scenario (median reported)")
    parser.add_argument("--test-runs", type=int, default=None, help="runs of the test suite (default --runs)")
    parser.add_argument("--skip-tests", action="store_true", help="do not time the test suite")
    parser.add_argument("--quick", action="store_true", help="a one-page mini-book, one run: a smoke run")
    args = parser.parse_args(argv)
    if not VENV_PYTHON.exists():
        subprocess.run([sys.executable, str(ROOT / "dev.py"), "setup"], cwd=ROOT, check=True)
    runs = 1 if args.quick else args.runs
    test_runs = 1 if args.quick else (args.test_runs or args.runs)

    print("# Build and test benchmark" + (" (--quick: a one-page mini-book, not the book)" if args.quick else ""))
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, python {platform.python_version()}; "
          f"load average at start {os.getloadavg()[0]:.2f}")
    print(versions())
    print(f"each time is the median of {runs} run(s) (test suite: {test_runs}); budgets are for this 2-core machine")
    print()

    temporary = tempfile.TemporaryDirectory() if args.quick else None
    book = mini_book(Path(temporary.name)) if args.quick else Book(
        ROOT, [sys.executable, str(ROOT / "dev.py"), "build"],
        [sys.executable, str(ROOT / "dev.py"), "test"], PROSE_NOTEBOOK)
    times: dict[str, list[float]] = {"clean build": [], "no-op rebuild": [], "prose-only rebuild": [],
                                     PDF_SCENARIO: [], "test suite": []}
    prose_log: list[tuple[float, str]] = []
    log: list[tuple[float, str]] = []
    try:
        for number in range(runs):
            book.clean()
            times["clean build"].append(book.build(log))
            clean_log, clean_total = list(log), times["clean build"][-1]
            times["no-op rebuild"].append(book.build())
            original = book.prose_edit(number)
            try:
                times["prose-only rebuild"].append(book.build(prose_log))
            finally:
                book.prose_file.write_bytes(original)
            original = book.prose_edit(runs + number)   # another edit, now with the PDF
            try:
                times[PDF_SCENARIO].append(book.build(pdf=True))
            finally:
                book.prose_file.write_bytes(original)
        cached = notebook_times(book.root)
        if not args.skip_tests:
            for _ in range(test_runs):
                book.clean()
                times["test suite"].append(book.test())
        if not args.quick:
            book.build()  # leave an up-to-date _build behind (the prose edit was undone)
    finally:
        if temporary is not None:
            temporary.cleanup()

    print(f"{'scenario':20s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'budget s':>9s}  "
          f"{'within':6s}  runs")
    for name, values in times.items():
        if not values:
            print(f"{name:20s} {'(skipped)':>9s}")
            continue
        budget = None if args.quick else BUDGETS.get(name)   # budgets are for the book
        verdict = "" if budget is None else ("yes" if median(values) <= budget else "NO")
        print(f"{name:20s} {median(values):9.1f} {min(values):7.1f} {max(values):7.1f} "
              f"{budget if budget else '-':>9}  {verdict:6s}  " + ", ".join(f"{v:.1f}" for v in values))
    noop, clean = median(times["no-op rebuild"]), median(times["clean build"])
    print(f"ratios in this run: no-op / clean = {noop / clean:.2f}, "
          f"prose-only / clean = {median(times['prose-only rebuild']) / clean:.2f}"
          + (f", test suite / clean build = {median(times['test suite']) / clean:.2f}" if times["test suite"] else ""))
    print()

    print("## where the time goes")
    print(f"phases of the last clean build ({clean_total:.1f} s):")
    for name, seconds in phases(clean_log, clean_total):
        print(f"  {name:48s} {seconds:6.1f} s")
    # the book's PDF (_ext/book_pdf.py): printed by the clean build, left as it was by the prose edit
    for name, log_lines in (("clean build", clean_log), ("prose-only rebuild", prose_log)):
        for _, text in log_lines:
            match = PDF_DONE.search(text)
            if match:
                print(f"book PDF in the {name}: {match.group(1)}")
    if cached:
        total = sum(seconds for _, seconds in cached)
        print(f"notebook execution times, one at a time in a fresh kernel (sum {total:.1f} s, "
              f"slowest first):")
        for name, seconds in cached:
            print(f"  {name:42s} {seconds:6.1f} s")
    repeats = 1 if args.quick else 3
    print(f"fixed cost per notebook (median of {repeats}, each in a fresh process):")
    if not args.quick:
        print(f"  {'kernel start + one empty cell':42s} {kernel_start_seconds(repeats):6.2f} s")
    for module in (IMPORTS[:1] if args.quick else IMPORTS):
        print(f"  {'import ' + module:42s} {import_seconds(module, repeats):6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
