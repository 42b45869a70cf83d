"""retarget_patch cell mapping and validation; channel discovery on the known-answer net."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from agents.model import ImpalaModel
from agents.policy import Policy
from mazegen.solvers import shortest_path
from steering.experiments.retarget import RetargetConfig, run_retarget
from steering.experiments.targets import parse_targets, target_cells
from steering.methods.retarget import (
    ChannelRanking,
    discover_cheese_channels,
    eval_levels,
    retarget_patch,
)
from steering.patches.edits import Clamp

sys.path.insert(0, str(Path(__file__).parent))
from _steer_tiny import CHEESE_CH, LAYER, TinyPolicy


def test_retarget_patch_maps_cells_for_grid_and_rgb():
    grid = Policy(ImpalaModel(obs_size=25), obs="grid")
    p = retarget_patch(grid, LAYER, (24, 24), method="single", channels=[5])
    assert isinstance(p, Clamp) and p.cells.tolist() == [[6, 6]] and p.channels == (5,) and p.value == 5.5
    pl = retarget_patch(grid, LAYER, np.array([(0, 0), (12, 12)]), method="channels", channels=[1, 2], magnitude=2)
    assert pl.per_level and pl.cells.tolist() == [[0, 0], [3, 3]] and pl.value == 2.0
    assert retarget_patch(grid, "embedder.block1.res1.resadd_out", (3, 5), method="single", channels=[0]).cells.tolist() == [[2, 3]]
    rgb = Policy(ImpalaModel(obs_size=64), obs="rgb")
    assert retarget_patch(rgb, LAYER, (12, 12), method="single", channels=[0]).cells.tolist() == [[8, 8]]
    ranking = ChannelRanking(LAYER, [7, 3, 1], [3.0, 2.0, 1.0], [1.0, 0.5, 0.1], 10, selected=[7, 3])
    assert retarget_patch(grid, LAYER, (0, 0), method="discovered", ranking=ranking).channels == (7, 3)
    assert retarget_patch(grid, LAYER, (0, 0), method="single", ranking=ranking).channels == (7,)
    ranking.causal = {7: {"rate": 0.2}, 3: {"rate": 0.6}, 1: {"rate": 0.6}}
    assert retarget_patch(grid, LAYER, (0, 0), method="single", ranking=ranking).channels == (3,)


def test_retarget_patch_errors():
    grid = Policy(ImpalaModel(obs_size=25), obs="grid")
    with pytest.raises(ValueError, match="method must be one of"):
        retarget_patch(grid, LAYER, (0, 0), method="magic")
    with pytest.raises(ValueError, match="needs channels"):
        retarget_patch(grid, LAYER, (0, 0), method="single")
    with pytest.raises(ValueError, match="needs ranking"):
        retarget_patch(grid, LAYER, (0, 0), method="discovered")
    with pytest.raises(ValueError, match=r"channels \[32\] out of range \[0, 31\]"):
        retarget_patch(grid, LAYER, (0, 0), method="channels", channels=[0, 32])
    with pytest.raises(ValueError, match="conv layer"):
        retarget_patch(grid, "embedder.fc", (0, 0), method="single", channels=[0])
    with pytest.raises(ValueError, match="unknown layer"):
        retarget_patch(grid, "embedder.nope", (0, 0), method="single", channels=[0])
    # bools and floats are not channel indices (True used to pass as channel 1)
    with pytest.raises(ValueError, match=r"channels \[True\] out of range"):
        retarget_patch(grid, LAYER, (0, 0), method="single", channels=[True])
    with pytest.raises(ValueError, match=r"channels \[1.5\] out of range"):
        retarget_patch(grid, LAYER, (0, 0), method="channels", channels=[0, 1.5])


def test_counts_reject_bools():
    with pytest.raises(ValueError, match="number of mazes must be an integer >= 1, got True"):
        eval_levels(True, seed=0)
    with pytest.raises(ValueError, match="n_mazes must be an integer >= 2, got True"):
        discover_cheese_channels(TinyPolicy(25), LAYER, n_mazes=True)
    with pytest.raises(ValueError, match="mazes must be an integer >= 1, got True"):
        RetargetConfig(mazes=True).validate()
    with pytest.raises(ValueError, match="max_steps must be an integer >= 1, got False"):
        RetargetConfig(max_steps=False).validate()
    with pytest.raises(ValueError, match=r"maze size must be an odd integer in \[3, 25\], got 9.0"):
        RetargetConfig(sizes=[9.0]).validate()
    assert RetargetConfig(mazes=np.int64(3)).validate().mazes == 3


def test_discovery_finds_the_cheese_channel():
    pol = TinyPolicy(25)
    r = discover_cheese_channels(pol, LAYER, n_mazes=24, seed=0, maze_size=9, validate_top=2, validate_mazes=4,
                                 max_steps=60)
    assert r.channels[0] == CHEESE_CH and r.hit_rate[0] == 1.0
    assert r.scores[0] > 3 and all(s < 1 for s in r.scores[1:])
    assert r.causal[CHEESE_CH]["rate"] == 1.0 and r.selected == [CHEESE_CH]
    assert r.cheese_act[0] == 1.0 and r.cheese_act[r.channels.index(3)] == pytest.approx(0.1)
    assert ChannelRanking.from_json(r.to_json()).to_json() == r.to_json()
    again = discover_cheese_channels(pol, LAYER, n_mazes=24, seed=0, maze_size=9, validate_top=0)
    assert again.channels == r.channels and again.scores == r.scores  # deterministic


def test_run_retarget_rows_and_controls():
    pol = TinyPolicy(25)
    cfg = RetargetConfig(layer=LAYER, targets=["top-left", "bottom-right"], sizes=[9], methods=["single", "channels"],
                         magnitudes=[5.5], mazes=4, seed=0, max_steps=60, discover_mazes=16, discover_validate=2,
                         n_channels=2, fraction_mazes=2, deterministic=True, cheese="removed")
    res = run_retarget(pol, cfg)
    rows = res["rows"]
    main = [r for r in rows if r["method"] == "single" and r["control"] == ""]
    assert len(main) == 2 and all(r["success"] == 1.0 for r in main)
    # with the cheese present the net still heads for the target, but eats a cheese lying on the way
    levels = eval_levels(4, seed=0, maze_size=9, cheese="uniform", salt=3)
    for r in main:
        tgt = target_cells(levels, r["target"])
        clear = [x.cheese not in shortest_path(x.walls, x.mouse, tuple(t)) for x, t in zip(levels, tgt)]
        assert r["success_with_cheese_k"] == sum(clear)
    assert all(r["modified"] == 1 and r["fraction_layer"] == 1 / (4 * 625) for r in main)
    assert {r["control"] for r in rows} == {"", "baseline", "random-channels", "wrong-location", "random-vector"}
    for t in ("top-left", "bottom-right"):
        wrong = [r for r in rows if r["target"] == t and r["control"] == "wrong-location" and r["method"] == "single"]
        assert wrong[0]["success"] < 1.0
    assert res["ranking"]["selected"] == [CHEESE_CH]
    with pytest.raises(ValueError, match="unknown method"):
        RetargetConfig(methods=["x"]).validate()
    with pytest.raises(ValueError, match="unknown target"):
        parse_targets(["middle"])


def test_target_cells_and_eval_levels_deterministic():
    lv = eval_levels(3, seed=5, maze_size=9)
    lv2 = eval_levels(3, seed=5, maze_size=9)
    assert np.array_equal(lv.walls, lv2.walls) and np.array_equal(lv.cheese, lv2.cheese)
    assert target_cells(lv, "top-left").tolist() == [[8, 8]] * 3
    assert target_cells(lv, "grid:3:1,1").tolist() == [[12, 12]] * 3
    assert all(not x.walls[tuple(c)] for x, c in zip(lv, target_cells(lv, "grid:3:2,1")))
