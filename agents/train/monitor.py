"""The distillation monitor: the student alone on held-out levels, every so many steps.

With ``TrainConfig.monitor_every_steps`` set, :func:`~agents.train.distill.distill` calls
:func:`monitor` each time the step count passes a multiple of it: the student plays
``monitor_levels`` held-out levels (sampled; the same levels each time, seeds from
:attr:`~agents.train.config.TrainConfig.monitor_start`, which the card never plays) and the
rates, with Wilson 95% intervals and by size bucket, are appended to ``monitor_log.csv``
(:data:`MONITOR_COLUMNS`). A resume cuts the file back to the checkpoint's step.
"""

from __future__ import annotations

from pathlib import Path

from ..card import evaluate_held_out
from ..eval.sweep_axes import SIZE_BUCKETS, bucket_label
from ..rundir import read_csv, write_csv
from .config import TrainConfig

__all__ = ["MONITOR_LOG", "MONITOR_COLUMNS", "monitor", "truncate_monitor_log"]

#: The monitor's log in the run directory (``monitor_every_steps``).
MONITOR_LOG = "monitor_log.csv"
MONITOR_COLUMNS = (
    "steps", "wall_time_s", "first_level", "levels", "cheese_rate", "ci_lo", "ci_hi",
    "cheese_rate_small", "cheese_rate_medium", "cheese_rate_large", "mean_episode_length",
)


def monitor(student, config: TrainConfig, path: Path, steps: int, wall_time_s: float) -> dict:
    """Play the student alone (sampled) on ``config.monitor_levels`` levels from
    :attr:`~agents.train.config.TrainConfig.monitor_start`; append the row to ``path``."""
    from ..sb3_policy import policy_from_sb3

    ev = evaluate_held_out(
        policy_from_sb3(student, fast=config.fast), config, config.monitor_levels,
        greedy=False, first_level=config.monitor_start,
    )
    buckets = ev["by_size_bucket"]
    row = {
        "steps": steps,
        "wall_time_s": round(wall_time_s, 2),
        "first_level": config.monitor_start,
        "levels": config.monitor_levels,
        "cheese_rate": ev["cheese_rate"],
        "ci_lo": ev["ci95"][0],
        "ci_hi": ev["ci95"][1],
        **{f"cheese_rate_{b}": buckets[bucket_label(b)]["rate"] if bucket_label(b) in buckets
           else "" for b in SIZE_BUCKETS},
        "mean_episode_length": ev["mean_episode_length"],
    }
    rows = read_csv(path) if path.is_file() else []
    write_csv(path, [*rows, row], MONITOR_COLUMNS)
    return row


def truncate_monitor_log(path: Path, max_steps: int) -> None:
    """Drop the monitor rows after ``max_steps`` (a resume replays those steps)."""
    if path.is_file():
        rows = [r for r in read_csv(path) if int(r["steps"]) <= max_steps]
        write_csv(path, rows, MONITOR_COLUMNS)
