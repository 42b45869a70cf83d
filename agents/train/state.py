"""Training-state checkpoints (``checkpoints/ckpt_<steps>.pt``): what ``--resume`` restores.

A checkpoint holds the SB3 policy and optimizer state, the step and update counters, wall
time, the config, the torch / numpy / python RNG states and the reward-normalisation
statistics, and, when the run keeps one (``ema_decay > 0``), the moving average of the weights
(``"ema"``: ``decay``, ``start_steps``, ``at_n_updates``, ``updates``, ``impala`` state dict).
:func:`policy_from_train_checkpoint` turns one into an analysis :class:`Policy`, with either
the run's own weights or that average.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import torch

from ..policy import Policy
from .ema import ema_info

__all__ = [
    "TRAIN_FORMAT",
    "open_run",
    "latest_checkpoint",
    "newest_readable_checkpoint",
    "clean_orphaned_temp_files",
    "policy_from_train_checkpoint",
    "policy_from_weights",
    "train_state_payload",
    "restore_train_state",
    "WEIGHTS",
]

#: Which weights of a training checkpoint to read: the run's own, or their moving average.
WEIGHTS = ("live", "ema")

#: Suffix given to a checkpoint that could not be read (so that it no longer counts as one).
UNREADABLE_SUFFIX = ".unreadable"

TRAIN_FORMAT = "cheese-maze-train/1"


def _ckpt_name(steps: int) -> str:
    return f"ckpt_{steps:012d}.pt"


def latest_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """The newest ``checkpoints/ckpt_*.pt`` of a run directory, or None."""
    d = Path(run_dir) / "checkpoints"
    if not d.is_dir():
        return None
    ckpts = sorted(d.glob("ckpt_*.pt"))
    return ckpts[-1] if ckpts else None


def _read_train_checkpoint(path: Path) -> dict:
    data = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or data.get("format") != TRAIN_FORMAT:
        raise ValueError(f"{path} is not a {TRAIN_FORMAT} training checkpoint")
    return data


def newest_readable_checkpoint(
    run_dir: str | os.PathLike, *, warn=None
) -> tuple[Path, dict] | None:
    """``(path, checkpoint dict)`` of the newest checkpoint that reads back, or None if none does.

    Each newer checkpoint that cannot be read (truncated, corrupt, not a training checkpoint)
    is renamed to ``<name>.unreadable`` (kept for inspection, no longer a checkpoint) and
    reported through ``warn(message)`` (default: a line on stderr).
    """
    if warn is None:

        def warn(msg: str) -> None:
            print(msg, file=sys.stderr, flush=True)

    d = Path(run_dir) / "checkpoints"
    for path in sorted(d.glob("ckpt_*.pt"), reverse=True) if d.is_dir() else []:
        try:
            return path, _read_train_checkpoint(path)
        except Exception as e:  # noqa: BLE001 - any failure to read means "unreadable"
            aside = path.with_name(path.name + UNREADABLE_SUFFIX)
            os.replace(path, aside)
            warn(
                f"warning: checkpoint {path} is unreadable ({type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''}); moved it to {aside.name} and "
                "fell back to the next newest checkpoint"
            )
    return None


def clean_orphaned_temp_files(run_dir: str | os.PathLike) -> list[Path]:
    """Delete the temp files a killed atomic write left in ``run_dir`` and its
    ``checkpoints/`` (``.<name>.<random>.tmp``, see :func:`agents.checkpoint.atomic_write`);
    returns the paths removed."""
    removed = []
    for d in (Path(run_dir), Path(run_dir) / "checkpoints"):
        if d.is_dir():
            for tmp in sorted(d.glob(".*.tmp")):
                if tmp.is_file():
                    tmp.unlink()
                    removed.append(tmp)
    return removed


def policy_from_weights(model_config: dict, state: dict, obs: str) -> Policy:
    """A :class:`Policy` of an ``ImpalaModel(**model_config)`` holding ``state`` (RNG-neutral:
    :meth:`ImpalaModel.with_weights`, so calling it mid-training changes nothing)."""
    from ..model import ImpalaModel

    return Policy(ImpalaModel.with_weights(model_config, state), obs=obs)


def policy_from_train_checkpoint(
    path: str | os.PathLike, *, weights: str = "live"
) -> tuple[Policy, dict]:
    """``(Policy, checkpoint dict)`` from a training checkpoint (``checkpoints/ckpt_*.pt``).

    ``weights="live"``: the run's own weights; ``"ema"``: their moving average, kept by runs
    with ``ema_decay > 0`` (an error for a checkpoint that holds none).
    """
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {list(WEIGHTS)}, got {weights!r}")
    data = _read_train_checkpoint(Path(path))
    if weights == "ema":
        if data.get("ema") is None:
            raise ValueError(
                f"{path} holds no weight average: its run had ema_decay = 0 when it was written "
                "(resume it with --ema-decay D to start one)"
            )
        state = data["ema"]["impala"]
    else:
        state = {
            k.removeprefix("impala."): v for k, v in data["policy"].items() if k.startswith("impala.")
        }
    policy = policy_from_weights(data["model_config"], state, data["config"]["obs"])
    policy.metadata = {
        "steps": int(data["num_timesteps"]),
        "config": data["config"],
        "wall_time_s": data["wall_time_s"],
    }
    if weights == "ema":
        policy.metadata["weights"] = ema_info(data["ema"])
    return policy, data


def train_state_payload(
    model, venv, config, *, wall_time_s: float, machine: dict, ema=None
) -> dict:
    """The checkpoint dict of an SB3 ``PPO`` ``model`` mid-training (see the module docstring).

    ``venv`` is the (possibly ``VecNormalize``-wrapped) training env, whose reward statistics
    are kept when ``config.normalize_reward``; ``ema`` the run's
    :class:`~agents.train.ema.WeightAverage` or None. Draws from no RNG.
    """
    return {
        "format": TRAIN_FORMAT,
        "num_timesteps": int(model.num_timesteps),
        "n_updates": int(model._n_updates),
        "wall_time_s": float(wall_time_s),
        "config": config.to_dict(),
        "machine": machine,
        "model_config": model.policy.impala.config(),
        "policy": {k: v.detach().cpu() for k, v in model.policy.state_dict().items()},
        "optimizer": model.policy.optimizer.state_dict(),
        "rng": _rng_state(),
        "ret_rms": (
            {
                "mean": float(venv.ret_rms.mean),
                "var": float(venv.ret_rms.var),
                "count": float(venv.ret_rms.count),
            }
            if config.normalize_reward
            else None
        ),
        "ema": ema.payload() if ema is not None else None,
    }


def restore_train_state(model, venv, config, ckpt: dict) -> None:
    """Put a checkpoint dict (:func:`train_state_payload`) back into ``model`` and ``venv``:
    policy and optimizer state, step and update counters, reward statistics and RNG states.
    (The weight average is restored by :meth:`~agents.train.ema.WeightAverage.from_payload`.)"""
    model.policy.load_state_dict(ckpt["policy"])
    model.policy.optimizer.load_state_dict(ckpt["optimizer"])
    model.num_timesteps = int(ckpt["num_timesteps"])
    model._n_updates = int(ckpt["n_updates"])
    if config.normalize_reward and ckpt.get("ret_rms") is not None:
        rms = ckpt["ret_rms"]
        venv.ret_rms.mean = float(rms["mean"])
        venv.ret_rms.var = float(rms["var"])
        venv.ret_rms.count = float(rms["count"])
    _set_rng_state(ckpt["rng"])


def _rng_state() -> dict:
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy_keys": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "numpy_gauss": [int(np_state[3]), float(np_state[4])],
        "python": random.getstate(),
    }


def _set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    np.random.set_state(
        ("MT19937", s["numpy_keys"].numpy().astype(np.uint32), s["numpy_pos"], *s["numpy_gauss"])
    )
    version, internal, gauss = s["python"]
    random.setstate((version, tuple(internal), gauss))


def open_run(config, resume: bool) -> dict | None:
    """Start or reopen ``config.run_dir`` for a training run; returns the checkpoint dict to
    resume from (None for a fresh run).

    Every check happens before anything is written: a resume needs a readable checkpoint made
    with the same ``rgb_style`` (for rgb) and the same ``teacher``; a fresh run needs a run
    directory without checkpoints. Then temp files an interrupted write left are removed and
    ``config.json`` is (re)written.
    """
    import json

    from ..checkpoint import atomic_write_text
    from ..policy import LEGACY_RGB_STYLE

    run_dir = Path(config.run_dir)
    ckpt_dir = run_dir / "checkpoints"
    ckpt = None
    if resume:
        if latest_checkpoint(run_dir) is None:
            raise ValueError(f"cannot resume: no checkpoints in {ckpt_dir}")
        found = newest_readable_checkpoint(run_dir)
        if found is None:
            raise ValueError(f"cannot resume: no checkpoint in {ckpt_dir} is readable")
        ckpt = found[1]
        saved_style = ckpt["config"].get("rgb_style", LEGACY_RGB_STYLE)
        if config.obs == "rgb" and saved_style != config.rgb_style:
            raise ValueError(
                f"cannot resume: the run trained on rgb_style={saved_style!r} frames but "
                f"the config says rgb_style={config.rgb_style!r}"
            )
        saved_teacher = ckpt["config"].get("teacher")
        if saved_teacher != config.teacher:
            raise ValueError(
                f"cannot resume: the run was trained with teacher={saved_teacher!r} but the "
                f"config says teacher={config.teacher!r}"
            )
    elif latest_checkpoint(run_dir) is not None:
        raise ValueError(f"{run_dir} already holds checkpoints: resume it or choose a new run_dir")
    for tmp in clean_orphaned_temp_files(run_dir):
        print(f"removed {tmp}, left by an interrupted write", file=sys.stderr, flush=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.json", json.dumps(config.to_dict(), indent=2) + "\n")
    return ckpt
