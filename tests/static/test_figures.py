"""Figures outside notebooks are drawn by code in the repository, never by hand."""
from __future__ import annotations

import re
import subprocess
import sys

import matplotlib.image as mpimg
import numpy as np

from book import ROOT


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


def test_every_plot_uses_the_colour_blind_safe_palette():
    """Plot colours are chosen for colour-blind readers once: the tableau-colorblind10 style,
    set before any plotting in every notebook that draws and in figures/make_figures.py."""
    import json
    from book import book_notebooks, cell_source

    sources = {"figures/make_figures.py": (ROOT / "figures" / "make_figures.py").read_text(encoding="utf-8")}
    for path in book_notebooks():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        sources[path.name] = "\n".join(cell_source(c) for c in cells if c["cell_type"] == "code")
    drawing = {name: text for name, text in sources.items() if "matplotlib" in text}
    assert len(drawing) >= 10
    for name, text in drawing.items():
        style = text.find('plt.style.use("tableau-colorblind10")')
        assert style >= 0, f"{name} draws without the colour-blind-safe style"
        first_plot = min((i for i in (text.find(".plot("), text.find(".bar("), text.find(".subplots("))
                          if i >= 0), default=len(text))
        assert style < first_plot, f"{name} plots before it sets the colour-blind-safe style"
