"""The whole book as one PDF (_build/html/book.pdf), printed by the site build (_ext/book_pdf.py).

Uses the run's one shared site build (tests/sitebuild.py): the PDF is printed by that build
(BOOK_PDF=1), so this module adds no build of its own, only the reading of the PDF (pdftotext,
pdftohtml, pdffonts, pdfimages from poppler-utils; pypdf). Each test names what it would catch.
"""
from __future__ import annotations

import html
import re
import shutil
import subprocess

import pytest

from book import ROOT, cell_source, load, source_path, toc_entries
from book_pdf import plain_title
from sitebuild import HTML, build_site_once

PDF = HTML / "book.pdf"
LINK_TEXT = "Download the book (PDF)"
# TeX that would show if MathJax had not typeset a formula
RAW_TEX = re.compile(r"\$\$|\\(frac|dfrac|hat|log|sum|prod|mathrm|mathbb|begin|end|left|right|sigma|"
                     r"theta|cdot|mid|sqrt|partial|Lambda|infty)\b|\\\(|\\\)|\\\[|\\\]")
POPPLER = all(shutil.which(tool) for tool in ("pdftotext", "pdftohtml", "pdffonts", "pdfimages"))


@pytest.fixture(scope="module")
def pdf():
    build = build_site_once()
    if build.returncode != 0:
        pytest.fail("the site did not build:\n" + (build.stdout + build.stderr)[-3000:], pytrace=False)
    assert PDF.is_file(), "the build made no book.pdf (see _ext/book_pdf.py in the build log)"
    state = (HTML.parent / ".book-pdf.state").read_text().strip()
    assert state == "current", f"book.pdf is {state!r}, not printed from this build's pages (BOOK_PDF=1?)"
    if not POPPLER:
        pytest.fail("pdftotext/pdftohtml/pdffonts/pdfimages are missing: apt-get install -y poppler-utils",
                    pytrace=False)
    return PDF


@pytest.fixture(scope="module")
def pages(pdf) -> list[str]:
    """The text of each page (pdftotext), whitespace collapsed."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [" ".join(page.split()) for page in text.split("\f")][:-1]   # the text ends with a form feed


def source_markdown(entry: str) -> str:
    """The page's markdown as its source writes it (a notebook's markdown cells, joined)."""
    path = source_path(entry)
    if path.suffix == ".ipynb":
        return "\n".join(cell_source(c) for c in load(path)["cells"] if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def page_title(entry: str) -> str:
    """The page's title as its source writes it: the first `# ` heading."""
    heading = re.search(r"^# (.+)$", source_markdown(entry), re.MULTILINE).group(1)
    return " ".join(re.sub(r"[*_`]", "", heading).split())


def test_size_and_page_count(pdf, pages):
    size_mb = pdf.stat().st_size / 1e6
    print(f"\nbook.pdf: {size_mb:.1f} MB, {len(pages)} pages")
    assert size_mb <= 15, f"the PDF is {size_mb:.1f} MB (limit 15 MB)"
    # ~150 pages today; far fewer means pages went missing, far more that something repeats
    assert 60 <= len(pages) <= 600, len(pages)


def test_every_page_of_the_book_in_toc_order_with_its_contents_page_number(pages):
    """Each title of _toc.yml is listed in the contents with a page number, and that page (in toc
    order, numbers increasing) starts with that title."""
    contents = next(i for i, page in enumerate(pages[:5]) if page.startswith("Contents"))
    listing = " ".join(pages[contents:contents + 2])
    previous = 0
    for entry in toc_entries():
        title = page_title(entry)
        match = re.search(re.escape(title) + r"[ .]*(\d+)", listing)
        assert match, f"{title!r} ({entry}) is not in the contents"
        number = int(match.group(1))
        assert number > previous, f"{title!r} is on page {number}, before the page before it ({previous})"
        # a title that wraps at its hyphen ("multi-" / "label") comes out of pdftotext as one
        # word ("multilabel"): compare without hyphens and spaces
        squeezed = re.sub(r"[-\s]+", "", title)
        assert squeezed in re.sub(r"[-\s]+", "", pages[number - 1][:len(title) + 200]), \
            f"page {number} does not start with {title!r}: {pages[number - 1][:200]!r}"
        previous = number


def headings(entry: str) -> list[str]:
    """The page's headings (#, ##, ###) as its source writes them."""
    return re.findall(r"^#{1,3} (.+)$", source_markdown(entry), re.MULTILINE)


