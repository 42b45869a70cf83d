"""steering: hooks, activation patches, steering vectors, retargeting and their metrics.

Imports flow one way: ``steering`` uses ``agents`` and ``mazegen``, never the reverse.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "hooks": "hooks",
    "run_with_cache": "hooks",
    "list_hook_points": "hooks",
    "Patch": "patches",
    "patch_from_json": "patches",
    "apply_patches": "patch_hooks",
    "rollout_patch": "patch_hooks",
    "load_patches": "patch_io",
    "save_patches": "patch_io",
    "SparseAdd": "methods.sparse_edit",
    "EditConfig": "methods.optimise",
    "fit_sparse_edit": "methods.optimise",
    "cheese_vector": "vectors",
    "top_right_vector": "vectors",
    "retarget_patch": "retarget",
    "discover_cheese_channels": "retarget",
    "maze_cell_to_act_cell": "cells",
    "run_probes": "probes",
    "run_prune": "prune",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'steering' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
