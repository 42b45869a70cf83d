"""Steering experiments, one module each: a config dataclass and its ``run_*`` function.

- :mod:`~steering.experiments.retarget`: :class:`RetargetConfig`, :func:`run_retarget`.
  :mod:`~steering.experiments.retarget_units`: one (size, target) unit as a call a Ray task runs.
- :mod:`~steering.experiments.vectors`: :class:`VectorConfig`, :func:`run_vector`.
- :mod:`~steering.experiments.frontier`: :class:`FrontierConfig`, :func:`run_frontier` (arrival
  vs the share of activations modified, with controls); its methods (clamps, optimised edits,
  counterfactual patching, steering vectors) are built in
  :mod:`~steering.experiments.frontier_methods`, its options are in
  :mod:`~steering.experiments.frontier_config` and one unit runs in
  :mod:`~steering.experiments.frontier_unit`. :mod:`~steering.experiments.distance`:
  :func:`distance_curve` (arrival vs the target's distance from the start -> top-right path).
- :mod:`~steering.experiments.probe_layers`: :func:`run_layer_probes` (every layer, every probe family).
- :mod:`~steering.experiments.probe_steer`: :class:`ProbeSteerConfig`, :func:`run_probe_steer`.
- :mod:`~steering.experiments.explain`: :class:`ExplainConfig`, :func:`run_explain`.
- :mod:`~steering.experiments.prune_bound`: :class:`PruneBoundConfig`, :func:`run_prune_bound`
  (the K·std bound of :mod:`steering.methods.prune_bound` against measured removals, and
  pruning curves).
"""

from __future__ import annotations

from mazegen.lazy import lazy_exports

_LAZY = {
    "RetargetConfig": "retarget",
    "run_retarget": "retarget",
    "VectorConfig": "vectors",
    "run_vector": "vectors",
    "FrontierConfig": "frontier_config",
    "run_frontier": "frontier",
    "distance_curve": "distance",
    "run_layer_probes": "probe_layers",
    "ProbeSteerConfig": "probe_steer",
    "run_probe_steer": "probe_steer",
    "ExplainConfig": "explain",
    "run_explain": "explain",
    "PruneBoundConfig": "prune_bound",
    "run_prune_bound": "prune_bound",
}

__all__ = list(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
