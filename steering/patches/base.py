"""Activation patches: small, composable, JSON-serialisable edits of one layer's activations.

Each :class:`Patch` names its ``layer`` (a hook point such as
``embedder.block2.res1.resadd_out``) and knows how to ``apply(act, rows) -> act`` to a batch
``act`` of shape ``(B, C, H, W)`` (or ``(B, C)`` for patches that touch only channels).
``rows`` gives, for each batch row, the index of the level it shows; patches holding
per-level data (``per_level=True``: one cell / vector / source per level) use it to pick the
row's data. This matches the rollout protocol: ``rollout(..., patch=factory)`` calls
``factory(level_indices)`` and enters the returned context around each batch chunk.

Patch types (``type`` in JSON):

- :class:`Clamp`: set channels at activation cells to a value (retargeting).
- :class:`Add`: add ``coeff * vector``, whole layer or masked to channels / cells (steering).
- :class:`Ablate`: zero channels, or set them to their mean over a reference distribution.
- :class:`Resample`: take channels from another maze's activations.
- :class:`Scale`: multiply channels by a factor.
- :class:`Compose`: several patches, applied in order.
- :class:`Stack`: different patches for consecutive blocks of levels (batched variants).
- :class:`~steering.patches.counterfactual.Counterfactual` (its own module): replace channels
  with the activations of the same observation with the cheese moved (an *input-conditioned*
  patch: see below).

Input-conditioned patches (``needs_input`` True) compute their data from the model input of
each forward pass: :func:`~steering.patches.apply.apply_patches` (and so ``rollout_patch``)
installs a forward pre-hook on the model that calls ``patch.prepare(model, x, rows)`` before
the pass; ``apply`` then uses (and consumes) what ``prepare`` computed.

Arrays travel in JSON as nested lists, or as ``{"npy": path}`` (relative paths resolve
against ``base_dir``; see :mod:`steering.patches.arrays`). ``patch_from_json(p.to_json())``
rebuilds an equal patch; :mod:`steering.patches.io` saves and loads patch files, and
:mod:`steering.patches.apply` hooks patches into a model (``apply_patches``) or a rollout
(``rollout_patch``).

>>> import torch
>>> p = Clamp("layer", channels=[1], cells=[(0, 2)], value=5.0)
>>> act = torch.zeros(2, 3, 4, 4)
>>> out = p.apply(act)
>>> float(out[:, 1, 0, 2].sum()), float(out.abs().sum())
(10.0, 10.0)
>>> q = patch_from_json(p.to_json())
>>> q == p, q.to_json()["type"]
(True, 'clamp')
>>> c = Compose([p, Scale("layer", channels=[1], factor=0.5)])
>>> float(c.apply(act)[0, 1, 0, 2])
2.5
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from mazegen.checks import check_int

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

__all__ = [
    "PATCH_TYPES",
    "Ablate",
    "Add",
    "Clamp",
    "Compose",
    "Patch",
    "Resample",
    "Scale",
    "Stack",
    "distinct_instances",
    "flatten_patches",
    "patch_from_json",
]


# ---------------------------------------------------------------------------- base
class Patch:
    """Base class: an edit of the activations of one layer."""

    type: ClassVar[str] = ""
    #: True for input-conditioned patches (see the module docstring)
    needs_input: ClassVar[bool] = False
    layer: str

    def prepare(self, model: Any, x: torch.Tensor, rows: np.ndarray | None) -> None:
        """Compute this forward pass's data from the model input ``x`` ``(B, ...)`` (rows as in
        :meth:`apply`); a no-op unless ``needs_input``."""

    def apply(self, act: torch.Tensor, rows: np.ndarray | None = None) -> torch.Tensor:
        """Return the edited activations (a new tensor; ``act`` is not changed)."""
        raise NotImplementedError

    def layers(self) -> list[str]:
        """Hook points this patch edits."""
        return [self.layer]

    def _fields(self, array_dir) -> dict:
        raise NotImplementedError

    def to_json(self, array_dir: str | os.PathLike | None = None) -> dict:
        """JSON-serialisable dict; arrays larger than 64 elements go to ``array_dir`` if given."""
        return {"type": self.type, "layer": self.layer, **self._fields(array_dir)}

    @classmethod
    def _from_fields(cls, d: dict, base_dir) -> Patch:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Patch) or type(other) is not type(self):
            return NotImplemented
        return json.dumps(self.to_json(), sort_keys=True) == json.dumps(
            other.to_json(), sort_keys=True
        )

    def __repr__(self) -> str:
        d = self.to_json()
        short = {
            k: (v if not isinstance(v, list) or len(str(v)) < 60 else "...") for k, v in d.items()
        }
        return f"{type(self).__name__}({short})"


def _check_layer(layer: Any) -> str:
    if not isinstance(layer, str) or not layer:
        raise ValueError(f"layer must be a non-empty hook point name, got {layer!r}")
    return layer


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


class Compose(Patch):
    """Several patches applied in order (each layer's patches in list order)."""

    type = "compose"

    def __init__(self, patches: Sequence[Patch]) -> None:
        patches = list(patches)
        for p in patches:
            if not isinstance(p, Patch):
                raise ValueError(f"Compose takes Patch objects, got {type(p).__name__}")
        self.patches = distinct_instances(patches)
        self.layer = patches[0].layer if patches else ""

    @property
    def needs_input(self) -> bool:  # type: ignore[override]
        return any(p.needs_input for p in flatten_patches(self.patches))

    def prepare(self, model, x, rows) -> None:
        for p in flatten_patches(self.patches):
            p.prepare(model, x, rows)

    def layers(self) -> list[str]:
        out: list[str] = []
        for p in self.patches:
            out += [n for n in p.layers() if n not in out]
        return out

    def apply(self, act, rows=None):
        layers = self.layers()
        if len(layers) > 1:
            raise ValueError(f"Compose spans layers {layers}; use apply_patches to hook each one")
        for p in flatten_patches(self.patches):
            act = p.apply(act, rows)
        return act

    def to_json(self, array_dir=None) -> dict:
        return {"type": self.type, "patches": [p.to_json(array_dir) for p in self.patches]}

    @classmethod
    def _from_fields(cls, d, base_dir):
        return cls([patch_from_json(p, base_dir=base_dir) for p in d["patches"]])


class Stack(Patch):
    """Different patches for consecutive blocks of levels (one batched run of many variants).

    The levels are the concatenation of blocks; block ``b`` holds ``sizes[b]`` levels and is
    patched by ``patches[b]`` (None: unpatched), which sees block-local level indices. All
    sub-patches must act on the one ``layer``.
    """

    type = "stack"

    def __init__(self, layer: str, patches: Sequence[Patch | None], sizes: Sequence[int]) -> None:
        self.layer = _check_layer(layer)
        if len(patches) != len(sizes) or not patches:
            raise ValueError(
                f"Stack needs one size per patch, got {len(patches)} patches and {len(sizes)} sizes"
            )
        self.sizes = [check_int("Stack block size", n, 1) for n in sizes]
        self.patches: list[list[Patch]] = []
        for p in patches:
            flat = [] if p is None else flatten_patches(p)
            bad = [q.layer for q in flat if q.layer != layer]
            if bad:
                raise ValueError(f"Stack sub-patches must all act on {layer!r}, got {bad}")
            self.patches.append(flat)
        # one instance per block: an input-conditioned patch holds one pass's data
        owned = distinct_instances([q for ps in self.patches for q in ps])
        it = iter(owned)
        self.patches = [[next(it) for _ in ps] for ps in self.patches]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])

    @property
    def needs_input(self) -> bool:  # type: ignore[override]
        return any(p.needs_input for ps in self.patches for p in ps)

    def _blocks(self, rows, batch: int) -> tuple[np.ndarray, np.ndarray]:
        rows = rows_for(rows, batch, int(self.offsets[-1]), "Stack")
        return rows, np.searchsorted(self.offsets, rows, side="right") - 1

    def prepare(self, model, x, rows) -> None:
        """Each block's input-conditioned sub-patches see their own rows of ``x``."""
        rows, block = self._blocks(rows, x.shape[0])
        for b, ps in enumerate(self.patches):
            sel = np.flatnonzero(block == b)
            if len(sel) == 0:
                continue
            idx = torch.as_tensor(sel, device=x.device)
            for p in ps:
                if p.needs_input:
                    p.prepare(model, x[idx], rows[sel] - self.offsets[b])

    def apply(self, act, rows=None):
        rows, block = self._blocks(rows, act.shape[0])
        out = act
        for b, ps in enumerate(self.patches):
            sel = np.flatnonzero(block == b)
            if not ps or len(sel) == 0:
                continue
            idx = torch.as_tensor(sel, device=act.device)
            part = act[idx]
            for p in ps:
                part = p.apply(part, rows[sel] - self.offsets[b])
            out = out.index_copy(0, idx, part)
        return out

    def to_json(self, array_dir=None) -> dict:
        return {
            "type": self.type,
            "layer": self.layer,
            "sizes": self.sizes,
            "patches": [[p.to_json(array_dir) for p in ps] for ps in self.patches],
        }

    @classmethod
    def _from_fields(cls, d, base_dir):
        subs = [
            Compose([patch_from_json(x, base_dir=base_dir) for x in ps]) if ps else None
            for ps in d["patches"]
        ]
        return cls(d["layer"], subs, d["sizes"])


