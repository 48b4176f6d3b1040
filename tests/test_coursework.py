"""The coursework (coursework/): otter-grader assignments, built and graded for real.

One session builds every assignment into a temporary folder with ``coursework/build.py`` (which
executes each source notebook and lets ``otter assign`` check that the reference solutions
pass every test), then grades, with ``coursework/grade.py`` and that fresh autograder bundle,
the reference solutions and the wrong submissions in ``coursework/submissions_for_tests/``.

The submissions are stored as jupytext "percent" scripts (readable in a diff, and not
mistaken for book notebooks); each is turned back into the .ipynb a student would hand in
before it is graded. ``coursework/dist/`` is generated (by build.py, and by Binder's
postBuild) and is not committed.
"""
from __future__ import annotations

import ast
import csv
import json
import math
import re
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSEWORK = ROOT / "coursework"
ASSIGNMENTS = sorted(p.stem for p in (COURSEWORK / "source").glob("*.ipynb"))
CELL_TIMEOUT = "10"  # seconds; the infinite-loop submissions wait this long once


def cells_of(path: Path) -> list[tuple[str, str]]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"])) for c in notebook["cells"]]


def submissions_as_notebooks(assignment: str, folder: Path, only: str = "*") -> Path:
    """Write each stored submission script of an assignment as the .ipynb a student hands in."""
    folder.mkdir(parents=True, exist_ok=True)
    for script in sorted((COURSEWORK / "submissions_for_tests" / assignment).glob(f"{only}.py")):
        jupytext.write(jupytext.read(script), folder / f"{script.stem}.ipynb")
    return folder


def expected(assignment: str) -> dict:
    return json.loads((COURSEWORK / "submissions_for_tests" / assignment / "expected.json")
                      .read_text(encoding="utf-8"))["cases"]


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """Every assignment regenerated from its source into a temporary dist folder."""
    dist = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, str(COURSEWORK / "build.py"), "--dist", str(dist),
                             "--jobs", "3"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return dist


@pytest.fixture(scope="session")
def graded(built, tmp_path_factory) -> dict:
    """grade.py run on each assignment's wrong submissions plus its reference solutions."""
    def grade(assignment: str):
        folder = tmp_path_factory.mktemp(assignment)
        submissions = submissions_as_notebooks(assignment, folder / "submissions")
        shutil.copy(built / assignment / "autograder" / f"{assignment}.ipynb",
                    submissions / "reference_solution.ipynb")
        command = [sys.executable, str(COURSEWORK / "grade.py"), assignment, str(submissions),
                   "--out", str(folder / "scores.csv"), "--results-dir", str(folder / "results"),
                   "--autograder", str(built / assignment / "autograder" / f"{assignment}-autograder.zip"),
                   "--jobs", "2", "--cell-timeout", CELL_TIMEOUT]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
        with (folder / "scores.csv").open(encoding="utf-8") as handle:
            rows = {Path(row["submission"]).stem: row for row in csv.DictReader(handle)}
        return assignment, {"returncode": result.returncode, "log": result.stdout + result.stderr,
                            "rows": rows, "results": folder / "results"}

    with ThreadPoolExecutor(max_workers=len(ASSIGNMENTS)) as pool:
        return dict(pool.map(grade, ASSIGNMENTS))


def test_three_assignments_with_10_to_20_points(built):
    assert ASSIGNMENTS == ["hw01_bernoulli_to_bce", "hw02_numerical_care", "hw03_training"]
    sys.path.insert(0, str(COURSEWORK))
    try:
        from grade import questions_of
    finally:
        sys.path.remove(str(COURSEWORK))
    for assignment in ASSIGNMENTS:
        questions = questions_of(built / assignment / "autograder" / f"{assignment}-autograder.zip")
        assert len(questions) >= 3, assignment
        assert 10 <= sum(questions.values()) <= 20, (assignment, questions)


