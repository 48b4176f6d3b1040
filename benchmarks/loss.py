#!/usr/bin/env python3
"""How fast and how accurate is the binary cross-entropy, computed six ways?

    .venv/bin/python benchmarks/loss.py            # 10^3, 10^5 and 10^7 items (about a minute)
    .venv/bin/python benchmarks/loss.py --quick    # 10^3 items only, tiny sample (a few seconds)

For each size it prints the time per item (median of several timed runs, after a warm-up run)
of each way of computing the mean loss, its ratio to a lower bound measured in the same run,
and its accuracy in ulps against an mpmath reference on a fixed random sample; then the peak
extra memory (tracemalloc) of each method at the largest size. This is a measurement, not a
test: it always exits 0. Timings on a shared machine vary from run to run; the ratios, all
measured in the same run, vary much less.

The inputs: logits z ~ Normal(0, 10^2) (seeded), labels y ~ Bernoulli(sigma(z)) (a model that
is usually right and often very sure), probabilities p = sigma(z) rounded to float64 for the
methods that take probabilities. The reference is the exact loss of the logit z,
-log sigma(z) for y = 1 and -log(1 - sigma(z)) for y = 0, computed with 50 digits: so the
probability-based methods are charged for what the rounding of sigma(z) to float64 loses,
which is the point of chapter 11.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import mpmath
import numpy as np
import sklearn
from sklearn.metrics import log_loss

SEED = 2026


# --- The methods ----------------------------------------------------------------------------

# The book's own functions, read from chapter 11's tagged cells (not copied): `bce_from_logits`
# from the cell tagged shared-sigmoid-bce (the book's one stable loss) and
# `bce_from_logits_fast` from the cell tagged benchmarked ("The same function, faster").
CHAPTER_11 = Path(__file__).resolve().parent.parent / "chapters" / "11_numerical_care.ipynb"
BENCHMARKED_TAGS = ("shared-sigmoid-bce", "benchmarked")


def chapter_functions(path: Path = CHAPTER_11) -> dict:
    """Execute the chapter's tagged code cells, in book order, and return what they define."""
    namespace = {"np": np}
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    tagged = [cell for cell in cells if cell["cell_type"] == "code"
              and set(cell.get("metadata", {}).get("tags", [])) & set(BENCHMARKED_TAGS)]
    if not tagged:
        raise SystemExit(f"{path.name} has no code cell tagged {' or '.join(BENCHMARKED_TAGS)}")
    for cell in tagged:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        exec(compile(source, f"{path.name} (tagged cell)", "exec"), namespace)
    return namespace


_chapter = chapter_functions()
bce_from_logits = _chapter["bce_from_logits"]
bce_from_logits_fast = _chapter["bce_from_logits_fast"]


def naive(y, p, average=True):
    """The formula as written, on probabilities: -[y log p + (1 - y) log(1 - p)]."""
    per_example = -(y * np.log(p)) - (1 - y) * np.log(1 - p)
    return per_example.mean() if average else per_example


def clipped(y, p, average=True, eps=1e-7):
    """The same, with p clipped into [eps, 1 - eps] first (eps = 1e-7, the Keras default)."""
    p = np.clip(p, eps, 1 - eps)
    per_example = -(y * np.log(p)) - (1 - y) * np.log(1 - p)
    return per_example.mean() if average else per_example


def sklearn_log_loss(y, p, average=True):
    """scikit-learn's log_loss on probabilities (it clips at machine epsilon)."""
    if average:
        return log_loss(y, p, labels=[0, 1])
    # one example at a time, for the accuracy sample only (normalize=False returns the sum)
    return np.array([log_loss([label], [prob], normalize=False, labels=[0, 1])
                     for label, prob in zip(y, p)])


def lower_bound(y, z, average=True):
    """Not a loss: one np.logaddexp(0, z) pass, the cheapest thing that touches every item once."""
    return np.logaddexp(0, z)


