#!/usr/bin/env python3
"""Grade a folder of submitted notebooks for one assignment, locally, into a CSV file.

Usage (from the project root):

    .venv/bin/python coursework/grade.py hw01_bernoulli_to_bce SUBMISSIONS_DIR --out scores.csv

Every ``*.ipynb`` in SUBMISSIONS_DIR is graded against the otter tests inside the autograder
bundle that ``coursework/build.py`` wrote
(``coursework/dist/ASSIGNMENT/autograder/ASSIGNMENT-autograder.zip``).  The student's code and
the tests never share a process (the threat model is in coursework/README.md):

1. the submission's code cells run, one by one, in a fresh IPython process (kernel_worker.py)
   inside a bubblewrap sandbox: no network, no view of the bundle, the other submissions or the
   repository, writes only to its own small temporary folder, a memory limit, and a CPU-time
   limit per cell;
2. the otter test functions run here, in the grader's own process.  Each name a test asks for
   is fetched from the sandbox as plain data (numbers, strings, numpy arrays: JSON and ``.npy``,
   never pickle); a student's function becomes a proxy whose call sends the arguments into the
   sandbox, runs the function there under the CPU-time limit, and returns the result (or the
   exception, or the warnings) as plain data.  Names the assignment itself provides (the data,
   given helpers such as ``bce_from_logits``) are taken from the instructor's notebook, not from
   the submission.  Every comparison, verdict and point is computed here.

Time limits count CPU seconds, so a busy machine cannot change a grade: ``--cpu-limit`` (60 s)
per cell and per test.  A stopped cell or test is named in the ``notes`` column.  A kernel
that dies (``os._exit``, a crash, the memory limit) is a result too: the cell that killed it
is skipped, the rest is graded, and ``notes`` says what happened.  Wall-clock limits remain
only as a generous backstop (``--wall-backstop`` per cell or call, ``--submission-timeout``
per submission, status ``timed-out``).

Exit status: 0 when every submission was graded, whatever the scores (a low score, an empty
notebook, a notebook that does not parse, a kernel that died is a result, written to the CSV);
1 when the grader itself failed for at least one submission (status ``grading-error``); 2 for
bad arguments, or when no sandbox is available and ``--unsandboxed`` was not given.
"""
from __future__ import annotations

import argparse
import base64
import builtins
import concurrent.futures
import contextlib
import copy
import csv
import importlib.util
import io
import json
import multiprocessing
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
import warnings
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER = HERE / "kernel_worker.py"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MAX_REPLY = 64 * 2**20  # bytes: a longer reply is a misbehaving kernel
MAX_RESTARTS = 3  # kernels started again after one died, per submission
MAX_MESSAGE = 5000  # characters of an exception or warning message the tests see
SANDBOX_FOLDER = 64 * 2**20  # bytes: each writable folder in the sandbox (/home/student, /tmp, /dev/shm)


# ---------------------------------------------------------------------------------------------
# The otter test files, read with otter's own classes (without otter/__init__.py, which imports
# nbconvert and costs about 3 s of CPU per grading run).

def _otter_test_files():
    if "otter.test_files" in sys.modules:
        return sys.modules["otter.test_files"]
    location = Path(importlib.util.find_spec("otter").submodule_search_locations[0]) / "test_files"
    package = sys.modules.setdefault("otter", types.ModuleType("otter"))
    package.__path__ = getattr(package, "__path__", [str(location.parent)])
    test_files = types.ModuleType("otter.test_files")
    test_files.__path__ = [str(location)]
    sys.modules["otter.test_files"] = test_files
    package.test_files = test_files
    for name in ("abstract_test", "exception_test"):
        spec = importlib.util.spec_from_file_location(f"otter.test_files.{name}", location / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        setattr(test_files, name, module)
    test_files.test_case = test_files.exception_test.test_case
    test_files.ExceptionTestFile = test_files.exception_test.ExceptionTestFile
    return test_files


def read_tests(zip_path: Path) -> dict[str, list]:
    """Question name -> otter TestCase list (name, body, hidden, points), from the bundle."""
    test_files = _otter_test_files()
    questions: dict[str, list] = {}
    with zipfile.ZipFile(zip_path) as bundle:
        for name in sorted(bundle.namelist()):
            match = re.fullmatch(r"tests/(\w+)\.py", name)
            if match:
                text = bundle.read(name).decode("utf-8")
                parsed = test_files.ExceptionTestFile.from_string(text, path=name)
                questions[match.group(1)] = parsed.test_cases
    if not questions:
        raise RuntimeError(f"{zip_path}: no tests/*.py inside; rebuild with coursework/build.py")
    return questions


def questions_of(zip_path: Path) -> dict[str, float]:
    """Question names and their points, read from the tests inside the autograder bundle."""
    return {question: float(sum(test.points for test in tests))
            for question, tests in read_tests(zip_path).items()}


def given_namespace(student_notebook: Path | None) -> dict:
    """The names the assignment provides (data, helpers), computed here from the instructor's
    generated student notebook: its code cells that are not answer cells and not otter's."""
    namespace: dict = {}
    if student_notebook is None or not student_notebook.is_file():
        return namespace
    notebook = json.loads(student_notebook.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "code" or "otter_answer_cell" in cell["metadata"].get("tags", []) \
                or "otter" in source or "grader." in source:
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, f"<given cell of {student_notebook.name}>", "exec"), namespace)
    return {name: value for name, value in namespace.items()
            if not name.startswith("_") and not isinstance(value, types.ModuleType)}


