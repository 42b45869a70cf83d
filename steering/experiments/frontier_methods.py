"""The frontier's methods: each method's patches for given targets, and the patch-level controls.

Methods (:data:`FRONTIER_METHODS`) and their size knob:

- ``clamp-single``: one cheese-channel activation clamped at the target's cell; knob = value.
- ``clamp-channels``: the top-n discovered cheese channels clamped there (+2.3); knob = n.
- ``per-maze``: an optimised sparse edit fitted to each maze; knob = k.
- ``shared``: one optimised sparse edit per target fitted on ``train_mazes`` other mazes; knob = k.
- ``per-maze-multi``: per-maze edit split over ``multi_layers``; knob = k (total).
- ``cf-target``: counterfactual activation patching
  (:class:`~steering.patches.counterfactual.Counterfactual`): at every forward pass the layer's
  activations of the same observation with the cheese moved to the target replace the top-n
  channels (``cf_radius``: only the activation cells near the moved and the original cheese);
  knob = n. Channels are ranked by :func:`~steering.methods.counterfactual.rank_by_cheese_move`
  on ``discover_mazes`` discovery mazes (cheese moved to a random open cell), never the
  evaluation mazes.
- ``cf-waypoint``: the same, planner-driven: the cheese moved one BFS step ahead of the mouse
  on a shortest path to the target; knob = n.
- ``vec-cheese``: each maze's own cheese vector (with cheese - without, mouse at the start)
  added with coefficient knob (negative: subtracted, the published use).
- ``vec-top-right``: the top-right vector (the maze with an open path from the inner top-right
  corner to the world's corner - the maze), averaged over ``discover_mazes`` discovery mazes of
  size ``min(size, 23)`` (a 25x25 maze has no border to open), added with coefficient knob
  (negative: subtracted).
- ``vec-compose``: both vectors, each with coefficient knob.

The vectors do not depend on the target (:data:`TARGET_FREE`): the opposite-target control
would be the same edit, so it is left out for them.

:func:`build` makes a method's patches; :func:`random_positions`, :func:`other_maze` and
:func:`head` derive the controls and the counting subsets from them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mazegen import WORLD_SIZE, Levels  # WORLD_SIZE["hard"]: the frontier's 25x25 world

from ..methods.counterfactual import ChangeRanking, counterfactual_patch, rank_by_cheese_move
from ..methods.optimise import EditConfig, fit_sparse_edit
from ..methods.retarget import (
    DEFAULT_MAGNITUDE,
    ChannelRanking,
    eval_levels,
    random_targets,
    retarget_patch,
)
from ..methods.vectors import per_level_vectors
from ..patches.base import Compose, Patch
from ..patches.counterfactual import Counterfactual
from ..patches.edits import Add, Clamp
from ..patches.sparse import SparseAdd

__all__ = [
    "CF_METHODS",
    "DEFAULT_KNOBS",
    "FRONTIER_METHODS",
    "INT_KNOBS",
    "TARGET_FREE",
    "VECTOR_METHODS",
    "build",
    "head",
    "other_maze",
    "random_positions",
]

CF_METHODS = ("cf-target", "cf-waypoint")
VECTOR_METHODS = ("vec-cheese", "vec-top-right", "vec-compose")
FRONTIER_METHODS = ("clamp-single", "clamp-channels", "per-maze", "shared", "per-maze-multi",
                    *CF_METHODS, *VECTOR_METHODS)
#: Methods whose knob is a count (an integer >= 1).
INT_KNOBS = ("clamp-channels", "per-maze", "shared", "per-maze-multi", *CF_METHODS)
#: Methods whose edit is the same for every target.
TARGET_FREE = VECTOR_METHODS
#: Default knob values of each method.
DEFAULT_KNOBS: dict[str, list[float]] = {
    "clamp-single": [5.5, 20.0],
    "clamp-channels": [1, 4, 11],
    "per-maze": [16, 64, 256],
    "shared": [64, 256, 1568],
    "per-maze-multi": [64, 256],
    "cf-target": [1, 8, 32],
    "cf-waypoint": [1, 8, 32],
    "vec-cheese": [-1.0, -2.0],
    "vec-top-right": [-1.0, 1.0],
    "vec-compose": [-1.0, -2.0],
}


def levels_of(cfg: Any, salt: int, n: int, size: int | None = None) -> Levels:
    """``n`` seeded frontier levels (cheese at its ``top-right:5`` spawn); ``salt`` keeps the
    evaluation, training and discovery sets disjoint."""
    return eval_levels(n, seed=cfg.seed, maze_size=cfg.size if size is None else size,
                       cheese="top-right:5", salt=salt)


def cf_ranking(policy: Any, cfg: Any) -> ChangeRanking:
    """Channels of ``cfg.layer`` ranked by their change when the cheese of ``cfg.discover_mazes``
    discovery mazes moves to a random open cell."""
    lv = levels_of(cfg, 8, cfg.discover_mazes)
    return rank_by_cheese_move(policy, cfg.layer, lv, random_targets(lv, cfg.seed + 2))


def top_right_mean(policy: Any, cfg: Any) -> np.ndarray:
    """The mean top-right vector of ``cfg.discover_mazes`` discovery mazes of size
    ``min(cfg.size, 23)`` (a 25x25 maze has no border to open) (layer shape)."""
    lv = levels_of(cfg, 9, cfg.discover_mazes, size=min(cfg.size, WORLD_SIZE["hard"] - 2))
    return per_level_vectors(policy, lv, cfg.layer, "top-right").mean(0).astype(np.float32)


def build(
    policy: Any,
    cfg: Any,
    method: str,
    knob: float,
    levels: Levels,
    targets: np.ndarray,
    ranking: ChannelRanking | None,
    train: Levels | None,
    train_targets: np.ndarray | None,
    progress,
    cache: dict | None = None,
) -> tuple[list[Patch], dict]:
    """The method's patches for ``targets`` (per level of ``levels``) and fit info.

    ``cache`` keeps what a method discovers once (the counterfactual ranking ``"cf_ranking"``,
    the mean top-right vector ``"top_right"``) across calls of one unit."""
    cache = {} if cache is None else cache
    if method == "clamp-single":
        p = retarget_patch(policy, cfg.layer, targets, method="single", magnitude=float(knob), ranking=ranking)
        return [p], {}
    if method == "clamp-channels":
        chans = ranking.top(int(knob))
        p = retarget_patch(
            policy, cfg.layer, targets, method="channels", channels=chans,
            magnitude=DEFAULT_MAGNITUDE["channels"],
        )
        return [p], {}
    if method in CF_METHODS:
        if "cf_ranking" not in cache:
            cache["cf_ranking"] = cf_ranking(policy, cfg)
        chans = sorted(cache["cf_ranking"].top(int(knob)))
        p = counterfactual_patch(cfg.layer, targets, mode=method.removeprefix("cf-"), channels=chans,
                                 radius=cfg.cf_radius)
        return [p], {"channels": chans}
    if method in VECTOR_METHODS:
        out: list[Patch] = []
        if method in ("vec-cheese", "vec-compose"):
            out.append(Add(cfg.layer, per_level_vectors(policy, levels, cfg.layer, "cheese"), float(knob),
                           per_level=True))
        if method in ("vec-top-right", "vec-compose"):
            if "top_right" not in cache:
                cache["top_right"] = top_right_mean(policy, cfg)
            out.append(Add(cfg.layer, cache["top_right"], float(knob)))
        return out, {}
    layers = cfg.multi_layers if method == "per-maze-multi" else [cfg.layer]
    ecfg = EditConfig(**{**cfg.edit, "layers": list(layers), "k": int(knob), "shared": method == "shared"})
    if method == "shared":
        return fit_sparse_edit(policy, train, train_targets, ecfg, seed=cfg.seed, progress=progress)
    return fit_sparse_edit(policy, levels, targets, ecfg, seed=cfg.seed, progress=progress)


def random_positions(policy: Any, patches: list[Patch], seed: int) -> list[Patch] | None:
    """The same edit at random positions: sparse edits' values at random flat positions; clamps
    and counterfactual patches on as many random other channels (None when there are too few
    other channels, or for a patch type without positions)."""
    from ..activations import layer_shape

    rng = np.random.default_rng(seed)
    out: list[Patch] = []
    for p in patches:
        if isinstance(p, SparseAdd):
            size = int(np.prod(p.shape))
            if p.per_level:
                idx = np.stack([rng.choice(size, p.k, replace=False) for _ in range(len(p.index))])
            else:
                idx = rng.choice(size, p.k, replace=False)
            out.append(SparseAdd(p.layer, idx, p.values, p.shape, per_level=p.per_level, coeff=p.coeff))
        elif isinstance(p, (Clamp, Counterfactual)):
            shape = layer_shape(policy, p.layer)
            used = list(p.channels or range(shape[0]))
            others = [c for c in range(shape[0]) if c not in used]
            if len(others) < len(used):
                return None
            chans = sorted(int(c) for c in rng.choice(others, len(used), replace=False))
            if isinstance(p, Clamp):
                out.append(Clamp(p.layer, chans, p.cells, p.value, per_level=p.per_level))
            else:
                out.append(Counterfactual(p.layer, p.targets, mode=p.mode, channels=chans, radius=p.radius,
                                          per_level=p.per_level))
        else:
            return None
    return out


def other_maze(patches: list[Patch]) -> list[Patch]:
    """Per-level edits shifted by one level: maze i gets maze i+1's edit."""
    out = []
    for p in patches:
        if isinstance(p, SparseAdd) and p.per_level:
            out.append(SparseAdd(p.layer, np.roll(p.index, -1, 0), np.roll(p.values, -1, 0), p.shape,
                                 per_level=True, coeff=p.coeff))
        else:
            out.append(p)
    return out


def head(patches: list[Patch], n: int) -> list[Patch]:
    """Per-level patches restricted to their first ``n`` levels."""
    out = []
    for p in patches:
        if isinstance(p, SparseAdd) and p.per_level:
            out.append(SparseAdd(p.layer, p.index[:n], p.values[:n], p.shape, per_level=True, coeff=p.coeff))
        elif isinstance(p, Clamp) and p.per_level:
            out.append(Clamp(p.layer, p.channels, p.cells[:n], p.value, per_level=True))
        elif isinstance(p, Counterfactual) and p.per_level:
            out.append(Counterfactual(p.layer, p.targets[:n], mode=p.mode, channels=p.channels, radius=p.radius,
                                      per_level=True))
        elif isinstance(p, Add) and p.per_level:
            out.append(Add(p.layer, p.vector[:n], p.coeff, channels=p.channels, cells=p.cells, per_level=True))
        else:
            out.append(p)
    return out


def one_patch(patches: list[Patch]) -> Patch:
    """A method's patches as one patch (a :class:`Compose` when there are several)."""
    return patches[0] if len(patches) == 1 else Compose(patches)
