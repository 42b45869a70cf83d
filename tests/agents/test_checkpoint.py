"""Tests of checkpoints, the zoo and procgen-tools loading."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import agents.checkpoint as ck
from agents.model import SCALES, ImpalaModel
from agents.policy import Policy


def _obs(kind: str, n: int = 3) -> np.ndarray:
    rng = np.random.default_rng(0)
    if kind == "grid":
        return rng.integers(0, 2, (n, 3, 25, 25), dtype=np.uint8)
    return rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)


def test_save_load_roundtrip(tmp_path):
    torch.manual_seed(0)
    pol = Policy(ImpalaModel(channels=SCALES[2], obs_size=25, fc_dim=64), obs="grid")
    path = ck.save(pol, tmp_path / "sub" / "a.pt", metadata={"steps": 12, "note": "x"})
    assert sorted(os.listdir(tmp_path / "sub")) == ["a.pt"]  # no temp files left behind
    back = ck.load(path)
    assert back.obs == "grid" and back.model.channels == SCALES[2] and back.model.fc_dim == 64
    assert back.metadata == {"steps": 12, "note": "x"}
    np.testing.assert_array_equal(back.logits(_obs("grid")), pol.logits(_obs("grid")))
    raw = ck.read_checkpoint(path)
    assert raw["format"] == ck.FORMAT and "embedder.block1.conv.weight" in raw["model_state_dict"]


def test_rgb_checkpoints_record_their_frame_style(tmp_path):
    from agents.policy import rgb_style

    m = ImpalaModel(channels=(4, 8, 8), obs_size=64, fc_dim=16)
    bare = ck.load(ck.save(m, tmp_path / "bare.pt", obs="rgb"))
    assert bare.metadata == {"rgb_style": "textured"} and rgb_style(bare) == "textured"
    mono = ck.load(ck.save(Policy(m, obs="rgb"), tmp_path / "mono.pt", metadata={"rgb_style": "mono"}))
    assert mono.metadata["rgb_style"] == "mono" and rgb_style(mono) == "mono"
    assert rgb_style(mono, "textured") == "textured"  # an explicit override wins
    # resaving keeps the style; a training config's style is recorded at the top level
    assert ck.load(ck.save(mono, tmp_path / "again.pt")).metadata["rgb_style"] == "mono"
    trained = ck.save(Policy(m, obs="rgb"), tmp_path / "t.pt",
                      metadata={"config": {"obs": "rgb", "rgb_style": "mono"}})
    assert ck.read_checkpoint(trained)["metadata"]["rgb_style"] == "mono"
    # a checkpoint written before styles were recorded: a training config there means one of
    # our old runs, which all played mono frames; nothing at all means procgen's own frame
    raw = ck.read_checkpoint(tmp_path / "bare.pt")
    torch.save({**raw, "metadata": {"steps": 5, "config": {"obs": "rgb"}}}, tmp_path / "old.pt")
    torch.save({**raw, "metadata": {}}, tmp_path / "plain.pt")
    assert rgb_style(ck.load(tmp_path / "old.pt")) == "mono"
    assert rgb_style(ck.load(tmp_path / "plain.pt")) == "textured"
    with pytest.raises(ValueError, match="rgb_style must be one of"):
        ck.save(Policy(m, obs="rgb"), tmp_path / "bad.pt", metadata={"rgb_style": "fancy"})
    assert not (tmp_path / "bad.pt").exists()
    grid = Policy(ImpalaModel(channels=(4, 8, 8), fc_dim=16), obs="grid")
    assert "rgb_style" not in ck.load(ck.save(grid, tmp_path / "g.pt")).metadata


def test_save_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="obs="):
        ck.save(ImpalaModel(), tmp_path / "m.pt")
    with pytest.raises(ValueError, match="JSON|serializable"):
        ck.save(Policy(ImpalaModel(), obs="grid"), tmp_path / "m.pt", metadata={"bad": object()})
    assert not (tmp_path / "m.pt").exists()
    with pytest.raises(ValueError, match="neither a file nor a zoo agent"):
        ck.load("no-such-agent-xyz")


def test_procgen_tools_layout(tmp_path):
    torch.manual_seed(3)
    ref = ImpalaModel(channels=SCALES[4], obs_size=64).eval()
    path = tmp_path / "model_rand_region_5.pth"
    torch.save({"model_state_dict": ref.state_dict(), "optimizer_state_dict": {}}, path)
    pol = ck.load_procgen_tools_checkpoint(path)
    assert pol.obs == "rgb" and pol.model.channels == (64, 128, 128) and pol.model.obs_size == 64
    assert pol.metadata["scale"] == 4
    obs = _obs("rgb", 2)
    with torch.no_grad():
        expected = ref(torch.as_tensor(obs).permute(0, 3, 1, 2).float() / 255)[0].numpy()
    np.testing.assert_allclose(pol.logits(obs), expected, rtol=1e-5, atol=1e-6)
    # agents.load recognises the layout too; a DataParallel "module." prefix is tolerated
    np.testing.assert_allclose(ck.load(path).logits(obs), expected, rtol=1e-5, atol=1e-6)
    p2 = tmp_path / "prefixed.pth"
    torch.save({"model_state_dict": {"module." + k: v for k, v in ref.state_dict().items()}}, p2)
    assert ck.load_procgen_tools_checkpoint(p2).model.channels == (64, 128, 128)
    # scale 1 is inferred too
    small = ImpalaModel(obs_size=64)
    torch.save({"model_state_dict": small.state_dict()}, tmp_path / "s1.pth")
    assert ck.load_procgen_tools_checkpoint(tmp_path / "s1.pth").metadata["scale"] == 1


def test_procgen_tools_bad_files(tmp_path):
    state = ImpalaModel(channels=SCALES[4], obs_size=64).state_dict()
    del state["embedder.fc.weight"]
    torch.save({"model_state_dict": state}, tmp_path / "m.pth")
    with pytest.raises(ValueError, match="embedder.fc.weight"):
        ck.load_procgen_tools_checkpoint(tmp_path / "m.pth")
    torch.save({"weights": 1}, tmp_path / "n.pth")
    with pytest.raises(ValueError, match="model_state_dict"):
        ck.load_procgen_tools_checkpoint(tmp_path / "n.pth")
    torch.save({"model_state_dict": ImpalaModel(obs_size=25).state_dict()}, tmp_path / "g.pth")
    with pytest.raises(ValueError, match="64x64"):
        ck.load_procgen_tools_checkpoint(tmp_path / "g.pth")


def test_zoo_names_and_load_by_name(tmp_path, monkeypatch):
    monkeypatch.setattr(ck, "ZOO_DIR", tmp_path)
    (tmp_path / "configs").mkdir()
    (tmp_path / "empty").mkdir()
    assert ck.zoo_names() == [] and ck.default_zoo_agent() is None
    ck.save(
        Policy(ImpalaModel(), obs="grid"), tmp_path / "b-agent" / "model.pt", metadata={"steps": 5}
    )
    ck.save(Policy(ImpalaModel(), obs="grid"), tmp_path / "a-agent" / "model.pt")
    (tmp_path / "b-agent" / "card.json").write_text('{"steps": 5}')
    assert ck.zoo_names() == ["a-agent", "b-agent"]
    assert ck.default_zoo_agent() == "a-agent"  # no DEFAULT_AGENT here: the first one
    monkeypatch.setattr(ck, "DEFAULT_AGENT", "b-agent")
    assert ck.default_zoo_agent() == "b-agent"
    pol = ck.load("b-agent")
    assert pol.metadata["steps"] == 5 and pol.metadata["card"] == {"steps": 5}
    with pytest.raises(ValueError, match="unknown zoo agent"):
        ck.zoo_dir("empty")
    # A training run in the zoo that was never published: named as such, with its checkpoint.
    ck.save(Policy(ImpalaModel(), obs="grid"), tmp_path / "c-run" / "run" / "model.pt")
    assert "c-run" not in ck.zoo_names()
    with pytest.raises(ValueError, match="'c-run' is a zoo training run that has not been published") as e:
        ck.load("c-run")
    assert str(tmp_path / "c-run" / "run" / "model.pt") in str(e.value)
    assert ck.load(tmp_path / "c-run" / "run" / "model.pt").obs == "grid"
