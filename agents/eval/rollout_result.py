"""What :func:`agents.eval.rollout.rollout` returns: :class:`RolloutResult` (per-episode
records, their Wilson-CI rates and CSV rows) and its label sets :data:`OUTCOMES`, :data:`FIRSTS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mazegen.levels import Levels

__all__ = ["RolloutResult", "OUTCOMES", "FIRSTS"]

#: Outcome labels: got the cheese / reached the top-right cell without the cheese / neither.
OUTCOMES = ("cheese", "top_right", "neither")
#: Which of cheese / top-right cell the mouse reached first ("cheese" when they coincide).
FIRSTS = ("cheese", "top_right", "neither")


@dataclass
class RolloutResult:
    """Per-episode records of :func:`rollout`; every array has one row per level.

    Attributes:
        got_cheese: ``(N,)`` bool.
        visited_top_right_cell: ``(N,)`` bool, the inner maze's top-right cell was visited.
        visited_top_right_region: ``(N,)`` bool, a cell of the top-right ``region x region``
            corner of the inner maze (``region`` clipped to the maze size) was visited.
        first: ``(N,)`` str, one of :data:`FIRSTS`.
        steps: ``(N,)`` int, the episode's length in steps.
        outcome: ``(N,)`` str, one of :data:`OUTCOMES`.
        final_cell: ``(N, 2)`` int, the mouse's cell when the episode ended.
        reached_target, steps_to_target: ``(N,)`` bool / int (-1 when not reached), only when
            ``targets`` was given (else None).
        trajectories: list of ``(T+1, 2)`` int arrays of visited cells, when recorded.
        levels: the levels played.
    """

    got_cheese: np.ndarray
    visited_top_right_cell: np.ndarray
    visited_top_right_region: np.ndarray
    first: np.ndarray
    steps: np.ndarray
    outcome: np.ndarray
    final_cell: np.ndarray
    levels: Levels
    region: int = 5
    reached_target: np.ndarray | None = None
    steps_to_target: np.ndarray | None = None
    targets: np.ndarray | None = None
    trajectories: list[np.ndarray] | None = None
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.got_cheese.shape[0])

    def rates(self) -> dict[str, dict]:
        """Outcome rates with Wilson 95% intervals: ``{name: {"k","n","rate","lo","hi"}}``."""
        from .stats import rate

        out = {
            "got_cheese": rate(self.got_cheese),
            "visited_top_right_cell": rate(self.visited_top_right_cell),
            "visited_top_right_region": rate(self.visited_top_right_region),
            "outcome_top_right": rate(self.outcome == "top_right"),
            "outcome_neither": rate(self.outcome == "neither"),
        }
        if self.reached_target is not None:
            out["reached_target"] = rate(self.reached_target)
        return out

    def to_rows(self) -> list[dict]:
        """One JSON/CSV-friendly dict per episode."""
        lv = self.levels
        tr = lv.top_right_cell
        rows = []
        for i in range(len(self)):
            row = {
                "level": i,
                "level_seed": int(lv.seed[i]),
                "maze_size": int(lv.maze_size[i]),
                "cheese_row": int(lv.cheese[i, 0]),
                "cheese_col": int(lv.cheese[i, 1]),
                "mouse_row": int(lv.mouse[i, 0]),
                "mouse_col": int(lv.mouse[i, 1]),
                "top_right_row": int(tr[i, 0]),
                "top_right_col": int(tr[i, 1]),
                "got_cheese": bool(self.got_cheese[i]),
                "visited_top_right_cell": bool(self.visited_top_right_cell[i]),
                "visited_top_right_region": bool(self.visited_top_right_region[i]),
                "first": str(self.first[i]),
                "outcome": str(self.outcome[i]),
                "steps": int(self.steps[i]),
                "final_row": int(self.final_cell[i, 0]),
                "final_col": int(self.final_cell[i, 1]),
            }
            if self.reached_target is not None:
                row.update(
                    target_row=int(self.targets[i, 0]),
                    target_col=int(self.targets[i, 1]),
                    reached_target=bool(self.reached_target[i]),
                    steps_to_target=int(self.steps_to_target[i]),
                )
            rows.append(row)
        return rows
