"""Launch buttons, the repository URL, licence, citation, README and CI wiring."""
from __future__ import annotations

import re

import yaml

from conftest import ROOT


def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_repository_url_is_set_once():
    url = config()["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), url
    assert config()["repository"]["branch"]
    # every other file takes the URL from _config.yml, except the citation, which must agree
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["repository-code"] == url


def test_launch_buttons_for_binder_colab_and_download():
    buttons = config()["launch_buttons"]
    assert buttons["binderhub_url"].startswith("https://mybinder.org")
    assert buttons["colab_url"].startswith("https://colab.research.google.com")
    # Setting html_theme_options by hand would silently drop these buttons.
    assert "html_theme_options" not in config()["sphinx"]["config"]


def test_build_is_strict_about_cells():
    execute = config()["execute"]
    assert execute["stderr_output"] == "error"
    assert execute["allow_errors"] is False
    assert execute["execute_notebooks"] in {"cache", "force"}


def test_licence_covers_prose_and_code():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "MIT License" in text


def test_citation_file_is_complete():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    for key in ("cff-version", "message", "title", "authors", "license"):
        assert citation.get(key), key


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```(?:bash|sh|console|shell)?\n(.*?)```", text, re.S)
    assert block, "README.md has no command block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_the_build_and_test_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.index("```") < 200, "the commands must come first"
    assert readme_commands() == ["python3 dev.py build", "python3 dev.py test"]


def test_ci_runs_exactly_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [l.strip() for l in script.splitlines() if l.strip() and not l.lstrip().startswith("#")
                and not l.startswith(("set ", "cd "))]
    assert commands[-1] == readme_commands()[1]