PATCH_TYPES: dict[str, type[Patch]] = {
    c.type: c for c in (Clamp, Add, Ablate, Resample, Scale, Compose, Stack)
}


def patch_from_json(d: dict | list, *, base_dir: str | os.PathLike | None = None) -> Patch:
    """Rebuild a patch from :meth:`Patch.to_json` output (a list gives a :class:`Compose`)."""
    if isinstance(d, list):
        return Compose([patch_from_json(x, base_dir=base_dir) for x in d])
    if not isinstance(d, dict) or "type" not in d:
        raise ValueError(f"a patch is a dict with a 'type' key, got {d!r:.80}")
    cls = PATCH_TYPES.get(d["type"])
    if cls is None:
        raise ValueError(f"unknown patch type {d['type']!r}; allowed: {sorted(PATCH_TYPES)}")
    try:
        return cls._from_fields(d, base_dir)
    except KeyError as e:
        raise ValueError(f"patch of type {d['type']!r} is missing field {e.args[0]!r}") from None



def flatten_patches(patches: Patch | Sequence[Patch]) -> list[Patch]:
    """Compose trees flattened to a list of single-layer patches, in application order."""
    if isinstance(patches, Patch):
        patches = [patches]
    out: list[Patch] = []
    for p in patches:
        out += flatten_patches(p.patches) if isinstance(p, Compose) else [p]
    return out


def distinct_instances(patches: Sequence[Patch]) -> list[Patch]:
    """``patches`` with every repeat of an input-conditioned patch object replaced by a copy
    (each occurrence then holds its own forward pass's data); other patches are kept as is."""
    import copy

    seen: set[int] = set()
    out: list[Patch] = []
    for p in patches:
        if p.needs_input and id(p) in seen:
            p = copy.copy(p)
        seen.add(id(p))
        out.append(p)
    return out
