"""procgen's maze dynamics for a batch of envs: action checks and the numba kernels of one step.

:func:`check_actions` validates a batch of action ids. ``_step_kernel`` moves every mouse one
step (a move into a wall or off the world is a no-op; any horizontal action, even one into a
wall, sets the sprite's facing), pays ``CHEESE_REWARD`` and terminates on the cheese,
truncates at ``max_steps``, and keeps the grid observation's mouse channel in step; ``_grid_fill`` writes the grid observation of the
given envs. :class:`mazegen.env.MazeVecEnv` and :class:`mazegen.procgen.vec_env.ProcgenMazeVecEnv`
step through them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .constants import CH_CHEESE, CH_MOUSE, CH_WALL, CHEESE_REWARD, NUM_ACTIONS

__all__ = ["check_actions"]


# ---------------------------------------------------------------------------------------------
# actions
# ---------------------------------------------------------------------------------------------
def check_actions(actions: Any, num_envs: int) -> np.ndarray:
    """``actions`` as ``int64 (num_envs,)`` action ids in ``[0, 15)``.

    Any shape with ``num_envs`` elements is flattened; integral floats are accepted.

    >>> check_actions([[1.0], [7.0]], 2).tolist()
    [1, 7]
    >>> check_actions([3, 15], 2)
    Traceback (most recent call last):
    ...
    ValueError: action 15 out of range [0, 14]
    """
    n = num_envs
    a = np.asarray(actions)
    if a.shape != (n,):
        a = a.reshape(-1) if a.size == n else a
        if a.shape != (n,):
            raise ValueError(f"actions must have shape ({n},), got {np.asarray(actions).shape}")
    if not np.issubdtype(a.dtype, np.integer):
        if np.issubdtype(a.dtype, np.floating) and np.all(a == np.round(a)):
            a = a.astype(np.int64)
        else:
            raise ValueError(
                f"actions must be integers in [0, {NUM_ACTIONS - 1}], got dtype {a.dtype}"
            )
    a = a.astype(np.int64, copy=False)
    if n:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi >= NUM_ACTIONS:
            raise ValueError(f"action {lo if lo < 0 else hi} out of range [0, {NUM_ACTIONS - 1}]")
    return a


# ---------------------------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _step_kernel(
    actions, deltas, walls, mouse, cheese, t, facing, ep_ret, max_steps,
    grid, write_grid, moved_from, reward, terminated, truncated,
):  # pragma: no cover - numba  # fmt: skip
    n = actions.shape[0]
    w = walls.shape[1]
    for i in range(n):
        a = actions[i]
        dr = deltas[a, 0]
        dc = deltas[a, 1]
        if dc > 0:
            facing[i] = True
        elif dc < 0:
            facing[i] = False
        r = mouse[i, 0]
        c = mouse[i, 1]
        moved_from[i, 0] = r
        moved_from[i, 1] = c
        nr = r + dr
        nc = c + dc
        if (dr != 0 or dc != 0) and 0 <= nr < w and 0 <= nc < w and not walls[i, nr, nc]:
            mouse[i, 0] = nr
            mouse[i, 1] = nc
            if write_grid:
                grid[i, 1, r, c] = 0
                grid[i, 1, nr, nc] = 1
        t[i] += 1
        rew = 0.0
        if mouse[i, 0] == cheese[i, 0] and mouse[i, 1] == cheese[i, 1]:
            rew = 10.0
            terminated[i] = True
            truncated[i] = False
        else:
            terminated[i] = False
            truncated[i] = t[i] >= max_steps
        reward[i] = rew
        ep_ret[i] += rew


@njit(cache=True)
def _grid_fill(grid, ids, walls, mouse, cheese):  # pragma: no cover - numba
    w = walls.shape[1]
    for k in range(ids.shape[0]):
        i = ids[k]
        for r in range(w):
            for c in range(w):
                grid[i, 0, r, c] = 1 if walls[i, r, c] else 0
                grid[i, 1, r, c] = 0
                grid[i, 2, r, c] = 0
        grid[i, 1, mouse[i, 0], mouse[i, 1]] = 1
        if cheese[i, 0] >= 0:
            grid[i, 2, cheese[i, 0], cheese[i, 1]] = 1


assert CH_WALL == 0 and CH_MOUSE == 1 and CH_CHEESE == 2  # the kernels hard-code this order
assert CHEESE_REWARD == 10.0
