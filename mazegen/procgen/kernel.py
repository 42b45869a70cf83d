"""The numba kernel behind :mod:`mazegen.procgen.generate`: procgen's maze generation, batched.

:func:`generate_kernel` builds one level per seed into preallocated output arrays. Per level it
replays procgen's ``std::mt19937`` stream in procgen's order (``docs/procgen-maze.md``, section 3):
the ``bg_pct_x`` draw, the background draw, the maze-size draw (consumed even when the size is
overridden), then Kruskal on the local ``maze_dim`` grid with one draw per candidate wall
(``docs/procgen-maze.md``, section 4), recording ``free_cells`` in opening order. It
then places the mouse, then the cheese, from the same stream (``docs/procgen-maze.md``,
section 5; the placement rules are in :mod:`mazegen.procgen.generate`'s docstring).

Placements are passed encoded as a kind and two ints ``a, b`` (a cell's row and col, a corner's
index in :data:`mazegen.level.CORNERS`, or a region's ``n``) plus a mask:

* mouse: ``M_START``, ``M_UNIFORM``, ``M_CELL``, ``M_CORNER``, ``M_MASK``;
* cheese: ``C_UNIFORM``, ``C_REGION``, ``C_CELL``, ``C_CORNER``, ``C_MASK``, ``C_NONE``.

The kernel writes one status code per level; a level with a nonzero code is left partly
filled and the caller raises:

* ``OK`` (0): the level is complete;
* ``E_MOUSE_OUTSIDE`` / ``E_MOUSE_WALL`` / ``E_MOUSE_ON_CHEESE`` (1-3): a fixed mouse cell
  is outside the inner maze, a wall, or the fixed cheese cell;
* ``E_MOUSE_MASK_EMPTY`` (4): no candidate cell for the mouse's draw;
* ``E_CHEESE_OUTSIDE`` / ``E_CHEESE_WALL`` / ``E_CHEESE_ON_MOUSE`` (5-7): the same for a
  fixed cheese cell;
* ``E_CHEESE_MASK_EMPTY`` (8): the cheese mask selects no open cell other than the mouse's;
* ``E_REGION_EMPTY`` (9): the top-right region holds no free cell besides the mouse's;
* ``E_CORNER_NO_FREE`` (10): the cheese's corner is taken and no other open cell is free.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..constants import NUM_BACKGROUNDS
from ..solvers import bfs_fill
from .mt19937 import MT_STATE_SIZE, mt_next, mt_seed

__all__ = [
    "generate_kernel",
    "M_START",
    "M_UNIFORM",
    "M_CELL",
    "M_CORNER",
    "M_MASK",
    "C_UNIFORM",
    "C_REGION",
    "C_CELL",
    "C_CORNER",
    "C_MASK",
    "C_NONE",
    "OK",
    "E_MOUSE_OUTSIDE",
    "E_MOUSE_WALL",
    "E_MOUSE_ON_CHEESE",
    "E_MOUSE_MASK_EMPTY",
    "E_CHEESE_OUTSIDE",
    "E_CHEESE_WALL",
    "E_CHEESE_ON_MOUSE",
    "E_CHEESE_MASK_EMPTY",
    "E_REGION_EMPTY",
    "E_CORNER_NO_FREE",
]

# placement kinds passed to the kernel (public: mazegen.procgen.generate encodes placements with them)
M_START, M_UNIFORM, M_CELL, M_CORNER, M_MASK = 0, 1, 2, 3, 4
C_UNIFORM, C_REGION, C_CELL, C_CORNER, C_MASK, C_NONE = 0, 1, 2, 3, 4, 5

# status codes returned per level by the kernel (each object's outside / wall / on-the-other
# codes are consecutive: see _cell_status)
OK = 0
E_MOUSE_OUTSIDE, E_MOUSE_WALL, E_MOUSE_ON_CHEESE, E_MOUSE_MASK_EMPTY = 1, 2, 3, 4
E_CHEESE_OUTSIDE, E_CHEESE_WALL, E_CHEESE_ON_MOUSE, E_CHEESE_MASK_EMPTY = 5, 6, 7, 8
E_REGION_EMPTY, E_CORNER_NO_FREE = 9, 10


assert E_MOUSE_WALL == E_MOUSE_OUTSIDE + 1 and E_MOUSE_ON_CHEESE == E_MOUSE_OUTSIDE + 2
assert E_CHEESE_WALL == E_CHEESE_OUTSIDE + 1 and E_CHEESE_ON_MOUSE == E_CHEESE_OUTSIDE + 2


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
    """OK if the fixed cell (r, c) can hold an object, else ``e_outside`` (outside the inner
    maze), ``e_outside + 1`` (a wall) or ``e_outside + 2`` (the other object's cell)."""
    if not (margin <= r < margin + md and margin <= c < margin + md):
        return e_outside
    if walls[r, c]:
        return e_outside + 1
    if r == other_r and c == other_c:
        return e_outside + 2
    return OK


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
def generate_kernel(
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
        status[i] = OK

        # ---- mouse (placed first)
        fixed_cr, fixed_cc = -1, -1  # a cheese cell known before drawing (cell:R,C)
        if cheese_kind == C_CELL:
            fixed_cr, fixed_cc = cheese_a, cheese_b
        mr, mc = world - 1 - margin, margin  # procgen's start
        if mouse_kind == M_CELL:
            mr, mc = mouse_a, mouse_b
            code = _cell_status(wl, mr, mc, margin, md, fixed_cr, fixed_cc, E_MOUSE_OUTSIDE)
            if code != OK:
                status[i] = code
                continue
        elif mouse_kind == M_CORNER:
            mr, mc = _corner_cell(mouse_a, world, md)
            if mr == fixed_cr and mc == fixed_cc:
                mr, mc = _nearest_free(wl, mr, mc, fixed_cr, fixed_cc, dist, queue)
        elif mouse_kind == M_UNIFORM or mouse_kind == M_MASK:
            mr, mc = _draw_free_cell(
                state, free, nfree, world, md, mouse_mask, mouse_kind == M_MASK, fixed_cr, fixed_cc
            )
            if mr < 0:
                status[i] = E_MOUSE_MASK_EMPTY
                continue
        mouse_out[i, 0] = mr
        mouse_out[i, 1] = mc
        mouse_local = (world - 1 - mr - margin) * md + (mc - margin)

        # ---- cheese
        cr, cc = -1, -1
        if cheese_kind == C_UNIFORM:
            m = np.int64(mt_next(state) % np.uint32(nfree))
            while free[m] == mouse_local:
                m = np.int64(mt_next(state) % np.uint32(nfree))
            cr = world - 1 - (margin + free[m] // md)
            cc = margin + free[m] % md
        elif cheese_kind == C_REGION:
            lo = md - min(cheese_a, md)
            ok = False
            for k in range(nfree):
                if free[k] != mouse_local and free[k] % md >= lo and free[k] // md >= lo:
                    ok = True
                    break
            if not ok:
                status[i] = E_REGION_EMPTY
                continue
            mt_next(state)  # AISC's discarded draw
            while True:
                m = np.int64(mt_next(state) % np.uint32(nfree))
                cell = free[m]
                if cell != mouse_local and cell % md >= lo and cell // md >= lo:
                    break
            cr = world - 1 - (margin + cell // md)
            cc = margin + cell % md
        elif cheese_kind == C_CELL:
            cr, cc = cheese_a, cheese_b
            code = _cell_status(wl, cr, cc, margin, md, mr, mc, E_CHEESE_OUTSIDE)
            if code != OK:
                status[i] = code
                continue
        elif cheese_kind == C_CORNER:
            cr, cc = _corner_cell(cheese_a, world, md)
            if cr == mr and cc == mc:
                cr, cc = _nearest_free(wl, cr, cc, mr, mc, dist, queue)
                if cr < 0:
                    status[i] = E_CORNER_NO_FREE
                    continue
        elif cheese_kind == C_MASK:
            cr, cc = _draw_free_cell(state, free, nfree, world, md, cheese_mask, True, mr, mc)
            if cr < 0:
                status[i] = E_CHEESE_MASK_EMPTY
                continue
        cheese_out[i, 0] = cr
        cheese_out[i, 1] = cc
