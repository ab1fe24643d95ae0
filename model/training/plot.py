"""The loss curves of a run (``RUN/loss.png``)."""

from __future__ import annotations

import os
from pathlib import Path


def plot_losses(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    tasks = sorted({k[len("train/"):] for h in history for k in h if k.startswith("train/")})
    for task in tasks:
        pts = [(h["step"], h[f"train/{task}"]) for h in history if f"train/{task}" in h]
        if pts:
            ax.plot(*zip(*pts), label=f"train {task}", alpha=0.7)
        vpts = [(h["step"], h[f"val/{task}"]) for h in history if f"val/{task}" in h]
        if vpts:
            ax.plot(*zip(*vpts), "o-", label=f"val {task}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    tmp = path.with_suffix(".part.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
