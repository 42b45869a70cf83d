"""The SB3 ``VecEnv`` over procgen's real engine: :class:`ProcgenMazeVecEnv` (build it with
:func:`mazegen.procgen.backend.make_procgen_vec_env`).

The engine draws level seeds exactly as procgen does (``num_levels``, ``start_level``,
``seed`` = ``rand_seed``); at every reset (the first one and each same-step auto-reset) the
level for that seed is built with :func:`mazegen.procgen.generate.generate_levels` under the
``maze_size`` / ``cheese`` / ``mouse`` specs and written into the engine through its
serialized state (``get_state`` -> :func:`~mazegen.procgen.state.state_with_level` ->
``set_state``). ``set_state`` re-renders the engine's frame, so the observation is re-read
from the engine afterwards. With the default specs the engine's own level *is* the generated
one and nothing is written.

Infos follow :mod:`mazegen.adapters.sb3`: on an episode end ``terminal_observation`` (the last
frame, with the mouse drawn where it ended, on the cheese if it got it; procgen itself never
shows that frame, so it is re-rendered with the pixel-exact renderers), ``TimeLimit.truncated``,
``episode`` ``{"r", "l", "t"}``, ``got_cheese``, ``level_seed``, ``maze_size``.

The mouse is tracked alongside the engine with procgen's dynamics (``ACTION_DELTAS``, walls
block, facing flips on any horizontal action); any disagreement with the engine's reward or
episode end raises RuntimeError instead of silently drifting.
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Sequence, Unpack

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from ..adapters.sb3 import BatchedVecEnvMethods
from ..constants import ACTION_DELTAS, CH_CHEESE, CH_MOUSE, CH_WALL, FRAME, MAX_STEPS, NUM_ACTIONS
from ..dynamics import check_actions
from ..env import OBS_KINDS, EpisodeState
from ..level import Level
from ..level_source import levels_for_seeds
from ..levels import Levels
from ..options import LevelKwargs, LevelOptions, check_bool, check_num_envs
from ..placement import Start, Uniform
from .engine import check_env_index, get_state, make_engine, write_level

__all__ = ["ProcgenMazeVecEnv"]


class ProcgenMazeVecEnv(EpisodeState, BatchedVecEnvMethods, VecEnv):
    """SB3 ``VecEnv`` over procgen's engine with mazegen's level specs (see the module docs).

    Build it with :func:`make_procgen_vec_env` (same arguments). ``reset()`` after the first
    one rebuilds the engine, so the level stream starts again from ``seed`` (or from the seed
    given to :meth:`seed`).
    """

    metadata = {"render_modes": ["rgb_array"], "autoreset_mode": "same_step"}
    _owner_name = "ProcgenMazeVecEnv"

    def __init__(
        self,
        num_envs: int,
        *,
        obs: str = "rgb",
        use_backgrounds: bool = True,
        use_monochrome_assets: bool = False,
        **level_options: Unpack[LevelKwargs],
    ) -> None:
        n = check_num_envs(num_envs)
        if obs not in OBS_KINDS:
            raise ValueError(
                f"obs must be one of {OBS_KINDS} (the native env's kinds), got {obs!r}"
            )
        opts = LevelOptions(**level_options)
        self.obs_kind = obs
        self.use_backgrounds = check_bool("use_backgrounds", use_backgrounds)
        self.use_monochrome_assets = check_bool("use_monochrome_assets", use_monochrome_assets)
        self.distribution_mode = opts.distribution_mode
        self.world_size = opts.world_size
        self.maze_size = opts.maze_size
        self.cheese = opts.cheese
        self.mouse_spec = opts.mouse
        self.num_levels = opts.num_levels
        self.start_level = opts.start_level
        self.rand_seed = opts.seed
        #: True when the specs are procgen's own (the engine's levels are used as they are).
        self.native_levels = (
            self.maze_size is None and self.cheese == Uniform() and self.mouse_spec == Start()
        )
        w = self.world_size
        obs_space = (
            gym.spaces.Box(0, 1, (3, w, w), np.uint8)
            if obs == "grid"
            else gym.spaces.Box(0, 255, (FRAME, FRAME, 3), np.uint8)
        )
        self.render_mode = None
        super().__init__(n, obs_space, gym.spaces.Discrete(NUM_ACTIONS))
        n, w = self.num_envs, self.world_size
        self.engine = None
        self._fresh = False
        self._pending_seed: int | None = None
        self._walls = np.zeros((n, w, w), bool)
        self._cheese = np.full((n, 2), -1, np.int64)
        self._start_mouse = np.zeros((n, 2), np.int64)
        self._mouse = np.zeros((n, 2), np.int64)
        self._facing = np.zeros(n, bool)
        self._t = np.zeros(n, np.int64)
        self._ep_ret = np.zeros(n, np.float64)
        self._seed = np.full(n, -1, np.int64)
        self._maze_size = np.zeros(n, np.int64)
        self._background = np.zeros(n, np.int64)
        self._obs = np.zeros((n, *obs_space.shape), np.uint8)
        self._actions: np.ndarray | None = None
        self._renderer = None
        self._t0 = time.time()
        self._start_engine()

    # ------------------------------------------------------------------ engine plumbing
    def _start_engine(self) -> None:
        if self.engine is not None:
            self.engine.close()
        self.engine = make_engine(
            self.num_envs,
            distribution_mode=self.distribution_mode,
            num_levels=self.num_levels,
            start_level=self.start_level,
            rand_seed=self.rand_seed,
            use_backgrounds=self.use_backgrounds,
            use_monochrome_assets=self.use_monochrome_assets,
        )
        self._fresh = True
        self._needs_reset = True

    def _begin(self, ids: np.ndarray, levels: Levels, write: bool) -> None:
        """Start new episodes on ``ids`` with ``levels`` (written into the engine if ``write``)."""
        if write:
            for k, i in enumerate(ids.tolist()):
                write_level(self.engine, i, levels[k])
        self._start_episodes(ids, levels)

    def _new_levels(self, ids: np.ndarray) -> None:
        infos = self.engine.get_info()
        seeds = np.array([infos[i]["level_seed"] for i in ids.tolist()], np.int64)
        levels = levels_for_seeds(
            seeds,
            distribution_mode=self.distribution_mode,
            maze_size=self.maze_size,
            cheese=self.cheese,
            mouse=self.mouse_spec,
        )
        self._begin(ids, levels, write=not self.native_levels)

    def _read_obs(self) -> np.ndarray:
        return np.asarray(self.engine.observe()[1]["rgb"])

    def _read_grid(self, ids: Iterable[int]) -> None:
        """Fill ``self._obs[ids]`` with ``(3, W, W)`` wall / mouse / cheese planes read from the
        engine's own serialized state (its grid and its mouse entity), not from the tracking."""
        from .state import level_from_state, parse_state

        for i in ids:
            lvl = level_from_state(parse_state(get_state(self.engine, int(i))))
            planes = self._obs[i]
            planes[:] = 0
            planes[CH_WALL] = lvl.walls
            planes[CH_MOUSE][lvl.mouse] = 1
            if lvl.cheese is not None:
                planes[CH_CHEESE][lvl.cheese] = 1

    def _observe(self, ids: np.ndarray | None = None) -> None:
        """Re-read the observation of ``ids`` (all envs by default) from the engine."""
        ids = np.arange(self.num_envs) if ids is None else ids
        if self.obs_kind == "grid":
            self._read_grid(ids.tolist())
        else:
            self._obs[ids] = self._read_obs()[ids]

    def _terminal_grids(self, ids: np.ndarray) -> np.ndarray:
        """Last grid observation of the episodes ending on ``ids`` (from the tracked state, as
        the native env shows it: the mouse on the cheese when it got it)."""
        out = np.zeros((self.num_envs, *self._obs.shape[1:]), np.uint8)
        for i in ids.tolist():
            out[i, CH_WALL] = self._walls[i]
            out[i, CH_MOUSE][tuple(self._mouse[i])] = 1
            if self._cheese[i, 0] >= 0:
                out[i, CH_CHEESE][tuple(self._cheese[i])] = 1
        return out

    def _terminal_frames(self, ids: np.ndarray) -> np.ndarray:
        if self.obs_kind == "grid":
            return self._terminal_grids(ids)
        if self._renderer is None:
            if self.use_monochrome_assets:
                from ..render.mono import MonoRenderer as R
            else:
                from ..render.textured import TexturedRenderer as R
            self._renderer = R(self.num_envs, self.world_size, use_backgrounds=self.use_backgrounds)
            self._frames = np.zeros((self.num_envs, FRAME, FRAME, 3), np.uint8)
        self._renderer.set_levels(ids, self.levels[ids])
        self._renderer.render(self._mouse[ids], self._facing[ids], self._frames, env_ids=ids)
        return self._frames

    # ------------------------------------------------------------------ state
    def load_level(self, i: int, level: Level) -> np.ndarray:
        """Write ``level`` into env ``i`` and start a new episode there; return its observation."""
        if self._needs_reset:
            raise RuntimeError("call reset() before load_level()")
        i = check_env_index(self.engine, i)
        if not isinstance(level, Level):
            raise ValueError(f"level must be a mazegen.Level, got {type(level).__name__}")
        if level.world_size != self.world_size:
            raise ValueError(
                f"level world_size {level.world_size} does not match this env's {self.world_size}"
            )
        ids = np.array([i])
        self._begin(ids, Levels.from_list([level]), write=True)
        self._observe(ids)
        return self._obs[i].copy()

    # ------------------------------------------------------------------ VecEnv API
    def reset(self) -> np.ndarray:
        if self._pending_seed is not None:
            self.rand_seed = self._pending_seed
            self._pending_seed = None
            self._start_engine()
        elif not self._fresh:
            self._start_engine()
        self._fresh = False
        self._needs_reset = False
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._new_levels(np.arange(self.num_envs))
        self._observe()
        self._t0 = time.time()
        return self._obs.copy()

    def step_wait(self):
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        n = self.num_envs
        actions, self._actions = self._actions, None
        a = check_actions(actions, n)
        self.engine.act(a.astype(np.int32))
        rew, ob, first = self.engine.observe()
        reward = np.asarray(rew, np.float32).copy()
        if self.obs_kind == "rgb":
            self._obs[:] = np.asarray(ob["rgb"])
        # track the mouse with procgen's dynamics
        d = ACTION_DELTAS[a]
        tgt = self._mouse + d
        w = self.world_size
        inb = ((tgt >= 0) & (tgt < w)).all(axis=1)
        rows = np.clip(tgt[:, 0], 0, w - 1)
        cols = np.clip(tgt[:, 1], 0, w - 1)
        can = inb & ~self._walls[np.arange(n), rows, cols]
        self._mouse[can] = tgt[can]
        self._facing[d[:, 1] > 0] = True
        self._facing[d[:, 1] < 0] = False
        self._t += 1
        self._ep_ret += reward
        got = (self._mouse == self._cheese).all(axis=1)
        truncated = (self._t >= MAX_STEPS) & ~got
        done = got | truncated
        first = np.asarray(first, bool)
        if not np.array_equal(done, first) or not np.array_equal(got, reward > 0):
            bad = int(np.flatnonzero((done != first) | (got != (reward > 0)))[0])
            raise RuntimeError(
                f"engine and tracked dynamics diverged in env {bad}: engine reward {reward[bad]}, "
                f"new episode {bool(first[bad])}; tracked mouse {self._mouse[bad].tolist()}, "
                f"cheese {self._cheese[bad].tolist()}, step {int(self._t[bad])}"
            )
        infos: list[dict[str, Any]] = [{} for _ in range(n)]
        ids = np.flatnonzero(done)
        if ids.size:
            elapsed = round(time.time() - self._t0, 6)
            final = self._terminal_frames(ids)
            for i in ids.tolist():
                infos[i] = {
                    "terminal_observation": final[i].copy(),
                    "TimeLimit.truncated": bool(truncated[i]),
                    "episode": {"r": float(self._ep_ret[i]), "l": int(self._t[i]), "t": elapsed},
                    "got_cheese": bool(got[i]),
                    "level_seed": int(self._seed[i]),
                    "maze_size": int(self._maze_size[i]),
                }
            self._new_levels(ids)
            if not self.native_levels and self.obs_kind == "rgb":
                self._obs[ids] = self._read_obs()[ids]
        if self.obs_kind == "grid":
            self._observe()
        return self._obs.copy(), reward, done, infos

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        raise ValueError(
            f"ProcgenMazeVecEnv attributes are fixed by the engine; cannot set {attr_name!r}"
        )

    def get_images(self) -> Sequence[np.ndarray | None]:
        """The engine's rgb frame of every env (whatever the observation kind)."""
        frames = self._obs if self.obs_kind == "rgb" else self._read_obs()
        return [frames[i].copy() for i in range(self.num_envs)]

    def __repr__(self) -> str:
        return (
            f"ProcgenMazeVecEnv(num_envs={self.num_envs}, distribution_mode={self.distribution_mode!r}, "
            f"maze_size={self.maze_size!r}, cheese={str(self.cheese)!r}, mouse={str(self.mouse_spec)!r}, "
            f"num_levels={self.num_levels}, start_level={self.start_level}, seed={self.rand_seed})"
        )