def test_tagged_with_a_bookmark_for_every_page_and_section(pdf, pages):
    """The PDF is tagged (structure for screen readers) and its bookmarks are the book's
    headings: every page of _toc.yml at the top level, in toc order, titled as the page is and
    pointing at the page where it starts, its sections below it. Catches Chromium's own titles
    coming back (a heading doubled, "ExercisesExercises"; a space lost where a page's title
    wraps; a formula left out, "the special case : one") and TeX left in a title."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    catalog = reader.trailer["/Root"]
    marked = catalog.get("/MarkInfo", {}).get("/Marked")
    assert marked is not None and marked.value is True and "/StructTreeRoot" in catalog, "the PDF is not tagged"
    found = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item) + 1))
    walk(reader.outline, 0)
    assert len(found) > 2 * len(toc_entries()), f"only {len(found)} bookmarks"
    bad = [title for _, title, _ in found
           if re.search(r"\\\(|\$|\s\s", title) or title[:len(title) // 2] * 2 == title or title != title.strip()]
    assert not bad, f"bookmark titles that are not the headings' text: {bad}"
    # every heading with a formula in it, with the formula as text ("... case w = 0: one ...")
    straight = str.maketrans("‘’“”", "''\"\"")   # Sphinx sets the source's quotes as curly ones
    titles = {title.translate(straight) for _, title, _ in found}
    with_maths = [plain_title(re.sub(r"\$(.+?)\$", r"\\(\1\\)", re.sub(r"[*`]", "", heading)))
                  for entry in toc_entries() for heading in headings(entry) if "$" in heading]
    assert with_maths, "expected headings with formulas"
    missing = [title for title in with_maths if title not in titles]
    assert not missing, f"headings with formulas that have no bookmark of that text: {missing}"
    top = [(title, page) for depth, title, page in found if depth == 0]
    position = [title for title, _ in top].index("Contents") + 1   # after the title page's own
    for entry in toc_entries():
        title = page_title(entry)
        at = next((i for i in range(position, len(top)) if top[i][0] == title), None)
        assert at is not None, f"no top-level bookmark {title!r} ({entry}) after {top[position - 1] if position else 'the start'}"
        page = top[at][1]
        assert page >= 1, f"the bookmark {title!r} points nowhere"
        assert re.sub(r"[-\s]+", "", title) in re.sub(r"[-\s]+", "", pages[page - 1][:len(title) + 200]), \
            f"the bookmark {title!r} points at page {page}, which does not start with it"
        position = at + 1


def test_no_raw_tex_outside_code(pdf):
    """Maths is typeset: no `$$`, `\\frac`, `\\hat`, `\\(`... in the text. Code (set in a
    monospace font) may legitimately show TeX, e.g. a matplotlib label r"$\\hat y$". Poppler's
    pdftohtml -xml gives each run of text with its font (1.5 s; pypdf's visitor took 35 s)."""
    xml = subprocess.run(["pdftohtml", "-xml", "-i", "-stdout", "-q", str(pdf)], capture_output=True,
                         text=True, check=True).stdout
    fonts = dict(re.findall(r'<fontspec id="(\d+)"[^>]*family="([^"]+)"', xml))
    runs = [(fonts[font], html.unescape(re.sub(r"<[^>]+>", "", body)))
            for font, body in re.findall(r'<text [^>]*font="(\d+)"[^>]*>(.*?)</text>', xml, re.S)]
    assert any("Mono" in family for family, _ in runs), "no code (monospace) text was read from the PDF"
    text = " ".join(run for family, run in runs if "Mono" not in family)
    assert len(text) > 50_000, "too little prose text was read from the PDF"
    found = [text[max(m.start() - 40, 0):m.end() + 20] for m in RAW_TEX.finditer(text)]
    assert not found, f"{len(found)} raw TeX fragment(s), e.g. {found[:5]}"


def figures_drawn() -> int:
    """Figures in the book: PNG outputs of notebooks plus images in markdown pages."""
    count = 0
    for entry in toc_entries():
        path = source_path(entry)
        if path.suffix == ".ipynb":
            count += sum("image/png" in output.get("data", {}) for cell in load(path)["cells"]
                         if cell["cell_type"] == "code" for output in cell.get("outputs", []))
        else:
            count += len(re.findall(r"^```\{(?:figure|image)\}|!\[", path.read_text(encoding="utf-8"), re.M))
    return count


def test_every_figure_is_embedded_at_print_resolution(pdf):
    rows = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                          check=True).stdout.splitlines()[2:]
    images = {}
    for row in rows:   # page num type width height color comp bpc enc interp object ID x-ppi y-ppi ...
        fields = row.split()
        if fields[2] == "image":
            images[fields[10]] = (int(fields[0]), int(fields[3]), int(fields[12]))
    wanted = figures_drawn()
    assert len(images) >= wanted, f"{len(images)} images embedded, the book draws {wanted} figures"
    # a plot printed at under 150 dpi looks soft on paper (a 640 px plot at 6 inches is ~100 dpi)
    soft = [(page, width, ppi) for page, width, ppi in images.values() if ppi < 150]
    assert not soft, f"{len(soft)} image(s) under 150 dpi (page, pixels wide, dpi): {soft[:10]}"


