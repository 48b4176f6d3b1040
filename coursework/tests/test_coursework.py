"""The coursework (coursework/): otter-grader assignments, built and graded for real.

One session builds every assignment into a temporary folder with ``coursework/build.py
--no-run-tests`` (``otter assign`` without its own run of the tests: grading the reference
solutions below, with full marks required, checks the same), then grades, with ``coursework/grade.py`` and that fresh autograder bundle,
the reference solutions and every case in ``coursework/submissions_for_tests/NAME.yml``:
honest wrong answers, and attacks by a student who wants marks without the work. Each case is
stored as the answer cells it changes; the test applies them to the generated notebooks.

The grading uses a CPU-time limit of CPU_LIMIT seconds, never a wall-clock one, so load cannot
change a score; that is checked by running the whole suite beside a CPU hog on every core
(``python3 benchmarks/under_load.py -- python3 dev.py test``, README "Tests under load"), not by
a hog inside this file, which would double the suite's time. Submissions are graded one at a
time, so the suite does not overload the machine.
"""
from __future__ import annotations

import ast
import csv
import hashlib
import http.server
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
import yaml

from book import ROOT  # noqa: E402  (tests/book.py, on pytest's pythonpath)
COURSEWORK = ROOT / "coursework"
ASSIGNMENTS = sorted(p.stem for p in (COURSEWORK / "source").glob("*.ipynb"))
# CPU seconds per cell and per test; the infinite loops use this much, once each. The slowest honest
# cell is hw03's first, which imports numpy and scikit-learn and loads the data: 1.4-1.8 s of CPU
# on a 2-core Intel Xeon (the same beside a CPU hog); slow_but_correct's training cell needs
# 0.9-1.2 s. 4 s is over twice the slowest cell's 1.8 s: room for a slower machine.
CPU_LIMIT = "4"
MEMORY = "1"  # GiB of address space for the student's process (the memory-bomb case asks for more)


def cells_of(path: Path) -> list[tuple[str, str]]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"])) for c in notebook["cells"]]


def cases(assignment: str) -> dict:
    path = COURSEWORK / "submissions_for_tests" / f"{assignment}.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]


def answer_cell_indices(notebook: dict) -> dict[str, int]:
    """Question -> index of its answer cell: the code cell just before grader.check("qN")."""
    found = {}
    for index, cell in enumerate(notebook["cells"]):
        match = re.fullmatch(r'\s*grader\.check\("(\w+)"\)\s*', "".join(cell["source"]))
        if match:
            answer = index - 1
            while notebook["cells"][answer]["cell_type"] != "code":
                answer -= 1
            found[match.group(1)] = answer
    return found