# ---------------------------------------------------------------------------------------------
# Plain data between the grader and the sandbox (the same format as kernel_worker.py).

def _npy(array) -> str:
    import numpy as np
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode(value, depth: int = 0):
    import numpy as np
    if depth > 30:
        raise TypeError("argument nested too deeply to send to the student's code")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufcUS":
        return {"__ndarray__": _npy(value)}
    if isinstance(value, np.generic) and value.dtype.kind in "biufcUS":
        return {"__npscalar__": _npy(np.asarray(value))}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item, depth + 1) for item in value]}
    if isinstance(value, list):
        return {"__list__": [encode(item, depth + 1) for item in value]}
    if isinstance(value, dict) and all(type(key) is str for key in value):
        return {"__dict__": {key: encode(item, depth + 1) for key, item in value.items()}}
    raise TypeError(f"cannot send a {type(value).__name__} to the student's code")


class Unsupported:
    """A student's value that is not plain data (an object of their own class, a module...).
    Tests cannot use it: every comparison or arithmetic with it raises TypeError."""

    def __init__(self, what: str):
        self._what = what

    def __repr__(self):
        return f"<unsupported value: {self._what}>"

    def _refuse(self, *args, **kwargs):
        raise TypeError(f"the submission's value is not plain data ({self._what})")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __bool__ = __float__ = __int__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _refuse
    __rtruediv__ = __neg__ = __abs__ = __len__ = __iter__ = __getitem__ = __call__ = _refuse
    __array__ = __matmul__ = __rmatmul__ = __pow__ = __rpow__ = _refuse
    __hash__ = object.__hash__


