"""The distance curve: arrival rate vs the target's BFS distance from the start -> top-right path.

``cfg.mazes`` mazes (cheese at its spawn), one random open target per maze; a frontier method
(:func:`steering.experiments.frontier_methods.build`, the frontier's knob) is built for those
targets and rolled out against the unedited baseline on the same targets. Rows are binned by
:func:`path_distance` (:data:`DISTANCE_BINS`), each with its Wilson 95% CI (:class:`Rate`);
``scripts/steer.py distance`` runs it per (size, method) and plots :func:`steering.plots.plot_distance_curve`.
``cfg`` is a :class:`~steering.experiments.frontier_config.FrontierConfig`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from agents.eval.stats import Rate

from ..methods.retarget import ChannelRanking
from .frontier_methods import build, levels_of

__all__ = ["DISTANCE_BINS", "distance_curve", "path_distance"]


def path_distance(level, cell) -> int:
    """BFS steps from ``cell`` to the nearest cell of the shortest path start -> the inner
    maze's top-right cell (0 on the path; -1 if unreachable)."""
    from mazegen.solvers import bfs_distances, shortest_path

    path = shortest_path(level.walls, level.start_cell, level.top_right_cell)
    d = np.asarray(bfs_distances(level.walls, (int(cell[0]), int(cell[1]))))
    vals = [int(d[r, c]) for r, c in path if d[r, c] >= 0]
    return min(vals) if vals else -1


#: Bins of :func:`distance_curve`: BFS steps from the start -> top-right path, [lo, hi).
DISTANCE_BINS = (0, 1, 5, 10, 25, 50, 10_000)


def distance_curve(
    policy: Any,
    cfg: Any,
    method: str,
    knob: float,
    *,
    ranking: ChannelRanking | None = None,
    bins: Sequence[int] = DISTANCE_BINS,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """Arrival rate vs the target's distance from the start -> top-right path.

    ``cfg.mazes`` mazes of ``cfg.size`` (cheese at its spawn), one random open target per maze
    (:func:`steering.methods.retarget.random_targets`, at least 2 steps from the mouse); the method is
    built for those targets (per-maze edits fitted per maze, shared edits on ``train_mazes``
    other mazes with their own random targets), and the unedited baseline runs on the same
    targets. One row per (bin, variant) with Wilson CIs."""
    from ..methods.retarget import random_targets

    levels = levels_of(cfg, 6, cfg.mazes)
    t = random_targets(levels, cfg.seed)
    dist = np.array([path_distance(x, c) for x, c in zip(levels, t)])
    train = train_t = None
    if method == "shared":
        train = levels_of(cfg, 7, cfg.train_mazes)
        train_t = random_targets(train, cfg.seed + 1)
    patches, _ = build(policy, cfg, method, knob, levels, t, ranking, train, train_t, progress)
    reached = []
    for ps in (patches, None):  # the edit first: its sampling streams match a plain rollout
        from agents.eval.rollout import rollout

        from ..patches.apply import rollout_patch

        res = rollout(policy, levels, deterministic=cfg.deterministic, seed=cfg.seed, max_steps=cfg.max_steps,
                      targets=t, stop_on_target=True, patch=None if ps is None else rollout_patch(policy, ps))
        reached.append(np.asarray(res.reached_target, bool))
    rows = []
    for lo, hi in zip(bins[:-1], bins[1:]):
        sel = (dist >= lo) & (dist < hi)
        for name, r in (("", reached[0]), ("baseline", reached[1])):
            rows.append({"method": method if name == "" else "none", "knob": float(knob), "size": cfg.size,
                         "control": name, "dist_lo": int(lo), "dist_hi": int(hi),
                         **Rate.of(int(r[sel].sum()), int(sel.sum())).columns("arrival")})
    return rows
