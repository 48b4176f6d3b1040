"""Launch buttons, the repository URL, licence, citation, README and CI wiring."""
from __future__ import annotations

import json
import re

import yaml

from book import ROOT, book_notebooks


def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_repository_url_is_set_once():
    url = config()["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), url
    assert config()["repository"]["branch"]
    # every other file takes the URL from _config.yml, except the citation, which must agree
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["repository-code"] == url


def test_folders_that_tools_create_are_never_pages(tmp_path):
    """Hidden folders and every folder .gitignore lists (what pytest, Jupyter, pip, npm and the
    build leave in a checkout) are excluded from the book: a stray .pytest_cache/README.md failed
    the strict build. Checked with the function Sphinx uses to find a book's pages, on stand-in
    folders (a README.md and a notebook in each) in a temporary directory."""
    from sphinx.util.matching import get_matching_files

    folders = [line.strip().rstrip("/").replace("*", "any") for line in
               (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines() if line.strip().endswith("/")]
    assert ".pytest_cache" in folders and ".ipynb_checkpoints" in folders
    folders += [".some_tool_cache"]   # a hidden folder that .gitignore does not list
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01_page.ipynb").write_text("{}", encoding="utf-8")
    made_at_the_root = {"_build", "node_modules", "_contents", "coursework/dist"}   # by dev.py and npm
    for folder in folders:
        # the others (caches, checkpoints, hidden folders) may appear in any folder: try one beside a chapter
        for place in [folder] + ([] if folder in made_at_the_root else [f"chapters/{folder}"]):
            (tmp_path / place).mkdir(parents=True, exist_ok=True)
            for name in ("README.md", "notes.ipynb"):
                (tmp_path / place / name).write_text("{}", encoding="utf-8")
    pages = list(get_matching_files(tmp_path, exclude_patterns=config()["exclude_patterns"]))
    assert pages == ["chapters/01_page.ipynb"], f"pages from tool folders: exclude them in _config.yml: {pages}"


def test_launch_buttons_for_binder_colab_and_download():
    buttons = config()["launch_buttons"]
    assert buttons["binderhub_url"].startswith("https://mybinder.org")
    assert buttons["colab_url"].startswith("https://colab.research.google.com")
    # Setting html_theme_options by hand would silently drop these buttons.
    assert "html_theme_options" not in config()["sphinx"]["config"]


def test_build_renders_outputs_that_nbval_proves_current():
    """The build executes nothing (each notebook runs once per test run, under nbval); so nbval
    must run in strict mode over every notebook the book shows."""
    execute = config()["execute"]
    assert execute["execute_notebooks"] == "off"
    assert execute["stderr_output"] == "error"
    ini = (ROOT / "pytest.ini").read_text(encoding="utf-8")
    options = ini.split("addopts", 1)[1]
    assert re.search(r"^\s*--nbval\s*$", options, re.M) and "--nbval-lax" not in ini
    testpaths = re.search(r"^testpaths\s*=\s*(.*)$", ini, re.M).group(1).split()
    shown = {path.relative_to(ROOT).parts[0] for path in book_notebooks()}
    assert shown <= set(testpaths), f"notebooks in {shown - set(testpaths)} are shown but never executed"


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


def test_publish_workflow_builds_with_the_pins_and_deploys_to_pages():
    """.github/workflows/publish.yml cannot run here: check its steps instead."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "publish.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "main" in triggers["push"]["branches"]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert workflow["jobs"]["test"]["uses"] == "./.github/workflows/test.yml"
    assert build["needs"] == "test", "the site must not be built for publishing before the tests pass"
    steps = build["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert uses[0].startswith("actions/checkout@")
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(python["with"]["python-version"]) == "3.11"
    runs = [step["run"].strip() for step in steps if "run" in step]
    # the README's build command, with the PDF printed from the pages it publishes; nothing else
    assert runs == [readme_commands()[0] + " --pdf"], runs
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    assert uses.index(upload["uses"]) > uses.index(python["uses"])
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]


def test_test_workflow_runs_ci_on_pull_requests_and_for_publishing():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "test.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))
    assert "pull_request" in triggers and "workflow_call" in triggers
    steps = workflow["jobs"]["test"]["steps"]
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(python["with"]["python-version"]) == "3.11"
    assert [step["run"].strip() for step in steps if "run" in step] == ["bash .ci/run"]


def test_ci_installs_the_browser_and_the_npm_packages():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'missing="chromium chromium-driver"' in script and "apt-get install -y $missing" in script
    dev = (ROOT / "dev.py").read_text(encoding="utf-8")
    assert 'run([npm, "ci"' in dev   # MathJax and axe-core, exactly as package-lock.json pins them
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    for name, version in package["devDependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned exactly: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
