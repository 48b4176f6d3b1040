"""What the book's tests share: where the book is and how to walk its table of contents.
(pytest.ini puts tests/ on the path, so every test module can `from book import ...`.)"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import book_pdf  # noqa: E402  (_ext/book_pdf.py: the book's toc walk)


def toc_entries() -> list[str]:
    """Every page of _toc.yml (docnames, without extension), in book order: the walk the book's
    PDF uses (_ext/book_pdf.py, with Jupyter Book's own toc parser), so there is one."""
    return [docname for _, docname in book_pdf.toc_entries(ROOT)]


def source_path(entry: str) -> Path | None:
    """The file a toc entry names (.ipynb or .md), or None if there is none."""
    for suffix in (".ipynb", ".md"):
        path = ROOT / (entry + suffix)
        if path.exists():
            return path
    return None


def chapter_notebooks() -> list[Path]:
    return sorted((ROOT / "chapters").glob("*.ipynb"))


def book_notebooks() -> list[Path]:
    """Every notebook page of the book (chapters and back matter)."""
    paths = [source_path(entry) for entry in toc_entries()]
    return [path for path in paths if path is not None and path.suffix == ".ipynb"]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source
