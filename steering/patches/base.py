"""Activation patches: small, composable, JSON-serialisable edits of one layer's activations.

Each :class:`Patch` names its ``layer`` (a hook point such as
``embedder.block2.res1.resadd_out``) and knows how to ``apply(act, rows) -> act`` to a batch
``act`` of shape ``(B, C, H, W)`` (or ``(B, C)`` for patches that touch only channels).
``rows`` gives, for each batch row, the index of the level it shows; patches holding
per-level data (``per_level=True``: one cell / vector / source per level) use it to pick the
row's data. This matches the rollout protocol: ``rollout(..., patch=factory)`` calls
``factory(level_indices)`` and enters the returned context around each batch chunk.

Patch types (``type`` in JSON; :data:`PATCH_TYPES`), one module per kind:

- here, the :class:`Patch` base class and the containers: :class:`Compose` (several patches,
  applied in order) and :class:`Stack` (different patches for consecutive blocks of levels,
  batched variants);
- :mod:`~steering.patches.edits`, the edits of one layer: ``Clamp`` (set channels at
  activation cells to a value: retargeting), ``Add`` (add ``coeff * vector``, whole layer or
  masked to channels / cells: steering), ``Ablate`` (zero channels, or set them to their mean
  over a reference distribution), ``Resample`` (take channels from another maze's
  activations), ``Scale`` (multiply channels by a factor);
- :mod:`~steering.patches.sparse`: ``SparseAdd``, the optimised sparse additive edit;
- :mod:`~steering.patches.counterfactual`: ``Counterfactual``, replace channels with the
  activations of the same observation with the cheese moved (an *input-conditioned* patch:
  see below).

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
>>> from steering.patches.edits import Clamp, Scale
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

from .arrays import rows_for

__all__ = [
    "PATCH_TYPES",
    "Compose",
    "Patch",
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


#: ``type`` in JSON -> patch class; the modules of the other types add theirs on import
#: (:mod:`~steering.patches.edits`, :mod:`~steering.patches.sparse`,
#: :mod:`~steering.patches.counterfactual`, all imported by :mod:`steering.patches`).
PATCH_TYPES: dict[str, type[Patch]] = {c.type: c for c in (Compose, Stack)}


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
