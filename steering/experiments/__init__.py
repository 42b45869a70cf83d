"""Steering experiments, one module each: a config dataclass and its ``run_*`` function.

- :mod:`~steering.experiments.retarget`: :class:`RetargetConfig`, :func:`run_retarget`.
- :mod:`~steering.experiments.vectors`: :class:`VectorConfig`, :func:`run_vector`.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "RetargetConfig": "retarget",
    "run_retarget": "retarget",
    "VectorConfig": "vectors",
    "run_vector": "vectors",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'steering.experiments' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value
