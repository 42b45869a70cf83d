"""The real procgen engine (procgen-mirror) behind the same placement API as the native env.

:func:`make_procgen_vec_env` returns an SB3 ``VecEnv`` over ``procgen.ProcgenGym3Env`` playing
``maze``. The engine draws level seeds exactly as procgen does (``num_levels``,
``start_level``, ``seed`` = ``rand_seed``); at every reset (the first one and each same-step
auto-reset) the level for that seed is built with :func:`mazegen.generate.generate_levels`
under the ``maze_size`` / ``cheese`` / ``mouse`` specs and written into the engine through its
serialized state (``get_state`` -> :func:`~mazegen.procgen_state.state_with_level` ->
``set_state``). ``set_state`` re-renders the engine's frame, so the observation is re-read
from the engine afterwards. With the default specs the engine's own level *is* the generated
one and nothing is written.

Infos follow :mod:`mazegen.sb3_vec_env`: on an episode end ``terminal_observation`` (the last
frame, with the mouse drawn where it ended, on the cheese if it got it; procgen itself never
shows that frame, so it is re-rendered with the pixel-exact renderers), ``TimeLimit.truncated``,
``episode`` ``{"r", "l", "t"}``, ``got_cheese``, ``level_seed``, ``maze_size``.

The mouse is tracked alongside the engine with procgen's dynamics (``ACTION_DELTAS``, walls
block, facing flips on any horizontal action); any disagreement with the engine's reward or
episode end raises RuntimeError instead of silently drifting.

:func:`load_level` / :func:`read_level` push any :class:`~mazegen.level.Level` into the engine
and read the current one back; :class:`ProcgenMazeEnv` is a gymnasium ``Env`` over one engine.

:func:`pixel_check` plays procgen's own levels with random actions and compares every frame
with :mod:`mazegen.render_textured` (used by ``scripts/check_pixels.py``).
"""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any, Iterable, Sequence

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from .ids import ACTION_DELTAS, MAX_STEPS, NUM_ACTIONS, WORLD_SIZE
from .level import Level, Levels
from .placement import Start, Uniform, parse_placement

__all__ = [
    "ProcgenMazeVecEnv",
    "ProcgenMazeEnv",
    "make_procgen_vec_env",
    "make_engine",
    "load_level",
    "read_level",
    "engine_states",
    "pixel_check",
]

