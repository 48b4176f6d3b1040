"""The shape every chapter must have, checked statically (fast, before anything runs)."""
from __future__ import annotations

import re

import pytest

from book import ROOT, book_notebooks, cell_source, chapter_notebooks, load, source_path, toc_entries

CHAPTERS = chapter_notebooks()
IDS = [path.stem for path in CHAPTERS]

EXERCISE = re.compile(r"(?:`{3,}|:{3,})\{exercise\}[^\n]*\n((?:[ \t]*:[\w-]+:[^\n]*\n)*)")
SOLUTION = re.compile(r"(?:`{3,}|:{3,})\{solution(?:-start)?\}[ \t]*(\S+)[^\n]*\n((?:[ \t]*:[\w-]+:[^\n]*\n)*)")
OPTION = re.compile(r":([\w-]+):[ \t]*([^\n]*)")


def markdown(path):
    return "\n".join(cell_source(c) for c in load(path)["cells"] if c["cell_type"] == "markdown")


def code_cells(path):
    return [c for c in load(path)["cells"] if c["cell_type"] == "code"]


def test_there_are_chapters():
    assert len(CHAPTERS) >= 9, [p.name for p in CHAPTERS]


def test_every_toc_entry_exists():
    missing = [entry for entry in toc_entries() if source_path(entry) is None]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_chapter_notebook_is_in_the_toc():
    listed = set(toc_entries())
    unlisted = [p.name for p in CHAPTERS if p.relative_to(ROOT).with_suffix("").as_posix() not in listed]
    assert not unlisted, f"chapter notebooks missing from _toc.yml: {unlisted}"


def test_toc_lists_chapters_in_numeric_order():
    numbered = [e for e in toc_entries() if e.startswith("chapters/")]
    assert numbered == sorted(numbered), numbered


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_opens_with_title_label_and_summary(path):
    first = cell_source(load(path)["cells"][0])
    assert re.search(r"^\(ch-[\w-]+\)=\s*$", first, re.M), "first cell needs a (ch-slug)= label"
    assert re.search(r"^# (?:\d+\. |Interlude: )\S", first, re.M), \
        "first cell needs a '# N. Title' (or '# Interlude: Title') heading"
    assert "In this chapter" in first, "first cell needs an 'In this chapter' paragraph"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_ends_with_takeaways_and_exercises(path):
    text = markdown(path)
    assert re.search(r"^## Key takeaways", text, re.M), "no '## Key takeaways' section"
    assert re.search(r"^## Exercises", text, re.M), "no '## Exercises' section"
    assert text.index("## Key takeaways") < text.index("## Exercises")


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_exercise_has_a_hidden_solution(path):
    text = markdown(path)
    exercises = []
    for options in EXERCISE.findall(text):
        labels = dict(OPTION.findall(options))
        assert "label" in labels, "an exercise has no :label:"
        exercises.append(labels["label"].strip())
    assert len(exercises) >= 3, f"only {len(exercises)} exercises (at least 3 per chapter)"
    solutions = {}
    for target, options in SOLUTION.findall(text):
        solutions[target] = dict(OPTION.findall(options))
    for label in exercises:
        assert label in solutions, f"exercise {label} has no solution"
        assert "dropdown" in solutions[label].get("class", ""), \
            f"the solution to {label} is not hidden (needs :class: dropdown)"
    orphans = set(solutions) - set(exercises)
    assert not orphans, f"solutions to no exercise of this chapter: {orphans}"


def test_exercise_labels_are_unique_across_the_book():
    seen = {}
    for path in CHAPTERS:
        for options in EXERCISE.findall(markdown(path)):
            label = dict(OPTION.findall(options)).get("label", "").strip()
            assert label not in seen, f"{label} in both {seen.get(label)} and {path.name}"
            seen[label] = path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_checks_its_results_in_code(path):
    sources = "\n".join(cell_source(c) for c in code_cells(path))
    assert re.search(r"^\s*assert\b|np\.testing\.assert", sources, re.M), \
        "the chapter's key result must be checked by an assert in the notebook"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_symbolic_steps_use_sympy(path):
    sources = "\n".join(cell_source(c) for c in code_cells(path))
    if path.stem.startswith(("01_", "02_", "03_", "04_", "05_", "06_", "07_", "08_", "09_")):
        assert "import sympy as sp" in sources


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_plot_has_a_title_and_axis_labels(path):
    for index, cell in enumerate(code_cells(path)):
        shows_image = any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
        if not shows_image:
            continue
        source = cell_source(cell)
        for needed in ("title", "xlabel", "ylabel"):
            assert needed in source, f"code cell {index} draws a figure without a {needed}"


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: p.stem)
def test_every_plot_has_alt_text_in_its_cell_metadata(path):
    """MyST-NB writes a cell's `mystnb.image.alt` metadata as the alt text of its figure: what a
    screen reader says instead of the picture, so it states the plot's point, in words."""
    for index, cell in enumerate(load(path)["cells"]):
        if not any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])):
            continue
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
        assert alt.startswith("Plot: ") and len(alt.split()) >= 6, \
            f"cell {index} draws a figure without alt text (metadata mystnb.image.alt, 'Plot: ...')"
        assert not re.search(r"[$\\{}…]|\.png\b", alt), f"cell {index}: alt text with markup: {alt!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_notebook_runs_on_its_own(path):
    """No shell installs, no downloads, no files read from the repository."""
    for index, cell in enumerate(code_cells(path)):
        source = cell_source(cell)
        assert not re.search(r"^\s*[!%]\s*pip", source, re.M), f"cell {index} installs packages"
        assert not re.search(r"https?://|urllib|requests\.|wget|curl", source), f"cell {index} downloads"
        assert not re.search(r"open\(|read_csv|np\.load\(|\.\./", source), f"cell {index} reads a file"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_notebook_was_executed_top_to_bottom(path):
    notebook = load(path)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    counts = [c.get("execution_count") for c in code_cells(path) if cell_source(c).strip()]
    assert counts == list(range(1, len(counts) + 1)), f"execution counts {counts}"
    stamped = [i for i, c in enumerate(notebook["cells"]) if "execution" in c.get("metadata", {})]
    assert not stamped, f"cells {stamped} store wall-clock execution times (run tools/execute.py)"
