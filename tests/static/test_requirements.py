"""The two pinned files: requirements.txt (what readers, Binder and Colab install to run the
notebooks and the coursework) and requirements-dev.txt (that plus the build and test tools),
both compiled by pip-tools from short hand-written .in files. Binder cannot be reached from
here, so check statically that requirements.txt holds everything the notebooks import."""
from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions

import pytest

from book import ROOT, cell_source, load

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[\w,.-]+\])?==([\w.+!-]+)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(name: str = "requirements.txt") -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"{name} line is not pinned with ==: {line!r}"
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
        optional = set()   # imports guarded by `try: ... except ImportError:` (e.g. myst_nb's glue)
        for node in ast.walk(tree):
            if isinstance(node, ast.Try) and any(
                    isinstance(h.type, ast.Name) and h.type.id in {"ImportError", "ModuleNotFoundError"}
                    for h in node.handlers):
                optional |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
        for node in ast.walk(tree):
            if id(node) in optional:
                continue
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def requested(name: str) -> set[str]:
    """The package names a hand-written .in file asks for (not its -r / -c lines)."""
    names = set()
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(canonical(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0]))
    return names


def test_every_requirement_is_pinned():
    assert len(pinned()) > 10 and len(pinned("requirements-dev.txt")) > len(pinned())


def test_the_two_files_never_disagree():
    """requirements-dev.txt holds every reader pin, at the same version (it is compiled with
    -r requirements.in and -c requirements.txt)."""
    readers, developers = pinned(), pinned("requirements-dev.txt")
    differ = {n: (v, developers.get(n)) for n, v in readers.items() if developers.get(n) != v}
    assert not differ, f"pinned differently (requirements.txt, requirements-dev.txt): {differ}"


@pytest.mark.parametrize("compiled", ["requirements.txt", "requirements-dev.txt"])
def test_compiled_files_pin_what_their_in_file_asks_for(compiled):
    source = compiled.replace(".txt", ".in")
    wanted = requested(source) | (requested("requirements.in") if compiled == "requirements-dev.txt" else set())
    missing = wanted - set(pinned(compiled))
    assert not missing, f"{source} asks for {sorted(missing)}, not in {compiled}: re-run pip-compile (README)"


def test_jupyter_book_is_pinned_below_2():
    version = pinned("requirements-dev.txt")["jupyter-book"]
    assert int(version.split(".")[0]) < 2, version


@pytest.mark.parametrize("name", ["numpy", "sympy", "mpmath", "matplotlib", "ipykernel", "scikit-learn",
                                  "otter-grader", "jupyterlab"])
def test_what_readers_run_is_in_requirements_txt(name):
    assert name in pinned(), f"{name} is needed to run the notebooks but not pinned in requirements.txt"


@pytest.mark.parametrize("name", ["jupyter-book", "myst-nb", "nbval", "pytest", "pytest-xdist",
                                  "sphinx-exercise", "sphinx-proof", "playwright", "pip-tools"])
def test_build_and_test_tools_are_in_requirements_dev_txt(name):
    assert name in pinned("requirements-dev.txt"), f"{name} is not pinned in requirements-dev.txt"


def test_runtime_names_python_3_11():
    assert (ROOT / "runtime.txt").read_text().strip() == "python-3.11"


def test_installed_versions_match_the_pins():
    """The environment the tests run in is the pinned one (so a green run means something)."""
    from importlib.metadata import version
    pins = pinned("requirements-dev.txt")
    for name in ["jupyter-book", "myst-nb", "numpy", "sympy", "matplotlib", "nbval", "jupyterlab"]:
        assert canonical(version(name)) == canonical(pins[name]), name


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