def test_every_font_is_embedded(pdf):
    rows = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                          check=True).stdout.splitlines()[2:]
    assert rows, "pdffonts lists no font at all"
    missing = [row for row in rows if row.split()[-5] != "yes"]   # columns: ... emb sub uni object ID
    assert not missing, "fonts not embedded:\n" + "\n".join(missing)


def test_internal_links_work(pdf, pages):
    """The contents, cross-references, glossary terms and citations are links inside the PDF, and
    every one of them lands on a page of the PDF."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    named = reader.named_destinations
    internal, dangling = 0, []
    for number, page in enumerate(reader.pages, start=1):
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") != "/Link":
                continue
            target = annotation.get("/Dest")
            if target is None and annotation.get("/A", {}).get("/S") == "/GoTo":
                target = annotation["/A"].get("/D")
            if target is None:
                continue   # a web link
            internal += 1
            if isinstance(target, str) and target.lstrip("/") not in named and target not in named:
                dangling.append((number, target))
    # the contents alone has one link per page of the toc; the chapters link glossary terms,
    # other chapters and the bibliography hundreds of times
    assert internal >= len(toc_entries()) + 100, f"only {internal} internal links"
    assert not dangling, f"links to no destination: {dangling[:10]}"


def test_every_solution_is_printed(pages):
    """A printed book cannot click: every solution of the sources is in the PDF, shown."""
    wanted = 0
    for entry in toc_entries():
        wanted += len(re.findall(r"\{solution(?:-start)?\}", source_path(entry).read_text(encoding="utf-8")))
    printed = sum(page.count("Solution to") for page in pages)
    assert printed == wanted, f"{printed} solutions printed, the sources have {wanted}"


def test_title_page_has_licence_and_citation(pages):
    first = pages[0]
    assert "Binary Cross-Entropy, Derived" in first
    assert "CC BY 4.0" in first and "MIT" in first, first
    assert "How to cite" in first, first


def test_every_page_of_the_site_links_the_pdf(pdf):
    for entry in toc_entries():
        html = (HTML / f"{entry}.html").read_text(encoding="utf-8")
        depth = entry.count("/")
        href = "../" * depth + "book.pdf"
        assert f'href="{href}"' in html, f"{entry}.html has no link to {href}"
        assert LINK_TEXT in html, f"{entry}.html does not say {LINK_TEXT!r}"


# --- the same figures, sharp on the website too ------------------------------------------------

IMG = re.compile(r'<img\b[^>]*>')


def png_width(path) -> int:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big")


def test_site_figures_are_drawn_for_high_resolution_screens(pdf):
    """A plot drawn at 584 px and shown 584 CSS px wide is upscaled (soft) on a 2x screen: every
    PNG figure of a page has at least 1.5 pixels per CSS pixel (retina figures have 2)."""
    import posixpath

    soft = []
    for entry in toc_entries():
        page = f"{entry}.html"
        for tag in IMG.findall((HTML / page).read_text(encoding="utf-8")):
            src = re.search(r'src="([^"]+\.png)"', tag)
            css = re.search(r'width:\s*(\d+(?:\.\d+)?)px', tag) or re.search(r'\bwidth="(\d+)"', tag)
            if not src or "_static/" in src.group(1):
                continue   # logos and icons of the theme
            path = HTML / posixpath.normpath(posixpath.join(posixpath.dirname(page), src.group(1)))
            pixels = png_width(path)
            shown = float(css.group(1)) if css else pixels   # no width: shown at its pixel size
            if pixels < 1.5 * shown:
                soft.append(f"{page}: {src.group(1).rsplit('/', 1)[-1][:16]} {pixels} px shown {shown:.0f} px wide")
    assert not soft, f"{len(soft)} figure(s) not drawn for 2x screens:\n" + "\n".join(soft[:30])


def test_every_site_page_with_its_images_is_under_1_mb(pdf):
    import posixpath

    heavy = []
    for entry in toc_entries():
        page = f"{entry}.html"
        text = (HTML / page).read_text(encoding="utf-8")
        images = {posixpath.normpath(posixpath.join(posixpath.dirname(page), src))
                  for src in re.findall(r'<img\b[^>]*src="([^"]+)"', text) if "://" not in src}
        total = (HTML / page).stat().st_size + sum((HTML / image).stat().st_size for image in images
                                                  if (HTML / image).is_file())
        if total > 1_000_000:
            heavy.append(f"{page}: {total / 1e6:.2f} MB")
    assert not heavy, heavy
