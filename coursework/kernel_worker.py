"""The student's side of coursework/grade.py: runs INSIDE the sandbox, one process per submission.

grade.py starts this file with ``python -I kernel_worker.py IN_FD OUT_FD`` under bubblewrap
and talks to it through two pipes, one request at a time, in length-prefixed JSON (8-byte
big-endian length, then UTF-8 JSON; numpy arrays travel as base64 ``.npy`` bytes written
with ``allow_pickle=False``).  Requests:

* ``{"op": "run", "source": CELL, "cpu": SECONDS}``: run one notebook cell in an IPython shell;
* ``{"op": "get", "names": [...]}``: the values of names the tests use, as plain data (a
  function is sent as a marker; grade.py then calls it through ``call``);
* ``{"op": "call", "name": NAME, "args": [...], "kwargs": {...}, "errors": BOOL, "cpu": SECONDS}``:
  call the student's function with plain-data arguments; the reply is the result as plain
  data, or the exception raised (its nearest built-in class, its own name and its message),
  plus the warnings raised (``errors``: warnings are raised as errors, as the test asked).

Nothing here is trusted: the student's code runs in this process and may replace any of it.
That is fine, because every verdict is decided in grade.py's own process from the plain
data this process returns, and no expected value is ever sent here.  The CPU-time limit set
here (``ITIMER_PROF``) only stops a cell politely; grade.py watches this process's CPU time
from outside and kills it if the limit is ignored.
"""
import base64
import io
import json
import os
import resource
import signal
import sys
import types
import warnings
# The worker's own references, so that a student who patches builtins does not break the replies
# (the student can still break this process on purpose: that only spoils their own answers).
from builtins import (BaseException, bool, callable, dict, float, int, isinstance, issubclass,  # noqa: A004
                      len, list, max, str, tuple, type)

IN_FD, OUT_FD = int(sys.argv[1]), int(sys.argv[2])
_in = os.fdopen(IN_FD, "rb", buffering=0)
_out = os.fdopen(OUT_FD, "wb", buffering=0)

# The student's output is not kept (grade.py never shows it): send it nowhere.
_null = os.open(os.devnull, os.O_WRONLY)
os.dup2(_null, 1)
os.dup2(_null, 2)
_stdin = os.open(os.devnull, os.O_RDONLY)
os.dup2(_stdin, 0)


class _Grader:
    """Stands in for ``otter.Notebook`` while grading: ``grader.check("q1")`` does nothing here
    (the public tests are run by grade.py with the hidden ones, outside this process)."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


_otter = types.ModuleType("otter")
_otter.Notebook = _Grader
sys.modules["otter"] = _otter

import numpy as np  # noqa: E402  (after the fd set-up: numpy may print at import)
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from traitlets.config import Config  # noqa: E402


class _Shell(InteractiveShell):
    """IPython's shell without a front end: ``%matplotlib inline`` (or any GUI) must not stop the
    rest of a cell, as it would in the bare InteractiveShell (NotImplementedError)."""

    def enable_gui(self, gui=None):
        pass


_config = Config()
_config.HistoryManager.enabled = False
_shell = _Shell.instance(config=_config)


class CPUTimeLimit(BaseException):
    """Raised in the student's code when its CPU time runs out (not an Exception, so that a
    bare ``except Exception`` in the student's code does not swallow it)."""


_state = {"stopped": False}


def _on_cpu_limit(signum, frame):
    _state["stopped"] = True
    raise CPUTimeLimit("stopped by the grader: CPU-time limit reached")


signal.signal(signal.SIGPROF, _on_cpu_limit)


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _arm(seconds: float) -> None:
    _state["stopped"] = False
    # re-fires every 0.5 s of CPU if the student's code catches the first one
    signal.setitimer(signal.ITIMER_PROF, max(seconds, 0.01), 0.5)


def _disarm() -> None:
    signal.setitimer(signal.ITIMER_PROF, 0, 0)


