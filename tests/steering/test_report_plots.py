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
from _steer_tiny import CHEESE_CH, LAYER, TinyPolicy


def test_steering_section_known_answer(tmp_path):
    md = steering_section(TinyPolicy(25), tmp_path, mazes=3, size=9, max_steps=40, discover_mazes=12)
    assert md.startswith("## Steering")
    assert f"selected: [{CHEESE_CH}]" in md
    assert "1.00 [0.44, 1.00] (3/3)" in md  # single-activation clamp of the cheese channel: always arrives
    assert "1 activations edited per forward pass = 0.040% of the layer (2500 values)" in md  # 4 x 25 x 25
    for f in ("retarget_rows.csv", "retarget.json", "retarget_success.png", "cheese_channels.png"):
        assert (tmp_path / "steering" / f).stat().st_size > 100
    assert "](steering/retarget_success.png)" in md


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
