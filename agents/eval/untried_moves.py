"""The "greedy, untried move first" evaluation option of :func:`agents.eval.rollout.rollout`
(see its module docstring): the move tables and :func:`untried_argmax`.
"""

from __future__ import annotations

import numpy as np

from mazegen.constants import ACTION_DELTAS

__all__ = ["MOVES", "ACTION_MOVE", "MOVE_ONEHOT", "untried_argmax"]

MOVES = np.unique(np.asarray(ACTION_DELTAS), axis=0)  # (5, 2): the distinct moves
#: ``(15,)`` index into ``MOVES`` of each action's move.
ACTION_MOVE = np.array([int(np.flatnonzero((MOVES == d).all(1))[0]) for d in ACTION_DELTAS])
MOVE_ONEHOT = np.eye(len(MOVES))[ACTION_MOVE]  # (15, 5)


def untried_argmax(probs: np.ndarray, pos: np.ndarray, walls: np.ndarray, tried: np.ndarray) -> np.ndarray:
    """``(B,)`` actions: per row, the most probable of the open moves taken least often from
    the mouse's cell, as that move's most probable action; counts the move in ``tried``.

    ``probs`` is ``(B, 15)``, ``pos`` the mouse cells ``(B, 2)``, ``walls`` ``(B, W, W)`` bool,
    ``tried`` ``(B, W, W, 5)`` int32: times each of :data:`MOVES` was taken from each cell
    (updated in place)."""
    rows = np.arange(len(probs))
    r, c = pos[:, 0], pos[:, 1]
    move_p = probs @ MOVE_ONEHOT  # (B, 5)
    w = walls.shape[1]
    nr, nc = r[:, None] + MOVES[None, :, 0], c[:, None] + MOVES[None, :, 1]  # (B, 5)
    inside = (nr >= 0) & (nr < w) & (nc >= 0) & (nc < w)
    is_open = inside & ~(MOVES == 0).all(axis=1)[None, :]
    is_open[is_open] = ~walls[np.broadcast_to(rows[:, None], nr.shape)[is_open], nr[is_open], nc[is_open]]
    is_open[~is_open.any(axis=1)] = True  # no open move (a 1-cell maze): any move
    taken = np.where(is_open, tried[rows, r, c], np.iinfo(np.int32).max)  # (B, 5)
    least = taken == taken.min(axis=1, keepdims=True)
    move = np.where(least, move_p, -1.0).argmax(axis=1)
    act = np.where(ACTION_MOVE[None, :] == move[:, None], probs, -1.0).argmax(axis=1)
    tried[rows, r, c, move] += 1
    return act
