"""The whole book as one PDF, `_build/html/book.pdf`, printed by Chromium from the built site.

Route (why Chromium, not LaTeX): the site is already rendered to HTML from the executed
notebooks, MathJax is served locally from node_modules and Debian's Chromium is already
installed for the browser tests, so printing that HTML adds no package to install (TeX Live
from Debian would add several hundred MB: texlive-xetex, texlive-latex-extra, latexmk, fonts),
and the PDF shows exactly what the website shows, from the same executed notebooks.

As a Sphinx extension (named in _config.yml) it does two things:
- every page gets a "Download the book (PDF)" link in its header (the download menu, and a
  PDF icon button);
- once the HTML pages are written, it runs this file as a script, which prints the PDF when
  BOOK_PDF asks for it (see below).

As a script (`python _ext/book_pdf.py --html _build/html --source .`):
1. the article of every page of _toc.yml, in toc order, goes into one HTML document: ids are
   prefixed with the page's name and links between pages become links inside the document
   (Chromium keeps them as PDF link annotations); links out of the book stay web links;
2. a title page (title, authors, licence, how to cite, from CITATION.cff) and a table of
   contents come first; hidden content is shown (set-up cells, solutions: a printed book cannot
   click), code wraps instead of running off the page;
3. Chromium prints it to A4 with page numbers; MathJax (node_modules/mathjax) typesets the
   maths first. The book is printed once, with the contents' page numbers left blank: the page
   that each contents link points to (read with pypdf) gives them, and qpdf lays them over the
   contents pages from a print of those few pages that shows nothing else.
   The PDF is tagged (structure for screen readers), which gives it bookmarks: every page and
   section of the book, as in the website's navigation, titled with the headings' own text
   (qpdf replaces Chromium's titles, see outline_titles). A formula wider than the text is set
   smaller until it fits (the website scrolls it sideways; paper cannot).
Nothing is downloaded: every request is answered from _build/html or node_modules; any other
address is refused and reported.

When it prints (the printing takes about 35 s, more than the rest of a rebuild, so an edit
does not wait for it unless asked), set by BOOK_PDF in the environment:
- unset (`python3 dev.py build`): only when there is no book.pdf yet, so a first build gives
  the whole site; after an edit the earlier PDF is left and the build says it is out of date;
- BOOK_PDF=1 (`python3 dev.py build --pdf`, the tests, the publish workflow): whenever the
  pages or the PDF's own inputs (this file, book_pdf.css, CITATION.cff, _toc.yml) changed since
  the last PDF (their hash is in _build/.book-pdf.sha256);
- BOOK_PDF=0: never.
It runs beside the JupyterLite build and the coursework downloads (it starts as soon as the
HTML pages are written), and writes what it did to _build/.book-pdf.state ("current",
"stale" or "off") for dev.py's closing message. To print it even though nothing changed:
`.venv/bin/python _ext/book_pdf.py --html _build/html --source . --when always`.
"""
from __future__ import annotations

import argparse
import hashlib
import html as html_lib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

PDF_NAME = "book.pdf"
QPDF = "qpdf"   # Debian package qpdf: packs the printed PDF into compressed object streams
LINK_TEXT = "Download the book (PDF)"
HERE = Path(__file__).resolve().parent
CSS_FILE = HERE / "book_pdf.css"
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/"
ORIGIN = "http://book.local"
# Debian's chromium (these machines, .ci/run); on GitHub's ubuntu-latest image also
# chromium-browser or google-chrome; CHROMIUM=/path/to/browser overrides.
CHROMIUM = Path(os.environ.get("CHROMIUM") or next(
    (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))),
    "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]


# --- the Sphinx side ----------------------------------------------------------------------------

