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
    "cheese_vector": "vectors",
    "top_right_vector": "vectors",
    "retarget_patch": "retarget",
    "discover_cheese_channels": "retarget",
    "maze_cell_to_act_cell": "cells",
    "run_probes": "probes",
    "run_prune": "prune",
    "fit_readout": "probe_kinds",
    "run_layer_probes": "probe_layers",
    "run_probe_steer": "probe_steer",
    "channel_lipschitz": "prune_bound",
    "bound_rows": "prune_bound",
    "run_explain": "explain",
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
