"""procgen's frame geometry: every rectangle its maze renderer draws, computed as its C++ does.

procgen draws with Qt 5 (``src/basic-abstract-game.cpp``): each grid cell's rectangle is
enlarged by ``RENDER_EPS = 0.02`` on every side, rectangles are float32 like procgen's C++,
rasterised over the pixel span ``qRound(left) .. qRound(right) - 1`` and sampled with Qt's
nearest-neighbour 16.16 fixed-point stepping. :func:`frame_geometry` is the one place that
computes it; both renderers (:mod:`~mazegen.render.mono`, :mod:`~mazegen.render.textured`)
draw with it.

>>> g = frame_geometry(25)
>>> g.world_size, round(g.unit, 4), g.backgrounds.shape
(25, 2.56, (9, 64, 64, 3))
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from ..checks import is_int
from ..constants import FRAME, NUM_BACKGROUNDS
from .assets import maze_textures

__all__ = ["FRAME", "RENDER_EPS", "frame_geometry"]

#: procgen's ``RENDER_EPS``: grid cells are drawn this much larger on every side.
RENDER_EPS = np.float32(0.02)

_f32 = np.float32


def _qround(d: float) -> int:
    """Qt 5's ``qRound(double)``."""
    if d >= 0.0:
        return int(d + 0.5)
    i = int(d - 1)  # C++ truncation toward zero
    return int(d - float(i) + 0.5) + i


class _Axis:
    """Pixel spans and texel indices of one axis of a family of rectangles.

    ``p0[k] .. p1[k] - 1`` are the pixels covered by rectangle ``k`` (clipped to the frame),
    ``tex[k, j]`` the texel sampled for pixel ``p0[k] + j`` (-1 past the span).
    """

    def __init__(self, starts: Sequence[float], size: float, src: int) -> None:
        n = len(starts)
        self.p0 = np.zeros(n, np.int64)
        self.p1 = np.zeros(n, np.int64)
        self.tex = np.full((n, FRAME), -1, np.int64)
        # Qt: ix = int(0x10000 / (target / source)), in double precision.
        scale = float(size) / float(src)
        ix = int(65536.0 / scale)
        for k, start in enumerate(starts):
            left = float(start)
            right = left + float(size)  # QRectF::right() in double
            t0, t1 = _qround(left), _qround(right)
            t0, t1 = max(t0, 0), min(t1, FRAME)
            if t0 >= t1:
                self.p0[k] = self.p1[k] = 0
                continue
            base = (int(np.ceil((t0 + 0.5 - left) * ix)) - 1) & 0xFFFFFFFF
            idx = [((base + j * ix) & 0xFFFFFFFF) >> 16 for j in range(t1 - t0)]
            if max(idx) >= src:  # would be an out-of-bounds read in Qt too
                raise AssertionError(f"texel index {max(idx)} outside a {src}-texel source")
            self.p0[k], self.p1[k] = t0, t1
            self.tex[k, : t1 - t0] = idx


class _Geometry:
    """All rectangles procgen draws for one world size, as float32 like procgen's C++."""

    def __init__(self, world_size: int) -> None:
        w = world_size
        tex = maze_textures()
        visibility = _f32(w)
        unit = _f32(_f32(64) / visibility)  # raw_unit; unit = raw_unit * (64 / 64.0)
        view_dim = _f32(64.0 / float(unit))
        center = _f32(w * 0.5)
        off = _f32(unit * _f32(center - _f32(view_dim / _f32(2))))  # x_off == y_off
        eps = RENDER_EPS
        cell_w = _f32(_f32(_f32(1) + _f32(2 * eps)) * unit)
        # grid cells: x -> left edge, y -> top edge; rows are indexed top to bottom (row = w-1-y)
        cell_left = [_f32(_f32(_f32(x) - eps) * unit) - off for x in range(w)]
        cell_top_by_y = [
            _f32(_f32(_f32(view_dim - _f32(y + 1)) - eps) * unit) + off for y in range(w)
        ]
        cell_top = cell_top_by_y[::-1]
        # the mouse: get_screen_rect(ax - .5, ay + .5, 1, 1) with ax, ay = cell + .5
        half = _f32(0.5)
        mouse_left = [_f32(_f32(_f32(_f32(x) + half) - half) * unit) - off for x in range(w)]
        mouse_top_by_y = [
            _f32(_f32(view_dim - _f32(_f32(_f32(y) + half) + half)) * unit) + off for y in range(w)
        ]
        mouse_top = mouse_top_by_y[::-1]
        mouse_w = _f32(_f32(_f32(2) * half) * unit)
        # the background: get_screen_rect(0, H, W, H), adjust_rect is the identity for square images
        bg_left = _f32(_f32(0) * unit) - off
        bg_top = _f32(_f32(view_dim - _f32(w)) * unit) + off
        bg_w = _f32(_f32(w) * unit)

        self.world_size = w
        self.unit = float(unit)
        s = tex.wall.shape[0]
        self.wall_cols = _Axis(cell_left, cell_w, tex.wall.shape[1])
        self.wall_rows = _Axis(cell_top, cell_w, s)
        self.cheese_cols = _Axis(cell_left, cell_w, tex.cheese.shape[1])
        self.cheese_rows = _Axis(cell_top, cell_w, tex.cheese.shape[0])
        self.mouse_cols = _Axis(mouse_left, mouse_w, tex.mouse.shape[1])
        self.mouse_rows = _Axis(mouse_top, mouse_w, tex.mouse.shape[0])
        self.rects = {
            "cell_left": np.array(cell_left, np.float32),
            "cell_top": np.array(cell_top, np.float32),
            "cell_size": float(cell_w),
            "mouse_left": np.array(mouse_left, np.float32),
            "mouse_top": np.array(mouse_top, np.float32),
            "mouse_size": float(mouse_w),
            "bg": (float(bg_left), float(bg_top), float(bg_w)),
        }
        # the nine backgrounds, each stretched once over the world (opaque copies)
        bgs = np.zeros((NUM_BACKGROUNDS, FRAME, FRAME, 3), np.uint8)
        for b, img in enumerate(tex.backgrounds):
            cols = _Axis([bg_left], bg_w, img.shape[1])
            rows = _Axis([bg_top], bg_w, img.shape[0])
            r0, r1, c0, c1 = rows.p0[0], rows.p1[0], cols.p0[0], cols.p1[0]
            ri = rows.tex[0, : r1 - r0]
            ci = cols.tex[0, : c1 - c0]
            bgs[b, r0:r1, c0:c1] = img[ri[:, None], ci[None, :]]
        self.backgrounds = bgs


@functools.lru_cache(maxsize=4)
def frame_geometry(world_size: int) -> _Geometry:
    """The (cached) drawing geometry for one world size (odd, 3..64)."""
    if not (is_int(world_size) and 3 <= world_size <= FRAME and world_size % 2 == 1):
        raise ValueError(f"world_size must be an odd integer in [3, {FRAME}], got {world_size!r}")
    return _Geometry(int(world_size))