def add_pdf_buttons(app, pagename, templatename, context, doctree):
    """A link to the book's PDF in the header of every page (download menu + an icon button)."""
    buttons = context.get("header_buttons")
    if buttons is None:
        return
    url = context["pathto"](PDF_NAME, 1)
    for group in buttons:
        if group.get("label") == "download-buttons":
            for button in group["buttons"]:   # the theme's ".pdf" prints this one page: say so
                if button.get("label") == "download-pdf-button":
                    button["text"] = "Print this page (.pdf)"
            group["buttons"].insert(0, {"type": "link", "url": url, "text": LINK_TEXT, "tooltip": LINK_TEXT,
                                        "icon": "fas fa-book", "label": "download-book-pdf-button"})
    buttons.insert(0, {"type": "link", "url": url, "tooltip": LINK_TEXT, "icon": "fas fa-file-pdf",
                       "label": "book-pdf-button"})


STATE_FILE = ".book-pdf.state"   # in _build/, beside html/: current, stale or off
_printing: subprocess.Popen | None = None


def pdf_mode() -> str:
    """When to print (see the module's docstring): "missing", "changed" or "off"."""
    value = os.environ.get("BOOK_PDF", "")
    modes = {"": "missing", "1": "changed", "0": "off"}
    if value not in modes:
        raise ValueError(f"BOOK_PDF={value!r}: use 1 (print whenever a page changed), 0 (never), "
                         "or leave it unset (print only when there is no PDF yet)")
    return modes[value]


def start_pdf(app, exception):
    """Once the HTML pages are written, start printing (beside JupyterLite and the downloads)."""
    global _printing
    from sphinx.util import logging

    if exception is not None or app.builder.name != "html":
        return
    mode = pdf_mode()
    if mode == "off":
        logging.getLogger(__name__).info("BOOK_PDF=0: the book's PDF is not built")
        (Path(app.outdir).parent / STATE_FILE).write_text("off\n")
        return
    command = [sys.executable, str(Path(__file__).resolve()), "--html", str(app.outdir),
               "--source", str(app.srcdir), "--when", mode]
    logging.getLogger(__name__).info("building the book's PDF: " + " ".join(command))
    _printing = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish_pdf(app, exception):
    """The last step of the build: wait for the PDF and report (a failure is a build warning)."""
    global _printing
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    if _printing is None:
        return
    printing, _printing = _printing, None
    output, _ = printing.communicate()
    for line in output.splitlines():
        logger.info("  pdf: " + line)
    if printing.returncode != 0:
        last = (output.strip().splitlines() or [""])[-1]
        logger.warning(f"the book's PDF ({PDF_NAME}) was not built (exit {printing.returncode}): {last}")


