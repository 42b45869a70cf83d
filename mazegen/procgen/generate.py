"""procgen-faithful maze generation, batched in numba, with controllable size and placement.

:func:`procgen_level` builds exactly the level procgen's ``maze`` builds for a level seed
(``docs/procgen-maze.md``, sections 3-5). Per level, one ``std::mt19937`` seeded with the level seed makes,
in order:

1. one draw for ``bg_pct_x`` (unused here);
2. ``rng() % 9``: the background index;
3. ``maze_dim = (rng() % ((W-1)/2))*2 + 3``;
4. Kruskal on the local ``maze_dim`` grid: one draw per candidate wall,
   ``k = rng() % len(remaining)``, removing wall k and keeping the order of the rest;
   cells are appended to ``free_cells`` the first time they are opened;
5. the cheese: ``m = rng() % len(free_cells)``, redrawn while ``free_cells[m]`` is the start.

The mouse starts at the bottom-left inner cell. :func:`generate_levels` keeps that RNG
stream and lets you override the maze size (the size draw is still consumed) and place the
mouse and cheese with the specs of :mod:`mazegen.placement`. The mouse is placed first, then
the cheese (never on the mouse's cell); extra draws come from the same per-level stream,
after Kruskal, so every level is a deterministic function of its seed and the specs:

* mouse ``start``: no draw. ``uniform``: one draw, uniform over the open inner cells (minus
  the cheese's cell when the cheese is a fixed ``cell:R,C``). ``Mask``: one draw over the
  open inner cells under the mask (same exclusion). ``cell:R,C`` / corners: no draw.
* cheese ``uniform``: procgen's draw loop, rejecting the mouse's cell (procgen's own start
  cell when the mouse is at the start, which reproduces procgen exactly). ``top-right:N``:
  procgen AISC's ``rand_region``: one discarded draw, then draws until a free cell in the
  top-right ``n×n`` corner of the inner maze (n clipped to maze_size) that is not the
  mouse's cell; unlike AISC it never gives up. ``Mask``: one draw over the candidates.
  ``cell:R,C``, corners and ``none``: no draw.
* a corner taken by the other object moves to the nearest free open cell by BFS steps, ties
  broken by row, then column.

Candidate cells for one-draw placements are listed in procgen's ``free_cells`` order and
chosen with ``rng() % count``.

>>> lvl = procgen_level(0)
>>> lvl.maze_size, lvl.seed, lvl.mouse == lvl.start_cell
(13, 0, True)
>>> lv = generate_levels([0, 1, 2], cheese="top-right:1", maze_size=7)
>>> lv.maze_size.tolist(), bool((lv.cheese == lv.top_right_cell).all())
([7, 7, 7], True)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import numpy as np

from ..checks import check_distribution_mode, check_int, check_maze_size, is_int
from ..constants import MAX_SEED
from ..level import CORNERS, Level, inner_margin
from ..levels import Levels
from ..placement import (
    AtCell,
    Corner,
    Mask,
    NoCheese,
    Placement,
    Region,
    Start,
    Uniform,
    parse_placement,
)
from .kernel import (
    C_CELL,
    C_CORNER,
    C_MASK,
    C_NONE,
    C_REGION,
    C_UNIFORM,
    E_CHEESE_MASK_EMPTY,
    E_CHEESE_ON_MOUSE,
    E_CHEESE_OUTSIDE,
    E_CHEESE_WALL,
    E_CORNER_NO_FREE,
    E_MOUSE_MASK_EMPTY,
    E_MOUSE_ON_CHEESE,
    E_MOUSE_OUTSIDE,
    E_MOUSE_WALL,
    E_REGION_EMPTY,
    M_CELL,
    M_CORNER,
    M_MASK,
    M_START,
    M_UNIFORM,
    OK,
    generate_kernel,
)

__all__ = [
    "procgen_level",
    "procgen_levels",
    "generate_level",
    "generate_levels",
    "bench_generation",
    "MAX_SEED",
]


def _as_seeds(seeds: Iterable[int] | np.ndarray) -> np.ndarray:
    if isinstance(seeds, (int, np.integer)):
        raise ValueError(
            f"seeds must be a sequence of ints (use generate_level for one seed), got {seeds!r}"
        )
    arr = np.asarray(list(seeds) if not isinstance(seeds, np.ndarray) else seeds)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1:
        raise ValueError(f"seeds must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"seeds must be integers, got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and arr.dtype.itemsize >= 8:
        if (arr > MAX_SEED).any():
            raise ValueError(f"level seeds must be in [0, {MAX_SEED}], got {int(arr.max())}")
        return arr.astype(np.int64)
    arr = arr.astype(np.int64)
    if (arr < 0).any() or (arr > MAX_SEED).any():
        bad = int(arr[(arr < 0) | (arr > MAX_SEED)][0])
        raise ValueError(f"level seeds must be in [0, {MAX_SEED}], got {bad}")
    return arr


def _sizes(maze_size, n: int, world: int) -> np.ndarray:
    if maze_size is None:
        return np.zeros(n, dtype=np.int64)
    if is_int(maze_size):
        return np.full(n, check_maze_size(maze_size, "maze_size", world), dtype=np.int64)
    if not isinstance(maze_size, (list, tuple, np.ndarray)) or np.ndim(maze_size) != 1:
        raise ValueError(
            f"maze_size must be None, an odd int in [3, {world}] or a sequence of such ints "
            f"(one per seed), got {maze_size!r}"
        )
    sizes = list(maze_size)
    if len(sizes) != n:
        raise ValueError(
            f"maze_size sequence has {len(sizes)} entries, expected one per seed ({n})"
        )
    return np.array([check_maze_size(s, "maze_size", world) for s in sizes], dtype=np.int64)


def _mask_array(mask: np.ndarray, world: int, what: str) -> np.ndarray:
    m = np.asarray(mask, dtype=bool)
    if m.shape != (world, world):
        raise ValueError(
            f"{what} mask must have shape ({world}, {world}) for this world, got {m.shape}"
        )
    return np.ascontiguousarray(m)


def _encode(spec: Placement, what: str, world: int):
    """(kind, a, b, mask) for the kernel."""
    empty = np.zeros((world, world), dtype=bool)
    if what == "mouse":
        if isinstance(spec, Start):
            return M_START, 0, 0, empty
        if isinstance(spec, Uniform):
            return M_UNIFORM, 0, 0, empty
        if isinstance(spec, AtCell):
            return M_CELL, int(spec.row), int(spec.col), empty
        if isinstance(spec, Corner):
            return M_CORNER, CORNERS.index(spec.name), 0, empty
        if isinstance(spec, Mask):
            return M_MASK, 0, 0, _mask_array(spec.mask, world, "mouse")
    else:
        if isinstance(spec, Uniform):
            return C_UNIFORM, 0, 0, empty
        if isinstance(spec, Region):
            return C_REGION, int(spec.n), 0, empty
        if isinstance(spec, AtCell):
            return C_CELL, int(spec.row), int(spec.col), empty
        if isinstance(spec, Corner):
            return C_CORNER, CORNERS.index(spec.name), 0, empty
        if isinstance(spec, Mask):
            return C_MASK, 0, 0, _mask_array(spec.mask, world, "cheese")
        if isinstance(spec, NoCheese):
            return C_NONE, 0, 0, empty
    raise ValueError(f"unsupported {what} placement {spec!r}")  # pragma: no cover


def _raise_status(
    code: int, seed: int, md: int, world: int, mouse, cheese_spec, mouse_spec
) -> None:
    m = inner_margin(world, md)
    rng = f"rows and cols must be in [{m}, {m + md - 1}] for maze_size={md} in a {world}x{world} world"
    where = f"(level seed {seed}, maze_size {md})"
    if code == E_MOUSE_OUTSIDE:
        raise ValueError(
            f"mouse cell {(mouse_spec.row, mouse_spec.col)} is outside the inner maze {where}: {rng}"
        )
    if code == E_MOUSE_WALL:
        raise ValueError(
            f"mouse cell {(mouse_spec.row, mouse_spec.col)} is a wall {where}; pick an open cell, {rng}"
        )
    if code == E_MOUSE_ON_CHEESE:
        raise ValueError(
            f"mouse cell {(mouse_spec.row, mouse_spec.col)} is the cheese's cell {where}"
        )
    if code == E_MOUSE_MASK_EMPTY:
        raise ValueError(f"mouse mask selects no free open cell of the inner maze {where}; {rng}")
    if code == E_CHEESE_OUTSIDE:
        raise ValueError(
            f"cheese cell {(cheese_spec.row, cheese_spec.col)} is outside the inner maze {where}: {rng}"
        )
    if code == E_CHEESE_WALL:
        raise ValueError(
            f"cheese cell {(cheese_spec.row, cheese_spec.col)} is a wall {where}; pick an open cell, {rng}"
        )
    if code == E_CHEESE_ON_MOUSE:
        raise ValueError(
            f"cheese cell {(cheese_spec.row, cheese_spec.col)} is the mouse's cell {tuple(mouse)} {where}"
        )
    if code == E_CHEESE_MASK_EMPTY:
        raise ValueError(
            f"cheese mask selects no open inner-maze cell other than the mouse's {tuple(mouse)} {where}; {rng}"
        )
    if code == E_REGION_EMPTY:
        raise ValueError(
            f"cheese region {cheese_spec} has no free cell besides the mouse's {tuple(mouse)} {where}"
        )
    if code == E_CORNER_NO_FREE:
        raise ValueError(f"cheese corner {cheese_spec} has no free open cell {where}")
    raise ValueError(f"level generation failed with status {code} {where}")  # pragma: no cover


def generate_levels(
    seeds: Sequence[int] | np.ndarray,
    *,
    distribution_mode: str = "hard",
    maze_size: int | Sequence[int] | None = None,
    cheese: str | Placement = "uniform",
    mouse: str | Placement = "start",
) -> Levels:
    """Levels for ``seeds`` with procgen's RNG stream and optional overrides.

    Args:
        seeds: level seeds, ints in ``[0, 2**32-1]``.
        distribution_mode: ``"hard"`` (25x25 world) or ``"easy"`` (15x15).
        maze_size: None for procgen's draw, one odd int in ``[3, world]``, or one per seed.
            The size draw is consumed either way.
        cheese: a cheese placement spec or its string (see :mod:`mazegen.placement`).
        mouse: a mouse placement spec or its string.

    With all defaults this is exactly :func:`procgen_levels`. Raises ValueError for bad
    arguments, and for a placement impossible on some level (naming the seed and cell).
    """
    world = check_distribution_mode(distribution_mode)
    seeds_arr = _as_seeds(seeds)
    n = len(seeds_arr)
    sizes = _sizes(maze_size, n, world)
    cheese_spec = parse_placement(cheese, what="cheese")
    mouse_spec = parse_placement(mouse, what="mouse")
    mk, ma, mb, mmask = _encode(mouse_spec, "mouse", world)
    ck, ca, cb, cmask = _encode(cheese_spec, "cheese", world)
    walls = np.empty((n, world, world), dtype=bool)
    cheese_out = np.empty((n, 2), dtype=np.int16)
    mouse_out = np.empty((n, 2), dtype=np.int16)
    size_out = np.empty(n, dtype=np.int16)
    bg_out = np.empty(n, dtype=np.int8)
    status = np.empty(n, dtype=np.int32)
    generate_kernel(
        seeds_arr, world, sizes, mk, ma, mb, mmask, ck, ca, cb, cmask,
        walls, cheese_out, mouse_out, size_out, bg_out, status,
    )  # fmt: skip
    bad = np.flatnonzero(status != OK)
    if len(bad):
        i = int(bad[0])
        _raise_status(
            int(status[i]),
            int(seeds_arr[i]),
            int(size_out[i]),
            world,
            mouse_out[i],
            cheese_spec,
            mouse_spec,
        )
    return Levels(
        walls=walls,
        cheese=cheese_out,
        mouse=mouse_out,
        maze_size=size_out,
        background=bg_out,
        seed=seeds_arr,
    )


def generate_level(seed: int, **kwargs) -> Level:
    """One level; keyword arguments as :func:`generate_levels` (``maze_size`` an int or None)."""
    seed = check_int("seed", seed, 0, MAX_SEED)
    ms = kwargs.get("maze_size")
    if ms is not None and not is_int(ms):
        raise ValueError(f"maze_size for one level must be an int or None, got {ms!r}")
    return generate_levels([seed], **kwargs)[0]


def procgen_levels(seeds: Sequence[int] | np.ndarray, distribution_mode: str = "hard") -> Levels:
    """Exactly the levels procgen's ``maze`` builds for ``seeds`` (batched, numba)."""
    return generate_levels(seeds, distribution_mode=distribution_mode)


def procgen_level(level_seed: int, distribution_mode: str = "hard") -> Level:
    """Exactly the level procgen's ``maze`` builds for ``level_seed``."""
    return generate_level(level_seed, distribution_mode=distribution_mode)


def bench_generation(
    n: int = 200_000, distribution_mode: str = "hard", *, repeats: int = 3
) -> float:
    """Levels per second of :func:`procgen_levels` in this process (best of ``repeats``).

    Compiles first (not timed). Seeds are ``0..n-1``.
    """
    n = check_int("n", n, 1)
    repeats = check_int("repeats", repeats, 1)
    procgen_levels(np.arange(16), distribution_mode)  # compile / warm up
    seeds = np.arange(n, dtype=np.int64)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        procgen_levels(seeds, distribution_mode)
        best = min(best, time.perf_counter() - t0)
    return n / best
