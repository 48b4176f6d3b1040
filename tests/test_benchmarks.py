"""The benchmarks (benchmarks/): they run, print their tables, and measure the book's own code.

The full benchmarks take minutes and are not run here (see README, "Benchmarks"); each script
is run once with --quick, which does everything on tiny inputs (loss.py: 10^3 items; build.py:
a one-page mini-book in a temporary folder, never the book's own _build/).
"""
from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from conftest import ROOT, cell_source, load

CHAPTER_11 = ROOT / "chapters" / "11_numerical_care.ipynb"
LOSS = ROOT / "benchmarks" / "loss.py"
BUILD = ROOT / "benchmarks" / "build.py"


def function_source(source: str, name: str) -> str | None:
    """The source of the top-level function `name` in `source`, whitespace normalised."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return " ".join(ast.get_source_segment(source, node).split())
    return None


@pytest.mark.parametrize("name", ["bce_from_logits", "bce_from_logits_fast"])
def test_benchmark_times_the_functions_the_chapter_shows(name):
    """benchmarks/loss.py has a copy of each function (it imports nothing from notebooks)."""
    in_chapter = [function_source(cell_source(cell), name) for cell in load(CHAPTER_11)["cells"]
                  if cell["cell_type"] == "code" and f"def {name}(" in cell_source(cell)]
    assert len(in_chapter) == 1 and in_chapter[0], f"chapter 11 should define {name} in one cell"
    in_benchmark = function_source(LOSS.read_text(encoding="utf-8"), name)
    assert in_benchmark == in_chapter[0], f"{name} in benchmarks/loss.py differs from chapter 11: copy it again"


def run(script, *args) -> str:
    result = subprocess.run([sys.executable, str(script), *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_loss_benchmark_prints_its_table():
    out = run(LOSS, "--quick")
    assert "ns/item" in out and "max ulps" in out and "median ulps" in out
    for method in ("naive", "clipped", "sklearn.metrics.log_loss", "bce_from_logits (stable)",
                   "bce_from_logits_fast", "np.logaddexp(0, z)"):
        assert method in out, method
    assert "cores" in out and "numpy" in out and "seed" in out      # the conditions are printed
    assert "peak extra memory" in out


def test_build_benchmark_prints_its_table():
    out = run(BUILD, "--quick")
    for row in ("clean build", "no-op rebuild", "prose-only rebuild", "test suite",
                "where the time goes", "import numpy"):
        assert row in out, row
    assert "cores" in out and "jupyter-book" in out