def setup(app):
    app.connect("html-page-context", add_pdf_buttons, priority=901)   # after the theme's buttons
    # build-finished: start before the JupyterLite build and the downloads (priority 500), wait last
    app.connect("build-finished", start_pdf, priority=100)
    app.connect("build-finished", finish_pdf, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --- the book, in toc order ---------------------------------------------------------------------

def toc_entries(source: Path) -> list[tuple[str | None, str]]:
    """(part caption, docname) for every page of _toc.yml, in book order, read by the parser
    Jupyter Book itself uses (sphinx-external-toc). The tests walk the book with this too."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    site_map = parse_toc_yaml(source / "_toc.yml")
    entries: list[tuple[str | None, str]] = []

    def walk(docname: str, caption: str | None) -> None:
        entries.append((caption, docname))
        for tree in site_map[docname].subtrees:
            for item in tree.items:
                if isinstance(item, str):   # a page (globs and URLs are not pages of the book)
                    walk(item, tree.caption if docname == site_map.root.docname else caption)

    walk(site_map.root.docname, None)
    return entries


def slug(docname: str) -> str:
    return "p-" + re.sub(r"[^A-Za-z0-9_-]", "-", docname)


def citation(source: Path) -> dict:
    import yaml

    path = source / "CITATION.cff"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}


def input_hash(html_dir: Path, source: Path, entries) -> str:
    digest = hashlib.sha256()
    for extra in (Path(__file__).resolve(), CSS_FILE, source / "CITATION.cff", source / "_toc.yml"):
        if extra.exists():
            digest.update(extra.read_bytes())
    for _, doc in entries:
        page = html_dir / f"{doc}.html"
        digest.update(page.read_bytes() if page.exists() else b"-")
        for src in re.findall(rb'src="([^"]+\.(?:png|jpg|jpeg|svg|gif))"', page.read_bytes() if page.exists() else b""):
            target = (page.parent / unquote(src.decode())).resolve()
            if target.is_file():
                digest.update(target.read_bytes())
    return digest.hexdigest()


# --- one HTML document ------------------------------------------------------------------------

def compose(html_dir: Path, source: Path, entries) -> tuple[str, list[str]]:
    """The book as one HTML page, and the ids of its table-of-contents targets."""
    from bs4 import BeautifulSoup

    page_of = {f"{doc}.html": slug(doc) for _, doc in entries}
    head_links: list[str] = []
    mathjax_config = ""
    sections: list[str] = []
    contents: list[tuple[str | None, str, str]] = []   # (part, title, anchor)
    title = "Book"
    for index, (part, doc) in enumerate(entries):
        page_path = f"{doc}.html"
        text = (html_dir / page_path).read_text(encoding="utf-8")
        if index > 0:   # only the article is used: parsing the rest (navigation, header) costs seconds
            start, end = text.find('<article class="bd-article"'), text.rfind("</article>")
            if start >= 0 and end > start:
                text = text[start:end + len("</article>")]
        soup = BeautifulSoup(text, "html.parser")
        page_dir = posixpath.dirname(page_path)
        if index == 0:
            for link in soup.find_all("link", rel="stylesheet"):
                href = urlsplit(link.get("href", "")).path
                target = posixpath.normpath(posixpath.join(page_dir, href))
                if not href or "://" in link.get("href", "") or target.endswith("print.css"):
                    continue
                head_links.append(f'<link rel="stylesheet" href="/{target}">')
            for script in soup.find_all("script"):
                if script.string and "window.MathJax" in script.string:
                    mathjax_config = script.string
            title = (soup.title.string or title).split("—")[0].strip() if soup.title else title
        article = soup.select_one("article.bd-article")
        if article is None:
            raise SystemExit(f"{page_path}: no <article class='bd-article'> (has the theme changed?)")
        prefix = slug(doc)
        # one pass over the article's elements (three CSS selects and four searches took 4x longer)
        for element in article.find_all(True):
            if element.decomposed:   # inside an element removed earlier in this pass
                continue
            name, classes = element.name, element.get("class") or []
            parent_classes = (element.parent.get("class") or []) if element.parent else []
            if (name in ("script", "button", "summary") or "toggle-button" in classes
                    or (name == "a" and "headerlink" in classes) or element.get("id") == "searchbox"
                    or (name == "input" and "sd-tab-set" in parent_classes)):
                element.decompose()   # controls and anchors a printed page cannot use
                continue
            if name == "details":
                element["open"] = ""   # hidden content is shown: a printed book cannot click
            if "toggle-hidden" in classes:
                element["class"] = [c for c in classes if c != "toggle-hidden"]
            if element.get("id"):
                element["id"] = f"{prefix}--{element['id']}"
            if name == "a" and element.get("href") is not None:
                href = element["href"]
                parts = urlsplit(href)
                if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:", "data:")):
                    continue
                target = page_path if not parts.path else posixpath.normpath(posixpath.join(page_dir, unquote(parts.path)))
                if target in page_of:
                    fragment = unquote(parts.fragment)
                    element["href"] = f"#{page_of[target]}--{fragment}" if fragment else f"#{page_of[target]}"
                else:   # a file of the site that is not a page of the book (downloads, index): plain text
                    element.unwrap()
            elif name == "img" and element.get("src") is not None:
                src = element["src"]
                if "://" not in src and not src.startswith("data:"):
                    element["src"] = "/" + posixpath.normpath(posixpath.join(page_dir, unquote(src)))
                element["loading"] = "eager"
        heading = article.find("h1")
        page_title = " ".join(heading.get_text(" ").split()) if heading else doc
        contents.append((part, page_title, prefix))
        body = article.decode_contents()
        for emoji, glyph in (("\u2705", "\u2713"), ("\u274c", "\u2717")):   # no colour-emoji font: ✓ and ✗
            body = body.replace(emoji, glyph)
        sections.append(f'<section class="pdf-page" id="{prefix}">\n{body}\n</section>')

    info = citation(source)
    authors = ", ".join(a.get("name") or " ".join(filter(None, [a.get("given-names"), a.get("family-names")]))
                        for a in info.get("authors", [])) or "The authors"
    year = str(info.get("date-released", ""))[:4]
    repo = info.get("repository-code", "")
    version = info.get("version", "")
    cite = (f"{authors} ({year}). <em>{html_lib.escape(title)}</em>"
            + (f" (version {html_lib.escape(str(version))})" if version else "") + "."
            + (f' <a href="{html_lib.escape(repo)}">{html_lib.escape(repo)}</a>' if repo else ""))
    title_page = f"""
<section class="pdf-title-page">
  <h1 class="pdf-book-title">{html_lib.escape(title)}</h1>
  <p class="pdf-subtitle">{html_lib.escape(" ".join(str(info.get("abstract", "")).split()))}</p>
  <p class="pdf-authors">{html_lib.escape(authors)}{f" · {year}" if year else ""}</p>
  <div class="pdf-colophon">
    <p><strong>Licence.</strong> Text and figures: Creative Commons Attribution 4.0 International
    (CC BY 4.0). Code: MIT licence. See the LICENSE file of the repository.</p>
    <p><strong>How to cite.</strong> {cite}</p>
    <p>This PDF is printed from the book's website, built from the same executed notebooks.
    Solutions to the exercises, hidden behind a click on the website, are shown here right
    after each exercise; so are the set-up code cells.</p>
  </div>
</section>"""
    rows, last_part = [], object()
    for part, page_title, anchor in contents:
        if part != last_part and part:
            rows.append(f'<li class="pdf-toc-part">{html_lib.escape(part)}</li>')
        last_part = part
        number = "000"   # a hidden placeholder: the number is laid over it after the print
        rows.append(f'<li class="pdf-toc-entry"><a href="#{anchor}"><span class="pdf-toc-title">'
                    f'{html_lib.escape(page_title)}</span><span class="pdf-toc-dots"></span>'
                    f'<span class="pdf-toc-page">{number}</span></a></li>')
    toc = f'<section class="pdf-toc"><h1>Contents</h1><ul>{"".join(rows)}</ul></section>'
    css = CSS_FILE.read_text(encoding="utf-8")
    document = f"""<!DOCTYPE html>
<html lang="en" data-theme="light" data-mode="light">
<head>
<meta charset="utf-8">
<title>{html_lib.escape(title)}</title>
{chr(10).join(head_links)}
<style>{css}</style>
<script>{mathjax_config}</script>
<script defer src="{MATHJAX_CDN}es5/tex-mml-chtml.js"></script>
</head>
<body>
<div class="bd-container"><div class="bd-main"><div class="bd-content"><div class="bd-article-container">
<article class="bd-article pdf-book">
{title_page}
{toc}
{chr(10).join(sections)}
</article>
</div></div></div></div>
</body>
</html>
"""
    return document, [anchor for _, _, anchor in contents]


# --- printing ---------------------------------------------------------------------------------

MARGIN = "16mm"   # left and right: 210 mm - 2 x 16 mm = 178 mm of text width
PAGE_MARGINS = {"top": "16mm", "bottom": "16mm", "left": MARGIN, "right": MARGIN}
FOOTER = ('<div style="width:100%;font-size:8px;color:#444;text-align:center;'
          'font-family:DejaVu Sans,sans-serif;"><span class="pageNumber"></span></div>')


# The text of each heading of the book, in document order; a typeset formula as \(TeX\).
HEADINGS = r"""() => {
  const tex = new Map(MathJax.startup.document.getMathItemsWithin(document.body)
                        .map(item => [item.typesetRoot, item.math]));
  const textOf = node => [...node.childNodes].map(child =>
      child.nodeType === Node.TEXT_NODE ? child.textContent
      : tex.has(child) ? '\\(' + tex.get(child) + '\\)'
      : child.nodeType === Node.ELEMENT_NODE && !child.classList.contains('headerlink') ? textOf(child)
      : '').join('');
  return [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(textOf);
}"""
# TeX in a heading, as bookmark text. A command not listed stops the PDF step with its name,
# rather than printing it as a word ("\alpha" -> "alpha"): add it here.
TEX_SYMBOLS = {r"\sigma": "σ", r"\theta": "θ", r"\alpha": "α", r"\beta": "β", r"\lambda": "λ",
               r"\infty": "∞", r"\cdot": "·", r"\times": "×", r"\in": "∈", r"\leq": "≤", r"\le": "≤",
               r"\geq": "≥", r"\ge": "≥", r"\approx": "≈", r"\neq": "≠", r"\log": "log", r"\ln": "ln",
               r"\exp": "exp", r"\ell": "ℓ", r"\sum": "Σ", r"\prod": "Π",
               r"\mathrm": "", r"\text": "", r"\mathbf": "", r"\operatorname": "", r"\mathbb": "",
               r"\left": "", r"\right": "", r"\,": " ", r"\;": " ", r"\quad": " ",
               r"\%": "%"}
TEX_ACCENTS = {r"\hat": "\u0302", r"\bar": "\u0304", r"\tilde": "\u0303"}   # combining characters


def plain_title(text: str) -> str:
    r"""A heading as a bookmark title: plain text, a formula's TeX turned into its characters
    (\(w = 0\) -> w = 0, \(\hat y\) -> ŷ, \(-1\) -> −1). Raises ValueError on TeX it cannot
    turn into text."""
    def formula(match: re.Match) -> str:
        tex = match.group(1).replace(r"\{", "\x01").replace(r"\}", "\x02")   # braces to show
        # an accent over one letter or one command: \hat y, \hat{y}, \hat\sigma, \hat{\theta}
        tex = re.sub(r"(\\(?:hat|bar|tilde))\s*(?:\{(\\?\w+)\}|(\\[a-zA-Z]+|\w))",
                     lambda m: (m.group(2) or m.group(3)) + TEX_ACCENTS[m.group(1)], tex)
        commands = re.compile(r"\\[a-zA-Z]+|\\[^a-zA-Z]")
        unknown = sorted(set(commands.findall(tex)) - set(TEX_SYMBOLS))
        if unknown:
            raise ValueError(f"the heading {text!r} has TeX with no plain text for it here: {unknown} "
                             "(add it to TEX_SYMBOLS in _ext/book_pdf.py)")
        tex = commands.sub(lambda m: TEX_SYMBOLS[m.group(0)], tex)
        tex = tex.replace("{", "").replace("}", "").replace("\x01", "{").replace("\x02", "}")
        return tex.replace("-", "−")
    return unicodedata.normalize("NFC", " ".join(re.sub(r"\\\((.+?)\\\)", formula, text, flags=re.S).split()))


class Printer:
    """The book loaded once in Chromium (maths typeset), printed as often as needed."""

    def __init__(self, browser, document: str, html_dir: Path, mathjax: Path):
        self.problems: list[str] = []
        # the viewport is as wide as the printed text (A4 minus margins: 178 mm = 673 CSS px), so
        # that what is measured on screen below is what is printed
        self.page = browser.new_page(viewport={"width": 673, "height": 1000})
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)

        def answer(route):
            url = route.request.url
            if url.startswith(MATHJAX_CDN):
                path = mathjax / urlsplit(url[len(MATHJAX_CDN):]).path
            elif url.startswith(ORIGIN + "/"):
                local = unquote(urlsplit(url).path).lstrip("/")
                if local == "book.html":
                    return route.fulfill(status=200, content_type="text/html; charset=utf-8", body=document)
                path = html_dir / local
            else:
                self.problems.append(f"refused a request outside the book: {url}")
                return route.abort()
            if not path.is_file():
                self.problems.append(f"not found: {url}")
                return route.fulfill(status=404, body="")
            return route.fulfill(path=str(path))

        started = time.perf_counter()
        self.page.route("**/*", answer)
        self.page.emulate_media(media="print")
        self.page.goto(f"{ORIGIN}/book.html", wait_until="load", timeout=300_000)
        self.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                    timeout=300_000)
        self.page.evaluate("() => MathJax.startup.promise")
        self.page.evaluate("() => document.fonts.ready.then(() => true)")
        # A formula wider than the text (a long sympy result scrolls sideways on the website) is
        # set in a smaller size until it fits the page; the smallest scale is reported.
        self.shrunk = self.page.evaluate("""() => {
            const scales = [];
            const page = document.querySelector('article').getBoundingClientRect();
            for (const box of document.querySelectorAll('mjx-container')) {
                const math = box.querySelector('mjx-math');
                const room = Math.min(box.parentElement.getBoundingClientRect().width, page.width);
                const wide = math ? math.getBoundingClientRect().width : 0;
                if (wide > room && room > 0) {
                    const scale = Math.max(0.97 * room / wide, 0.35);
                    box.style.fontSize = (100 * scale).toFixed(1) + '%';
                    scales.push(scale);
                }
            }
            return scales;
        }""")
        if self.shrunk:
            print(f"{len(self.shrunk)} wide formula(s) set smaller to fit the page "
                  f"(smallest at {100 * min(self.shrunk):.0f} %)")
        # every heading's text as the reader sees it, a formula as its TeX (for the bookmarks)
        self.headings = self.page.evaluate(HEADINGS)
        errors = self.page.evaluate("() => document.querySelectorAll('mjx-merror').length")
        if errors:
            self.problems.append(f"MathJax could not typeset {errors} formula(s)")
        print(f"loaded and typeset in {time.perf_counter() - started:.1f} s")

    def pdf(self) -> bytes:
        """The whole book: the contents' page numbers are left blank (hidden placeholders of
        the same width), because they are only known from this print (see numbers_overlay)."""
        started = time.perf_counter()
        pdf = self.page.pdf(format="A4", print_background=True, display_header_footer=True,
                            header_template="<div></div>", footer_template=FOOTER,
                            outline=True, tagged=True,   # bookmarks (Chromium needs a tagged PDF for them)
                            margin=PAGE_MARGINS)
        print(f"printed {len(pdf) / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
        return pdf

    def numbers_overlay(self, numbers: dict[str, int], front_pages: int) -> bytes:
        """The first `front_pages` pages again (title page and contents), showing nothing but the
        contents' page numbers, at the very places their hidden placeholders take: qpdf lays these
        pages over the book's, so the book is printed once, not twice. The numbers (1 to 3
        digits) fit in the placeholders' fixed width, so nothing moves. The chapters are removed
        first (the last use of the page): each starts on a new page, so the front pages lay out
        as before (the same pixels), and printing them takes 0.1 s instead of 6 s."""
        self.page.evaluate("""numbers => {
            document.querySelectorAll('section.pdf-page').forEach(chapter => chapter.remove());
            for (const entry of document.querySelectorAll('.pdf-toc-entry a')) {
                const anchor = entry.getAttribute('href').slice(1);
                entry.querySelector('.pdf-toc-page').textContent = String(numbers[anchor] ?? '');
            }
            const style = document.createElement('style');
            style.textContent = '* { visibility: hidden !important; } ' +
                                '.pdf-toc .pdf-toc-page { visibility: visible !important; }';
            document.head.appendChild(style);
        }""", numbers)
        return self.page.pdf(format="A4", print_background=False, display_header_footer=False,
                             margin=PAGE_MARGINS, page_ranges=f"1-{front_pages}")


def link_pages(pdf: bytes, anchors: list[str]) -> dict[str, int]:
    """For each contents anchor, the page number (1-based) its link in the PDF points to."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    page_index = {page.indirect_reference.idnum: number for number, page in enumerate(reader.pages)}
    named = reader.named_destinations
    found: dict[str, int] = {}
    for name, destination in named.items():
        key = name.lstrip("/")
        if key in anchors:
            page = destination.page
            idnum = page.idnum if hasattr(page, "idnum") else getattr(page, "indirect_reference", page).idnum
            found[key] = page_index[idnum] + 1
    return found