def decode(data, kernel: "Kernel | None" = None, name: str = "", depth: int = 0):
    """Turn a reply from the sandbox into plain Python/numpy values, refusing anything else."""
    import numpy as np
    if depth > 40:
        raise ValueError("reply nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError("malformed reply")
    (tag, inner), = data.items()
    if tag in ("__ndarray__", "__npscalar__"):
        array = np.load(io.BytesIO(base64.b64decode(inner, validate=True)), allow_pickle=False)
        if array.dtype.kind not in "biufcUS" or array.dtype.fields is not None or array.dtype.itemsize == 0:
            raise ValueError("unexpected dtype")
        return array[()] if tag == "__npscalar__" else array
    if tag == "__tuple__" and isinstance(inner, list):
        return tuple(decode(item, None, "", depth + 1) for item in inner)
    if tag == "__list__" and isinstance(inner, list):
        return [decode(item, None, "", depth + 1) for item in inner]
    if tag == "__dict__" and isinstance(inner, dict):
        return {str(key): decode(item, None, "", depth + 1) for key, item in inner.items()}
    if tag == "__callable__" and kernel is not None and name:
        return StudentFunction(kernel, name)
    if tag == "__callable__":
        return Unsupported("a function inside a value")
    if tag == "__missing__":
        return None  # as otter does: a name the notebook does not define is None
    if tag == "__opaque__":
        return Unsupported(str(inner)[:100])
    raise ValueError(f"unknown tag {tag!r}")


class KernelDied(Exception):
    """The student's process died (or was killed) while running a cell or a call."""


class CPUStopped(TimeoutError):
    """The student's code used up its CPU-time limit."""


class StudentError(Exception):
    """An exception from the student's code that is not a built-in Exception class."""


def _exception(described: dict) -> Exception:
    """The grader-side exception for one the student's code raised: the same built-in class
    (so that a test's ``except ValueError`` works), never the student's own class."""
    cls = getattr(builtins, str(described.get("type")), None)
    message = str(described.get("message", ""))[:MAX_MESSAGE]
    # StopIteration would silently end a loop in a test (map, next, a generator) instead of failing
    # it; MemoryError is kept for the grader's own limit (see grader_memory_limit)
    if isinstance(cls, type) and issubclass(cls, Exception) \
            and cls not in (StopIteration, StopAsyncIteration, MemoryError):
        try:
            return cls(message)
        except Exception:  # a built-in class that needs other arguments (UnicodeDecodeError...)
            pass
    return StudentError(f"{described.get('name', '?')}: {message}")


# ---------------------------------------------------------------------------------------------
# The sandbox.

def _python_paths() -> list[Path]:
    """Folders the sandboxed Python needs: its virtual environment and the base install."""
    paths = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    return sorted(paths)


def sandbox_command(work: Path, memory: int) -> list[str]:
    python = Path(sys.prefix).resolve() / "bin" / "python"
    command = ["bwrap", "--unshare-user", "--uid", "65534", "--gid", "65534",  # nobody, no capabilities
               "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session",
               # no user namespace inside: in one the student could mount a tmpfs without a size limit
               *(["--disable-userns"] if _bwrap_can_disable_userns() else []),
               "--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/" + link)
        if target.is_symlink():
            command += ["--symlink", os.readlink(target), str(target)]
        elif target.exists():
            command += ["--ro-bind", str(target), str(target)]
    for path in ("/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group"):
        command += ["--ro-bind-try", path, path]
    # Every writable place is a tmpfs of at most 64 MiB (bwrap's own root, /dev and a tmpfs
    # without --size would take up to half the machine's RAM): /dev and / are made read-only.
    size = ["--size", str(SANDBOX_FOLDER)]
    command += ["--proc", "/proc", "--dev", "/dev", *size, "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
                *size, "--tmpfs", "/tmp"]
    for path in _python_paths():
        command += ["--ro-bind", str(path), str(path)]
    command += ["--ro-bind", str(WORKER), "/grader/kernel_worker.py",
                *size, "--tmpfs", "/home/student", "--remount-ro", "/", "--chdir", "/home/student",
                "--clearenv", "--setenv", "HOME", "/home/student",
                "--setenv", "PATH", f"{python.parent}:/usr/bin:/bin",
                "--setenv", "LANG", "C.UTF-8", "--setenv", "MPLBACKEND", "Agg",
                "--setenv", "IPYTHONDIR", "/home/student/.ipython",
                "--setenv", "MPLCONFIGDIR", "/home/student/.mpl",
                "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "OMP_NUM_THREADS", "1",
                "--setenv", "MKL_NUM_THREADS", "1", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
                str(python), "-I", "/grader/kernel_worker.py"]
    return command


def unsandboxed_command(work: Path) -> list[str]:
    home = work / "home"
    home.mkdir(exist_ok=True)
    return [sys.executable, "-I", str(WORKER)]


_DISABLE_USERNS: list[bool] = []


def _bwrap_can_disable_userns() -> bool:
    """bubblewrap 0.8 and later can forbid user namespaces inside the sandbox (--disable-userns)."""
    if not _DISABLE_USERNS:
        probe = subprocess.run(["bwrap", "--unshare-user", "--disable-userns", "--ro-bind", "/", "/",
                                "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "true"],
                               capture_output=True, text=True)
        _DISABLE_USERNS.append(probe.returncode == 0)
    return _DISABLE_USERNS[0]


def sandbox_available() -> tuple[bool, str]:
    if shutil.which("bwrap") is None:
        return False, "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)"
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-user", "--unshare-net", "--unshare-pid",
                            "--dev", "/dev", "--proc", "/proc", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return False, "bwrap cannot create a sandbox here: " + probe.stderr.strip()[:200]
    return True, ""


def _process_tree_cpu(root: int) -> float:
    """CPU seconds used by a process and every descendant (read from /proc)."""
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total / CLOCK_TICKS


class Kernel:
    """One sandboxed kernel_worker.py process and its two pipes."""

    def __init__(self, settings: "Settings"):
        self.settings = settings
        self.process = None
        self.ready = False
        self.last_cpu = 0.0
        self.next_id = 0
        self.work = Path(tempfile.mkdtemp(prefix="grade-kernel-"))

    def start(self) -> None:
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        if self.settings.sandboxed:
            command = sandbox_command(self.work, self.settings.memory)
        else:
            command = unsandboxed_command(self.work)
        command += [str(to_worker_r), str(from_worker_w)]
        memory, cpu_total = self.settings.memory, self.settings.cpu_total

        def limits():
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_total, cpu_total + 5))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 2**20, 64 * 2**20))

        cwd = self.work if not self.settings.sandboxed else "/"
        self.process = subprocess.Popen(command, pass_fds=(to_worker_r, from_worker_w),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, preexec_fn=limits, cwd=cwd,
                                        start_new_session=True)
        os.close(to_worker_r)
        os.close(from_worker_w)
        self.to_worker, self.from_worker = to_worker_w, from_worker_r
        self.buffer = b""
        self.ready = False
        reply = self._receive(None, cpu_limit=None)  # the worker says it is ready
        if not reply.get("ready"):
            raise KernelDied("the kernel did not start")
        self.ready = True  # from now on the student's code runs, and may write anything to stderr

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        for fd in (self.to_worker, self.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def _death(self) -> str:
        self.process.wait()
        code = self.process.returncode
        stderr = self.process.stderr.read().decode("utf-8", "replace").strip() if self.process.stderr else ""
        if "bwrap:" in stderr and not self.ready:  # the sandbox failed to start: the grader's fault
            raise RuntimeError("bubblewrap failed: " + stderr[-300:])
        # a signal shows as a negative code, or (through bubblewrap's own init) as 128 + signal
        number = -code if code is not None and code < 0 else code - 128 if code and code > 128 else 0
        if number and number in {s.value for s in signal.Signals}:
            return f"was killed by signal {signal.Signals(number).name}"
        return f"exited with status {code}"

    def _receive(self, request_id, cpu_limit: float | None) -> dict:
        """Wait for one reply, watching the kernel's CPU time (and the wall-clock backstop)."""
        cpu_start = _process_tree_cpu(self.process.pid)
        wall_start = time.monotonic()
        grace = None if cpu_limit is None else cpu_limit + max(2.0, 0.2 * cpu_limit)
        while True:
            length = None
            if len(self.buffer) >= 8:
                length = int.from_bytes(self.buffer[:8], "big")
                if length > MAX_REPLY:
                    self.stop()
                    raise KernelDied("the kernel sent a reply too large to read (killed)")
                if len(self.buffer) >= 8 + length:
                    data, self.buffer = self.buffer[8:8 + length], self.buffer[8 + length:]
                    try:
                        reply = json.loads(data)
                        if not isinstance(reply, dict):
                            raise ValueError
                    except (ValueError, RecursionError):  # RecursionError: JSON nested too deeply
                        self.stop()
                        raise KernelDied("the kernel sent a malformed reply (killed)") from None
                    if reply.get("id") == request_id:
                        return reply
                    continue  # a reply the student's code forged: ignore it
            ready, _, _ = select.select([self.from_worker], [], [], 0.1)
            if ready:
                chunk = os.read(self.from_worker, 1 << 20)
                if not chunk:
                    raise KernelDied(f"the kernel {self._death()}")
                self.buffer += chunk
                continue
            if not self.alive():
                raise KernelDied(f"the kernel {self._death()}")
            if grace is not None and _process_tree_cpu(self.process.pid) - cpu_start > grace:
                self.stop()
                raise CPUStopped(f"stopped after {cpu_limit:g} s CPU (the kernel ignored the limit and was killed)")
            if time.monotonic() - wall_start > self.settings.wall_backstop:
                self.stop()
                raise CPUStopped(f"stopped by the {self.settings.wall_backstop:g} s wall-clock backstop "
                                 "(the kernel was killed)")

    def request(self, message: dict, cpu_limit: float | None = None) -> dict:
        if not self.alive():
            raise KernelDied("the kernel is not running")
        self.next_id += 1
        message = {**message, "id": self.next_id}
        data = json.dumps(message).encode("utf-8")
        try:
            os.write(self.to_worker, len(data).to_bytes(8, "big"))
            view = memoryview(data)
            while view:
                written = os.write(self.to_worker, view)
                view = view[written:]
        except BrokenPipeError:
            raise KernelDied(f"the kernel {self._death()}") from None
        start = _process_tree_cpu(self.process.pid)
        reply = self._receive(self.next_id, cpu_limit)
        # measured from outside: the kernel's own "cpu" figure is the student's to forge
        self.last_cpu = max(0.0, _process_tree_cpu(self.process.pid) - start)
        return reply


class StudentFunction:
    """Stands for a function of the submission: calling it runs the function in the sandbox
    (arguments in as plain data, result, exception or warnings back as plain data)."""

    def __init__(self, kernel: "Kernel", name: str):
        self._kernel, self._name = kernel, name

    def __repr__(self):
        return f"<the submission's function {self._name}>"

    def __call__(self, *args, **kwargs):
        return self._kernel.grading.call(self._name, args, kwargs)


# ---------------------------------------------------------------------------------------------
# Grading one submission.

class Settings:
    def __init__(self, cpu_limit: float, memory: int, wall_backstop: float, sandboxed: bool,
                 cpu_total: int = 3600):
        self.cpu_limit, self.memory, self.wall_backstop = cpu_limit, memory, wall_backstop
        self.sandboxed, self.cpu_total = sandboxed, cpu_total


def _question_of_cells(cells: list[str]) -> list[str]:
    """For each code cell, the question it answers: that of the next grader.check(...)."""
    owners, pending = [], []
    for index, source in enumerate(cells):
        pending.append(index)
        match = re.search(r"grader\.check\(\s*['\"](\w+)['\"]", source)
        if match:
            owners += [(i, match.group(1)) for i in pending]
            pending = []
    owners += [(i, "after the last question") for i in pending]
    return [question for _, question in sorted(owners)]


class Grading:
    def __init__(self, cells: list[str], settings: Settings, notes: list[str]):
        self.cells, self.settings, self.notes = cells, settings, notes
        self.owners = _question_of_cells(cells)
        self.skipped: set[int] = set()
        self.restarts = 0
        self.kernel: Kernel | None = None
        self.budget = settings.cpu_limit
        self.question = ""
        self.cell_errors: list[str] = []
        self.cancelled = False
        self.cpu_seconds = 0.0

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _new_kernel(self) -> Kernel:
        if self.cancelled:
            raise KernelDied("grading of this submission was cancelled by the wall-clock backstop")
        if self.kernel is not None:
            self.kernel.close()
        self.kernel = Kernel(self.settings)
        self.kernel.grading = self
        self.kernel.start()
        return self.kernel

    def execute(self) -> None:
        """Run every code cell once, in order; a cell that kills the kernel is skipped and the
        cells before it are run again in a new kernel."""
        self._new_kernel()
        index = 0
        while index < len(self.cells):
            if index in self.skipped:
                index += 1
                continue
            try:
                reply = self.kernel.request({"op": "run", "source": self.cells[index],
                                             "cpu": self.settings.cpu_limit}, self.settings.cpu_limit)
            except (KernelDied, CPUStopped) as error:
                self.note(f"{self.owners[index]}: cell {index + 1}: {error}; graded without that cell")
                self.skipped.add(index)
                if not self._restart(upto=index):
                    return
                index += 1
                continue
            if isinstance(reply.get("cpu"), (int, float)):
                self.cpu_seconds += float(reply["cpu"])
            if reply.get("stopped"):
                self.note(f"{self.owners[index]}: cell {index + 1} stopped after "
                          f"{self.settings.cpu_limit:g} s CPU")
            elif "error" in reply and isinstance(reply["error"], dict):
                error = reply["error"]
                if error.get("type") == "MemoryError":
                    self.note(f"{self.owners[index]}: cell {index + 1} ran out of memory "
                              f"({self.settings.memory / 2**30:g} GiB limit)")
                self.cell_errors.append(f"cell {index + 1}: {error.get('name')}: "
                                        f"{str(error.get('message'))[:200]}")
            index += 1

    def _restart(self, upto: int) -> bool:
        """A new kernel with cells [0, upto) run again (skipping the ones that failed before)."""
        if self.restarts >= MAX_RESTARTS:
            self.note(f"the kernel died {self.restarts + 1} times: the remaining cells and tests were not run")
            if self.kernel is not None:
                self.kernel.close()
            self.kernel = None
            return False
        self.restarts += 1
        self._new_kernel()
        for index in range(upto):
            if index in self.skipped:
                continue
            try:
                self.kernel.request({"op": "run", "source": self.cells[index],
                                     "cpu": self.settings.cpu_limit}, self.settings.cpu_limit)
            except (KernelDied, CPUStopped):
                self.skipped.add(index)
                return self._restart(upto)
        return True

    def values(self, names: list[str]) -> dict:
        if self.kernel is None or not self.kernel.alive():
            return {}
        reply = self.kernel.request({"op": "get", "names": names}, self.settings.cpu_limit)
        values = reply.get("values")
        if not isinstance(values, dict):
            return {}
        decoded = {}
        for name in names:
            try:
                decoded[name] = decode(values.get(name), self.kernel, name)
            except (ValueError, TypeError):
                decoded[name] = Unsupported("unreadable value")
        return decoded

    def call(self, name: str, args: tuple, kwargs: dict):
        if self.kernel is None or not self.kernel.alive():
            raise KernelDied("the kernel is not running")
        if self.budget <= 0:
            raise CPUStopped(f"stopped after {self.settings.cpu_limit:g} s CPU")
        top = warnings.filters[0] if warnings.filters else None
        errors = top is not None and top[0] == "error" and top[2] is Warning
        limit = self.budget
        try:
            reply = self.kernel.request({"op": "call", "name": name, "args": encode(list(args)),
                                         "kwargs": encode(dict(kwargs)), "errors": errors,
                                         "cpu": limit}, limit)
        except CPUStopped as error:
            self.budget = 0
            self.note(f"{self.question}: a test's call to {name} {error}")
            raise
        except KernelDied as error:
            self.note(f"{self.question}: {error} during a test's call to {name}")
            raise
        reported = reply.get("cpu")
        reported = float(reported) if type(reported) in (int, float) and 0 <= reported < 1e9 else 0.0  # not NaN
        self.budget -= max(reported, self.kernel.last_cpu)
        if reply.get("stopped"):
            self.budget = 0
            self.note(f"{self.question}: a test's call to {name} stopped after "
                      f"{self.settings.cpu_limit:g} s CPU")
            raise CPUStopped(f"{name} stopped after {self.settings.cpu_limit:g} s CPU")
        for category, message in reply.get("warnings", [])[:20]:
            cls = getattr(builtins, str(category), None)
            if not (isinstance(cls, type) and issubclass(cls, Warning)):
                cls = RuntimeWarning
            warnings.warn(str(message)[:MAX_MESSAGE], cls, stacklevel=2)
        if "raised" in reply and isinstance(reply["raised"], dict):
            raise _exception(reply["raised"])
        if "failed" in reply:
            raise StudentError("the call could not be made in the kernel")
        if "result" not in reply:
            raise StudentError("the kernel returned no result")
        return decode(reply["result"], None, "")


def _address_space() -> int:
    """Bytes of address space this process uses now (VmSize)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


@contextlib.contextmanager
def grader_memory_limit(headroom: int):
    """While a test runs here, this process may grow by at most ``headroom`` bytes: a test computes
    with the submission's values (``X_train @ w + b`` with ``b`` of shape (n, 1, 1) broadcasts to
    gigabytes), and without a limit that would take the grading machine's memory.  Past it the
    test gets MemoryError and fails."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + headroom
    for bound in (soft, hard):
        if bound != resource.RLIM_INFINITY:
            limit = min(limit, bound)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def code_cells(notebook: dict) -> list[str]:
    cells = []
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        cells.append("".join(source) if isinstance(source, list) else str(source))
    return cells


