"""Observations and layer activations for given levels (the forward passes steering needs).

- :func:`level_obs`: the first observation of each level, exactly as the env shows it
  (grid: uint8 ``(N, 3, W, W)`` wall / mouse / cheese; rgb: the env's 64x64 frame).
- :func:`layer_activations`: activations of one hook point for a batch of levels, optionally
  under patches.
- :func:`layer_shape`: a hook point's activation shape for a policy.

>>> from mazegen import Level
>>> lvl = Level.from_ascii("#####\\n#..C#\\n#.###\\n#M..#\\n#####")
>>> obs = level_obs([lvl], "grid")
>>> obs.shape, obs.dtype, int(obs[0, 1, 3, 1]), int(obs[0, 2, 1, 3]), int(obs[0, 0].sum())
((1, 3, 5, 5), dtype('uint8'), 1, 1, 18)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from agents.model import activation_shapes
from agents.policy import rgb_style
from mazegen import Level, Levels
from mazegen.constants import CH_CHEESE, CH_MOUSE, CH_WALL
from mazegen.levels import as_levels

from .hooking import run_with_cache
from .patches.apply import apply_patches
from .patches.base import Patch

__all__ = [
    "BATCH",
    "DEFAULT_LAYER",
    "layer_activations",
    "layer_shape",
    "level_obs",
    "policy_obs",
]

#: The layer analysed by Mini et al. (``docs/published-agent.md``, section 3): the default of the experiments.
DEFAULT_LAYER = "embedder.block2.res1.resadd_out"
#: Forward-pass batch size for activation sweeps.
BATCH = 256


def _grid_obs(lv: Levels) -> np.ndarray:
    n, w = len(lv), lv.world_size
    obs = np.zeros((n, 3, w, w), dtype=np.uint8)
    obs[:, CH_WALL] = lv.walls
    idx = np.arange(n)
    obs[idx, CH_MOUSE, lv.mouse[:, 0], lv.mouse[:, 1]] = 1
    has = lv.has_cheese
    obs[idx[has], CH_CHEESE, lv.cheese[has, 0], lv.cheese[has, 1]] = 1
    return obs


def level_obs(
    levels: Level | Levels | Sequence[Level], obs_kind: str, *, rgb_style: str = "textured"
) -> np.ndarray:
    """First observation of each level (mouse at ``level.mouse``).

    Grid observations are the three indicator planes of ``mazegen.constants.GRID_CHANNELS``; rgb
    frames come from ``mazegen.env.MazeVecEnv`` (``rgb_style`` ``"textured"`` or ``"mono"``).
    """
    lv = as_levels(levels)
    if obs_kind == "grid":
        return _grid_obs(lv)
    if obs_kind == "rgb":
        from mazegen.env import MazeVecEnv
        from mazegen.level_source import FixedLevelSource

        env = MazeVecEnv(FixedLevelSource(lv), len(lv), obs="rgb", rgb_style=rgb_style)
        return np.asarray(env.reset())
    raise ValueError(f"obs_kind must be 'grid' or 'rgb', got {obs_kind!r}")


def policy_obs(policy: Any, levels: Level | Levels | Sequence[Level]) -> np.ndarray:
    """:func:`level_obs` in the policy's observation kind.

    The rgb style is :func:`agents.policy.rgb_style`'s, as in rollouts.
    """
    return level_obs(levels, policy.obs, rgb_style=rgb_style(policy))


def layer_shape(policy: Any, layer: str) -> tuple[int, ...]:
    """Activation shape (without batch) of hook point ``layer`` of ``policy.model``: a lookup
    in :func:`agents.model.activation_shapes` that names the hook points if ``layer`` is none."""
    shapes = activation_shapes(policy.model)
    if layer not in shapes:
        raise ValueError(f"unknown layer {layer!r}; hook points: {list(shapes)}")
    return shapes[layer]


def layer_activations(
    policy: Any,
    levels: Level | Levels | Sequence[Level],
    layer: str,
    *,
    patches: Patch | Sequence[Patch] | None = None,
    level_indices: np.ndarray | None = None,
    batch_size: int = BATCH,
) -> torch.Tensor:
    """``(N, *layer_shape)`` fp32 activations at ``layer`` for each level's first frame.

    ``patches`` are applied during the pass (``level_indices[i]`` is row i's level for
    per-level patches; default ``arange(N)``).
    """
    lv = as_levels(levels)
    obs = policy_obs(policy, lv)
    n = len(lv)
    rows = np.arange(n) if level_indices is None else np.asarray(level_indices, np.int64)
    outs = []
    for s in range(0, n, batch_size):
        x = policy.preprocess(obs[s : s + batch_size])
        if patches:
            with apply_patches(policy.model, patches, rows[s : s + batch_size]):
                _, cache = run_with_cache(policy.model, x, [layer])
        else:
            _, cache = run_with_cache(policy.model, x, [layer])
        outs.append(cache[layer].float())
    return torch.cat(outs)