# name, function, which input it takes ("p" or "z")
METHODS = [
    ("naive, on probabilities", naive, "p"),
    ("clipped (eps = 1e-7), on probabilities", clipped, "p"),
    ("sklearn.metrics.log_loss", sklearn_log_loss, "p"),
    ("book: bce_from_logits (stable)", bce_from_logits, "z"),
    ("book: bce_from_logits_fast (in place)", bce_from_logits_fast, "z"),
    ("lower bound: np.logaddexp(0, z)", lower_bound, "z"),
]
STABLE = "book: bce_from_logits (stable)"
FAST = "book: bce_from_logits_fast (in place)"
BOUND = "lower bound: np.logaddexp(0, z)"
SKLEARN = "sklearn.metrics.log_loss"


# --- Inputs, reference, measurements ------------------------------------------------------

def make_inputs(n: int):
    rng = np.random.default_rng(SEED)
    z = rng.normal(0.0, 10.0, n)
    with np.errstate(over="ignore"):
        p = 1 / (1 + np.exp(-z))                      # sigma(z) in float64
    y = (rng.random(n) < p).astype(float)             # labels drawn with probability sigma(z)
    return y, z, p


def reference(label: float, logit: float) -> float:
    """-log sigma(z) (y = 1) or -log(1 - sigma(z)) (y = 0), with 50 digits, rounded to float64."""
    with mpmath.workdps(50):
        x = mpmath.mpf(float(logit))
        return float(mpmath.log1p(mpmath.exp(-x if label == 1 else x)))


