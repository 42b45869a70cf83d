"""Level sources: which level each env of a batched maze env plays next.

A *level source* is any object with the two members of the :class:`LevelSource` protocol:

* ``world_size``: the side of every level it returns (25 in hard mode, 15 in easy mode);
* ``next_levels(env_ids)``: the next level for each listed env, as one
  :class:`~mazegen.levels.Levels` row per id, in order.

:class:`~mazegen.env.MazeVecEnv` asks its source for levels on ``reset()`` and whenever an
episode ends. :class:`ProcgenLevelSource` follows procgen's ``num_levels`` / ``start_level`` /
``rand_seed`` protocol (``num_levels=1, start_level=s`` plays exactly ``procgen_level(s)``,
over and over); :class:`FixedLevelSource` replays a fixed level per env.

>>> from mazegen.level import Level
>>> lvl = Level.from_ascii("#####\\n#..C#\\n#.###\\n#M..#\\n#####")
>>> src = FixedLevelSource(Levels.from_list([lvl, lvl]))
>>> isinstance(src, LevelSource), src.world_size, len(src.next_levels(np.array([1, 0])))
(True, 5, 2)
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from .checks import check_distribution_mode, check_int, is_int
from .levels import Levels

__all__ = [
    "LevelSource",
    "ProcgenLevelSource",
    "SOURCE_OPTIONS",
    "FixedLevelSource",
    "check_env_ids",
    "sizes_for_seeds",
    "levels_for_seeds",
]


@runtime_checkable
class LevelSource(Protocol):
    """Where an env's levels come from.

    ``world_size`` is the side of every level it returns; ``next_levels(env_ids)`` returns the
    next level for each listed env (one :class:`~mazegen.levels.Levels` row per id, in order).
    """

    world_size: int

    def next_levels(self, env_ids: np.ndarray) -> Levels: ...


def check_env_ids(env_ids: Any, num_envs: int) -> np.ndarray:
    """``env_ids`` as ``int64`` distinct env indices in ``[0, num_envs)``.

    >>> check_env_ids([2, 0], 3).tolist()
    [2, 0]
    >>> check_env_ids([3], 3)
    Traceback (most recent call last):
    ...
    ValueError: env id 3 out of range [0, 2]
    """
    ids = np.asarray(env_ids)
    if ids.ndim != 1:
        raise ValueError(f"env_ids must be a 1-D array of env indices, got shape {ids.shape}")
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"env_ids must be integers, got dtype {ids.dtype}")
    ids = ids.astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= num_envs):
        bad = int(ids[(ids < 0) | (ids >= num_envs)][0])
        raise ValueError(f"env id {bad} out of range [0, {num_envs - 1}]")
    if ids.size > 1 and (np.diff(np.sort(ids)) == 0).any():
        raise ValueError(f"env_ids must be distinct, got {ids.tolist()}")
    return ids


def sizes_for_seeds(seeds: np.ndarray, sizes: Any) -> np.ndarray:
    """Pick one of ``sizes`` per level seed by a fixed hash of the seed (deterministic).

    A level seed always gets the same size, and the sizes are used about equally often.

    >>> sizes_for_seeds(np.array([5, 5, 6]), (3, 9)).tolist()[0] == sizes_for_seeds(np.array([5]), (3, 9))[0]
    True
    """
    choices = np.asarray(list(sizes), dtype=np.int64).reshape(-1)
    if choices.size == 0:
        raise ValueError("maze_size sequence must not be empty")
    h = np.asarray(seeds, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):  # splitmix64 finaliser, wrapping uint64 arithmetic
        h = (h + np.uint64(0x9E3779B97F4A7C15)) * np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(29)
    return choices[(h % np.uint64(choices.size)).astype(np.int64)]


def levels_for_seeds(
    seeds: np.ndarray, *, distribution_mode: str, maze_size: Any, cheese: Any, mouse: Any
) -> Levels:
    """The levels of procgen's level stream for ``seeds`` under the size and placement specs.

    :func:`mazegen.procgen.generate.generate_levels`, except that a ``maze_size`` sequence lists the
    allowed sizes, one picked per level seed by :func:`sizes_for_seeds`.
    """
    from .procgen.generate import generate_levels

    if maze_size is not None and not is_int(maze_size):
        maze_size = sizes_for_seeds(seeds, maze_size)
    return generate_levels(
        seeds, distribution_mode=distribution_mode, maze_size=maze_size, cheese=cheese, mouse=mouse
    )


SOURCE_OPTIONS: tuple[str, ...] = (
    "distribution_mode",
    "maze_size",
    "cheese",
    "mouse",
    "num_levels",
    "start_level",
)
"""The keyword options of :class:`ProcgenLevelSource` besides ``num_envs`` and ``rand_seed``;
:class:`mazegen.options.LevelOptions` holds fields of the same names."""


class ProcgenLevelSource:
    """procgen's level stream: :class:`~mazegen.procgen.seeds.LevelSeeds` + ``generate_levels``.

    Env ``i`` draws its level seeds from its own seed generator exactly as procgen does for
    ``(num_levels, start_level, rand_seed)``; each seed becomes a level through
    :func:`mazegen.procgen.generate.generate_levels` with the given size and placement specs
    (the defaults reproduce procgen's own levels). ``maze_size`` is None (procgen's size
    draw), one odd int, or a sequence of allowed sizes: then each level's size is chosen among
    them by :func:`sizes_for_seeds` (a fixed hash of its level seed).
    """

    def __init__(
        self,
        num_envs: int,
        *,
        distribution_mode: str = "hard",
        maze_size: int | tuple[int, ...] | None = None,
        cheese: Any = "uniform",
        mouse: Any = "start",
        num_levels: int = 0,
        start_level: int = 0,
        rand_seed: int = 0,
    ) -> None:
        world_size = check_distribution_mode(distribution_mode)
        num_envs = check_int("num_envs", num_envs, 1)
        from .procgen.seeds import LevelSeeds  # lazy: written alongside this module

        self.num_envs = num_envs
        self.distribution_mode = distribution_mode
        self.world_size = world_size
        self.maze_size = maze_size
        self.cheese = cheese
        self.mouse = mouse
        self.num_levels = num_levels
        self.start_level = start_level
        self.rand_seed = rand_seed
        self._seeds = LevelSeeds(
            num_envs, num_levels=num_levels, start_level=start_level, rand_seed=rand_seed
        )

    def options(self) -> dict[str, Any]:
        """The level options this source was built with (:data:`SOURCE_OPTIONS`), by name."""
        return {name: getattr(self, name) for name in SOURCE_OPTIONS}

    def reseeded(self, rand_seed: int) -> ProcgenLevelSource:
        """A fresh source with the same options and another ``rand_seed`` (from its start)."""
        return ProcgenLevelSource(self.num_envs, **self.options(), rand_seed=rand_seed)

    def next_levels(self, env_ids: np.ndarray) -> Levels:
        ids = check_env_ids(env_ids, self.num_envs)
        seeds = np.asarray(self._seeds.next(ids), dtype=np.int64)
        return levels_for_seeds(
            seeds,
            distribution_mode=self.distribution_mode,
            maze_size=self.maze_size,
            cheese=self.cheese,
            mouse=self.mouse,
        )

    def __repr__(self) -> str:
        return (
            f"ProcgenLevelSource(num_envs={self.num_envs}, distribution_mode={self.distribution_mode!r}, "
            f"maze_size={self.maze_size!r}, cheese={str(self.cheese)!r}, mouse={str(self.mouse)!r}, "
            f"num_levels={self.num_levels}, start_level={self.start_level}, rand_seed={self.rand_seed})"
        )


class FixedLevelSource:
    """Env ``i`` always plays ``levels[i]`` (replayed on every reset).

    >>> from mazegen.level import Level
    >>> lv = Levels.from_list([Level.from_ascii("#####\\n#..C#\\n#.###\\n#M..#\\n#####")] * 3)
    >>> FixedLevelSource(lv).next_levels(np.array([2, 0])).mouse.tolist()
    [[3, 1], [3, 1]]
    """

    def __init__(self, levels: Levels) -> None:
        if not isinstance(levels, Levels):
            raise ValueError(
                f"FixedLevelSource needs a mazegen.Levels, got {type(levels).__name__}"
            )
        if len(levels) == 0:
            raise ValueError("FixedLevelSource needs at least one level")
        self.levels = levels
        self.num_envs = len(levels)
        self.world_size = levels.world_size

    def next_levels(self, env_ids: np.ndarray) -> Levels:
        ids = check_env_ids(env_ids, self.num_envs)
        return self.levels[ids]

    def __repr__(self) -> str:
        return f"FixedLevelSource({self.num_envs} levels, world_size={self.world_size})"
