"""Citations and glossary terms: every one used resolves, and every one defined is used."""
from __future__ import annotations

import re

from book import ROOT, cell_source, load, source_path, toc_entries

CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
TERM = re.compile(r"\{term\}`([^`]+)`")


def page_texts() -> dict[str, str]:
    """The prose of every page in the book (markdown cells of notebooks, whole .md files)."""
    texts = {}
    for entry in toc_entries():
        path = source_path(entry)
        if path is None:
            continue
        if path.suffix == ".ipynb":
            texts[entry] = "\n".join(cell_source(c) for c in load(path)["cells"] if c["cell_type"] == "markdown")
        else:
            texts[entry] = path.read_text(encoding="utf-8")
    return texts


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text(encoding="utf-8"), re.M))


def cited_keys() -> dict[str, set[str]]:
    cited = {}
    for entry, text in page_texts().items():
        for group in CITE.findall(text):
            for key in group.split(","):
                cited.setdefault(key.strip(), set()).add(entry)
    return cited


def glossary_terms() -> list[str]:
    text = (ROOT / "back" / "glossary.md").read_text(encoding="utf-8")
    block = re.search(r"```\{glossary\}\n(.*?)```", text, re.S).group(1)
    # a term starts at the line's first column; directive options (":sorted:") are not terms
    return [line.strip() for line in block.splitlines()
            if line.strip() and not line.startswith((" ", "\t", ":"))]


def test_every_citation_key_is_in_references_bib():
    unknown = {key: pages for key, pages in cited_keys().items() if key not in bib_keys()}
    assert not unknown, f"cited but not in references.bib: {unknown}"


def test_every_reference_is_cited_somewhere():
    uncited = bib_keys() - set(cited_keys())
    assert not uncited, f"in references.bib but never cited: {sorted(uncited)}"


def test_bibliography_entries_have_full_details():
    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    for entry in re.split(r"\n(?=@)", text.strip()):
        kind = re.match(r"@(\w+)\{([^,]+),", entry)
        assert kind, entry[:60]
        fields = set(re.findall(r"^\s*(\w+)\s*=", entry, re.M))
        needed = {"author", "title", "year"}
        needed |= {"journal", "volume", "pages"} if kind.group(1) == "article" else set()
        needed |= {"publisher"} if kind.group(1) == "book" else set()
        needed |= {"booktitle", "pages"} if kind.group(1) == "inproceedings" else set()
        assert needed <= fields, f"{kind.group(2)} lacks {needed - fields}"


def test_glossary_has_terms():
    assert len(glossary_terms()) >= 10


def linked_terms(text: str) -> set[str]:
    """The glossary terms a page links, lower case ({term}`text <term>` links `term`)."""
    used = set()
    for target in TERM.findall(text):
        match = re.search(r"<([^>]+)>\s*$", target)
        used.add((match.group(1) if match else target).strip().lower())
    return used


def test_every_glossary_term_is_linked_from_a_chapter():
    """A term is in the glossary because a chapter uses it: each is linked from at least one
    chapter (links from the back matter alone do not count)."""
    used = set()
    for entry, text in page_texts().items():
        if entry.startswith("chapters/"):
            used |= linked_terms(text)
    unused = [term for term in glossary_terms() if term.lower() not in used]
    assert not unused, f"glossary terms no chapter links with {{term}}: {unused}"


def test_linked_terms_reads_plain_and_titled_links():
    assert linked_terms("a {term}`Sigmoid`, {term}`one-hot <one-hot encoding>` and {term}`bit`s") == {
        "sigmoid", "one-hot encoding", "bit"}
