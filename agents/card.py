"""Model cards and the zoo: provenance, evaluation and learning curve of a trained agent.

:func:`make_card` builds the ``card.json`` dict (config, steps, wall time, machine, git commit,
held-out evaluation with Wilson CIs, learning curve with milestones); :func:`snapshot_to_zoo`
publishes a run's newest checkpoint as a zoo agent (``agents/zoo/NAME/``) with its card,
training log and learning-curve plot.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from mazegen.checks import check_distribution_mode, check_int

from .checkpoint import atomic_write_text, save
from .model import fast_precision
from .rundir import read_csv, write_csv
from .train.config import TrainConfig
from .train.log import learning_curve_summary, read_log, write_log
from .train.state import latest_checkpoint, policy_from_train_checkpoint

__all__ = ["LARGEST_LEVELS", "git_commit", "machine_info", "evaluate_held_out", "largest_maze_size", "make_card", "monitor_milestones", "snapshot_to_zoo"]


def git_commit(repo: str | os.PathLike | None = None) -> str | None:
    """``HEAD`` commit of the repository holding this file (``+dirty`` if modified), or None."""
    cwd = Path(repo) if repo else Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info(device: str = "cpu") -> dict:
    """Host facts for model cards and benchmarks."""
    info = {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "torch": str(torch.__version__),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        # what `fast` forward passes compute in on this machine (agents.model.fast_precision)
        "fast_precision": fast_precision(device),
    }
    if str(device).startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


#: Held-out levels at the largest maze size in a zoo card (the questions' size; issue: >= 400).
LARGEST_LEVELS = 400


def largest_maze_size(config: TrainConfig) -> int:
    """The largest maze size ``config`` trains on: its ``maze_size`` (the largest entry), else
    the world's side (procgen's size draw reaches it: 25 in hard mode, 15 in easy).

    >>> largest_maze_size(TrainConfig()), largest_maze_size(TrainConfig(maze_size="5,9"))
    (25, 9)
    """
    sizes = config.maze_sizes()
    if sizes is None:
        return check_distribution_mode(config.distribution_mode)
    return int(sizes) if isinstance(sizes, int) else max(sizes)


def evaluate_held_out(
    policy: Any,
    config: TrainConfig,
    n_levels: int | None = None,
    *,
    greedy: bool = True,
    largest_levels: int = 0,
    first_level: int | None = None,
) -> dict:
    """The card's evaluation of ``policy``: ``n_levels`` (default ``config.eval_levels``)
    consecutive level seeds from ``config.held_out_start``, never used in training, with the
    run's cheese region, maze sizes, mode, timeout and sampling (:func:`agents.eval.evaluate.evaluate`).

    With ``greedy`` (and sampled actions in the config) the same levels are also played with
    argmax actions; that evaluation's rates (overall, by maze size and bucket, mean episode
    length) go under the key ``"greedy"``, next to the sampled ones.

    ``largest_levels`` > 0 adds ``"largest_maze"``: that many further held-out levels (the
    seeds right after the main evaluation's), all at :func:`largest_maze_size`, the size the
    questions are asked at, where ~1/12 of the main evaluation's levels are too few for a tight
    CI. It holds ``size``, ``n_levels``, ``level_seeds``, the sampled ``cheese_rate`` / ``ci95``
    / ``hits`` / ``mean_episode_length`` and (with ``greedy``) the same under ``"greedy"``.

    ``first_level`` replaces ``config.held_out_start`` as the first seed (the training loops'
    periodic monitor plays seeds the card never uses, so that watching it selects nothing the
    card then reports).
    """
    from .eval.evaluate import evaluate

    largest_levels = check_int("largest_levels", largest_levels, 0)

    kwargs = dict(
        n_levels=config.eval_levels if n_levels is None else n_levels,
        seed=config.held_out_start if first_level is None else first_level,
        cheese=config.cheese,
        sizes=config.maze_sizes(),
        distribution_mode=config.distribution_mode,
        max_steps=config.max_steps,
        rgb_style=config.rgb_style if config.obs == "rgb" else None,
    )
    out = evaluate(policy, deterministic=config.eval_deterministic, **kwargs)
    if greedy and not config.eval_deterministic:
        g = evaluate(policy, action_mode="greedy", **kwargs)
        keep = ("cheese_rate", "ci95", "hits", "action_mode", "mean_episode_length",
                "by_maze_size", "by_size_bucket")
        out["greedy"] = {k: g[k] for k in keep}
    if largest_levels:
        big = {**kwargs, "n_levels": largest_levels, "seed": kwargs["seed"] + kwargs["n_levels"],
               "sizes": largest_maze_size(config)}
        keep = ("cheese_rate", "ci95", "hits", "n_levels", "level_seeds", "action_mode", "mean_episode_length")
        b = evaluate(policy, deterministic=config.eval_deterministic, **big)
        out["largest_maze"] = {"size": big["sizes"], **{k: b[k] for k in keep}}
        if greedy and not config.eval_deterministic:
            g = evaluate(policy, action_mode="greedy", **big)
            out["largest_maze"]["greedy"] = {k: g[k] for k in keep}
    return out


def monitor_milestones(
    rows: list[dict], thresholds: tuple[float, ...] = (0.5, 0.8, 0.9)
) -> list[dict]:
    """When the held-out monitor (``monitor_log.csv`` rows) first read each cheese-rate
    threshold: ``steps``, ``wall_time_s``, the rate and its Wilson 95% interval, or None for a
    threshold never reached.

    >>> rows = [{"steps": s, "wall_time_s": s / 10, "cheese_rate": r, "ci_lo": r - 0.05,
    ...          "ci_hi": r + 0.03} for s, r in [(100, 0.6), (200, 0.92), (300, 0.85)]]
    >>> [(m["threshold"], m["steps"]) for m in monitor_milestones(rows)]
    [(0.5, 100), (0.8, 200), (0.9, 200)]
    >>> monitor_milestones(rows, (0.95,))[0]["steps"] is None
    True
    """
    out = []
    for th in thresholds:
        hit = next((r for r in rows if float(r["cheese_rate"]) >= th), None)
        out.append({
            "threshold": th,
            "steps": int(float(hit["steps"])) if hit else None,
            "wall_time_s": float(hit["wall_time_s"]) if hit else None,
            "cheese_rate": float(hit["cheese_rate"]) if hit else None,
            "ci95": [float(hit["ci_lo"]), float(hit["ci_hi"])] if hit else None,
        })
    return out


def make_card(
    config: TrainConfig,
    run_dir: str | os.PathLike,
    *,
    steps: int,
    wall_time_s: float,
    evaluation: dict | None,
    device: str = "cpu",
    machine: dict | None = None,
    log_rows: list[dict[str, str]] | None = None,
    monitor_rows: list[dict[str, str]] | None = None,
) -> dict:
    """The model card dict (config, steps, wall time, machine, git commit, evaluation, curve).

    ``machine`` is the training machine's :func:`machine_info` (as stored in the checkpoint);
    without it, this machine's, for ``device``. The curve summarises ``log_rows`` (rows of
    :func:`~agents.train.log.read_log`), or ``run_dir/train_log.csv`` when they are not given.
    A distillation run's held-out monitor (``monitor_rows``, else ``run_dir/monitor_log.csv``
    if there is one) goes under ``"monitor"``: its seeds, one rate with its Wilson 95%
    interval per evaluation, and ``milestones`` (:func:`monitor_milestones`). A distillation
    run's training-log milestones count episodes the teacher acted in (until
    ``teacher_mix_steps``), so its learning curve says so (``milestones_note``) and the
    monitor's milestones are the ones to quote.
    """
    log = log_rows if log_rows is not None else Path(run_dir) / "train_log.csv"
    mon_path = Path(run_dir) / "monitor_log.csv"
    if monitor_rows is None and mon_path.is_file():
        monitor_rows = read_csv(mon_path)
    monitor = {}
    if monitor_rows:
        monitor = {"monitor": {
            "first_level": int(monitor_rows[0]["first_level"]),
            "levels": int(monitor_rows[0]["levels"]),
            "rows": [
                {"steps": int(r["steps"]), "cheese_rate": float(r["cheese_rate"]),
                 "ci95": [float(r["ci_lo"]), float(r["ci_hi"])]}
                for r in monitor_rows
            ],
            "milestones": monitor_milestones(monitor_rows),
        }}
    curve = learning_curve_summary(log)
    if config.teacher is not None:
        curve["milestones_note"] = (
            "from the training rollouts, which the teacher partly acted in until "
            f"teacher_mix_steps={config.teacher_mix_steps}; they overstate the student"
            + ("; monitor.milestones are the student alone on held-out levels" if monitor else "")
        )
    return {
        "config": config.to_dict(),
        "model": {
            "arch": "IMPALA",
            "channels": list(config.channels),
            "fc_dim": config.fc_dim,
            "obs": config.obs,
            **({"rgb_style": config.rgb_style} if config.obs == "rgb" else {}),
        },
        "steps": int(steps),
        "wall_time_s": round(float(wall_time_s), 1),
        "machine": machine if machine is not None else machine_info(device),
        "git_commit": git_commit(),
        "training_levels": {"start_level": config.start_level, "num_levels": config.num_levels},
        "evaluation": evaluation,
        "learning_curve": curve,
        **monitor,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def snapshot_to_zoo(
    run_dir: str | os.PathLike,
    name: str,
    *,
    eval_levels: int | None = None,
    zoo_root: str | os.PathLike | None = None,
    fast: bool = True,
    notes: str | None = None,
    largest_levels: int | None = None,
    weights: str = "live",
    checkpoint: str | os.PathLike | None = None,
) -> Path:
    """Turn the newest checkpoint of ``run_dir`` (or ``checkpoint``, a training checkpoint of
    that run kept elsewhere, e.g. restored from git) into zoo agent ``name``; returns its
    directory.

    Writes ``model.pt``, ``card.json`` (config, steps, wall time, the machine that trained it,
    git commit, a fresh evaluation on held-out levels (its ``fast_precision``: ``"bf16"`` or
    ``"fp32"``, what this machine's forward passes used), learning-curve summary with milestones,
    ``notes``), ``train_log.csv`` (cut at the checkpoint's step) and ``learning_curve.png``,
    each atomically. ``eval_levels`` defaults to the run's own setting (0 = skip);
    ``largest_levels`` adds that many held-out levels at the largest maze size
    (:func:`evaluate_held_out`); None: :data:`LARGEST_LEVELS` when there is an evaluation.
    ``weights``: ``"live"`` publishes the run's own weights, ``"ema"`` their moving average
    (runs with ``ema_decay > 0``); the card's ``weights`` entry says which.
    """
    from .checkpoint import ZOO_DIR
    from .eval.plots import learning_curves

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or name == "configs":
        raise ValueError(
            f"zoo name must match [A-Za-z0-9][A-Za-z0-9._-]* and not be 'configs', got {name!r}"
        )
    if checkpoint is not None:
        ckpt = Path(checkpoint)
        if not ckpt.is_file():
            raise ValueError(f"checkpoint {ckpt} does not exist")
    else:
        ckpt = latest_checkpoint(run_dir)
        if ckpt is None:
            raise ValueError(f"no checkpoints in {Path(run_dir) / 'checkpoints'}")
    policy, data = policy_from_train_checkpoint(ckpt, weights=weights)
    trained_in = data["config"].get("run_dir")
    if checkpoint is not None and Path(str(trained_in)).resolve() != Path(run_dir).resolve():
        raise ValueError(
            f"checkpoint {ckpt} was written by the run in {trained_in}, not by {run_dir}: "
            "its training log would not match"
        )
    weights_info = policy.metadata.get("weights", {"kind": "live"})
    config = TrainConfig.from_dict(data["config"], saved=True)
    steps = int(data["num_timesteps"])
    n_eval = config.eval_levels if eval_levels is None else int(eval_levels)
    if n_eval < 0:
        raise ValueError(f"eval_levels must be >= 0, got {n_eval}")
    if largest_levels is None:
        largest_levels = LARGEST_LEVELS if n_eval else 0
    largest_levels = check_int("largest_levels", largest_levels, 0)
    if largest_levels and not n_eval:
        raise ValueError("largest_levels needs the main evaluation (eval_levels > 0)")
    evaluation = None
    if n_eval > 0:
        policy.fast = fast
        evaluation = evaluate_held_out(policy, config, n_eval, greedy=getattr(config, "eval_greedy", True),
                                       largest_levels=largest_levels)
        # what its forward passes computed in here (the card's `machine` is the training machine)
        evaluation["fast_precision"] = fast_precision(policy.device, enabled=fast)
        policy.fast = False
    out = Path(zoo_root) if zoo_root is not None else ZOO_DIR
    dest = out / name
    dest.mkdir(parents=True, exist_ok=True)
    mon_path = Path(run_dir) / "monitor_log.csv"
    monitor_rows = []
    if mon_path.is_file():
        monitor_rows = [r for r in read_csv(mon_path) if int(r["steps"]) <= steps]
        if monitor_rows:
            write_csv(dest / "monitor_log.csv", monitor_rows)
    rows = read_log(Path(run_dir) / "train_log.csv", max_steps=steps)
    if rows:
        write_log(dest / "train_log.csv", rows)
        learning_curves({name: rows}, dest / "learning_curve.png", title=f"{name} (training)",
                        held_out={name: monitor_rows} if monitor_rows else None)
    card = make_card(
        config,
        dest,
        steps=steps,
        wall_time_s=float(data["wall_time_s"]),
        evaluation=evaluation,
        machine=data.get("machine"),
        log_rows=rows,
        monitor_rows=monitor_rows,
    )
    card["source"] = {"run_dir": str(run_dir), "checkpoint": ckpt.name}
    card["weights"] = weights_info
    if notes:
        card["notes"] = notes
    save(
        policy,
        dest / "model.pt",
        metadata={
            "steps": steps,
            "wall_time_s": float(data["wall_time_s"]),
            "config": config.to_dict(),
            "zoo_name": name,
            "weights": weights_info,
        },
    )
    atomic_write_text(dest / "card.json", json.dumps(card, indent=2) + "\n")
    return dest
