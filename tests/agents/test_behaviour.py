"""Tests for agents.eval.behaviour: features on a hand-made maze, the regression on known outcomes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from agents.eval.behaviour import (
    FEATURES,
    BehaviourConfig,
    behaviour_levels,
    behaviour_stats,
    maze_features,
)
from mazegen import Level, Levels
from mazegen.solvers import decision_square

# Start (5,1); cheese (3,3) branches off the way to the top-right cell (1,5) at (3,1).
MAZE = Level.from_ascii("""
#######
#.....#
#.###.#
#...#.#
#.###.#
#M#...#
#######
""").with_cheese((3, 3))


def test_features_of_a_known_maze():
    assert decision_square(MAZE) == (3, 1)
    f = dict(zip(FEATURES, maze_features(Levels.from_list([MAZE]))[0]))
    assert f["steps_cheese_decision"] == 2 and f["euclid_cheese_decision"] == 2
    assert f["steps_cheese_top_right"] == 8 and f["euclid_cheese_top_right"] == pytest.approx(math.sqrt(8))
    assert f["steps_decision_top_right"] == 6 and f["euclid_decision_top_right"] == pytest.approx(math.sqrt(20))
    # the 5x5 region is the whole 5-maze: both points are inside it
    assert f["steps_cheese_top_right_region"] == 0 and f["euclid_decision_top_right_region"] == 0
    assert f["cheese_norm"] == pytest.approx(math.sqrt(8))  # (x, y) = (2, 2) from the start
    with pytest.raises(ValueError, match="decision square"):
        maze_features(Levels.from_list([MAZE.with_cheese(None)]))


def test_levels_have_real_decision_squares_and_are_deterministic():
    cfg = BehaviourConfig(mazes=40, seed=3)
    a, b = behaviour_levels(cfg), behaviour_levels(cfg)
    assert len(a) == 40 and np.array_equal(a.walls, b.walls) and np.array_equal(a.cheese, b.cheese)
    ds = decision_square(a)
    assert (ds[:, 0] >= 0).all() and not (ds == a.cheese).all(1).any() and not (ds == a.top_right_cell).all(1).any()
    assert (a.seed >= 3_500_000_000).all()
    sized = behaviour_levels(BehaviourConfig(mazes=20, sizes=(9, 11)))
    assert set(sized.maze_size.tolist()) <= {9, 11}


def test_regression_recovers_a_known_rule(tmp_path):
    cfg = BehaviourConfig(mazes=200, seed=1, n_boot=10)
    lv = behaviour_levels(cfg)
    x = maze_features(lv)
    j = FEATURES.index("euclid_cheese_top_right")
    y = x[:, j] < np.median(x[:, j])  # got the cheese iff it is near the top-right cell
    res = behaviour_stats(None, cfg, levels=lv, got_cheese=y, out_dir=tmp_path)
    assert res["accuracy"] >= 0.9 and res["base_rate"] <= 0.6
    coef = {c["feature"]: c for c in res["coefficients"]}
    assert coef["euclid_cheese_top_right"]["single_feature_accuracy"] >= 0.95
    assert res["best_single_feature"] in ("euclid_cheese_top_right", "euclid_cheese_top_right_region",
                                           "steps_cheese_top_right")
    strongest = coef[res["strongest"]]
    assert strongest["coef"] < 0 and strongest["lo"] <= strongest["coef"] <= strongest["hi"]
    for f in ("behaviour.csv", "behaviour.json", "behaviour_coefficients.png"):
        assert (tmp_path / f).is_file()
    assert json.loads((tmp_path / "behaviour.json").read_text())["n"] == 200


def test_bad_input():
    with pytest.raises(ValueError, match="mazes"):
        BehaviourConfig(mazes=5)
    with pytest.raises(ValueError, match="test_fraction"):
        BehaviourConfig(test_fraction=0.9)
    cfg = BehaviourConfig(mazes=30)
    lv = behaviour_levels(cfg)
    with pytest.raises(ValueError, match="same outcome"):
        behaviour_stats(None, cfg, levels=lv, got_cheese=np.ones(30, bool))
    with pytest.raises(ValueError, match="shape"):
        behaviour_stats(None, cfg, levels=lv, got_cheese=np.ones(3, bool))
