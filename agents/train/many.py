"""Train several configs at once: one run per config, each a Ray task (or, without Ray, one
after the other here), each resumable exactly as ``scripts/train.py --resume`` and each ending
with its card.

A run's directory is the config file's ``run_dir`` when it sets one, else
``runs_root/<config file stem>``. A directory that already holds checkpoints is resumed (from
its newest readable checkpoint, up to the config's ``total_steps``); otherwise the run starts
fresh. One Ray worker trains one run and reserves ``torch_threads`` CPUs for it (the config's
thread count), so a cluster with C free CPUs trains about C / torch_threads runs at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .cli import load_config_file
from .config import TrainConfig
from .state import latest_checkpoint

__all__ = ["TrainJob", "plan_runs", "train_many"]


@dataclass
class TrainJob:
    """One run of :func:`train_many`: its config file, full config and whether it resumes."""

    config_file: str
    config: TrainConfig
    resume: bool


def plan_runs(
    config_files: Sequence[str | os.PathLike],
    *,
    runs_root: str | os.PathLike = "runs",
    overrides: dict | None = None,
) -> list[TrainJob]:
    """Read and validate every config (with ``overrides`` applied) before anything runs."""
    if not config_files:
        raise ValueError("train_many needs at least one config file")
    jobs, dirs = [], {}
    for f in config_files:
        values = load_config_file(f)
        values.setdefault("run_dir", str(Path(runs_root) / Path(f).stem))
        values.update(overrides or {})
        cfg = TrainConfig.from_dict(values)
        cfg.validate()
        run_dir = str(Path(cfg.run_dir).resolve())
        if run_dir in dirs:
            raise ValueError(f"configs {dirs[run_dir]} and {f} both train into {cfg.run_dir}")
        dirs[run_dir] = str(f)
        jobs.append(TrainJob(str(f), cfg, latest_checkpoint(cfg.run_dir) is not None))
    return jobs


def _train_task(config: TrainConfig, resume: bool) -> dict:
    from .loop import train

    s = train(config, resume=resume)
    ev = s.get("evaluation") or {}
    return {
        "run_dir": s["run_dir"],
        "steps": s["steps"],
        "wall_time_s": round(float(s["wall_time_s"]), 1),
        "card": s["card"],
        "stopped": s["stopped"],
        "cheese_rate": ev.get("cheese_rate"),
        "ci95": ev.get("ci95"),
        "resumed": resume,
        "torch_threads": config.torch_threads,
    }


def train_many(jobs: Sequence[TrainJob], *, ray: str | None = None, on_result=None) -> list[dict]:
    """Train every job (see the module docstring); returns one summary dict per job, in order.
    ``ray``: None (here, one after the other) or an address for :func:`agents.cluster.init_ray`.
    ``on_result(i, summary)`` is called as each run ends."""
    from ..cluster import map_units

    return map_units(
        _train_task,
        [(j.config, j.resume) for j in jobs],
        ray=ray,
        num_cpus=[j.config.torch_threads for j in jobs],
        on_result=on_result,
    )
