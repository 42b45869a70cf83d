"""gymnasium.vector adapter: :class:`MazeVectorEnv`, batched, with same-step auto-reset.

``metadata["autoreset_mode"]`` is ``AutoresetMode.SAME_STEP``: like procgen, an env whose
episode ends is reset inside the same ``step``; the returned observation row is already the new
episode's first frame. Following gymnasium's layout for that mode, ``infos`` holds
``"final_obs"`` (an object array with the finished episode's last frame where done, None
elsewhere) and ``"final_info"`` (a dict of arrays: ``got_cheese``, ``episode_return``,
``episode_length``, ``level_seed``, ``maze_size``), each with its ``"_<key>"`` boolean mask,
plus ``"episode": {"r", "l", "t"}`` / ``"_episode"`` as ``RecordEpisodeStatistics`` writes them.

>>> venv = MazeVectorEnv(2, seed=0)
>>> obs, infos = venv.reset()
>>> obs.shape
(2, 3, 25, 25)
"""

from __future__ import annotations

import time
from typing import Any, Unpack

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ..constants import NUM_ACTIONS
from ..env import MazeVecEnv
from ..options import EnvKwargs, EnvOptions, check_seed

__all__ = ["MazeVectorEnv"]


class MazeVectorEnv(VectorEnv):
    """``num_envs`` mazes as a ``gymnasium.vector.VectorEnv`` (arguments as ``make_vec_env``).

    The keyword ``options`` are the fields of :class:`~mazegen.options.EnvOptions`.
    ``env=`` wraps an existing :class:`~mazegen.env.MazeVecEnv` instead (``num_envs`` and
    ``options`` are then unused). ``reset(seed=s)`` restarts procgen's level stream with ``rand_seed=s``.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": ["rgb_array"]}

    def __init__(
        self,
        num_envs: int = 1,
        *,
        env: MazeVecEnv | None = None,
        render_mode: str | None = None,
        **options: Unpack[EnvKwargs],
    ) -> None:
        from .sb3 import observation_space_for

        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        opts = EnvOptions(**options)  # checked even when env= makes them unused
        if env is None:
            env = opts.vec_env(num_envs)
        elif not isinstance(env, MazeVecEnv):
            raise ValueError(f"env must be a mazegen.MazeVecEnv, got {type(env).__name__}")
        self._env = env
        self.num_envs = env.num_envs
        self.render_mode = render_mode
        self.single_observation_space = observation_space_for(env)
        self.single_action_space = gym.spaces.Discrete(NUM_ACTIONS)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._t0 = time.time()
        self._started = False

    @property
    def env(self) -> MazeVecEnv:
        """The underlying :class:`~mazegen.env.MazeVecEnv`."""
        return self._env

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            if isinstance(seed, (list, tuple)):
                seed = seed[0]  # one procgen rand_seed drives every env's level stream
            seed = check_seed(seed)
            self._np_random, self._np_random_seed = gym.utils.seeding.np_random(seed)
            self._env.reseed(seed)
        obs = self._env.reset()
        self._t0 = time.time()
        self._started = True
        lv = self._env.levels
        return obs, {"level_seed": lv.seed.copy(), "maze_size": lv.maze_size.copy()}

    def step(self, actions: Any):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        obs, reward, terminated, truncated, info = self._env.step(np.asarray(actions).reshape(-1))
        done = terminated | truncated
        infos: dict[str, Any] = {}
        if done.any():
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(done):
                final_obs[i] = info["final_obs"][i].copy()
            keys = ("got_cheese", "episode_return", "episode_length", "level_seed", "maze_size")
            final_info: dict[str, Any] = {}
            for k in keys:
                final_info[k] = np.where(done, info[k], np.zeros_like(info[k]))
                final_info["_" + k] = done.copy()
            elapsed = time.time() - self._t0
            infos = {
                "final_obs": final_obs,
                "_final_obs": done.copy(),
                "final_info": final_info,
                "_final_info": done.copy(),
                "episode": {
                    "r": np.where(done, info["episode_return"], 0).astype(np.float32),
                    "l": np.where(done, info["episode_length"], 0).astype(np.int32),
                    "t": np.where(done, elapsed, 0.0).astype(np.float32),
                },
                "_episode": done.copy(),
            }
        return obs, reward, terminated, truncated, infos

    def render(self) -> np.ndarray | None:
        """Frames of all envs, ``(N, 64, 64, 3)`` (None without ``render_mode``)."""
        if self.render_mode is None:
            return None
        if self._env.obs_kind == "rgb":
            return self._env._obs.copy()
        from ..render.mono import render_mono

        return render_mono(
            self._env.levels,
            mouse=self._env.mouse,
            facing_right=self._env.facing_right,
            use_backgrounds=self._env.use_backgrounds,
        )

    def close_extras(self, **kwargs: Any) -> None:
        self._env.close()
