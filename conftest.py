"""Loaded by pytest for every test, notebooks included.

- nbval's kernels run with encrypted transport (see tools/kernel_transport.py), so ipykernel
  logs no "running over TCP without encryption" warning.
- Every process of one run (xdist workers too) shares one run id, BOOK_TEST_RUN, and when the
  site's tests (tests/site) are selected the site build starts in the background at once
  (tests/sitebuild.py explains why); it is stopped if the run ends before it does.
What the tests share is in tests/book.py."""
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SITE_TESTS = ROOT / "tests" / "site"
sys.path.insert(0, str(ROOT / "tools"))

import kernel_transport  # noqa: E402,F401


def selects_site_tests(config) -> bool:
    """Whether this run's arguments include tests/site (or a folder holding it). A run narrowed
    with -k or -m builds the site only if a selected test asks for it."""
    if config.option.keyword or config.option.markexpr:
        return False
    for arg in config.args:
        path = (Path(config.invocation_params.dir) / arg.split("::")[0]).resolve()
        if path == SITE_TESTS or path in SITE_TESTS.parents or SITE_TESTS in path.parents:
            return True
    return False


def pytest_configure(config):
    if hasattr(config, "workerinput"):   # an xdist worker: the controller did this
        return
    os.environ.setdefault("BOOK_TEST_RUN", uuid.uuid4().hex)   # inherited by the workers
    config._book_site_build = None
    if selects_site_tests(config) and not config.option.collectonly:
        config._book_site_build = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "sitebuild.py")], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def pytest_unconfigure(config):
    build = getattr(config, "_book_site_build", None)
    if build is not None and build.poll() is None:   # the run ended first (-x, Ctrl-C, deselected)
        os.killpg(build.pid, signal.SIGTERM)
        build.wait()
