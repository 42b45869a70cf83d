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
    "PATCH_TYPES": "patches",
    "patch_from_json": "patches",
    "patches_to_json": "patch_io",
    "load_patches": "patch_io",
    "save_patches": "patch_io",
    "rollout_patch": "patch_hooks",
    "fraction_modified": "metrics",
    "layer_shape": "observe",
    "layer_activations": "observe",
    "steering_patch": "vectors",
    "axis_table": "cells",
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
