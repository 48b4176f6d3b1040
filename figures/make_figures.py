#!/usr/bin/env python3
"""Draw the figures used by pages that are not notebooks (the landing page, the README).

    python figures/make_figures.py            # rewrite the PNGs in figures/
    python figures/make_figures.py --out DIR  # write them somewhere else (the tests compare)

The PNGs in figures/ are committed, but never drawn by hand: this script is their source,
and tests/static/test_figures.py checks that running it reproduces them pixel for pixel.
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent


def running_data():
    """The running example of chapters 3 and 5-9 (the cell tagged running-model-data)."""
    rng = np.random.default_rng(2026)
    n = 20
    x = np.round(rng.uniform(-3, 3, size=n), 1)
    true_w, true_b = 1.5, -0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-(true_w * x + true_b)))).astype(int)
    return x, y, true_w, true_b


def fit_two_dials(x, y, steps=50):
    """Maximum likelihood for y_hat = sigma(w x + b) by Newton's method (the BCE is convex in w, b)."""
    w, b = 0.0, 0.0
    features = np.column_stack([x, np.ones_like(x)])
    for _ in range(steps):
        y_hat = 1 / (1 + np.exp(-(w * x + b)))
        gradient = features.T @ (y_hat - y) / len(y)
        hessian = (features * (y_hat * (1 - y_hat))[:, None]).T @ features / len(y)
        w, b = np.array([w, b]) - np.linalg.solve(hessian, gradient)
    return float(w), float(b)


def running_model() -> bytes:
    """The landing page: the twenty labelled examples and the fitted y_hat = sigma(w x + b)."""
    plt.style.use("tableau-colorblind10")
    x, y, true_w, true_b = running_data()
    w, b = fit_two_dials(x, y)
    grid = np.linspace(-3.2, 3.2, 400)
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=200)
    ax.plot(grid, 1 / (1 + np.exp(-(w * grid + b))), linewidth=2.5,
            label=rf"fitted: $\sigma({w:.2f}\,x {b:+.2f})$")
    ax.plot(grid, 1 / (1 + np.exp(-(true_w * grid + true_b))), linestyle="--", color="grey",
            label=rf"true dials: $\sigma({true_w}\,x {true_b:+.1f})$")
    ax.scatter(x[y == 1], y[y == 1], marker="o", s=50, zorder=3, label="$y = 1$")
    ax.scatter(x[y == 0], y[y == 0], marker="s", s=50, zorder=3, label="$y = 0$")
    ax.set_xlim(-3.2, 3.2)
    ax.set_ylim(-0.08, 1.08)
    ax.set_xlabel("input $x$")
    ax.set_ylabel(r"label $y$, and the model's $\hat y$")
    ax.set_title("Minimising the binary cross-entropy fits the model's two dials\n"
                 f"to {len(y)} labelled examples")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.93), fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=200, metadata={"Software": None})   # 2x, sharp on phones, like the chapters
    plt.close(fig)
    return buffer.getvalue()


FIGURES = {"running_model.png": running_model}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write the PNGs into")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, draw in FIGURES.items():
        path, png = args.out / name, draw()
        if path.exists() and path.read_bytes() == png:   # unchanged: keep the file (and its date), so
            print(f"{path} is up to date")              # Sphinx does not rebuild the pages showing it
            continue
        path.write_bytes(png)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
