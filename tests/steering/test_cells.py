"""Maze cell <-> activation cell mapping tables."""

from __future__ import annotations

import pytest
import torch

from steering.cells import act_cell_to_maze_cells, axis_table, maze_cell_to_act_cell, pool_depth


def test_grid_tables_follow_pool_centres():
    # after L pools, act cell o is centred on world cell 2**L * o
    assert axis_table(25, "grid").tolist() == list(range(25))
    t13 = axis_table(13, "grid")
    assert t13[0::2].tolist() == list(range(13))  # node cells get their own act cell
    assert t13.tolist()[:6] == [0, 1, 1, 2, 2, 3]
    t7 = axis_table(7, "grid")
    assert t7.tolist() == [0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6]
    t4 = axis_table(4, "grid")
    assert t4.tolist() == [0] * 4 + [1] * 8 + [2] * 8 + [3] * 5
    assert [pool_depth(25, s) for s in (25, 13, 7, 4)] == [0, 1, 2, 3]


def test_grid_mapping_agrees_with_a_real_maxpool_window():
    # a single hot input pixel at a pool-window centre shows up at the mapped output cell
    pool = torch.nn.MaxPool2d(3, 2, 1)
    for r in range(0, 25, 2):
        x = torch.zeros(1, 1, 25, 25)
        x[0, 0, r, r] = 1
        y = pool(x)[0, 0]
        i, j = maze_cell_to_act_cell((r, r), layer_shape=(1, 13, 13), obs_kind="grid")
        assert y[i, j] == 1


def test_rgb_table_matches_research_formula():
    for side in (64, 32, 16, 8):
        t = axis_table(side, "rgb")
        expect = [int(((r + 0.5) * 64 / 25) // (64 / side)) for r in range(25)]
        assert t.tolist() == expect
    assert maze_cell_to_act_cell((0, 24), layer_shape=(128, 16, 16), obs_kind="rgb") == (0, 15)


@pytest.mark.parametrize("kind,side", [("grid", 13), ("grid", 7), ("grid", 4), ("rgb", 16), ("rgb", 8)])
def test_not_one_to_one_and_inverse_partitions(kind, side):
    shape = (8, side, side)
    seen = {}
    for r in range(25):
        for c in range(25):
            seen.setdefault(maze_cell_to_act_cell((r, c), layer_shape=shape, obs_kind=kind), []).append((r, c))
    assert len(seen) < 625  # several maze cells share an act cell
    total = 0
    for i in range(side):
        for j in range(side):
            pre = act_cell_to_maze_cells((i, j), layer_shape=shape, obs_kind=kind)
            assert pre == seen.get((i, j), [])
            total += len(pre)
    assert total == 625


def test_rgb_32_is_one_to_one_on_rows():
    t = axis_table(32, "rgb")
    assert len(set(t.tolist())) == 25  # 2.56 px per cell > 2 px per act cell: injective


def test_bad_input_errors():
    with pytest.raises(ValueError, match="out of range"):
        maze_cell_to_act_cell((25, 0), layer_shape=(1, 13, 13), obs_kind="grid")
    with pytest.raises(ValueError, match="obs_kind"):
        maze_cell_to_act_cell((0, 0), layer_shape=(1, 13, 13), obs_kind="rbg")
    with pytest.raises(ValueError, match="not reachable"):
        maze_cell_to_act_cell((0, 0), layer_shape=(1, 12, 12), obs_kind="grid")
    with pytest.raises(ValueError, match="square"):
        maze_cell_to_act_cell((0, 0), layer_shape=(1, 13, 7), obs_kind="grid")
    with pytest.raises(ValueError, match="out of range"):
        act_cell_to_maze_cells((7, 0), layer_shape=(1, 7, 7), obs_kind="grid")
    assert axis_table(8, "grid", world_size=15).tolist() == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]
