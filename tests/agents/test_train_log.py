"""Tests of the training-log helpers: pooled rates, milestones, curve summary, truncation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents.eval.plots import learning_curves
from agents.eval.sweep_axes import size_bucket, size_bucket_labels
from agents.train.log import (
    LOG_COLUMNS,
    _truncate_log,
    compare_runs,
    learning_curve_summary,
    milestones,
    pooled_rates,
    read_log,
    write_log,
)


def _rows(rates, episodes=100, step=1000):
    rows = []
    for i, r in enumerate(rates):
        row = {c: "nan" for c in LOG_COLUMNS}
        row.update(
            steps=(i + 1) * step,
            wall_time_s=float(i + 1),
            steps_per_s=float(step),
            episodes=episodes,
            cheese_rate=r,
            cheese_rate_small=1.0,
            cheese_rate_medium=r,
            cheese_rate_large="nan",
        )
        rows.append(row)
    return rows


def test_pooled_rates_weights_by_episodes_and_skips_nan():
    rows = [
        {"episodes": 100, "cheese_rate": 0.0},
        {"episodes": 0, "cheese_rate": "nan"},
        {"episodes": 300, "cheese_rate": 1.0},
    ]
    rates, n = pooled_rates(rows, min_episodes=400)
    assert math.isnan(rates[0]) and math.isnan(rates[1])
    assert rates[2] == pytest.approx(0.75) and n[2] == 400
    rates, _ = pooled_rates(rows, min_episodes=300)
    assert rates[2] == 1.0  # the newest row alone is enough
    with pytest.raises(ValueError, match="min_episodes must be an integer >= 1, got 0"):
        pooled_rates(rows, min_episodes=0)
    with pytest.raises(ValueError, match="min_episodes must be an integer >= 1, got True"):
        pooled_rates(rows, min_episodes=True)


def test_milestones_need_the_pooled_rate_not_one_lucky_row():
    # one lucky row at 0.95 among 0.5s must not count as reaching 0.9
    rows = _rows([0.5, 0.5, 0.95, 0.5, 0.9, 0.92, 0.91], episodes=100)
    ms = {m["threshold"]: m for m in milestones(rows, thresholds=(0.6, 0.9), min_episodes=200)}
    assert ms[0.6]["steps"] == 3000  # (0.5 + 0.95) / 2 = 0.725
    assert ms[0.9]["steps"] == 6000 and ms[0.9]["pooled_rate"] == pytest.approx(0.91)
    assert milestones(rows, thresholds=(0.99,))[0]["steps"] is None


def test_summary_truncation_and_plot(tmp_path):
    path = tmp_path / "train_log.csv"
    write_log(path, _rows(np.linspace(0.2, 0.95, 40).tolist(), episodes=500))
    s = learning_curve_summary(path, n_points=5)
    assert s["rows"] == 40 and len(s["points"]) == 5
    assert s["points"][0]["cheese_rate_large"] is None  # "nan" becomes None
    assert [m["threshold"] for m in s["milestones"]] == [0.5, 0.8, 0.9]
    assert s["milestones"][2]["steps"] is not None
    assert learning_curve_summary(read_log(path), n_points=5) == s  # rows or path, same summary
    _truncate_log(path, 10_000)
    assert [int(r["steps"]) for r in read_log(path)] == list(range(1000, 10_001, 1000))
    png = learning_curves({"a": read_log(path), "b": []}, tmp_path / "lc.png", title="t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="at least one run"):
        learning_curves({}, tmp_path / "x.png")
    png = learning_curves({"a": read_log(path)}, tmp_path / "h.png", x="hours")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"x must be one of \('steps', 'hours'\), got 'minutes'"):
        learning_curves({"a": read_log(path)}, tmp_path / "m.png", x="minutes")


def test_compare_runs():
    fast = _rows([0.5, 0.85, 0.95, 0.96], episodes=1000)  # 1000 steps/row, 1 s/row
    slow = _rows([0.3, 0.6, 0.7, 0.8, 0.92], episodes=1000)
    out = compare_runs({"fast": fast, "slow": slow, "empty": []}, sps=500, thresholds=(0.9,))
    assert out["empty"] == {"rows": 0}
    f, s = out["fast"], out["slow"]
    assert (f["rows"], f["steps"], f["wall_time_s"], f["mean_steps_per_s"]) == (4, 4000, 4.0, 1000.0)
    # pooled over 2000 episodes: fast reaches (0.85 + 0.95) / 2 = 0.90 at row 3
    assert f["milestones"][0]["steps"] == 3000 and f["milestones"][0]["minutes_at_sps"] == 0.1
    assert s["milestones"][0]["steps"] is None and s["milestones"][0]["minutes_at_sps"] is None
    assert s["pooled_rate_last"] == pytest.approx(0.86)
    assert "minutes_at_sps" not in compare_runs({"fast": fast})["fast"]["milestones"][0]
    for bad in (0, -1.0, "3000", True):
        with pytest.raises(ValueError, match="sps must be a number > 0"):
            compare_runs({"fast": fast}, sps=bad)


def test_size_bucket_rejects_out_of_range():
    with pytest.raises(ValueError, match="maze size must be in 3..25, got 27"):
        size_bucket(27)
    with pytest.raises(ValueError, match="maze size must be in 3..25, got 1"):
        size_bucket_labels(np.array([3, 1]))
