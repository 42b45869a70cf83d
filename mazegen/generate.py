"""procgen-faithful maze generation, batched in numba, with controllable size and placement.

:func:`procgen_level` builds exactly the level procgen's ``maze`` builds for a level seed
(RESEARCH.md section 1). Per level, one ``std::mt19937`` seeded with the level seed makes,
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
from numba import njit

from .checks import check_int, is_int
from .ids import NUM_BACKGROUNDS, WORLD_SIZE
from .level import CORNERS, Level, Levels, inner_margin
from .mt19937 import MT_STATE_SIZE, mt_next, mt_seed
from .placement import (
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
from .solvers import bfs_fill

__all__ = [
    "procgen_level",
    "procgen_levels",
    "generate_level",
    "generate_levels",
    "bench_generation",
    "MAX_SEED",
]

#: Largest accepted level seed (procgen seeds its mt19937 with the seed modulo 2**32).
MAX_SEED = 2**32 - 1

# placement kinds passed to the kernel
_M_START, _M_UNIFORM, _M_CELL, _M_CORNER, _M_MASK = 0, 1, 2, 3, 4
_C_UNIFORM, _C_REGION, _C_CELL, _C_CORNER, _C_MASK, _C_NONE = 0, 1, 2, 3, 4, 5

# status codes returned per level by the kernel (each object's outside / wall / on-the-other
# codes are consecutive: see _cell_status)
_OK = 0
_E_MOUSE_OUTSIDE, _E_MOUSE_WALL, _E_MOUSE_ON_CHEESE, _E_MOUSE_MASK_EMPTY = 1, 2, 3, 4
_E_CHEESE_OUTSIDE, _E_CHEESE_WALL, _E_CHEESE_ON_MOUSE, _E_CHEESE_MASK_EMPTY = 5, 6, 7, 8
_E_REGION_EMPTY, _E_CORNER_NO_FREE = 9, 10


assert _E_MOUSE_WALL == _E_MOUSE_OUTSIDE + 1 and _E_MOUSE_ON_CHEESE == _E_MOUSE_OUTSIDE + 2
assert _E_CHEESE_WALL == _E_CHEESE_OUTSIDE + 1 and _E_CHEESE_ON_MOUSE == _E_CHEESE_OUTSIDE + 2


@njit(cache=True)
def _corner_cell(kind_idx: int, world: int, md: int):
    m = (world - md) // 2
    if kind_idx == 0:  # top-left
        return m, m
    if kind_idx == 1:  # top-right
        return m, m + md - 1
    if kind_idx == 2:  # bottom-left
        return m + md - 1, m
    return m + md - 1, m + md - 1  # bottom-right


@njit(cache=True)
def _nearest_free(walls, r0, c0, avoid_r, avoid_c, dist, queue):
    """Nearest open cell to (r0, c0) by BFS steps, not (avoid_r, avoid_c); ties by row, col."""
    bfs_fill(walls, r0, c0, dist, queue)
    h, w = walls.shape
    best_d, br, bc = 1 << 30, -1, -1
    for r in range(h):
        for c in range(w):
            d = dist[r, c]
            if d >= 0 and not (r == avoid_r and c == avoid_c) and d < best_d:
                best_d, br, bc = d, r, c
    return br, bc


@njit(cache=True)
def _cell_status(walls, r, c, margin, md, other_r, other_c, e_outside):
    """_OK if the fixed cell (r, c) can hold an object, else ``e_outside`` (outside the inner
    maze), ``e_outside + 1`` (a wall) or ``e_outside + 2`` (the other object's cell)."""
    if not (margin <= r < margin + md and margin <= c < margin + md):
        return e_outside
    if walls[r, c]:
        return e_outside + 1
    if r == other_r and c == other_c:
        return e_outside + 2
    return _OK


@njit(cache=True)
def _draw_free_cell(state, free, nfree, world, md, mask, use_mask, avoid_r, avoid_c):
    """One draw (``rng() % count``) over the open inner cells in ``free_cells`` order.

    The candidates are the cells under ``mask`` (every cell unless ``use_mask``) other than
    ``(avoid_r, avoid_c)``; returns ``(-1, -1)`` without drawing when there is none.
    """
    margin = (world - md) // 2
    count = 0
    for k in range(nfree):
        r = world - 1 - (margin + free[k] // md)
        c = margin + free[k] % md
        if (not use_mask or mask[r, c]) and not (r == avoid_r and c == avoid_c):
            count += 1
    if count == 0:
        return -1, -1
    pick = np.int64(mt_next(state) % np.uint32(count))
    for k in range(nfree):
        r = world - 1 - (margin + free[k] // md)
        c = margin + free[k] % md
        if (not use_mask or mask[r, c]) and not (r == avoid_r and c == avoid_c):
            if pick == 0:
                return r, c
            pick -= 1
    return -1, -1  # pragma: no cover - pick < count


@njit(cache=True)
def _generate_kernel(
    seeds, world, sizes, mouse_kind, mouse_a, mouse_b, mouse_mask,
    cheese_kind, cheese_a, cheese_b, cheese_mask,
    walls_out, cheese_out, mouse_out, size_out, bg_out, status,
):  # fmt: skip
    n = seeds.shape[0]
    max_cells = world * world
    state = np.empty(MT_STATE_SIZE, dtype=np.uint32)
    order = np.empty(max_cells, dtype=np.int32)
    wx1 = np.empty(max_cells, dtype=np.int32)
    wy1 = np.empty(max_cells, dtype=np.int32)
    wx2 = np.empty(max_cells, dtype=np.int32)
    wy2 = np.empty(max_cells, dtype=np.int32)
    parent = np.empty(max_cells, dtype=np.int32)
    seen = np.empty(max_cells, dtype=np.bool_)
    free = np.empty(max_cells, dtype=np.int32)
    dist = np.empty((world, world), dtype=np.int32)
    queue = np.empty(max_cells, dtype=np.int64)
    half = (world - 1) // 2

    for i in range(n):
        mt_seed(state, np.uint32(seeds[i] & 0xFFFFFFFF))
        mt_next(state)  # bg_pct_x
        bg = mt_next(state) % np.uint32(NUM_BACKGROUNDS)
        md = np.int64(mt_next(state) % np.uint32(half)) * 2 + 3
        if sizes[i] > 0:
            md = sizes[i]
        margin = (world - md) // 2
        ncell = md * md

        # ---- Kruskal, exactly procgen's wall order and draw-per-wall
        nw = 0
        for x in range(1, md - 1, 2):
            for y in range(0, md, 2):
                wx1[nw], wy1[nw], wx2[nw], wy2[nw] = x - 1, y, x + 1, y
                nw += 1
        for x in range(0, md, 2):
            for y in range(1, md - 1, 2):
                wx1[nw], wy1[nw], wx2[nw], wy2[nw] = x, y - 1, x, y + 1
                nw += 1
        for k in range(nw):
            order[k] = k
        for k in range(ncell):
            parent[k] = k
            seen[k] = False
        nfree = 0
        remaining = nw
        while remaining > 0:
            j = np.int64(mt_next(state) % np.uint32(remaining))
            wi = order[j]
            for k in range(j, remaining - 1):
                order[k] = order[k + 1]
            remaining -= 1
            a = wy1[wi] * md + wx1[wi]
            b = wy2[wi] * md + wx2[wi]
            ra = a
            while parent[ra] != ra:
                parent[ra] = parent[parent[ra]]
                ra = parent[ra]
            rb = b
            while parent[rb] != rb:
                parent[rb] = parent[parent[rb]]
                rb = parent[rb]
            if ra != rb:
                mid = ((wy1[wi] + wy2[wi]) // 2) * md + (wx1[wi] + wx2[wi]) // 2
                for cell in (a, mid, b):
                    if not seen[cell]:
                        seen[cell] = True
                        free[nfree] = cell
                        nfree += 1
                parent[ra] = rb

        wl = walls_out[i]
        for r in range(world):
            for c in range(world):
                wl[r, c] = True
        for k in range(nfree):
            cell = free[k]
            wl[world - 1 - (margin + cell // md), margin + cell % md] = False
        size_out[i] = md
        bg_out[i] = bg
        status[i] = _OK

        # ---- mouse (placed first)
        fixed_cr, fixed_cc = -1, -1  # a cheese cell known before drawing (cell:R,C)
        if cheese_kind == _C_CELL:
            fixed_cr, fixed_cc = cheese_a, cheese_b
        mr, mc = world - 1 - margin, margin  # procgen's start
        if mouse_kind == _M_CELL:
            mr, mc = mouse_a, mouse_b
            code = _cell_status(wl, mr, mc, margin, md, fixed_cr, fixed_cc, _E_MOUSE_OUTSIDE)
            if code != _OK:
                status[i] = code
                continue
        elif mouse_kind == _M_CORNER:
            mr, mc = _corner_cell(mouse_a, world, md)
            if mr == fixed_cr and mc == fixed_cc:
                mr, mc = _nearest_free(wl, mr, mc, fixed_cr, fixed_cc, dist, queue)
        elif mouse_kind == _M_UNIFORM or mouse_kind == _M_MASK:
            mr, mc = _draw_free_cell(
                state, free, nfree, world, md, mouse_mask, mouse_kind == _M_MASK, fixed_cr, fixed_cc
            )
            if mr < 0:
                status[i] = _E_MOUSE_MASK_EMPTY
                continue
        mouse_out[i, 0] = mr
        mouse_out[i, 1] = mc
        mouse_local = (world - 1 - mr - margin) * md + (mc - margin)

        # ---- cheese
        cr, cc = -1, -1
        if cheese_kind == _C_UNIFORM:
            m = np.int64(mt_next(state) % np.uint32(nfree))
            while free[m] == mouse_local:
                m = np.int64(mt_next(state) % np.uint32(nfree))
            cr = world - 1 - (margin + free[m] // md)
            cc = margin + free[m] % md
        elif cheese_kind == _C_REGION:
            lo = md - min(cheese_a, md)
            ok = False
            for k in range(nfree):
                if free[k] != mouse_local and free[k] % md >= lo and free[k] // md >= lo:
                    ok = True
                    break
            if not ok:
                status[i] = _E_REGION_EMPTY
                continue
            mt_next(state)  # AISC's discarded draw
            while True:
                m = np.int64(mt_next(state) % np.uint32(nfree))
                cell = free[m]
                if cell != mouse_local and cell % md >= lo and cell // md >= lo:
                    break
            cr = world - 1 - (margin + cell // md)
            cc = margin + cell % md
        elif cheese_kind == _C_CELL:
            cr, cc = cheese_a, cheese_b
            code = _cell_status(wl, cr, cc, margin, md, mr, mc, _E_CHEESE_OUTSIDE)
            if code != _OK:
                status[i] = code
                continue
        elif cheese_kind == _C_CORNER:
            cr, cc = _corner_cell(cheese_a, world, md)
            if cr == mr and cc == mc:
                cr, cc = _nearest_free(wl, cr, cc, mr, mc, dist, queue)
                if cr < 0:
                    status[i] = _E_CORNER_NO_FREE
                    continue
        elif cheese_kind == _C_MASK:
            cr, cc = _draw_free_cell(state, free, nfree, world, md, cheese_mask, True, mr, mc)
            if cr < 0:
                status[i] = _E_CHEESE_MASK_EMPTY
                continue
        cheese_out[i, 0] = cr
        cheese_out[i, 1] = cc


# ---------------------------------------------------------------------------- python API


def _world_size(distribution_mode: str) -> int:
    if distribution_mode not in WORLD_SIZE:
        raise ValueError(
            f"distribution_mode must be one of {sorted(WORLD_SIZE)}, got {distribution_mode!r}"
        )
    return WORLD_SIZE[distribution_mode]


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


def _check_size(s, world: int) -> int:
    if not is_int(s):
        raise ValueError(f"maze_size must be an odd int in [3, {world}], got {s!r}")
    s = int(s)
    if s % 2 == 0 or not 3 <= s <= world:
        raise ValueError(
            f"maze_size must be an odd int in [3, {world}] (world size {world}), got {s}"
        )
    return s


def _sizes(maze_size, n: int, world: int) -> np.ndarray:
    if maze_size is None:
        return np.zeros(n, dtype=np.int64)
    if is_int(maze_size):
        return np.full(n, _check_size(maze_size, world), dtype=np.int64)
    sizes = list(maze_size)
    if len(sizes) != n:
        raise ValueError(
            f"maze_size sequence has {len(sizes)} entries, expected one per seed ({n})"
        )
    return np.array([_check_size(s, world) for s in sizes], dtype=np.int64)


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
            return _M_START, 0, 0, empty
        if isinstance(spec, Uniform):
            return _M_UNIFORM, 0, 0, empty
        if isinstance(spec, AtCell):
            return _M_CELL, int(spec.row), int(spec.col), empty
        if isinstance(spec, Corner):
            return _M_CORNER, CORNERS.index(spec.name), 0, empty
        if isinstance(spec, Mask):
            return _M_MASK, 0, 0, _mask_array(spec.mask, world, "mouse")
    else:
        if isinstance(spec, Uniform):
            return _C_UNIFORM, 0, 0, empty
        if isinstance(spec, Region):
            return _C_REGION, int(spec.n), 0, empty
        if isinstance(spec, AtCell):
            return _C_CELL, int(spec.row), int(spec.col), empty
        if isinstance(spec, Corner):
            return _C_CORNER, CORNERS.index(spec.name), 0, empty
        if isinstance(spec, Mask):
            return _C_MASK, 0, 0, _mask_array(spec.mask, world, "cheese")
        if isinstance(spec, NoCheese):
            return _C_NONE, 0, 0, empty
    raise ValueError(f"unsupported {what} placement {spec!r}")  # pragma: no cover


def _raise_status(
    code: int, seed: int, md: int, world: int, mouse, cheese_spec, mouse_spec
) -> None:
    m = inner_margin(world, md)
    rng = f"rows and cols must be in [{m}, {m + md - 1}] for maze_size={md} in a {world}x{world} world"
    where = f"(level seed {seed}, maze_size {md})"
    if code == _E_MOUSE_OUTSIDE:
        raise ValueError(
            f"mouse cell {(mouse_spec.row, mouse_spec.col)} is outside the inner maze {where}: {rng}"
        )
    if code == _E_MOUSE_WALL:
        raise ValueError(
            f"mouse cell {(mouse_spec.row, mouse_spec.col)} is a wall {where}; pick an open cell, {rng}"
        )
    if code == _E_MOUSE_ON_CHEESE:
        raise ValueError(
            f"mouse cell {(mouse_spec.row, mouse_spec.col)} is the cheese's cell {where}"
        )
    if code == _E_MOUSE_MASK_EMPTY:
        raise ValueError(f"mouse mask selects no free open cell of the inner maze {where}; {rng}")
    if code == _E_CHEESE_OUTSIDE:
        raise ValueError(
            f"cheese cell {(cheese_spec.row, cheese_spec.col)} is outside the inner maze {where}: {rng}"
        )
    if code == _E_CHEESE_WALL:
        raise ValueError(
            f"cheese cell {(cheese_spec.row, cheese_spec.col)} is a wall {where}; pick an open cell, {rng}"
        )
    if code == _E_CHEESE_ON_MOUSE:
        raise ValueError(
            f"cheese cell {(cheese_spec.row, cheese_spec.col)} is the mouse's cell {tuple(mouse)} {where}"
        )
    if code == _E_CHEESE_MASK_EMPTY:
        raise ValueError(
            f"cheese mask selects no open inner-maze cell other than the mouse's {tuple(mouse)} {where}; {rng}"
        )
    if code == _E_REGION_EMPTY:
        raise ValueError(
            f"cheese region {cheese_spec} has no free cell besides the mouse's {tuple(mouse)} {where}"
        )
    if code == _E_CORNER_NO_FREE:
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
    world = _world_size(distribution_mode)
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
    _generate_kernel(
        seeds_arr, world, sizes, mk, ma, mb, mmask, ck, ca, cb, cmask,
        walls, cheese_out, mouse_out, size_out, bg_out, status,
    )  # fmt: skip
    bad = np.flatnonzero(status != _OK)
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
