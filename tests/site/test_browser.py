"""The built site as readers meet it: every page of _toc.yml opened in headless Chromium.

One pass over the site (the module fixture `visits`), shared by two browsers that each take
every other page: each page is loaded once and everything is measured there, screenshots
included; the tests below only read the results, so a failure names every page that has the
problem. The site is served from _build/html on
localhost; MathJax and axe-core come from node_modules (pinned in package-lock.json, installed
by `npm ci`), so nothing is downloaded: the CDN address of MathJax is answered from the local
copy, and any other address outside the served site (another port on localhost included) is
answered with an empty response and recorded.

Needs Debian's chromium (`apt-get install -y chromium chromium-driver`; .ci/run installs it).
Outside CI a missing browser skips these tests with that command in the summary (-ra); with
CI=true it fails them. Screenshots go to _build/screenshots/ (not committed): look at them.
"""
from __future__ import annotations

import functools
import http.server
import io
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from book import ROOT, book_notebooks, chapter_notebooks, toc_entries
from sitebuild import BUILD, HTML, build_site_once

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
NODE_MODULES = ROOT / "node_modules"
MATHJAX = NODE_MODULES / "mathjax"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/"
SCREENSHOTS = BUILD / "screenshots"
REPORT = BUILD / "browser-report.json"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
INSTALL_BROWSER = "sudo apt-get update && sudo apt-get install -y chromium chromium-driver"
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}

# TeX that would show if MathJax had not typeset a formula.
RAW_TEX = re.compile(r"\$\$|\\(frac|dfrac|hat|log|sum|prod|mathrm|begin|left|right|sigma)\b|\\\(|\\\[")


