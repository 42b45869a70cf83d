"""Pixel-exact re-rendering of procgen's textured 64x64 maze frames.

procgen draws with Qt 5 (``src/basic-abstract-game.cpp``, ``docs/procgen-maze.md`` section 8): fill black,
stretch the level's background over the world (unless ``use_backgrounds=False``), draw the wall
and cheese cells (x outer, y inner; each cell rectangle is enlarged by ``RENDER_EPS = 0.02``
on every side so neighbours overlap), then the mouse sprite, mirrored when it faces right.
Every rectangle is computed in float32 exactly as procgen's C++ does, rasterised over the pixel
span ``qRound(left) .. qRound(right) - 1`` and sampled with Qt's nearest-neighbour 16.16 fixed
point stepping; sprites are premultiplied ARGB composited source-over with Qt's byte rounding.
The result equals procgen's observation bit for bit in hard mode; in easy mode (4.27 px cells)
see ``scripts/check_pixels.py`` for the measured agreement.

:class:`TexturedRenderer` keeps per env a static layer (everything but the mouse), composed once
per level, and per step only restores the mouse's previous rectangle and draws the mouse anew.

>>> from mazegen.level import Level
>>> lvl = Level.from_ascii('''
... #####
... #..C#
... #.###
... #M..#
... #####
... ''')
>>> frame = render_rgb(lvl)
>>> frame.shape, frame.dtype
((1, 64, 64, 3), dtype('uint8'))
>>> bool((render_rgb(lvl, facing_right=[True]) != frame).any())  # the mirrored mouse differs
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from numba import njit

from ..level import Level
from ..levels import Levels
from .assets import maze_textures
from .geometry import FRAME, frame_geometry
from .mono import BatchRenderer, render_once

__all__ = ["TexturedRenderer", "render_rgb", "FRAME", "frame_geometry"]

# ---------------------------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _blit(dst, tex, r0, r1, rtex, c0, c1, ctex, mirror):  # pragma: no cover - numba
    """Premultiplied source-over of ``tex`` (H, W, 4) sampled at rtex x ctex onto dst (64,64,3)."""
    tw = tex.shape[1]
    for i in range(r1 - r0):
        ty = rtex[i]
        for j in range(c1 - c0):
            tx = ctex[j]
            if mirror:
                tx = tw - 1 - tx
            a = np.int64(tex[ty, tx, 3])
            py = r0 + i
            px = c0 + j
            if a == 255:
                for ch in range(3):
                    dst[py, px, ch] = tex[ty, tx, ch]
            elif a == 0:
                # src is 0 after premultiplication: dst*255/255 rounds back to dst
                for ch in range(3):
                    t = np.int64(dst[py, px, ch]) * 255
                    dst[py, px, ch] = np.uint8(
                        np.int64(tex[ty, tx, ch]) + ((t + (t >> 8) + 0x80) >> 8)
                    )
            else:
                ia = 255 - a
                for ch in range(3):
                    t = np.int64(dst[py, px, ch]) * ia
                    v = np.int64(tex[ty, tx, ch]) + ((t + (t >> 8) + 0x80) >> 8)
                    dst[py, px, ch] = np.uint8(v)


@njit(cache=True)
def _compose_static(
    static, env_ids, walls, cheese, bg_index, use_bg, backgrounds,
    wall_tex, wr0, wr1, wrt, wc0, wc1, wct,
    cheese_tex, cr0, cr1, crt, cc0, cc1, cct,
):  # pragma: no cover - numba  # fmt: skip
    w = walls.shape[1]
    for k in range(env_ids.shape[0]):
        e = env_ids[k]
        dst = static[e]
        if use_bg:
            dst[:, :, :] = backgrounds[bg_index[k]]
        else:
            dst[:, :, :] = 0
        ch_r = cheese[k, 0]
        ch_c = cheese[k, 1]
        for x in range(w):  # procgen: x outer ...
            for y in range(w):  # ... y inner, y up
                r = w - 1 - y
                if walls[k, r, x]:
                    _blit(dst, wall_tex, wr0[r], wr1[r], wrt[r], wc0[x], wc1[x], wct[x], False)
                elif r == ch_r and x == ch_c:
                    _blit(dst, cheese_tex, cr0[r], cr1[r], crt[r], cc0[x], cc1[x], cct[x], False)


@njit(cache=True)
def _draw_mice(
    static, out, rects, full, last, env_ids, mouse, facing, mouse_tex,
    mr0, mr1, mrt, mc0, mc1, mct,
):  # pragma: no cover - numba  # fmt: skip
    for k in range(env_ids.shape[0]):
        e = env_ids[k]
        r = mouse[k, 0]
        c = mouse[k, 1]
        fr = out[e]
        if full[e]:
            fr[:, :, :] = static[e]
            full[e] = False
        else:
            if last[e, 0] == r and last[e, 1] == c and last[e, 2] == facing[k]:
                continue  # nothing moved: out[e] already holds this frame
            # restore the old mouse rectangle from the static layer
            for py in range(rects[e, 0], rects[e, 1]):
                for px in range(rects[e, 2], rects[e, 3]):
                    for ch in range(3):
                        fr[py, px, ch] = static[e, py, px, ch]
        _blit(fr, mouse_tex, mr0[r], mr1[r], mrt[r], mc0[c], mc1[c], mct[c], facing[k])
        rects[e, 0] = mr0[r]
        rects[e, 1] = mr1[r]
        rects[e, 2] = mc0[c]
        rects[e, 3] = mc1[c]
        last[e, 0] = r
        last[e, 1] = c
        last[e, 2] = facing[k]


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
class TexturedRenderer(BatchRenderer):
    """procgen's textured frames for ``num_envs`` envs (the renderer protocol of ``MazeVecEnv``).

    ``set_levels(env_ids, levels)`` composes each env's static layer (background, walls,
    cheese); ``render(mouse, facing_right, out, env_ids=None)`` draws the mice and writes the
    frames of the listed envs (all when None) into rows ``env_ids`` of ``out``
    (``(num_envs, 64, 64, 3)`` uint8). ``mouse`` / ``facing_right`` hold one row per listed env.
    Only what moves is drawn: ``out`` is assumed to keep the frames this renderer wrote there
    last (a new buffer, detected by its address, gets whole frames again).
    """

    def __init__(self, num_envs: int, world_size: int, *, use_backgrounds: bool = True) -> None:
        super().__init__(num_envs, world_size, use_backgrounds=use_backgrounds)
        self._tex = maze_textures()
        self._rects = np.zeros((self.num_envs, 4), np.int64)
        self._last = np.zeros((self.num_envs, 3), np.int64)

    def _compose_layers(self, ids: np.ndarray, levels: Levels) -> None:
        g, t = self._geo, self._tex
        _compose_static(
            self._static, ids,
            np.ascontiguousarray(levels.walls), levels.cheese.astype(np.int64),
            levels.background.astype(np.int64), self.use_backgrounds, g.backgrounds,
            t.wall, g.wall_rows.p0, g.wall_rows.p1, g.wall_rows.tex,
            g.wall_cols.p0, g.wall_cols.p1, g.wall_cols.tex,
            t.cheese, g.cheese_rows.p0, g.cheese_rows.p1, g.cheese_rows.tex,
            g.cheese_cols.p0, g.cheese_cols.p1, g.cheese_cols.tex,
        )  # fmt: skip

    def _draw_frames(
        self, ids: np.ndarray, mouse: np.ndarray, facing_right: np.ndarray, out: np.ndarray
    ) -> None:
        g = self._geo
        _draw_mice(
            self._static, out, self._rects, self._full, self._last, ids, mouse, facing_right,
            self._tex.mouse, g.mouse_rows.p0, g.mouse_rows.p1, g.mouse_rows.tex,
            g.mouse_cols.p0, g.mouse_cols.p1, g.mouse_cols.tex,
        )  # fmt: skip


def render_rgb(
    level_or_levels: Level | Levels | Sequence[Level],
    mouse: Any = None,
    facing_right: Any = None,
    *,
    use_backgrounds: bool = True,
) -> np.ndarray:
    """procgen's textured frame of each level: ``(N, 64, 64, 3)`` uint8.

    ``mouse`` (``(N, 2)`` cells) defaults to each level's start; ``facing_right`` (``(N,)``)
    defaults to False (procgen's facing at the start of an episode).
    """
    return render_once(
        TexturedRenderer, level_or_levels, mouse, facing_right, use_backgrounds=use_backgrounds
    )
