"""No page asks readers' browsers for a font from Google.

Upstream: jupyterlite-sphinx (0.23.0, pinned) adds `https://fonts.googleapis.com/css?family=Vibur`
to every page, for the "Try it" buttons of its own directives, which this book does not use
(`setup()` in jupyterlite_sphinx/jupyterlite_sphinx.py; no upstream issue found). Every page would
then contact a third party and, offline, fail a request. The fix drops that stylesheet from the
builder's list when the build starts. tests/static/test_extensions.py fails when the pinned
jupyterlite-sphinx no longer adds it (then delete this file and its line in _config.yml); the
browser tests fail if any page requests anything outside the site.
"""
from __future__ import annotations

THIRD_PARTY_CSS = "https://fonts.googleapis.com/"


def drop_third_party_css(app):
    app.registry.css_files = [(name, attrs) for name, attrs in app.registry.css_files
                              if not str(name).startswith(THIRD_PARTY_CSS)]
    if hasattr(app.builder, "init_css_files"):   # HTML builders read the list when they start
        app.builder.init_css_files()


def setup(app):
    app.connect("builder-inited", drop_third_party_css)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
