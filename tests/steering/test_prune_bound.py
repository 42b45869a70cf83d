"""The pruning bound on tiny IMPALA nets: operator norms, a planted dead channel, bound >= measured."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from agents.model import ImpalaModel
from agents.policy import Policy
from mazegen import generate_levels
from steering.experiments.probe_layers import stream_layers
from steering.experiments.prune_bound import PruneBoundConfig, run_prune_curves
from steering.methods.prune import channel_stats, lowest_std_channels
from steering.methods.prune_bound import (
    bound_rows,
    channel_lipschitz,
    conv_operator_norm,
    outgoing_weight_norms,
)

DEAD = 3
LAYER = "embedder.block2.conv"


@pytest.fixture(scope="module")
def dead_policy():
    torch.manual_seed(0)
    m = ImpalaModel(obs_size=25, channels=(4, 8, 8))
    with torch.no_grad():  # plant a dead channel: block2.conv's output channel 3 is always 0
        m.embedder.block2.conv.weight[DEAD] = 0.0
        m.embedder.block2.conv.bias[DEAD] = 0.0
    return Policy(m.eval(), obs="grid")


@pytest.fixture(scope="module")
def levels():
    return generate_levels(np.arange(5_000_000_000, 5_000_000_008) % 2**32, maze_size=[5, 9, 13, 25] * 2)


def test_conv_operator_norm_matches_the_matrix():
    torch.manual_seed(1)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    size = 5
    eye = torch.eye(2 * size * size, dtype=torch.float64).reshape(-1, 2, size, size)
    mat = F.conv2d(eye, w, padding=1).reshape(len(eye), -1).T  # (out, in) linear map
    exact = float(torch.linalg.matrix_norm(mat, ord=2))
    assert conv_operator_norm(w, size, iters=200) == pytest.approx(exact, rel=1e-6)
    assert conv_operator_norm(w[:, :1], size, iters=200) <= exact  # a restriction is smaller


def test_dead_channel_is_pruned_first_changes_nothing_and_bound_holds(dead_policy, levels):
    std, mean = channel_stats(dead_policy, levels, LAYER)
    assert std[DEAD] == 0.0 and lowest_std_channels(std, 1).tolist() == [DEAD]
    rows = bound_rows(dead_policy, LAYER, levels)
    dead = rows[DEAD]
    assert dead["measured_rms"] == 0.0 and dead["kl_mean"] == 0.0 and dead["bound"] == 0.0
    for r in rows:
        assert r["measured_rms"] <= r["bound"] <= r["bound_global"] + 1e-9
        assert r["max_ratio"] <= 1.0 + 1e-9  # per maze: |d logits| <= K |d x|
        if r["channel"] != DEAD:
            assert r["measured_rms"] > 0


def test_bound_holds_at_every_stream_layer(dead_policy, levels):
    for layer in stream_layers(dead_policy):
        k, k_glob = channel_lipschitz(dead_policy, layer)
        assert (k <= k_glob * (1 + 1e-9)).all() and (k > 0).all(), layer
        rows = bound_rows(dead_policy, layer, levels[:4])
        assert max(r["max_ratio"] for r in rows) <= 1.0 + 1e-9, layer
    assert outgoing_weight_norms(dead_policy, LAYER).shape == (8,)
    with pytest.raises(ValueError, match="embedder.block"):
        channel_lipschitz(dead_policy, "embedder.fc")


def test_prune_curves_prune_the_dead_channel_first(dead_policy):
    layers = stream_layers(dead_policy)
    lv = generate_levels(np.arange(6_000_000, 6_000_006), cheese="uniform", maze_size=[5, 7, 9] * 2)
    stats = {ly: channel_stats(dead_policy, lv, ly) for ly in layers}
    cfg = PruneBoundConfig(layer=LAYER, mazes=2, percents=[12.5], random_draws=1, max_steps=5)
    rows = run_prune_curves(dead_policy, cfg, stats)
    by = {(r["scope"], r["selection"], r["draw"]): r for r in rows}
    assert set(by) == {("none", "baseline", None)} | {
        (s, sel, d) for s in ("layer", "global") for sel, d in
        (("lowest-std", None), ("weight-magnitude", None), ("random", 0))}
    low = by[("layer", "lowest-std", None)]
    assert low["channels"] == f"{LAYER}:{DEAD}" and low["kl_mean"] == pytest.approx(0.0, abs=1e-12)
    assert f"{LAYER}:" in by[("global", "lowest-std", None)]["channels"]
    assert by[("global", "lowest-std", None)]["channels_pruned"] == round(0.125 * sum(len(s[0]) for s in stats.values()))
    for r in rows:
        for key in ("in_cheese", "top-left_cheese", "top-left_top_right", "bottom-right_cheese"):
            assert r[f"{key}_ci_lo"] <= r[key] <= r[f"{key}_ci_hi"]
    with pytest.raises(ValueError, match="percents"):
        PruneBoundConfig(percents=[0])


def test_prune_bound_resumes_from_its_units(dead_policy, tmp_path, monkeypatch):
    import agents.rundir
    from steering.experiments.prune_bound import run_prune_bound

    layers = stream_layers(dead_policy)
    cfg = PruneBoundConfig(layer=LAYER, bound_layers=[LAYER], std_mazes=6, mazes=2, percents=[12.5],
                           random_draws=1, max_steps=5)
    out = tmp_path / "run"
    first = run_prune_bound(dead_policy, cfg, layers, out=out)
    assert sorted(p.stem for p in (out / "units").iterdir()) == [
        f"bound_{LAYER}", "curves_bottom-right", "curves_in", "curves_kl", "curves_top-left", "stats"]
    assert first["bound_rows"][DEAD]["bound"] == 0.0 and len(first["bound_rows"]) == 8
    assert run_prune_bound(dead_policy, cfg, layers) == first  # no directory: the same rows
    for stem in ("curves_in", f"bound_{LAYER}"):  # killed before these units finished
        (out / "units" / f"{stem}.json").unlink()
    assert run_prune_bound(dead_policy, cfg, layers, out=out) == first
    with monkeypatch.context() as m:  # a rerun of a finished run computes nothing
        m.setattr(agents.rundir, "write_json", lambda *a, **k: pytest.fail(f"recomputed {a[0]}"))
        assert run_prune_bound(dead_policy, cfg, layers, out=out) == first
    with pytest.raises(ValueError, match="other arguments"):
        run_prune_bound(dead_policy, PruneBoundConfig(**{**cfg.__dict__, "percents": [25]}), layers, out=out)
    with pytest.raises(ValueError, match="not a residual-stream layer"):
        run_prune_bound(dead_policy, PruneBoundConfig(bound_layers=["embedder.fc"]), layers, out=tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_channel_restricted_constants_are_each_channels_own(dead_policy):
    """K_c after block2.conv: pool (2) x res1 with conv1 restricted to channel c x the rest, so
    K_c / K_0 = (1 + |conv2| |conv1[:, c]|) / (1 + |conv2| |conv1[:, 0]|), each norm on 7x7."""
    k, _ = channel_lipschitz(dead_policy, LAYER)
    res1 = dead_policy.model.embedder.block2.res1
    n2 = conv_operator_norm(res1.conv2.weight, 7)
    own = np.array([1 + n2 * conv_operator_norm(res1.conv1.weight[:, j : j + 1], 7) for j in range(8)])
    assert np.allclose(k / k[0], own / own[0], rtol=1e-9)
    assert len(set(np.round(k, 9))) > 1  # the channels' constants differ
