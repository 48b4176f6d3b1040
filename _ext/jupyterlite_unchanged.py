"""Skip the JupyterLite build when nothing it is built from has changed.

Upstream: jupyterlite-sphinx (0.23.0, pinned) runs `jupyter lite build` after *every* Sphinx
build, even when no notebook changed, and deletes its doit database, so the build cannot be
incremental either (jupyterlite/jupyterlite-sphinx#132, "Option to only rebuild html ?", and #51).
Here that is about 5 of the 13 seconds of a no-op `python3 dev.py build`.

The fix: replace jupyterlite-sphinx's `build-finished` handler with one that hashes what the lite
site is made from (the files matched by `jupyterlite_contents`, the `jupyterlite_config` file,
the other jupyterlite_* settings, the installed jupyterlite packages' versions) and calls the
original handler only when that hash differs from the one stored beside the lite site's output
(`_build/html/lite/.inputs.sha256`) or the output is missing. tests/static/test_extensions.py
fails when the pinned jupyterlite-sphinx skips an unchanged build by itself (then delete this file).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
STAMP = ".inputs.sha256"
PACKAGES = ("jupyterlite-sphinx", "jupyterlite-core", "jupyterlite-pyodide-kernel")


def lite_inputs_hash(app) -> str:
    """A hash of everything `jupyter lite build` reads for this book."""
    config = app.config
    source = Path(app.srcdir)
    digest = hashlib.sha256()
    settings = {name: getattr(config, name, None) for name in (
        "jupyterlite_config", "jupyterlite_overrides", "jupyterlite_contents", "jupyterlite_dir",
        "jupyterlite_ignore_contents", "jupyterlite_build_command_options", "jupyterlite_content_dir")}
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    digest.update(json.dumps([settings, versions], sort_keys=True, default=str).encode())
    contents = config.jupyterlite_contents or []
    patterns = [contents] if isinstance(contents, str) else list(contents)
    for name in filter(None, (config.jupyterlite_config, config.jupyterlite_overrides)):
        patterns.append(name)
    for pattern in patterns:
        path = Path(pattern) if Path(pattern).is_absolute() else source / pattern
        for match in sorted(path.parent.glob(path.name)):
            files = sorted(p for p in match.rglob("*") if p.is_file()) if match.is_dir() else [match]
            for file in files:
                digest.update(file.relative_to(source).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def make_handler(original):
    def build_lite_unless_unchanged(app, error):
        if error is not None or app.builder.format != "html":
            return original(app, error)
        output = Path(app.outdir) / "lite"
        stamp = output / STAMP
        wanted = lite_inputs_hash(app)
        if stamp.exists() and stamp.read_text().strip() == wanted and (output / "index.html").exists():
            logger.info("[jupyterlite] the JupyterLite site in _build/html/lite is up to date")
            return None
        stamp.unlink(missing_ok=True)
        result = original(app, error)
        stamp.write_text(wanted + "\n")   # only reached when the lite build succeeded
        return result
    return build_lite_unless_unchanged


def setup(app):
    from jupyterlite_sphinx import jupyterlite_sphinx   # the module that defines the handler

    app.setup_extension("jupyterlite_sphinx")
    listeners = app.events.listeners["build-finished"]
    upstream = [listener for listener in listeners if listener.handler is jupyterlite_sphinx.jupyterlite_build]
    if len(upstream) != 1:
        raise RuntimeError("jupyterlite_unchanged: jupyterlite-sphinx's build-finished handler was not "
                           "found (has the pinned version changed? see _ext/jupyterlite_unchanged.py)")
    app.disconnect(upstream[0].id)
    app.connect("build-finished", make_handler(jupyterlite_sphinx.jupyterlite_build), priority=upstream[0].priority)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