_INT32_MAX = 2**31 - 1
FRAME = 64


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def make_engine(
    num_envs: int,
    *,
    distribution_mode: str = "hard",
    num_levels: int = 0,
    start_level: int = 0,
    rand_seed: int = 0,
    use_backgrounds: bool = True,
    use_monochrome_assets: bool = False,
):
    """A raw ``procgen.ProcgenGym3Env`` playing ``maze`` (procgen's import chatter silenced)."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        from procgen import ProcgenGym3Env
    return ProcgenGym3Env(
        num=int(num_envs),
        env_name="maze",
        distribution_mode=distribution_mode,
        num_levels=int(num_levels),
        start_level=int(start_level),
        rand_seed=int(rand_seed),
        use_backgrounds=bool(use_backgrounds),
        use_monochrome_assets=bool(use_monochrome_assets),
    )


def _engine_of(env: Any):
    if isinstance(env, ProcgenMazeVecEnv):
        return env.engine
    if isinstance(env, ProcgenMazeEnv):
        return env.venv.engine
    if hasattr(env, "call_c_func") and hasattr(env, "num"):
        return env
    raise ValueError(f"expected a ProcgenMazeVecEnv, ProcgenMazeEnv or procgen.ProcgenGym3Env, got {type(env).__name__}")


def _check_index(engine, i: Any) -> int:
    if not _is_int(i) or not 0 <= int(i) < engine.num:
        raise ValueError(f"env index must be an int in [0, {engine.num - 1}], got {i!r}")
    return int(i)


def _get_state(engine, i: int) -> bytes:
    from procgen.env import MAX_STATE_SIZE

    buf = engine._ffi.new(f"char[{MAX_STATE_SIZE}]")
    n = engine.call_c_func("get_state", i, buf, MAX_STATE_SIZE)
    return bytes(engine._ffi.buffer(buf, n))


def _set_state(engine, i: int, state: bytes) -> None:
    engine.call_c_func("set_state", i, state, len(state))


def engine_states(env: Any, env_ids: Iterable[int] | None = None):
    """Parsed :class:`~mazegen.procgen_state.ProcgenState` of the listed engine envs (all by default)."""
    from .procgen_state import parse_state

    engine = _engine_of(env)
    ids = range(engine.num) if env_ids is None else [_check_index(engine, i) for i in env_ids]
    return [parse_state(_get_state(engine, i)) for i in ids]


def _write_level(engine, i: int, level: Level) -> None:
    from .procgen_state import parse_state, serialize_state, state_with_level

    state = parse_state(_get_state(engine, i))
    _set_state(engine, i, serialize_state(state_with_level(state, level)))


def read_level(env: Any, i: int) -> Level:
    """The level engine env ``i`` is playing, with ``mouse`` where the mouse is now.

    ``env`` is a :class:`ProcgenMazeVecEnv`, :class:`ProcgenMazeEnv` or a raw
    ``ProcgenGym3Env`` playing maze.
    """
    from .procgen_state import level_from_state, parse_state

    engine = _engine_of(env)
    i = _check_index(engine, i)
    return level_from_state(parse_state(_get_state(engine, i)))


def load_level(env: Any, i: int, level: Level) -> np.ndarray:
    """Write ``level`` into engine env ``i`` and return its new observation ``(64, 64, 3)``.

    On a :class:`ProcgenMazeVecEnv` (or :class:`ProcgenMazeEnv`) this starts a new episode
    there (step count 0, facing left); on a raw engine the engine's timers are kept.
    """
    if not isinstance(level, Level):
        raise ValueError(f"level must be a mazegen.Level, got {type(level).__name__}")
    if isinstance(env, ProcgenMazeEnv):
        return env.load_level(level)
    if isinstance(env, ProcgenMazeVecEnv):
        return env.load_level(i, level)
    engine = _engine_of(env)
    i = _check_index(engine, i)
    _write_level(engine, i, level)
    return engine.observe()[1]["rgb"][i].copy()


# ---------------------------------------------------------------------------------------------
# the vec env
# ---------------------------------------------------------------------------------------------
class ProcgenMazeVecEnv(VecEnv):
    """SB3 ``VecEnv`` over procgen's engine with mazegen's level specs (see the module docs).

    Build it with :func:`make_procgen_vec_env`. ``reset()`` after the first one rebuilds the
    engine, so the level stream starts again from ``seed`` (or from the seed given to
    :meth:`seed`).
    """

    metadata = {"render_modes": ["rgb_array"], "autoreset_mode": "same_step"}

    def __init__(
        self,
        num_envs: int,
        *,
        distribution_mode: str = "hard",
        maze_size: int | Sequence[int] | None = None,
        cheese: Any = "uniform",
        mouse: Any = "start",
        num_levels: int = 0,
        start_level: int = 0,
        seed: int = 0,
        use_backgrounds: bool = True,
        use_monochrome_assets: bool = False,
    ) -> None:
        from .make import check_maze_size

        if not _is_int(num_envs) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        if distribution_mode not in WORLD_SIZE:
            raise ValueError(f"distribution_mode must be one of {tuple(WORLD_SIZE)}, got {distribution_mode!r}")
        self.maze_size = check_maze_size(maze_size, distribution_mode)
        self.cheese = parse_placement(cheese, what="cheese")
        self.mouse_spec = parse_placement(mouse, what="mouse")
        if not _is_int(num_levels) or not 0 <= num_levels <= _INT32_MAX:
            raise ValueError(f"num_levels must be an integer in [0, {_INT32_MAX}], got {num_levels!r}")
        if not _is_int(start_level) or not 0 <= start_level <= _INT32_MAX:
            raise ValueError(f"start_level must be an integer in [0, {_INT32_MAX}], got {start_level!r}")
        if not _is_int(seed) or not 0 <= seed <= 2**32 - 1:
            raise ValueError(f"seed must be an integer in [0, {2**32 - 1}], got {seed!r}")
        for name, v in (("use_backgrounds", use_backgrounds), ("use_monochrome_assets", use_monochrome_assets)):
            if not isinstance(v, (bool, np.bool_)):
                raise ValueError(f"{name} must be a bool, got {v!r}")
        self.distribution_mode = distribution_mode
        self.world_size = WORLD_SIZE[distribution_mode]
        self.num_levels = int(num_levels)
        self.start_level = int(start_level)
        self.rand_seed = int(seed)
        self.use_backgrounds = bool(use_backgrounds)
        self.use_monochrome_assets = bool(use_monochrome_assets)
        #: True when the specs are procgen's own (the engine's levels are used as they are).
        self.native_levels = self.maze_size is None and self.cheese == Uniform() and self.mouse_spec == Start()
        obs_space = gym.spaces.Box(0, 255, (FRAME, FRAME, 3), np.uint8)
        self.render_mode = None
        super().__init__(int(num_envs), obs_space, gym.spaces.Discrete(NUM_ACTIONS))
        n, w = self.num_envs, self.world_size
        self.engine = None
        self._fresh = False
        self._pending_seed: int | None = None
        self._walls = np.zeros((n, w, w), bool)
        self._cheese = np.full((n, 2), -1, np.int64)
        self._start = np.zeros((n, 2), np.int64)
        self._mouse = np.zeros((n, 2), np.int64)
        self._facing = np.zeros(n, bool)
        self._t = np.zeros(n, np.int64)
        self._ret = np.zeros(n, np.float64)
        self._seed = np.full(n, -1, np.int64)
        self._maze_size = np.zeros(n, np.int64)
        self._background = np.zeros(n, np.int64)
        self._obs = np.zeros((n, FRAME, FRAME, 3), np.uint8)
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

    def _levels_for(self, seeds: np.ndarray) -> Levels:
        from .generate import generate_levels

        sizes = self.maze_size
        if sizes is not None and not _is_int(sizes):
            from .env import sizes_for_seeds

            sizes = sizes_for_seeds(seeds, sizes)
        return generate_levels(
            seeds, distribution_mode=self.distribution_mode, maze_size=sizes, cheese=self.cheese, mouse=self.mouse_spec
        )

    def _begin(self, ids: np.ndarray, levels: Levels, write: bool) -> None:
        """Start new episodes on ``ids`` with ``levels`` (written into the engine if ``write``)."""
        if write:
            for k, i in enumerate(ids.tolist()):
                _write_level(self.engine, i, levels[k])
        self._walls[ids] = levels.walls
        self._cheese[ids] = levels.cheese
        self._start[ids] = levels.mouse
        self._mouse[ids] = levels.mouse
        self._facing[ids] = False
        self._t[ids] = 0
        self._ret[ids] = 0.0
        self._seed[ids] = levels.seed
        self._maze_size[ids] = levels.maze_size
        self._background[ids] = levels.background

    def _new_levels(self, ids: np.ndarray) -> None:
        infos = self.engine.get_info()
        seeds = np.array([infos[i]["level_seed"] for i in ids.tolist()], np.int64)
        self._begin(ids, self._levels_for(seeds), write=not self.native_levels)

    def _read_obs(self) -> np.ndarray:
        return np.asarray(self.engine.observe()[1]["rgb"])

    def _terminal_frames(self, ids: np.ndarray) -> np.ndarray:
        if self._renderer is None:
            if self.use_monochrome_assets:
                from .render_mono import MonoRenderer as R
            else:
                from .render_textured import TexturedRenderer as R
            self._renderer = R(self.num_envs, self.world_size, use_backgrounds=self.use_backgrounds)
            self._frames = np.zeros((self.num_envs, FRAME, FRAME, 3), np.uint8)
        self._renderer.set_levels(ids, self.levels[ids])
        self._renderer.render(self._mouse[ids], self._facing[ids], self._frames, env_ids=ids)
        return self._frames

    # ------------------------------------------------------------------ state
    @property
    def mouse(self) -> np.ndarray:
        """``(N, 2)`` current mouse cells (a copy)."""
        return self._mouse.copy()

    @property
    def facing_right(self) -> np.ndarray:
        """``(N,)`` whether each mouse sprite is mirrored (faces right)."""
        return self._facing.copy()

    @property
    def t(self) -> np.ndarray:
        """``(N,)`` steps taken in the current episodes."""
        return self._t.copy()

    @property
    def levels(self) -> Levels:
        """The levels being played (``mouse`` = each episode's start cell)."""
        return Levels(
            walls=self._walls.copy(),
            cheese=self._cheese.copy(),
            mouse=self._start.copy(),
            maze_size=self._maze_size.copy(),
            background=self._background.copy(),
            seed=self._seed.copy(),
        )

    def load_level(self, i: int, level: Level) -> np.ndarray:
        """Write ``level`` into env ``i`` and start a new episode there; return its observation."""
        if self._needs_reset:
            raise RuntimeError("call reset() before load_level()")
        i = _check_index(self.engine, i)
        if not isinstance(level, Level):
            raise ValueError(f"level must be a mazegen.Level, got {type(level).__name__}")
        if level.world_size != self.world_size:
            raise ValueError(f"level world_size {level.world_size} does not match this env's {self.world_size}")
        ids = np.array([i])
        self._begin(ids, Levels.from_list([level]), write=True)
        self._obs[i] = self._read_obs()[i]
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
        self._obs[:] = self._read_obs()
        self._t0 = time.time()
        return self._obs.copy()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self):
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        n = self.num_envs
        a = self._actions.reshape(-1)
        self._actions = None
        if a.shape != (n,):
            raise ValueError(f"actions must have shape ({n},), got {a.shape}")
        if not np.issubdtype(a.dtype, np.integer):
            if np.issubdtype(a.dtype, np.floating) and np.all(a == np.round(a)):
                a = a.astype(np.int64)
            else:
                raise ValueError(f"actions must be integers in [0, {NUM_ACTIONS - 1}], got dtype {a.dtype}")
        if n and (a.min() < 0 or a.max() >= NUM_ACTIONS):
            bad = int(a.min()) if a.min() < 0 else int(a.max())
            raise ValueError(f"action {bad} out of range [0, {NUM_ACTIONS - 1}]")
        self.engine.act(a.astype(np.int32))
        rew, ob, first = self.engine.observe()
        reward = np.asarray(rew, np.float32).copy()
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
        self._ret += reward
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
                    "episode": {"r": float(self._ret[i]), "l": int(self._t[i]), "t": elapsed},
                    "got_cheese": bool(got[i]),
                    "level_seed": int(self._seed[i]),
                    "maze_size": int(self._maze_size[i]),
                }
            self._new_levels(ids)
            if not self.native_levels:
                self._obs[ids] = self._read_obs()[ids]
        return self._obs.copy(), reward, done, infos

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def seed(self, seed: int | None = None) -> Sequence[None | int]:
        """Use ``seed`` as procgen's ``rand_seed`` from the next ``reset()`` (rebuilds the engine)."""
        if seed is None:
            return [None] * self.num_envs
        if not _is_int(seed) or not 0 <= seed <= 2**32 - 1:
            raise ValueError(f"seed must be an integer in [0, {2**32 - 1}], got {seed!r}")
        self._pending_seed = int(seed)
        return [int(seed)] * self.num_envs

    def _indices(self, indices) -> list[int]:
        out = [int(i) for i in self._get_indices(indices)]
        for i in out:
            if not 0 <= i < self.num_envs:
                raise ValueError(f"env index {i} out of range [0, {self.num_envs - 1}]")
        return out

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        idx = self._indices(indices)
        if not hasattr(self, attr_name):
            raise AttributeError(f"ProcgenMazeVecEnv has no attribute {attr_name!r}")
        value = getattr(self, attr_name)
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == self.num_envs:
            return [value[i] for i in idx]
        return [value for _ in idx]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        raise ValueError(f"ProcgenMazeVecEnv attributes are fixed by the engine; cannot set {attr_name!r}")

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        idx = self._indices(indices)
        method = getattr(self, method_name, None)
        if method is None or not callable(method):
            raise AttributeError(f"ProcgenMazeVecEnv has no method {method_name!r}")
        result = method(*method_args, **method_kwargs)
        return [result for _ in idx]

    def env_is_wrapped(self, wrapper_class: type, indices=None) -> list[bool]:
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [self._obs[i].copy() for i in range(self.num_envs)]

    def __repr__(self) -> str:
        return (
            f"ProcgenMazeVecEnv(num_envs={self.num_envs}, distribution_mode={self.distribution_mode!r}, "
            f"maze_size={self.maze_size!r}, cheese={str(self.cheese)!r}, mouse={str(self.mouse_spec)!r}, "
            f"num_levels={self.num_levels}, start_level={self.start_level}, seed={self.rand_seed})"
        )


