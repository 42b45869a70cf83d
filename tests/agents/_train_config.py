"""Small training configs for tests: quiet (no bar, no TensorBoard, no evaluation, checkpoints
only at the end, one thread), each test module giving its own sizes on top."""

from __future__ import annotations

import csv
from pathlib import Path

from agents.train.config import TrainConfig

QUIET = dict(
    eval_levels=0, progress=False, tensorboard=False, checkpoint_minutes=0, torch_threads=1
)


def small_config(tmp_path, name: str = "run", **kw) -> TrainConfig:
    """A :class:`TrainConfig` running in ``tmp_path / name``: :data:`QUIET`, then ``kw``."""
    return TrainConfig(run_dir=str(Path(tmp_path) / name), **{**QUIET, **kw})


def log_rows(run_dir, name: str = "train_log.csv") -> list[dict]:
    """The rows of the run's CSV log ``name``, as strings, as written."""
    with open(Path(run_dir) / name, newline="") as f:
        return list(csv.DictReader(f))
