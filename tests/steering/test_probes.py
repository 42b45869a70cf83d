"""Probes on the hand-built CheeseNet (known answers) and the controls."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _steer_tiny import LAYER, TinyPolicy

from steering.methods.probe_data import (
    SEED_BASE,
    SEED_STRIDE,
    base_rate,
    collect_probe_data,
    probe_levels,
    probe_seeds,
    random_policy_like,
    split_indices,
)
from steering.methods.probes import fit_probes


@pytest.fixture(scope="module")
def tiny_data():
    levels = probe_levels(90, seed=0, sizes=[3])
    return collect_probe_data(TinyPolicy(25), levels, LAYER, outcomes=False)


def _by(rows, probe):
    return next(r for r in rows if r["probe"] == probe)


def test_labels_match_levels(tiny_data):
    d = tiny_data
    assert d.acts.shape == (90, 4, 25, 25)
    # CheeseNet's layer is at world resolution: the activation cell is the world cell
    np.testing.assert_array_equal(d.cheese_act, d.cheese_cell[:, 0] * 25 + d.cheese_cell[:, 1])
    np.testing.assert_array_equal(d.open_, d.acts[:, 0] < 0.5)
    assert d.got_cheese is None


def test_cheese_channel_makes_probes_near_perfect(tiny_data):
    rows = fit_probes(tiny_data, seed=0, n_boot=50)
    assert _by(rows, "cheese_cell")["value"] >= 0.9
    assert _by(rows, "cheese_cell")["base_rate"] < 0.5
    assert _by(rows, "cheese_rowcol")["value"] > 0.9
    oc = _by(rows, "open_cell")
    assert oc["value"] >= 0.99 and oc["base_rate"] < 0.9 and oc["ci_lo"] <= oc["value"] <= oc["ci_hi"]
    assert {r["probe"] for r in rows} == {"cheese_cell", "cheese_rowcol", "open_cell"}


def test_shuffled_labels_fall_to_chance(tiny_data):
    real = fit_probes(tiny_data, seed=0, n_boot=50)
    shuf = fit_probes(tiny_data, seed=0, n_boot=50, shuffle_labels=True, control="shuffled")
    assert all(r["control"] == "shuffled" for r in shuf)
    assert _by(shuf, "cheese_cell")["value"] < _by(real, "cheese_cell")["value"] - 0.4
    assert _by(shuf, "cheese_rowcol")["value"] < 0.5
    assert _by(shuf, "open_cell")["value"] < _by(real, "open_cell")["value"] - 0.05


def test_will_find_cheese_probe_reads_outcome(tiny_data):
    import dataclasses

    # label = "cheese in the left half": linearly readable from the cheese channel
    d = dataclasses.replace(tiny_data, got_cheese=tiny_data.cheese_cell[:, 1] <= np.median(tiny_data.cheese_cell[:, 1]))
    r = _by(fit_probes(d, seed=1, n_boot=20), "will_find_cheese")
    assert r["value"] >= 0.9 and r["positive_rate"] == pytest.approx(d.got_cheese.mean())


def test_random_policy_like_is_fresh_and_deterministic():
    from agents.model import ImpalaModel
    from agents.policy import Policy

    torch.manual_seed(123)
    p = Policy(ImpalaModel(obs_size=25, channels=(4, 8, 8)), obs="grid")
    a, b = random_policy_like(p, 7), random_policy_like(p, 7)
    c = random_policy_like(p, 8)
    wa = a.model.state_dict()
    for k, v in p.model.state_dict().items():
        assert wa[k].shape == v.shape
        torch.testing.assert_close(wa[k], b.model.state_dict()[k])
    assert any(not torch.equal(wa[k], c.model.state_dict()[k]) for k in wa if wa[k].is_floating_point())
    with pytest.raises(ValueError, match="ImpalaModel"):
        random_policy_like(TinyPolicy(9))


def test_seeds_and_split_validation():
    s = probe_seeds(5, seed=2, offset=10)
    assert s[0] == SEED_BASE + 2_000_010 and s[-1] < 2**32
    with pytest.raises(ValueError, match="seed"):
        probe_seeds(5, seed=10**6)
    with pytest.raises(ValueError, match="test_frac"):
        split_indices(10, 1.5)
    # bools are not counts (True used to pass as n=1)
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 1000000\], got True"):
        probe_seeds(True)
    with pytest.raises(ValueError, match="seed must be an integer in .*got False"):
        probe_seeds(3, seed=False)
    with pytest.raises(ValueError, match=r"offset must be an integer in \[0, 999997\], got True"):
        probe_seeds(3, offset=True)
    with pytest.raises(ValueError, match=r"offset must be an integer in \[0, 999997\], got 999998"):
        probe_seeds(3, offset=999_998)
    with pytest.raises(ValueError, match="offset must be an integer in .*got 1.5"):
        probe_seeds(3, offset=1.5)
    assert probe_seeds(3, offset=999_997)[-1] == SEED_BASE + SEED_STRIDE - 1
    tr, te = split_indices(20, 0.25, seed=3)
    tr2, te2 = split_indices(20, 0.25, seed=3)
    assert np.array_equal(te, te2) and len(te) == 5 and not set(tr) & set(te)
    assert base_rate(np.array([1, 1, 0]), np.array([1, 0])) == 0.5