def make_procgen_vec_env(
    num_envs: int,
    *,
    distribution_mode: str = "hard",
    maze_size: int | Sequence[int] | None = None,
    cheese: Any = "uniform",
    mouse: Any = "start",
    num_levels: int = 0,
    start_level: int = 0,
    seed: int = 0,
    use_backgrounds: bool = True,
    use_monochrome_assets: bool = False,
) -> ProcgenMazeVecEnv:
    """An SB3 VecEnv over procgen's real ``maze`` engine with mazegen's level specs.

    Args:
        num_envs: number of parallel engine envs (>= 1).
        distribution_mode: ``"hard"`` (25x25 world) or ``"easy"`` (15x15).
        maze_size: None for procgen's own size draw, an odd int, or a sequence of odd ints
            (chosen per level seed as in :class:`mazegen.env.ProcgenLevelSource`).
        cheese: cheese placement spec (see :mod:`mazegen.placement`), e.g. ``"top-right:5"``.
        mouse: mouse placement spec (default procgen's start cell).
        num_levels: procgen's ``num_levels`` (0: unbounded level set).
        start_level: procgen's ``start_level``.
        seed: procgen's ``rand_seed``.
        use_backgrounds: procgen's ``use_backgrounds``.
        use_monochrome_assets: procgen's ``use_monochrome_assets`` (solid-colour frames).

    Observations are ``uint8 (64, 64, 3)`` frames straight from the engine.

    >>> venv = make_procgen_vec_env(2, maze_size=5, cheese="top-right")
    >>> venv.reset().shape
    (2, 64, 64, 3)
    >>> lvl = read_level(venv, 0)   # what the engine now plays: our generated level
    >>> lvl == venv.levels[0], lvl.maze_size, lvl.cheese == lvl.top_right_cell
    (True, 5, True)
    >>> venv.close()
    """
    return ProcgenMazeVecEnv(
        num_envs,
        distribution_mode=distribution_mode,
        maze_size=maze_size,
        cheese=cheese,
        mouse=mouse,
        num_levels=num_levels,
        start_level=start_level,
        seed=seed,
        use_backgrounds=use_backgrounds,
        use_monochrome_assets=use_monochrome_assets,
    )


