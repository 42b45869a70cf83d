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

from typing import Unpack

from ..env import MazeVecEnv
from ..options import EnvKwargs, EnvOptions, check_num_envs

__all__ = ["make_vec_env", "make_maze_env"]


def make_vec_env(num_envs: int, **options: Unpack[EnvKwargs]):
    """A :class:`~mazegen.adapters.sb3.MazeSB3VecEnv` playing procgen-protocol levels.

    Args:
        num_envs: number of parallel envs (>= 1).
        options: the fields of :class:`~mazegen.options.EnvOptions`, all optional:
            ``obs`` (``"grid"``: ``uint8 (3, W, W)`` wall/mouse/cheese planes, or ``"rgb"``:
            64x64 frames), ``distribution_mode`` (``"hard"``: 25x25 world, or ``"easy"``:
            15x15), ``maze_size`` (None for procgen's own size draw, an odd int, or a sequence
            of odd ints), ``cheese`` / ``mouse`` (placement specs, see :mod:`mazegen.placement`,
            e.g. ``cheese="top-right:5"``; the mouse defaults to procgen's start cell),
            ``num_levels`` / ``start_level`` / ``seed`` (procgen's ``num_levels``,
            ``start_level`` and ``rand_seed``), ``max_steps`` (episode timeout, procgen: 500),
            ``rgb_style`` (``"textured"``, the default: procgen's own frame pixel for pixel, or
            ``"mono"``: its monochrome-assets frame; for ``obs="rgb"``) and
            ``use_backgrounds`` (draw procgen's background image for ``obs="rgb"``).
    """
    from .sb3 import MazeSB3VecEnv

    return MazeSB3VecEnv(make_maze_env(num_envs, **options))


def make_maze_env(num_envs: int, **options: Unpack[EnvKwargs]) -> MazeVecEnv:
    """The bare :class:`~mazegen.env.MazeVecEnv` behind :func:`make_vec_env` (same arguments)."""
    n = check_num_envs(num_envs)
    return EnvOptions(**options).vec_env(n)
