"""Matplotlib figures for sweeps, behavioural statistics and vector fields (Agg backend).

Every function draws one figure and writes it atomically to a PNG (temp file in the same
directory, then ``os.replace``); mazes are drawn in world cells, row 0 at the top.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "save_figure",
    "draw_maze",
    "phase_transition",
    "phase_transition_agents",
    "by_training_region",
    "every_cell_heatmap",
    "example_mazes",
    "coefficient_plot",
    "vector_field_plot",
    "vector_field_compare",
    "learning_curves",
]

_COLORS = plt.get_cmap("tab10").colors


def save_figure(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    """Save ``fig`` as PNG atomically and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        plt.close(fig)
    return path


def draw_maze(ax: Any, walls: np.ndarray, *, cheese=None, mouse=None, crop: int | None = None) -> None:
    """Walls as dark cells; cheese (yellow square) and mouse start (grey circle) markers.

    ``crop``: the maze size, to zoom on the inner maze (plus one wall cell each side).
    """
    w = walls.shape[0]
    ax.imshow(np.where(walls, 0.15, 0.97), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    if cheese is not None and cheese[0] >= 0:
        ax.scatter([cheese[1]], [cheese[0]], marker="s", s=60, c="gold", edgecolors="k", zorder=4)
    if mouse is not None:
        ax.scatter([mouse[1]], [mouse[0]], marker="o", s=40, c="tab:gray", edgecolors="k", zorder=4)
    if crop is not None:
        m = (w - crop) // 2
        ax.set_xlim(m - 1.5, m + crop + 0.5)
        ax.set_ylim(m + crop + 0.5, m - 1.5)
    ax.set_xticks([])
    ax.set_yticks([])


def phase_transition(rows: Sequence[dict], path: str | Path, *, train_region: int = 5) -> Path:
    """P(cheese) and P(top-right without cheese) vs maze size, one line per placement with
    Wilson 95% bands; placements in the training region are solid and marked, the sizes where
    the whole maze lies in the training region are shaded."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    placements = list(dict.fromkeys(r["placement"] for r in rows))
    for j, pl in enumerate(placements):
        rs = sorted((r for r in rows if r["placement"] == pl), key=lambda r: int(r["size"]))
        x = np.array([int(r["size"]) for r in rs])
        big = [r for r in rs if int(r["size"]) > train_region]
        in_train = bool(big) and all(str(r["in_training_region"]) in ("True", "true", "1") for r in big)
        label = pl + (" (training region)" if in_train else "")
        for ax, key in zip(axes, ("cheese", "top_right")):
            y = np.array([float(r[f"{key}_rate"]) for r in rs])
            lo = np.array([float(r[f"{key}_lo"]) for r in rs])
            hi = np.array([float(r[f"{key}_hi"]) for r in rs])
            c = _COLORS[j % len(_COLORS)]
            ax.plot(x, y, marker="o" if in_train else ".", ls="-" if in_train else "--", color=c, label=label, lw=1.6)
            ax.fill_between(x, lo, hi, color=c, alpha=0.15)
    sizes = [int(r["size"]) for r in rows]
    for ax, title in zip(axes, ("P(got cheese)", "P(reached top-right cell, no cheese)")):
        if min(sizes) <= train_region:
            ax.axvspan(min(sizes) - 1, train_region + 0.5, color="green", alpha=0.07, lw=0)
        ax.set_xlim(min(sizes) - 1, max(sizes) + 1)
        ax.set_title(title)
        ax.set_xlabel("maze size")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("rate (Wilson 95% band)")
    axes[1].legend(fontsize=8, loc="best")
    fig.suptitle(f"Outcome vs maze size (shaded: whole maze inside the {train_region}x{train_region} training region)")
    return save_figure(fig, path)


def phase_transition_agents(rows: Sequence[dict], path: str | Path) -> Path:
    """P(cheese) vs maze size across agents: one panel per placement, one line per agent
    (``rows`` carry an ``agent`` column), Wilson 95% bands."""
    placements = list(dict.fromkeys(r["placement"] for r in rows))
    agents = list(dict.fromkeys(r["agent"] for r in rows))
    fig, axes = plt.subplots(1, len(placements), figsize=(3.6 * len(placements), 3.8), sharey=True,
                             squeeze=False)
    for ax, pl in zip(axes[0], placements):
        for j, ag in enumerate(agents):
            rs = sorted((r for r in rows if r["placement"] == pl and r["agent"] == ag), key=lambda r: int(r["size"]))
            x = np.array([int(r["size"]) for r in rs])
            c = _COLORS[j % len(_COLORS)]
            ax.plot(x, [float(r["cheese_rate"]) for r in rs], marker=".", color=c, label=ag, lw=1.4)
            ax.fill_between(x, [float(r["cheese_lo"]) for r in rs], [float(r["cheese_hi"]) for r in rs],
                            color=c, alpha=0.15)
        ax.set_title(f"cheese {pl}")
        ax.set_xlabel("maze size")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("P(got cheese) (Wilson 95% band)")
    axes[0][-1].legend(fontsize=7, loc="best")
    return save_figure(fig, path)


def by_training_region(rows: Sequence[dict], path: str | Path) -> Path:
    """Misgeneralisation vs the side ``n`` of the training region: one panel per placement,
    P(got cheese) and P(went to the top-right cell instead) against ``train_region`` (log-x),
    Wilson 95% bars; agents with the same ``n`` (seeds) are drawn side by side."""
    placements = list(dict.fromkeys(r["placement"] for r in rows))
    fig, axes = plt.subplots(1, len(placements), figsize=(3.8 * len(placements), 3.8), sharey=True,
                             squeeze=False)
    regions = sorted({int(r["train_region"]) for r in rows})
    for ax, pl in zip(axes[0], placements):
        rs = [r for r in rows if r["placement"] == pl]
        for col, (key, label, c) in enumerate(
            (("cheese", "got the cheese", _COLORS[0]), ("top_right", "top-right cell instead", _COLORS[3]))
        ):
            for n in regions:
                same = [r for r in rs if int(r["train_region"]) == n]
                for j, r in enumerate(same):
                    x = n * (1.0 + 0.06 * (j - (len(same) - 1) / 2) + 0.03 * (2 * col - 1))
                    y = float(r[f"{key}_rate"])
                    err = [[y - float(r[f"{key}_lo"])], [float(r[f"{key}_hi"]) - y]]
                    ax.errorbar([x], [y], yerr=err, marker="o" if col == 0 else "s", color=c, capsize=3,
                                ls="", label=label if (n == regions[0] and j == 0) else None)
        ax.set_xscale("log")
        ax.set_xticks(regions)
        ax.set_xticklabels([str(n) for n in regions])
        ax.minorticks_off()
        size = ", ".join(str(s) for s in sorted({int(r["size"]) for r in rs}))
        ax.set_title(f"cheese {pl} ({size}x{size})")
        ax.set_xlabel("training region side n")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("rate (Wilson 95%)")
    axes[0][-1].legend(fontsize=8, loc="best")
    fig.suptitle("Misgeneralisation vs training region (cheese always in the top-right n x n in training)",
                 fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def every_cell_heatmap(k: np.ndarray, n: np.ndarray, size: int, path: str | Path, *, title: str = "") -> Path:
    """P(cheese) per cheese cell (``k / n`` where ``n > 0``) over the inner maze."""
    w = k.shape[0]
    m = (w - size) // 2
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.8")  # grey: a wall in every maze
    im = ax.imshow(p, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xlim(m - 0.5, m + size - 0.5)
    ax.set_ylim(m + size - 0.5, m - 0.5)
    ax.scatter([m], [m + size - 1], marker="o", s=50, c="white", edgecolors="k", label="mouse start")
    ax.legend(loc="upper left", fontsize=7, framealpha=0.7)
    fig.colorbar(im, ax=ax, label="P(got cheese)")
    ax.set_title((title or f"P(cheese), {size}x{size}") + "\n(grey: wall in every maze)", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return save_figure(fig, path)


def example_mazes(examples: Sequence[tuple[int, str, dict]], path: str | Path) -> Path:
    """Mazes with the agent's trajectory; ``examples`` items are ``(size, placement, ex)``
    where ``ex`` holds ``level`` (``Level.to_dict()``), ``trajectory`` and ``outcome``."""
    from mazegen.level import Level

    k = len(examples)
    cols = min(4, k)
    rows = (k + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.ravel()[k:]:
        ax.axis("off")
    for ax, (size, placement, ex) in zip(axes.ravel(), examples):
        lvl = Level.from_dict(ex["level"])
        draw_maze(ax, lvl.walls, cheese=lvl.cheese, mouse=lvl.mouse, crop=lvl.maze_size)
        t = np.asarray(ex["trajectory"], dtype=float)
        if len(t):
            jitter = np.linspace(-0.15, 0.15, len(t))[:, None]  # separate revisits a little
            ax.plot(t[:, 1] + jitter[:, 0], t[:, 0] + jitter[:, 0], color="tab:red", lw=1.2, alpha=0.8)
        ax.set_title(f"{size}x{size} {placement}: {ex['outcome']} ({len(t) - 1} steps)", fontsize=8)
    return save_figure(fig, path)


def coefficient_plot(names: Sequence[str], coef: np.ndarray, lo: np.ndarray, hi: np.ndarray, path: str | Path,
                     *, title: str = "") -> Path:
    """Horizontal bars of regression coefficients with bootstrap intervals."""
    order = np.argsort(np.abs(coef))
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.5))
    y = np.arange(len(names))
    c = np.asarray(coef)[order]
    ax.barh(y, c, color=["tab:blue" if v >= 0 else "tab:red" for v in c], alpha=0.8)
    # the full-data fit can fall outside its bootstrap interval (L1 zeros): draw the interval as is
    lo_o, hi_o = np.asarray(lo, float)[order], np.asarray(hi, float)[order]
    ax.hlines(y, lo_o, hi_o, color="k", lw=1.2)
    ax.scatter(np.concatenate([lo_o, hi_o]), np.concatenate([y, y]), marker="|", color="k", s=40)
    ax.set_yticks(y)
    ax.set_yticklabels([names[i] for i in order], fontsize=8)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("standardised coefficient (bootstrap 95% CI)")
    ax.set_title(title or "L1 logistic regression on got_cheese", fontsize=9)
    return save_figure(fig, path)


def vector_field_plot(walls: np.ndarray, cells: np.ndarray, vectors: np.ndarray, path: str | Path, *,
                      cheese=None, mouse=None, maze_size: int | None = None, title: str = "",
                      color: str = "tab:red") -> Path:
    """Arrows ``(p_right - p_left, p_up - p_down)`` at each cell over the maze."""
    fig, ax = plt.subplots(figsize=(6, 6))
    draw_maze(ax, walls, cheese=cheese, mouse=mouse, crop=maze_size)
    v = np.asarray(vectors, dtype=float)
    ax.quiver(cells[:, 1], cells[:, 0], v[:, 0], v[:, 1], angles="uv", scale_units="xy", scale=1.0,
              color=color, width=0.006, zorder=3)
    ax.set_title(title, fontsize=9)
    return save_figure(fig, path)


def vector_field_compare(walls: np.ndarray, cells: np.ndarray, a: np.ndarray, b: np.ndarray, path: str | Path, *,
                         cheese=None, maze_size: int | None = None, title: str = "",
                         labels: tuple[str, str] = ("patched", "original")) -> Path:
    """Three panels: field ``a``, field ``b`` and ``a - b`` (difference arrows doubled in length)."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.2))
    d = np.asarray(a, float) - np.asarray(b, float)
    for ax, v, name, col, sc in zip(axes, (a, b, d), (*labels, f"{labels[0]} - {labels[1]} (x2)"),
                                    ("tab:red", "tab:blue", "tab:purple"), (1.0, 1.0, 0.5)):
        draw_maze(ax, walls, cheese=cheese, crop=maze_size)
        v = np.asarray(v, dtype=float)
        ax.quiver(cells[:, 1], cells[:, 0], v[:, 0], v[:, 1], angles="uv", scale_units="xy", scale=sc,
                  color=col, width=0.006, zorder=3)
        ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


# learning_curves' x axis: log column, divisor, label
_CURVE_X = {
    "steps": ("steps", 1e6, "env steps (millions)"),
    "hours": ("wall_time_s", 3600.0, "wall time (hours)"),
}


def learning_curves(
    runs: dict[str, Sequence[dict]],
    path: str | Path,
    *,
    title: str = "",
    min_episodes: int = 2000,
    target: float = 0.9,
    x: str = "steps",
    held_out: dict[str, Sequence[dict]] | None = None,
) -> Path:
    """Training cheese rate vs env steps for one or more runs (``train_log.csv`` rows).

    Left: the overall rate; right: by maze-size bucket (small solid, medium dashed, large
    dotted), one colour per run. Rates are pooled over at least ``min_episodes`` episodes
    (:func:`agents.train.log.pooled_rates`); ``target`` is drawn as a grey line. ``x`` is
    ``"steps"`` (millions of env steps) or ``"hours"`` (the logged wall time). ``held_out``
    maps a run's name to its held-out monitor rows (``monitor_log.csv``: ``cheese_rate``,
    ``ci_lo``, ``ci_hi`` and the bucket rates), drawn in the run's colour as points with their
    Wilson 95% intervals (left) and bucket markers (right).
    """
    from ..train.log import pooled_rates
    from .sweep_axes import SIZE_BUCKETS, bucket_label

    if not runs:
        raise ValueError("learning_curves needs at least one run")
    if x not in _CURVE_X:
        raise ValueError(f"x must be one of {tuple(_CURVE_X)}, got {x!r}")
    x_key, x_scale, x_label = _CURVE_X[x]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    styles = dict(zip(SIZE_BUCKETS, ["-", "--", ":"]))
    for k, (name, rows) in enumerate(runs.items()):
        rows = list(rows)
        if not rows:
            continue
        xs = np.array([float(r[x_key]) for r in rows]) / x_scale
        c = _COLORS[k % len(_COLORS)]
        rate, _ = pooled_rates(rows, "cheese_rate", min_episodes)
        ax0.plot(xs, rate, color=c, label=name)
        for b, ls in styles.items():
            rb, _ = pooled_rates(rows, f"cheese_rate_{b}", max(1, min_episodes // 3))
            lo, hi = SIZE_BUCKETS[b]
            ax1.plot(xs, rb, color=c, ls=ls, label=f"{name} {lo}-{hi}" if k == 0 else None)
    for k, name in enumerate(runs):
        mon = list((held_out or {}).get(name) or [])
        if not mon:
            continue
        c = _COLORS[k % len(_COLORS)]
        mx = np.array([float(r[x_key]) for r in mon]) / x_scale
        rate = np.array([float(r["cheese_rate"]) for r in mon])
        err = np.array([[float(r["cheese_rate"]) - float(r["ci_lo"]) for r in mon],
                        [float(r["ci_hi"]) - float(r["cheese_rate"]) for r in mon]])
        ax0.errorbar(mx, rate, yerr=err, fmt="o", ms=3, color=c, capsize=2,
                     label=f"{name} held out (95% CI)")
        for b, marker in zip(SIZE_BUCKETS, ["o", "s", "^"]):
            rb = [float(r.get(f"cheese_rate_{b}") or "nan") for r in mon]  # "": none that size
            ax1.plot(mx, rb, marker, ms=3, color=c,
                     mfc="none", label=f"{name} held out {bucket_label(b)}" if k == 0 else None)
    for ax in (ax0, ax1):
        ax.axhline(target, color="0.6", lw=0.8)
        ax.set_xlabel(x_label)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    ax0.set_ylabel("cheese rate (training episodes; points: held out)" if held_out
                   else "cheese rate (training episodes)")
    ax0.set_title("all maze sizes")
    ax1.set_title("by maze size")
    ax0.legend(fontsize=8, loc="lower right")
    ax1.legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
