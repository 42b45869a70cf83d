"""Patch files: lists of :class:`~steering.patches.Patch` as JSON, large arrays as ``.npy``.

:func:`save_patches` writes ``path`` atomically, with arrays above
:data:`steering.patches.arrays.INLINE_LIMIT` elements in ``<path stem>_arrays/`` referenced by
relative paths (the directory can move); :func:`load_patches` reads it back.

>>> import os, tempfile
>>> from steering.patches import Clamp, Scale
>>> ps = [Clamp("layer", [1], [(0, 2)], 5.0), Scale("layer", [0], 0.5)]
>>> path = save_patches(ps, os.path.join(tempfile.mkdtemp(), "p.json"))
>>> load_patches(path) == ps, patches_to_json(ps[1])[0]["factor"]
(True, 0.5)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from agents.checkpoint import atomic_write_text

from .base import Patch, patch_from_json

__all__ = ["load_patches", "patches_to_json", "save_patches"]


def patches_to_json(patches: Patch | Sequence[Patch], array_dir=None) -> list[dict]:
    """A list of patches as a JSON-serialisable list."""
    if isinstance(patches, Patch):
        patches = [patches]
    return [p.to_json(array_dir) for p in patches]


def save_patches(patches: Patch | Sequence[Patch], path: str | os.PathLike) -> Path:
    """Write patches as JSON (atomically); large arrays go to ``<path stem>_arrays/``."""
    path = Path(path)
    array_dir = path.parent / f"{path.stem}_arrays"
    data = patches_to_json(patches, array_dir)
    # keep .npy paths relative so the directory can move
    text = json.dumps(data, indent=1).replace(str(path.parent) + os.sep, "")
    return atomic_write_text(path, text)


def load_patches(path: str | os.PathLike) -> list[Patch]:
    """Read a JSON file written by :func:`save_patches` (or one patch dict)."""
    path = Path(path)
    data = json.loads(path.read_text())
    items = data if isinstance(data, list) else [data]
    return [patch_from_json(d, base_dir=path.parent) for d in items]
