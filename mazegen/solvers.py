"""Shortest paths on maze levels: BFS distances, paths, next steps, the decision square.

Moves are the four canonical actions (:mod:`mazegen.constants`); a step into a wall or off the
grid is not a legal step. Every function takes walls as a boolean ``(W, W)`` array (True =
wall) with ``(row, col)`` cells, row 0 at the top. Hot loops are numba-compiled and batched.

When several neighbours are equally close (only possible in mazes with loops), the first in
the order LEFT, DOWN, UP, RIGHT wins, so results are deterministic.

>>> from mazegen.level import Level
>>> lvl = Level.from_ascii('''
... #####
... #..C#
... #.###
... #M..#
... #####
... ''')
>>> bfs_distances(lvl.walls, lvl.mouse)[1]
array([-1,  2,  3,  4, -1], dtype=int32)
>>> shortest_path(lvl.walls, lvl.mouse, lvl.cheese)
[(3, 1), (2, 1), (1, 1), (1, 2), (1, 3)]
>>> path_to_actions([(3, 1), (2, 1), (1, 1), (1, 2)])
[5, 5, 7]
>>> decision_square(lvl.replace(cheese=(3, 3)))
(3, 1)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from .constants import ACTION_DELTAS, ACTION_DOWN, ACTION_LEFT, ACTION_RIGHT, ACTION_UP
from .level import Level
from .levels import Levels

__all__ = [
    "bfs_distances",
    "shortest_path",
    "path_to_actions",
    "next_action_towards",
    "next_cells_towards",
    "decision_square",
    "NEIGHBOR_ACTIONS",
]

#: Canonical actions in tie-break order, with their (d_row, d_col).
NEIGHBOR_ACTIONS = (ACTION_LEFT, ACTION_DOWN, ACTION_UP, ACTION_RIGHT)
_DR = np.array([ACTION_DELTAS[a][0] for a in NEIGHBOR_ACTIONS], dtype=np.int64)
_DC = np.array([ACTION_DELTAS[a][1] for a in NEIGHBOR_ACTIONS], dtype=np.int64)
_ACTS = np.array(NEIGHBOR_ACTIONS, dtype=np.int64)


@njit(cache=True)
def bfs_fill(walls: np.ndarray, sr: int, sc: int, dist: np.ndarray, queue: np.ndarray) -> None:
    """BFS from ``(sr, sc)`` over open cells of one ``(H, W)`` grid into ``dist`` (-1 = unreached).

    ``queue`` is scratch space of at least H*W int64. The source must be open.
    """
    h, w = walls.shape
    for r in range(h):
        for c in range(w):
            dist[r, c] = -1
    dist[sr, sc] = 0
    queue[0] = sr * w + sc
    head, tail = 0, 1
    while head < tail:
        cur = queue[head]
        head += 1
        r, c = cur // w, cur % w
        d = dist[r, c] + 1
        for k in range(4):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if 0 <= rr < h and 0 <= cc < w and not walls[rr, cc] and dist[rr, cc] < 0:
                dist[rr, cc] = d
                queue[tail] = rr * w + cc
                tail += 1


@njit(cache=True)
def _bfs_batch(walls: np.ndarray, src: np.ndarray, out: np.ndarray) -> None:
    n, h, w = walls.shape
    queue = np.empty(h * w, dtype=np.int64)
    for i in range(n):
        bfs_fill(walls[i], src[i, 0], src[i, 1], out[i], queue)


def _as_walls(walls, ndim: int | None = None) -> np.ndarray:
    w = np.asarray(walls)
    if w.dtype != bool:
        w = w.astype(bool)
    if w.ndim not in (2, 3) or w.shape[-1] != w.shape[-2]:
        raise ValueError(f"walls must have shape (W, W) or (N, W, W), got {w.shape}")
    if ndim is not None and w.ndim != ndim:
        raise ValueError(f"walls must be {ndim}-D here, got shape {w.shape}")
    return np.ascontiguousarray(w)


def _check_inside(w: int, cells: np.ndarray, what: str) -> None:
    """``cells`` (N, 2) inside a ``w`` x ``w`` grid."""
    bad = (cells < 0).any(axis=1) | (cells >= w).any(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{what} {tuple(int(x) for x in cells[i])} is outside the grid: rows and cols must be in [0, {w - 1}]"
        )


def _check_cells(walls: np.ndarray, cells: np.ndarray, what: str) -> None:
    """``walls`` (N, W, W), ``cells`` (N, 2): inside the grid and open."""
    _check_inside(walls.shape[-1], cells, what)
    on_wall = walls[np.arange(len(cells)), cells[:, 0], cells[:, 1]]
    if on_wall.any():
        i = int(np.argmax(on_wall))
        raise ValueError(f"{what} {tuple(int(x) for x in cells[i])} is a wall")


def bfs_distances(walls: np.ndarray, source) -> np.ndarray:
    """Legal-step distances from ``source`` to every cell; -1 where unreachable or wall.

    Args:
        walls: ``(W, W)`` bool with ``source`` a ``(row, col)``, or a batch ``(N, W, W)``
            with ``source`` of shape ``(N, 2)``.

    Returns:
        int32 array of the shape of ``walls``.
    """
    w = _as_walls(walls)
    single = w.ndim == 2
    src = np.asarray(source, dtype=np.int64)
    if single:
        if src.shape != (2,):
            raise ValueError(
                f"source must be a (row, col) pair for one level, got shape {src.shape}"
            )
        w, src = w[None], src[None]
    elif src.shape != (w.shape[0], 2):
        raise ValueError(f"source must have shape ({w.shape[0]}, 2) for a batch, got {src.shape}")
    _check_cells(w, src, "source cell")
    out = np.empty(w.shape, dtype=np.int32)
    _bfs_batch(w, np.ascontiguousarray(src), out)
    return out[0] if single else out


@njit(cache=True)
def _step_towards(dist: np.ndarray, r: int, c: int) -> int:
    """Index k (into the neighbour order) of the first neighbour one step closer, or -1."""
    h, w = dist.shape
    d = dist[r, c]
    if d <= 0:
        return -1
    for k in range(4):
        rr = r + _DR[k]
        cc = c + _DC[k]
        if 0 <= rr < h and 0 <= cc < w and dist[rr, cc] == d - 1:
            return k
    return -1


def shortest_path(walls: np.ndarray, start, goal) -> list[tuple[int, int]]:
    """Cells of a shortest path from ``start`` to ``goal``, both included.

    Raises ValueError if either cell is a wall or outside, or the goal is unreachable.
    """
    w = _as_walls(walls, ndim=2)
    start = (int(start[0]), int(start[1]))
    goal = (int(goal[0]), int(goal[1]))
    _check_cells(w[None], np.array([start]), "start cell")
    dist = bfs_distances(w, goal)
    if dist[start] < 0:
        raise ValueError(f"goal {goal} is unreachable from start {start}")
    path = [start]
    r, c = start
    while (r, c) != goal:
        k = _step_towards(dist, r, c)
        r, c = r + int(_DR[k]), c + int(_DC[k])
        path.append((r, c))
    return path


def path_to_actions(path: Sequence[tuple[int, int]]) -> list[int]:
    """Canonical action ids that walk ``path`` (one fewer than cells).

    Raises ValueError if two consecutive cells are not 4-neighbours.
    """
    table = {(int(_DR[k]), int(_DC[k])): int(_ACTS[k]) for k in range(4)}
    acts = []
    for a, b in zip(path[:-1], path[1:]):
        delta = (int(b[0]) - int(a[0]), int(b[1]) - int(a[1]))
        if delta not in table:
            raise ValueError(
                f"cells {tuple(a)} and {tuple(b)} are not neighbours; allowed steps: {sorted(table)}"
            )
        acts.append(table[delta])
    return acts


@njit(cache=True)
def _actions_towards(dist: np.ndarray, cells: np.ndarray, out: np.ndarray) -> None:
    for i in range(cells.shape[0]):
        k = _step_towards(dist, cells[i, 0], cells[i, 1])
        out[i] = -1 if k < 0 else _ACTS[k]


def next_action_towards(walls: np.ndarray, cells, target) -> np.ndarray:
    """For each cell, the canonical action of the first step of a shortest path to ``target``.

    Args:
        walls: ``(W, W)`` bool.
        cells: ``(K, 2)`` cells.
        target: ``(row, col)`` open cell.

    Returns:
        ``(K,)`` int64 action ids; -1 for the target itself, walls, cells outside the grid and
        cells that cannot reach the target.
    """
    w = _as_walls(walls, ndim=2)
    cells = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
    dist = bfs_distances(w, target)
    inside = ((cells >= 0) & (cells < w.shape[0])).all(axis=1)
    out = np.full(len(cells), -1, dtype=np.int64)
    sub = np.ascontiguousarray(cells[inside])
    res = np.empty(len(sub), dtype=np.int64)
    _actions_towards(dist, sub, res)
    out[inside] = res
    return out


@njit(cache=True)
def _next_cells_batch(dist: np.ndarray, cells: np.ndarray, out: np.ndarray) -> None:
    for i in range(cells.shape[0]):
        r, c = cells[i, 0], cells[i, 1]
        k = _step_towards(dist[i], r, c)
        if k >= 0:
            out[i, 0] = r + _DR[k]
            out[i, 1] = c + _DC[k]
        elif dist[i, r, c] == 0:  # on the target
            out[i, 0] = r
            out[i, 1] = c
        else:
            out[i, 0] = -1
            out[i, 1] = -1


def next_cells_towards(walls: np.ndarray, cells, targets) -> np.ndarray:
    """Per level, the cell one step from ``cells[i]`` along a shortest path to ``targets[i]``.

    Args:
        walls: ``(N, W, W)`` bool.
        cells: ``(N, 2)`` cells inside the grid.
        targets: ``(N, 2)`` open cells.

    Returns:
        ``(N, 2)`` int64: the next cell; the target itself where the cell is the target; -1 rows
        where the cell is a wall or cannot reach the target.

    >>> walls = np.ones((1, 3, 3), bool); walls[0, 1] = False   # one open row
    >>> next_cells_towards(walls, [[1, 0]], [[1, 2]]).tolist()
    [[1, 1]]
    """
    w = _as_walls(walls, ndim=3)
    cells = np.asarray(cells, dtype=np.int64)
    if cells.shape != (w.shape[0], 2):
        raise ValueError(f"cells must have shape ({w.shape[0]}, 2), got {cells.shape}")
    _check_inside(w.shape[-1], cells, "cell")
    dist = bfs_distances(w, targets)
    out = np.empty((len(cells), 2), dtype=np.int64)
    _next_cells_batch(dist, np.ascontiguousarray(cells), out)
    return out


@njit(cache=True)
def _decision_batch(walls, mouse, cheese, top_right, out) -> None:
    n, h, w = walls.shape
    queue = np.empty(h * w, dtype=np.int64)
    dc = np.empty((h, w), dtype=np.int32)
    dt = np.empty((h, w), dtype=np.int32)
    for i in range(n):
        out[i, 0] = -1
        out[i, 1] = -1
        if cheese[i, 0] < 0 or walls[i, top_right[i, 0], top_right[i, 1]]:
            continue
        bfs_fill(walls[i], cheese[i, 0], cheese[i, 1], dc, queue)
        bfs_fill(walls[i], top_right[i, 0], top_right[i, 1], dt, queue)
        r, c = mouse[i, 0], mouse[i, 1]
        if dc[r, c] < 0 or dt[r, c] < 0:
            continue
        while True:
            kc = _step_towards(dc, r, c)
            kt = _step_towards(dt, r, c)
            if kc < 0 or kt < 0 or kc != kt:
                break
            r += _DR[kc]
            c += _DC[kc]
        out[i, 0] = r
        out[i, 1] = c


def decision_square(level_or_levels: Level | Levels):
    """Last common cell of the shortest paths mouse→cheese and mouse→top-right inner cell.

    For one :class:`Level`: a ``(row, col)`` tuple, or None if it has no cheese (or the
    cheese or the top-right cell is unreachable). For :class:`Levels`: an ``(N, 2)`` int64
    array with -1 rows where undefined.
    """
    if isinstance(level_or_levels, Level):
        lv = Levels.from_list([level_or_levels])
        res = decision_square(lv)[0]
        return None if res[0] < 0 else (int(res[0]), int(res[1]))
    if not isinstance(level_or_levels, Levels):
        raise TypeError(
            f"decision_square needs a Level or Levels, got {type(level_or_levels).__name__}"
        )
    lv = level_or_levels
    walls = np.ascontiguousarray(lv.walls)
    mouse = lv.mouse.astype(np.int64)
    cheese = lv.cheese.astype(np.int64)
    tr = lv.top_right_cell.astype(np.int64)
    has = cheese[:, 0] >= 0
    _check_cells(walls, mouse, "mouse cell")
    if has.any():
        _check_cells(walls[has], cheese[has], "cheese cell")
    out = np.empty((len(lv), 2), dtype=np.int64)
    _decision_batch(walls, mouse, cheese, tr, out)
    return out
