"""Activation patches: the patch types and their JSON form (:mod:`~steering.patches.base`),
their arrays (:mod:`~steering.patches.arrays`), patch files (:mod:`~steering.patches.io`) and
patch application to a model or a rollout (:mod:`~steering.patches.apply`).

The public names are importable from here: ``from steering.patches import Clamp, apply_patches``.
"""

from __future__ import annotations

from .apply import apply_patches, rollout_patch
from .base import (
    PATCH_TYPES,
    Ablate,
    Add,
    Clamp,
    Compose,
    Patch,
    Resample,
    Scale,
    Stack,
    flatten_patches,
    patch_from_json,
)
from .io import load_patches, patches_to_json, save_patches

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
    "flatten_patches",
    "patch_from_json",
    "apply_patches",
    "rollout_patch",
    "load_patches",
    "patches_to_json",
    "save_patches",
]
