"""Counterfactual activation patching: rank a layer's channels by how much moving the cheese
changes them, and build :class:`~steering.patches.counterfactual.Counterfactual` patches.

:func:`rank_by_cheese_move` moves the cheese of each discovery maze to a given cell (first
frame, mouse at the start) and scores every channel by the mean over mazes of the squared L2
change of its activations; :func:`counterfactual_patch` builds the patch that replaces the top
channels by the counterfactual (cheese at the target, or at a BFS waypoint) activations.

>>> rk = ChangeRanking("embedder.block2.res1.resadd_out", [5, 0, 2], [3.0, 1.5, 0.0], n_mazes=8)
>>> rk.top(2), ChangeRanking.from_json(rk.to_json()) == rk
([5, 0], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mazegen import Level, Levels
from mazegen.levels import as_levels

from ..activations import layer_activations
from ..patches.counterfactual import Counterfactual

__all__ = ["ChangeRanking", "counterfactual_patch", "rank_by_cheese_move"]


@dataclass
class ChangeRanking:
    """Channels of ``layer``, largest counterfactual change first."""

    #: hook point
    layer: str
    #: channel indices, ranked
    channels: list[int]
    #: per ranked channel: mean over mazes of the squared L2 change when the cheese moves
    scores: list[float]
    #: discovery mazes
    n_mazes: int

    def top(self, k: int) -> list[int]:
        """The ``k`` channels that change most."""
        return [int(c) for c in self.channels[:k]]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> ChangeRanking:
        return cls(d["layer"], [int(c) for c in d["channels"]], [float(s) for s in d["scores"]], int(d["n_mazes"]))


def rank_by_cheese_move(
    policy: Any, layer: str, levels: Levels | Sequence[Level], cells
) -> ChangeRanking:
    """Rank ``layer``'s channels by the change of their activations when level ``i``'s cheese
    moves to ``cells[i]`` (``(N, 2)`` open world cells; first frames). Build the ranking on
    discovery mazes, not on the mazes it is evaluated on."""
    lv = as_levels(levels)
    cells = np.asarray(cells, np.int64).reshape(len(lv), 2)
    moved = [x.with_cheese((int(c[0]), int(c[1]))) for x, c in zip(lv, cells)]
    clean = layer_activations(policy, lv, layer)
    cf = layer_activations(policy, moved, layer)
    d = ((cf - clean).double() ** 2).reshape(len(lv), clean.shape[1], -1).sum(2).mean(0).numpy()
    order = np.argsort(-d, kind="stable")
    return ChangeRanking(layer, [int(c) for c in order], [float(d[c]) for c in order], len(lv))


def counterfactual_patch(
    layer: str,
    targets,
    *,
    mode: str = "target",
    channels: Sequence[int] | None = None,
    radius: int | None = None,
) -> Counterfactual:
    """A per-level :class:`Counterfactual` for ``(N, 2)`` target cells (one per level)."""
    return Counterfactual(
        layer, np.asarray(targets, np.int64).reshape(-1, 2), mode=mode, channels=channels,
        radius=radius, per_level=True,
    )
