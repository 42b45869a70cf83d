"""Training-state checkpoints (``checkpoints/ckpt_<steps>.pt``): what ``--resume`` restores.

A checkpoint holds the SB3 policy and optimizer state, the step and update counters, wall
time, the config, the torch / numpy / python RNG states and the reward-normalisation
statistics. :func:`policy_from_train_checkpoint` turns one into an analysis :class:`Policy`.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import torch

from ..policy import Policy

__all__ = [
    "TRAIN_FORMAT",
    "latest_checkpoint",
    "newest_readable_checkpoint",
    "clean_orphaned_temp_files",
    "policy_from_train_checkpoint",
]

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


def policy_from_train_checkpoint(path: str | os.PathLike) -> tuple[Policy, dict]:
    """``(Policy, checkpoint dict)`` from a training checkpoint (``checkpoints/ckpt_*.pt``)."""
    from ..model import ImpalaModel

    data = _read_train_checkpoint(Path(path))
    model = ImpalaModel(**data["model_config"])
    model.load_state_dict(
        {k.removeprefix("impala."): v for k, v in data["policy"].items() if k.startswith("impala.")}
    )
    policy = Policy(model, obs=data["config"]["obs"])
    policy.metadata = {
        "steps": int(data["num_timesteps"]),
        "config": data["config"],
        "wall_time_s": data["wall_time_s"],
    }
    return policy, data


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
