"""Training: :func:`train` (the PPO loop, :mod:`~agents.train.loop`; distillation from a
teacher agent when the config names one, :mod:`~agents.train.distill`), its
:class:`TrainConfig` (:mod:`~agents.train.config`) and CLI (:mod:`~agents.train.cli`), resumable training checkpoints
(:mod:`~agents.train.state`), the training log and curves (:mod:`~agents.train.log`), the
training env (:mod:`~agents.train.env`) and the progress bar and stop flag both loops share
(:mod:`~agents.train.control`).

``from agents.train import train, TrainConfig`` works; the loop is imported on first use.
"""

from __future__ import annotations

import importlib

_LAZY = {"train": "loop", "TrainConfig": "config", "config_from_args": "cli"}

__all__ = list(_LAZY)


def __getattr__(name: str):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'agents.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value
