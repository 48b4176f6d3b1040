// Fixes to the theme's and extensions' markup so that axe-core finds no serious violation
// (tests/test_browser.py runs it on every page). Jupyter Book adds every .js file in _static/
// to every page.
document.addEventListener("DOMContentLoaded", () => {
  // WCAG 2.5.3 "label in name": the search button shows "Search Ctrl+K" but was named just "Search".
  document.querySelectorAll("button.search-button__button").forEach((button) => {
    const visible = button.innerText.replace(/\s+/g, " ").trim();
    if (visible) button.setAttribute("aria-label", visible);
  });
  // The light/dark switch shows only icons: name it by hidden text instead of aria-label.
  document.querySelectorAll("button.theme-switch-button").forEach((button) => {
    const name = button.getAttribute("aria-label") || "Color mode";
    button.querySelectorAll("i").forEach((icon) => icon.setAttribute("aria-hidden", "true"));
    const text = document.createElement("span");
    text.className = "visually-hidden";
    text.textContent = name;
    button.appendChild(text);
    button.removeAttribute("aria-label");
  });
  // The bibliography's entries are not list items (role "doc-biblioentry" inside role "list"
  // breaks the list): drop the list role, keep the entries.
  document.querySelectorAll(".citation-list[role='list']").forEach((list) => list.removeAttribute("role"));
  // WCAG 2.5.3 "label in name" (axe: label-content-name-mismatch): myst-nb's toggle of a hidden
  // cell (tag hide-cell / hide-input, myst_nb/sphinx_.py visit_HideCellInput) is a <summary>
  // showing "Show code cell content" / "Hide code cell content" but named by
  // aria-label="Toggle hidden content". Without the label its name is the visible text.
  document.querySelectorAll("details > summary[aria-label='Toggle hidden content']")
    .forEach((summary) => summary.removeAttribute("aria-label"));
});

// Scrollable code and outputs must be reachable by keyboard (tab stop). The theme sets this when
// the page loads, but not when a solution dropdown opens and reveals a wide code cell: check again
// after every click on a toggle button (once its opening animation is done).
function tabStopsOnScrollables() {
  document.querySelectorAll("pre, .cell_output > .output").forEach((element) => {
    if (element.scrollWidth > element.clientWidth || element.scrollHeight > element.clientHeight) {
      element.tabIndex = 0;
    }
  });
}
document.addEventListener("click", (event) => {
  if (event.target.closest(".toggle-button, .dropdown summary, details summary")) {
    setTimeout(tabStopsOnScrollables, 400);
  }
});
window.addEventListener("load", tabStopsOnScrollables);
