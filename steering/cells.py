"""Maze cells <-> activation cells.

A conv activation of shape ``(C, H, W)`` is a coarse image of the world. Which activation cell
"is" maze cell ``(row, col)`` depends on how the observation was built:

**grid agents** (``obs_kind="grid"``: one input pixel per world cell, 25x25 in hard mode).
3x3 convs with padding 1 keep positions; each ``maxpool(kernel 3, stride 2, pad 1)`` maps
output index ``o`` to the input window ``{2o-1, 2o, 2o+1}``, centred on input ``2o``. After
``L`` pools output ``o`` is centred on world cell ``2**L * o``; the sides go 25 -> 13 -> 7 -> 4.
We derive ``L`` from the layer's side (the number of pools taking ``world_size`` to ``H``) and
map a cell to the activation cell whose centre is nearest, ties to the larger index
(``floor(row / 2**L + 1/2)``). At 13x13 every node cell (even row, even col of a full-size
maze) has its own activation cell; corridor cells share.

**rgb agents** (``obs_kind="rgb"``: 64x64 pixels, a cell is 64/25 = 2.56 px). ``docs/published-agent.md``
section 3: ``pixel = (row + 0.5) * 64 / world_size`` (the cell's centre pixel) and
``act_cell = pixel // (64 / H)``; 64 -> 32 -> 16 -> 8.

Neither mapping is one-to-one once ``H < world_size``: several maze cells share an activation
cell, and :func:`act_cell_to_maze_cells` gives that preimage (every maze cell lies in exactly
one preimage).

>>> maze_cell_to_act_cell((24, 0), layer_shape=(32, 7, 7), obs_kind="grid")
(6, 0)
>>> maze_cell_to_act_cell((12, 12), layer_shape=(128, 16, 16), obs_kind="rgb")
(8, 8)
>>> act_cell_to_maze_cells((0, 0), layer_shape=(32, 7, 7), obs_kind="grid")
[(0, 0), (0, 1), (1, 0), (1, 1)]
>>> [axis_map(r, 13, "grid") for r in range(6)]
[0, 1, 1, 2, 2, 3]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mazegen.checks import check_int
from mazegen.constants import FRAME

__all__ = [
    "POOL",
    "RGB_SIZE",
    "act_cell_to_maze_cells",
    "axis_map",
    "axis_table",
    "maze_cell_to_act_cell",
    "pool_depth",
]

#: Side of the rgb observation (procgen renders 64x64: ``mazegen.constants.FRAME``).
RGB_SIZE = FRAME
#: ``(kernel, stride, padding)`` of the IMPALA maxpool.
POOL = (3, 2, 1)

OBS_KINDS = ("grid", "rgb")


def _pooled(size: int) -> int:
    k, s, p = POOL
    return (size + 2 * p - k) // s + 1


def pool_depth(input_size: int, side: int) -> int:
    """Number of maxpools taking ``input_size`` to ``side`` (ValueError if none does).

    >>> pool_depth(25, 13), pool_depth(25, 4), pool_depth(64, 16)
    (1, 3, 2)
    """
    size, depth = int(input_size), 0
    reachable = [size]
    while size > side:
        size = _pooled(size)
        depth += 1
        reachable.append(size)
    if size != side:
        raise ValueError(
            f"activation side {side} is not reachable from input side {input_size} by "
            f"maxpool{POOL}; reachable sides: {reachable}"
        )
    return depth


def _layer_side(layer_shape: Sequence[int]) -> int:
    shape = tuple(int(s) for s in layer_shape)
    if len(shape) < 2 or shape[-1] != shape[-2] or shape[-1] < 1:
        raise ValueError(f"layer_shape must end in a square (H, W), got {shape}")
    return shape[-1]


def axis_map(index: int, side: int, obs_kind: str, world_size: int = 25) -> int:
    """Map one world coordinate (row or col) to the activation coordinate on a side ``side``."""
    if obs_kind not in OBS_KINDS:
        raise ValueError(f"obs_kind must be one of {OBS_KINDS}, got {obs_kind!r}")
    if not 0 <= int(index) < world_size:
        raise ValueError(f"cell coordinate {index} out of range [0, {world_size - 1}]")
    if obs_kind == "grid":
        depth = pool_depth(world_size, side)
        stride = 2**depth  # centre of output o is world cell stride * o (derived in the docstring)
        return min(int(np.floor(index / stride + 0.5)), side - 1)
    if side > RGB_SIZE or RGB_SIZE % side:
        pool_depth(RGB_SIZE, side)  # raises with the reachable sides
    pixel = (index + 0.5) * RGB_SIZE / world_size
    return min(int(pixel // (RGB_SIZE / side)), side - 1)


def axis_table(side: int, obs_kind: str, world_size: int = 25) -> np.ndarray:
    """``(world_size,)`` activation coordinate of every world coordinate.

    >>> axis_table(16, "rgb").tolist()
    [0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9, 9, 10, 11, 11, 12, 13, 13, 14, 15, 15]
    """
    return np.array([axis_map(i, side, obs_kind, world_size) for i in range(world_size)], np.int64)


def _check_world(world_size: int, obs_kind: str) -> None:
    check_int("world_size", world_size, 1)
    if obs_kind not in OBS_KINDS:
        raise ValueError(f"obs_kind must be one of {OBS_KINDS}, got {obs_kind!r}")


def maze_cell_to_act_cell(
    cell: Sequence[int],
    *,
    layer_shape: Sequence[int],
    obs_kind: str,
    world_size: int = 25,
) -> tuple[int, int]:
    """The activation cell ``(i, j)`` of a ``(C, H, W)`` layer that maze cell ``(row, col)`` maps to."""
    _check_world(world_size, obs_kind)
    side = _layer_side(layer_shape)
    r, c = (int(v) for v in cell)
    return axis_map(r, side, obs_kind, world_size), axis_map(c, side, obs_kind, world_size)


def act_cell_to_maze_cells(
    act_cell: Sequence[int],
    *,
    layer_shape: Sequence[int],
    obs_kind: str,
    world_size: int = 25,
) -> list[tuple[int, int]]:
    """All maze cells mapping to activation cell ``(i, j)`` (row-major; may be empty)."""
    _check_world(world_size, obs_kind)
    side = _layer_side(layer_shape)
    i, j = (int(v) for v in act_cell)
    if not (0 <= i < side and 0 <= j < side):
        raise ValueError(f"activation cell {(i, j)} out of range [0, {side - 1}]")
    table = axis_table(side, obs_kind, world_size)
    rows = np.flatnonzero(table == i)
    cols = np.flatnonzero(table == j)
    return [(int(r), int(c)) for r in rows for c in cols]