def grade_one(submission: Path, tests: dict[str, list], given: dict, settings: Settings,
              results_dir: Path | None = None, holder: dict | None = None) -> dict:
    row: dict = {"submission": submission.name, **{q: 0.0 for q in tests}, "notes": ""}
    try:
        notebook = json.loads(submission.read_text(encoding="utf-8"))
        if not isinstance(notebook, dict) or not isinstance(notebook.get("cells", []), list):
            raise ValueError("not a notebook")
        cells = code_cells(notebook)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError, RecursionError):
        row["status"] = "unreadable"
        return row

    notes: list[str] = []
    grading = Grading(cells, settings, notes)
    if holder is not None:
        holder["grading"] = grading
    feedback = []
    try:
        try:
            grading.execute()
        except KernelDied as error:  # the very first kernel did not start
            grading.note(str(error))
            if grading.cancelled:
                raise
        names = sorted({name for cases in tests.values() for case in cases
                        for name in case.body._get_func_params() if name not in given})
        try:
            student = grading.values(names)
        except (KernelDied, CPUStopped) as error:
            grading.note(f"reading the answers: {error}")
            student = {}
        for question, cases in tests.items():
            grading.question = question
            for case in cases:
                grading.budget = settings.cpu_limit
                if grading.kernel is not None and not grading.kernel.alive():
                    grading._restart(upto=len(cells))  # the last test killed it: a new one
                environment = {name: copy.deepcopy(value) for name, value in given.items()}
                environment.update({name: value for name, value in student.items()})
                passed, message = True, ""
                try:
                    with warnings.catch_warnings(), grader_memory_limit(max(2**30, 2 * settings.memory)):
                        case.body.call_func(environment)
                except Exception as error:  # the test failed (or the student's code raised)
                    passed, message = False, f"{type(error).__name__}: {str(error)[:300]}"
                    if isinstance(error, MemoryError):
                        grading.note(f"{question}: a test ran out of memory in the grader "
                                     "(the submission's values are too large)")
                if passed:
                    row[question] += float(case.points)
                feedback.append({"question": question, "test": case.name, "hidden": bool(case.hidden),
                                 "points": float(case.points), "passed": passed,
                                 "message": message})
    finally:
        if grading.kernel is not None:
            grading.kernel.close()
    row["status"] = "ok"
    row["notes"] = "; ".join(notes)
    if results_dir is not None:
        (results_dir / f"{submission.stem}.json").write_text(json.dumps(
            {"submission": submission.name, "scores": {q: row[q] for q in tests},
             "notes": notes, "cell_errors": grading.cell_errors,
             "cells_cpu_seconds": round(grading.cpu_seconds, 3), "tests": feedback},
            indent=1), encoding="utf-8")
    return row


