"""The options every maze env constructor takes, checked once: :class:`LevelOptions`, :class:`EnvOptions`.

:class:`LevelOptions` is procgen's level stream (``distribution_mode``, ``num_levels``,
``start_level``, ``seed`` = procgen's ``rand_seed``) with mazegen's ``maze_size`` / ``cheese`` /
``mouse`` specs: what the native env and the real engine
(:func:`mazegen.procgen.backend.make_procgen_vec_env`) both take. :class:`EnvOptions` adds the
native env's own options (``obs``, ``max_steps``, ``rgb_style``, ``use_backgrounds``); it is what
:func:`mazegen.adapters.make.make_vec_env` and the gymnasium adapters take as keyword arguments.

Building one checks every field (a bad value raises ValueError naming it and the allowed
values) and normalises it: ints and bools become plain Python ones, ``maze_size`` None, an int
or a tuple, ``cheese`` / ``mouse`` :class:`~mazegen.placement.Placement` objects.

>>> opts = EnvOptions(maze_size=[5, 7], cheese="top-right:3", seed=2)
>>> opts.maze_size, opts.cheese, opts.world_size
((5, 7), Region(n=3), 25)
>>> EnvOptions(max_steps=0)
Traceback (most recent call last):
...
ValueError: max_steps must be an integer >= 1, got 0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from .checks import check_distribution_mode, check_int, check_maze_size, is_int
from .constants import MAX_SEED, MAX_STEPS, WORLD_SIZE
from .env import OBS_KINDS, RGB_STYLES, MazeVecEnv
from .level_source import SOURCE_OPTIONS, LevelSource, ProcgenLevelSource
from .placement import Placement, check_cell_placements, parse_placement
from .procgen.seeds import INT32_MAX

__all__ = [
    "LevelOptions",
    "EnvOptions",
    "LevelKwargs",
    "EnvKwargs",
    "check_int",
    "check_maze_size_option",
    "check_num_envs",
    "check_seed",
    "check_bool",
    "is_int",
    "MAX_RAND_SEED",
]

#: Largest procgen ``rand_seed``: :data:`mazegen.constants.MAX_SEED` (C++ takes it modulo 2**32).
MAX_RAND_SEED = MAX_SEED


def check_num_envs(num_envs: Any) -> int:
    """``num_envs`` as an int (>= 1)."""
    return check_int("num_envs", num_envs, 1)


def check_seed(seed: Any) -> int:
    """procgen's ``rand_seed`` as an int in ``[0, 2**32 - 1]``.

    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: seed must be an integer in [0, 4294967295], got -1
    """
    return check_int("seed", seed, 0, MAX_RAND_SEED)


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a bool (a Python or numpy bool only)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def check_maze_size_option(maze_size: Any, distribution_mode: str) -> int | tuple[int, ...] | None:
    """Validate ``maze_size`` (None, one odd int, or a sequence of odd ints) for a mode.

    >>> check_maze_size_option((3, 5), "hard")
    (3, 5)
    >>> check_maze_size_option(17, "easy")
    Traceback (most recent call last):
    ...
    ValueError: maze_size for distribution_mode='easy' must be an odd integer in [3, 15], got 17
    """
    if maze_size is None:
        return None
    top = WORLD_SIZE[distribution_mode]
    sizes = (
        [maze_size]
        if is_int(maze_size)
        else list(maze_size)
        if isinstance(maze_size, (list, tuple, np.ndarray))
        else None
    )
    if not sizes:
        raise ValueError(
            f"maze_size must be None, an odd int or a non-empty sequence of odd ints, got {maze_size!r}"
        )
    for s in sizes:
        check_maze_size(s, f"maze_size for distribution_mode={distribution_mode!r}", top)
    return int(sizes[0]) if is_int(maze_size) else tuple(int(s) for s in sizes)


@dataclass(frozen=True, kw_only=True)
class LevelOptions:
    """procgen's level stream with mazegen's size and placement specs (checked when built).

    Args:
        distribution_mode: ``"hard"`` (25x25 world) or ``"easy"`` (15x15).
        maze_size: None for procgen's own size draw, an odd int, or a sequence of odd ints
            (then chosen per level seed, see :func:`mazegen.level_source.sizes_for_seeds`).
        cheese: cheese placement spec (see :mod:`mazegen.placement`), e.g. ``"top-right:5"``.
        mouse: mouse placement spec (default procgen's start cell).
        num_levels: procgen's ``num_levels`` (0: unbounded level set).
        start_level: procgen's ``start_level``.
        seed: procgen's ``rand_seed`` (which level-seed stream each env draws).
    """

    distribution_mode: str = "hard"
    maze_size: int | tuple[int, ...] | None = None
    cheese: str | Placement = "uniform"
    mouse: str | Placement = "start"
    num_levels: int = 0
    start_level: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        check_distribution_mode(self.distribution_mode)
        self._set("maze_size", check_maze_size_option(self.maze_size, self.distribution_mode))
        self._set("cheese", parse_placement(self.cheese, what="cheese"))
        self._set("mouse", parse_placement(self.mouse, what="mouse"))
        check_cell_placements(self.cheese, self.mouse, self.world_size, self.maze_size)
        self._set("num_levels", check_int("num_levels", self.num_levels, 0, INT32_MAX))
        self._set("start_level", check_int("start_level", self.start_level, 0, INT32_MAX))
        self._set("seed", check_seed(self.seed))

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)  # normalising a frozen dataclass in __post_init__

    @property
    def world_size(self) -> int:
        """Side of the world grid for ``distribution_mode``."""
        return WORLD_SIZE[self.distribution_mode]

    def level_source(self, num_envs: int) -> ProcgenLevelSource:
        """procgen's level stream for ``num_envs`` envs under these options."""
        options = {name: getattr(self, name) for name in SOURCE_OPTIONS}
        return ProcgenLevelSource(num_envs, **options, rand_seed=self.seed)


@dataclass(frozen=True, kw_only=True)
class EnvOptions(LevelOptions):
    """:class:`LevelOptions` plus the native env's own options (checked when built).

    Args:
        obs: ``"grid"`` (``uint8 (3, W, W)`` wall/mouse/cheese planes) or ``"rgb"`` (64x64 frames).
        max_steps: episode timeout (procgen: 500).
        rgb_style: ``"textured"`` (procgen's own frame, the default) or ``"mono"`` (its
            monochrome-assets frame) for ``obs="rgb"``.
        use_backgrounds: draw procgen's background image for ``obs="rgb"``.
        others: as :class:`LevelOptions`.
    """

    obs: str = "grid"
    max_steps: int = MAX_STEPS
    rgb_style: str = "textured"
    use_backgrounds: bool = True

    def __post_init__(self) -> None:
        if self.obs not in OBS_KINDS:
            raise ValueError(f"obs must be one of {OBS_KINDS}, got {self.obs!r}")
        super().__post_init__()
        self._set("max_steps", check_int("max_steps", self.max_steps, 1))
        if self.rgb_style not in RGB_STYLES:
            raise ValueError(f"rgb_style must be one of {RGB_STYLES}, got {self.rgb_style!r}")
        self._set("use_backgrounds", check_bool("use_backgrounds", self.use_backgrounds))

    def vec_env(self, num_envs: int, level_source: LevelSource | None = None) -> MazeVecEnv:
        """A :class:`~mazegen.env.MazeVecEnv` with these options.

        It plays ``level_source`` if given (its own levels; the level options are then unused),
        else procgen's level stream (:meth:`level_source`).
        """
        n = check_num_envs(num_envs)
        return MazeVecEnv(
            self.level_source(n) if level_source is None else level_source,
            n,
            obs=self.obs,
            max_steps=self.max_steps,
            rgb_style=self.rgb_style,
            use_backgrounds=self.use_backgrounds,
        )


class LevelKwargs(TypedDict, total=False):
    """The keyword arguments of :class:`LevelOptions`, for typing ``**options: Unpack[...]``."""

    distribution_mode: str
    maze_size: int | tuple[int, ...] | None
    cheese: str | Placement
    mouse: str | Placement
    num_levels: int
    start_level: int
    seed: int


class EnvKwargs(LevelKwargs, total=False):
    """The keyword arguments of :class:`EnvOptions`, for typing ``**options: Unpack[...]``."""

    obs: str
    max_steps: int
    rgb_style: str
    use_backgrounds: bool
