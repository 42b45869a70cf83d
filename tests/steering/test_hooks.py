"""Hooks: install, replace, always remove; caching; hook point listing."""

from __future__ import annotations

import pytest
import torch

from agents.model import ImpalaModel, activation_shapes, hook_names
from steering.hooking import hooks, run_with_cache


def _n_hooks(model):
    return sum(len(m._forward_hooks) for m in model.modules())


def test_replace_and_keep():
    m = ImpalaModel(obs_size=25).eval()
    x = torch.rand(2, 3, 25, 25)
    base_logits, _ = m(x)
    seen = []

    def keep(act, name):
        seen.append((name, tuple(act.shape)))

    with hooks(m, {"embedder.block2.res1.resadd_out": keep}):
        same, _ = m(x)
    assert torch.equal(same, base_logits)
    assert seen == [("embedder.block2.res1.resadd_out", (2, 32, 7, 7))]
    with hooks(m, {"embedder.relufc": lambda a, n: torch.zeros_like(a)}):
        logits, _ = m(x)
    assert torch.allclose(logits, m.fc_policy.bias.expand(2, -1))
    assert _n_hooks(m) == 0


def test_filter_selects_many_and_chain_order():
    m = ImpalaModel(obs_size=25).eval()
    names = []
    with hooks(m, {(lambda n: n.endswith("resadd_out")): lambda a, n: names.append(n)}):
        m(torch.zeros(1, 3, 25, 25))
    assert names == [n for n in hook_names(m) if n.endswith("resadd_out")] and len(names) == 6


def test_hooks_removed_on_error():
    m = ImpalaModel(obs_size=25).eval()

    def boom(act, name):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"), hooks(m, {"embedder.fc": boom}):
        m(torch.zeros(1, 3, 25, 25))
    assert _n_hooks(m) == 0
    with pytest.raises(ValueError, match="unknown hook point 'nope'"):
        with hooks(m, {"embedder.fc": lambda a, n: None, "nope": lambda a, n: None}):
            pass
    assert _n_hooks(m) == 0  # the first hook was installed, then removed
    with pytest.raises(ValueError, match="returned shape"):
        with hooks(m, {"embedder.fc": lambda a, n: a[:, :3]}):
            m(torch.zeros(1, 3, 25, 25))
    assert _n_hooks(m) == 0


def test_run_with_cache_matches_manual_and_lists_shapes():
    m = ImpalaModel(obs_size=25).eval()
    x = torch.rand(3, 3, 25, 25)
    out, cache = run_with_cache(m, x)
    assert list(cache) == hook_names(m)
    assert torch.equal(out[0], m(x)[0])
    expect = m.embedder.block1.conv(x)
    assert torch.allclose(cache["embedder.block1.conv"], expect)
    shapes = activation_shapes(m)
    assert list(shapes) == hook_names(m)
    assert shapes == {n: tuple(a.shape[1:]) for n, a in cache.items()}
    assert _n_hooks(m) == 0


def test_layer_shape_is_a_lookup_in_activation_shapes(tiny_policy):
    from agents.policy import Policy
    from steering.activations import layer_shape

    pol = Policy(ImpalaModel(obs_size=25), obs="grid")
    assert layer_shape(pol, "embedder.block2.res1.resadd_out") == (32, 7, 7)
    with pytest.raises(ValueError, match=r"unknown layer 'embedder.block9'; hook points: \['embedder.block1.conv'"):
        layer_shape(pol, "embedder.block9")
    # a model without parameters (the known-answer test net) lists its shapes too
    shapes = activation_shapes(tiny_policy.model)
    assert shapes and layer_shape(tiny_policy, next(iter(shapes))) == next(iter(shapes.values()))