class Grader:
    """Grades submissions one by one in this process, with a whole-submission wall-clock
    backstop enforced by a watchdog thread that kills the sandbox."""

    def __init__(self, tests, given, settings, results_dir, submission_timeout):
        self.tests, self.given, self.settings = tests, given, settings
        self.results_dir, self.submission_timeout = results_dir, submission_timeout

    def __call__(self, submission: Path) -> dict:
        row = {"submission": submission.name, **{q: 0.0 for q in self.tests}, "notes": ""}
        import threading
        finished = threading.Event()
        holder: dict = {}

        def work():
            try:
                holder["row"] = grade_one(submission, self.tests, self.given, self.settings,
                                          self.results_dir, holder)
            except BaseException as error:  # noqa: B036
                holder["error"] = f"{type(error).__name__}: {error}"
            finally:
                finished.set()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        if not finished.wait(self.submission_timeout):
            grading = holder.get("grading")
            if grading is not None:
                grading.cancelled = True
                kernel = grading.kernel
                if kernel is not None and kernel.process is not None:
                    try:
                        os.killpg(kernel.process.pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
            finished.wait(60)
            row["status"] = "timed-out"
            row["notes"] = f"the whole submission ran longer than the {self.submission_timeout:g} s backstop"
            return row
        if "error" in holder:
            print(f"grade.py: grading {submission.name} failed: {holder['error']}", file=sys.stderr)
            row["status"] = "grading-error"
            row["notes"] = holder["error"][:300]
            return row
        return holder["row"]


def _grade_chunk(args) -> list[dict]:
    submissions, tests_zip, given_notebook, settings, results_dir, submission_timeout = args
    grader = Grader(read_tests(tests_zip), given_namespace(given_notebook), settings, results_dir,
                    submission_timeout)
    return [grader(path) for path in submissions]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="assignment name, e.g. hw01_bernoulli_to_bce")
    parser.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--autograder", type=Path, help="autograder zip (default: the built one)")
    parser.add_argument("--given", type=Path,
                        help="the generated student notebook whose non-answer cells define the names "
                             "the assignment provides (default: ../student/ASSIGNMENT.ipynb next to "
                             "the zip's folder)")
    parser.add_argument("--results-dir", type=Path,
                        help="also write each submission's feedback (every test's verdict and message) here")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    parser.add_argument("--cpu-limit", "--cell-timeout", dest="cpu_limit", type=float, default=60.0,
                        help="CPU seconds per cell and per test (default 60)")
    parser.add_argument("--memory", type=float, default=2.0,
                        help="address-space limit of the student's process, GiB (default 2)")
    parser.add_argument("--wall-backstop", type=float,
                        help="wall-clock seconds after which one cell or test call is killed "
                             "(default: 10 x the CPU limit, at least 300)")
    parser.add_argument("--submission-timeout", type=float, default=3600.0,
                        help="wall-clock backstop for one whole submission (default 3600 s)")
    parser.add_argument("--unsandboxed", action="store_true",
                        help="run students' code WITHOUT the bubblewrap sandbox (only if you trust it)")
    args = parser.parse_args(argv)

    zip_path = args.autograder or HERE / "dist" / args.assignment / "autograder" / f"{args.assignment}-autograder.zip"
    if not zip_path.is_file():
        parser.error(f"no autograder bundle at {zip_path}: run coursework/build.py first")
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    sandboxed = not args.unsandboxed
    if sandboxed:
        ok, why = sandbox_available()
        if not ok:
            print(f"grade.py: REFUSING TO GRADE: {why}.\n"
                  "Without a sandbox the students' code could read the hidden tests, reach the\n"
                  "network and see each other's files. Install bubblewrap, or pass --unsandboxed\n"
                  "if you accept that risk.", file=sys.stderr)
            return 2
        if not _bwrap_can_disable_userns():
            print("grade.py: WARNING: this bubblewrap is older than 0.8 (no --disable-userns): a student's code "
                  "can mount a tmpfs of its own and fill the machine's memory.", file=sys.stderr)
    else:
        print("grade.py: WARNING: grading WITHOUT a sandbox (--unsandboxed): the students' code "
              "runs with your permissions.", file=sys.stderr)
    given_notebook = args.given or zip_path.resolve().parent.parent / "student" / f"{args.assignment}.ipynb"
    try:
        tests = read_tests(zip_path)
        given_namespace(given_notebook)
        bundle_error = ""
    except Exception as error:  # a broken bundle: every row is a grading error
        print(f"grade.py: cannot read the tests in {zip_path}: {type(error).__name__}: {error}",
              file=sys.stderr)
        tests, bundle_error = {}, f"{type(error).__name__}: {error}"[:300]
    questions = {q: float(sum(case.points for case in cases)) for q, cases in tests.items()}
    if args.results_dir is not None:
        args.results_dir.mkdir(parents=True, exist_ok=True)
    submissions = sorted(args.submissions.glob("*.ipynb"))
    settings = Settings(args.cpu_limit, int(args.memory * 2**30),
                        args.wall_backstop or max(300.0, 10 * args.cpu_limit), sandboxed)

    start = time.monotonic()
    jobs = max(1, min(args.jobs, len(submissions)))
    chunks = [submissions[i::jobs] for i in range(jobs)]
    work = [(chunk, zip_path, given_notebook, settings, args.results_dir, args.submission_timeout)
            for chunk in chunks]
    if bundle_error:
        results = [[{"submission": path.name, "status": "grading-error", "notes": bundle_error}
                    for path in submissions]]
    elif jobs == 1:
        results = [_grade_chunk(work[0])] if submissions else []
    else:  # separate processes: the tests change global state (warnings filters, mpmath)
        with concurrent.futures.ProcessPoolExecutor(
                jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_grade_chunk, work))
    by_name = {row["submission"]: row for chunk in results for row in chunk}
    rows = [by_name[path.name] for path in submissions]
    possible = sum(questions.values())
    for row in rows:
        row["total"] = sum(row[q] for q in questions)
        row["possible"] = possible

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["submission", *questions, "total", "possible", "status", "notes"])
        writer.writeheader()
        for row in rows:
            writer.writerow({key: (f"{value:g}" if isinstance(value, float) else value)
                             for key, value in row.items()})
    failed = [row["submission"] for row in rows if row["status"] == "grading-error"]
    print(f"grade.py: {len(rows)} submission(s) of {args.assignment} graded in "
          f"{time.monotonic() - start:.1f} s -> {args.out}"
          + (f"; grading FAILED for {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
