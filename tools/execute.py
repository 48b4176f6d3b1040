#!/usr/bin/env python3
"""Execute notebooks in place, top to bottom, in a fresh kernel, as the tests expect.

    .venv/bin/python tools/execute.py chapters/05_why_log.ipynb [more.ipynb ...]

Unlike `jupyter nbconvert --execute`, this records no execution timestamps in the cell
metadata (wall-clock times would change on every run) and drops editor metadata, so that
re-running an unchanged notebook leaves the file unchanged.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import kernel_transport  # noqa: F401  (kernels run with encrypted transport: no ipykernel TCP warning)

KEEP_NOTEBOOK_METADATA = {"kernelspec", "language_info"}
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def execute(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata = {k: v for k, v in notebook.metadata.items() if k in KEEP_NOTEBOOK_METADATA}
    notebook.metadata["kernelspec"] = KERNELSPEC
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nbformat.write(notebook, path)
    return seconds


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    for name in paths:
        seconds = execute(Path(name))
        print(f"{name}: executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
