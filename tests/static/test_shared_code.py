"""Shared code stays one code: tagged copies are identical, and nobody redefines the helpers.

Every notebook runs alone (downloaded as one file, in Binder or Colab), so a chapter that needs
the book's sigmoid, its stable loss or the running example's data defines them again. The copies
carry a cell tag (`shared-sigmoid-bce`, any other `shared-*` tag, or `running-model-data`; the
canonical sources are in the integrator's CANON.md), and this file checks:

- all cells with the same shared tag, across chapters/ and back/, have byte-identical sources;
- no notebook defines a function named `sigmoid` or `bce_from_logits` outside a
  `shared-sigmoid-bce` cell (a second, different definition under the same name is how the
  book once ended up with two different "stable" losses).

The checkers are plain functions of notebook dicts, unit-tested below on small in-memory
notebooks, so a mismatch is known to fail even while few notebooks carry the tags.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from book import ROOT, cell_source, load

SHARED_PREFIX = "shared-"
RUNNING_DATA = "running-model-data"
SIGMOID_BCE = "shared-sigmoid-bce"
GUARDED_NAMES = {"sigmoid", "bce_from_logits"}


def book_notebook_paths() -> list[Path]:
    return sorted([*(ROOT / "chapters").glob("*.ipynb"), *(ROOT / "back").glob("*.ipynb")])


def shared_tags(cell: dict) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [t for t in tags if t.startswith(SHARED_PREFIX) or t == RUNNING_DATA]


def tagged_copies(notebooks: dict[str, dict]) -> dict[str, list[tuple[str, int, str]]]:
    """tag -> [(notebook name, cell index, source)] for every code cell carrying a shared tag."""
    copies: dict[str, list[tuple[str, int, str]]] = {}
    for name, notebook in notebooks.items():
        for index, cell in enumerate(notebook.get("cells", [])):
            if cell.get("cell_type") != "code":
                continue
            for tag in shared_tags(cell):
                copies.setdefault(tag, []).append((name, index, cell_source(cell)))
    return copies


def mismatched_copies(notebooks: dict[str, dict]) -> list[str]:
    """One line per copy whose source differs from the first copy of its tag."""
    problems = []
    for tag, copies in sorted(tagged_copies(notebooks).items()):
        first_name, first_index, first_source = copies[0]
        for name, index, source in copies[1:]:
            if source != first_source:
                first_diff = next((i for i, (a, b) in enumerate(zip(source, first_source)) if a != b),
                                  min(len(source), len(first_source)))
                line = source[:first_diff].count("\n") + 1
                problems.append(f"{tag}: {name} cell {index} differs from {first_name} cell {first_index} "
                                f"(from line {line} of the cell)")
    return problems


def defined_functions(source: str) -> set[str]:
    """Names of the functions a cell defines (def, or a lambda assigned to a name)."""
    # IPython magics and shell lines are not Python: blank them before parsing.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    names = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def stray_definitions(notebooks: dict[str, dict]) -> list[str]:
    """One line per `sigmoid` / `bce_from_logits` defined outside a shared-sigmoid-bce cell."""
    problems = []
    for name, notebook in notebooks.items():
        for index, cell in enumerate(notebook.get("cells", [])):
            if cell.get("cell_type") != "code" or SIGMOID_BCE in cell.get("metadata", {}).get("tags", []):
                continue
            for function in sorted(defined_functions(cell_source(cell)) & GUARDED_NAMES):
                problems.append(f"{name} cell {index} defines {function}() outside a {SIGMOID_BCE} cell")
    return problems


# --- the book ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def notebooks() -> dict[str, dict]:
    return {path.relative_to(ROOT).as_posix(): load(path) for path in book_notebook_paths()}


def test_tagged_shared_cells_are_identical(notebooks):
    problems = mismatched_copies(notebooks)
    assert not problems, "shared cells differ (copy the canonical source exactly):\n" + "\n".join(problems)


def test_sigmoid_and_bce_from_logits_are_defined_only_in_shared_cells(notebooks):
    problems = stray_definitions(notebooks)
    assert not problems, "\n".join(problems)


def test_the_checkers_see_the_book(notebooks):
    """The fixture found the notebooks (a wrong path would make the tests above pass on nothing)."""
    assert any(name.startswith("chapters/") for name in notebooks)
    assert len(notebooks) >= 10


# --- the checkers themselves, on small notebooks --------------------------------------------

def code(source: str, *tags: str) -> dict:
    return {"cell_type": "code", "metadata": {"tags": list(tags)} if tags else {}, "source": source,
            "outputs": [], "execution_count": None}


SIGMOID = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
DATA = "rng = np.random.default_rng(2026)\nn = 20\n"


def test_identical_copies_pass():
    book = {"a.ipynb": {"cells": [code(SIGMOID, SIGMOID_BCE), code(DATA, RUNNING_DATA)]},
            "b.ipynb": {"cells": [code("x = 1"), code(SIGMOID, SIGMOID_BCE)]},
            "c.ipynb": {"cells": [code(DATA, RUNNING_DATA)]}}
    assert mismatched_copies(book) == []
    assert stray_definitions(book) == []


def test_source_as_a_list_of_lines_compares_equal_to_the_same_string():
    lines = [line + "\n" for line in SIGMOID.rstrip("\n").split("\n")]
    book = {"a.ipynb": {"cells": [code(SIGMOID, SIGMOID_BCE)]}, "b.ipynb": {"cells": [code(lines, SIGMOID_BCE)]}}
    assert mismatched_copies(book) == []


@pytest.mark.parametrize("changed", [
    SIGMOID.replace("np.exp(-z)", "np.exp(- z)"),   # one space
    SIGMOID.rstrip("\n"),                             # the trailing newline
    SIGMOID + "# a comment\n",                        # an extra line
])
def test_any_byte_of_difference_fails(changed):
    book = {"a.ipynb": {"cells": [code(SIGMOID, SIGMOID_BCE)]},
            "b.ipynb": {"cells": [code(SIGMOID, SIGMOID_BCE)]},
            "c.ipynb": {"cells": [code(changed, SIGMOID_BCE)]}}
    problems = mismatched_copies(book)
    assert len(problems) == 1 and problems[0].startswith(f"{SIGMOID_BCE}: c.ipynb cell 0"), problems


def test_running_data_and_other_shared_tags_are_compared_too():
    book = {"a.ipynb": {"cells": [code(DATA, RUNNING_DATA), code("k = 1\n", "shared-plot-style")]},
            "b.ipynb": {"cells": [code(DATA.replace("2026", "2027"), RUNNING_DATA),
                                  code("k = 2\n", "shared-plot-style")]}}
    problems = mismatched_copies(book)
    assert [p.split(":")[0] for p in problems] == [RUNNING_DATA, "shared-plot-style"], problems
    # a cell whose tags merely mention "shared" elsewhere is not a shared cell
    assert mismatched_copies({"a.ipynb": {"cells": [code("a = 1", "not-shared")]},
                              "b.ipynb": {"cells": [code("a = 2", "not-shared")]}}) == []


def test_a_markdown_cell_with_a_shared_tag_is_not_code():
    book = {"a.ipynb": {"cells": [code(SIGMOID, SIGMOID_BCE)]},
            "b.ipynb": {"cells": [{"cell_type": "markdown", "metadata": {"tags": [SIGMOID_BCE]}, "source": "text"}]}}
    assert mismatched_copies(book) == []


def test_a_sigmoid_defined_outside_the_shared_cell_fails():
    book = {"a.ipynb": {"cells": [code("import numpy as np\n%config InlineBackend.figure_formats = ['retina']\n"
                                       + SIGMOID)]},
            "b.ipynb": {"cells": [code("bce_from_logits = lambda y, z: z\n")]},
            "c.ipynb": {"cells": [code("def loss(y, z):\n    def sigmoid(v):\n        return v\n    return 0\n")]}}
    problems = stray_definitions(book)
    assert problems == ["a.ipynb cell 0 defines sigmoid() outside a shared-sigmoid-bce cell",
                        "b.ipynb cell 0 defines bce_from_logits() outside a shared-sigmoid-bce cell",
                        "c.ipynb cell 0 defines sigmoid() outside a shared-sigmoid-bce cell"], problems


def test_other_names_and_calls_are_fine():
    book = {"a.ipynb": {"cells": [code("def sigmoid_derivative(z):\n    return sigmoid(z) * (1 - sigmoid(z))\n"
                                       "loss = bce_from_logits(y, z)\n")]}}
    assert stray_definitions(book) == []
