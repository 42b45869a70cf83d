"""Solvers on hand-made ASCII mazes with known answers, and consistency on procgen levels."""

from __future__ import annotations

import numpy as np
import pytest

from mazegen.constants import ACTION_DELTAS, ACTION_DOWN, ACTION_LEFT, ACTION_RIGHT, ACTION_UP
from mazegen.level import Level
from mazegen.levels import Levels
from mazegen.procgen.generate import generate_levels, procgen_levels
from mazegen.solvers import (
    bfs_distances,
    decision_square,
    next_action_towards,
    next_cells_towards,
    path_to_actions,
    shortest_path,
)

SNAKE = Level.from_ascii(
    """
    #######
    #M....#
    #####.#
    #.....#
    #.#####
    #....C#
    #######
    """,
    validate=False,
)

FORK = """
#######
#.....#
#.#####
#...###
#.#.###
#M#C###
#######
"""

LOOP = np.array([[c == "#" for c in row] for row in ["#####", "#...#", "#.#.#", "#...#", "#####"]])


def test_snake_distances_path_actions():
    d = bfs_distances(SNAKE.walls, SNAKE.mouse)
    assert d.dtype == np.int32
    assert d[SNAKE.cheese] == 16
    assert d[1, 5] == 4 and d[3, 1] == 10 and d[0, 0] == -1 and d[2, 1] == -1
    path = shortest_path(SNAKE.walls, SNAKE.mouse, SNAKE.cheese)
    assert len(path) == 17 and path[0] == SNAKE.mouse and path[-1] == SNAKE.cheese
    R, D, L = ACTION_RIGHT, ACTION_DOWN, ACTION_LEFT
    assert path_to_actions(path) == [R] * 4 + [D] * 2 + [L] * 4 + [D] * 2 + [R] * 4
    acts = next_action_towards(
        SNAKE.walls, [(1, 1), (3, 3), (5, 5), (0, 0), (9, 9), (4, 1)], SNAKE.cheese
    )
    assert acts.tolist() == [R, L, -1, -1, -1, D]


def test_fork_decision_square():
    lvl = Level.from_ascii(FORK, validate=False)
    assert lvl.top_right_cell == (1, 5) and lvl.mouse == (5, 1) and lvl.cheese == (5, 3)
    assert decision_square(lvl) == (3, 1)
    assert decision_square(lvl.replace(cheese=(1, 3))) == (1, 3)  # cheese on the way to top-right
    assert decision_square(lvl.replace(cheese=None)) is None
    batch = Levels.from_list([lvl, lvl.replace(cheese=None), lvl.replace(cheese=(3, 3))])
    assert decision_square(batch).tolist() == [[3, 1], [-1, -1], [3, 1]]


def test_ties_follow_left_down_up_right():
    # two equal paths from (3,1) to (1,3): UP comes before RIGHT
    assert shortest_path(LOOP, (3, 1), (1, 3)) == [(3, 1), (2, 1), (1, 1), (1, 2), (1, 3)]
    # from (1,1) to (3,3): DOWN before RIGHT
    assert shortest_path(LOOP, (1, 1), (3, 3))[1] == (2, 1)
    assert next_action_towards(LOOP, [(1, 3)], (3, 1)).tolist() == [ACTION_LEFT]


