"""Internal links of the built site: a crawler from the landing page follows every link that
stays on the site and checks that its page exists and, for `page.html#anchor`, that the anchor
does too. Links into the JupyterLite app (lite/) are checked to exist, not crawled (an app).
Uses the run's one shared build (tests/sitebuild.py); needs no browser.
"""
from __future__ import annotations

import json
import posixpath
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import pytest

from book import chapter_notebooks, toc_entries
from sitebuild import HTML, build_site_once


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            value = attrs.get(key)
            if value and not (tag == "link" and attrs.get("rel") in ("preconnect", "dns-prefetch")):
                self.links.append(value)


def parse(path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


@pytest.fixture(scope="module")
def site():
    build = build_site_once()
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    return HTML


def test_no_broken_internal_link_or_anchor(site):
    assert (site / "index.html").is_file()   # a redirect to the landing page
    start = f"{toc_entries()[0]}.html"
    queue, seen, parsed, broken = [start], {start}, {}, []
    checked = 0
    while queue:
        page = queue.pop()
        parsed[page] = parsed.get(page) or parse(site / page)
        for link in parsed[page].links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path))) \
                if parts.path else page
            checked += 1
            if target.startswith("..") or not (site / target).is_file():
                broken.append(f"{page}: {link} (no file {target})")
                continue
            if target.endswith(".html") and not target.startswith("lite/"):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
                if parts.fragment:
                    parsed[target] = parsed.get(target) or parse(site / target)
                    if unquote(parts.fragment) not in parsed[target].ids:
                        broken.append(f"{page}: {link} (no anchor #{parts.fragment} in {target})")
    assert not broken, "\n".join(broken[:50])
    # the crawl reached every page of the book
    missing = [entry for entry in toc_entries() if f"{entry}.html" not in seen]
    assert not missing, missing
    assert checked > 1000, checked


def test_the_lite_site_lists_every_chapter_notebook(site):
    """The JupyterLite file browser shows what its contents API lists: every chapter notebook."""
    listing = json.loads((site / "lite" / "api" / "contents" / "chapters" / "all.json").read_text(encoding="utf-8"))
    names = {item["name"] for item in listing["content"]}
    for notebook in chapter_notebooks():
        assert notebook.name in names, f"{notebook.name} is not listed in the JupyterLite site"
        assert (site / "lite" / "files" / "chapters" / notebook.name).is_file()


def test_the_lite_site_is_offline_and_small(site):
    """Built from the pip packages (no download at build time), trimmed (no source maps)."""
    lite = site / "lite"
    files = [p for p in lite.rglob("*") if p.is_file()]
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    print(f"\nJupyterLite site: {size_mb:.1f} MB in {len(files)} files")
    assert not [p for p in files if p.suffix == ".map"], "source maps were not trimmed"
    assert size_mb < 40, f"the JupyterLite site is {size_mb:.1f} MB"
    config = json.loads((lite / "jupyter-lite.json").read_text(encoding="utf-8"))
    federated = [ext["name"] for ext in config["jupyter-config-data"].get("federated_extensions", [])]
    assert "@jupyterlite/pyodide-kernel-extension" in federated, federated
