"""gymnasium adapter: :class:`MazeEnv`, one maze, registered as ``mazegen/Maze-v0``.

The dynamics, observations and rewards are those of :class:`~mazegen.env.MazeVecEnv` (see its
env card) with one env and gymnasium's conventions: ``step`` returns the finished episode's last
frame with ``terminated``/``truncated``, and the caller calls ``reset()``. The levels follow
procgen's ``(num_levels, start_level, rand_seed)`` stream; ``reset(seed=s)`` restarts that stream
with ``rand_seed=s``, and a plain ``reset()`` moves on to the next level of the stream (procgen
plays the next level after every episode). ``levels=`` instead replays one fixed level.

>>> import gymnasium
>>> from mazegen.level import Level
>>> lvl = Level.from_ascii("#####\\n#..C#\\n#.###\\n#M..#\\n#####")
>>> env = gymnasium.make("mazegen/Maze-v0", level=lvl)
>>> obs, info = env.reset(seed=0)
>>> obs.shape
(3, 5, 5)
>>> for a in (5, 5, 7, 7):
...     obs, reward, terminated, truncated, info = env.step(a)
>>> reward, terminated, bool(obs[1, 1, 3])  # the last frame shows the mouse on the cheese
(10.0, True, True)
"""

from __future__ import annotations

from typing import Any, Unpack

import gymnasium as gym
import numpy as np

from ..constants import NUM_ACTIONS
from ..env import MazeVecEnv
from ..level import Level
from ..level_source import FixedLevelSource
from ..levels import Levels
from ..options import EnvKwargs, EnvOptions, check_seed

__all__ = ["MazeEnv"]


class MazeEnv(gym.Env):
    """One procgen maze as a ``gymnasium.Env`` (arguments as :func:`mazegen.make_vec_env`).

    Args:
        level: play this one :class:`~mazegen.level.Level` every episode instead.
        render_mode: None or ``"rgb_array"`` (``render()`` returns a 64x64 frame).
        options: the fields of :class:`~mazegen.options.EnvOptions`, as for
            :func:`mazegen.adapters.make.make_vec_env` (``seed`` is procgen's ``rand_seed`` until
            ``reset(seed=...)`` changes it).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 15}

    def __init__(
        self,
        *,
        level: Level | None = None,
        render_mode: str | None = None,
        **options: Unpack[EnvKwargs],
    ) -> None:
        from .sb3 import observation_space_for

        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        opts = EnvOptions(**options)
        if level is None:
            self._env = opts.vec_env(1)
        elif not isinstance(level, Level):
            raise ValueError(f"level must be a mazegen.Level, got {type(level).__name__}")
        else:
            self._env = opts.vec_env(1, FixedLevelSource(Levels.from_list([level])))
        self.observation_space = observation_space_for(self._env)
        self.action_space = gym.spaces.Discrete(NUM_ACTIONS)
        self._fresh = False  # True when the inner env already holds the next episode's start
        self._started = False

    @property
    def env(self) -> MazeVecEnv:
        """The underlying one-env :class:`~mazegen.env.MazeVecEnv`."""
        return self._env

    def _info(self) -> dict[str, Any]:
        lv = self._env.levels
        return {"level_seed": int(lv.seed[0]), "maze_size": int(lv.maze_size[0])}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._env.reseed(check_seed(seed))
            obs = self._env.reset()
        elif self._fresh:
            obs = self._env._obs.copy()  # the level procgen would play next is already loaded
        else:
            obs = self._env.reset()
        self._fresh = False
        self._started = True
        return obs[0], self._info()

    def step(self, action: Any):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        a = np.asarray(action).reshape(-1)
        if a.size != 1:
            raise ValueError(
                f"action must be one integer in [0, {NUM_ACTIONS - 1}], got {action!r}"
            )
        obs, reward, terminated, truncated, info = self._env.step(a)
        done = bool(terminated[0] or truncated[0])
        out = {
            "got_cheese": bool(info["got_cheese"][0]),
            "level_seed": int(info["level_seed"][0]),
            "maze_size": int(info["maze_size"][0]),
        }
        if done:
            self._fresh = True
            self._started = False
            frame = info["final_obs"][0].copy()
            out["episode"] = {
                "r": float(info["episode_return"][0]),
                "l": int(info["episode_length"][0]),
            }
        else:
            frame = obs[0]
        return frame, float(reward[0]), bool(terminated[0]), bool(truncated[0]), out

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            return None
        if self._env.obs_kind == "rgb":
            return self._env._obs[0].copy()
        from ..render.mono import render_mono

        return render_mono(
            self._env.levels,
            mouse=self._env.mouse,
            facing_right=self._env.facing_right,
            use_backgrounds=self._env.use_backgrounds,
        )[0]
