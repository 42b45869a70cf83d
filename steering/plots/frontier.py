"""Figures of the Q2 frontier: arrival vs share of activations modified (:func:`plot_frontier`),
and arrival vs the target's distance from the top-right path (:func:`plot_distance_curve`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from agents.eval.plots import save_figure

__all__ = ["plot_distance_curve", "plot_frontier"]


def plot_frontier(rows: Sequence[dict], path) -> Any:
    """``frontier.png``: arrival (Wilson 95% bars) vs % of network activations modified, log-x,
    one line per method and one panel per target; the unedited baseline dashed and the
    random-positions / random-dense / opposite controls as hollow markers."""
    targets = [t for t in dict.fromkeys(r["target"] for r in rows) if t != "cheese"]
    fig, axes = plt.subplots(1, max(1, len(targets)), figsize=(6 * max(1, len(targets)), 4.5), squeeze=False)
    markers = {"random-positions": "x", "random-dense": "s", "opposite": "v", "other-maze": "^"}
    for ax, tname in zip(axes[0], targets):
        sub = [r for r in rows if r["target"] == tname]
        for m in dict.fromkeys(r["method"] for r in sub if r["method"] != "none"):
            main = sorted((r for r in sub if r["method"] == m and r["control"] == ""),
                          key=lambda r: r["fraction_network"])
            if not main:
                continue
            x = np.array([100 * max(r["fraction_network"], 1e-7) for r in main])
            y = np.array([r["arrival"] for r in main])
            err = np.array([[r["arrival"] - r["arrival_lo"], r["arrival_hi"] - r["arrival"]] for r in main]).T
            line = ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=m)[0]
            for cname, mk in markers.items():
                ctl = [r for r in sub if r["method"] == m and r["control"] == cname]
                if ctl:
                    ax.scatter([100 * max(r["fraction_network"], 1e-7) for r in ctl], [r["arrival"] for r in ctl],
                               marker=mk, facecolors="none" if mk != "x" else None,
                               edgecolors=line.get_color() if mk != "x" else None,
                               color=line.get_color() if mk == "x" else None, alpha=0.7)
        base = [r["arrival"] for r in sub if r["control"] == "baseline"]
        if base:
            ax.axhline(float(np.mean(base)), color="grey", ls="--", lw=1, label="no edit")
        ax.set_xscale("log")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("% of network activations modified per forward pass")
        ax.set_ylabel(f"P(reach {tname})")
        ax.set_title(f"{tname} (cheese at spawn)")
        ax.grid(alpha=0.3)
    handles = [plt.Line2D([], [], marker=mk, ls="", color="k", fillstyle="none") for mk in markers.values()]
    axes[0][0].legend(
        axes[0][0].get_legend_handles_labels()[0] + handles,
        axes[0][0].get_legend_handles_labels()[1] + list(markers),
        fontsize=7, loc="best",
    )
    return save_figure(fig, path)


def plot_distance_curve(rows: Sequence[dict], path) -> Any:
    """Arrival (Wilson 95% bars) vs the target's distance bin from the start -> top-right path,
    one line per (size, method), baselines dashed."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    keys = dict.fromkeys((r["size"], r["method"], r["control"]) for r in rows)
    for size, method, control in keys:
        sub = [r for r in rows if (r["size"], r["method"], r["control"]) == (size, method, control)
               and r["arrival_n"]]
        if not sub:
            continue
        y = np.array([r["arrival"] for r in sub])
        err = np.array([[r["arrival"] - r["arrival_lo"], r["arrival_hi"] - r["arrival"]] for r in sub]).T
        ax.errorbar([r["dist_lo"] for r in sub], y, yerr=err, marker="o", capsize=3,
                    ls="--" if control == "baseline" else "-", label=f"{size}x{size} {method}")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel("target's BFS distance from the start -> top-right path (bin start)")
    ax.set_ylabel("P(reach target)")
    ax.set_ylim(-0.03, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save_figure(fig, path)
