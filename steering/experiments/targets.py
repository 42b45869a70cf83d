"""Steering targets: corner names or ``grid:K`` node cells, and their cells in each maze.

>>> parse_targets(["top-left", "grid:2"])
['top-left', 'grid:2:0,0', 'grid:2:0,1', 'grid:2:1,0', 'grid:2:1,1']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mazegen import CORNERS, Level, Levels

__all__ = ["CORNERS", "OPPOSITE", "parse_targets", "target_cell", "target_cells", "wrong_targets"]

#: Opposite corner, used by the wrong-location control.
OPPOSITE = {
    "top-left": "bottom-right",
    "bottom-right": "top-left",
    "top-right": "bottom-left",
    "bottom-left": "top-right",
}


def parse_targets(specs: Sequence[str]) -> list[str]:
    """Validate target specs: the named corners or ``grid:K`` (K x K evenly spaced node cells,
    named ``grid:K:i,j``); returns the expanded list of names.
    """
    out: list[str] = []
    for s in specs:
        s = s.strip()
        if s in CORNERS:
            out.append(s)
        elif s.startswith("grid:"):
            try:
                k = int(s.split(":")[1])
            except ValueError:
                raise ValueError(f"bad target {s!r}: grid:K needs an integer K >= 2") from None
            if k < 2:
                raise ValueError(f"bad target {s!r}: K must be >= 2")
            out += [f"grid:{k}:{i},{j}" for i in range(k) for j in range(k)]
        else:
            raise ValueError(f"unknown target {s!r}; allowed: {list(CORNERS)} or grid:K")
    return out


def target_cell(level: Level, name: str) -> tuple[int, int]:
    """World cell of a target name for one level (grid targets snap to node cells)."""
    if name in CORNERS:
        return level.corner(name)
    if name.startswith("grid:"):
        _, k, ij = name.split(":")
        k = int(k)
        i, j = (int(v) for v in ij.split(","))
        nodes = (level.maze_size + 1) // 2
        ri = int(round(i * (nodes - 1) / (k - 1))) * 2
        cj = int(round(j * (nodes - 1) / (k - 1))) * 2
        return level.margin + ri, level.margin + cj
    raise ValueError(f"unknown target {name!r}")


def target_cells(levels: Levels, name: str) -> np.ndarray:
    """``(N, 2)`` target cell of every level."""
    return np.array([target_cell(x, name) for x in levels], dtype=np.int64)


def wrong_targets(levels: Levels, name: str) -> np.ndarray:
    """``(N, 2)`` cells of the wrong-location control: the opposite corner, or the grid
    target mirrored through the centre."""
    if name in OPPOSITE:
        return target_cells(levels, OPPOSITE[name])
    _, k, ij = name.split(":")
    i, j = (int(v) for v in ij.split(","))
    return target_cells(levels, f"grid:{k}:{int(k) - 1 - i},{int(k) - 1 - j}")
