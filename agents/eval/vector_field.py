"""Vector fields: the policy's move distribution with the mouse at every open cell of a level.

For one level, every open cell of the inner maze (except the cheese's) gets a copy of the level
with the mouse moved there; the env builds all those observations at once and the policy sees
them in one batch. Each cell's net vector is ``(p_right - p_left, p_up - p_down)`` (x to the
right, y up on the image). :func:`field_difference` subtracts two fields of the same level
(e.g. with and without a steering patch).

``patch``: like :func:`agents.eval.rollout.rollout`, an optional ``patch(level_indices)`` context
manager factory entered around the forward pass; every row is level index 0.

>>> import numpy as np
>>> from mazegen import Level
>>> lvl = Level.from_ascii('''
... #####
... #..C#
... #.###
... #M..#
... #####
... ''')
>>> class AlwaysUp:
...     obs = "grid"
...     def action_probs(self, obs):
...         p = np.zeros((len(obs), 15)); p[:, 5] = 1.0; return p
>>> vf = vector_field(AlwaysUp(), lvl)
>>> len(vf.cells), vf.vectors[0].tolist()
(6, [0.0, 1.0])
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager

import numpy as np

from mazegen.level import Level
from mazegen.levels import Levels

__all__ = ["VectorField", "vector_field", "field_difference", "plot_vector_field", "MOVES"]

#: Column order of :attr:`VectorField.probs` (same as ``agents.policy.MOVES``).
MOVES = ("left", "down", "noop", "up", "right")
_MOVE_OF_ACTION = np.array([0, 0, 0, 1, 2, 3, 4, 4, 4, 2, 2, 2, 2, 2, 2], dtype=np.int64)


@dataclass
class VectorField:
    """Per-cell move probabilities of one level.

    Attributes:
        level: the level (its own mouse position is irrelevant).
        cells: ``(K, 2)`` open inner cells, row-major.
        probs: ``(K, 5)`` move probabilities in :data:`MOVES` order.
        vectors: ``(K, 2)`` ``(p_right - p_left, p_up - p_down)``.
    """

    level: Level
    cells: np.ndarray
    probs: np.ndarray
    vectors: np.ndarray

    def at(self, cell: tuple[int, int]) -> np.ndarray:
        """The ``(dx, dy)`` vector at ``cell``."""
        hit = np.flatnonzero((self.cells[:, 0] == cell[0]) & (self.cells[:, 1] == cell[1]))
        if hit.size == 0:
            raise ValueError(f"cell {tuple(cell)} is not in this field (walls and the cheese cell are not)")
        return self.vectors[hit[0]]

    def to_rows(self) -> list[dict]:
        return [
            {"row": int(r), "col": int(c), **{f"p_{m}": float(p[j]) for j, m in enumerate(MOVES)},
             "dx": float(v[0]), "dy": float(v[1])}
            for (r, c), p, v in zip(self.cells, self.probs, self.vectors)
        ]


def _move_probs(policy: Any, obs: np.ndarray) -> np.ndarray:
    if hasattr(policy, "move_probs"):
        return np.asarray(policy.move_probs(obs), dtype=np.float64)
    p = np.asarray(policy.action_probs(obs), dtype=np.float64)
    out = np.zeros((len(p), len(MOVES)))
    np.add.at(out.T, _MOVE_OF_ACTION, p.T)
    return out


def vector_field(
    policy: Any,
    level: Level,
    *,
    patch: Callable[[np.ndarray], ContextManager] | None = None,
    rgb_style: str | None = None,
) -> VectorField:
    """The policy's vector field on ``level`` (see the module docstring)."""
    from mazegen.env import MazeVecEnv
    from mazegen.level_source import FixedLevelSource

    from ..policy import rgb_style as rgb_style_of

    if not isinstance(level, Level):
        raise ValueError(f"level must be a mazegen.Level, got {type(level).__name__}")
    obs_kind = getattr(policy, "obs", None)
    if obs_kind not in ("grid", "rgb"):
        raise ValueError(f"policy.obs must be 'grid' or 'rgb', got {obs_kind!r}")
    if patch is not None and not callable(patch):
        raise ValueError(f"patch must be None or a callable level_indices -> context manager, got {patch!r}")
    inner = np.zeros_like(level.walls)
    inner[level.inner] = True
    cells = np.argwhere(inner & ~level.walls)
    if level.cheese is not None:
        cells = cells[~((cells[:, 0] == level.cheese[0]) & (cells[:, 1] == level.cheese[1]))]
    k = len(cells)
    if k == 0:
        raise ValueError("the level has no open cell for the mouse")
    lv = Levels(
        walls=np.broadcast_to(level.walls, (k, *level.walls.shape)),
        cheese=np.broadcast_to(np.array(level.cheese if level.cheese is not None else (-1, -1)), (k, 2)),
        mouse=cells,
        maze_size=np.full(k, level.maze_size),
        background=np.full(k, level.background),
        seed=np.full(k, -1 if level.seed is None else level.seed),
    )
    style = rgb_style_of(policy, rgb_style) if obs_kind == "rgb" else "mono"
    env = MazeVecEnv(FixedLevelSource(lv), k, obs=obs_kind, rgb_style=style)
    obs = env.reset()
    ctx = patch(np.zeros(k, dtype=np.int64)) if patch is not None else contextlib.nullcontext()
    with ctx:
        probs = _move_probs(policy, obs)
    vec = np.stack([probs[:, 4] - probs[:, 0], probs[:, 3] - probs[:, 1]], axis=1)
    return VectorField(level=level, cells=cells, probs=probs, vectors=vec)


def field_difference(a: VectorField, b: VectorField) -> VectorField:
    """``a - b`` cell by cell (probabilities and vectors); both must cover the same cells."""
    if a.cells.shape != b.cells.shape or not np.array_equal(a.cells, b.cells):
        raise ValueError("the two fields cover different cells; compute them on the same level")
    return VectorField(level=a.level, cells=a.cells, probs=a.probs - b.probs, vectors=a.vectors - b.vectors)


def plot_vector_field(
    field: VectorField,
    path: str | Path,
    *,
    other: VectorField | None = None,
    title: str = "",
) -> Path:
    """Arrows over the maze; with ``other``, the two fields side by side plus their difference."""
    from . import plots

    lvl = field.level
    if other is None:
        return plots.vector_field_plot(lvl.walls, field.cells, field.vectors, path, cheese=lvl.cheese,
                                       maze_size=lvl.maze_size, title=title or "policy vector field")
    return plots.vector_field_compare(lvl.walls, field.cells, field.vectors, other.vectors, path,
                                      cheese=lvl.cheese, maze_size=lvl.maze_size, title=title)