def ulps(computed: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|computed - exact| in units of the last place of exact; inf where computed is inf/NaN."""
    with np.errstate(over="ignore", invalid="ignore"):
        error = np.abs(computed - exact) / np.spacing(exact)
    return np.where(np.isfinite(computed), error, np.inf)


def times_per_item(methods, inputs, n: int, repeats: int) -> dict[str, float]:
    """Median seconds per item of each method, after one untimed warm-up call of each.

    The timed calls are interleaved (method 1, 2, ..., 1, 2, ...), so that a burst of load from
    another process slows all methods alike and the ratios between them stay meaningful.
    """
    calls = [(name, function, inputs[kind]) for name, function, kind in methods]
    for _, function, args in calls:
        function(*args)                                  # warm-up (caches, page faults, imports)
    times = {name: [] for name, _, _ in calls}
    for _ in range(repeats):
        for name, function, args in calls:
            start = time.perf_counter()
            function(*args)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) / n for name, values in times.items()}


def peak_extra_memory(function, args) -> int:
    """Peak bytes allocated (and traced by tracemalloc) during one call, beyond the inputs."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    function(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - base


def label(n: int) -> str:
    """10^k for powers of ten, else the number."""
    k = round(math.log10(n))
    return f"10^{k}" if 10**k == n else str(n)


def fmt_ulps(value: float) -> str:
    if math.isinf(value):
        return "inf"
    return f"{value:.3g}" if value < 1e6 else f"{value:.1e}"


def header(args) -> None:
    import threadpoolctl
    blas = threadpoolctl.threadpool_info()
    print("# Loss benchmark: binary cross-entropy, six ways")
    print(f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
          f"{platform.machine()}, {platform.system()}; load average {os.getloadavg()[0]:.2f}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"scikit-learn {sklearn.__version__}, mpmath {mpmath.__version__}; "
          + "; ".join(f"{b['internal_api']} {b['version']} ({b['num_threads']} threads, "
                      f"{os.path.basename(os.path.dirname(b['filepath']))})" for b in blas))
    print(f"inputs: z ~ Normal(0, 10^2), y ~ Bernoulli(sigma(z)), p = sigma(z) in float64; seed {SEED}; "
          f"time = median of {args.repeats} interleaved runs after 1 warm-up; accuracy on {args.sample} items")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^3 items, small sample: a smoke run")
    parser.add_argument("--sizes", type=int, nargs="+", help="numbers of items (default 10^3 10^5 10^7)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per method and size")
    parser.add_argument("--sample", type=int, default=None, help="items checked against mpmath")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([10**3] if args.quick else [10**3, 10**5, 10**7])
    args.repeats = args.repeats or (3 if args.quick else 7)
    args.sample = args.sample or (200 if args.quick else 2000)
    header(args)

    # Accuracy: the same fixed sample (the first items of the largest input) for every method.
    y_all, z_all, p_all = make_inputs(max(sizes))
    k = min(args.sample, len(z_all))
    y_s, z_s, p_s = y_all[:k], z_all[:k], p_all[:k]
    exact = np.array([reference(label, logit) for label, logit in zip(y_s, z_s)])
    accuracy = {}
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        for name, function, kind in METHODS:
            if name == BOUND:
                continue
            values = function(y_s, p_s if kind == "p" else z_s, average=False)
            error = ulps(np.asarray(values, dtype=float), exact)
            accuracy[name] = (float(np.max(error)), float(np.median(error)))

    # Speed, per size; ratios to the lower bound and to scikit-learn from the same run.
    results = {}
    for n in sizes:
        y, z, p = y_all[:n].copy(), z_all[:n].copy(), p_all[:n].copy()
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")
            medians = times_per_item(METHODS, {"p": (y, p), "z": (y, z)}, n, args.repeats)
            results.update({(name, n): seconds for name, seconds in medians.items()})

    width = max(len(name) for name, _, _ in METHODS)
    for n in sizes:
        print(f"## n = {label(n)} items")
        print(f"{'method':{width}s}  {'ns/item':>9s}  {'x bound':>8s}  {'x sklearn':>9s}  "
              f"{'max ulps':>9s}  {'median ulps':>11s}")
        for name, _, _ in METHODS:
            t = results[(name, n)]
            bound = results[(BOUND, n)]
            sk = results[(SKLEARN, n)]
            worst, median = accuracy.get(name, (math.nan, math.nan))
            acc = ("        -", "          -") if name == BOUND else (f"{fmt_ulps(worst):>9s}", f"{fmt_ulps(median):>11s}")
            print(f"{name:{width}s}  {t * 1e9:9.2f}  {t / bound:8.2f}  {t / sk:9.2f}  {acc[0]}  {acc[1]}")
        print()

    # Memory at the largest size: peak traced allocation during one call, in input-array units.
    n = max(sizes)
    y, z, p = y_all[:n].copy(), z_all[:n].copy(), p_all[:n].copy()
    array_bytes = z.nbytes
    print(f"## peak extra memory at n = {label(n)} (tracemalloc; one input array = {array_bytes / 2**20:.3g} MiB)")
    print(f"{'method':{width}s}  {'MiB':>9s}  {'input arrays':>12s}")
    memory = {}
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        for name, function, kind in METHODS:
            peak = peak_extra_memory(function, (y, p if kind == "p" else z))
            memory[name] = peak / array_bytes
            print(f"{name:{width}s}  {peak / 2**20:9.3g}  {peak / array_bytes:12.2f}")
    print()

    print("## goals for the book's stable form: <= 3x the lower bound, <= 1x sklearn at the largest size, "
          "<= 2 ulps, a few arrays of memory")
    print(f"{'function':{width}s}  " + "  ".join(f"{'x bound @' + label(n):>16s}" for n in sizes)
          + f"  {'x sklearn @' + label(n):>16s}  {'max ulps':>9s}  {'arrays':>6s}")
    for name in (STABLE, FAST):
        print(f"{name:{width}s}  " + "  ".join(f"{results[(name, size)] / results[(BOUND, size)]:16.2f}"
                                             for size in sizes)
              + f"  {results[(name, n)] / results[(SKLEARN, n)]:16.2f}  {fmt_ulps(accuracy[name][0]):>9s}"
              f"  {memory[name]:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
