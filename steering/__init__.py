"""steering: hooks, activation patches, steering vectors, retargeting and their metrics.

Imports flow one way: ``steering`` uses ``agents`` and ``mazegen``, never the reverse.
"""

from __future__ import annotations

from mazegen.lazy import lazy_exports

_LAZY = {
    "hooks": "hooking",
    "run_with_cache": "hooking",
    "Patch": "patches.base",
    "patch_from_json": "patches.base",
    "cheese_vector": "methods.vectors",
    "top_right_vector": "methods.vectors",
    "retarget_patch": "methods.retarget",
    "discover_cheese_channels": "methods.retarget",
    "PATCH_TYPES": "patches.base",
    "patches_to_json": "patches.io",
    "load_patches": "patches.io",
    "save_patches": "patches.io",
    "rollout_patch": "patches.apply",
    "fraction_modified": "metrics",
    "layer_shape": "activations",
    "layer_activations": "activations",
    "steering_patch": "methods.vectors",
    "axis_table": "cells",
    "apply_patches": "patches.apply",
    "SparseAdd": "patches.sparse",
    "Counterfactual": "patches.counterfactual",
    "counterfactual_patch": "methods.counterfactual",
    "EditConfig": "methods.optimise",
    "fit_sparse_edit": "methods.optimise",
    "maze_cell_to_act_cell": "cells",
    "run_probes": "methods.probes",
    "run_prune": "methods.prune",
    "fit_readout": "methods.probe_kinds",
    "channel_lipschitz": "methods.prune_bound",
    "bound_rows": "methods.prune_bound",
    "run_layer_probes": "experiments.probe_layers",
    "run_probe_steer": "experiments.probe_steer",
    "run_explain": "experiments.explain",
}

__all__ = list(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
