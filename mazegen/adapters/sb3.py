"""stable-baselines3 adapter: :class:`MazeSB3VecEnv` wraps a :class:`~mazegen.env.MazeVecEnv`.

SB3's algorithms run on it unmodified. On an episode end, ``infos[i]`` holds
``"terminal_observation"`` (the finished episode's last frame), ``"TimeLimit.truncated"``
(True when the episode hit ``max_steps`` without the cheese, so PPO bootstraps the value),
``"episode": {"r", "l", "t"}`` (as SB3's ``Monitor`` writes it; no ``VecMonitor`` needed),
``"got_cheese"``, ``"level_seed"`` and ``"maze_size"``. Other envs' infos are empty dicts.

Observation spaces: ``Box(0, 1, (3, W, W), uint8)`` for grid observations (SB3 does not treat
it as an image, so it is not divided by 255: use ``MlpPolicy`` or a custom extractor),
``Box(0, 255, (64, 64, 3), uint8)`` for rgb frames (an image: ``CnnPolicy`` transposes and
scales it).

``seed(s)`` takes effect at the next ``reset()``: a
:class:`~mazegen.level_source.ProcgenLevelSource` is rebuilt with ``rand_seed=s`` (procgen's
meaning of the seed); other sources are deterministic already and ignore it.

>>> from mazegen import Level, Levels
>>> from mazegen.env import MazeVecEnv
>>> from mazegen.level_source import FixedLevelSource
>>> lvl = Level.from_ascii("#####\\n#..C#\\n#.###\\n#M..#\\n#####")
>>> venv = MazeSB3VecEnv(MazeVecEnv(FixedLevelSource(Levels.from_list([lvl] * 2)), 2))
>>> venv.observation_space
Box(0, 1, (3, 5, 5), uint8)
>>> obs = venv.reset()
>>> for a in (5, 5, 7, 7):
...     obs, rew, done, infos = venv.step(np.array([a, 4]))
>>> rew.tolist(), done.tolist(), infos[0]["episode"]["r"], infos[0]["TimeLimit.truncated"]
([10.0, 0.0], [True, False], 10.0, False)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from ..checks import check_int
from ..constants import NUM_ACTIONS
from ..env import MazeVecEnv
from ..options import check_seed

__all__ = ["MazeSB3VecEnv", "BatchedVecEnvMethods", "observation_space_for"]


def observation_space_for(env: MazeVecEnv) -> gym.spaces.Box:
    """The gymnasium ``Box`` of one env's observation."""
    if env.obs_kind == "grid":
        return gym.spaces.Box(0, 1, env.obs_shape, np.uint8)
    return gym.spaces.Box(0, 255, env.obs_shape, np.uint8)


class BatchedVecEnvMethods:
    """The SB3 ``VecEnv`` methods shared by envs whose ``N`` envs are one batched object
    (:class:`MazeSB3VecEnv`, :class:`mazegen.procgen.vec_env.ProcgenMazeVecEnv`): actions,
    ``seed``, env indices, ``get_attr``, ``env_method``, ``env_is_wrapped``.

    Mixed in before ``VecEnv``; the class sets :attr:`_owner_name` and may override
    :meth:`_owner` (the object whose attributes and methods ``get_attr`` / ``env_method``
    reach). ``seed(s)`` stores ``s`` in ``_pending_seed``; ``reset()`` applies it.
    """

    #: The name error messages give the owner ("MazeVecEnv has no attribute ...").
    _owner_name = "MazeVecEnv"

    def _owner(self) -> Any:
        return self

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def seed(self, seed: int | None = None) -> Sequence[None | int]:
        """Use ``seed`` as procgen's ``rand_seed`` from the next ``reset()`` (which rebuilds the
        level source or the engine; see the class's module docs)."""
        if seed is None:
            return [None] * self.num_envs
        self._pending_seed = check_seed(seed)
        return [self._pending_seed] * self.num_envs

    def _indices(self, indices: None | int | Iterable[int]) -> list[int]:
        idx = self._get_indices(indices)
        out = [int(i) for i in idx]
        for i in out:
            if not 0 <= i < self.num_envs:
                raise ValueError(f"env index {i} out of range [0, {self.num_envs - 1}]")
        return out

    def get_attr(self, attr_name: str, indices: None | int | Iterable[int] = None) -> list[Any]:
        """Attribute of the underlying env; per-env arrays (leading dim N) are split by env."""
        idx = self._indices(indices)
        owner = self._owner()
        if not hasattr(owner, attr_name):
            raise AttributeError(f"{self._owner_name} has no attribute {attr_name!r}")
        value = getattr(owner, attr_name)
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == self.num_envs:
            return [value[i] for i in idx]
        return [value for _ in idx]

    def env_method(
        self,
        method_name: str,
        *method_args,
        indices: None | int | Iterable[int] = None,
        **method_kwargs,
    ) -> list[Any]:
        """Call a method of the underlying batched env once; the result is repeated per index."""
        idx = self._indices(indices)
        method = getattr(self._owner(), method_name, None)
        if method is None or not callable(method):
            raise AttributeError(f"{self._owner_name} has no method {method_name!r}")
        result = method(*method_args, **method_kwargs)
        return [result for _ in idx]

    def env_is_wrapped(
        self, wrapper_class: type, indices: None | int | Iterable[int] = None
    ) -> list[bool]:
        """No gymnasium wrappers exist inside a batched env: always False."""
        return [False for _ in self._indices(indices)]


