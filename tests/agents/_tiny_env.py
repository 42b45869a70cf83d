"""A tiny stand-in env with the same spaces as mazegen's grid env (for SB3 integration tests)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class TinyGridEnv(gym.Env):
    """Mouse on an open 5x5 patch of a 25x25 world; reward 10 on reaching the cheese."""

    def __init__(self, size: int = 25, rgb: bool = False) -> None:
        self.size = size
        self.rgb = rgb
        if rgb:
            self.observation_space = gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)
        else:
            self.observation_space = gym.spaces.Box(0, 1, (3, size, size), np.uint8)
        self.action_space = gym.spaces.Discrete(15)
        self.rng = np.random.default_rng(0)

    def _obs(self):
        g = np.zeros((3, self.size, self.size), np.uint8)
        g[0] = 1
        g[0, 10:15, 10:15] = 0
        g[1][self.mouse] = 1
        g[2][self.cheese] = 1
        if self.rgb:
            img = np.zeros((64, 64, 3), np.uint8)
            img[: self.size, : self.size] = g.transpose(1, 2, 0) * 255
            return img
        return g

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.mouse = (14, 10)
        self.cheese = (int(self.rng.integers(10, 15)), int(self.rng.integers(10, 15)))
        if self.cheese == self.mouse:
            self.cheese = (10, 14)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        dr, dc = {
            3: (1, 0),
            5: (-1, 0),
            0: (0, -1),
            1: (0, -1),
            2: (0, -1),
            6: (0, 1),
            7: (0, 1),
            8: (0, 1),
        }.get(int(action), (0, 0))
        r, c = self.mouse[0] + dr, self.mouse[1] + dc
        if 10 <= r < 15 and 10 <= c < 15:
            self.mouse = (r, c)
        self.t += 1
        got = self.mouse == self.cheese
        done = got or self.t >= 30
        return (
            self._obs(),
            10.0 if got else 0.0,
            bool(got),
            bool(done and not got),
            {"got_cheese": got, "maze_size": 5},
        )


def tiny_vec_env(n_envs: int, seed: int, rgb: bool = False):
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

    venv = DummyVecEnv([lambda: TinyGridEnv(rgb=rgb) for _ in range(n_envs)])
    venv.seed(seed)
    return VecMonitor(venv, info_keywords=("got_cheese", "maze_size"))
