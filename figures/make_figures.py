#!/usr/bin/env python3
"""Draw the figures used by pages that are not notebooks (the landing page, the README).

    python figures/make_figures.py            # rewrite the PNGs in figures/
    python figures/make_figures.py --out DIR  # write them somewhere else (the tests compare)

The PNGs in figures/ are committed, but never drawn by hand: this script is their source,
and tests/test_figures.py checks that running it reproduces them pixel for pixel.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent


def bce_branches(path: Path) -> None:
    """The two branches of the loss: -log(y_hat) when y = 1 and -log(1 - y_hat) when y = 0."""
    plt.style.use("tableau-colorblind10")
    y_hat = np.linspace(0.001, 0.999, 999)
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    ax.plot(y_hat, -np.log(y_hat), label=r"$y = 1$: $L = -\log\hat y$", linewidth=2.5)
    ax.plot(y_hat, -np.log(1 - y_hat), label=r"$y = 0$: $L = -\log(1-\hat y)$",
            linewidth=2.5, linestyle="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 5)
    ax.set_xlabel(r"predicted probability $\hat y$ (dimensionless)")
    ax.set_ylabel("loss $L$ (nats, dimensionless)")
    ax.set_title("The loss is zero for a perfect prediction\nand grows without bound for a confident mistake")
    ax.legend(loc="upper center")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


FIGURES = {"bce_branches.png": bce_branches}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write the PNGs into")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, draw in FIGURES.items():
        draw(args.out / name)
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()
