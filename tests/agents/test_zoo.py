"""Every shipped zoo agent loads offline, has a complete model card and a training log, and acts."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import agents
import mazegen
from agents.checkpoint import zoo_dir

NAMES = agents.zoo_names()


def test_zoo_is_not_empty():
    assert NAMES, "agents/zoo/ ships no agent"


@pytest.mark.parametrize("name", NAMES)
def test_zoo_agent_card_log_and_policy(name):
    d = zoo_dir(name)
    card = json.loads((d / "card.json").read_text())
    for key in ("config", "model", "steps", "wall_time_s", "machine", "evaluation"):
        assert key in card, f"{name}: card.json lacks {key!r}"
    ev = card["evaluation"]
    assert ev["n_levels"] >= 1000
    lo, hi = ev["ci95"]
    assert 0 <= lo <= ev["hits"] / ev["n_levels"] <= hi <= 1
    assert sum(v["n"] for v in ev["by_maze_size"].values()) == ev["n_levels"]
    with open(d / "train_log.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows and int(float(rows[-1]["steps"])) >= 1
    assert (d / "model.pt").stat().st_size < 20 * 2**20  # a few MB at most

    pol = agents.load(name)
    assert pol.obs == card["model"]["obs"]
    env = mazegen.make_vec_env(4, obs=pol.obs, cheese="top-right:5", seed=123)
    obs = env.reset()
    p = pol.action_probs(obs)
    assert p.shape == (4, 15) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    a = pol.act(obs, rng=np.random.default_rng(0))
    assert a.shape == (4,) and np.array_equal(a, pol.act(obs, rng=np.random.default_rng(0)))


def test_default_agent_is_shipped():
    assert agents.default_zoo_agent() == "grid-r5-s1" and "grid-r5-s1" in NAMES
