"""The real procgen engine (procgen-mirror) behind the same placement API as the native env.

:func:`make_procgen_vec_env` returns an SB3 ``VecEnv`` over ``procgen.ProcgenGym3Env`` playing
``maze`` (:class:`~mazegen.procgen.vec_env.ProcgenMazeVecEnv`: how levels are written into
the engine, its infos and its tracked dynamics); :class:`~mazegen.procgen.gym_env.ProcgenMazeEnv`
is a gymnasium ``Env`` over one engine. Both are importable from here.

:func:`load_level` / :func:`read_level` push any :class:`~mazegen.level.Level` into any of
these (or a raw engine) and read the current one back; :func:`engine_states` parses the
engines' serialized states. The raw engine itself (building one, its serialized state, the
pixel check against our renderer) is :mod:`mazegen.procgen.engine`.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..level import Level
from .engine import check_env_index, engine_level, get_state, write_level
from .gym_env import ProcgenMazeEnv
from .vec_env import ProcgenMazeVecEnv

__all__ = [
    "ProcgenMazeVecEnv",
    "ProcgenMazeEnv",
    "make_procgen_vec_env",
    "load_level",
    "read_level",
    "engine_states",
]


def make_procgen_vec_env(num_envs: int, **options: Any) -> ProcgenMazeVecEnv:
    """An SB3 VecEnv over procgen's real ``maze`` engine with mazegen's level specs.

    Args:
        num_envs: number of parallel engine envs (>= 1).
        options: the fields of :class:`~mazegen.options.LevelOptions` (``distribution_mode``,
            ``maze_size``, ``cheese``, ``mouse``, ``num_levels``, ``start_level``, ``seed`` =
            procgen's ``rand_seed``; a ``maze_size`` sequence is chosen per level seed as in
            :class:`mazegen.level_source.ProcgenLevelSource`), plus ``use_backgrounds`` and
            ``use_monochrome_assets`` (procgen's own flags; the latter gives solid-colour frames),
            and ``obs``: the native env's observation kinds (:data:`mazegen.env.OBS_KINDS`).

    Observations: ``obs="rgb"`` (default) ``uint8 (64, 64, 3)`` frames straight from the
    engine; ``obs="grid"`` ``uint8 (3, W, W)`` wall / mouse / cheese planes (channel order
    :data:`mazegen.constants.GRID_CHANNELS`, as the native env's) built every step from the engine's
    own serialized state (its grid and mouse entity), so a grid agent runs on the engine
    unchanged.

    >>> venv = make_procgen_vec_env(2, maze_size=5, cheese="top-right")
    >>> venv.reset().shape
    (2, 64, 64, 3)
    >>> lvl = read_level(venv, 0)   # what the engine now plays: our generated level
    >>> lvl == venv.levels[0], lvl.maze_size, lvl.cheese == lvl.top_right_cell
    (True, 5, True)
    >>> venv.close()
    """
    return ProcgenMazeVecEnv(num_envs, **options)


def _engine_of(env: Any):
    if isinstance(env, ProcgenMazeVecEnv):
        return env.engine
    if isinstance(env, ProcgenMazeEnv):
        return env.venv.engine
    if hasattr(env, "call_c_func") and hasattr(env, "num"):
        return env
    raise ValueError(
        f"expected a ProcgenMazeVecEnv, ProcgenMazeEnv or procgen.ProcgenGym3Env, got {type(env).__name__}"
    )


def engine_states(env: Any, env_ids: Iterable[int] | None = None):
    """Parsed :class:`~mazegen.procgen.state.ProcgenState` of the listed engine envs (all by default)."""
    from .state import parse_state

    engine = _engine_of(env)
    ids = range(engine.num) if env_ids is None else [check_env_index(engine, i) for i in env_ids]
    return [parse_state(get_state(engine, i)) for i in ids]


def read_level(env: Any, i: int) -> Level:
    """The level engine env ``i`` is playing, with ``mouse`` where the mouse is now.

    ``env`` is a :class:`ProcgenMazeVecEnv`, :class:`ProcgenMazeEnv` or a raw
    ``ProcgenGym3Env`` playing maze.
    """
    engine = _engine_of(env)
    return engine_level(engine, check_env_index(engine, i))


def load_level(env: Any, i: int, level: Level) -> np.ndarray:
    """Write ``level`` into engine env ``i`` and return its new observation ``(64, 64, 3)``.

    On a :class:`ProcgenMazeVecEnv` (or :class:`ProcgenMazeEnv`) this starts a new episode
    there (step count 0, facing left); on a raw engine the engine's timers are kept.
    """
    if not isinstance(level, Level):
        raise ValueError(f"level must be a mazegen.Level, got {type(level).__name__}")
    if isinstance(env, ProcgenMazeEnv):
        return env.load_level(level)
    if isinstance(env, ProcgenMazeVecEnv):
        return env.load_level(i, level)
    engine = _engine_of(env)
    i = check_env_index(engine, i)
    write_level(engine, i, level)
    return engine.observe()[1]["rgb"][i].copy()
