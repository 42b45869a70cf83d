"""Levels are data: numpy arrays, separate from the dynamics.

Coordinates are ``(row, col)`` in **world** cells with row 0 at the **top** of the rendered
image (procgen's y points up; ``row = world_size - 1 - y``). The inner maze of side
``maze_size`` is centred in the world with ``margin = (world_size - maze_size) // 2`` cells of
wall on every side.

A procgen maze is a *perfect* maze on the inner grid: in local inner coordinates ``(i, j)``
the cells with both coordinates even are open ("nodes"), both odd are walls, and the mixed
cells are corridors that are open exactly where the spanning tree joins two nodes.

>>> lvl = Level.from_ascii('''
... #####
... #..C#
... #.###
... #M..#
... #####
... ''')
>>> lvl.maze_size, lvl.world_size, lvl.mouse, lvl.cheese
(3, 5, (3, 1), (1, 3))
>>> lvl.top_right_cell
(1, 3)
>>> print(lvl.to_ascii())
#####
#..C#
#.###
#M..#
#####
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .checks import check_maze_size, is_int
from .constants import ASCII, NUM_BACKGROUNDS

__all__ = ["Level", "Cell", "CORNERS", "inner_margin"]

Cell = tuple[int, int]

#: The four named corners of the inner maze.
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


def inner_margin(world_size: int, maze_size: int) -> int:
    """Cells of wall between the world edge and the inner maze on each side."""
    return (world_size - maze_size) // 2


def _check_sizes(world_size: int, maze_size: int) -> None:
    if not (is_int(world_size) and world_size >= 3 and world_size % 2 == 1):
        raise ValueError(f"world_size must be an odd integer >= 3, got {world_size!r}")
    check_maze_size(maze_size, "maze_size", world_size)


@dataclass(frozen=True, eq=False)
class Level:
    """One maze level.

    Attributes:
        walls: ``bool`` array of shape ``(world_size, world_size)``, indexed ``[row, col]``;
            True where there is a wall. Everything outside the inner maze is wall.
        cheese: ``(row, col)`` of the cheese, or None for a level without cheese.
        mouse: ``(row, col)`` of the mouse at the start of the episode.
        maze_size: side of the inner maze (odd, 3..world_size).
        world_size: side of the world (25 in hard mode, 15 in easy mode).
        background: procgen background image index (0..8); only the textured renderer uses it.
        seed: the procgen level seed this level came from, if any.
    """

    walls: np.ndarray
    cheese: Cell | None
    mouse: Cell
    maze_size: int
    world_size: int
    background: int = 0
    seed: int | None = None

    def __post_init__(self) -> None:
        walls = np.asarray(self.walls, dtype=bool)
        if walls.shape != (self.world_size, self.world_size):
            raise ValueError(
                f"walls must have shape ({self.world_size}, {self.world_size}), got {walls.shape}"
            )
        walls = walls.copy()
        walls.setflags(write=False)
        object.__setattr__(self, "walls", walls)
        _check_sizes(self.world_size, self.maze_size)
        object.__setattr__(self, "maze_size", int(self.maze_size))
        object.__setattr__(self, "world_size", int(self.world_size))
        object.__setattr__(self, "mouse", (int(self.mouse[0]), int(self.mouse[1])))
        if self.cheese is not None:
            object.__setattr__(self, "cheese", (int(self.cheese[0]), int(self.cheese[1])))
        if not (0 <= int(self.background) < NUM_BACKGROUNDS):
            raise ValueError(f"background must be in [0, {NUM_BACKGROUNDS - 1}], got {self.background}")
        object.__setattr__(self, "background", int(self.background))
        if self.seed is not None:
            object.__setattr__(self, "seed", int(self.seed))

    # ------------------------------------------------------------------ geometry
    @property
    def margin(self) -> int:
        """Wall cells between the world edge and the inner maze."""
        return inner_margin(self.world_size, self.maze_size)

    @property
    def inner(self) -> tuple[slice, slice]:
        """``walls[level.inner]`` is the inner maze."""
        m = self.margin
        return slice(m, m + self.maze_size), slice(m, m + self.maze_size)

    @property
    def start_cell(self) -> Cell:
        """procgen's mouse start: the bottom-left cell of the inner maze."""
        return self.corner("bottom-left")

    @property
    def top_right_cell(self) -> Cell:
        """The top-right cell of the inner maze (where the training cheese sits for n=1)."""
        return self.corner("top-right")

    def corner(self, name: str) -> Cell:
        """World cell of a named corner of the inner maze (always an open node cell)."""
        m, s = self.margin, self.maze_size
        table = {
            "top-left": (m, m),
            "top-right": (m, m + s - 1),
            "bottom-left": (m + s - 1, m),
            "bottom-right": (m + s - 1, m + s - 1),
        }
        if name not in table:
            raise ValueError(f"corner must be one of {CORNERS}, got {name!r}")
        return table[name]

    def in_inner(self, cell: Cell) -> bool:
        """Whether ``cell`` lies inside the inner maze."""
        m, s = self.margin, self.maze_size
        return m <= cell[0] < m + s and m <= cell[1] < m + s

    def is_open(self, cell: Cell) -> bool:
        """Whether ``cell`` is inside the world and not a wall."""
        r, c = cell
        return 0 <= r < self.world_size and 0 <= c < self.world_size and not self.walls[r, c]

    def open_cells(self) -> np.ndarray:
        """``(K, 2)`` int array of all open cells, row-major order."""
        return np.argwhere(~self.walls)

    # ------------------------------------------------------------------ edits
    def replace(self, **changes) -> "Level":
        """A copy with some fields changed (validated like the constructor)."""
        fields = dict(
            walls=self.walls,
            cheese=self.cheese,
            mouse=self.mouse,
            maze_size=self.maze_size,
            world_size=self.world_size,
            background=self.background,
            seed=self.seed,
        )
        fields.update(changes)
        return Level(**fields)

    def with_cheese(self, cell: Cell | None) -> "Level":
        """A copy with the cheese moved to ``cell`` (None removes it)."""
        if cell is not None:
            self._check_placeable(cell, "cheese")
            if tuple(cell) == self.mouse:
                raise ValueError(f"cheese cell {tuple(cell)} is the mouse's cell")
        return self.replace(cheese=cell)

    def with_mouse(self, cell: Cell) -> "Level":
        """A copy with the mouse's start moved to ``cell``."""
        self._check_placeable(cell, "mouse")
        if self.cheese is not None and tuple(cell) == self.cheese:
            raise ValueError(f"mouse cell {tuple(cell)} is the cheese's cell")
        return self.replace(mouse=cell)

    def _check_placeable(self, cell: Cell, what: str) -> None:
        r, c = int(cell[0]), int(cell[1])
        m, s = self.margin, self.maze_size
        if not self.in_inner((r, c)):
            raise ValueError(
                f"{what} cell {(r, c)} is outside the inner maze: rows and cols must be in "
                f"[{m}, {m + s - 1}] for maze_size={s} in a {self.world_size}x{self.world_size} world"
            )
        if self.walls[r, c]:
            raise ValueError(f"{what} cell {(r, c)} is a wall")

    # ------------------------------------------------------------------ validation
    def validate(self, *, perfect: bool = True) -> "Level":
        """Raise ValueError unless this is a legal level; return self.

        Always checked: the wall border outside the inner maze, mouse and cheese on distinct
        open cells of the inner maze. With ``perfect=True`` (procgen's mazes) also: node cells
        (even, even) open, odd/odd cells walls, and the open cells form a tree that connects
        every node (open cells = 2 * nodes - 1, all connected).
        """
        w, s, m = self.world_size, self.maze_size, self.margin
        outside = np.ones((w, w), dtype=bool)
        outside[self.inner] = False
        if not self.walls[outside].all():
            bad = tuple(int(x) for x in np.argwhere(outside & ~self.walls)[0])
            raise ValueError(f"cell {bad} outside the inner maze (margin {m}) must be a wall")
        self._check_placeable(self.mouse, "mouse")
        if self.cheese is not None:
            self._check_placeable(self.cheese, "cheese")
            if self.cheese == self.mouse:
                raise ValueError(f"mouse and cheese share cell {self.mouse}")
        if perfect:
            inner = ~self.walls[self.inner]  # open cells, local coords
            ii, jj = np.indices((s, s))
            nodes = (ii % 2 == 0) & (jj % 2 == 0)
            if not inner[nodes].all():
                bad = np.argwhere(nodes & ~inner)[0] + m
                raise ValueError(f"node cell {tuple(int(x) for x in bad)} must be open in a perfect maze")
            odd = (ii % 2 == 1) & (jj % 2 == 1)
            if inner[odd].any():
                bad = np.argwhere(odd & inner)[0] + m
                raise ValueError(f"cell {tuple(int(x) for x in bad)} (odd, odd) must be a wall")
            n_nodes = int(nodes.sum())
            n_open = int(inner.sum())
            if n_open != 2 * n_nodes - 1:
                raise ValueError(
                    f"not a perfect maze: {n_open} open cells, a tree on {n_nodes} nodes has "
                    f"{2 * n_nodes - 1}"
                )
            if _count_reachable(inner, (0, 0)) != n_open:
                raise ValueError("not a perfect maze: open cells are not all connected")
        return self

    # ------------------------------------------------------------------ ascii
    def to_ascii(self) -> str:
        """ASCII art: ``#`` wall, ``.`` open, ``M`` mouse, ``C`` cheese."""
        rows = []
        for r in range(self.world_size):
            line = []
            for c in range(self.world_size):
                if (r, c) == self.mouse:
                    line.append(ASCII["mouse"])
                elif (r, c) == self.cheese:
                    line.append(ASCII["cheese"])
                else:
                    line.append(ASCII["wall"] if self.walls[r, c] else ASCII["empty"])
            rows.append("".join(line))
        return "\n".join(rows)

    @classmethod
    def from_ascii(
        cls,
        text: str,
        *,
        maze_size: int | None = None,
        background: int = 0,
        seed: int | None = None,
        validate: bool = True,
        perfect: bool = True,
    ) -> "Level":
        """Parse ASCII art (see :meth:`to_ascii`). Blank lines around the art are ignored.

        ``maze_size`` defaults to the side of the smallest centred square holding every open
        cell. Exactly one ``M`` is required; ``C`` is optional (at most one).
        """
        lines = [ln.strip() for ln in text.strip("\n").splitlines()]
        lines = [ln for ln in lines if ln]
        w = len(lines)
        if w == 0:
            raise ValueError("empty ASCII level")
        for i, ln in enumerate(lines):
            if len(ln) != w:
                raise ValueError(f"ASCII level must be square: line {i} has {len(ln)} chars, expected {w}")
        allowed = set(ASCII.values())
        walls = np.zeros((w, w), dtype=bool)
        mouse, cheese = [], []
        for r, ln in enumerate(lines):
            for c, ch in enumerate(ln):
                if ch not in allowed:
                    raise ValueError(f"unknown character {ch!r} at {(r, c)}; allowed: {sorted(allowed)}")
                walls[r, c] = ch == ASCII["wall"]
                if ch == ASCII["mouse"]:
                    mouse.append((r, c))
                elif ch == ASCII["cheese"]:
                    cheese.append((r, c))
        if len(mouse) != 1:
            raise ValueError(f"ASCII level needs exactly one {ASCII['mouse']!r}, found {len(mouse)}")
        if len(cheese) > 1:
            raise ValueError(f"ASCII level has {len(cheese)} cheeses; at most one is allowed")
        if maze_size is None:
            open_rc = np.argwhere(~walls)
            centre = w // 2
            half = int(np.abs(open_rc - centre).max())
            maze_size = 2 * half + 1
        lvl = cls(
            walls=walls,
            cheese=cheese[0] if cheese else None,
            mouse=mouse[0],
            maze_size=maze_size,
            world_size=w,
            background=background,
            seed=seed,
        )
        return lvl.validate(perfect=perfect) if validate else lvl

    # ------------------------------------------------------------------ misc
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return (
            self.cheese == other.cheese
            and self.mouse == other.mouse
            and self.maze_size == other.maze_size
            and self.world_size == other.world_size
            and self.background == other.background
            and np.array_equal(self.walls, other.walls)
        )

    def __hash__(self) -> int:
        return hash((self.walls.tobytes(), self.cheese, self.mouse, self.maze_size, self.background))

    def __repr__(self) -> str:
        return (
            f"Level(maze_size={self.maze_size}, world_size={self.world_size}, mouse={self.mouse}, "
            f"cheese={self.cheese}, background={self.background}, seed={self.seed})"
        )

    def to_dict(self) -> dict:
        """JSON-friendly dict (walls as ASCII rows)."""
        return {
            "ascii": self.to_ascii().splitlines(),
            "maze_size": self.maze_size,
            "background": self.background,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Level":
        return cls.from_ascii(
            "\n".join(d["ascii"]),
            maze_size=d["maze_size"],
            background=d.get("background", 0),
            seed=d.get("seed"),
            validate=False,
        )


def _count_reachable(open_: np.ndarray, start: Cell) -> int:
    """Number of open cells 4-connected to ``start`` (small helper for validation)."""
    h, w = open_.shape
    seen = np.zeros_like(open_)
    stack = [start]
    seen[start] = True
    n = 0
    while stack:
        r, c = stack.pop()
        n += 1
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and open_[rr, cc] and not seen[rr, cc]:
                seen[rr, cc] = True
                stack.append((rr, cc))
    return n
