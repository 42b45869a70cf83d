"""Tests of the hookable IMPALA network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from agents.model import (
    DISABLED_LOGIT,
    SCALES,
    ImpalaModel,
    activation_shapes,
    disable_actions,
    fast_inference,
    hook_names,
)


def _procgen_tools_keys() -> list[str]:
    keys = []
    for b in (1, 2, 3):
        keys += [f"embedder.block{b}.conv.weight", f"embedder.block{b}.conv.bias"]
        for r in (1, 2):
            for c in (1, 2):
                keys += [
                    f"embedder.block{b}.res{r}.conv{c}.weight",
                    f"embedder.block{b}.res{r}.conv{c}.bias",
                ]
    keys += [
        "embedder.fc.weight",
        "embedder.fc.bias",
        "fc_policy.weight",
        "fc_policy.bias",
        "fc_value.weight",
        "fc_value.bias",
    ]
    return keys


def test_state_dict_keys_are_procgen_tools_names():
    m = ImpalaModel(channels=SCALES[4], obs_size=64)
    assert sorted(m.state_dict()) == sorted(_procgen_tools_keys())
    assert m.state_dict()["embedder.fc.weight"].shape == (256, 128 * 8 * 8)
    assert m.state_dict()["fc_policy.weight"].shape == (15, 256)
    assert m.state_dict()["fc_value.weight"].shape == (1, 256)
    assert 3.6e6 < sum(p.numel() for p in m.parameters()) < 3.7e6


def test_hook_names_in_forward_order_and_each_called_once():
    m = ImpalaModel(obs_size=25)
    names = hook_names(m)
    assert len(names) == 3 * 12 + 6
    for b in (1, 2, 3):
        for r in (1, 2):
            for leaf in ("relu1", "conv1", "relu2", "conv2", "resadd_out"):
                assert f"embedder.block{b}.res{r}.{leaf}" in names
    called: list[str] = []
    mods = dict(m.named_modules())
    for n in names:
        mods[n].register_forward_hook(lambda mod, i, o, n=n: called.append(n))
    m(torch.rand(2, 3, 25, 25))
    assert called == names  # forward order, each exactly once
    assert all(
        not getattr(mod, "inplace", False) for mod in m.modules() if isinstance(mod, nn.ReLU)
    )


def test_hook_sees_and_replaces_activation():
    torch.manual_seed(0)
    m = ImpalaModel(channels=SCALES[4], obs_size=64).eval()
    x = torch.rand(2, 3, 64, 64)
    seen = {}
    layer = dict(m.named_modules())["embedder.block2.res1.resadd_out"]
    h = layer.register_forward_hook(lambda mod, i, o: seen.setdefault("act", o.detach().clone()))
    base_logits, base_value = m(x)
    h.remove()
    assert seen["act"].shape == (2, 128, 16, 16)
    # returning the activation unchanged changes nothing
    h = layer.register_forward_hook(lambda mod, i, o: o)
    same_logits, _ = m(x)
    h.remove()
    assert torch.equal(same_logits, base_logits)
    # replacing it changes the output, and the replacement is what downstream sees
    h = layer.register_forward_hook(lambda mod, i, o: torch.zeros_like(o))
    zero_logits, _ = m(x)
    h.remove()
    assert not torch.allclose(zero_logits, base_logits)
    x2 = torch.rand(2, 3, 64, 64)
    h = layer.register_forward_hook(lambda mod, i, o: torch.zeros_like(o))
    assert torch.equal(m(x2)[0], zero_logits)  # nothing before the patched layer matters
    h.remove()


def test_activation_shapes():
    s = activation_shapes(ImpalaModel(channels=SCALES[4], obs_size=64))
    assert s["embedder.block1.conv"] == (64, 64, 64)
    assert s["embedder.block1.maxpool"] == (64, 32, 32)
    assert s["embedder.block2.res1.resadd_out"] == (128, 16, 16)
    assert s["embedder.block3.res2.resadd_out"] == (128, 8, 8)
    assert s["embedder.flatten"] == (128 * 64,)
    assert s["fc_policy"] == (15,) and s["fc_value"] == (1,)
    g = activation_shapes(ImpalaModel(obs_size=25))
    assert g["embedder.block1.maxpool"] == (16, 13, 13)
    assert g["embedder.flatten"] == (32 * 4 * 4,)
    assert list(g) == hook_names(ImpalaModel(obs_size=25))


def test_fast_inference_close_to_fp32():
    torch.manual_seed(1)
    m = ImpalaModel(obs_size=25).eval()
    x = torch.rand(8, 3, 25, 25)
    with torch.no_grad():
        ref = torch.softmax(m(x)[0], -1)
        with fast_inference(True):
            fast = torch.softmax(m(x.contiguous(memory_format=torch.channels_last))[0].float(), -1)
    assert (fast - ref).abs().max() < 2e-2
    assert fast.dtype == torch.float32


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(channels=(16, 32)),
        dict(channels=(16, 0, 32)),
        dict(obs_size=0),
        dict(num_actions=0),
        dict(fc_dim=0),
    ],
)
def test_bad_construction_raises(kwargs):
    with pytest.raises(ValueError):
        ImpalaModel(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(in_channels=True), "in_channels must be an integer >= 1, got True"),
        (dict(num_actions=True), "num_actions must be an integer >= 1, got True"),
        (dict(obs_size=True), "obs_size must be an integer >= 1, got True"),
        (dict(fc_dim=256.0), "fc_dim must be an integer >= 1, got 256.0"),
        (dict(channels=(16, True, 32)), "channels must be 3 positive ints"),
        (dict(channels=(16, 32.0, 32)), "channels must be 3 positive ints"),
    ],
)
def test_construction_rejects_bools_and_floats(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImpalaModel(**kwargs)


def test_int_arguments_reject_bools():
    m = ImpalaModel(obs_size=25, channels=(4, 8, 8))
    with pytest.raises(ValueError, match="obs_size must be an integer >= 1, got True"):
        activation_shapes(m, obs_size=True)
    with pytest.raises(ValueError, match="actions to keep"):
        disable_actions(m, [True, 3])
    with pytest.raises(ValueError, match="actions to keep"):
        disable_actions(m, [15])
    disable_actions(m, (np.int64(3), 1))
    bias = m.fc_policy.bias.detach()
    assert float(bias[0]) == DISABLED_LOGIT and float(bias[3]) != DISABLED_LOGIT


def test_bad_input_shape_raises():
    with pytest.raises(ValueError, match=r"\(B, 3, 25, 25\)"):
        ImpalaModel(obs_size=25)(torch.zeros(1, 3, 64, 64))


@pytest.mark.parametrize("channels_last", [False, True])
def test_maxpool_matches_torch_maxpool_exactly(channels_last):
    """The channels_last CPU max-pool gives nn.MaxPool2d's values and gradients bit for bit,
    in the input's memory format."""
    from agents.model import MaxPool

    torch.manual_seed(0)
    x = torch.randn(5, 6, 13, 13)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    a, b = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ya, yb = MaxPool()(a), nn.MaxPool2d(3, 2, 1)(b)
    assert torch.equal(ya, yb) and ya.shape == (5, 6, 7, 7)
    assert ya.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    (ya * ya).sum().backward()
    (yb * yb).sum().backward()
    assert torch.equal(a.grad, b.grad)


def test_fast_inference_uses_bf16_only_where_the_hardware_does_it(monkeypatch):
    """An AVX2-only CPU emulates bf16 (~9x slower than fp32), so `fast` keeps fp32 there."""
    import agents.model as model_mod

    torch.manual_seed(2)
    m = ImpalaModel(obs_size=25).eval()
    x = torch.rand(4, 3, 25, 25)
    with torch.no_grad():
        ref = m(x)[0]
        for native, dtype in ((True, torch.bfloat16), (False, torch.float32)):
            monkeypatch.setattr(model_mod, "native_bf16", lambda device_type="cpu", n=native: n)
            with fast_inference(True):
                out = m(x)[0]
            assert out.dtype == dtype
            assert model_mod.fast_precision() == ("bf16" if native else "fp32")
            assert model_mod.fast_precision(enabled=False) == "fp32"  # fast off: plain fp32
        assert torch.equal(out, ref)  # without hardware bf16, fast is plain fp32
    monkeypatch.undo()
    assert isinstance(model_mod.native_bf16("cpu"), bool) and model_mod.native_bf16("mps") is False
