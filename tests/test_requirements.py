"""Binder readiness: Binder cannot be reached from here, so check statically that it would
install everything the notebooks need, from the same pinned list that CI and readers use."""
from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions

import pytest

from conftest import ROOT, cell_source, load

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[\w,.-]+\])?==([\w.+!-]+)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"requirements.txt line is not pinned with ==: {line!r}"
        pins[canonical(match.group(1))] = match.group(3)
    return pins


def all_notebooks():
    found = []
    for folder in ("chapters", "back", "coursework"):
        found += sorted((ROOT / folder).rglob("*.ipynb")) if (ROOT / folder).exists() else []
    return [p for p in found if ".ipynb_checkpoints" not in p.parts and "submissions_for_tests" not in p.parts]


def imported_modules(path) -> set[str]:
    modules = set()
    for cell in load(path)["cells"]:
        if cell["cell_type"] != "code":
            continue
        # IPython magics and shell lines are not Python; drop them before parsing.
        lines = [l for l in cell_source(cell).splitlines() if not l.lstrip().startswith(("%", "!"))]
        tree = ast.parse("\n".join(lines))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def test_every_requirement_is_pinned():
    assert len(pinned()) > 10


def test_jupyter_book_is_pinned_below_2():
    version = pinned()["jupyter-book"]
    assert int(version.split(".")[0]) < 2, version


@pytest.mark.parametrize("name", ["jupyter-book", "myst-nb", "numpy", "sympy", "mpmath", "matplotlib",
                                  "nbval", "pytest", "pytest-xdist", "ipykernel", "sphinx-exercise",
                                  "sphinx-proof", "scikit-learn", "otter-grader"])
def test_direct_requirement_is_pinned(name):
    assert name in pinned(), f"{name} is used by the book but not pinned in requirements.txt"


def test_runtime_names_python_3_11():
    assert (ROOT / "runtime.txt").read_text().strip() == "python-3.11"


def test_installed_versions_match_the_pins():
    """The environment the tests run in is the pinned one (so a green run means something)."""
    from importlib.metadata import version
    for name in ["jupyter-book", "myst-nb", "numpy", "sympy", "matplotlib", "nbval"]:
        assert canonical(version(name)) == canonical(pinned()[name]), name


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_import_comes_from_a_pin_or_the_standard_library(path):
    pins = pinned()
    providers = packages_distributions()
    for module in sorted(imported_modules(path)):
        if module in sys.stdlib_module_names:
            continue
        dists = {canonical(d) for d in providers.get(module, [])}
        assert dists, f"{path.name} imports {module!r}, which no installed distribution provides"
        assert dists & set(pins), f"{path.name} imports {module!r} from {dists}, not pinned in requirements.txt"
