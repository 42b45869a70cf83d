"""The edits of one layer: :class:`Clamp`, :class:`Add`, :class:`Ablate`, :class:`Resample` and
:class:`Scale` (the containers and the :class:`~steering.patches.base.Patch` base class are in
:mod:`steering.patches.base`; each type here registers itself in
:data:`~steering.patches.base.PATCH_TYPES` for ``patch_from_json``).

>>> import torch
>>> p = Scale("layer", channels=[0], factor=2.0)
>>> float(p.apply(torch.ones(1, 2, 1, 1)).sum())
3.0
"""

from __future__ import annotations

import numpy as np
import torch

from .arrays import (
    array_from_json,
    array_to_json,
    as_array,
    as_cells,
    as_channels,
    channel_cell_mask,
    check_cells,
    check_channels,
    rows_for,
)
from .base import PATCH_TYPES, Patch, _check_layer

__all__ = ["Ablate", "Add", "Clamp", "Resample", "Scale"]


class Clamp(Patch):
    """Set ``channels`` at activation ``cells`` to ``value``.

    ``cells`` is ``(K, 2)`` cells applied to every row or, with ``per_level=True``, ``(N, 2)``:
    one cell per level, row ``b`` using ``cells[rows[b]]``. ``channels=None`` clamps all channels.
    """

    type = "clamp"

    def __init__(
        self, layer: str, channels, cells, value: float, *, per_level: bool = False
    ) -> None:
        self.layer = _check_layer(layer)
        self.channels = as_channels(channels)
        self.cells = as_cells(cells)
        if self.cells is None:
            raise ValueError("Clamp needs cells")
        self.value = float(value)
        if not np.isfinite(self.value):
            raise ValueError(f"Clamp value must be finite, got {value}")
        self.per_level = bool(per_level)

    def apply(self, act, rows=None):
        check_channels(self.channels, act, "Clamp")
        check_cells(self.cells, act, "Clamp")
        rc = (
            self.cells[rows_for(rows, act.shape[0], len(self.cells), "Clamp")]
            if self.per_level
            else None
        )
        mask = channel_cell_mask(act, self.channels, self.cells, rc)
        return torch.where(
            mask, torch.as_tensor(self.value, dtype=act.dtype, device=act.device), act
        )

    def _fields(self, array_dir):
        return {
            "channels": None if self.channels is None else list(self.channels),
            "cells": self.cells.tolist(),
            "value": self.value,
            "per_level": self.per_level,
        }

    @classmethod
    def _from_fields(cls, d, base_dir):
        return cls(
            d["layer"],
            d.get("channels"),
            d["cells"],
            d["value"],
            per_level=d.get("per_level", False),
        )


class Add(Patch):
    """Add ``coeff * vector``; optionally only at ``channels`` and/or ``cells``.

    ``vector`` has the layer's shape without the batch dim, or with ``per_level=True`` shape
    ``(N, *layer_shape)`` (one vector per level).
    """

    type = "add"

    def __init__(
        self,
        layer: str,
        vector,
        coeff: float = 1.0,
        *,
        channels=None,
        cells=None,
        per_level: bool = False,
    ) -> None:
        self.layer = _check_layer(layer)
        self.vector = as_array(vector, "Add vector")
        self.coeff = float(coeff)
        if not np.isfinite(self.coeff):
            raise ValueError(f"Add coeff must be finite, got {coeff}")
        self.channels = as_channels(channels)
        self.cells = as_cells(cells)
        self.per_level = bool(per_level)
        self._cache: dict = {}

    def _tensor(self, act):
        key = (act.dtype, act.device)
        if key not in self._cache:
            self._cache[key] = torch.as_tensor(self.vector, dtype=act.dtype, device=act.device)
        return self._cache[key]

    def apply(self, act, rows=None):
        vec = self._tensor(act)
        if self.per_level:
            vec = vec[torch.as_tensor(rows_for(rows, act.shape[0], len(self.vector), "Add"))]
            if vec.shape != act.shape:
                raise ValueError(
                    f"Add: per-level vectors {tuple(self.vector.shape)} do not fit activations {tuple(act.shape)}"
                )
        elif tuple(vec.shape) != tuple(act.shape[1:]):
            raise ValueError(
                f"Add: vector shape {tuple(vec.shape)} != activation shape {tuple(act.shape[1:])}"
            )
        check_channels(self.channels, act, "Add")
        check_cells(self.cells, act, "Add")
        delta = self.coeff * vec
        if self.channels is not None or self.cells is not None:
            delta = torch.where(
                channel_cell_mask(act, self.channels, self.cells, None),
                delta,
                torch.zeros_like(act),
            )
        return act + delta

    def _fields(self, array_dir):
        return {
            "vector": array_to_json(self.vector, "add", array_dir),
            "coeff": self.coeff,
            "channels": None if self.channels is None else list(self.channels),
            "cells": None if self.cells is None else self.cells.tolist(),
            "per_level": self.per_level,
        }

    @classmethod
    def _from_fields(cls, d, base_dir):
        return cls(
            d["layer"],
            array_from_json(d["vector"], "Add vector", base_dir),
            d.get("coeff", 1.0),
            channels=d.get("channels"),
            cells=d.get("cells"),
            per_level=d.get("per_level", False),
        )


