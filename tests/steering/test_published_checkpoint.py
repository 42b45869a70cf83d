"""The published checkpoint path: a procgen-tools ``.pth`` at scale 4 (random weights) runs
through ``agents.load``, a sweep and a retarget end to end."""

from __future__ import annotations

import json

import numpy as np
import torch

import agents
from agents.policy import rgb_style
from steering import layer_shape
from steering.experiments import RetargetConfig, run_retarget

LAYER = "embedder.block2.res1.resadd_out"


def _procgen_tools_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """The published agent's ``model_state_dict``, written key by key from procgen-tools'
    layout (not from our model): IMPALA channels (64, 128, 128), fc 256, 15 actions, 64x64."""
    g = torch.Generator().manual_seed(seed)

    def conv(c_out: int, c_in: int) -> dict[str, torch.Tensor]:
        w = torch.randn(c_out, c_in, 3, 3, generator=g) * (2.0 / (9 * c_in)) ** 0.5
        return {"weight": w, "bias": torch.zeros(c_out)}

    def linear(n_out: int, n_in: int) -> dict[str, torch.Tensor]:
        return {"weight": torch.randn(n_out, n_in, generator=g) / n_in**0.5, "bias": torch.zeros(n_out)}

    state: dict[str, torch.Tensor] = {}
    c_in = 3
    for i, c in enumerate((64, 128, 128), start=1):
        parts = {"conv": conv(c, c_in)}
        for r in ("res1", "res2"):
            parts[f"{r}.conv1"] = conv(c, c)
            parts[f"{r}.conv2"] = conv(c, c)
        for name, p in parts.items():
            for k, v in p.items():
                state[f"embedder.block{i}.{name}.{k}"] = v
        c_in = c
    for name, p in (("embedder.fc", linear(256, 128 * 8 * 8)), ("fc_policy", linear(15, 256)),
                    ("fc_value", linear(1, 256))):
        for k, v in p.items():
            state[f"{name}.{k}"] = v
    return state


def test_published_layout_loads_and_runs_a_sweep_and_a_retarget(tmp_path):
    path = tmp_path / "maze_I" / "model_rand_region_5.pth"
    path.parent.mkdir()
    state = _procgen_tools_state()
    assert round(sum(v.numel() for v in state.values()) / 1e6, 2) == 3.65  # the published size
    torch.save({"model_state_dict": state, "optimizer_state_dict": {}}, path)

    pol = agents.load(path)
    assert pol.obs == "rgb" and pol.model.channels == (64, 128, 128) and pol.model.fc_dim == 256
    assert pol.metadata["format"] == "procgen-tools" and pol.metadata["scale"] == 4
    assert rgb_style(pol) == "textured"  # procgen's own frames, as it was trained
    assert tuple(layer_shape(pol, LAYER)) == (128, 16, 16)
    obs = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    with torch.no_grad():  # the weights are the file's, read by procgen-tools' key names
        x = torch.as_tensor(obs).permute(0, 3, 1, 2).float() / 255
        assert torch.equal(pol.model.embedder.block1.conv.weight, state["embedder.block1.conv.weight"])
        np.testing.assert_allclose(pol.value(obs), pol.model(x)[1].numpy(), rtol=1e-5, atol=1e-5)

    # a sweep, loading the agent from the file itself
    cfg = agents.SweepConfig(agent=str(path), sizes=(5,), placements=("top-left",), mazes=2,
                             max_steps=8, batch_size=2, examples=1)
    res = agents.run_sweep(cfg, tmp_path / "sweep")
    (unit,) = res["units"]
    assert (unit["size"], unit["placement"], unit["n"]) == (5, "top-left", 2)
    assert (tmp_path / "sweep" / "episodes.csv").is_file()
    assert json.loads((tmp_path / "sweep" / "summary.json").read_text())["units"] == res["units"]

    # a retarget at the 16x16 block2 map: discovery, one channel, and controls
    rcfg = RetargetConfig(layer=LAYER, targets=["top-left"], sizes=[5], mazes=2, max_steps=6,
                          methods=["single", "discovered"], magnitudes=[5.5], discover_mazes=2,
                          discover_validate=1, n_channels=1, fraction_mazes=1)
    out = run_retarget(pol, rcfg)
    ranking = out["ranking"]
    assert sorted(ranking["channels"]) == list(range(128)) and ranking["layer"] == LAYER
    assert ranking["selected"] == ranking["channels"][:1]  # the top one, validated
    got = {(r["method"], r["control"]): r for r in out["rows"]}
    assert set(got) == {("none", "baseline")} | {
        (m, c) for m in ("single", "discovered")
        for c in ("", "random-channels", "random-vector", "wrong-location")
    }
    for (method, control), r in got.items():
        assert (r["size"], r["target"], r["layer"]) == (5, "top-left", LAYER)
        assert r["success_n"] == 2 and 0.0 <= r["success"] <= 1.0
        if method != "none" and control != "random-vector":
            # one activation of the 16x16 map: the target's cell in one channel
            assert r["fraction_layer"] == 1 / (128 * 16 * 16)
    assert got[("single", "")]["channels"] == str(ranking["selected"][0])
