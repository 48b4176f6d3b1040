#!/usr/bin/env python3
"""Execute the book's notebooks into the build's jupyter-cache, several at a time.

    .venv/bin/python tools/cache_execute.py [--jobs N]     # run by `python3 dev.py build`

Jupyter Book 1 (`execute_notebooks: cache` in _config.yml) executes every notebook whose code
is not yet in `_build/.jupyter_cache`, one after the other, while Sphinx reads the sources.
On a clean build that is most of the build's time. This script does the same executions first,
N notebooks at a time (default: one per core), with the same settings and the same cache, so
that Sphinx then finds every notebook cached and only renders. It is only a head start: a
notebook that fails here is left uncached, and the strict build executes it again and reports
the failure exactly as before. Each record stores its execution time, which the book's
"Build status" page shows.
"""
from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution

import kernel_transport  # noqa: F401  (kernels run with encrypted transport: no ipykernel TCP warning)

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".jupyter_cache"   # where `jupyter-book build .` keeps it


def book_notebooks() -> list[Path]:
    """The .ipynb files that _toc.yml lists, in book order."""
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
    return [ROOT / f"{entry}.ipynb" for entry in entries if (ROOT / f"{entry}.ipynb").exists()]


def read(path: Path) -> nbformat.NotebookNode:
    # as myst-nb reads it, so that the cache's hash of the code cells matches
    return nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT)


def execute(path: Path, timeout: int, allow_errors: bool):
    """Run in a worker process: execute one notebook in its own folder, as myst-nb does."""
    notebook = read(path)
    result = single_nb_execution(notebook, cwd=str(path.parent), timeout=timeout,
                                 allow_errors=allow_errors, meta_override=True)
    error = None if result.err is None else f"{type(result.err).__name__}: {result.err}"
    return path, nbformat.writes(notebook), result.time, error


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="notebooks executed at the same time (default: number of cores)")
    args = parser.parse_args(argv)
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["execute"]
    if config.get("execute_notebooks") != "cache":
        print("execute_notebooks is not 'cache': nothing to do")
        return 0
    cache = get_cache(str(CACHE))
    todo = []
    for path in book_notebooks():
        try:
            cache.match_cache_notebook(read(path))
        except KeyError:
            todo.append(path)
    if not todo:
        print("every notebook is already in the jupyter-cache")
        return 0
    # longest first, so that the last notebook to finish is a short one
    todo.sort(key=lambda path: -path.stat().st_size)
    print(f"executing {len(todo)} notebook(s), {args.jobs} at a time, into {CACHE.relative_to(ROOT)}",
          flush=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(execute, path, config.get("timeout", 30), config.get("allow_errors", False))
                   for path in todo]
        for future in as_completed(futures):
            path, text, seconds, error = future.result()
            name = path.relative_to(ROOT).as_posix()
            if error:
                # leave it to the build, which executes it again and reports the failure
                print(f"  {name}: failed ({error.splitlines()[0][:120]}); the build will report it", flush=True)
                continue
            record = cache.add_nb_to_project(str(path))
            cache.cache_notebook_bundle(CacheBundleIn(nbformat.reads(text, as_version=nbformat.NO_CONVERT),
                                                      record.uri, data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            print(f"  {name}: executed in {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
