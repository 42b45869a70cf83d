"""Steering vectors: activation differences between pairs of levels, applied as Add patches.

``docs/published-agent.md``, section 4:

- **cheese vector**: activations(maze with cheese) - activations(same maze without cheese),
  both with the mouse at the start; *subtracted* (``coeff=-1``) on every forward pass.
- **top-right vector**: activations(maze with an L-shaped open path from the inner top-right
  cell up to the world's top row and right to the world's top-right corner) - activations(the
  original maze). Needs ``maze_size < world_size`` (there is no wall border to open otherwise).
- any custom pair: :func:`diff_vector`.

A vector computed on one maze can be applied to others ("transfer") with
:func:`steering_patch`; :func:`per_level_vectors` builds one vector per maze for
``Add(per_level=True)``. Also here: reference activations for ablation
(:func:`mean_activation`), resampling sources (:func:`resample_patch`) and the same-norm
random vector control (:func:`random_like`).

>>> from mazegen import Level
>>> lvl = Level.from_ascii('''
... #######
... #######
... ##..C##
... ##.####
... ##M..##
... #######
... #######''')
>>> print(top_right_path_level(lvl).to_ascii())
####...
####.##
##..C##
##.####
##M..##
#######
#######
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mazegen import Level, Levels
from mazegen.levels import as_levels

from ..activations import layer_activations
from ..patches.edits import Add, Resample

__all__ = [
    "cheese_vector",
    "diff_vector",
    "mean_activation",
    "per_level_vectors",
    "random_like",
    "resample_patch",
    "steering_patch",
    "top_right_path_level",
    "top_right_vector",
]


def diff_vector(policy: Any, level_a: Level, level_b: Level, layer: str) -> np.ndarray:
    """``activations(level_a) - activations(level_b)`` at ``layer`` (layer shape, float32)."""
    acts = layer_activations(policy, [level_a, level_b], layer)
    return (acts[0] - acts[1]).numpy().astype(np.float32)


def _at_start(level: Level) -> Level:
    return level if level.mouse == level.start_cell else level.replace(mouse=level.start_cell)


def cheese_vector(policy: Any, level: Level, layer: str) -> np.ndarray:
    """Cheese vector of one maze: with cheese - without, mouse at the start."""
    if level.cheese is None:
        raise ValueError("cheese_vector needs a level with cheese (got level.cheese=None)")
    lvl = _at_start(level)
    if lvl.cheese == lvl.mouse:
        raise ValueError(f"the cheese {lvl.cheese} sits on the start cell; no cheese vector")
    return diff_vector(policy, lvl, lvl.with_cheese(None), layer)


def top_right_path_level(level: Level) -> Level:
    """The level with an L-shaped open path: up from the inner top-right cell to row 0, then
    right to the world's top-right corner ``(0, world_size - 1)``."""
    if level.maze_size >= level.world_size:
        raise ValueError(
            f"top-right vector needs maze_size < world_size, got maze_size={level.maze_size} "
            f"(world_size={level.world_size}); allowed maze sizes: 3..{level.world_size - 2}"
        )
    r0, c0 = level.top_right_cell
    walls = np.array(level.walls)
    walls[0 : r0 + 1, c0] = False
    walls[0, c0 : level.world_size] = False
    return level.replace(walls=walls)


def top_right_vector(policy: Any, level: Level, layer: str) -> np.ndarray:
    """Top-right vector of one maze: the L-path maze - the original (mouse and cheese kept)."""
    return diff_vector(policy, top_right_path_level(level), level, layer)


def per_level_vectors(policy: Any, levels: Levels | Sequence[Level], layer: str, kind: str) -> np.ndarray:
    """``(N, *layer_shape)``: the ``kind`` (``"cheese"`` or ``"top-right"``) vector of every level."""
    lv = as_levels(levels)
    if kind == "cheese":
        a = [_at_start(x) for x in lv]
        if any(x.cheese is None for x in a):
            raise ValueError("every level needs cheese for per-level cheese vectors")
        b = [x.with_cheese(None) for x in a]
    elif kind == "top-right":
        a = [top_right_path_level(x) for x in lv]
        b = list(lv)
    else:
        raise ValueError(f"kind must be 'cheese' or 'top-right', got {kind!r}")
    acts = layer_activations(policy, a + b, layer).numpy()
    return (acts[: len(a)] - acts[len(a) :]).astype(np.float32)


def steering_patch(vector: np.ndarray, layer: str, coeff: float, *, per_level: bool = False) -> Add:
    """An :class:`~steering.patches.Add` patch adding ``coeff * vector`` on every forward pass."""
    return Add(layer, vector, coeff, per_level=per_level)


def random_like(vector: np.ndarray, seed: int = 0, *, per_level: bool = False) -> np.ndarray:
    """A Gaussian random vector with the same shape and L2 norm (each row's norm if ``per_level``)."""
    v = np.asarray(vector, dtype=np.float32)
    r = np.random.default_rng(seed).standard_normal(v.shape).astype(np.float32)
    if per_level:
        vn = np.linalg.norm(v.reshape(len(v), -1), axis=1)
        rn = np.linalg.norm(r.reshape(len(r), -1), axis=1)
        return (r * (vn / rn).reshape((-1,) + (1,) * (v.ndim - 1))).astype(np.float32)
    return (r * (np.linalg.norm(v) / np.linalg.norm(r))).astype(np.float32)


def mean_activation(policy: Any, levels: Levels | Sequence[Level], layer: str) -> np.ndarray:
    """Mean activation over a reference set of levels (layer shape), for ``Ablate(mode="mean")``."""
    return layer_activations(policy, levels, layer).mean(0).numpy().astype(np.float32)


def resample_patch(
    policy: Any,
    layer: str,
    channels: Sequence[int],
    levels: Levels | Sequence[Level],
    sources: Levels | Sequence[Level],
    *,
    same_cheese: bool = False,
    seed: int = 0,
) -> Resample:
    """A per-level :class:`~steering.patches.Resample`: level i's ``channels`` come from a
    source maze (``sources`` are tried in a seeded random order, never the level itself).

    With ``same_cheese=True`` the source maze gets its cheese moved to level i's cheese cell
    (a source where that cell is a wall is skipped); ValueError if no source fits.
    """
    lv, src = as_levels(levels), as_levels(sources)
    rng = np.random.default_rng(seed)
    chosen: list[Level] = []
    for i, level in enumerate(lv):
        found = None
        for j in rng.permutation(len(src)):
            cand = src[int(j)]
            if cand == level:
                continue
            if same_cheese:
                if level.cheese is None:
                    raise ValueError(f"level {i} has no cheese; same_cheese=True needs one")
                if not cand.in_inner(level.cheese) or cand.walls[level.cheese] or cand.mouse == level.cheese:
                    continue
                cand = cand.with_cheese(level.cheese)
            found = cand
            break
        if found is None:
            raise ValueError(f"no source maze fits level {i} (same_cheese={same_cheese}, {len(src)} sources)")
        chosen.append(found)
    acts = layer_activations(policy, chosen, layer).numpy()
    return Resample(layer, channels, acts)