def test_next_cells_towards_is_next_action_towards_per_level():
    walls = np.stack([LOOP, LOOP, LOOP, LOOP, SNAKE.walls[1:-1, 1:-1]])
    cells = np.array([(1, 3), (1, 1), (3, 3), (0, 0), (0, 0)])
    targets = np.array([(3, 1), (3, 3), (3, 3), (1, 1), (4, 4)])
    got = next_cells_towards(walls, cells, targets)
    # a tie (LOOP, (1,3) -> (3,1)) goes LEFT; on the target: the target; a wall: -1
    assert got.tolist() == [[1, 2], [2, 1], [3, 3], [-1, -1], [0, 1]]
    for w, c, t, g in zip(walls, cells, targets, got):
        a = next_action_towards(w, [c], t)[0]
        assert tuple(g) == ((-1, -1) if a < 0 and tuple(c) != tuple(t) else tuple(c) if a < 0
                            else (c[0] + ACTION_DELTAS[a][0], c[1] + ACTION_DELTAS[a][1]))
    with pytest.raises(ValueError, match=r"cell \(5, 0\) is outside the grid: rows and cols must be in \[0, 4\]"):
        next_cells_towards(walls[:1], [(5, 0)], [(1, 1)])
    with pytest.raises(ValueError, match=r"cells must have shape \(1, 2\)"):
        next_cells_towards(walls[:1], [(1, 1), (1, 1)], [(1, 1)])


def test_unreachable_and_errors():
    walls = np.ones((5, 5), dtype=bool)
    walls[1, 1] = walls[3, 3] = False
    assert bfs_distances(walls, (1, 1))[3, 3] == -1
    with pytest.raises(ValueError, match="unreachable"):
        shortest_path(walls, (1, 1), (3, 3))
    with pytest.raises(ValueError, match=r"source cell \(0, 0\) is a wall"):
        bfs_distances(walls, (0, 0))
    with pytest.raises(ValueError, match=r"outside the grid.*\[0, 4\]"):
        bfs_distances(walls, (5, 1))
    with pytest.raises(ValueError, match="shape"):
        bfs_distances(np.zeros((3, 4), bool), (0, 0))
    with pytest.raises(ValueError, match=r"\(N, 2\)|\(2, 2\)"):
        bfs_distances(np.zeros((2, 5, 5), bool), (0, 0))
    with pytest.raises(ValueError, match="not neighbours"):
        path_to_actions([(1, 1), (2, 2)])
    assert path_to_actions([(2, 2)]) == []
    assert path_to_actions([(2, 2), (1, 2)]) == [ACTION_UP]


def test_batch_consistency_on_procgen_levels():
    lv = procgen_levels(np.arange(120))
    d = bfs_distances(lv.walls, lv.mouse)
    for i in range(0, 120, 7):
        lvl = lv[i]
        assert np.array_equal(d[i], bfs_distances(lvl.walls, lvl.mouse))
        # perfect maze: every open cell reachable, walls -1
        assert ((d[i] >= 0) == ~lvl.walls).all()
        path = shortest_path(lvl.walls, lvl.mouse, lvl.cheese)
        assert len(path) - 1 == d[i][lvl.cheese]
        pos = np.array(lvl.mouse)
        for a in path_to_actions(path):
            pos = pos + ACTION_DELTAS[a]
            assert not lvl.walls[tuple(pos)]
        assert tuple(pos) == lvl.cheese
        cells = np.argwhere(~lvl.walls)
        acts = next_action_towards(lvl.walls, cells, lvl.cheese)
        dc = bfs_distances(lvl.walls, lvl.cheese)
        for (r, c), a in zip(cells, acts):
            if (r, c) == lvl.cheese:
                assert a == -1
            else:
                nr, nc = np.array([r, c]) + ACTION_DELTAS[a]
                assert dc[nr, nc] == dc[r, c] - 1
    ds = decision_square(lv)
    for i in range(0, 120, 11):
        lvl = lv[i]
        assert tuple(ds[i]) == decision_square(lvl)
        to_cheese = shortest_path(lvl.walls, lvl.mouse, lvl.cheese)
        to_tr = shortest_path(lvl.walls, lvl.mouse, lvl.top_right_cell)
        k = to_cheese.index(tuple(ds[i]))
        assert to_tr[: k + 1] == to_cheese[: k + 1]
        assert k + 1 == len(to_cheese) or k + 1 == len(to_tr) or to_cheese[k + 1] != to_tr[k + 1]
    none = generate_levels(np.arange(5), cheese="none")
    assert (decision_square(none) == -1).all()
