"""SparseAdd: an additive edit of ``k`` activations of one layer (the optimised edits' patch type).

The layer's activations of one sample, flattened in C-order (``(C, H, W)`` -> ``C*H*W``), get
``values`` added at the flat positions ``index``. Shapes:

- shared: ``index (K,)``, ``values (K,)``: the same edit on every row;
- ``per_level=True``: ``index (N, K)``, ``values (N, K)``: row ``b`` uses level ``rows[b]``'s
  edit (one fitted edit per maze; rows come from the rollout's level indices).

Each forward pass changes at most ``K`` activations of the layer (exactly the positions whose
value is non-zero), which is what :func:`steering.metrics.fraction_modified` counts.
In JSON the indices travel as exact float32 numbers (layers have far fewer than 2**24
elements) through the same inline-or-``.npy`` array form as every other patch.

>>> import torch
>>> p = SparseAdd("layer", index=[0, 5], values=[1.0, -2.0], shape=(2, 2, 2))
>>> out = p.apply(torch.zeros(3, 2, 2, 2))
>>> out[0].flatten().tolist()
[1.0, 0.0, 0.0, 0.0, 0.0, -2.0, 0.0, 0.0]
>>> from steering.patches import patch_from_json
>>> patch_from_json(p.to_json()) == p, p.k
(True, 2)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .arrays import array_from_json, array_to_json, as_array, rows_for
from .base import PATCH_TYPES, Patch, _check_layer

__all__ = ["SparseAdd"]


class SparseAdd(Patch):
    """Add ``values`` at flat positions ``index`` of the layer (see the module docstring).

    ``shape`` is the layer's activation shape without the batch dim (checked on apply).
    """

    type = "sparse_add"

    def __init__(
        self,
        layer: str,
        index,
        values,
        shape: Sequence[int],
        *,
        per_level: bool = False,
        coeff: float = 1.0,
    ) -> None:
        self.layer = _check_layer(layer)
        self.shape = tuple(int(s) for s in shape)
        if not self.shape or any(s < 1 for s in self.shape):
            raise ValueError(f"SparseAdd shape must be positive ints, got {shape!r}")
        size = int(np.prod(self.shape))
        idx = np.asarray(index)
        if idx.size and not np.all(np.isfinite(idx.astype(np.float64))):
            raise ValueError("SparseAdd index must be finite integers")
        if idx.size and not np.all(np.asarray(idx, np.float64) == np.round(np.asarray(idx, np.float64))):
            raise ValueError("SparseAdd index must hold integers")
        idx = idx.astype(np.int64)
        self.per_level = bool(per_level)
        want = 2 if self.per_level else 1
        if idx.ndim != want:
            raise ValueError(
                f"SparseAdd index must be {'(N, K)' if self.per_level else '(K,)'}, got shape {idx.shape}"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= size):
            raise ValueError(
                f"SparseAdd index out of range [0, {size - 1}] for layer shape {self.shape}: "
                f"{int(idx.min()) if idx.min() < 0 else int(idx.max())}"
            )
        vals = as_array(values, "SparseAdd values")
        if vals.shape != idx.shape:
            raise ValueError(f"SparseAdd values shape {vals.shape} != index shape {idx.shape}")
        self.index, self.values = idx, vals
        self.coeff = float(coeff)
        if not np.isfinite(self.coeff):
            raise ValueError(f"SparseAdd coeff must be finite, got {coeff}")
        self._cache: dict = {}

    @property
    def k(self) -> int:
        """Activations edited per forward pass (at most)."""
        return int(self.index.shape[-1])

    def norm(self) -> np.ndarray:
        """L2 norm of the edit: a scalar, or ``(N,)`` per level."""
        return np.linalg.norm(self.coeff * self.values, axis=-1)

    def dense(self) -> np.ndarray:
        """The edit as a dense array: ``shape``, or ``(N, *shape)`` per level."""
        size = int(np.prod(self.shape))
        if self.per_level:
            out = np.zeros((len(self.index), size), np.float32)
            np.add.at(out, (np.arange(len(self.index))[:, None], self.index), self.coeff * self.values)
            return out.reshape((len(self.index), *self.shape))
        out = np.zeros(size, np.float32)
        np.add.at(out, self.index, self.coeff * self.values)
        return out.reshape(self.shape)

    def _tensors(self, act):
        key = (act.dtype, act.device)
        if key not in self._cache:
            self._cache[key] = (
                torch.as_tensor(self.index, device=act.device),
                torch.as_tensor(self.coeff * self.values, dtype=act.dtype, device=act.device),
            )
        return self._cache[key]

    def apply(self, act, rows=None):
        if tuple(act.shape[1:]) != self.shape:
            raise ValueError(
                f"SparseAdd for shape {self.shape} applied to activations {tuple(act.shape[1:])}"
            )
        idx, vals = self._tensors(act)
        b = act.shape[0]
        if self.per_level:
            sel = torch.as_tensor(rows_for(rows, b, len(self.index), "SparseAdd"), device=act.device)
            idx, vals = idx[sel], vals[sel]
        else:
            idx, vals = idx.expand(b, -1), vals.expand(b, -1)
        flat = act.reshape(b, -1).clone()
        flat.scatter_add_(1, idx, vals)
        return flat.reshape(act.shape)

    def _fields(self, array_dir):
        return {
            "shape": list(self.shape),
            "index": array_to_json(self.index.astype(np.float32), "sparse-index", array_dir),
            "values": array_to_json(self.values, "sparse-values", array_dir),
            "per_level": self.per_level,
            "coeff": self.coeff,
        }

    @classmethod
    def _from_fields(cls, d, base_dir):
        return cls(
            d["layer"],
            array_from_json(d["index"], "SparseAdd index", base_dir),
            array_from_json(d["values"], "SparseAdd values", base_dir),
            d["shape"],
            per_level=d.get("per_level", False),
            coeff=d.get("coeff", 1.0),
        )


PATCH_TYPES[SparseAdd.type] = SparseAdd
