"""Placement specs for the cheese and the mouse.

A spec is a small frozen object; every spec also has a string form, accepted wherever a
spec is (CLI flags, JSON, ``make_vec_env(cheese="top-right:5")``):

=====================  ===============================  ========================================
string                 object                           meaning
=====================  ===============================  ========================================
``uniform``            ``Uniform()``                    procgen's own draw (cheese), or uniform
                                                        over open cells (mouse)
``top-right:N``        ``Region(N)``                    procgen AISC ``rand_region=N``: uniform
(``region:N``)                                          over the top-right N×N corner of the
                                                        inner maze (N clipped to maze_size);
                                                        never a level without cheese
``cell:R,C``           ``AtCell(R, C)``                 exactly world cell (R, C)
``top-left`` etc.      ``Corner("top-left")``           the named corner cell of the inner maze
                                                        (see :class:`Corner`)
(object only)          ``Mask(bool_array)``             uniform over open cells where the mask
                                                        is True
``none``               ``NoCheese()``                   no cheese (cheese only)
``start``              ``Start()``                      procgen's start, the bottom-left inner
                                                        cell (mouse only; the mouse default)
=====================  ===============================  ========================================

How a spec turns into a cell for a given maze (and which RNG draws it uses) is in
:mod:`mazegen.procgen.generate`.

>>> parse_placement("top-right:5")
Region(n=5)
>>> str(parse_placement("cell:3,21"))
'cell:3,21'
>>> parse_placement("bottom-right")
Corner(name='bottom-right')
>>> parse_placement("region:0")
Traceback (most recent call last):
...
ValueError: region size n must be an integer >= 1, got 0
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .checks import check_int
from .constants import WORLD_SIZE
from .level import CORNERS, inner_margin

__all__ = [
    "Placement",
    "Uniform",
    "Region",
    "AtCell",
    "Corner",
    "Mask",
    "NoCheese",
    "Start",
    "parse_placement",
    "cell_issue",
    "check_cell_placements",
    "CHEESE_SPECS",
    "MOUSE_SPECS",
]


class Placement:
    """Base class of placement specs."""

    def __str__(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass(frozen=True)
class Uniform(Placement):
    """procgen's uniform cheese draw over free cells (never the mouse's cell)."""

    def __str__(self) -> str:
        return "uniform"


@dataclass(frozen=True)
class Region(Placement):
    """Uniform over the top-right ``n×n`` corner of the inner maze (n clipped to maze_size).

    Follows procgen AISC's ``rand_region`` draw order, except that where AISC gives up after
    ``maze_size*100`` rejected draws and silently places no cheese, we keep drawing (the
    region always contains the open top-right node cell, so this terminates).
    """

    n: int

    def __post_init__(self) -> None:
        check_int("region size n", self.n, 1)

    def __str__(self) -> str:
        return f"top-right:{self.n}"


@dataclass(frozen=True)
class AtCell(Placement):
    """Exactly world cell ``(row, col)``; it must be an open cell of the inner maze."""

    row: int
    col: int

    def __post_init__(self) -> None:
        top = max(WORLD_SIZE.values()) - 1
        object.__setattr__(self, "row", check_int("cell row", self.row, 0, top))
        object.__setattr__(self, "col", check_int("cell col", self.col, 0, top))

    def __str__(self) -> str:
        return f"cell:{self.row},{self.col}"


def cell_issue(row: int, col: int, world_size: int, maze_size: int) -> str | None:
    """Why world cell ``(row, col)`` is not open in *every* maze of ``maze_size`` (None if it is).

    In a procgen maze the inner cells with even local row and column (the *node* cells) are
    always open, those with both odd are always wall, and the others (corridors between two
    nodes) are open in some mazes and wall in others (see ``docs/procgen-maze.md``, "Kruskal
    generation").

    >>> cell_issue(12, 12, 25, 5) is None, cell_issue(11, 12, 25, 5)
    (True, 'it is a corridor cell of a 5x5 maze, open in some mazes and a wall in others')
    >>> cell_issue(0, 1, 25, 23)
    'it is outside the 23x23 inner maze (rows and cols in [1, 23])'
    """
    m = inner_margin(world_size, maze_size)
    if not (m <= row < m + maze_size and m <= col < m + maze_size):
        return f"it is outside the {maze_size}x{maze_size} inner maze (rows and cols in [{m}, {m + maze_size - 1}])"
    odd_r, odd_c = (row - m) % 2, (col - m) % 2
    if odd_r and odd_c:
        return f"it is a wall in every {maze_size}x{maze_size} maze"
    if odd_r or odd_c:
        return f"it is a corridor cell of a {maze_size}x{maze_size} maze, open in some mazes and a wall in others"
    return None


def check_cell_placements(
    cheese: Placement, mouse: Placement, world_size: int, maze_size: "int | tuple[int, ...] | None"
) -> None:
    """Refuse ``cell:R,C`` placements that some level of an endless level stream would put on a
    wall (or on the other object): such a cell must be a node cell of every allowed maze size.

    ``maze_size`` is a checked one (None: procgen's own size draw, every odd size in
    ``[3, world_size]``; an int; or a tuple of allowed sizes). Raises ValueError naming the
    placement, the maze size and the allowed cells.

    >>> check_cell_placements(AtCell(0, 1), Start(), 25, None)
    Traceback (most recent call last):
    ...
    ValueError: cheese placement 'cell:0,1' cannot be used with procgen's size draw (3..25): it is outside the 3x3 inner maze (rows and cols in [11, 13]). A cell placement must be open in every level: a node cell (row and col each one of 11, 13) of every allowed maze size; pass one maze_size, or use a corner or top-right:N spec instead
    """
    if maze_size is None:
        sizes, told = tuple(range(3, world_size + 1, 2)), f"procgen's size draw (3..{world_size})"
    elif isinstance(maze_size, tuple):
        sizes, told = maze_size, f"maze_size {maze_size}"
    else:
        sizes, told = (int(maze_size),), f"maze_size {maze_size}"
    for what, spec in (("cheese", cheese), ("mouse", mouse)):
        if not isinstance(spec, AtCell):
            continue
        for md in sizes:
            why = cell_issue(spec.row, spec.col, world_size, md)
            if why is not None:
                m = inner_margin(world_size, md)
                nodes = list(range(m, m + md, 2))
                listed = ", ".join(map(str, nodes)) if len(nodes) <= 4 else f"{m}, {m + 2}, ..., {nodes[-1]}"
                raise ValueError(
                    f"{what} placement {str(spec)!r} cannot be used with {told}: {why}. A cell "
                    f"placement must be open in every level: a node cell (row and col each one of "
                    f"{listed}) of every allowed maze size; pass one maze_size, or use a corner "
                    "or top-right:N spec instead"
                )
    if isinstance(cheese, AtCell):
        cell = (cheese.row, cheese.col)
        for md in sizes:
            m = inner_margin(world_size, md)
            if (isinstance(mouse, AtCell) and cell == (mouse.row, mouse.col)) or (
                isinstance(mouse, Start) and cell == (m + md - 1, m)
            ):
                raise ValueError(
                    f"cheese placement {str(cheese)!r} is the mouse's start cell {cell} "
                    f"(mouse {str(mouse)!r}, maze size {md}); pick another cell"
                )


@dataclass(frozen=True)
class Corner(Placement):
    """A named corner of the inner maze.

    In a procgen maze every corner of the inner maze is a node cell, hence always open, so
    the corner cell itself is used. The one exception: when the corner is the other object's
    cell (e.g. cheese at ``bottom-left`` with the mouse at procgen's start), the nearest open
    cell to the corner by BFS (legal steps) that is free is used instead; ties are broken by
    row, then column.
    """

    name: str

    def __post_init__(self) -> None:
        if self.name not in CORNERS:
            raise ValueError(f"corner must be one of {CORNERS}, got {self.name!r}")

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class Mask(Placement):
    """Uniform over open inner-maze cells where ``mask`` (bool, world×world) is True."""

    mask: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        m = np.asarray(self.mask, dtype=bool)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"mask must be a square 2-D bool array, got shape {m.shape}")
        if not m.any():
            raise ValueError("mask selects no cell")
        m = m.copy()
        m.setflags(write=False)
        object.__setattr__(self, "mask", m)

    def __str__(self) -> str:
        return f"mask:{int(self.mask.sum())}cells"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mask) and np.array_equal(self.mask, other.mask)

    def __hash__(self) -> int:
        return hash(self.mask.tobytes())


@dataclass(frozen=True)
class NoCheese(Placement):
    """No cheese at all (for steering experiments and cheese vectors)."""

    def __str__(self) -> str:
        return "none"


@dataclass(frozen=True)
class Start(Placement):
    """procgen's mouse start: the bottom-left cell of the inner maze."""

    def __str__(self) -> str:
        return "start"


CHEESE_SPECS = ("uniform", "top-right:N", "region:N", "cell:R,C", *CORNERS, "none")
MOUSE_SPECS = ("start", "uniform", "cell:R,C", *CORNERS)


def parse_placement(spec: "str | Placement", *, what: str = "cheese") -> Placement:
    """Turn a string or spec object into a validated :class:`Placement`.

    ``what`` is ``"cheese"`` or ``"mouse"``; it decides which specs are allowed.
    """
    if what not in ("cheese", "mouse"):
        raise ValueError(f"what must be 'cheese' or 'mouse', got {what!r}")
    allowed = CHEESE_SPECS if what == "cheese" else MOUSE_SPECS
    if isinstance(spec, Placement):
        p = spec
    elif isinstance(spec, str):
        s = spec.strip().lower()
        if s == "uniform":
            p = Uniform()
        elif s in ("none", "no-cheese"):
            p = NoCheese()
        elif s == "start":
            p = Start()
        elif s in CORNERS:
            p = Corner(s)
        elif s.startswith(("top-right:", "region:")):
            arg = s.split(":", 1)[1]
            try:
                n = int(arg)
            except ValueError:
                raise ValueError(f"region size in {spec!r} must be an integer, got {arg!r}") from None
            p = Region(n)
        elif s.startswith("cell:"):
            arg = s.split(":", 1)[1]
            try:
                r, c = (int(x) for x in arg.split(","))
            except ValueError:
                raise ValueError(f"cell spec must look like 'cell:ROW,COL', got {spec!r}") from None
            p = AtCell(r, c)
        else:
            raise ValueError(f"unknown {what} placement {spec!r}; allowed: {', '.join(allowed)}")
    else:
        raise TypeError(f"placement must be a string or Placement, got {type(spec).__name__}")
    if what == "mouse" and isinstance(p, (NoCheese, Region)):
        raise ValueError(f"mouse placement {str(p)!r} is not allowed; allowed: {', '.join(MOUSE_SPECS)}")
    if what == "cheese" and isinstance(p, Start):
        raise ValueError(f"cheese placement 'start' is not allowed; allowed: {', '.join(CHEESE_SPECS)}")
    return p
