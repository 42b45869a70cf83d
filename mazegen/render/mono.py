"""procgen's monochrome 64x64 frames (``use_monochrome_assets=True``), and the renderer protocol.

Renderer protocol
=================
:class:`~mazegen.env.MazeVecEnv` draws rgb observations through a *renderer*; this module's
:class:`MonoRenderer` and :class:`mazegen.render.textured.TexturedRenderer` implement it:

``Renderer(num_envs: int, world_size: int, *, use_backgrounds: bool = True)``
    One renderer serves a batch of ``num_envs`` envs of one world size.
``set_levels(env_ids, levels: Levels) -> None``
    Compose the static layer (background, walls, cheese) of env ``env_ids[k]`` from
    ``levels[k]``; done once per level.
``render(mouse, facing_right, out, env_ids=None) -> None``
    Draw the frame of each listed env (all envs when ``env_ids`` is None) with its mouse at
    ``mouse[k]`` (``(len(env_ids), 2)`` cells) facing ``facing_right[k]``, into row
    ``env_ids[k]`` of ``out`` (``uint8 (num_envs, 64, 64, 3)``). Only what moved is redrawn
    where possible.

Monochrome frames
=================
With ``use_monochrome_assets=True`` procgen draws walls, cheese and mouse as solid rectangles
(``mazegen.constants.MONO_RGB``), with the same geometry as its textured frames (``docs/procgen-maze.md``
section 8: float32 rectangles, cells enlarged by 0.02 on every side, pixel spans
``qRound(left) .. qRound(right) - 1``). The background is *not* monochrome: with
``use_backgrounds=True`` procgen still stretches the level's textured background image over
the world, so these frames show it between the walls; with ``use_backgrounds=False`` the
corridors are black. The mouse's facing does not show. The rectangle spans and stretched
backgrounds come from :func:`mazegen.render.geometry.frame_geometry`, the one place that
computes procgen's geometry.

>>> from mazegen.level import Level
>>> lvl = Level.from_ascii('''
... #####
... #..C#
... #.###
... #M..#
... #####
... ''')
>>> frame = render_mono(lvl, use_backgrounds=False)[0]
>>> frame.shape, frame[0, 0].tolist(), frame[32, 32].tolist()  # a wall corner, a wall centre
((64, 64, 3), [191, 127, 63], [191, 127, 63])
>>> frame[44, 19].tolist(), frame[19, 44].tolist()  # the mouse at (3, 1), the cheese at (1, 3)
([127, 255, 127], [127, 127, 255])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numba import njit

from ..checks import check_int
from ..constants import FRAME, MONO_RGB, NUM_BACKGROUNDS
from ..level import Level
from ..levels import Levels, as_levels
from .geometry import frame_geometry

__all__ = ["Renderer", "BatchRenderer", "MonoRenderer", "render_mono", "render_once", "FRAME"]

_WALL = np.array(MONO_RGB["wall"], np.uint8)
_CHEESE = np.array(MONO_RGB["cheese"], np.uint8)
_MOUSE = np.array(MONO_RGB["mouse"], np.uint8)


@runtime_checkable
class Renderer(Protocol):
    """What :class:`~mazegen.env.MazeVecEnv` needs from a renderer (see the module docs)."""

    num_envs: int
    world_size: int
    use_backgrounds: bool

    def set_levels(self, env_ids: np.ndarray, levels: Levels) -> None: ...

    def render(
        self,
        mouse: np.ndarray,
        facing_right: np.ndarray,
        out: np.ndarray,
        env_ids: np.ndarray | None = None,
    ) -> None: ...


# ---------------------------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _fill(dst, r0, r1, c0, c1, color):  # pragma: no cover - numba
    for py in range(r0, r1):
        for px in range(c0, c1):
            dst[py, px, 0] = color[0]
            dst[py, px, 1] = color[1]
            dst[py, px, 2] = color[2]


@njit(cache=True)
def _compose(
    static, env_ids, walls, cheese, bg_index, use_bg, backgrounds,
    cr0, cr1, cc0, cc1, wall_rgb, cheese_rgb,
):  # pragma: no cover - numba  # fmt: skip
    w = walls.shape[1]
    for k in range(env_ids.shape[0]):
        dst = static[env_ids[k]]
        if use_bg:
            dst[:, :, :] = backgrounds[bg_index[k]]
        else:
            dst[:, :, :] = 0
        for x in range(w):  # procgen's order: x outer, y inner (y up)
            for y in range(w):
                r = w - 1 - y
                if walls[k, r, x]:
                    _fill(dst, cr0[r], cr1[r], cc0[x], cc1[x], wall_rgb)
                elif r == cheese[k, 0] and x == cheese[k, 1]:
                    _fill(dst, cr0[r], cr1[r], cc0[x], cc1[x], cheese_rgb)


@njit(cache=True)
def _draw(
    static, out, env_ids, mouse, last, full, mr0, mr1, mc0, mc1, mouse_rgb,
):  # pragma: no cover  # fmt: skip
    for k in range(env_ids.shape[0]):
        e = env_ids[k]
        r = mouse[k, 0]
        c = mouse[k, 1]
        if full[e]:
            out[e, :, :, :] = static[e]
            full[e] = False
        else:
            lr = last[e, 0]
            lc = last[e, 1]
            if lr == r and lc == c:
                continue
            for py in range(mr0[lr], mr1[lr]):  # restore the old mouse rectangle
                for px in range(mc0[lc], mc1[lc]):
                    out[e, py, px, 0] = static[e, py, px, 0]
                    out[e, py, px, 1] = static[e, py, px, 1]
                    out[e, py, px, 2] = static[e, py, px, 2]
        _fill(out[e], mr0[r], mr1[r], mc0[c], mc1[c], mouse_rgb)
        last[e, 0] = r
        last[e, 1] = c


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
class BatchRenderer(ABC):
    """What both renderers share: per-env static layers, the argument checks, buffer tracking.

    ``set_levels`` checks its arguments and has the subclass compose the static layers
    (``_compose_layers(ids, levels)`` into ``self._static``); ``render`` checks its arguments
    and has the subclass draw (``_draw_frames(ids, mouse, facing_right, out)``). ``out`` is
    written incrementally: an env's row is fully redrawn (``self._full``) on its first render
    after ``set_levels`` or when ``out`` is a different buffer than last time (detected by its
    address); otherwise only what moved is redrawn, so ``out`` must still hold what this
    renderer drew there.
    """

    def __init__(self, num_envs: int, world_size: int, *, use_backgrounds: bool = True) -> None:
        self.num_envs = n = check_int("num_envs", num_envs, 1)
        self._geo = frame_geometry(world_size)  # validates world_size
        self.world_size = int(world_size)
        self.use_backgrounds = bool(use_backgrounds)
        self._static = np.zeros((n, FRAME, FRAME, 3), np.uint8)
        self._loaded = np.zeros(n, np.bool_)
        self._full = np.ones(n, np.bool_)
        self._all = np.arange(n, dtype=np.int64)
        self._out_key: tuple | None = None

    def _ids(self, env_ids: Any) -> np.ndarray:
        if env_ids is None:
            return self._all
        ids = np.asarray(env_ids)
        if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise ValueError(
                f"env_ids must be a 1-D integer array, got {ids.dtype} shape {ids.shape}"
            )
        ids = ids.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_envs):
            bad = int(ids[(ids < 0) | (ids >= self.num_envs)][0])
            raise ValueError(f"env id {bad} out of range [0, {self.num_envs - 1}]")
        return ids

    def set_levels(self, env_ids: Any, levels: Levels) -> None:
        """Compose the static layer of env ``env_ids[k]`` from ``levels[k]``."""
        ids = self._ids(env_ids)
        if not isinstance(levels, Levels):
            raise ValueError(f"levels must be a mazegen.Levels, got {type(levels).__name__}")
        if len(levels) != len(ids):
            raise ValueError(f"got {len(levels)} levels for {len(ids)} envs")
        if levels.world_size != self.world_size:
            raise ValueError(
                f"levels have world_size {levels.world_size}, this renderer needs {self.world_size}"
            )
        if len(ids) and (levels.background.min() < 0 or levels.background.max() >= NUM_BACKGROUNDS):
            raise ValueError(
                f"background indices must be in [0, {NUM_BACKGROUNDS - 1}], got {levels.background.tolist()}"
            )
        self._compose_layers(ids, levels)
        self._loaded[ids] = True
        self._full[ids] = True

    def render(self, mouse: Any, facing_right: Any, out: np.ndarray, env_ids: Any = None) -> None:
        """Draw each listed env's frame, mouse at ``mouse[k]``, into ``out[env_ids[k]]``."""
        ids = self._ids(env_ids)
        m = np.asarray(mouse)
        f = np.asarray(facing_right, dtype=bool).reshape(-1)
        if m.shape != (len(ids), 2):
            raise ValueError(f"mouse must have shape ({len(ids)}, 2), got {m.shape}")
        if f.shape != (len(ids),):
            raise ValueError(
                f"facing_right must have shape ({len(ids)},), got {np.shape(facing_right)}"
            )
        if (
            not isinstance(out, np.ndarray)
            or out.shape != (self.num_envs, FRAME, FRAME, 3)
            or out.dtype != np.uint8
        ):
            raise ValueError(
                f"out must be uint8 of shape ({self.num_envs}, {FRAME}, {FRAME}, 3), got "
                f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}"
            )
        m = m.astype(np.int64, copy=False)
        w = self.world_size
        if len(ids) and (m.min() < 0 or m.max() >= w):
            raise ValueError(f"mouse cells must lie in [0, {w - 1}], got {m.tolist()}")
        if len(ids) and not self._loaded[ids].all():
            raise ValueError(
                f"env {int(ids[~self._loaded[ids]][0])} has no level: call set_levels first"
            )
        key = (out.__array_interface__["data"][0], out.strides)
        if key != self._out_key:  # a different buffer: it holds none of our frames yet
            self._full[:] = True
            self._out_key = key
        self._draw_frames(ids, m, f, out)

    def static_frames(self) -> np.ndarray:
        """A copy of the static layers (frames without the mouse), ``(num_envs, 64, 64, 3)``."""
        return self._static.copy()

    @abstractmethod
    def _compose_layers(self, ids: np.ndarray, levels: Levels) -> None:
        """Compose the static layers of envs ``ids`` (their ``levels``) into ``self._static``."""

    @abstractmethod
    def _draw_frames(
        self, ids: np.ndarray, mouse: np.ndarray, facing_right: np.ndarray, out: np.ndarray
    ) -> None:
        """Draw envs ``ids`` into ``out`` (whole rows where ``self._full``, else what moved)."""


