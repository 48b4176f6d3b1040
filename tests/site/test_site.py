"""Build the site exactly as `python3 dev.py build --pdf` does, strictly, and check what readers get.

The build is shared with the other modules that need the built site (tests/site/test_browser.py,
tests/site/test_links.py): tests/sitebuild.py builds it once per test run, under a file lock.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from book import ROOT, toc_entries
from sitebuild import HTML, build_site_once

from benchmarks.build import mini_book


@pytest.fixture(scope="module")
def build() -> subprocess.CompletedProcess:
    return build_site_once()


def page(entry: str) -> str:
    return (HTML / f"{entry}.html").read_text(encoding="utf-8")


def test_site_builds_with_warnings_as_errors(build):
    log = build.stdout + build.stderr
    assert build.returncode == 0, log[-5000:]
    assert "build succeeded" in log
    warnings = [line for line in log.splitlines() if re.search(r"\bWARNING\b|\bERROR\b", line)]
    assert not warnings, warnings[:20]


def test_the_build_executes_no_notebook(build):
    """The site shows the stored outputs that nbval proves current (_config.yml): no kernel runs."""
    log = build.stdout + build.stderr
    executed = sorted(set(re.findall(r"(\S+\.ipynb): Executing notebook", log)))
    assert not executed, f"executed during the Sphinx build: {executed}"


def test_no_notebook_failed_during_the_build(build):
    reports = HTML / "reports"
    failed = sorted(p.name for p in reports.rglob("*")) if reports.exists() else []
    assert not failed, f"execution reports (tracebacks) were written: {failed}"


def test_every_toc_entry_became_a_page(build):
    missing = [entry for entry in toc_entries() if not (HTML / f"{entry}.html").exists()]
    assert not missing, missing


def test_solutions_are_hidden_dropdowns_on_every_chapter_page(build):
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        html = page(f"chapters/{path.stem}")
        exercises = html.count('class="exercise admonition"')
        solutions = html.count('class="solution dropdown admonition"')
        assert exercises >= 3, f"{path.stem}: {exercises} exercises on the page"
        assert solutions == exercises, f"{path.stem}: {solutions} hidden solutions for {exercises} exercises"


def test_no_unrendered_markup_is_left_in_pages(build):
    for entry in toc_entries():
        text = re.sub(r"<(script|style)\b.*?</\1>", "", page(entry), flags=re.S)
        text = re.sub(r"<pre\b.*?</pre>", "", text, flags=re.S)  # code may show roles literally
        for leftover in ("{term}", "{cite", "{ref}", "{glue", "{exercise}", "{solution}", "{prf:"):
            assert leftover not in text, f"{entry}: raw {leftover} in the page"


def test_each_local_fix_in_reader_fixes_is_still_needed(build):
    """_ext/reader_fixes.py counts what each of its fixes changed, page by page. A fix that
    changed nothing on any page is no longer needed by the pinned upstream versions: delete it."""
    report = json.loads((HTML.parent / ".reader-fixes.json").read_text(encoding="utf-8"))
    assert set(report) == {"relative_lite_links", "drop_duplicate_scripts"}
    for fix, pages in report.items():
        assert sum(pages.values()) > 0, f"_ext/reader_fixes.py: {fix} changed no page: delete it"
    # the JupyterLite link needs rewriting on pages in sub-folders, not on the landing page
    assert report["relative_lite_links"].get("chapters/05_why_log") == 1


def test_landing_page_shows_a_figure_from_figures(build):
    html = page(toc_entries()[0])
    images = re.findall(r'<img alt="([^"]+)" src="(_images/[^"]+)"', html)
    assert images, "the landing page shows no figure with alt text"
    for _, src in images:
        assert (HTML / src).stat().st_size > 0


# --- the strict build really fails ---------------------------------------------------------

def write_notebook(path: Path, cells: list[tuple[str, str]]) -> None:
    notebook = {
        "cells": [{"cell_type": kind, "metadata": {}, "source": text,
                   **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                  for kind, text in cells],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook), encoding="utf-8")


def test_a_failing_cell_fails_the_notebook_tests(tmp_path):
    """The build renders stored outputs; nbval (pytest.ini's settings) is what runs the cells."""
    write_notebook(tmp_path / "broken.ipynb", [("markdown", "# Broken"), ("code", "1 / 0")])
    notebook = json.loads((tmp_path / "broken.ipynb").read_text(encoding="utf-8"))
    notebook["cells"][1]["execution_count"] = 1      # as if executed, with no error stored
    (tmp_path / "broken.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    (tmp_path / "tests").mkdir()   # pytest.ini names the sanitize file relative to the folder run in
    shutil.copy(ROOT / "tests" / "nbval_sanitize.cfg", tmp_path / "tests")
    result = subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pytest.ini"), "-n", "0",
                             "--rootdir", str(tmp_path), str(tmp_path / "broken.ipynb")],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0 and "ZeroDivisionError" in result.stdout, result.stdout[-2000:]


def test_a_broken_reference_fails_the_build(tmp_path):
    """The benchmark's mini-book (the book's own _config.yml and extensions) with a broken
    reference: the strict build must report it."""
    book = mini_book(tmp_path)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: broken\n")
    (tmp_path / "intro.md").write_text("# Intro\n\nSee {ref}`no-such-label`.\n")
    write_notebook(tmp_path / "broken.ipynb", [("markdown", "# Broken"), ("code", "1 / 0")])
    result = subprocess.run(book.build_command, capture_output=True, text=True,
                            env={**os.environ, "BOOK_PDF": "0"})
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "no-such-label" in log, "the broken reference was not reported"


def test_coursework_page_offers_each_student_notebook_for_download(build):
    """_ext/coursework_downloads.py writes the student notebooks next to the Coursework page:
    each assignment's link works and gives the student copy (no solutions, no hidden tests)."""
    html = page("coursework")
    sources = sorted((ROOT / "coursework" / "source").glob("*.ipynb"))
    links = re.findall(r'<a href="(coursework/[\w-]+\.ipynb)" download', html)
    assert sorted(links) == [f"coursework/{s.name}" for s in sources], links
    for link in links:
        text = (HTML / link).read_text(encoding="utf-8")
        notebook = json.loads(text)
        sources = "\n".join("".join(cell["source"]) for cell in notebook["cells"])
        assert 'grader.check("q1")' in sources, f"{link} is not a student notebook"
        for secret in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN TESTS", "hidden=True"):
            assert secret not in text, f"{link} contains {secret!r}"
        assert notebook["metadata"]["kernelspec"]["name"] == "python3"
