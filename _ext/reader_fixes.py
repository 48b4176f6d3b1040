"""Small fixes to what readers' browsers get, found by the browser tests (tests/site/test_browser.py).

1. The JupyterLite launch button. sphinx-book-theme builds it from `launch_buttons:
   jupyterlite_url` in _config.yml and uses that URL verbatim on every page, so a site-relative
   value ("lite/lab/index.html") would be wrong on pages in sub-folders (chapters/...). It is
   rewritten here, after the theme has added its buttons, into a link relative to the page, so
   the in-browser notebooks work wherever the site is published.
2. jupyterlite-sphinx adds a Google Fonts stylesheet to every page for its own directives (not
   used here): dropped, so that no page makes readers' browsers contact a third party.
3. sphinx-thebe's inline configuration script ends up twice in every page, and the second copy
   throws "Identifier 'THEBE_JS_URL' has already been declared" in the console: identical
   scripts are written once.
"""
from __future__ import annotations

LITE_LABEL = "JupyterLite"
THIRD_PARTY_CSS = "https://fonts.googleapis.com/"


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
            button["text"] = "JupyterLite (run in the browser)"
            button["tooltip"] = "Run this notebook in your browser (Python via Pyodide, no server)"


def drop_third_party_css(app):
    app.registry.css_files = [(name, attrs) for name, attrs in app.registry.css_files
                              if not str(name).startswith(THIRD_PARTY_CSS)]
    if hasattr(app.builder, "init_css_files"):   # HTML builders read the list when they start
        app.builder.init_css_files()


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("builder-inited", drop_third_party_css)
    # The theme adds the launch buttons at priority 501; run after it.
    app.connect("html-page-context", relative_lite_links, priority=900)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