class MonoRenderer(BatchRenderer):
    """procgen's monochrome frames for a batch of envs (implements :class:`Renderer`).

    Keeps one static layer per env (background, walls, cheese); see :class:`BatchRenderer`
    for how ``render`` writes into ``out``.
    """

    def __init__(self, num_envs: int, world_size: int, *, use_backgrounds: bool = True) -> None:
        super().__init__(num_envs, world_size, use_backgrounds=use_backgrounds)
        g = self._geo
        self._cr0, self._cr1 = g.wall_rows.p0, g.wall_rows.p1
        self._cc0, self._cc1 = g.wall_cols.p0, g.wall_cols.p1
        self._mr0, self._mr1 = g.mouse_rows.p0, g.mouse_rows.p1
        self._mc0, self._mc1 = g.mouse_cols.p0, g.mouse_cols.p1
        self._last = np.zeros((self.num_envs, 2), np.int64)

    def _compose_layers(self, ids: np.ndarray, levels: Levels) -> None:
        _compose(
            self._static, ids, np.ascontiguousarray(levels.walls), levels.cheese.astype(np.int64),
            levels.background.astype(np.int64), self.use_backgrounds, self._geo.backgrounds,
            self._cr0, self._cr1, self._cc0, self._cc1, _WALL, _CHEESE,
        )  # fmt: skip

    def _draw_frames(
        self, ids: np.ndarray, mouse: np.ndarray, facing_right: np.ndarray, out: np.ndarray
    ) -> None:
        _draw(
            self._static, out, ids, mouse, self._last, self._full,
            self._mr0, self._mr1, self._mc0, self._mc1, _MOUSE,
        )  # fmt: skip


