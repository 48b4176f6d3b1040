#!/usr/bin/env python3
"""The book's commands, with every set-up step they need.

    python3 dev.py build    # set up .venv with the pinned requirements, build the site into _build/html
                            # (and the whole book as one PDF, _build/html/book.pdf, if there is none yet)
    python3 dev.py build --pdf   # the same, and print the PDF again if a page or the PDF's own inputs
                                 # (_ext/book_pdf.py and .css, CITATION.cff, _toc.yml) changed (about 35 s more)
    python3 dev.py test     # set up .venv with the pinned requirements, run every test (pytest)
    python3 dev.py test --fast   # only the static tests (tests/static: seconds), for the inner loop

Only the Python standard library is used here, so this runs on a fresh machine that has
Python 3.11 and access to the package index. Every command also runs `npm ci` (MathJax and
axe-core, pinned in package-lock.json) when npm is installed; the book's PDF (printed by
_ext/book_pdf.py once the HTML pages are written) and the browser tests need Debian's chromium too (see
README). Extra arguments after `test` go to pytest (e.g. `python3 dev.py test -k structure`).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
# requirements-dev.txt = requirements.txt (what readers install) + the build and test tools,
# both compiled by pip-tools from requirements.in / requirements-dev.in (see README).
REQUIREMENTS = ROOT / "requirements-dev.txt"
STAMP = VENV / "requirements.sha256"
NPM_LOCK = ROOT / "package-lock.json"
NPM_STAMP = ROOT / "node_modules" / ".package-lock.sha256"

# The strict build: nitpicky (-n), every Sphinx warning is an error (-W), and keep going so
# that one run lists every problem (failed cells are warnings too, see _config.yml).
def build_args(book: Path) -> list[str]:
    """`jupyter-book` arguments for the strict build of the book in `book` (also the tests'
    and the benchmark's mini-books)."""
    return ["build", str(book), "-W", "-n", "--keep-going"]


BUILD_ARGS = build_args(ROOT)


def run(command: list[str | Path], env: dict[str, str] | None = None) -> None:
    """Run a command from the book's folder (with `env` added to the environment), shown first."""
    shown = "".join(f"{key}={value} " for key, value in (env or {}).items())
    print("+", shown + " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], cwd=ROOT, check=True,
                   env={**os.environ, **env} if env else None)


def set_up() -> None:
    """Create .venv and install requirements-dev.txt into it, unless that is already done."""
    if sys.version_info[:2] != (3, 11):
        print(f"note: the book is pinned and tested on Python 3.11; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating a virtual environment in {VENV.name}/", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes() + (ROOT / "requirements.txt").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    print(f"installing the pinned {REQUIREMENTS.name} into {VENV.name}/ (a few minutes the first time)", flush=True)
    run([PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", REQUIREMENTS])
    STAMP.write_text(wanted + "\n")


def set_up_npm() -> None:
    """Install node_modules exactly as package-lock.json pins it (for the browser tests)."""
    wanted = hashlib.sha256(NPM_LOCK.read_bytes()).hexdigest()
    if NPM_STAMP.exists() and NPM_STAMP.read_text().strip() == wanted:
        return
    npm = shutil.which("npm")
    if npm is None:
        print("note: npm is not installed, so the browser tests cannot run (install Node.js and npm)")
        return
    run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"])
    NPM_STAMP.write_text(wanted + "\n")


def build(args: list[str]) -> None:
    run([PYTHON, ROOT / "figures" / "make_figures.py"])
    # the book's PDF is printed by the book_pdf extension (_ext/book_pdf.py) while the build ends:
    # always if there is none yet, and with --pdf (BOOK_PDF=1) whenever its inputs changed
    state_file = ROOT / "_build" / ".book-pdf.state"   # written by _ext/book_pdf.py: current, stale, off
    state_file.unlink(missing_ok=True)
    run([BIN / "jupyter-book", *BUILD_ARGS], env={"BOOK_PDF": "1"} if args == ["--pdf"] else None)
    html = ROOT / "_build" / "html"
    state = state_file.read_text().strip() if state_file.exists() else ""
    print(f"\nThe site is in {html} (open index.html).")
    if state == "current":
        print(f"The whole book as one PDF: {html / 'book.pdf'}")
    elif state == "stale":
        print(f"The whole book as one PDF, {html / 'book.pdf'}, is from an earlier build: pages changed since. "
              "`python3 dev.py build --pdf` prints it again (about 35 s).")
    elif state == "off":
        print("The book's PDF was not printed (BOOK_PDF=0).")


def test(pytest_args: list[str]) -> None:
    # pytest's own settings (which paths, nbval, parallel workers) are in pytest.ini.
    if pytest_args[:1] == ["--fast"]:
        # the inner loop: tests/static only (no notebook executed, no site build, no browser)
        run([PYTHON, "-m", "pytest", "-n", "0", "tests/static", *pytest_args[1:]])
    else:
        run([PYTHON, "-m", "pytest", *pytest_args])


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"build", "test", "setup"}:
        print(__doc__)
        return 2
    if argv[0] == "build" and argv[1:] not in ([], ["--pdf"]):
        print(f"dev.py build: unknown argument(s) {' '.join(argv[1:])!r}; the only option is --pdf", file=sys.stderr)
        return 2
    set_up()
    try:
        set_up_npm()   # MathJax for the PDF; MathJax and axe-core for the browser tests
        if argv[0] == "build":
            build(argv[1:])
        elif argv[0] == "test":
            test(argv[1:])
    except subprocess.CalledProcessError as error:
        return error.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
