"""Activation patches: the base class, the containers and the JSON form
(:mod:`~steering.patches.base`), the edits of one layer (:mod:`~steering.patches.edits`),
their arrays (:mod:`~steering.patches.arrays`), patch files (:mod:`~steering.patches.io`) and
patch application to a model or a rollout (:mod:`~steering.patches.apply`); the
optimised sparse additive edit :class:`~steering.patches.sparse.SparseAdd` (:mod:`~steering.patches.sparse`);
counterfactual activation patching :class:`~steering.patches.counterfactual.Counterfactual`
(:mod:`~steering.patches.counterfactual`, an input-conditioned patch).

The public names are importable from here: ``from steering.patches import Clamp, apply_patches``.
"""

from __future__ import annotations

from . import base as _base
from .apply import apply_patches, rollout_patch
from .base import *  # noqa: F403 - the patch types and their JSON form: base.__all__
from .counterfactual import Counterfactual  # registers itself in PATCH_TYPES
from .edits import Ablate, Add, Clamp, Resample, Scale  # register themselves in PATCH_TYPES
from .io import load_patches, patches_to_json, save_patches
from .sparse import SparseAdd  # registers itself in PATCH_TYPES

__all__ = [
    *_base.__all__,
    "Ablate",
    "Add",
    "Clamp",
    "Resample",
    "Scale",
    "apply_patches",
    "rollout_patch",
    "load_patches",
    "patches_to_json",
    "save_patches",
    "SparseAdd",
    "Counterfactual",
]