def make_submission(built: Path, assignment: str, spec: dict, fill: dict) -> dict:
    """The notebook a student would hand in for one case: the generated student notebook with
    the reference answers (or, with ``base: student``, the blanks), the case's answer cells and
    appended cells; placeholders such as __PORT__ filled in."""
    if "notebook" in spec:
        return spec["notebook"]
    student = json.loads((built / assignment / "student" / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    reference = json.loads((built / assignment / "autograder" / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    answers = answer_cell_indices(student)
    from_reference = answer_cell_indices(reference)
    assert set(answers) == set(from_reference) and set(spec.get("answers", {})) <= set(answers)
    for question, index in answers.items():
        if question in spec.get("answers", {}):
            source = spec["answers"][question]
        elif spec.get("base") == "student":
            continue
        else:
            source = "".join(reference["cells"][from_reference[question]]["source"])
        student["cells"][index]["source"] = source
    for source in spec.get("append", []):
        student["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {},
                                 "outputs": [], "source": source})
    text = json.dumps(student)
    for key, value in fill.items():
        text = text.replace(key, json.dumps(str(value))[1:-1])
    return json.loads(text)


def needed_assignments(session) -> list[str]:
    """The assignments the selected tests of this file use: only those named in the selected
    tests' parameters when every selected test here is parametrized by an assignment (so
    ``pytest -k hw04`` builds and grades hw04 alone), otherwise all of them."""
    needed = set()
    for item in session.items:
        if Path(str(item.fspath)).resolve() != Path(__file__).resolve():
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "assignment" not in params:
            return ASSIGNMENTS
        needed.add(params["assignment"])
    return sorted(needed) or ASSIGNMENTS


@pytest.fixture(scope="session")
def built(request, tmp_path_factory) -> Path:
    """Every assignment the selected tests need, regenerated from its source into a temporary
    dist folder. Otter's own run of the tests on the solutions is skipped (--no-run-tests): the
    `graded` fixture grades each reference solution with every test, public and hidden, and
    test_reference_solutions_score_full_marks requires full marks, which checks the same thing."""
    dist = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, str(COURSEWORK / "build.py"), "--dist", str(dist),
                             "--jobs", "3", "--no-run-tests", *needed_assignments(request.session)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return dist


@pytest.fixture(scope="session")
def answer_server():
    """A server on 127.0.0.1 that hands out the right answer to hw01 q4 (and counts requests)."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = repr(-math.log(0.85)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def graded(request, built, answer_server, tmp_path_factory) -> dict:
    """grade.py run on each assignment's cases plus its reference solutions."""
    port, hits = answer_server
    runs = {}
    for assignment in needed_assignments(request.session):
        folder = tmp_path_factory.mktemp(assignment)
        submissions, out, results = folder / "submissions", folder / "out" / "scores.csv", folder / "results"
        submissions.mkdir()
        bundle = built / assignment / "autograder" / f"{assignment}-autograder.zip"
        # a copy of the instructor's source (the tampering case tries to delete what it finds)
        source = folder / "repository" / "coursework" / "source" / f"{assignment}.ipynb"
        source.parent.mkdir(parents=True)
        shutil.copy(COURSEWORK / "source" / f"{assignment}.ipynb", source)
        fill = {"__ZIP__": bundle, "__SOURCE__": source, "__REPOSITORY_SOURCE__": COURSEWORK / "source" / f"{assignment}.ipynb", "__OUT__": out, "__RESULTS__": results,
                "__PORT__": port}
        for case, spec in cases(assignment).items():
            notebook = make_submission(built, assignment, spec, fill)
            (submissions / f"{case}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
        shutil.copy(built / assignment / "autograder" / f"{assignment}.ipynb",
                    submissions / "reference_solution.ipynb")
        protected = {path: digest(path) for path in (bundle, source)}
        command = [sys.executable, str(COURSEWORK / "grade.py"), assignment, str(submissions),
                   "--out", str(out), "--results-dir", str(results), "--autograder", str(bundle),
                   "--cpu-limit", CPU_LIMIT, "--memory", MEMORY]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
        with out.open(encoding="utf-8") as handle:
            rows = {Path(row["submission"]).stem: row for row in csv.DictReader(handle)}
        runs[assignment] = {"returncode": result.returncode, "log": result.stdout + result.stderr,
                            "rows": rows, "results": results, "folder": folder,
                            "protected": protected, "hits": list(hits), "bundle": bundle}
    return runs


def test_four_assignments_with_10_to_20_points(built):
    assert ASSIGNMENTS == ["hw01_bernoulli_to_bce", "hw02_numerical_care", "hw03_training",
                           "hw04_weights_and_calibration"]
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
def test_every_case_gets_exactly_its_scores(graded, assignment):
    """Honest wrong answers lose exactly the right points; attacks earn only their honest part;
    a kernel that dies or a cell that is stopped is a result (status ok, exit 0)."""
    run = graded[assignment]
    assert run["returncode"] == 0, "low scores must not make grade.py fail\n" + run["log"]
    specs = cases(assignment)
    assert set(run["rows"]) == set(specs) | {"reference_solution"}
    wrong = {}
    for case, spec in specs.items():
        row = run["rows"][case]
        got = {question: float(row[question]) for question in spec["scores"]}
        if row["status"] != "ok" or got != {q: float(v) for q, v in spec["scores"].items()}:
            wrong[case] = (row["status"], got, spec["scores"], row["notes"], spec["why"])
        assert float(row["total"]) == sum(got.values())
    assert not wrong, wrong
    # every question has a hidden test that public-test-only work fails
    public_only = run["rows"]["public_tests_only"]
    maximum = run["rows"]["reference_solution"]
    for question in specs["public_tests_only"]["scores"]:
        assert 0 < float(public_only[question]) < float(maximum[question]), question


def test_attacks_change_nothing_outside_the_sandbox(graded):
    """The bundle and the instructor's source are unchanged, the network server was never
    reached, no results file appeared in the output folders, and the feedback holds no test code."""
    for assignment, run in graded.items():
        for path, before in run["protected"].items():
            assert path.exists() and digest(path) == before, f"{path} was changed by a submission"
        assert run["hits"] == [], "a submission reached the network"
        extra = {p.name for p in (run["folder"] / "out").iterdir()} - {"scores.csv"}
        extra |= {p.name for p in run["results"].iterdir()} - {f"{c}.json" for c in run["rows"]}
        assert not extra, f"files written by a submission: {extra}"
        hidden = [test.name for test in hidden_tests(run["bundle"])]
        for path in run["results"].glob("*.json"):
            text = path.read_text(encoding="utf-8")
            assert "def test_" not in text and "test_case" not in text, path
            assert not any(name in text for name in hidden), path


def test_notes_say_which_question_was_stopped_or_lost_its_kernel(graded):
    rows = graded["hw01_bernoulli_to_bce"]["rows"]
    assert re.search(rf"q4: cell \d+ stopped after {CPU_LIMIT} s CPU", rows["infinite_loop"]["notes"])
    assert re.search(r"q3: cell \d+: the kernel exited with status 0", rows["os_exit_in_a_cell"]["notes"])
    assert "SIGSEGV" in rows["segfault_in_a_cell"]["notes"]
    assert re.search(r"q1: the kernel was killed by signal SIGKILL during a test's call to bernoulli_likelihood",
                     rows["kills_kernel_during_hidden_test"]["notes"])
    assert re.search(rf"q5: cell \d+: stopped after {CPU_LIMIT} s CPU \(the kernel ignored the limit",
                     rows["ignores_the_cpu_limit"]["notes"])
    assert re.search(r"q4: cell \d+ ran out of memory \(1 GiB limit\)", rows["memory_bomb"]["notes"])
    assert rows["reference_solution"]["notes"] == "" and rows["sign_error"]["notes"] == ""


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
    "hw04_weights_and_calibration": [],  # the Brier score and temperatures: computed below
}


def hw04_answers() -> list[float]:
    """hw04's Brier score of the given predictions, and the temperatures that minimise the BCE
    on the given data and on the hidden q4 test's data (same seeds and recipes as there)."""
    import numpy as np

    def sigmoid(z):
        return 0.5 * (1 + np.tanh(z / 2))  # no overflow for large |z|

    def temperature(y, z):
        low, high = 1e-4, 1e4  # bisection on the slope of the mean BCE in s = 1 / T
        for _ in range(200):
            middle = (low + high) / 2
            low, high = (middle, high) if np.mean((sigmoid(middle * z) - y) * z) < 0 else (low, middle)
        return 2 / (low + high)

    rng = np.random.default_rng(2026)
    true_logits = rng.normal(0, 2, size=1000)
    y_val = (rng.random(1000) < sigmoid(true_logits)).astype(float)
    z_val = 2 * true_logits
    rng = np.random.default_rng(44)
    true_logits = rng.normal(0.3, 1.5, size=3000)
    y_hidden = (rng.random(3000) < sigmoid(true_logits)).astype(float)
    z_hidden = 3 * true_logits + rng.normal(0, 1, size=3000)
    return [float(np.mean((sigmoid(z_val) - y_val) ** 2)), float(temperature(y_val, z_val)),
            float(temperature(y_hidden, z_hidden))]


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
    if assignment == "hw04_weights_and_calibration":
        values += hw04_answers()
    failures = 0
    for path in sorted(graded[assignment]["results"].glob("*.json")):
        for test in json.loads(path.read_text(encoding="utf-8"))["tests"]:
            if not test["hidden"] or test["passed"]:
                continue
            failures += 1
            # the message names the property that failed (or the error the code raised)
            assert re.fullmatch(r"\w+: \S.*", test["message"], re.S), (path.name, test)
            for value in values:
                for shown in (f"{value:.3f}", f"{value:.4f}", repr(value)):
                    assert shown not in test["message"], (path.name, shown, test)
    assert failures >= 5


def grade(assignment, submissions, out, bundle, *options, env=None):
    return subprocess.run([sys.executable, str(COURSEWORK / "grade.py"), assignment, str(submissions),
                           "--out", str(out), "--autograder", str(bundle), *options],
                          cwd=ROOT, capture_output=True, text=True, env=env)


def test_grade_exit_status_only_reflects_grading_failures(built, tmp_path):
    assignment = "hw01_bernoulli_to_bce"
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    spec = cases(assignment)["function_raises"]
    (submissions / "function_raises.ipynb").write_text(
        json.dumps(make_submission(built, assignment, spec, {})), encoding="utf-8")
    (submissions / "not_a_notebook.ipynb").write_text("{ this is not json", encoding="utf-8")
    # JSON, but not nbformat: a code cell whose source is a list of numbers
    (submissions / "not_nbformat.ipynb").write_text(json.dumps(
        {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": [1, 2]}],
         "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    bundle = built / assignment / "autograder" / f"{assignment}-autograder.zip"

    # the whole-submission wall-clock backstop: scored 0 and reported, exit 0
    out = tmp_path / "short.csv"
    result = grade(assignment, submissions, out, bundle, "--submission-timeout", "0.01")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["submission"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["function_raises.ipynb"]["status"] == "timed-out"
    assert "backstop" in rows["function_raises.ipynb"]["notes"]
    assert rows["not_a_notebook.ipynb"]["status"] == "unreadable"
    assert rows["not_nbformat.ipynb"]["status"] == "unreadable"
    assert all(float(row["total"]) == 0 for row in rows.values())

    # a broken autograder bundle is a fault of the grader: exit 1, but the CSV is still written
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(bundle) as good, zipfile.ZipFile(broken, "w") as bad:
        for name in good.namelist():
            bad.writestr(name, "def broken(:" if name == "tests/q1.py" else good.read(name))
    (submissions / "not_a_notebook.ipynb").unlink()
    (submissions / "not_nbformat.ipynb").unlink()
    out = tmp_path / "broken.csv"
    result = grade(assignment, submissions, out, broken)
    assert result.returncode == 1, result.stdout + result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [row["status"] for row in rows] == ["grading-error"]

    # no autograder bundle at all: a usage error
    result = grade("no_such_assignment", submissions, tmp_path / "x.csv", tmp_path / "none.zip")
    assert result.returncode == 2


def test_grade_refuses_to_run_without_a_sandbox(built, tmp_path):
    """With no bubblewrap on PATH grade.py refuses (exit 2) unless told --unsandboxed."""
    assignment = "hw01_bernoulli_to_bce"
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(built / assignment / "autograder" / f"{assignment}.ipynb", submissions / "reference.ipynb")
    bundle = built / assignment / "autograder" / f"{assignment}-autograder.zip"
    no_bwrap = {**os.environ, "PATH": str(tmp_path / "empty")}
    result = grade(assignment, submissions, tmp_path / "a.csv", bundle, env=no_bwrap)
    assert result.returncode == 2 and "REFUSING" in result.stderr, result.stderr
    assert not (tmp_path / "a.csv").exists()
    result = grade(assignment, submissions, tmp_path / "b.csv", bundle, "--unsandboxed", env=no_bwrap)
    assert result.returncode == 0 and "WITHOUT a sandbox" in result.stderr, result.stdout + result.stderr
    row = next(csv.DictReader((tmp_path / "b.csv").open(encoding="utf-8")))
    assert row["total"] == row["possible"] == "13", row


def test_student_notebooks_run_with_only_the_pinned_packages(built):
    """Student notebooks import only numpy, scikit-learn and otter; no downloads, no files."""
    for assignment in ASSIGNMENTS:
        student = built / assignment / "student" / f"{assignment}.ipynb"
        code = "\n".join(source for kind, source in cells_of(student) if kind == "code")
        imports = set(re.findall(r"^\s*(?:import|from)\s+(\w+)", code, re.M))
        assert imports <= {"otter", "numpy", "sklearn"}, (assignment, imports)
        assert not re.search(r"(https?://|open\(|!pip|%pip|fetch_)", code), assignment
