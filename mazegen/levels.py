"""A batch of levels as stacked arrays (:class:`Levels`), and :func:`as_levels`, which turns a
:class:`~mazegen.level.Level`, a batch or a list of levels into a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .level import Level

__all__ = ["Levels", "as_levels"]


@dataclass(eq=False)
class Levels:
    """A batch of levels sharing one world size, stored as stacked arrays.

    Attributes:
        walls: ``(N, W, W)`` bool.
        cheese: ``(N, 2)`` int16 ``(row, col)``; ``(-1, -1)`` where a level has no cheese.
        mouse: ``(N, 2)`` int16.
        maze_size: ``(N,)`` int16.
        background: ``(N,)`` int8.
        seed: ``(N,)`` int64 level seeds; -1 where unknown.

    >>> lv = Levels.from_list([Level.from_ascii("#####\\n#..C#\\n#.###\\n#M..#\\n#####")] * 2)
    >>> len(lv), lv.world_size, lv.has_cheese.tolist()
    (2, 5, [True, True])
    >>> lv[1].cheese
    (1, 3)
    """

    walls: np.ndarray
    cheese: np.ndarray
    mouse: np.ndarray
    maze_size: np.ndarray
    background: np.ndarray = field(default=None)  # type: ignore[assignment]
    seed: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.walls = np.asarray(self.walls, dtype=bool)
        if self.walls.ndim != 3 or self.walls.shape[1] != self.walls.shape[2]:
            raise ValueError(f"walls must have shape (N, W, W), got {self.walls.shape}")
        n = self.walls.shape[0]
        self.cheese = np.asarray(self.cheese, dtype=np.int16).reshape(n, 2)
        self.mouse = np.asarray(self.mouse, dtype=np.int16).reshape(n, 2)
        self.maze_size = np.asarray(self.maze_size, dtype=np.int16).reshape(n)
        self.background = (
            np.zeros(n, np.int8) if self.background is None else np.asarray(self.background, np.int8).reshape(n)
        )
        self.seed = np.full(n, -1, np.int64) if self.seed is None else np.asarray(self.seed, np.int64).reshape(n)

    @property
    def world_size(self) -> int:
        return int(self.walls.shape[1])

    @property
    def has_cheese(self) -> np.ndarray:
        """``(N,)`` bool."""
        return self.cheese[:, 0] >= 0

    @property
    def margin(self) -> np.ndarray:
        """``(N,)`` inner-maze margins."""
        return (self.world_size - self.maze_size.astype(np.int64)) // 2

    @property
    def top_right_cell(self) -> np.ndarray:
        """``(N, 2)`` top-right cell of each inner maze."""
        m = self.margin
        return np.stack([m, m + self.maze_size - 1], axis=1).astype(np.int16)

    def __len__(self) -> int:
        return int(self.walls.shape[0])

    def __getitem__(self, idx):
        if isinstance(idx, (int, np.integer)):
            i = int(idx)
            ch = self.cheese[i]
            return Level(
                walls=self.walls[i],
                cheese=None if ch[0] < 0 else (int(ch[0]), int(ch[1])),
                mouse=(int(self.mouse[i, 0]), int(self.mouse[i, 1])),
                maze_size=int(self.maze_size[i]),
                world_size=self.world_size,
                background=int(self.background[i]),
                seed=None if self.seed[i] < 0 else int(self.seed[i]),
            )
        return Levels(
            walls=self.walls[idx],
            cheese=self.cheese[idx],
            mouse=self.mouse[idx],
            maze_size=self.maze_size[idx],
            background=self.background[idx],
            seed=self.seed[idx],
        )

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def to_list(self) -> list[Level]:
        return list(self)

    @classmethod
    def from_list(cls, levels: Sequence[Level] | Iterable[Level]) -> "Levels":
        levels = list(levels)
        if not levels:
            raise ValueError("Levels.from_list needs at least one level")
        w = levels[0].world_size
        for lv in levels:
            if lv.world_size != w:
                raise ValueError(f"all levels must share one world size; got {w} and {lv.world_size}")
        return cls(
            walls=np.stack([lv.walls for lv in levels]),
            cheese=np.array([lv.cheese if lv.cheese is not None else (-1, -1) for lv in levels]),
            mouse=np.array([lv.mouse for lv in levels]),
            maze_size=np.array([lv.maze_size for lv in levels]),
            background=np.array([lv.background for lv in levels]),
            seed=np.array([-1 if lv.seed is None else lv.seed for lv in levels]),
        )

    @classmethod
    def concat(cls, parts: Sequence["Levels"]) -> "Levels":
        if not parts:
            raise ValueError("Levels.concat needs at least one batch")
        return cls(
            walls=np.concatenate([p.walls for p in parts]),
            cheese=np.concatenate([p.cheese for p in parts]),
            mouse=np.concatenate([p.mouse for p in parts]),
            maze_size=np.concatenate([p.maze_size for p in parts]),
            background=np.concatenate([p.background for p in parts]),
            seed=np.concatenate([p.seed for p in parts]),
        )


def as_levels(level_or_levels: "Level | Levels | Sequence[Level]") -> Levels:
    """Coerce a :class:`Level`, a :class:`Levels` batch or a non-empty list of Level to Levels."""
    if isinstance(level_or_levels, Levels):
        return level_or_levels
    if isinstance(level_or_levels, Level):
        return Levels.from_list([level_or_levels])
    try:
        items = list(level_or_levels)
    except TypeError:
        raise ValueError(
            f"expected a Level, Levels or a list of Level, got {type(level_or_levels).__name__}"
        ) from None
    if not items or not all(isinstance(x, Level) for x in items):
        raise ValueError("expected a Level, Levels or a non-empty list of Level")
    return Levels.from_list(items)