def render_mono(
    level_or_levels: Level | Levels | Sequence[Level],
    mouse: Any = None,
    facing_right: Any = None,
    *,
    use_backgrounds: bool = True,
) -> np.ndarray:
    """procgen's monochrome frame of each level: ``(N, 64, 64, 3)`` uint8 (one-shot).

    ``mouse`` (``(N, 2)`` cells) defaults to each level's start cell; ``facing_right`` is
    accepted for symmetry with the textured renderer and does not change a mono frame.
    """
    return render_once(
        MonoRenderer, level_or_levels, mouse, facing_right, use_backgrounds=use_backgrounds
    )


def render_once(
    renderer: type[Renderer],
    level_or_levels: Level | Levels | Sequence[Level],
    mouse: Any = None,
    facing_right: Any = None,
    *,
    use_backgrounds: bool = True,
) -> np.ndarray:
    """Each level's frame drawn by a fresh ``renderer`` (a :class:`Renderer` class): ``(N, 64, 64, 3)``.

    ``mouse`` (``(N, 2)`` cells) defaults to each level's start cell, ``facing_right``
    (``(N,)``) to False (procgen's facing at the start of an episode).
    """
    lv = as_levels(level_or_levels)
    n = len(lv)
    m = lv.mouse if mouse is None else np.asarray(mouse)
    if m.size == 2 * n:
        m = m.reshape(n, 2)
    f = np.zeros(n, bool) if facing_right is None else np.asarray(facing_right, dtype=bool)
    ids = np.arange(n)
    r = renderer(n, lv.world_size, use_backgrounds=use_backgrounds)
    r.set_levels(ids, lv)
    out = np.zeros((n, FRAME, FRAME, 3), np.uint8)
    r.render(m, f, out, env_ids=ids)
    return out
