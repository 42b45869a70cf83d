"""Every shipped zoo agent loads offline, has a complete model card and a training log, and acts."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import agents
import mazegen
from agents.checkpoint import DEFAULT_AGENT, zoo_dir
from agents.policy import rgb_style

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


def test_default_agent_is_competent_at_every_size():
    """The default agent's card meets issue 15's bar: >= 0.95 held out at every size below 25, and
    >= 0.90 at 25 on the card's main evaluation and on its >= 400-level largest-maze one."""
    name = agents.default_zoo_agent()
    assert name == DEFAULT_AGENT == "grid-r5-long-s1" and name in NAMES
    card = json.loads((zoo_dir(name) / "card.json").read_text())
    ev = card["evaluation"]
    assert ev["action_mode"] == "sampled" and ev["cheese"] == "top-right:5"
    assert ev["level_seeds"][0] >= 10**9  # held out: after the training range [0, 10^9)
    by_size = ev["by_maze_size"]
    assert sorted(map(int, by_size)) == list(range(3, 26, 2))
    for size, v in by_size.items():
        assert v["rate"] == v["hits"] / v["n"] and v["n"] >= 150
        assert v["rate"] >= (0.90 if size == "25" else 0.95), f"size {size}: {v['rate']:.3f}"
    big = ev["largest_maze"]
    assert big["size"] == 25 and big["n_levels"] >= 400 and big["action_mode"] == "sampled"
    assert big["cheese_rate"] >= 0.90 and big["cheese_rate"] == big["hits"] / big["n_levels"]


def test_rgb_agent_meets_its_bar():
    """Issue 16's bar for the agent in the published setting: 64x64 textured procgen frames,
    hard mode, cheese in the top-right 5x5, >= 0.90 held out on >= 1000 levels. It is a
    distilled agent (its teacher is in its config), and its card quotes the held-out monitor's
    milestones, not the partly teacher-acted training rollouts'."""
    name = "rgb-r5-replay-s1"
    assert name in NAMES
    card = json.loads((zoo_dir(name) / "card.json").read_text())
    cfg, ev = card["config"], card["evaluation"]
    assert card["model"] == {**card["model"], "obs": "rgb", "rgb_style": "textured"}
    assert cfg["distribution_mode"] == "hard" and cfg["cheese_region"] == 5
    assert cfg["teacher"] == "grid-r5-long-s1"
    assert ev["action_mode"] == "sampled" and ev["cheese"] == "top-right:5"
    assert ev["level_seeds"][0] >= 10**9 and ev["n_levels"] >= 1000
    assert ev["cheese_rate"] >= 0.90 and ev["cheese_rate"] == ev["hits"] / ev["n_levels"]
    assert sorted(map(int, ev["by_maze_size"])) == list(range(3, 26, 2))
    assert "teacher" in card["learning_curve"]["milestones_note"]
    assert [m["threshold"] for m in card["monitor"]["milestones"]] == [0.5, 0.8, 0.9]
    pol = agents.load(name)
    assert pol.obs == "rgb" and rgb_style(pol) == "textured"  # the frames its rollouts render
