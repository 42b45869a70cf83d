"""Test helpers: the real procgen engine, and a slow pure-Python oracle of the draw order.

The oracle re-implements procgen's maze generation straight from the description in
``docs/procgen-maze.md`` (sections 4-5) with plain lists (``list.pop(k)`` for Kruskal, a dict of sets for the
cell sets, as procgen does), independently of the numba kernel in ``mazegen.procgen.kernel``.
"""

from __future__ import annotations

import warnings

import numpy as np

from mazegen.procgen.mt19937 import MT19937


def make_engine(num: int, distribution_mode: str = "hard", **kwargs):
    """A real ``ProcgenGym3Env`` maze (gym's deprecation chatter silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from procgen import ProcgenGym3Env

    return ProcgenGym3Env(num=num, env_name="maze", distribution_mode=distribution_mode, **kwargs)


def oracle(seed: int, world: int, *, maze_size=None, region=None, mouse_uniform=False):
    """(walls, cheese, mouse, maze_size, background) by the slow reference algorithm.

    ``region``: None for procgen's uniform cheese, else AISC's rand_region n.
    ``mouse_uniform``: draw the mouse uniformly over free cells (after Kruskal) first.
    """
    rng = MT19937(seed)
    rng.next_u32()  # bg_pct_x
    bg = rng.randn(9)
    md = rng.randn((world - 1) // 2) * 2 + 3
    if maze_size is not None:
        md = maze_size
    walls = []
    for i in range(1, md, 2):
        for j in range(0, md, 2):
            if 0 < i < md - 1:
                walls.append((i - 1, j, i + 1, j))
    for i in range(0, md, 2):
        for j in range(1, md, 2):
            if 0 < j < md - 1:
                walls.append((i, j - 1, i, j + 1))
    sets = {k: {k} for k in range(md * md)}
    idx = list(range(md * md))
    is_wall = [True] * (md * md)
    free: list[int] = []
    while walls:
        k = rng.randn(len(walls))
        x1, y1, x2, y2 = walls.pop(k)
        a, b = md * y1 + x1, md * y2 + x2
        mid = md * ((y1 + y2) // 2) + (x1 + x2) // 2
        if is_wall[mid] and idx[a] != idx[b]:
            for cell in (a, mid, b):
                is_wall[cell] = False
                if cell not in free:
                    free.append(cell)
            s1 = idx[b]
            sets[s1] |= sets[idx[a]] | {mid}
            for c in sets[s1]:
                idx[c] = s1
    margin = (world - md) // 2

    def to_rc(cell):
        return (world - 1 - (margin + cell // md), margin + cell % md)

    grid = np.ones((world, world), dtype=bool)
    for cell in free:
        grid[to_rc(cell)] = False
    mouse_cell = 0
    if mouse_uniform:
        mouse_cell = free[rng.randn(len(free))]
    if region is None:
        m = rng.randn(len(free))
        while free[m] == mouse_cell:
            m = rng.randn(len(free))
        cheese = free[m]
    else:
        r = min(region, md)
        rng.next_u32()
        while True:
            cheese = free[rng.randn(len(free))]
            if cheese != mouse_cell and cheese % md >= md - r and cheese // md >= md - r:
                break
    return grid, to_rc(cheese), to_rc(mouse_cell), md, bg