def _qpdf_json(value):
    """A pypdf object as qpdf's JSON (version 2) writes it."""
    from pypdf.generic import (ArrayObject, BooleanObject, DictionaryObject, IndirectObject, NameObject,
                               NullObject, NumberObject, FloatObject, TextStringObject, ByteStringObject)
    if isinstance(value, IndirectObject):
        return f"{value.idnum} {value.generation} R"
    if isinstance(value, DictionaryObject):
        return {str(key): _qpdf_json(item) for key, item in value.items()}
    if isinstance(value, ArrayObject):
        return [_qpdf_json(item) for item in value]
    if isinstance(value, NameObject):
        return str(value)
    if isinstance(value, TextStringObject):
        return "u:" + str(value)
    if isinstance(value, ByteStringObject):
        return "b:" + bytes(value).hex()
    if isinstance(value, BooleanObject):
        return value.value   # (bool() of a BooleanObject is always True)
    if isinstance(value, NullObject):
        return None
    if isinstance(value, NumberObject):
        return int(value)
    if isinstance(value, FloatObject):   # JSON's 1e-05 is no PDF number: round to what PDF writes
        if abs(value) >= 1e9:
            raise ValueError(f"no plain PDF number for {float(value)!r}")
        return round(float(value), 5)
    raise TypeError(f"no qpdf JSON for {type(value).__name__}")


