"""The benchmarks (benchmarks/): they run, print their tables, and measure the book's own code.

The full benchmarks take minutes and are not run here (see README, "Benchmarks"); each script
is run once with --quick, which does everything on tiny inputs (loss.py: 10^3 items; build.py:
a one-page mini-book in a temporary folder, never the book's own _build/).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from book import ROOT, cell_source, load

CHAPTER_11 = ROOT / "chapters" / "11_numerical_care.ipynb"
LOSS = ROOT / "benchmarks" / "loss.py"
BUILD = ROOT / "benchmarks" / "build.py"


def test_benchmark_times_the_functions_the_chapter_shows(tmp_path):
    """benchmarks/loss.py reads bce_from_logits and bce_from_logits_fast from chapter 11's tagged
    cells: a change in the chapter's function is a change in what is timed."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import loss
    finally:
        sys.path.pop(0)
    functions = loss.chapter_functions(CHAPTER_11)
    y, z = [1.0, 0.0, 1.0], [40.0, -40.0, -3.0]
    assert functions["bce_from_logits"](y, z) == functions["bce_from_logits_fast"](y, z) > 0
    # a chapter whose tagged cell defines another function: the benchmark times that one
    notebook = load(CHAPTER_11)
    for cell in notebook["cells"]:
        if "benchmarked" in cell.get("metadata", {}).get("tags", []):
            cell["source"] = cell_source(cell).replace("return loss.mean()", "return 2 * loss.mean()")
    changed = tmp_path / "chapter.ipynb"
    changed.write_text(json.dumps(notebook), encoding="utf-8")
    doubled = loss.chapter_functions(changed)["bce_from_logits_fast"](y, z)
    assert doubled == 2 * functions["bce_from_logits"](y, z)


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
    for row in ("clean build", "no-op rebuild", "prose-only rebuild", "prose-only, --pdf", "test suite",
                "where the time goes", "import numpy"):
        assert row in out, row
    assert "cores" in out and "jupyter-book" in out
    assert "book PDF in the clean build: wrote" in out                  # a first build prints it
    assert "book PDF in the prose-only rebuild: " in out and "from an earlier build" in out   # an edit: not
