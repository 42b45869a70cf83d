"""A gymnasium ``Env`` over one procgen engine env: :class:`ProcgenMazeEnv` (a one-env
:class:`~mazegen.procgen.vec_env.ProcgenMazeVecEnv` inside)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from ..level import Level
from .vec_env import ProcgenMazeVecEnv

__all__ = ["ProcgenMazeEnv"]


class ProcgenMazeEnv(gym.Env):
    """A gymnasium ``Env`` over one procgen engine env with mazegen's level specs.

    Keyword arguments are those of :func:`make_procgen_vec_env` (without ``num_envs``).
    ``reset(seed=s)`` restarts the engine with ``rand_seed = s``. The engine auto-resets inside
    the step that ends an episode; this wrapper returns the finished episode's last frame and
    starts the next level at the next ``reset()``.
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, render_mode: str | None = None, **kwargs: Any) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.venv = ProcgenMazeVecEnv(1, **kwargs)
        self.observation_space = self.venv.observation_space
        self.action_space = self.venv.action_space
        self._pending_obs: np.ndarray | None = None
        self._last: np.ndarray | None = None
        self._started = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None or not self._started:
            if seed is not None:
                self.venv.seed(int(seed))
            obs = self.venv.reset()[0]
            self._started = True
        elif self._pending_obs is not None:
            obs = self._pending_obs  # the engine already moved on to its next level
        else:
            obs = self.venv.reset()[0]  # mid-episode reset: rebuild the engine
        self._pending_obs = None
        self._last = obs
        return obs.copy(), self._info()

    def _info(self) -> dict:
        return {"level_seed": int(self.venv._seed[0]), "maze_size": int(self.venv._maze_size[0])}

    def step(self, action: Any):
        if not self._started or self._pending_obs is not None:
            raise RuntimeError("call reset() before step() (the episode has ended)")
        obs, rew, done, infos = self.venv.step(np.array([int(action)]))
        info = self._info()
        if done[0]:
            i0 = infos[0]
            self._pending_obs = obs[0]
            obs0 = i0["terminal_observation"]
            info = {
                "level_seed": i0["level_seed"],
                "maze_size": i0["maze_size"],
                "got_cheese": i0["got_cheese"],
            }
            terminated, truncated = bool(i0["got_cheese"]), bool(i0["TimeLimit.truncated"])
        else:
            obs0 = obs[0]
            terminated = truncated = False
        self._last = obs0
        return obs0.copy(), float(rew[0]), terminated, truncated, info

    def load_level(self, level: Level) -> np.ndarray:
        """Start a new episode on ``level`` in the engine; return its first observation."""
        if not self._started:
            self.reset()
        obs = self.venv.load_level(0, level)
        self._pending_obs = None
        self._last = obs
        return obs.copy()

    def render(self):
        return None if self._last is None else self._last.copy()

    def close(self) -> None:
        self.venv.close()
