"""Tests for agents.rundir: runs keyed on the agent's weights fingerprint plus the arguments."""

from __future__ import annotations

import json

import pytest
import torch

from agents.model import ImpalaModel
from agents.policy import Policy
from agents.rundir import (
    agent_fingerprint,
    load_or_run_unit,
    open_run,
    read_csv,
    unit_stem,
    write_csv,
)


def _policy(seed: int = 0) -> Policy:
    torch.manual_seed(seed)
    return Policy(ImpalaModel(obs_size=5, channels=(2, 2, 2)), obs="grid")


def test_fingerprint_follows_the_weights_not_the_name():
    a = _policy()
    same = Policy(ImpalaModel(obs_size=5, channels=(2, 2, 2)), obs="grid")
    same.model.load_state_dict(a.model.state_dict())
    same.metadata = {"source": "another-name"}
    assert agent_fingerprint(a) == agent_fingerprint(same)
    with torch.no_grad():
        next(same.model.parameters()).view(-1)[0] += 1e-3
    assert agent_fingerprint(a) != agent_fingerprint(same)
    # the observation kind is part of what the agent is
    assert agent_fingerprint(a) != agent_fingerprint(Policy(a.model, obs="rgb"))
    # and, for rgb, the frames it sees: a mono-trained checkpoint is not the textured one
    tex, mono = Policy(a.model, obs="rgb"), Policy(a.model, obs="rgb")
    mono.metadata = {"rgb_style": "mono"}
    assert agent_fingerprint(tex) != agent_fingerprint(mono)
    tex.metadata = {"rgb_style": "textured", "source": "x"}
    assert agent_fingerprint(tex) == agent_fingerprint(Policy(a.model, obs="rgb"))


def test_changed_weights_refuse_the_resume_and_keep_the_units(tmp_path):
    pol = _policy()
    out = open_run(tmp_path / "run", {"agent": "same-name", "mazes": 3}, policy=pol)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["agent_fingerprint"] == agent_fingerprint(pol) and cfg["mazes"] == 3
    assert load_or_run_unit(out / "units" / unit_stem(5, "top-left"), lambda: {"k": 1}) == {"k": 1}
    # the same agent and arguments resume and reuse the finished unit
    open_run(out, {"agent": "same-name", "mazes": 3}, policy=pol)
    assert load_or_run_unit(out / "units" / "5_top-left", lambda: {"k": 2}) == {"k": 1}
    # retrained under the same name: refused before any unit is read or written
    retrained = _policy()
    with torch.no_grad():
        next(retrained.model.parameters()).view(-1)[0] += 1e-3
    with pytest.raises(ValueError, match=r"holds a run with other arguments \(agent_fingerprint: '[0-9a-f]{16}' in the directory vs '[0-9a-f]{16}' now\)"):
        open_run(out, {"agent": "same-name", "mazes": 3}, policy=retrained)
    with pytest.raises(ValueError, match="mazes: 3 in the directory vs 4 now"):
        open_run(out, {"agent": "same-name", "mazes": 4}, policy=pol)
    # keys that do not change results may differ
    open_run(out, {"agent": "same-name", "mazes": 3, "progress": True}, policy=pol, ignore=("progress",))
    assert json.loads((out / "config.json").read_text()) == cfg
    assert sorted(p.name for p in (out / "units").iterdir()) == ["5_top-left.json"]


def test_units_without_a_config_are_refused(tmp_path):
    (tmp_path / "units").mkdir()
    (tmp_path / "units" / "5_top-left.json").write_text("{}")
    with pytest.raises(ValueError, match="holds finished units but no config.json"):
        open_run(tmp_path, {"mazes": 3}, policy=_policy())
    assert not (tmp_path / "config.json").exists()


def test_csv_round_trip(tmp_path):
    p = write_csv(tmp_path / "x.csv", [{"a": 1}, {"b": 2, "a": 3}])
    assert read_csv(p) == [{"a": "1", "b": ""}, {"a": "3", "b": "2"}]
    assert unit_stem(25, "cell:1,2") == "25_cell-1-2"