class Ablate(Patch):
    """Zero ``channels`` (``mode="zero"``) or set them to a reference mean (``mode="mean"``).

    ``mean`` has the layer's shape without the batch dim (a per-position mean) or shape
    ``(C,)`` (a per-channel scalar); see :func:`steering.methods.vectors.mean_activation`.
    """

    type = "ablate"

    def __init__(self, layer: str, channels, mode: str = "zero", mean=None) -> None:
        self.layer = _check_layer(layer)
        self.channels = as_channels(channels)
        if mode not in ("zero", "mean"):
            raise ValueError(f"Ablate mode must be 'zero' or 'mean', got {mode!r}")
        if (mode == "mean") != (mean is not None):
            raise ValueError("Ablate needs `mean` exactly when mode='mean'")
        self.mode = mode
        self.mean = None if mean is None else as_array(mean, "Ablate mean")

    def apply(self, act, rows=None):
        check_channels(self.channels, act, "Ablate")
        mask = channel_cell_mask(act, self.channels, None, None)
        if self.mode == "zero":
            return act.masked_fill(mask, 0.0)
        m = torch.as_tensor(self.mean, dtype=act.dtype, device=act.device)
        if m.dim() == 1:
            if m.shape[0] != act.shape[1]:
                raise ValueError(
                    f"Ablate: mean has {m.shape[0]} channels, activations have {act.shape[1]}"
                )
            m = m.reshape((1, -1) + (1,) * (act.dim() - 2))
        elif tuple(m.shape) != tuple(act.shape[1:]):
            raise ValueError(
                f"Ablate: mean shape {tuple(m.shape)} != activation shape {tuple(act.shape[1:])}"
            )
        return torch.where(mask, m.expand_as(act), act)

    def _fields(self, array_dir):
        return {
            "channels": None if self.channels is None else list(self.channels),
            "mode": self.mode,
            "mean": None if self.mean is None else array_to_json(self.mean, "ablate", array_dir),
        }

    @classmethod
    def _from_fields(cls, d, base_dir):
        mean = d.get("mean")
        return cls(
            d["layer"],
            d.get("channels"),
            d.get("mode", "zero"),
            None if mean is None else array_from_json(mean, "Ablate mean", base_dir),
        )


class Resample(Patch):
    """Replace ``channels`` with those of another maze's activations.

    ``source`` is ``(N, *layer_shape)``: row ``b`` takes ``source[rows[b]]`` (one source per
    level), or ``layer_shape`` for one source shared by every row. Build it with
    :func:`steering.methods.vectors.resample_patch`.
    """

    type = "resample"

    def __init__(self, layer: str, channels, source) -> None:
        self.layer = _check_layer(layer)
        self.channels = as_channels(channels)
        self.source = as_array(source, "Resample source")

    def apply(self, act, rows=None):
        check_channels(self.channels, act, "Resample")
        src = torch.as_tensor(self.source, dtype=act.dtype, device=act.device)
        if tuple(src.shape) == tuple(act.shape[1:]):
            src = src.expand_as(act)
        elif tuple(src.shape[1:]) == tuple(act.shape[1:]):
            src = src[torch.as_tensor(rows_for(rows, act.shape[0], len(src), "Resample"))]
        else:
            raise ValueError(
                f"Resample: source shape {tuple(src.shape)} does not fit activations {tuple(act.shape)}"
            )
        return torch.where(channel_cell_mask(act, self.channels, None, None), src, act)

    def _fields(self, array_dir):
        return {
            "channels": None if self.channels is None else list(self.channels),
            "source": array_to_json(self.source, "resample", array_dir),
        }

    @classmethod
    def _from_fields(cls, d, base_dir):
        return cls(
            d["layer"], d.get("channels"), array_from_json(d["source"], "Resample source", base_dir)
        )


class Scale(Patch):
    """Multiply ``channels`` by ``factor``."""

    type = "scale"

    def __init__(self, layer: str, channels, factor: float) -> None:
        self.layer = _check_layer(layer)
        self.channels = as_channels(channels)
        self.factor = float(factor)
        if not np.isfinite(self.factor):
            raise ValueError(f"Scale factor must be finite, got {factor}")

    def apply(self, act, rows=None):
        check_channels(self.channels, act, "Scale")
        return torch.where(
            channel_cell_mask(act, self.channels, None, None), act * self.factor, act
        )

    def _fields(self, array_dir):
        return {
            "channels": None if self.channels is None else list(self.channels),
            "factor": self.factor,
        }

    @classmethod
    def _from_fields(cls, d, base_dir):
        return cls(d["layer"], d.get("channels"), d["factor"])


PATCH_TYPES.update({c.type: c for c in (Clamp, Add, Ablate, Resample, Scale)})
