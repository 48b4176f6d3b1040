"""Figures outside notebooks are drawn by code in the repository, never by hand."""
from __future__ import annotations

import re
import subprocess
import sys

import matplotlib.image as mpimg
import numpy as np

from conftest import ROOT


def referenced_figures() -> set[str]:
    names = set()
    for page in [ROOT / "intro.md", *(ROOT / "back").glob("*.md")]:
        names |= set(re.findall(r"figures/([\w.-]+\.png)", page.read_text(encoding="utf-8")))
    return names


def test_pages_show_at_least_one_figure_from_figures():
    assert referenced_figures()
    for name in referenced_figures():
        assert (ROOT / "figures" / name).exists(), name


def test_make_figures_reproduces_every_committed_figure(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "figures" / "make_figures.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    committed = sorted(p.name for p in (ROOT / "figures").glob("*.png"))
    regenerated = sorted(p.name for p in tmp_path.glob("*.png"))
    assert committed == regenerated, "every committed figure must come from make_figures.py"
    for name in committed:
        old = mpimg.imread(ROOT / "figures" / name)
        new = mpimg.imread(tmp_path / name)
        assert old.shape == new.shape, name
        assert np.array_equal(old, new), f"{name} differs from what make_figures.py draws"
