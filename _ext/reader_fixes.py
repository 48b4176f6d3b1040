"""Small fixes to what readers' browsers get, found by the browser tests (tests/site/test_browser.py).
(The Google Fonts stylesheet of jupyterlite-sphinx is dropped by its own file, _ext/no_google_fonts.py.)

1. The JupyterLite launch button. sphinx-book-theme builds it from `launch_buttons:
   jupyterlite_url` in _config.yml and uses that URL verbatim on every page, so a site-relative
   value ("lite/lab/index.html") would be wrong on pages in sub-folders (chapters/...). It is
   rewritten here, after the theme has added its buttons, into a link relative to the page, so
   the in-browser notebooks work wherever the site is published.
2. sphinx-thebe's inline configuration script ends up twice in every page, and the second copy
   throws "Identifier 'THEBE_JS_URL' has already been declared" in the console: identical
   scripts are written once.

Neither has an upstream issue that we found. Each fix counts, page by page, what it changed
(`_build/.reader-fixes.json`, merged over incremental builds); tests/site/test_site.py fails when
a fix changed nothing on any page, i.e. when the pinned upstream versions no longer need it.
"""
from __future__ import annotations

import json
from pathlib import Path

LITE_LABEL = "JupyterLite"
REPORT = ".reader-fixes.json"   # in _build/, beside html/
changes: dict[str, dict[str, int]] = {"relative_lite_links": {}, "drop_duplicate_scripts": {}}


def relative_lite_links(app, pagename, templatename, context, doctree):
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            url = button.get("url", "")
            if button.get("text") != LITE_LABEL or "://" in url or url.startswith("/"):
                continue
            target, _, query = url.partition("?")
            button["url"] = context["pathto"](target, 1) + (f"?{query}" if query else "")
            changes["relative_lite_links"][pagename] = int(button["url"] != url)
            button["text"] = "JupyterLite (run in the browser)"
            button["tooltip"] = "Run this notebook in your browser (Python via Pyodide, no server)"


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    changes["drop_duplicate_scripts"][pagename] = len(context.get("script_files", [])) - len(unique)
    context["script_files"] = unique


def write_report(app, exception):
    """Merge this build's counts into _build/.reader-fixes.json (pages not rewritten keep theirs)."""
    if exception is not None or app.builder.format != "html":
        return
    path = Path(app.outdir).parent / REPORT
    report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for fix, pages in changes.items():
        report.setdefault(fix, {}).update(pages)
    path.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def setup(app):
    # The theme adds the launch buttons at priority 501; run after it.
    app.connect("html-page-context", relative_lite_links, priority=900)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.connect("build-finished", write_report)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
