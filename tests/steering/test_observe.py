"""Observations for given levels match the env's; activations for grid and rgb policies."""

from __future__ import annotations

import numpy as np

from agents.model import ImpalaModel
from agents.policy import Policy
from mazegen.env import MazeVecEnv
from mazegen.level_source import FixedLevelSource
from steering.activations import layer_activations, layer_shape, level_obs, policy_obs
from steering.methods.retarget import eval_levels


def test_grid_obs_equal_env_first_frame():
    lv = eval_levels(5, seed=3, maze_size=11)
    env = MazeVecEnv(FixedLevelSource(lv), len(lv), obs="grid")
    assert np.array_equal(level_obs(lv, "grid"), env.reset())


def test_rgb_policy_activations_use_the_policys_frames():
    lv = eval_levels(2, seed=3, maze_size=9)
    pol = Policy(ImpalaModel(obs_size=64), obs="rgb")
    obs = policy_obs(pol, lv)  # no recorded style: procgen's own (textured) frame
    assert obs.shape == (2, 64, 64, 3) and np.array_equal(obs, level_obs(lv, "rgb"))
    assert not np.array_equal(obs, level_obs(lv, "rgb", rgb_style="mono"))
    pol.metadata = {"rgb_style": "mono"}  # a policy trained on monochrome frames sees them
    assert np.array_equal(policy_obs(pol, lv), level_obs(lv, "rgb", rgb_style="mono"))
    acts = layer_activations(pol, lv, "embedder.block2.res1.resadd_out")
    assert tuple(acts.shape) == (2, *layer_shape(pol, "embedder.block2.res1.resadd_out")) == (2, 32, 16, 16)
