// Accessible names for two buttons of the theme's header (pydata-sphinx-theme), so that axe-core
// finds no serious violation (WCAG 2.5.3 "label in name"; tests/test_browser.py runs axe on every
// page). Jupyter Book adds every .js file in _static/ to every page.
document.addEventListener("DOMContentLoaded", () => {
  // The search button shows "Search Ctrl+K" but was named just "Search".
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
});