# ---------------------------------------------------------------------------------------------
# gymnasium
# ---------------------------------------------------------------------------------------------
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
            info = {"level_seed": i0["level_seed"], "maze_size": i0["maze_size"], "got_cheese": i0["got_cheese"]}
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


# ---------------------------------------------------------------------------------------------
# pixel check against the engine
# ---------------------------------------------------------------------------------------------
def pixel_check(
    seeds: Sequence[int],
    *,
    steps: int = 100,
    envs_per_seed: int = 4,
    distribution_mode: str = "hard",
    use_backgrounds: bool = True,
    rng_seed: int = 0,
    progress: bool = False,
) -> dict:
    """Play procgen's own level for each seed with random actions; compare every frame.

    For each level seed an engine with ``num_levels=1, start_level=seed`` runs
    ``envs_per_seed`` copies of the level, each fed its own uniformly random actions in
    ``[0, 15)`` for ``steps`` steps; the level is read from the engine's state and re-rendered
    with :class:`~mazegen.render_textured.TexturedRenderer` after tracking the mouse with
    procgen's dynamics (an episode that ends restarts the same level). Returns counts: frames
    compared / identical, pixels differing, the worst frame and per-seed failures.
    """
    from .procgen_state import level_from_state, parse_state
    from .render_textured import TexturedRenderer

    if distribution_mode not in WORLD_SIZE:
        raise ValueError(f"distribution_mode must be one of {tuple(WORLD_SIZE)}, got {distribution_mode!r}")
    if not _is_int(steps) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if not _is_int(envs_per_seed) or envs_per_seed < 1:
        raise ValueError(f"envs_per_seed must be an integer >= 1, got {envs_per_seed!r}")
    rng = np.random.default_rng(rng_seed)
    e = int(envs_per_seed)
    w = WORLD_SIZE[distribution_mode]
    renderer = TexturedRenderer(e, w, use_backgrounds=use_backgrounds)
    mine = np.zeros((e, FRAME, FRAME, 3), np.uint8)
    stats = {
        "distribution_mode": distribution_mode,
        "use_backgrounds": bool(use_backgrounds),
        "seeds": 0,
        "steps": int(steps),
        "envs_per_seed": e,
        "frames_compared": 0,
        "frames_identical": 0,
        "pixels_differing": 0,
        "max_pixels_differing_in_a_frame": 0,
        "episodes_ended": 0,
        "dynamics_mismatches": 0,
        "seeds_with_differences": [],
    }
    it: Iterable[int] = seeds
    if progress:
        from tqdm import tqdm

        it = tqdm(list(seeds), desc=f"pixel check {distribution_mode} bg={int(use_backgrounds)}")
    ids = np.arange(e)
    for seed in it:
        seed = int(seed)
        engine = make_engine(e, distribution_mode=distribution_mode, num_levels=1, start_level=seed,
                             use_backgrounds=use_backgrounds)
        level = level_from_state(parse_state(_get_state(engine, 0)))
        lv = Levels.from_list([level] * e)
        renderer.set_levels(ids, lv)
        mouse = lv.mouse.astype(np.int64)
        facing = np.zeros(e, bool)
        t = np.zeros(e, np.int64)
        bad_here = 0
        for k in range(steps + 1):
            if k > 0:
                a = rng.integers(0, NUM_ACTIONS, size=e)
                engine.act(a.astype(np.int32))
                d = ACTION_DELTAS[a]
                tgt = mouse + d
                inb = ((tgt >= 0) & (tgt < w)).all(axis=1)
                can = inb & ~level.walls[np.clip(tgt[:, 0], 0, w - 1), np.clip(tgt[:, 1], 0, w - 1)]
                mouse[can] = tgt[can]
                facing[d[:, 1] > 0] = True
                facing[d[:, 1] < 0] = False
                t += 1
                got = (mouse == np.asarray(lv.cheese[0], np.int64)).all(axis=1) if level.cheese else np.zeros(e, bool)
                end = got | (t >= MAX_STEPS)
                rew, _, first = engine.observe()
                if not np.array_equal(end, np.asarray(first, bool)):
                    stats["dynamics_mismatches"] += int((end != np.asarray(first, bool)).sum())
                stats["episodes_ended"] += int(end.sum())
                mouse[end] = lv.mouse[end]
                facing[end] = False
                t[end] = 0
            obs = np.asarray(engine.observe()[1]["rgb"])
            renderer.render(mouse, facing, mine)
            diff = (mine != obs).any(axis=-1).reshape(e, -1).sum(axis=1)
            stats["frames_compared"] += e
            stats["frames_identical"] += int((diff == 0).sum())
            stats["pixels_differing"] += int(diff.sum())
            stats["max_pixels_differing_in_a_frame"] = max(stats["max_pixels_differing_in_a_frame"], int(diff.max()))
            bad_here += int((diff > 0).sum())
        engine.close()
        stats["seeds"] += 1
        if bad_here:
            stats["seeds_with_differences"].append(seed)
    return stats
