"""Figures of retargeting and channel discovery.

- :func:`plot_success_vs_magnitude`: retargeting success vs clamp magnitude, one line per
  method with Wilson bands, the baseline and controls dashed; the legend gives each method's
  fraction of activations modified.
- :func:`plot_target_heatmap`: success over target cells (corners as a 2x2 map, ``grid:K``
  targets as K x K).
- :func:`plot_channel_scores`: discovery scores per channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.eval.plots import save_figure

__all__ = ["plot_channel_scores", "plot_success_vs_magnitude", "plot_target_heatmap", "wilson_band"]


def wilson_band(ax, x, rows, key, **kw):
    """A line of ``rows[key]`` over ``x`` with its Wilson band (``key_lo`` .. ``key_hi``)."""
    y = np.array([r[key] for r in rows], float)
    lo = np.array([r[f"{key}_lo"] for r in rows], float)
    hi = np.array([r[f"{key}_hi"] for r in rows], float)
    line = ax.plot(x, y, marker="o", **kw)[0]
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.12 if kw.get("alpha", 1.0) == 1.0 else 0.04)


def plot_success_vs_magnitude(rows: Sequence[dict], path, *, size: int | None = None, target: str | None = None) -> Path:
    """One panel per (size, target) in ``rows`` (or only the given ones)."""
    keys = sorted({(r["size"], r["target"]) for r in rows if (size is None or r["size"] == size)
                   and (target is None or r["target"] == target)}, key=str)
    if not keys:
        raise ValueError("no rows to plot")
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 4), squeeze=False)
    for ax, (s, t) in zip(axes[0], keys):
        sel = [r for r in rows if r["size"] == s and r["target"] == t]
        base = [r for r in sel if r["control"] == "baseline"]
        mags = sorted({r["magnitude"] for r in sel if r["method"] != "none"})
        for mi, method in enumerate(dict.fromkeys(r["method"] for r in sel if r["method"] != "none")):
            for control, style in (("", "-"), ("random-channels", ":"), ("wrong-location", "--"),
                                   ("random-vector", "-.")):
                pts = sorted((r for r in sel if r["method"] == method and r["control"] == control),
                             key=lambda r: r["magnitude"])
                if not pts:
                    continue
                label = method if not control else f"{method} / {control}"
                if not control:
                    fr = np.mean([r["fraction_layer"] for r in pts])
                    fn = np.mean([r["fraction_network"] for r in pts])
                    label += f" (layer {fr:.2%}, net {fn:.3%} modified)"
                wilson_band(ax, [r["magnitude"] for r in pts], pts, "success", linestyle=style, label=label,
                      color=f"C{mi}", alpha=1.0 if not control else 0.6)
        if base and mags:
            b = base[0]
            ax.axhline(b["success"], color="k", lw=1, label=f"no patch ({b['success']:.2f})")
            ax.axhspan(b["success_lo"], b["success_hi"], color="k", alpha=0.06)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("clamp magnitude")
        ax.set_ylabel("P(reach target) (Wilson 95%)")
        ax.set_title(f"maze {s}x{s}, target {t}")
        ax.legend(fontsize=6)
    return save_figure(fig, path)


def _grid_pos(name: str) -> tuple[int, int, int]:
    corners = {"top-left": (0, 0), "top-right": (0, 1), "bottom-left": (1, 0), "bottom-right": (1, 1)}
    if name in corners:
        return (*corners[name], 2)
    _, k, ij = name.split(":")
    i, j = (int(v) for v in ij.split(","))
    return i, j, int(k)


def plot_target_heatmap(rows: Sequence[dict], path, *, method: str | None = None) -> Path:
    """Success of the main (non-control) rows of ``method`` over target positions, per size."""
    main = [r for r in rows if r["control"] == "" and (method is None or r["method"] == method)]
    if not main:
        raise ValueError("no main rows to plot")
    method = method or main[0]["method"]
    main = [r for r in main if r["method"] == method]
    sizes = sorted({r["size"] for r in main})
    fig, axes = plt.subplots(1, len(sizes), figsize=(4 * len(sizes), 3.6), squeeze=False)
    for ax, s in zip(axes[0], sizes):
        sel = [r for r in main if r["size"] == s]
        k = max(_grid_pos(r["target"])[2] for r in sel)
        grid = np.full((k, k), np.nan)
        for r in sel:  # best magnitude per target
            i, j, kk = _grid_pos(r["target"])
            if kk == k:
                grid[i, j] = np.nanmax([grid[i, j], r["success"]])
        im = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis")
        for (i, j), v in np.ndenumerate(grid):
            if not np.isnan(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w" if v < 0.6 else "k")
        ax.set_title(f"{method}: P(reach target), maze {s}")
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046)
    return save_figure(fig, path)


def plot_channel_scores(ranking: dict, path, *, top: int = 32) -> Path:
    """Bar chart of the best ``top`` channels' tracking scores (causal success annotated)."""
    ch = ranking["channels"][:top]
    sc = ranking["scores"][:top]
    fig, ax = plt.subplots(figsize=(max(5, 0.3 * len(ch)), 3.5))
    ax.bar(range(len(ch)), sc, color=["C1" if c in ranking.get("selected", []) else "C0" for c in ch])
    ax.set_xticks(range(len(ch)))
    ax.set_xticklabels([str(c) for c in ch], fontsize=7, rotation=90)
    for i, c in enumerate(ch):
        cz = ranking.get("causal", {}).get(str(c)) or ranking.get("causal", {}).get(c)
        if cz:
            ax.text(i, sc[i], f"{cz['rate']:.2f}", ha="center", va="bottom", fontsize=6)
    ax.set_xlabel("channel (orange: selected; numbers: retargeting success)")
    ax.set_ylabel("cheese-tracking effect size")
    ax.set_title(f"cheese channels at {ranking['layer']}")
    return save_figure(fig, path)
