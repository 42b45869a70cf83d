"""Low-std pruning on the hand-built CheeseNet: its constant channel has std 0."""

from __future__ import annotations

import pytest
import torch
from _steer_tiny import CHEESE_CH, LAYER, TinyPolicy

from mazegen import generate_levels
from steering.activations import layer_activations
from steering.methods.probe_data import probe_seeds
from steering.methods.prune import (
    PruneConfig,
    channel_stats,
    lowest_std_channels,
    prune_patch,
    run_prune,
)


def test_channel_stats_and_lowest():
    pol = TinyPolicy(25)
    lv = generate_levels(probe_seeds(8), maze_size=5)
    std, mean = channel_stats(pol, lv, LAYER)
    assert std.shape == (4,) and std[3] == pytest.approx(0.0, abs=1e-7) and mean[3] == pytest.approx(0.1)
    assert std[CHEESE_CH] > 0 and mean[CHEESE_CH] == pytest.approx(1 / 625)
    assert lowest_std_channels(std, 1).tolist() == [3]
    with pytest.raises(ValueError, match="random_draws must be an integer in \\[1, 100\\], got 0"):
        PruneConfig(random_draws=0)
    with pytest.raises(ValueError, match="k must be"):
        lowest_std_channels(std, 5)
    with pytest.raises(ValueError, match=r"k must be an integer in \[0, 4\], got True"):
        lowest_std_channels(std, True)
    with pytest.raises(ValueError, match="mode"):
        prune_patch(LAYER, [3], "median", mean)
    base = layer_activations(pol, lv, LAYER)
    same = layer_activations(pol, lv, LAYER, patches=prune_patch(LAYER, [3], "mean", mean))
    torch.testing.assert_close(same, base)  # mean-ablating a zero-std channel changes nothing
    zero = layer_activations(pol, lv, LAYER, patches=prune_patch(LAYER, [3], "zero", mean))
    assert float(zero[:, 3].abs().max()) == 0.0 and torch.equal(zero[:, :3], base[:, :3])


def test_run_prune_zero_std_channel_changes_nothing():
    kw = dict(layer=LAYER, ks=[0, 1, 2], mazes=6, std_mazes=6, in_sizes=[3, 5], off_sizes=[5], max_steps=30)
    res = run_prune(TinyPolicy(25), PruneConfig(modes=["zero"], random_control=True, random_draws=2, **kw))
    rows = res["rows"]
    assert [r["draw"] for r in rows if r["selection"] == "random" and r["dist"] == "in"] == [0, 1, 0, 1]
    summ = {(s["k"], s["dist"]): s for s in res["random_summary"]}
    assert set(summ) == {(1, "in"), (1, "off"), (2, "in"), (2, "off")} and summ[(1, "in")]["draws"] == 2
    assert summ[(1, "in")]["random_min"] <= summ[(1, "in")]["random_mean"] <= summ[(1, "in")]["random_max"]
    assert summ[(1, "in")]["lowest_std_rate"] == 1.0 and summ[(1, "in")]["lowest_std_vs_draws"] in (
        "within",
        "above all",
    )
    # (mean-ablating the wall channel would leave CheeseNet's planner no open cell: no random control there)
    rows += run_prune(TinyPolicy(25), PruneConfig(modes=["mean"], random_control=False, **kw))["rows"][2:]
    base = {r["dist"]: r for r in rows if r["selection"] == "baseline"}
    assert base["in"]["got_cheese"] == 1.0 and base["off"]["got_cheese"] == 1.0  # the planner always finds the cheese
    for r in rows:
        assert r["frac_modified"] == r["k"] / 4 and r["got_cheese_lo"] <= r["got_cheese"] <= r["got_cheese_hi"]
        if r["selection"] == "lowest-std" and r["k"] == 1:
            assert r["channels"] == "3" and r["got_cheese"] == base[r["dist"]]["got_cheese"]
    assert {(r["mode"], r["selection"], r["k"]) for r in rows} >= {("zero", "random", 2), ("mean", "lowest-std", 2)}
    assert len(rows) == 2 * (1 + 2 * (1 + 2) + 2)
    with pytest.raises(ValueError, match="random_draws must be an integer in \\[1, 100\\], got 0"):
        PruneConfig(random_draws=0)
    with pytest.raises(ValueError, match="k must be"):
        run_prune(TinyPolicy(25), PruneConfig(layer=LAYER, ks=[9], mazes=3, std_mazes=3, in_sizes=[3], off_sizes=[3]))