def test_generated_files_are_not_committed_and_binder_builds_them():
    """dist/ is generated, never edited by hand: git ignores it, and Binder's postBuild
    regenerates it so that the launch links on the Coursework page open real notebooks."""
    assert "coursework/dist/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    post_build = (ROOT / "postBuild").read_text(encoding="utf-8")
    assert "coursework/build.py" in post_build
    page = (ROOT / "coursework.md").read_text(encoding="utf-8")
    for assignment in ASSIGNMENTS:
        path = f"coursework%2Fdist%2F{assignment}%2Fstudent%2F{assignment}.ipynb"
        assert path in page, f"the Coursework page does not launch {assignment}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_solutions_score_full_marks(graded, assignment):
    run = graded[assignment]
    row = run["rows"]["reference_solution"]
    assert row["status"] == "ok", run["log"]
    assert float(row["total"]) == float(row["possible"]), row


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_wrong_submissions_get_exactly_the_expected_scores(graded, assignment):
    run = graded[assignment]
    assert run["returncode"] == 0, "low scores must not make grade.py fail\n" + run["log"]
    cases = expected(assignment)
    assert set(run["rows"]) == set(cases) | {"reference_solution"}
    for case, spec in cases.items():
        row = run["rows"][case]
        assert row["status"] == "ok", (case, row)
        got = {question: float(row[question]) for question in spec["scores"]}
        assert got == {q: float(v) for q, v in spec["scores"].items()}, (case, spec["why"])
        assert float(row["total"]) == sum(got.values())
    # every question has a hidden test that public-test-only work fails
    public_only = run["rows"]["public_tests_only"]
    maximum = run["rows"]["reference_solution"]
    for question in cases["public_tests_only"]["scores"]:
        assert 0 < float(public_only[question]) < float(maximum[question]), question


