"""procgen's maze textures, loaded at runtime from the installed ``procgen`` package.

Nothing is copied into this repository: :func:`asset_root` finds ``procgen/data/assets``
through the import system (without importing procgen) and the PNGs are decoded with Pillow.

procgen loads sprites with Qt 5 as ``QImage::Format_ARGB32_Premultiplied`` and backgrounds as
``QImage::Format_RGB32`` (``src/resources.cpp``); :func:`premultiply` reproduces Qt's
``qPremultiply`` rounding (``c' = (t + (t >> 8) + 0x80) >> 8`` with ``t = c * a``), so
compositing with these arrays matches procgen bit for bit (``docs/procgen-maze.md``, section 8).

>>> tex = maze_textures()
>>> tex.wall.shape, tex.mouse.shape, tex.cheese.shape, len(tex.backgrounds)
((128, 128, 4), (128, 128, 4), (27, 27, 4), 9)
>>> int(tex.wall[..., 3].min())  # the sand wall is opaque
255
>>> premultiply(np.array([[200, 100, 0, 128]], dtype=np.uint8)).tolist()
[[100, 50, 0, 128]]
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..constants import NUM_BACKGROUNDS

__all__ = [
    "MAZE_ASSETS",
    "BACKGROUND_ASSETS",
    "MazeTextures",
    "asset_root",
    "asset_path",
    "load_argb32_premultiplied",
    "load_rgb32",
    "premultiply",
    "maze_textures",
]

#: Relative asset paths of the maze's objects (procgen ``src/games/maze.cpp``).
MAZE_ASSETS = {
    "wall": "kenney/Ground/Sand/sandCenter.png",
    "cheese": "misc_assets/cheese.png",
    "mouse": "kenney/Enemies/mouse_move.png",
}

#: procgen's ``topdown_backgrounds`` group, indexed by ``Level.background``.
BACKGROUND_ASSETS = (
    "topdown_backgrounds/floortiles.png",
    *(f"topdown_backgrounds/backgrounddetailed{i}.png" for i in range(1, 9)),
)
assert len(BACKGROUND_ASSETS) == NUM_BACKGROUNDS


@functools.lru_cache(maxsize=1)
def asset_root() -> Path:
    """The ``data/assets`` folder of the installed ``procgen`` (procgen-mirror) package.

    Raises FileNotFoundError with an explanation when procgen is not installed.
    """
    spec = importlib.util.find_spec("procgen")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the textured renderer needs procgen's asset PNGs, but the 'procgen' package "
            "(pip install procgen-mirror==0.10.7) is not installed"
        )
    for loc in spec.submodule_search_locations:
        root = Path(loc) / "data" / "assets"
        if root.is_dir():
            return root
    raise FileNotFoundError(f"no data/assets folder in the procgen package at {list(spec.submodule_search_locations)}")


def asset_path(relpath: str) -> Path:
    """Absolute path of one procgen asset; FileNotFoundError naming it if missing."""
    p = asset_root() / relpath
    if not p.is_file():
        raise FileNotFoundError(f"procgen asset {relpath!r} not found under {asset_root()}")
    return p


def premultiply(rgba: np.ndarray) -> np.ndarray:
    """Qt's ``qPremultiply`` on a ``(..., 4)`` uint8 RGBA array (returns a new array)."""
    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.shape[-1] != 4:
        raise ValueError(f"expected a uint8 array of shape (..., 4), got {rgba.dtype} {rgba.shape}")
    a = rgba[..., 3:4].astype(np.uint32)
    t = rgba[..., :3].astype(np.uint32) * a
    c = (t + (t >> 8) + 0x80) >> 8
    return np.concatenate([c.astype(np.uint8), rgba[..., 3:4]], axis=-1)


def _read_rgba(relpath: str) -> np.ndarray:
    from PIL import Image  # Pillow ships with matplotlib

    with Image.open(asset_path(relpath)) as im:
        if im.mode not in ("RGB", "RGBA"):
            raise ValueError(f"asset {relpath!r} has PNG mode {im.mode!r}; expected RGB or RGBA")
        return np.asarray(im.convert("RGBA"), dtype=np.uint8).copy()


def load_argb32_premultiplied(relpath: str) -> np.ndarray:
    """A sprite as Qt's ``Format_ARGB32_Premultiplied``: ``(H, W, 4)`` uint8, RGBA order."""
    out = premultiply(_read_rgba(relpath))
    out.setflags(write=False)
    return out


def load_rgb32(relpath: str) -> np.ndarray:
    """A background as Qt's ``Format_RGB32``: ``(H, W, 3)`` uint8 (alpha dropped).

    procgen's topdown backgrounds are all fully opaque, so dropping alpha is exact; a
    translucent one would raise ValueError rather than be silently mis-converted.
    """
    rgba = _read_rgba(relpath)
    if rgba[..., 3].min() != 255:
        raise ValueError(f"background {relpath!r} is not opaque; its RGB32 conversion is not modelled")
    out = rgba[..., :3].copy()
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class MazeTextures:
    """The maze's textures. Sprites are premultiplied RGBA; backgrounds are RGB."""

    wall: np.ndarray
    cheese: np.ndarray
    mouse: np.ndarray
    backgrounds: tuple[np.ndarray, ...]


@functools.lru_cache(maxsize=1)
def maze_textures() -> MazeTextures:
    """All of the maze's textures, decoded once per process."""
    return MazeTextures(
        wall=load_argb32_premultiplied(MAZE_ASSETS["wall"]),
        cheese=load_argb32_premultiplied(MAZE_ASSETS["cheese"]),
        mouse=load_argb32_premultiplied(MAZE_ASSETS["mouse"]),
        backgrounds=tuple(load_rgb32(p) for p in BACKGROUND_ASSETS),
    )