def _npy(array) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode(value, depth=0):
    """Plain data only: None, bool, int, float, str, list, tuple, dict with str keys, numpy
    arrays and scalars of numbers or strings, and objects that convert to such an array (a pandas
    Series arrives as its numbers).  Anything else is sent as an opaque marker."""
    if depth > 30:
        return {"__opaque__": "nested too deeply"}
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if isinstance(value, np.ndarray):
        array = np.asarray(value)
        if array.dtype.kind in "biufcUS" and array.dtype.fields is None:
            return {"__ndarray__": _npy(array)}
        return {"__opaque__": f"numpy array of dtype {array.dtype}"}
    if isinstance(value, np.generic):
        if value.dtype.kind in "biufcUS":
            return {"__npscalar__": _npy(np.asarray(value))}
        return {"__opaque__": type(value).__name__}
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):  # a float subclass arrives as a plain float
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item, depth + 1) for item in value]}
    if isinstance(value, list):
        return {"__list__": [encode(item, depth + 1) for item in value]}
    if isinstance(value, dict) and all(type(key) is str for key in value):
        return {"__dict__": {key: encode(item, depth + 1) for key, item in value.items()}}
    if hasattr(kind, "__array__") and not isinstance(value, type):  # a pandas Series...: its numbers
        array = np.asarray(value)
        if type(array) is np.ndarray and array.dtype.kind in "biufcUS" and array.dtype.fields is None:
            return {"__ndarray__": _npy(array)}
        return {"__opaque__": f"{kind.__name__} that is not an array of numbers"}
    if callable(value):
        return {"__callable__": type(value).__name__}
    return {"__opaque__": type(value).__name__}


def decode(data):
    if isinstance(data, list):
        raise ValueError("bare list")
    if not isinstance(data, dict):
        return data
    (tag, inner), = data.items()
    if tag == "__ndarray__":
        return np.load(io.BytesIO(base64.b64decode(inner)), allow_pickle=False)
    if tag == "__npscalar__":
        return np.load(io.BytesIO(base64.b64decode(inner)), allow_pickle=False)[()]
    if tag == "__tuple__":
        return tuple(decode(item) for item in inner)
    if tag == "__list__":
        return [decode(item) for item in inner]
    if tag == "__dict__":
        return {key: decode(item) for key, item in inner.items()}
    raise ValueError(f"cannot send {tag} into the kernel")


def _builtin_name(cls, base) -> str:
    for parent in cls.__mro__:
        if parent.__module__ == "builtins" and issubclass(parent, base):
            return parent.__name__
    return base.__name__


def _describe(error: BaseException) -> dict:
    try:
        message = str(error)[:5000]
    except BaseException:
        message = "(the message could not be read)"
    return {"type": _builtin_name(type(error), BaseException), "name": type(error).__name__,
            "message": message}


def _read_exact(n: int) -> bytes:
    chunks = []
    while n:
        chunk = _in.read(n)
        if not chunk:
            raise SystemExit(0)  # grade.py closed the pipe
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _send(reply: dict) -> None:
    data = json.dumps(reply).encode("utf-8")
    _out.write(len(data).to_bytes(8, "big") + data)


def _run(request: dict) -> dict:
    start = _cpu()
    _arm(request["cpu"])
    try:
        result = _shell.run_cell(request["source"], store_history=False)
    except CPUTimeLimit:
        result = None
    finally:
        _disarm()
    reply = {"cpu": _cpu() - start, "stopped": _state["stopped"]}
    error = None if result is None else (result.error_before_exec or result.error_in_exec)
    if error is not None and not isinstance(error, CPUTimeLimit):
        reply["error"] = _describe(error)
    return reply


def _get(request: dict) -> dict:
    values = {}
    for name in request["names"]:
        if name in _shell.user_ns:
            try:
                values[name] = encode(_shell.user_ns[name])
            except BaseException as error:  # a value that fails to convert is not graded
                values[name] = {"__opaque__": f"{type(error).__name__} while reading it"}
        else:
            values[name] = {"__missing__": name}
    return {"values": values}


def _call(request: dict) -> dict:
    function = _shell.user_ns.get(request["name"])
    args, kwargs = decode(request["args"]), decode(request["kwargs"])
    start = _cpu()
    reply: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error" if request["errors"] else "always")
        _arm(request["cpu"])
        try:
            try:
                reply["result"] = encode(function(*args, **kwargs))
            finally:
                _disarm()
        except CPUTimeLimit:
            pass
        except BaseException as error:  # noqa: B036 - everything the student's code raises
            reply["raised"] = _describe(error)
    reply["warnings"] = [[_builtin_name(w.category, Warning), str(w.message)[:5000]]
                         for w in caught[:20]]
    reply["cpu"] = _cpu() - start
    reply["stopped"] = _state["stopped"]
    if reply["stopped"]:
        reply.pop("result", None)
    return reply


_send({"ready": True})
while True:
    request = json.loads(_read_exact(int.from_bytes(_read_exact(8), "big")))
    op = request.get("op")
    try:
        reply = {"run": _run, "get": _get, "call": _call}[op](request)
    except CPUTimeLimit:
        reply = {"stopped": True, "cpu": 0.0}
    except BaseException as error:  # noqa: B036
        reply = {"failed": _describe(error)}
    reply["id"] = request.get("id")
    _send(reply)