def solution_lines(source: Path) -> set[str]:
    """Lines of the reference solutions that the student notebook must not contain: the code
    inside BEGIN/END SOLUTION blocks and on '# SOLUTION' lines, minus anything the source
    also shows outside solution cells (given helpers, hints in the prompts)."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    in_solution, secret, given = False, set(), set()
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw" and text.strip() in ("# BEGIN SOLUTION", "# END SOLUTION"):
            in_solution = text.strip() == "# BEGIN SOLUTION"
            continue
        lines = [line.strip() for line in text.splitlines()]
        if not in_solution:
            given.update(lines)
            continue
        inside = False
        for line in lines:
            if line == "# BEGIN SOLUTION":
                inside = True
            elif line == "# END SOLUTION":
                inside = False
            elif inside:
                secret.add(line)
            elif line.endswith("# SOLUTION"):
                secret.add(line.split("=", 1)[-1].removesuffix("# SOLUTION").strip())
    shown = "\n".join(given)
    return {line for line in secret if len(line) >= 8 and line not in shown}


def hidden_tests(zip_path: Path) -> list[ast.FunctionDef]:
    found = []
    with zipfile.ZipFile(zip_path) as bundle:
        for name in bundle.namelist():
            if name.startswith("tests/") and name.endswith(".py"):
                for node in ast.parse(bundle.read(name).decode("utf-8")).body:
                    if isinstance(node, ast.FunctionDef) and node.decorator_list \
                            and "hidden=True" in ast.unparse(node.decorator_list[0]):
                        found.append(node)
    return found


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebook_has_no_solution_and_no_hidden_test(built, assignment):
    student = built / assignment / "student" / f"{assignment}.ipynb"
    text = student.read_text(encoding="utf-8")
    sources = "\n".join(source for _, source in cells_of(student))
    secrets = solution_lines(COURSEWORK / "source" / f"{assignment}.ipynb")
    assert len(secrets) >= 4, secrets
    leaked = [line for line in secrets if line in sources or json.dumps(line)[1:-1] in text]
    assert not leaked, f"solution code in the student notebook: {leaked}"
    hidden = hidden_tests(built / assignment / "autograder" / f"{assignment}-autograder.zip")
    assert len(hidden) >= 4
    for test in hidden:
        assert test.name not in text, f"hidden test {test.name} is in the student notebook"
        for node in ast.walk(test):
            if isinstance(node, ast.Assert) and node.msg is not None:
                message = ast.unparse(node.msg)
                assert message.strip("'\"f") not in text, f"hidden test message in the student notebook: {message}"


ANSWERS = {  # values a failing hidden test must not reveal
    "hw01_bernoulli_to_bce": [-math.log(0.85), math.log(2)],
    "hw02_numerical_care": [-math.log(1e-7)],
    "hw03_training": [],  # the baseline depends on the data; computed in the test below
}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_failures_say_what_failed_not_the_answer(graded, assignment):
    values = list(ANSWERS[assignment])
    if assignment == "hw03_training":
        import numpy as np
        from sklearn.datasets import load_breast_cancer
        target = load_breast_cancer().target.astype(float)
        order = np.random.default_rng(2026).permutation(len(target))
        p, y_test = target[order[:400]].mean(), target[order[400:]]
        values.append(float(-np.mean(y_test * np.log(p) + (1 - y_test) * np.log(1 - p))))
    failures = 0
    for path in sorted(graded[assignment]["results"].glob("*.json")):
        for test in json.loads(path.read_text(encoding="utf-8"))["tests"]:
            if test.get("visibility") != "hidden":
                continue
            for block in re.split(r"\n\s*(?=\w+ - \d+ result:)", test.get("output", "")):
                if "Test case failed" not in block:
                    continue
                failures += 1
                # the last line names the property that failed (or the error the code raised)
                assert re.fullmatch(r"\w+: \S.*", block.strip().splitlines()[-1].strip()), (path.name, block)
                for value in values:
                    for shown in (f"{value:.3f}", f"{value:.4f}", repr(value)):
                        assert shown not in block, (path.name, shown, block)
    assert failures >= 5


def test_grade_exit_status_only_reflects_grading_failures(built, tmp_path):
    assignment = "hw01_bernoulli_to_bce"
    submissions = tmp_path / "submissions"
    submissions_as_notebooks(assignment, submissions, only="function_raises")
    (submissions / "not_a_notebook.ipynb").write_text("{ this is not json", encoding="utf-8")
    bundle = built / assignment / "autograder" / f"{assignment}-autograder.zip"

    # a whole-submission time limit too short to finish: scored 0 and reported, exit 0
    out = tmp_path / "short.csv"
    result = subprocess.run([sys.executable, str(COURSEWORK / "grade.py"), assignment, str(submissions),
                             "--out", str(out), "--autograder", str(bundle),
                             "--submission-timeout", "1"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["submission"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["function_raises.ipynb"]["status"] == "timed-out"
    assert rows["not_a_notebook.ipynb"]["status"] == "unreadable"
    assert all(float(row["total"]) == 0 for row in rows.values())

    # a broken autograder bundle is a grading failure: exit 1, but the CSV is still written
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(bundle) as good, zipfile.ZipFile(broken, "w") as bad:
        for name in good.namelist():
            bad.writestr(name, "{ broken" if name == "otter_config.json" else good.read(name))
    (submissions / "not_a_notebook.ipynb").unlink()
    out = tmp_path / "broken.csv"
    result = subprocess.run([sys.executable, str(COURSEWORK / "grade.py"), assignment, str(submissions),
                             "--out", str(out), "--autograder", str(broken)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [row["status"] for row in rows] == ["grading-error"]

    # no autograder bundle at all: a usage error
    result = subprocess.run([sys.executable, str(COURSEWORK / "grade.py"), "no_such_assignment",
                             str(submissions), "--out", str(tmp_path / "x.csv")],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2


def test_student_notebooks_run_with_only_the_pinned_packages(built):
    """Student notebooks import only numpy, scikit-learn and otter; no downloads, no files."""
    for assignment in ASSIGNMENTS:
        student = built / assignment / "student" / f"{assignment}.ipynb"
        code = "\n".join(source for kind, source in cells_of(student) if kind == "code")
        imports = set(re.findall(r"^\s*(?:import|from)\s+(\w+)", code, re.M))
        assert imports <= {"otter", "numpy", "sklearn"}, (assignment, imports)
        assert not re.search(r"(https?://|open\(|!pip|%pip|fetch_)", code), assignment
