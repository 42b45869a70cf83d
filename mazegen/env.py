"""The batched maze env: procgen's dynamics on numpy arrays.

Env card
========

**World.** A ``W x W`` grid of cells (``W = 25`` in hard mode, 15 in easy mode) holding walls,
one mouse and at most one cheese. Coordinates are ``(row, col)``, row 0 at the *top* of the
rendered image (procgen's y points up; ``row = W - 1 - y``).

**Actions.** ``Discrete(15)``, procgen's action set (``mazegen.constants.ACTION_DELTAS``):

========  =========  =========================================================
action    effect     ``(d_row, d_col)``
========  =========  =========================================================
0, 1, 2   left       ``(0, -1)``; canonical id ``ACTION_LEFT = 1``
3         down       ``(+1, 0)``; ``ACTION_DOWN = 3``
4         no-op      ``(0, 0)``
5         up         ``(-1, 0)``; ``ACTION_UP = 5``
6, 7, 8   right      ``(0, +1)``; canonical id ``ACTION_RIGHT = 7``
9..14     no-op      procgen's special keys; they change nothing in maze
========  =========  =========================================================

A move into a wall or off the grid leaves the mouse where it is. Facing (only the textured
renderer shows it): any action with ``d_col > 0`` sets ``facing_right``, ``d_col < 0`` clears
it, even when the move is blocked; every episode starts with ``facing_right = False``.

**Observations.** ``obs="grid"``: ``uint8 (N, 3, W, W)`` in {0, 1}, channels
``GRID_CHANNELS = (wall, mouse, cheese)``. ``obs="rgb"``: ``uint8 (N, 64, 64, 3)``, procgen's
frame. ``rgb_style="textured"`` (the default) is the real engine's frame pixel for pixel, with
its textures and (``use_backgrounds=True``, the default) background images
(:mod:`mazegen.render.textured`); ``rgb_style="mono"`` is procgen's
``use_monochrome_assets=True`` frame pixel for pixel (:mod:`mazegen.render.mono`).

**Rewards.** ``+10`` (float32) on the step that moves the mouse onto the cheese; 0 otherwise.
No step penalty.

**Termination.** ``terminated`` on reaching the cheese. ``truncated`` when the episode's step
count reaches ``max_steps`` (500, procgen's timeout) without the cheese: the 500th step ends the
episode with reward 0. Reaching the cheese on the last step counts as ``terminated``.

**Auto-reset (same step, like procgen).** When an env's episode ends, the env immediately loads
its next level from the level source; the returned observation row is already the new level's
first frame. The finished episode's last frame is ``info["final_obs"]`` (rows valid where
``terminated | truncated``; the mouse is drawn on the cheese cell when it got the cheese).
``info["final_obs"]`` is one buffer reused by every step (it avoids a large allocation per
step): copy the rows you keep. The returned observations are a fresh array every step.

**Info** (a dict of ``(N,)`` arrays, rows valid where done unless stated):
``final_obs``, ``got_cheese`` (bool), ``episode_return`` (float32), ``episode_length`` (int32),
``level_seed`` (int64, -1 if unknown), ``maze_size`` (int16) of the finished level.

**Level sources.** Which level comes next is up to the env's level source
(:mod:`mazegen.level_source`): :class:`~mazegen.level_source.ProcgenLevelSource` follows
procgen's ``num_levels`` / ``start_level`` / ``rand_seed`` protocol (``num_levels=1,
start_level=s`` plays exactly ``procgen_level(s)``, over and over);
:class:`~mazegen.level_source.FixedLevelSource` replays a fixed level per env.

>>> from mazegen import Level, Levels
>>> from mazegen.level_source import FixedLevelSource
>>> lvl = Level.from_ascii('''
... #####
... #..C#
... #.###
... #M..#
... #####
... ''')
>>> env = MazeVecEnv(FixedLevelSource(Levels.from_list([lvl])), 1)
>>> env.reset().shape
(1, 3, 5, 5)
>>> for a in (5, 5, 7, 7):  # up, up, right, right
...     obs, rew, term, trunc, info = env.step(np.array([a]))
>>> float(rew[0]), bool(term[0]), int(info["episode_length"][0]), env.mouse.tolist()
(10.0, True, 4, [[3, 1]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import check_int
from .constants import ACTION_DELTAS, FRAME, MAX_STEPS, RGB_STYLES
from .dynamics import _grid_fill, _step_kernel, check_actions
from .level_source import LevelSource, ProcgenLevelSource, check_env_ids
from .levels import Levels

__all__ = [
    "MazeVecEnv",
    "EpisodeState",
    "OBS_KINDS",
    "RGB_STYLES",
]

#: Observation kinds of :class:`MazeVecEnv`.
OBS_KINDS = ("grid", "rgb")


def _make_renderer(style: str, num_envs: int, world_size: int, use_backgrounds: bool):
    if style == "mono":
        from .render.mono import MonoRenderer

        return MonoRenderer(num_envs, world_size, use_backgrounds=use_backgrounds)
    try:
        from .render.textured import TexturedRenderer
    except ImportError as e:  # pragma: no cover - depends on the other module being there
        raise ValueError(
            "rgb_style='textured' needs mazegen.render.textured.TexturedRenderer, which is not "
            f"available ({e}); use rgb_style='mono' or obs='grid'"
        ) from e
    return TexturedRenderer(num_envs, world_size, use_backgrounds=use_backgrounds)


# ---------------------------------------------------------------------------------------------
# the env
# ---------------------------------------------------------------------------------------------
class EpisodeState:
    """The per-env level and episode state a maze env tracks, and read-only copies of it.

    Mixed into :class:`MazeVecEnv` and :class:`mazegen.procgen.vec_env.ProcgenMazeVecEnv`,
    which allocate the ``(N, ...)`` arrays ``_walls``, ``_cheese``, ``_start_mouse``,
    ``_mouse``, ``_maze_size``, ``_background``, ``_seed``, ``_t``, ``_facing`` and ``_ep_ret``
    (each with its own dtypes).
    """

    def _start_episodes(self, ids: np.ndarray, levels: Levels) -> None:
        """Env ``ids[k]`` starts an episode on ``levels[k]`` (step 0, facing left, return 0)."""
        self._walls[ids] = levels.walls
        self._cheese[ids] = levels.cheese
        self._start_mouse[ids] = levels.mouse
        self._mouse[ids] = levels.mouse
        self._maze_size[ids] = levels.maze_size
        self._background[ids] = levels.background
        self._seed[ids] = levels.seed
        self._t[ids] = 0
        self._facing[ids] = False
        self._ep_ret[ids] = 0.0

    @property
    def mouse(self) -> np.ndarray:
        """``(N, 2)`` current mouse cells ``(row, col)`` (a copy)."""
        return self._mouse.copy()

    @property
    def t(self) -> np.ndarray:
        """``(N,)`` steps taken in the current episode (a copy)."""
        return self._t.copy()

    @property
    def facing_right(self) -> np.ndarray:
        """``(N,)`` whether the mouse sprite is mirrored to face right (a copy)."""
        return self._facing.copy()

    def grid_obs(self) -> np.ndarray:
        """``uint8 (N, 3, W, W)``: the wall/mouse/cheese planes of every env's current state,
        whatever this env's ``obs`` kind (what an ``obs="grid"`` env shows now). A teacher that
        sees the grid can label the states of an rgb env with it (``agents.train.distill``)."""
        n, w = self._walls.shape[0], self._walls.shape[1]
        out = np.empty((n, 3, w, w), dtype=np.uint8)
        _grid_fill(out, np.arange(n), self._walls, self._mouse, self._cheese)
        return out

    @property
    def levels(self) -> Levels:
        """The level each env is playing (a copy; ``mouse`` is the level's start cell)."""
        return Levels(
            walls=self._walls.copy(),
            cheese=self._cheese.copy(),
            mouse=self._start_mouse.copy(),
            maze_size=self._maze_size.copy(),
            background=self._background.copy(),
            seed=self._seed.copy(),
        )


class MazeVecEnv(EpisodeState):
    """``num_envs`` mazes stepped together with procgen's dynamics (see the module's env card).

    Args:
        level_source: a :class:`~mazegen.level_source.LevelSource` (e.g.
            :class:`~mazegen.level_source.ProcgenLevelSource`).
        num_envs: number of envs.
        obs: ``"grid"`` (``uint8 (N, 3, W, W)``) or ``"rgb"`` (``uint8 (N, 64, 64, 3)``).
        max_steps: episode timeout (procgen: 500).
        rgb_style: ``"textured"`` (procgen's own frame, the default) or ``"mono"`` (procgen's
            monochrome-assets frame); only for ``obs="rgb"``.
        use_backgrounds: draw procgen's background image (only for ``obs="rgb"``).
    """

    #: Adapters render frames as arrays (see ``MazeSB3VecEnv.get_images``).
    render_mode = "rgb_array"

    def __init__(
        self,
        level_source: LevelSource,
        num_envs: int,
        *,
        obs: str = "grid",
        max_steps: int = MAX_STEPS,
        rgb_style: str = "textured",
        use_backgrounds: bool = True,
    ) -> None:
        num_envs = check_int("num_envs", num_envs, 1)
        if obs not in OBS_KINDS:
            raise ValueError(f"obs must be one of {OBS_KINDS}, got {obs!r}")
        max_steps = check_int("max_steps", max_steps, 1)
        if rgb_style not in RGB_STYLES:
            raise ValueError(f"rgb_style must be one of {RGB_STYLES}, got {rgb_style!r}")
        if not hasattr(level_source, "next_levels") or not hasattr(level_source, "world_size"):
            raise ValueError(
                f"level_source must implement LevelSource, got {type(level_source).__name__}"
            )
        src_n = getattr(level_source, "num_envs", None)
        if src_n is not None and int(src_n) != int(num_envs):
            raise ValueError(f"level_source serves {src_n} envs but num_envs={num_envs}")
        self.level_source = level_source
        self.num_envs = n = int(num_envs)
        self.world_size = w = int(level_source.world_size)
        self.obs_kind = obs
        self.max_steps = int(max_steps)
        self.rgb_style = rgb_style
        self.use_backgrounds = bool(use_backgrounds)
        self.obs_shape = (3, w, w) if obs == "grid" else (FRAME, FRAME, 3)

        self._walls = np.ones((n, w, w), dtype=np.bool_)
        self._mouse = np.zeros((n, 2), dtype=np.int64)
        self._cheese = np.full((n, 2), -1, dtype=np.int64)
        self._maze_size = np.zeros(n, dtype=np.int16)
        self._background = np.zeros(n, dtype=np.int8)
        self._seed = np.full(n, -1, dtype=np.int64)
        self._start_mouse = np.zeros((n, 2), dtype=np.int16)
        self._t = np.zeros(n, dtype=np.int32)
        self._facing = np.zeros(n, dtype=np.bool_)
        self._ep_ret = np.zeros(n, dtype=np.float32)
        self._obs = np.zeros((n, *self.obs_shape), dtype=np.uint8)
        self._final_obs = np.zeros((n, *self.obs_shape), dtype=np.uint8)
        self._moved_from = np.zeros((n, 2), dtype=np.int64)
        self._deltas = np.ascontiguousarray(ACTION_DELTAS, dtype=np.int64)
        self._renderer = (
            _make_renderer(rgb_style, n, w, self.use_backgrounds) if obs == "rgb" else None
        )
        self._needs_reset = True

    # ------------------------------------------------------------------ level loading
    def _load(self, ids: np.ndarray, lv: Levels) -> None:
        if not isinstance(lv, Levels):
            raise ValueError(f"levels must be a mazegen.Levels, got {type(lv).__name__}")
        if len(lv) != len(ids):
            raise ValueError(f"got {len(lv)} levels for {len(ids)} envs")
        if lv.world_size != self.world_size:
            raise ValueError(
                f"levels have world_size {lv.world_size}, this env needs {self.world_size}"
            )
        w = self.world_size
        m = lv.mouse.astype(np.int64)
        if len(ids) and (m.min() < 0 or m.max() >= w):
            raise ValueError(f"mouse cells must lie in [0, {w - 1}], got {m.tolist()}")
        if len(ids) and lv.walls[np.arange(len(ids)), m[:, 0], m[:, 1]].any():
            raise ValueError("a level's mouse starts on a wall")
        self._start_episodes(ids, lv)
        if self._renderer is None:
            _grid_fill(self._obs, ids, self._walls, self._mouse, self._cheese)
        else:
            self._renderer.set_levels(ids, lv)
            self._renderer.render(self._mouse[ids], self._facing[ids], self._obs, env_ids=ids)

    def reset(self) -> np.ndarray:
        """Load the next level into every env; return the first observations (a copy)."""
        ids = np.arange(self.num_envs)
        self._load(ids, self.level_source.next_levels(ids))
        self._needs_reset = False
        return self._obs.copy()

    def reseed(self, rand_seed: int) -> None:
        """Restart procgen's level stream with ``rand_seed`` from the next :meth:`reset`.

        Only a :class:`~mazegen.level_source.ProcgenLevelSource` has a stream to restart; other
        level sources are deterministic and stay as they are.
        """
        src = self.level_source
        if isinstance(src, ProcgenLevelSource):
            self.level_source = src.reseeded(int(rand_seed))

    def set_levels(self, env_ids: Any, levels: Levels) -> np.ndarray:
        """Force-load ``levels[k]`` into env ``env_ids[k]`` and start a new episode there.

        Returns the observations of all envs (a copy). The level source is not consulted.
        """
        if self._needs_reset:
            raise RuntimeError("call reset() before set_levels()")
        ids = check_env_ids(env_ids, self.num_envs)
        self._load(ids, levels)
        return self._obs.copy()

    # ------------------------------------------------------------------ stepping
    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Advance every env by one action; see the env card for the returned tuple."""
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        n = self.num_envs
        a = check_actions(actions, n)

        reward = np.empty(n, dtype=np.float32)
        terminated = np.empty(n, dtype=np.bool_)
        truncated = np.empty(n, dtype=np.bool_)
        grid = self._renderer is None
        _step_kernel(
            a, self._deltas, self._walls, self._mouse, self._cheese, self._t, self._facing,
            self._ep_ret, self.max_steps, self._obs, grid, self._moved_from,
            reward, terminated, truncated,
        )  # fmt: skip
        if not grid:
            self._renderer.render(self._mouse, self._facing, self._obs)
        done = terminated | truncated
        info: dict[str, np.ndarray] = {
            "got_cheese": terminated.copy(),
            "episode_return": self._ep_ret.copy(),
            "episode_length": self._t.copy(),
            "level_seed": self._seed.copy(),
            "maze_size": self._maze_size.copy(),
        }
        # one persistent buffer: a fresh (N, ...) array per step would cost page faults
        final_obs = self._final_obs
        ids = np.flatnonzero(done)
        if ids.size:
            final_obs[ids] = self._obs[ids]
            self._load(ids, self.level_source.next_levels(ids))
        info["final_obs"] = final_obs
        return self._obs.copy(), reward, terminated, truncated, info

    def close(self) -> None:
        """Nothing to release; kept for adapter symmetry."""

    def __repr__(self) -> str:
        return (
            f"MazeVecEnv(num_envs={self.num_envs}, obs={self.obs_kind!r}, world_size={self.world_size}, "
            f"max_steps={self.max_steps}, source={self.level_source!r})"
        )
