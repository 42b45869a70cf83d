"""The markdown steering section and the figures, on the known-answer net."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from steering.plots import (
    plot_channel_scores,
    plot_success_vs_magnitude,
    plot_target_heatmap,
    plot_vector_effect,
)
from steering.report import steering_section

sys.path.insert(0, str(Path(__file__).parent))
from _steer_tiny import LAYER


def test_steering_section_is_a_q2_frontier_table(tmp_path):
    import json

    import torch

    from agents.model import ImpalaModel
    from agents.policy import Policy

    torch.manual_seed(0)
    pol = Policy(ImpalaModel(channels=(4, 8, 8), fc_dim=16, obs_size=25), obs="grid")
    knobs = {"clamp-single": [5.5], "clamp-channels": [2], "per-maze": [4], "shared": [8]}
    md = steering_section(pol, tmp_path, mazes=3, size=7, max_steps=30, discover_mazes=6, steps=3, knobs=knobs)
    assert md.startswith("## Steering: sending the mouse to the far corners (Q2)")
    rows = json.loads((tmp_path / "steering" / "frontier.json").read_text())["rows"]
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| method | knob | % of layer | % of network | arrival top-left | arrival bottom-right")
    sep = next(line for line in md.splitlines() if line.startswith("|---"))
    assert sep.count("---") == table[0].count(" | ") + 1 == table[1].count(" | ") + 1  # columns agree
    assert [line.split(" | ")[0] for line in table[1:]] == [
        "| none", "| clamp-single", "| clamp-channels", "| per-maze", "| shared"]
    # each row's numbers are the frontier's: per-maze k = 4 of the 8 x 7 x 7 = 392-value layer
    pm = next(r for r in rows if r["method"] == "per-maze" and r["control"] == "" and r["target"] == "top-left")
    line = next(x for x in table if x.startswith("| per-maze"))
    assert "| 4 | 1.02% |" in line and f"({pm['arrival_k']}/3)" in line
    assert "vs" in line  # retention: edited vs unedited cheese rate
    for f in ("frontier.csv", "frontier.json", "frontier.png"):
        assert (tmp_path / "steering" / f).stat().st_size > 100
    assert "](steering/frontier.png)" in md
    # resumable: a second call reuses every unit
    assert steering_section(pol, tmp_path, mazes=3, size=7, max_steps=30, discover_mazes=6, steps=3,
                            knobs=knobs) == md


def test_plots_reject_empty_and_write_png(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        plot_success_vs_magnitude([], tmp_path / "a.png")
    with pytest.raises(ValueError, match="no main rows"):
        plot_target_heatmap([], tmp_path / "b.png")
    with pytest.raises(ValueError, match="no rollout rows"):
        plot_vector_effect([], tmp_path / "c.png")
    row = {"size": 9, "target": "grid:2:0,1", "method": "single", "control": "", "magnitude": 1.0, "success": 0.5,
           "success_lo": 0.2, "success_hi": 0.8, "fraction_layer": 0.01, "fraction_network": 0.001}
    p = plot_target_heatmap([row], tmp_path / "h.png")
    assert p.stat().st_size > 1000 and not list(tmp_path.glob("*.tmp"))
    rk = {"layer": LAYER, "channels": [1, 0], "scores": [2.0, 0.1], "selected": [1], "causal": {"1": {"rate": 1.0}}}
    assert plot_channel_scores(rk, tmp_path / "s.png").exists()
