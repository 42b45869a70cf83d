"""Figure of steering vectors: outcome rates vs the vector's coefficient (:func:`plot_vector_effect`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt

from agents.eval.plots import save_figure

from .retarget import wilson_band

__all__ = ["plot_vector_effect"]


def plot_vector_effect(rows: Sequence[dict], path) -> Path:
    """got-cheese and top-right rates vs coefficient, per variant (vector / random / none)."""
    rows = [r for r in rows if "got_cheese" in r and r.get("got_cheese") is not None]
    if not rows:
        raise ValueError("no rollout rows to plot")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("got_cheese", "top_right")):
        for variant in dict.fromkeys(r["variant"] for r in rows):
            for s in sorted({r["size"] for r in rows}):
                pts = sorted((r for r in rows if r["variant"] == variant and r["size"] == s), key=lambda r: r["coeff"])
                wilson_band(ax, [r["coeff"] for r in pts], pts, key, label=f"{variant} (size {s})")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("coefficient")
        ax.set_ylabel(f"P({key.replace('_', ' ')})")
        ax.legend(fontsize=7)
    fig.suptitle(f"{rows[0]['kind']} vector at {rows[0]['layer']}")
    return save_figure(fig, path)
