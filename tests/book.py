"""What the book's tests share: where the book is and how to walk its table of contents.
(pytest.ini puts tests/ on the path, so every test module can `from book import ...`.)"""
from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_entries() -> list[str]:
    """Every `root`/`file` entry of _toc.yml, without extension, in book order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    entries = [toc["root"]]

    def walk(items):
        for item in items or []:
            if "file" in item:
                entries.append(item["file"])
            walk(item.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return entries


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