class MazeSB3VecEnv(BatchedVecEnvMethods, VecEnv):
    """An SB3 ``VecEnv`` over a batched :class:`~mazegen.env.MazeVecEnv` (see module docs)."""

    metadata = {"render_modes": ["rgb_array"], "autoreset_mode": "same_step"}

    def _owner(self) -> MazeVecEnv:
        return self.venv

    def __init__(self, env: MazeVecEnv) -> None:
        if not isinstance(env, MazeVecEnv):
            raise ValueError(f"MazeSB3VecEnv wraps a mazegen.MazeVecEnv, got {type(env).__name__}")
        self.venv = env
        super().__init__(env.num_envs, observation_space_for(env), gym.spaces.Discrete(NUM_ACTIONS))
        self.metadata = {"render_modes": ["human", "rgb_array"], "autoreset_mode": "same_step"}
        self._actions: np.ndarray | None = None
        self._pending_seed: int | None = None
        self._t0 = time.time()

    # ------------------------------------------------------------------ core API
    def reset(self) -> np.ndarray:
        if self._pending_seed is not None:
            self.venv.reseed(self._pending_seed)
            self._pending_seed = None
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._t0 = time.time()
        return self.venv.reset()

    def step_wait(self):
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        obs, reward, terminated, truncated, info = self.venv.step(self._actions.reshape(-1))
        self._actions = None
        done = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        ids = np.flatnonzero(done)
        if ids.size:
            elapsed = round(time.time() - self._t0, 6)
            final = info["final_obs"]
            for i in ids.tolist():
                infos[i] = {
                    "terminal_observation": final[i].copy(),
                    "TimeLimit.truncated": bool(truncated[i] and not terminated[i]),
                    "episode": {
                        "r": float(info["episode_return"][i]),
                        "l": int(info["episode_length"][i]),
                        "t": elapsed,
                    },
                    "got_cheese": bool(info["got_cheese"][i]),
                    "level_seed": int(info["level_seed"][i]),
                    "maze_size": int(info["maze_size"][i]),
                }
        return obs, reward, done, infos

    def close(self) -> None:
        self.venv.close()

    # ------------------------------------------------------------------ attributes and methods
    def set_attr(
        self, attr_name: str, value: Any, indices: None | int | Iterable[int] = None
    ) -> None:
        """Set an attribute shared by all envs (they are one batched object)."""
        idx = self._indices(indices)
        if sorted(idx) != list(range(self.num_envs)):
            raise ValueError(
                "MazeSB3VecEnv envs share one batched object: set_attr must target all envs"
            )
        if attr_name not in ("max_steps",):
            raise ValueError(f"only 'max_steps' can be set on a MazeVecEnv, got {attr_name!r}")
        self.venv.max_steps = check_int("max_steps", value, 1)

    def get_images(self) -> Sequence[np.ndarray | None]:
        """Mono rgb frames of every env (the current observation if it is rgb already)."""
        if self.venv.obs_kind == "rgb":
            obs = self.venv._obs
            return [obs[i].copy() for i in range(self.num_envs)]
        from ..render.mono import render_mono

        lv = self.venv.levels
        frames = render_mono(lv, mouse=self.venv.mouse, facing_right=self.venv.facing_right)
        return [frames[i] for i in range(self.num_envs)]
