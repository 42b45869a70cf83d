"""The arrays inside activation patches: validation, batch-row selection, masks and JSON form.

Helpers of :mod:`steering.patches`:

- :func:`as_array`, :func:`as_channels`, :func:`as_cells`: check and normalise a patch's data
  (finite float32 arrays, channel tuples, ``(K, 2)`` activation cells).
- :func:`rows_for`, :func:`check_channels`, :func:`check_cells`: check the data against one batch
  of activations; :func:`channel_cell_mask` selects channels x cells of it.
- :func:`array_to_json`, :func:`array_from_json`: arrays in JSON, as nested lists or as
  ``{"npy": path}`` for arrays above :data:`INLINE_LIMIT` elements when given a directory.

>>> import torch
>>> act = torch.zeros(2, 3, 4, 4)
>>> mask = channel_cell_mask(act, as_channels([1]), as_cells((0, 2)), None)
>>> int(mask.sum()), bool(mask[0, 1, 0, 2])
(2, True)
>>> rows_for(None, 2, 2, "Clamp").tolist()
[0, 1]
>>> array_from_json(array_to_json(as_array([[1, 2]], "x"), "x", None), "x", None)
array([[1., 2.]], dtype=float32)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.checkpoint import atomic_write

__all__ = [
    "INLINE_LIMIT",
    "array_from_json",
    "array_to_json",
    "as_array",
    "as_cells",
    "as_channels",
    "channel_cell_mask",
    "check_cells",
    "check_channels",
    "rows_for",
]

#: Elements of an array above which :meth:`Patch.to_json` writes a ``.npy`` when given a dir.
INLINE_LIMIT = 64


def as_array(x: Any, what: str) -> np.ndarray:
    """``x`` (array-like or tensor) as a float32 array; it must be finite."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x, dtype=np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite")
    return arr


def as_channels(channels: Any) -> tuple[int, ...] | None:
    """Channel indices as a non-empty tuple of ints >= 0 (None: all channels)."""
    if channels is None:
        return None
    chans = tuple(int(c) for c in np.atleast_1d(np.asarray(channels)).ravel())
    if not chans:
        raise ValueError("channels must be a non-empty list of ints (or None for all)")
    if min(chans) < 0:
        raise ValueError(f"channels must be >= 0, got {chans}")
    return chans


def as_cells(cells: Any) -> np.ndarray | None:
    """Activation cells as a ``(K, 2)`` int array of ``(i, j)`` >= 0 (one pair: ``K = 1``)."""
    if cells is None:
        return None
    arr = np.asarray(cells, dtype=np.int64)
    if arr.ndim == 1 and arr.shape == (2,):
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) == 0:
        raise ValueError(f"cells must be (K, 2) activation cells (i, j), got shape {arr.shape}")
    if (arr < 0).any():
        raise ValueError(f"cells must be >= 0, got {arr.tolist()}")
    return arr


def array_to_json(arr: np.ndarray, name: str, array_dir: str | os.PathLike | None) -> Any:
    """``arr`` as a nested list, or (large, with ``array_dir``) ``{"npy": path}`` of a new ``.npy``."""
    if array_dir is None or arr.size <= INLINE_LIMIT:
        return arr.tolist()
    digest = hashlib.sha1(arr.tobytes() + str(arr.shape).encode()).hexdigest()[:12]
    path = Path(array_dir) / f"{name}-{digest}.npy"
    if not path.exists():
        atomic_write(path, lambda f: np.save(f, arr), binary=True)
    return {"npy": str(path)}


def array_from_json(x: Any, what: str, base_dir: str | os.PathLike | None) -> np.ndarray:
    """The array of :func:`array_to_json` output (relative ``.npy`` paths resolve in ``base_dir``)."""
    if isinstance(x, dict):
        if set(x) != {"npy"}:
            raise ValueError(
                f"{what}: an array is a nested list or {{'npy': path}}, got keys {sorted(x)}"
            )
        path = Path(x["npy"])
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        if not path.exists():
            raise ValueError(f"{what}: .npy file {str(path)!r} does not exist")
        return as_array(np.load(path, allow_pickle=False), what)
    return as_array(x, what)


def rows_for(rows: np.ndarray | None, batch: int, n_levels: int, what: str) -> np.ndarray:
    """Which per-level entry each batch row uses."""
    if rows is None:
        if batch != n_levels:
            raise ValueError(
                f"{what} holds data for {n_levels} levels but the batch has {batch} rows and no "
                "level indices were given"
            )
        return np.arange(batch)
    rows = np.asarray(rows, dtype=np.int64).ravel()
    if len(rows) != batch:
        raise ValueError(f"got {len(rows)} level indices for a batch of {batch} rows")
    if len(rows) and (rows.min() < 0 or rows.max() >= n_levels):
        raise ValueError(
            f"level index {int(rows.max()) if rows.max() >= n_levels else int(rows.min())} out of "
            f"range [0, {n_levels - 1}] for {what}"
        )
    return rows


def check_channels(chans: tuple[int, ...] | None, act: torch.Tensor, what: str) -> None:
    """Every channel of ``chans`` must exist in ``act`` (``(B, C, ...)``)."""
    if chans is not None and max(chans) >= act.shape[1]:
        raise ValueError(f"{what}: channel {max(chans)} out of range [0, {act.shape[1] - 1}]")


def check_cells(cells: np.ndarray | None, act: torch.Tensor, what: str) -> None:
    """Every cell of ``cells`` must lie in the ``H x W`` of ``act`` (``(B, C, H, W)``)."""
    if cells is None:
        return
    if act.dim() != 4:
        raise ValueError(
            f"{what}: cells need a (B, C, H, W) activation, got shape {tuple(act.shape)}"
        )
    h, w = act.shape[2], act.shape[3]
    if cells[:, 0].max() >= h or cells[:, 1].max() >= w:
        raise ValueError(
            f"{what}: activation cells {cells.tolist()} out of range for a {h}x{w} layer"
        )


def channel_cell_mask(
    act: torch.Tensor, chans, cells: np.ndarray | None, rows_cells: np.ndarray | None
) -> torch.Tensor:
    """Boolean mask of ``act``'s shape selecting channels x cells (per row if rows_cells)."""
    mask = torch.zeros_like(act, dtype=torch.bool)
    ch_idx = slice(None) if chans is None else list(chans)
    if cells is None:
        mask[:, ch_idx] = True
        return mask
    if rows_cells is not None:  # one cell per row
        b = torch.arange(act.shape[0])
        for c in range(act.shape[1]) if chans is None else chans:
            mask[b, c, torch.as_tensor(rows_cells[:, 0]), torch.as_tensor(rows_cells[:, 1])] = True
        return mask
    cell_mask = torch.zeros(act.shape[2:], dtype=torch.bool, device=act.device)
    cell_mask[torch.as_tensor(cells[:, 0]), torch.as_tensor(cells[:, 1])] = True
    if chans is None:
        mask[:] = cell_mask
    else:
        mask[:, list(chans)] = cell_mask
    return mask