def bookmarks_of(reader) -> list[tuple]:
    """Every bookmark of a PDF (a pypdf reader) as (reference, item), depth first: an item,
    its children, then its next sibling (the order of the headings they stand for)."""
    outlines = reader.trailer["/Root"].get("/Outlines")
    items, seen = [], set()
    pending = [outlines.get_object().get("/First") if outlines is not None else None]
    while pending:
        reference = pending.pop()
        if reference is None or reference.idnum in seen:   # (a loop would never end)
            continue
        seen.add(reference.idnum)
        item = reference.get_object()
        items.append((reference, item))
        pending += [item.get("/Next"), item.get("/First")]
    return items


def outline_titles(pdf: bytes, headings: list[str]) -> tuple[dict, list[str]]:
    """qpdf's --update-from-json input that gives the PDF's bookmarks the headings' own text.
    Chromium names each bookmark after the text of its heading as laid out, which is not
    always the heading: a heading kept with a table or box below it comes out twice
    ("ExercisesExercises"), the space where a long heading wraps is lost, and a formula is
    left out. Its bookmarks follow the book's headings one for one, in document order: checked
    by their number and by the start of each title. Returns the update and the new titles."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    items = bookmarks_of(reader)
    if len(items) != len(headings):
        raise ValueError(f"the PDF has {len(items)} bookmarks for the book's {len(headings)} headings")
    titles = [plain_title(heading) for heading in headings]
    for (_, item), heading in zip(items, headings):
        # Chromium's title leaves formulas out and may repeat itself: compare the start, no spaces
        expected = re.sub(r"\s+", "", re.sub(r"\\\(.+?\\\)", "", heading, flags=re.S))[:20]
        if not re.sub(r"\s+", "", str(item.get("/Title", ""))).startswith(expected):
            raise ValueError(f"the bookmark {str(item.get('/Title'))!r} is not the heading {heading!r}: "
                             "the bookmarks do not follow the headings one for one")
    objects = {}
    for (reference, item), title in zip(items, titles):
        value = _qpdf_json(item)
        value["/Title"] = "u:" + title
        objects[f"obj:{reference.idnum} {reference.generation} R"] = {"value": value}
    return {"qpdf": [{"jsonversion": 2, "pushedinheritedpageresources": False, "calledgetallpages": False,
                      "maxobjectid": int(reader.trailer["/Size"]) - 1},
                     objects]}, titles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the built book to one PDF.")
    parser.add_argument("--html", type=Path, required=True, help="the built site (_build/html)")
    parser.add_argument("--source", type=Path, required=True, help="the book's folder (_toc.yml)")
    parser.add_argument("--when", choices=["missing", "changed", "always"], default="changed",
                        help="print only if there is no PDF yet, if a page changed since the last PDF "
                             "(default), or always")
    args = parser.parse_args(argv)
    html_dir, source = args.html.resolve(), args.source.resolve()
    out = html_dir / PDF_NAME
    stamp = html_dir.parent / ".book-pdf.sha256"
    state = html_dir.parent / STATE_FILE
    entries = toc_entries(source)
    wanted = input_hash(html_dir, source, entries)
    current = out.exists() and stamp.exists() and stamp.read_text().strip() == wanted
    if out.exists() and (current or args.when == "missing") and args.when != "always":
        state.write_text("current\n" if current else "stale\n")
        if current:
            print(f"{out} is up to date ({out.stat().st_size / 1e6:.1f} MB)")
        else:
            print(f"{out} is from an earlier build: pages changed since, and it was not printed "
                  "again (about 35 s); `python3 dev.py build --pdf` does")
        return 0
    state.unlink(missing_ok=True)
    mathjax = source / "node_modules" / "mathjax"
    if not (mathjax / "es5" / "tex-mml-chtml.js").is_file():
        print(f"MathJax is missing ({mathjax}): run `python3 dev.py setup` (npm ci)", file=sys.stderr)
        return 2
    if shutil.which(QPDF) is None:
        print(f"qpdf is missing: sudo apt-get install -y qpdf", file=sys.stderr)
        return 2
    if not CHROMIUM.exists():
        print(f"Chromium is missing ({CHROMIUM}): sudo apt-get install -y chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    start = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            document, anchors = compose(html_dir, source, entries)
            printer = Printer(browser, document, html_dir, mathjax)
            pdf = printer.pdf()
            numbers = link_pages(pdf, anchors)
            missing = [a for a in anchors if a not in numbers]
            if missing:
                print(f"no PDF destination for {missing}", file=sys.stderr)
                return 1
            front_pages = numbers[anchors[0]] - 1   # the title page and the contents
            try:
                bookmarks, titles = outline_titles(pdf, printer.headings)
            except ValueError as error:
                print(f"the PDF's bookmarks: {error}", file=sys.stderr)
                return 1
            overlay = printer.numbers_overlay(numbers, front_pages)
        finally:
            browser.close()
    if printer.problems:
        print("problems while printing:\n  " + "\n  ".join(printer.problems[:20]), file=sys.stderr)
        return 1
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    # Chromium writes each object of the (tagged) PDF on its own, uncompressed: qpdf packs them
    # into compressed object streams, which more than halves the file without touching a page
    # (recompressing the images too would save 4 % more and cost 5 s), and lays the contents'
    # page numbers over the front pages.
    printed, numbers_pdf = out.with_suffix(".printed.pdf"), out.with_suffix(".numbers.pdf")
    update = out.with_suffix(".bookmarks.json")
    printed.write_bytes(pdf)
    numbers_pdf.write_bytes(overlay)
    update.write_text(json.dumps(bookmarks), encoding="utf-8")
    try:
        subprocess.run([QPDF, "--object-streams=generate", str(printed), f"--update-from-json={update}",
                        "--overlay", str(numbers_pdf), f"--from=1-{front_pages}", f"--to=1-{front_pages}", "--",
                        str(out)], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as error:
        print(f"qpdf could not compact the PDF: {error.stderr.strip()}", file=sys.stderr)
        return 1
    finally:
        printed.unlink()
        numbers_pdf.unlink()
        update.unlink()
    # qpdf 11.3 skips an update silently in some PDFs (the first object, when the input has object
    # streams; Chromium writes none): read the titles back
    from pypdf import PdfReader

    written = [str(item.get("/Title", "")) for _, item in bookmarks_of(PdfReader(out))]
    if written != titles:
        wrong = next(i for i, (a, b) in enumerate(zip(written + [""] * len(titles), titles)) if a != b)
        print(f"the PDF's bookmarks were not retitled: bookmark {wrong + 1} is {written[wrong:wrong + 1]}, "
              f"not {titles[wrong]!r}", file=sys.stderr)
        return 1
    stamp.write_text(wanted + "\n")
    state.write_text("current\n")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {pages} pages; {len(pdf) / 1e6:.1f} MB as printed) "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
