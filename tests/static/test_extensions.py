"""The book's local fixes to upstream behaviour (_ext/), each tested on its own: it does what it
says, and the pinned upstream version still needs it (when that test fails, delete the fix)."""
from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

import book  # noqa: F401  (tests/book.py puts _ext/ on the path)
import jupyterlite_unchanged
import no_google_fonts


def fake_app(tmp_path: Path) -> SimpleNamespace:
    """Just enough of a Sphinx application for jupyterlite-sphinx's build-finished handler."""
    (tmp_path / "chapters").mkdir(exist_ok=True)
    (tmp_path / "chapters" / "one.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "lite.json").write_text("{}", encoding="utf-8")
    config = SimpleNamespace(
        jupyterlite_config="lite.json", jupyterlite_overrides=None, jupyterlite_contents=["chapters"],
        jupyterlite_dir=str(tmp_path), jupyterlite_ignore_contents=None,
        jupyterlite_build_command_options=None, jupyterlite_content_dir="_contents",
        jupyterlite_silence=True)
    return SimpleNamespace(srcdir=str(tmp_path), outdir=str(tmp_path / "html"), config=config,
                           env=SimpleNamespace(config=config), builder=SimpleNamespace(format="html"))


def test_the_pinned_jupyterlite_sphinx_rebuilds_an_unchanged_site(tmp_path, monkeypatch):
    """Why _ext/jupyterlite_unchanged.py exists (jupyterlite/jupyterlite-sphinx#132): the
    upstream handler runs `jupyter lite build` again when nothing changed. If this fails, the
    pinned version skips by itself: delete the local fix and its entry in _config.yml."""
    from jupyterlite_sphinx import jupyterlite_sphinx as upstream

    commands = []
    monkeypatch.setattr(upstream.subprocess, "run",
                        lambda command, **kwargs: commands.append(command) or
                        subprocess.CompletedProcess(command, 0, b"", b""))
    monkeypatch.chdir(tmp_path)   # it deletes .jupyterlite.doit.db from the working folder
    app = fake_app(tmp_path)
    upstream.jupyterlite_build(app, None)
    upstream.jupyterlite_build(app, None)
    assert len(commands) == 2 and all("lite" in command and "build" in command for command in commands)


def test_the_lite_site_is_rebuilt_only_when_an_input_changed(tmp_path):
    app = fake_app(tmp_path)
    calls = []

    def original(app, error):   # stands in for `jupyter lite build`: writes the site
        calls.append(error)
        (Path(app.outdir) / "lite").mkdir(parents=True, exist_ok=True)
        (Path(app.outdir) / "lite" / "index.html").write_text("lite", encoding="utf-8")

    handler = jupyterlite_unchanged.make_handler(original)
    handler(app, None)
    handler(app, None)
    assert len(calls) == 1, "an unchanged lite site was built again"
    (tmp_path / "chapters" / "one.ipynb").write_text('{"changed": 1}', encoding="utf-8")
    handler(app, None)
    assert len(calls) == 2, "a changed notebook did not rebuild the lite site"
    (tmp_path / "lite.json").write_text('{"changed": 1}', encoding="utf-8")
    handler(app, None)
    assert len(calls) == 3, "a changed jupyter_lite_config.json did not rebuild the lite site"
    (tmp_path / "html" / "lite" / "index.html").unlink()
    handler(app, None)
    assert len(calls) == 4, "a missing lite site was not rebuilt"


def test_a_failed_lite_build_is_tried_again_next_time(tmp_path):
    app = fake_app(tmp_path)
    calls = []

    def failing(app, error):
        calls.append(error)
        (Path(app.outdir) / "lite").mkdir(parents=True, exist_ok=True)
        (Path(app.outdir) / "lite" / "index.html").write_text("half", encoding="utf-8")
        raise subprocess.CalledProcessError(1, ["jupyter", "lite", "build"])

    handler = jupyterlite_unchanged.make_handler(failing)
    for _ in range(2):
        with pytest.raises(subprocess.CalledProcessError):
            handler(app, None)
    assert len(calls) == 2


def test_the_pinned_jupyterlite_sphinx_adds_a_google_font(tmp_path):
    """Why _ext/no_google_fonts.py exists. If this fails, the pinned jupyterlite-sphinx adds no
    third-party stylesheet any more: delete the fix and its line in _config.yml."""
    from jupyterlite_sphinx import jupyterlite_sphinx as upstream

    added = []

    class Recorder(SimpleNamespace):   # records what setup() asks of the Sphinx application
        def __getattr__(self, name):
            return lambda *args, **kwargs: added.append((name, args)) if name == "add_css_file" else None

    upstream.setup(Recorder(srcdir=str(tmp_path), outdir=str(tmp_path / "html"), confdir=str(tmp_path)))
    css = [args[0] for name, args in added]
    assert any(str(url).startswith(no_google_fonts.THIRD_PARTY_CSS) for url in css), css


def test_the_google_font_is_dropped_and_nothing_else():
    app = SimpleNamespace(registry=SimpleNamespace(css_files=[
        ("https://fonts.googleapis.com/css?family=Vibur", {}), ("jupyterlite_sphinx.css", {}), ("book.css", {"priority": 900})]),
        builder=SimpleNamespace())
    no_google_fonts.drop_third_party_css(app)
    assert app.registry.css_files == [("jupyterlite_sphinx.css", {}), ("book.css", {"priority": 900})]


# --- _ext/book_pdf.py: when the build prints the book's PDF ---------------------------------------

def small_book(tmp_path: Path) -> tuple[Path, Path]:
    """A built one-page book (_toc.yml, _build/html/intro.html), without Chromium."""
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n", encoding="utf-8")
    html = tmp_path / "_build" / "html"
    html.mkdir(parents=True)
    (html / "intro.html").write_text("<article class='bd-article'><h1>Intro</h1></article>", encoding="utf-8")
    return tmp_path, html


def test_book_pdf_mode_rejects_an_unknown_value(monkeypatch):
    import book_pdf

    for value, mode in [("", "missing"), ("1", "changed"), ("0", "off")]:
        monkeypatch.setenv("BOOK_PDF", value)
        assert book_pdf.pdf_mode() == mode
    monkeypatch.setenv("BOOK_PDF", "yes")
    with pytest.raises(ValueError, match="BOOK_PDF='yes': use 1"):
        book_pdf.pdf_mode()


def test_an_edit_leaves_the_earlier_pdf_and_says_so_unless_asked(tmp_path, monkeypatch, capsys):
    """`python3 dev.py build` after an edit keeps the earlier PDF and reports it "stale" (dev.py
    tells the reader); with --pdf (--when changed) the same edit must print it again: here that
    is seen as reaching the printing step, which fails without MathJax (no Chromium needed)."""
    import book_pdf

    source, html = small_book(tmp_path)
    state = html.parent / book_pdf.STATE_FILE
    (html / "book.pdf").write_bytes(b"%PDF earlier")
    (html.parent / ".book-pdf.sha256").write_text(
        book_pdf.input_hash(html, source, book_pdf.toc_entries(source)) + "\n")
    args = ["--html", str(html), "--source", str(source)]
    assert book_pdf.main(args + ["--when", "missing"]) == 0 and state.read_text() == "current\n"
    assert book_pdf.main(args + ["--when", "changed"]) == 0 and state.read_text() == "current\n"
    assert "is up to date" in capsys.readouterr().out

    (html / "intro.html").write_text("<article class='bd-article'><h1>Intro, edited</h1></article>")
    assert book_pdf.main(args + ["--when", "missing"]) == 0 and state.read_text() == "stale\n"
    assert "python3 dev.py build --pdf" in capsys.readouterr().out
    assert (html / "book.pdf").read_bytes() == b"%PDF earlier"   # left as it was
    assert book_pdf.main(args + ["--when", "changed"]) == 2      # goes on to print: MathJax missing here
    assert "MathJax is missing" in capsys.readouterr().err and not state.exists()
    (html / "book.pdf").unlink()                                  # a first build: no PDF yet
    assert book_pdf.main(args + ["--when", "missing"]) == 2      # ... is printed even without --pdf


def test_bookmark_titles_are_plain_text_with_the_formulas_as_characters():
    """The PDF's bookmarks take each heading's text, a formula's TeX turned into characters
    (test_pdf checks the printed bookmarks; this, the conversion on its own)."""
    import book_pdf

    assert book_pdf.plain_title(r"The special case \(w = 0\): one shared probability") == \
        "The special case w = 0: one shared probability"
    assert book_pdf.plain_title(r"What if my labels are \(-1\) and \(+1\)?") == "What if my labels are −1 and +1?"
    assert book_pdf.plain_title(r"The loss of \(\hat{y}\) and \(\sigma(z)\)") == "The loss of ŷ and σ(z)"
    assert book_pdf.plain_title(r"Labels \(y \in \{0, 1\}\) and \(\hat\sigma\), \(\text{BCE}\)") == \
        "Labels y ∈ {0, 1} and σ̂, BCE"
    assert book_pdf.plain_title("  Key\n takeaways ") == "Key takeaways"
    with pytest.raises(ValueError, match=r"frac"):   # not "frac1n": the PDF step stops and says so
        book_pdf.plain_title(r"Divide by \(\frac{1}{n}\)")