def require(ok: bool, message: str) -> None:
    """Skip with instructions outside CI; fail in CI, where a missing tool is a broken set-up."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the browser tests must run, not skip)", pytrace=False)
    pytest.skip(message)


def pages() -> list[str]:
    return toc_entries() + ["search"]


# --- serving the built site ---------------------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
                      ".json": "application/json", ".svg": "image/svg+xml", ".ipynb": "application/json"}

    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def site():
    build = build_site_once()
    if build.returncode != 0:
        pytest.fail("the site did not build:\n" + (build.stdout + build.stderr)[-3000:], pytrace=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(QuietHandler, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


# --- one pass over the site in the browser ------------------------------------------------

MEASURE = """() => {
  const article = document.querySelector('.bd-article') || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
  const maths = [...document.querySelectorAll('.bd-article .math')];
  return {
    title: document.title,
    text: copy.innerText,
    math: maths.length,
    typeset: maths.filter(e => e.querySelector('mjx-container')).length,
    images: [...document.images].map(i => ({src: i.getAttribute('src'), alt: (i.getAttribute('alt') || '').trim(),
                                            width: i.naturalWidth, complete: i.complete})),
    launch: [...document.querySelectorAll('.dropdown-launch-buttons a, a.btn-download-source-button, '
                                          + 'a[href$=".ipynb"]')].map(a => ({href: a.href, text: a.innerText.trim()})),
  };
}"""

SOLUTIONS = """async () => {
  const solutions = [...document.querySelectorAll('.solution.dropdown')];
  const visible = e => !!e && e.offsetParent !== null && e.getBoundingClientRect().height > 0;
  const body = s => [...s.children].find(c => !c.classList.contains('admonition-title')
                                         && !c.classList.contains('toggle-button'));
  const before = solutions.map(s => visible(body(s)));
  const buttons = solutions.map(s => s.querySelector('button.toggle-button')
                                   || s.querySelector('.admonition-title'));
  return {count: solutions.length, before, buttons: buttons.filter(b => b).length};
}"""

SOLUTIONS_AFTER = """() => {
  const visible = e => !!e && e.offsetParent !== null && e.getBoundingClientRect().height > 0;
  const body = s => [...s.children].find(c => !c.classList.contains('admonition-title')
                                         && !c.classList.contains('toggle-button'));
  return [...document.querySelectorAll('.solution.dropdown')].map(s => visible(body(s)));
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""


# what pydata-sphinx-theme makes focusable when it scrolls (its addTabStopsToScrollableElements)
SCROLLABLES_FOCUSABLE = """() => [...document.querySelectorAll('pre, .nboutput > .output_area, .cell_output > .output, '
                                  + '.jp-RenderedHTMLCommon, .pst-scrollable-table-container')]
  .every(e => !(e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight) || e.tabIndex === 0)"""


def wait_until(page, condition: str, timeout_ms: int = 20_000) -> None:
    """Wait for a page condition (not for a fixed time); if it never holds, return anyway: the
    check that follows then reports what is wrong, instead of a bare timeout."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(condition, timeout=timeout_ms)
    except PlaywrightTimeout:
        pass


def mathjax_file(url: str) -> Path:
    return MATHJAX / unquote(urlsplit(url).path.split("/mathjax@3/", 1)[1])


def offline_route(external: list[str]):
    """A Playwright route handler for the requests that leave the served site: MathJax's CDN is
    answered from node_modules, anything else refused and recorded in `external`, so no page
    reaches the network."""
    def route(request_route):
        url = request_route.request.url
        if url.startswith(MATHJAX_CDN) and mathjax_file(url).is_file():
            return request_route.fulfill(path=str(mathjax_file(url)))
        external.append(url)
        return request_route.fulfill(status=204, body="")
    return route


# Clicks every solution's toggle button as a reader would, in one go: each button is scrolled
# into view and must be the element a pointer at its centre hits (not covered, not hidden),
# then clicked. (Playwright's own click checks the same, but with several round trips a button.)
CLICK_SOLUTIONS = """() => {
  const buttons = [...document.querySelectorAll('.solution.dropdown button.toggle-button')];
  const unclickable = [];
  buttons.forEach((button, index) => {
    button.scrollIntoView({block: 'center', behavior: 'instant'});
    const box = button.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (box.width === 0 || !(hit === button || button.contains(hit))) unclickable.push(index + 1);
    else button.click();
  });
  window.scrollTo(0, 0);
  return unclickable;
}"""


def screenshot_name(entry: str, suffix: str) -> Path:
    return SCREENSHOTS / f"{entry.replace('/', '_')}-{suffix}.png"


def visit_pages(site: str, entries: list[str], shots: dict[str, str]) -> dict:
    """Visit `entries` in one Chromium, each page loaded once, and measure everything there.
    `shots` names the pages to photograph on the way: "landing", "chapter" (both at desktop and
    phone width; the chapter's first plot in light and dark mode too) and "cheatsheet" (also
    printed to PDF)."""
    from playwright.sync_api import sync_playwright

    results: dict[str, dict] = {}
    current: dict = {}
    external: list[str] = []
    extra: dict = {}
    route = offline_route(external)

    def on_response(response):
        if response.url.startswith(site) and response.status >= 400:
            current.setdefault("failed_local", []).append(f"{response.status} {response.url}")

    def on_failed(request):
        if request.url.startswith(site):
            current.setdefault("failed_local", []).append(f"{request.failure} {request.url}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport=DESKTOP)
        # only requests that leave the served site go through Python: the site's own files
        # (about 40 a page) load directly, which takes 0.1-0.3 s off each page
        context.route(re.compile("^(?!" + re.escape(site) + ")"), route)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and current.setdefault("console", []).append(m.text))
        page.on("pageerror", lambda e: current.setdefault("console", []).append(f"uncaught: {e}"))
        page.on("response", on_response)
        page.on("requestfailed", on_failed)

        for entry in entries:
            current = {"console": [], "failed_local": []}
            external.clear()
            page.set_viewport_size(DESKTOP)
            url = site + entry + ".html" + ("?q=cross-entropy" if entry == "search" else "")
            page.goto(url, wait_until="load")
            if page.evaluate("() => document.querySelectorAll('.math').length") > 0:
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                       timeout=20_000)
                page.evaluate("() => MathJax.startup.promise")
            if entry == "search":
                # finished, and every result shown (each is appended when its page has been fetched)
                wait_until(page, """() => {
                    const status = document.querySelector('#search-results p.search-summary');
                    const found = status && status.innerText.match(/found (\\d+) page/);
                    return found && document.querySelectorAll('#search-results ul.search li').length
                                    === Number(found[1]);
                }""")
                current["search_hits"] = page.evaluate(
                    "() => [...document.querySelectorAll('#search-results ul.search li a')].map(a => a.getAttribute('href'))")
            # The theme makes scrollable code blocks and outputs focusable 300 ms after the page
            # changes (MathJax changes it); wait for that, as a reader's page would.
            wait_until(page, SCROLLABLES_FOCUSABLE)
            if shots.get(entry) in {"landing", "chapter"}:   # the page as a reader first sees it
                page.screenshot(path=str(screenshot_name(entry, "desktop")))
            current.update(page.evaluate(MEASURE))
            if entry.startswith("chapters/"):
                solutions = page.evaluate(SOLUTIONS)
                solutions["unclickable"] = page.evaluate(CLICK_SOLUTIONS)
                # the dropdowns' open animation: wait until every solution shows (or give up
                # after 20 s and let the check below report which do not)
                wait_until(page, f"() => ({SOLUTIONS_AFTER})().every(Boolean)")
                solutions["after"] = page.evaluate(SOLUTIONS_AFTER)
                current["solutions"] = solutions
                wait_until(page, SCROLLABLES_FOCUSABLE)
            page.add_script_tag(path=str(AXE))
            current["axe"] = page.evaluate(AXE_RUN)
            if shots.get(entry) == "cheatsheet":
                # meant to be printed on one A4 sheet, formulas typeset (_static/print.css keeps
                # only the article when printing)
                pdf = page.pdf(format="A4")
                (SCREENSHOTS / "cheatsheet.pdf").write_bytes(pdf)
                extra["cheatsheet_pages"] = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
            if shots.get(entry) == "chapter":
                # its first plot in light and dark mode (the theme's own switch)
                extra["figures"] = figures = {}
                before = page.evaluate("() => ({mode: document.documentElement.dataset.mode,"
                                       " theme: document.documentElement.dataset.theme})")
                for mode in ("light", "dark"):
                    page.evaluate("mode => { localStorage.setItem('mode', mode); localStorage.setItem('theme', mode);"
                                  " document.documentElement.dataset.mode = mode;"
                                  " document.documentElement.dataset.theme = mode; }", mode)
                    page.wait_for_timeout(300)
                    figure = page.locator(".cell_output img").first
                    figure.scroll_into_view_if_needed()
                    figures[mode] = {"figure": figure.screenshot(path=str(SCREENSHOTS / f"figure-{mode}.png")),
                                     "background": page.evaluate("() => getComputedStyle(document.body).backgroundColor")}
                    page.screenshot(path=str(screenshot_name(entry, f"{mode}-mode")))
                page.evaluate("before => { localStorage.clear(); document.documentElement.dataset.mode = before.mode;"
                              " document.documentElement.dataset.theme = before.theme; }", before)
            current["external"] = sorted(set(external))
            if entry != "search":   # the same page at phone width: do its display equations fit?
                page.set_viewport_size(PHONE)
                page.evaluate("() => window.scrollTo(0, 0)")
                if shots.get(entry) in {"landing", "chapter"}:
                    page.wait_for_timeout(300)   # the theme's layout switch to the phone header
                    page.screenshot(path=str(screenshot_name(entry, "phone")))
                current["phone"] = page.evaluate(PHONE_EQUATIONS)
                if shots.get(entry) == "cheatsheet":
                    page.evaluate("() => window.scrollTo(0, 0)")
                    page.screenshot(path=str(SCREENSHOTS / "phone-width-cheatsheet.png"), full_page=True)
            results[entry] = current

        # The route must catch what leaves the site: a request to another port must be recorded.
        external.clear()
        page.evaluate("() => fetch('http://127.0.0.1:9/canary').then(() => true, () => true)")   # awaits the answer
        extra["canary"] = list(external)
        browser.close()
    return {"pages": results, **extra}


# Two browsers side by side, each visiting every other page: the machine's two cores stay busy
# at the end of a test run, when this pass is often the last test left.
BROWSERS = 2


@pytest.fixture(scope="module")
def visits(request):
    require(CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM}; install it with: {INSTALL_BROWSER}")
    require(MATHJAX.is_dir() and AXE.exists(),
            "MathJax and axe-core are not installed in node_modules/; run `npm ci` (python3 dev.py setup does)")
    from concurrent.futures import ThreadPoolExecutor

    site = request.getfixturevalue("site")   # build and serve only once the browser is known to be there

    shutil.rmtree(SCREENSHOTS, ignore_errors=True)   # so that test_screenshots_were_taken sees this run's
    SCREENSHOTS.mkdir(parents=True)
    entries = pages()
    shots = {entries[0]: "landing", next(e for e in entries if e.startswith("chapters/")): "chapter"}
    shots.update({e: "cheatsheet" for e in entries if e.endswith("/cheatsheet")})
    started = time.monotonic()
    # (Playwright's sync API is used from one thread per browser, as its documentation asks)
    with ThreadPoolExecutor(BROWSERS) as pool:
        parts = list(pool.map(lambda share: visit_pages(site, entries[share::BROWSERS], shots), range(BROWSERS)))
    seconds = time.monotonic() - started
    results = {entry: part["pages"][entry] for entry in entries for part in parts if entry in part["pages"]}
    found = {key: part[key] for part in parts for key in ("figures", "cheatsheet_pages") if key in part}
    REPORT.write_text(json.dumps({"seconds": round(seconds, 1), "browsers": BROWSERS, "pages": {
        entry: {"console_errors": r["console"], "failed_local": r["failed_local"], "external": r["external"],
                "math": [r["typeset"], r["math"]], "images": len(r["images"]),
                "solutions": r.get("solutions"), "axe": r["axe"]} for entry, r in results.items()}},
        indent=1), encoding="utf-8")
    return {"pages": results, "figures": found.get("figures"), "seconds": seconds,
            "cheatsheet_pages": found.get("cheatsheet_pages"), "canaries": [part["canary"] for part in parts]}


def failures(visits, check) -> str:
    """'' if `check` finds nothing on any page, else every page's problems, one page a line."""
    found = {}
    for entry, result in visits["pages"].items():
        problem = check(entry, result)
        if problem:
            found[entry] = problem
    return "\n".join(f"{entry}: {json.dumps(problem, ensure_ascii=False)}" for entry, problem in found.items())


# --- the checks, page by page ---------------------------------------------------------------

def test_every_page_was_visited(visits):
    assert set(visits["pages"]) == set(pages())
    assert len(visits["pages"]) >= 15


def test_no_console_errors(visits):
    problems = failures(visits, lambda e, r: r["console"])
    assert not problems, problems


def test_no_failed_requests_to_local_files(visits):
    problems = failures(visits, lambda e, r: r["failed_local"])
    assert not problems, problems


def test_no_page_asks_for_anything_outside_the_site_but_mathjax(visits):
    """MathJax comes from a CDN for readers (served locally here); nothing else may."""
    for canary in visits["canaries"]:   # each browser's route
        assert canary == ["http://127.0.0.1:9/canary"], "the route did not catch a request outside the site"
    problems = failures(visits, lambda e, r: r["external"])
    assert not problems, problems


def test_mathjax_typeset_every_formula(visits):
    def check(entry, result):
        problems = []
        if result["typeset"] != result["math"]:
            problems.append(f"{result['math'] - result['typeset']} of {result['math']} formulas not typeset")
        # (the search page's result snippets are the pages' source text, TeX included)
        leftovers = sorted({m.group(0) for m in RAW_TEX.finditer(result["text"])}) if entry != "search" else []
        if leftovers:
            problems.append(f"raw TeX in the text: {leftovers}")
        return problems
    problems = failures(visits, check)
    assert not problems, problems
    assert sum(r["math"] for r in visits["pages"].values()) > 100, "expected formulas on the pages"


def test_every_image_loads_and_has_alt_text(visits):
    def check(entry, result):
        return [image["src"] for image in result["images"]
                if not (image["complete"] and image["width"] > 0) or not image["alt"]
                or image["alt"].lower().endswith((".png", ".svg", ".jpg"))]  # a file name is not alt text
    problems = failures(visits, check)
    assert not problems, problems
    assert any(r["images"] for r in visits["pages"].values())


def test_solutions_are_hidden_until_clicked_then_shown(visits):
    chapters = [f"chapters/{p.stem}" for p in chapter_notebooks()]
    for entry in chapters:
        solutions = visits["pages"][entry]["solutions"]
        assert solutions["count"] >= 3, f"{entry}: {solutions['count']} solutions"
        assert solutions["buttons"] == solutions["count"], f"{entry}: a solution has no toggle button"
        assert not any(solutions["before"]), f"{entry}: a solution is visible before any click"
        assert not solutions["unclickable"], f"{entry}: solution buttons {solutions['unclickable']} cannot be clicked"
        assert all(solutions["after"]), f"{entry}: a solution stayed hidden after its click"


def test_launch_buttons_point_at_each_notebook(visits):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    branch = config["repository"]["branch"]
    notebooks = [p.relative_to(ROOT).with_suffix("").as_posix() for p in book_notebooks()]
    for entry in notebooks:
        hrefs = [link["href"] for link in visits["pages"][entry]["launch"]]
        path = f"{entry}.ipynb"
        expected = {
            "Binder": f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=lab/tree/{path}",
            "Colab": f"https://colab.research.google.com/github/{repo}/blob/{branch}/{path}",
            "download": f"/_sources/{path}",
            "JupyterLite": f"/lite/lab/index.html?path={path}",
        }
        for name, url in expected.items():
            assert any(href == url or href.endswith(url) and href.startswith("http://127.0.0.1")
                       for href in hrefs), f"{entry}: no {name} button pointing at {url} in {hrefs}"


def test_launch_targets_exist_in_the_built_site(site):
    """The download and JupyterLite buttons point at files that were built."""
    for path in book_notebooks():
        rel = path.relative_to(ROOT).as_posix()
        assert (HTML / "_sources" / rel).is_file(), f"no download for {rel}"
        assert (HTML / "lite" / "files" / rel).is_file(), f"{rel} is not in the JupyterLite site"


def test_search_finds_cross_entropy(visits):
    hits = visits["pages"]["search"]["search_hits"]
    assert len(hits) >= 3, hits
    assert any(h.startswith("chapters/") for h in hits), hits


def test_axe_finds_no_serious_or_critical_violation(visits):
    def check(entry, result):
        return [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in result["axe"]
                if v["impact"] in {"serious", "critical"}]
    problems = failures(visits, check)
    assert not problems, problems


def test_cheatsheet_prints_on_one_page(visits):
    assert visits["cheatsheet_pages"] == 1, f"the cheat-sheet prints on {visits['cheatsheet_pages']} A4 pages"


def test_screenshots_were_taken(visits):
    names = sorted(p.name for p in SCREENSHOTS.glob("*.png"))
    assert len([n for n in names if n.endswith(("-desktop.png", "-phone.png"))]) == 4, names


def test_figures_stay_readable_in_dark_mode(visits):
    """The theme switch really changes the page, and a plot keeps its light background and
    its contrast (axes, text and lines stay visible on a dark page)."""
    from PIL import Image, ImageStat

    figures = visits["figures"]
    assert figures["light"]["background"] != figures["dark"]["background"], "dark mode did not switch"
    stats = {}
    for mode in ("light", "dark"):
        image = Image.open(io.BytesIO(figures[mode]["figure"])).convert("L")
        stat = ImageStat.Stat(image)
        stats[mode] = (stat.mean[0], stat.stddev[0])
    (light_mean, light_std), (dark_mean, dark_std) = stats["light"], stats["dark"]
    assert dark_mean > 150, f"the plot turned dark in dark mode (mean grey {dark_mean:.0f})"
    assert dark_std > 0.6 * light_std, f"the plot lost contrast in dark mode ({dark_std:.0f} vs {light_std:.0f})"



# --- phone width: every display equation fits the column ----------------------------------

# Open every dropdown (solutions, hidden cells) so that equations inside them are measured
# too, then compare each typeset display equation with the column it sits in.
PHONE_EQUATIONS = """async () => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const closed = [...document.querySelectorAll('button.toggle-button.toggle-button-hidden')];
  closed.forEach(button => button.click());   // (the desktop checks opened the solutions already)
  if (closed.length) await new Promise(resolve => setTimeout(resolve, 400));   // their open animation
  const article = document.querySelector('.bd-article') || document.body;
  const contentWidth = e => {
    const style = getComputedStyle(e);
    return e.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  };
  const found = [], hidden = [];
  if (!(window.MathJax && MathJax.startup && MathJax.startup.document)) return {count: 0, hidden, wide: found};
  // MathJax's own records of the page's formulas: the typeset element and its TeX source
  const equations = MathJax.startup.document.getMathItemsWithin(article)
    .filter(item => item.display && item.typesetRoot);
  equations.forEach((item, index) => {
    const eq = item.typesetRoot;
    const math = eq.querySelector('mjx-math') || eq;
    const width = Math.max(math.getBoundingClientRect().width, eq.scrollWidth);
    if (width === 0) { hidden.push(index + 1); return; }
    // the column: the block that holds the equation, never wider than the article's column
    const column = Math.min(contentWidth(eq.parentElement), contentWidth(article));
    if (width > column + 1) {
      found.push({equation: index + 1, width: Math.round(width), column: Math.round(column),
                  text: item.math.replace(/\\s+/g, ' ').trim().slice(0, 90)});
    }
  });
  return {count: equations.length, hidden, wide: found};
}"""


@pytest.fixture(scope="module")
def phone_equations(visits):
    """Each page at 390 px, measured in the same visit as the desktop checks (the viewport is
    narrowed after them: one page load instead of two). The cheat-sheet at that width is in
    _build/screenshots/phone-width-cheatsheet.png."""
    return {entry: result["phone"] for entry, result in visits["pages"].items() if "phone" in result}


def test_every_display_equation_fits_a_phone_column(phone_equations):
    """At 390 px (a phone held upright) no display equation may be wider than its column:
    a reader would have to scroll it sideways. Break long ones with `aligned`."""
    wide = [f"{entry}: equation {e['equation']} is {e['width']} px in a {e['column']} px column: {e['text']}"
            for entry, result in phone_equations.items() for e in result["wide"]]
    assert not wide, f"{len(wide)} display equations are wider than the column at 390 px:\n" + "\n".join(wide)
    assert sum(r["count"] for r in phone_equations.values()) > 20, "expected display equations on the pages"
