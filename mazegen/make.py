"""One call from options to a ready SB3 VecEnv: :func:`make_vec_env`.

>>> venv = make_vec_env(4, seed=3)
>>> venv.observation_space
Box(0, 1, (3, 25, 25), uint8)
>>> make_vec_env(0)
Traceback (most recent call last):
...
ValueError: num_envs must be an integer >= 1, got 0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .env import OBS_KINDS, RGB_STYLES, MazeVecEnv, ProcgenLevelSource
from .ids import WORLD_SIZE
from .placement import Placement, parse_placement

__all__ = ["make_vec_env", "make_maze_env", "check_maze_size"]

_INT32_MAX = 2**31 - 1


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def check_maze_size(maze_size: Any, distribution_mode: str) -> int | tuple[int, ...] | None:
    """Validate ``maze_size`` (None, one odd int, or a sequence of odd ints) for a mode.

    >>> check_maze_size((3, 5), "hard")
    (3, 5)
    >>> check_maze_size(17, "easy")
    Traceback (most recent call last):
    ...
    ValueError: maze_size must be odd and in [3, 15] for distribution_mode='easy', got 17
    """
    if maze_size is None:
        return None
    top = WORLD_SIZE[distribution_mode]
    sizes = [maze_size] if _is_int(maze_size) else list(maze_size) if isinstance(maze_size, (list, tuple, np.ndarray)) else None
    if not sizes:
        raise ValueError(f"maze_size must be None, an odd int or a non-empty sequence of odd ints, got {maze_size!r}")
    for s in sizes:
        if not _is_int(s) or s % 2 == 0 or not 3 <= s <= top:
            raise ValueError(
                f"maze_size must be odd and in [3, {top}] for distribution_mode={distribution_mode!r}, got {s!r}"
            )
    return int(sizes[0]) if _is_int(maze_size) else tuple(int(s) for s in sizes)


def make_vec_env(
    num_envs: int,
    *,
    obs: str = "grid",
    distribution_mode: str = "hard",
    maze_size: int | tuple[int, ...] | None = None,
    cheese: str | Placement = "uniform",
    mouse: str | Placement = "start",
    num_levels: int = 0,
    start_level: int = 0,
    seed: int = 0,
    max_steps: int = 500,
    rgb_style: str = "mono",
    use_backgrounds: bool = True,
):
    """A :class:`~mazegen.sb3_vec_env.MazeSB3VecEnv` playing procgen-protocol levels.

    Args:
        num_envs: number of parallel envs (>= 1).
        obs: ``"grid"`` (``uint8 (3, W, W)`` wall/mouse/cheese planes) or ``"rgb"`` (64x64 frames).
        distribution_mode: ``"hard"`` (25x25 world) or ``"easy"`` (15x15).
        maze_size: None for procgen's own size draw, an odd int, or a sequence of odd ints.
        cheese: cheese placement spec (see :mod:`mazegen.placement`), e.g. ``"top-right:5"``.
        mouse: mouse placement spec (default procgen's start cell).
        num_levels: procgen's ``num_levels`` (0: unbounded level set).
        start_level: procgen's ``start_level``.
        seed: procgen's ``rand_seed`` (which level-seed stream each env draws).
        max_steps: episode timeout (procgen: 500).
        rgb_style: ``"mono"`` or ``"textured"`` frames for ``obs="rgb"``.
        use_backgrounds: draw procgen's background image for ``obs="rgb"``.
    """
    from .sb3_vec_env import MazeSB3VecEnv

    return MazeSB3VecEnv(
        make_maze_env(
            num_envs, obs=obs, distribution_mode=distribution_mode, maze_size=maze_size, cheese=cheese,
            mouse=mouse, num_levels=num_levels, start_level=start_level, seed=seed, max_steps=max_steps,
            rgb_style=rgb_style, use_backgrounds=use_backgrounds,
        )
    )


def make_maze_env(
    num_envs: int,
    *,
    obs: str = "grid",
    distribution_mode: str = "hard",
    maze_size: int | tuple[int, ...] | None = None,
    cheese: str | Placement = "uniform",
    mouse: str | Placement = "start",
    num_levels: int = 0,
    start_level: int = 0,
    seed: int = 0,
    max_steps: int = 500,
    rgb_style: str = "mono",
    use_backgrounds: bool = True,
) -> MazeVecEnv:
    """The bare :class:`~mazegen.env.MazeVecEnv` behind :func:`make_vec_env` (same arguments)."""
    if not _is_int(num_envs) or num_envs < 1:
        raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
    if obs not in OBS_KINDS:
        raise ValueError(f"obs must be one of {OBS_KINDS}, got {obs!r}")
    if distribution_mode not in WORLD_SIZE:
        raise ValueError(f"distribution_mode must be one of {tuple(WORLD_SIZE)}, got {distribution_mode!r}")
    maze_size = check_maze_size(maze_size, distribution_mode)
    cheese_spec = parse_placement(cheese, what="cheese")
    mouse_spec = parse_placement(mouse, what="mouse")
    if not _is_int(num_levels) or not 0 <= num_levels <= _INT32_MAX:
        raise ValueError(f"num_levels must be an integer in [0, {_INT32_MAX}], got {num_levels!r}")
    if not _is_int(start_level) or not 0 <= start_level <= _INT32_MAX:
        raise ValueError(f"start_level must be an integer in [0, {_INT32_MAX}], got {start_level!r}")
    if not _is_int(seed) or not 0 <= seed <= 2**32 - 1:
        raise ValueError(f"seed must be an integer in [0, {2**32 - 1}], got {seed!r}")
    if not _is_int(max_steps) or max_steps < 1:
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    if rgb_style not in RGB_STYLES:
        raise ValueError(f"rgb_style must be one of {RGB_STYLES}, got {rgb_style!r}")
    if not isinstance(use_backgrounds, (bool, np.bool_)):
        raise ValueError(f"use_backgrounds must be a bool, got {use_backgrounds!r}")
    source = ProcgenLevelSource(
        int(num_envs),
        distribution_mode=distribution_mode,
        maze_size=maze_size,
        cheese=cheese_spec,
        mouse=mouse_spec,
        num_levels=int(num_levels),
        start_level=int(start_level),
        rand_seed=int(seed),
    )
    return MazeVecEnv(
        source,
        int(num_envs),
        obs=obs,
        max_steps=int(max_steps),
        rgb_style=rgb_style,
        use_backgrounds=bool(use_backgrounds),
    )
