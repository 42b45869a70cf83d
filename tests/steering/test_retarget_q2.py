"""The Q2 protocol, the default of run_retarget: cheese at its spawn, three exclusive outcomes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mazegen.solvers import shortest_path
from steering.experiments.retarget import RetargetConfig, run_retarget
from steering.experiments.targets import target_cells
from steering.methods.retarget import eval_levels

sys.path.insert(0, str(Path(__file__).parent))
from _steer_tiny import CHEESE_CH, LAYER, TinyPolicy


def test_q2_defaults():
    cfg = RetargetConfig()
    assert (cfg.cheese, cfg.sizes, cfg.max_steps, cfg.mazes) == ("spawn", [25], 500, 200)
    assert cfg.targets == ["top-left", "bottom-right"]
    with pytest.raises(ValueError, match="cheese must be one of \\['spawn', 'removed'\\], got 'gone'"):
        RetargetConfig(cheese="gone").validate()


def test_q2_outcomes_with_cheese_at_spawn():
    pol = TinyPolicy(25)
    cfg = RetargetConfig(layer=LAYER, sizes=[9], methods=["channels"], channels=[CHEESE_CH], magnitudes=[5.5],
                         mazes=4, max_steps=60, controls=False, deterministic=True, fraction_mazes=2)
    rows = run_retarget(pol, cfg)["rows"]
    levels = eval_levels(4, seed=0, maze_size=9, cheese="top-right:5", salt=3)
    for r in rows:
        assert r["cheese"] == "spawn" and "success_with_cheese" not in r
        assert r["success_k"] + r["cheese_first_k"] + r["neither_k"] == r["success_n"] == 4
    for r in (r for r in rows if r["method"] == "channels"):
        # the clamp wins over the real cheese; the mouse eats the cheese only when it lies on the path
        tgt = target_cells(levels, r["target"])
        on_path = [x.cheese in shortest_path(x.walls, x.mouse, tuple(t)) for x, t in zip(levels, tgt)]
        assert r["cheese_first_k"] == sum(on_path) and r["success_k"] == 4 - sum(on_path)
    for r in (r for r in rows if r["control"] == "baseline"):
        # unedited, the tiny net goes for the cheese: it reaches the target only if it lies on the way
        tgt = target_cells(levels, r["target"])
        passes = [tuple(t) in shortest_path(x.walls, x.mouse, x.cheese) for x, t in zip(levels, tgt)]
        assert r["success_k"] == sum(passes) and r["cheese_first_k"] == 4 - sum(passes)
