"""Make the theme's "JupyterLite" launch button work from every page.

sphinx-book-theme builds the button from `launch_buttons: jupyterlite_url` in _config.yml
and uses that URL verbatim on every page, so a site-relative value ("lite/lab/index.html")
would be wrong on pages in sub-folders (chapters/...). This extension rewrites it, after the
theme has added its buttons, into a link relative to the page being written, so the in-browser
notebooks work wherever the site is published (GitHub Pages, a sub-folder, a local folder).

It also drops the Google Fonts stylesheet that jupyterlite-sphinx adds to every page for its
own directives (not used here): readers' browsers should not contact a third party for it.
"""
from __future__ import annotations

LABEL = "JupyterLite"
THIRD_PARTY_CSS = "https://fonts.googleapis.com/"


def drop_third_party_css(app):
    app.registry.css_files = [(name, attrs) for name, attrs in app.registry.css_files
                              if not str(name).startswith(THIRD_PARTY_CSS)]
    if hasattr(app.builder, "css_files"):
        app.builder.css_files = [css for css in app.builder.css_files
                                 if not str(getattr(css, "filename", css)).startswith(THIRD_PARTY_CSS)]


def relative_lite_links(app, pagename, templatename, context, doctree):
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            url = button.get("url", "")
            if button.get("text") != LABEL or "://" in url or url.startswith("/"):
                continue
            target, _, query = url.partition("?")
            button["url"] = context["pathto"](target, 1) + (f"?{query}" if query else "")
            button["text"] = "JupyterLite (run in the browser)"
            button["tooltip"] = "Run this notebook in your browser (Python via Pyodide, no server)"


def setup(app):
    app.connect("builder-inited", drop_third_party_css)
    # The theme adds the launch buttons at priority 501; run after it.
    app.connect("html-page-context", relative_lite_links, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
