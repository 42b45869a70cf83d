"""Tests of the analysis-facing Policy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.model import ImpalaModel
from agents.policy import MOVE_OF_ACTION, MOVES, Policy, preprocess_obs, sample_categorical


def _policy_with_probs(probs: np.ndarray, obs="grid") -> Policy:
    """A model whose policy head ignores its input and outputs log(probs)."""
    m = ImpalaModel(obs_size=25 if obs == "grid" else 64)
    with torch.no_grad():
        m.fc_policy.weight.zero_()
        m.fc_policy.bias.copy_(torch.log(torch.as_tensor(probs, dtype=torch.float32)))
    return Policy(m, obs=obs)


def test_preprocess_grid_not_scaled_and_rgb_scaled_chw():
    g = np.random.default_rng(0).integers(0, 2, (2, 3, 25, 25), dtype=np.uint8)
    x = Policy(ImpalaModel(obs_size=25), obs="grid").preprocess(g)
    assert x.dtype == torch.float32 and torch.equal(x, torch.as_tensor(g).float())
    img = np.random.default_rng(1).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    y = Policy(ImpalaModel(obs_size=64), obs="rgb").preprocess(img)
    assert y.shape == (2, 3, 64, 64)
    assert torch.allclose(y[1, 2, 5, 7], torch.tensor(img[1, 5, 7, 2] / 255.0, dtype=torch.float32))
    # channel-first rgb (as SB3's VecTransposeImage gives) is accepted too
    assert torch.equal(preprocess_obs(img.transpose(0, 3, 1, 2), "rgb"), y)


def test_bad_obs_raise():
    pol = Policy(ImpalaModel(obs_size=25), obs="grid")
    with pytest.raises(ValueError, match="does not fit"):
        pol.act(np.zeros((1, 64, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="4 dims"):
        pol.act(np.zeros((3, 25, 25), np.uint8))
    with pytest.raises(ValueError, match="obs must be one of"):
        Policy(ImpalaModel(), obs="pixels")


def test_move_probs_aggregation():
    p = np.arange(1, 16, dtype=np.float64)
    p /= p.sum()
    pol = _policy_with_probs(p)
    obs = np.zeros((3, 3, 25, 25), np.uint8)
    ap = pol.action_probs(obs)
    np.testing.assert_allclose(ap[0], p, rtol=1e-5)
    mp = pol.move_probs(obs)
    expected = [p[0:3].sum(), p[3], p[4] + p[9:].sum(), p[5], p[6:9].sum()]
    np.testing.assert_allclose(mp[2], expected, rtol=1e-5)
    assert MOVES == ("left", "down", "noop", "up", "right")
    assert list(MOVE_OF_ACTION[[1, 3, 4, 5, 7]]) == [0, 1, 2, 3, 4]


def test_act_deterministic_and_sampling():
    p = np.full(15, 0.01)
    p[5] = 0.25
    p[7] = 0.6
    p /= p.sum()
    pol = _policy_with_probs(p)
    obs = np.zeros((64, 3, 25, 25), np.uint8)
    assert (pol.act(obs[:5], deterministic=True) == 7).all()
    a1 = pol.act(obs, rng=np.random.default_rng(7))
    a2 = pol.act(obs, rng=np.random.default_rng(7))
    a3 = pol.act(obs, rng=np.random.default_rng(8))
    assert np.array_equal(a1, a2) and not np.array_equal(a1, a3)
    assert a1.dtype == np.int64 and a1.min() >= 0 and a1.max() <= 14
    # act() draws exactly what sample_categorical draws from the policy's probabilities
    probs = pol.action_probs(obs).astype(np.float64)
    np.testing.assert_array_equal(a1, sample_categorical(probs, np.random.default_rng(7)))
    # and sample_categorical follows the probabilities
    big = sample_categorical(np.tile(p, (40000, 1)), np.random.default_rng(0))
    np.testing.assert_allclose(np.bincount(big, minlength=15) / big.size, p, atol=0.01)


def test_value_and_logits_shapes_and_fast_mode():
    torch.manual_seed(0)
    m = ImpalaModel(obs_size=25)
    obs = np.random.default_rng(0).integers(0, 2, (6, 3, 25, 25), dtype=np.uint8)
    pol = Policy(m, obs="grid")
    assert pol.value(obs).shape == (6,) and pol.logits(obs).shape == (6, 15)
    fast = Policy(m, obs="grid", fast=True)
    np.testing.assert_allclose(fast.action_probs(obs), pol.action_probs(obs), atol=2e-2)
