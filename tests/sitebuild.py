"""Build the site once per test run, for every test module that needs the built site.

`python3 dev.py test` runs pytest-xdist with `--dist loadfile`: each worker has its own
session, so a session fixture would build once per worker. Instead, whoever needs the site
first builds it (the exact `python3 dev.py build --pdf` command) while holding a file lock, and
records the result (exit code and log) with this run's id; any other module or worker in the
same run waits on the lock and then reuses that result. A new run has a new id, so it always
builds afresh (the build is incremental: only what changed is redone) and never tests a stale
site.

So that no worker sits idle waiting for it, the run starts this build in the background as
soon as it begins (conftest.py runs `python tests/sitebuild.py`, which takes the same lock)
whenever the site's tests are selected, and pytest.ini lists tests/site last: the build runs
while the workers execute the notebooks and grade the coursework.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from filelock import FileLock

from book import ROOT

if str(ROOT) not in sys.path:   # run as a script (python tests/sitebuild.py): dev.py is at the root
    sys.path.insert(0, str(ROOT))
from dev import BUILD_ARGS  # noqa: E402

# The tests check the PDF too, so this build prints it whenever a page changed (`dev.py build --pdf`).

JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
BUILD = ROOT / "_build"
HTML = BUILD / "html"
RECORD = BUILD / ".test-build.json"
LOCK = BUILD / ".test-build.lock"

# conftest.py gives every process of one test run (the controller, the xdist workers and the
# background build) the same id in BOOK_TEST_RUN.
RUN_ID = os.environ.get("BOOK_TEST_RUN") or f"pid-{os.getpid()}"


def _build() -> subprocess.CompletedProcess:
    subprocess.run([sys.executable, str(ROOT / "figures" / "make_figures.py")], check=True,
                   capture_output=True)
    return subprocess.run([str(JUPYTER_BOOK), *BUILD_ARGS], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "NO_COLOR": "1", "BOOK_PDF": "1"})


def build_site_once() -> subprocess.CompletedProcess:
    """The result of this run's one site build (building it now if nobody has yet)."""
    BUILD.mkdir(exist_ok=True)
    with FileLock(str(LOCK)):
        if RECORD.exists():
            record = json.loads(RECORD.read_text(encoding="utf-8"))
            if record.get("run") == RUN_ID:
                return subprocess.CompletedProcess(record["args"], record["returncode"],
                                                   record["stdout"], record["stderr"])
        result = _build()
        RECORD.write_text(json.dumps({"run": RUN_ID, "args": result.args, "returncode": result.returncode,
                                      "stdout": result.stdout, "stderr": result.stderr}), encoding="utf-8")
        return result


if __name__ == "__main__":   # the background build that conftest.py starts at the beginning of a run
    sys.exit(build_site_once().returncode)
