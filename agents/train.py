"""PPO training of the IMPALA policy on stable-baselines3, resumable, with logs and a model card.

:class:`TrainConfig` holds every setting (each field's ``help`` metadata is its documentation,
also shown by ``scripts/train.py --help``); :func:`train` runs it. A run directory holds::

    config.json            the full config (written at start; --resume reads it back)
    checkpoints/ckpt_<steps>.pt   full training state (policy, optimizer, step counter, RNG
                           states, reward-normalisation stats), written atomically every
                           ``checkpoint_minutes`` / ``checkpoint_steps``; the last
                           ``keep_checkpoints`` are kept
    model.pt               the latest weights in our checkpoint format (agents.load)
    train_log.csv          one row per PPO iteration (steps, steps/s, return, cheese rate,
                           cheese rate by maze-size bucket, episode length, PPO statistics)
    tb/                    TensorBoard event files
    card.json              the model card, written at the end (evaluation on held-out levels)

**Held-out levels.** Training draws level seeds procgen's way from
``[start_level, start_level + num_levels)`` (default ``[0, 10^9)``); the final evaluation uses
the ``eval_levels`` consecutive seeds starting at ``eval_start_level`` (default
``start_level + num_levels``), which no training episode can have seen. ``num_levels = 0``
(procgen's unbounded draw over ``[0, 2^31-1)``) is refused unless ``eval_start_level`` is set
explicitly, because then no seed range is guaranteed unseen.

**Resuming.** ``train(config, resume=True)`` continues from the newest checkpoint in
``config.run_dir``: policy, optimizer, step counter, learning-rate schedule position, torch /
numpy / python RNG states and reward-normalisation statistics are restored, ``train_log.csv``
is cut back to the checkpoint's step, and training continues up to ``total_steps``. The
environments are rebuilt with seed ``env_seed + steps`` (episodes in flight at the kill are
lost), so a resumed run is deterministic but not bit-identical to an uninterrupted one.
SIGTERM or Ctrl-C stops a run cleanly: it writes a checkpoint (no evaluation, no card) and
returns with ``stopped=True``; ``kill -9`` loses at most the steps since the last checkpoint.

**Determinism.** On CPU with a fixed ``seed`` and ``torch_threads``, two runs give identical
weights.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import platform
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .checkpoint import atomic_torch_save, atomic_write_text, save
from .model import SCALES
from .policy import OBS_KINDS, Policy

__all__ = [
    "TrainConfig",
    "train",
    "load_config_file",
    "latest_checkpoint",
    "policy_from_train_checkpoint",
    "size_bucket",
    "SIZE_BUCKETS",
    "LOG_COLUMNS",
    "git_commit",
    "machine_info",
    "make_card",
    "snapshot_to_zoo",
    "build_arg_parser",
    "config_from_args",
]

TRAIN_FORMAT = "cheese-maze-train/1"

#: Maze-size buckets used in logs and cards (inclusive ranges of odd maze sizes).
SIZE_BUCKETS = {"small": (3, 9), "medium": (11, 17), "large": (19, 25)}

LOG_COLUMNS = [
    "steps",
    "wall_time_s",
    "steps_per_s",
    "episodes",
    "ep_return_mean",
    "ep_len_mean",
    "cheese_rate",
    "cheese_rate_small",
    "cheese_rate_medium",
    "cheese_rate_large",
    "learning_rate",
    "entropy",
    "clip_fraction",
    "approx_kl",
    "value_loss",
    "policy_loss",
    "explained_variance",
]


def size_bucket(maze_size: int) -> str:
    """Name of the :data:`SIZE_BUCKETS` bucket holding ``maze_size``.

    >>> size_bucket(3), size_bucket(13), size_bucket(25)
    ('small', 'medium', 'large')
    """
    for name, (lo, hi) in SIZE_BUCKETS.items():
        if lo <= maze_size <= hi:
            return name
    raise ValueError(f"maze size must be in 3..25, got {maze_size}")


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """Everything a training run needs. Field documentation is each field's ``help`` metadata.

    >>> c = TrainConfig(total_steps=1000, n_envs=4, n_steps=32, batch_size=64)
    >>> c.cheese
    'top-right:5'
    >>> TrainConfig(gamma=1.5)
    Traceback (most recent call last):
    ...
    ValueError: gamma must be in (0, 1], got 1.5
    """

    run_dir: str = _f("runs/train", "Run directory (config, checkpoints, logs, card).")
    # --- environment ---
    distribution_mode: str = _f(
        "hard", "procgen distribution mode: 'hard' (25x25 world) or 'easy' (15x15)."
    )
    maze_size: str | None = _f(
        None,
        "Maze sizes: none = procgen's own draw (odd sizes 3..25 in hard mode); '9' or '3,5,7'.",
    )
    cheese_region: int = _f(
        5,
        "Cheese region n: cheese uniform over the top-right n x n inner cells (AISC rand_region).",
    )
    obs: str = _f(
        "grid", "Observation kind: 'grid' (3x25x25 wall/mouse/cheese) or 'rgb' (64x64 pixels)."
    )
    num_levels: int = _f(
        1_000_000_000, "Training level seeds are drawn from [start_level, start_level+num_levels)."
    )
    start_level: int = _f(0, "First training level seed.")
    env_seed: int | None = _f(None, "Seed of the env's level-seed generator (none = seed).")
    max_steps: int = _f(500, "Episode timeout in steps (procgen: 500).")
    # --- model ---
    scale: int = _f(1, "IMPALA scale: 1 = channels (16,32,32), 2 = (32,64,64), 4 = (64,128,128).")
    fc_dim: int = _f(256, "Width of the fully connected layer.")
    fast: bool = _f(
        True, "bf16 autocast + channels_last in rollouts and updates (~2x faster on CPU)."
    )
    action_set: str = _f(
        "all",
        "'all' (procgen's 15 actions) or 'moves' (only LEFT/DOWN/UP/RIGHT = 1/3/5/7; the other "
        "11 duplicate a move or do nothing). The head stays 15 wide: disabled actions get a "
        "-30 logit through the weights, so checkpoints keep procgen-tools' layout.",
    )
    # --- PPO (defaults: Langosco et al. 2022, batch scaled down to a 2-core machine) ---
    total_steps: int = _f(25_000_000, "Total environment steps to train for (across resumes).")
    n_envs: int = _f(64, "Parallel environments.")
    n_steps: int = _f(256, "Rollout length per environment per PPO iteration.")
    batch_size: int = _f(2048, "PPO minibatch size (must divide n_envs * n_steps).")
    n_epochs: int = _f(3, "PPO epochs per iteration.")
    learning_rate: float = _f(
        5e-4, "Adam learning rate (initial value if lr_schedule is 'linear')."
    )
    lr_schedule: str = _f("linear", "'linear' (decay to 0 at total_steps) or 'constant'.")
    gamma: float = _f(0.999, "Discount factor.")
    gae_lambda: float = _f(0.95, "GAE lambda.")
    clip_range: float = _f(0.2, "PPO clip range.")
    ent_coef: float = _f(0.01, "Entropy bonus coefficient.")
    vf_coef: float = _f(0.5, "Value loss coefficient.")
    max_grad_norm: float = _f(0.5, "Gradient norm clip.")
    adam_eps: float = _f(1e-5, "Adam epsilon.")
    normalize_reward: bool = _f(
        True, "Scale rewards by a running std of discounted returns (VecNormalize)."
    )
    target_kl: float | None = _f(
        None, "Stop an iteration's epochs early above this approx KL (none = off)."
    )
    # --- run ---
    seed: int = _f(
        0, "Seed of torch / numpy / python RNGs (and of the envs unless env_seed is set)."
    )
    device: str = _f("auto", "torch device: 'auto' (cuda if available), 'cpu', 'cuda', ...")
    torch_threads: int = _f(2, "torch.set_num_threads (CPU).")
    checkpoint_minutes: float = _f(
        5.0, "Write a checkpoint at least this often (wall-clock minutes; 0 = off)."
    )
    checkpoint_steps: int = _f(0, "Also write a checkpoint every this many env steps (0 = off).")
    keep_checkpoints: int = _f(3, "How many of the newest checkpoints to keep.")
    eval_levels: int = _f(
        1000, "Held-out levels for the final evaluation in the model card (0 = skip)."
    )
    eval_start_level: int | None = _f(
        None, "First held-out level seed (none = start_level + num_levels)."
    )
    eval_deterministic: bool = _f(False, "Evaluate with argmax actions instead of sampled actions.")
    tensorboard: bool = _f(True, "Write TensorBoard logs under RUN_DIR/tb.")
    progress: bool = _f(True, "Show a tqdm progress bar.")

    def __post_init__(self) -> None:
        self.validate()

    # -- derived values --
    @property
    def cheese(self) -> str:
        """The env's cheese placement spec."""
        return f"top-right:{self.cheese_region}"

    @property
    def channels(self) -> tuple[int, int, int]:
        return SCALES[self.scale]

    @property
    def held_out_start(self) -> int:
        """First level seed of the evaluation range."""
        return (
            self.start_level + self.num_levels
            if self.eval_start_level is None
            else self.eval_start_level
        )

    def maze_sizes(self) -> int | tuple[int, ...] | None:
        """``maze_size`` parsed: None, one int or a tuple of ints."""
        if self.maze_size is None or str(self.maze_size).lower() in ("", "none"):
            return None
        try:
            sizes = tuple(int(s) for s in str(self.maze_size).split(","))
        except ValueError:
            raise ValueError(
                f"maze_size must be 'none' or odd ints like '9' or '3,5,7', got {self.maze_size!r}"
            ) from None
        top = 25 if self.distribution_mode == "hard" else 15
        for s in sizes:
            if s < 3 or s > top or s % 2 == 0:
                raise ValueError(f"maze sizes must be odd in 3..{top}, got {s}")
        return sizes[0] if len(sizes) == 1 else sizes

    def validate(self) -> None:
        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise ValueError(msg)

        need(
            self.distribution_mode in ("hard", "easy"),
            f"distribution_mode must be 'hard' or 'easy', got {self.distribution_mode!r}",
        )
        need(self.obs in OBS_KINDS, f"obs must be one of {sorted(OBS_KINDS)}, got {self.obs!r}")
        need(self.scale in SCALES, f"scale must be one of {sorted(SCALES)}, got {self.scale}")
        need(self.cheese_region >= 1, f"cheese_region must be >= 1, got {self.cheese_region}")
        need(self.num_levels >= 0, f"num_levels must be >= 0, got {self.num_levels}")
        need(
            0 <= self.start_level < 2**31 - 1,
            f"start_level must be in [0, 2^31-1), got {self.start_level}",
        )
        need(
            self.start_level + self.num_levels <= 2**31 - 1,
            f"start_level + num_levels must be <= 2^31-1, got {self.start_level + self.num_levels}",
        )
        need(self.max_steps >= 1, f"max_steps must be >= 1, got {self.max_steps}")
        need(self.fc_dim >= 1, f"fc_dim must be >= 1, got {self.fc_dim}")
        need(self.total_steps >= 1, f"total_steps must be >= 1, got {self.total_steps}")
        need(self.n_envs >= 1, f"n_envs must be >= 1, got {self.n_envs}")
        need(self.n_steps >= 2, f"n_steps must be >= 2, got {self.n_steps}")
        need(self.batch_size >= 2, f"batch_size must be >= 2, got {self.batch_size}")
        need(
            (self.n_envs * self.n_steps) % self.batch_size == 0,
            f"batch_size must divide n_envs * n_steps = {self.n_envs * self.n_steps}, "
            f"got {self.batch_size}",
        )
        need(self.n_epochs >= 1, f"n_epochs must be >= 1, got {self.n_epochs}")
        need(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
        need(
            self.lr_schedule in ("linear", "constant"),
            f"lr_schedule must be 'linear' or 'constant', got {self.lr_schedule!r}",
        )
        need(0 < self.gamma <= 1, f"gamma must be in (0, 1], got {self.gamma}")
        need(0 <= self.gae_lambda <= 1, f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
        need(self.clip_range > 0, f"clip_range must be > 0, got {self.clip_range}")
        need(
            self.action_set in ("all", "moves"),
            f"action_set must be 'all' or 'moves', got {self.action_set!r}",
        )
        need(self.ent_coef >= 0, f"ent_coef must be >= 0, got {self.ent_coef}")
        need(self.vf_coef >= 0, f"vf_coef must be >= 0, got {self.vf_coef}")
        need(self.max_grad_norm > 0, f"max_grad_norm must be > 0, got {self.max_grad_norm}")
        need(self.adam_eps > 0, f"adam_eps must be > 0, got {self.adam_eps}")
        need(
            self.target_kl is None or self.target_kl > 0,
            f"target_kl must be > 0 or none, got {self.target_kl}",
        )
        need(self.torch_threads >= 1, f"torch_threads must be >= 1, got {self.torch_threads}")
        need(
            self.checkpoint_minutes >= 0,
            f"checkpoint_minutes must be >= 0, got {self.checkpoint_minutes}",
        )
        need(
            self.checkpoint_steps >= 0,
            f"checkpoint_steps must be >= 0, got {self.checkpoint_steps}",
        )
        need(
            self.keep_checkpoints >= 1,
            f"keep_checkpoints must be >= 1, got {self.keep_checkpoints}",
        )
        need(self.eval_levels >= 0, f"eval_levels must be >= 0, got {self.eval_levels}")
        need(
            self.eval_levels == 0 or self.num_levels > 0 or self.eval_start_level is not None,
            "num_levels = 0 (unbounded training seeds) leaves no guaranteed held-out range: "
            "set num_levels > 0 or eval_start_level explicitly",
        )
        if self.eval_levels and self.num_levels > 0:
            lo, hi = self.held_out_start, self.held_out_start + self.eval_levels
            need(
                hi <= self.start_level or lo >= self.start_level + self.num_levels,
                f"evaluation levels [{lo}, {hi}) overlap the training levels "
                f"[{self.start_level}, {self.start_level + self.num_levels})",
            )
            need(hi <= 2**31 - 1, f"evaluation levels [{lo}, {hi}) exceed 2^31-1")
        self.maze_sizes()

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {unknown}; allowed: {sorted(names)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)


def load_config_file(path: str | os.PathLike) -> dict:
    """Read a YAML (``.yaml``/``.yml``) or JSON config file into a dict of TrainConfig fields."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"config file not found: {p}")
    text = p.read_text()
    if p.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text) or {}
    elif p.suffix == ".json":
        data = json.loads(text)
    else:
        raise ValueError(f"config file must end in .yaml, .yml or .json, got {p.name!r}")
    if not isinstance(data, dict):
        raise ValueError(f"config file {p} must hold a mapping, got {type(data).__name__}")
    return data


# ------------------------------------------------------------------------------------------
# machine / provenance
# ------------------------------------------------------------------------------------------
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
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
    }
    if str(device).startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


# ------------------------------------------------------------------------------------------
# checkpoints of the training state
# ------------------------------------------------------------------------------------------
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


def policy_from_train_checkpoint(path: str | os.PathLike) -> tuple[Policy, dict]:
    """``(Policy, checkpoint dict)`` from a training checkpoint (``checkpoints/ckpt_*.pt``)."""
    from .model import ImpalaModel

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


# ------------------------------------------------------------------------------------------
# training
# ------------------------------------------------------------------------------------------
def _make_env(config: TrainConfig, seed: int):
    import mazegen

    return mazegen.make_vec_env(
        config.n_envs,
        obs=config.obs,
        distribution_mode=config.distribution_mode,
        maze_size=config.maze_sizes(),
        cheese=config.cheese,
        mouse="start",
        num_levels=config.num_levels,
        start_level=config.start_level,
        seed=seed,
        max_steps=config.max_steps,
    )


def _episode_maze_size(info: dict) -> int | None:
    for key in ("maze_size", "maze_dim"):
        if key in info:
            return int(info[key])
    return None


class _Recorder:
    """Accumulates finished episodes between two log rows."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.returns: list[float] = []
        self.lengths: list[int] = []
        self.cheese: list[bool] = []
        self.bucket_hits: dict[str, list[bool]] = {k: [] for k in SIZE_BUCKETS}

    def add(self, info: dict) -> None:
        ep = info.get("episode")
        if ep is None:
            return
        self.returns.append(float(ep["r"]))
        self.lengths.append(int(ep["l"]))
        got = bool(info.get("got_cheese", ep["r"] > 0))
        self.cheese.append(got)
        size = _episode_maze_size(info)
        if size is not None:
            self.bucket_hits[size_bucket(size)].append(got)


def _mean(xs) -> float:
    return float(np.mean(xs)) if len(xs) else float("nan")


def _truncate_log(path: Path, max_steps: int) -> None:
    if not path.is_file():
        return
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(float(r["steps"])) <= max_steps]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=LOG_COLUMNS)
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    env_fn: Callable[[TrainConfig, int], Any] | None = None,
) -> dict:
    """Train (or, with ``resume=True``, continue training) as ``config`` says; returns a summary.

    ``env_fn(config, seed) -> SB3 VecEnv`` replaces ``mazegen.make_vec_env`` (tests use it).
    The summary holds ``run_dir``, ``steps``, ``wall_time_s``, ``card`` (path or None),
    ``evaluation`` and ``stopped`` (True after SIGTERM / Ctrl-C).
    """
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.utils import set_random_seed
    from stable_baselines3.common.vec_env import VecNormalize
    from tqdm.auto import tqdm

    from .sb3_policy import ImpalaActorCriticPolicy, policy_from_sb3

    config.validate()
    run_dir = Path(config.run_dir)
    ckpt_dir = run_dir / "checkpoints"
    log_path = run_dir / "train_log.csv"
    device = _resolve_device(config.device)
    torch.set_num_threads(config.torch_threads)

    ckpt = None
    if resume:
        latest = latest_checkpoint(run_dir)
        if latest is None:
            raise ValueError(f"cannot resume: no checkpoints in {ckpt_dir}")
        ckpt = _read_train_checkpoint(latest)
    elif latest_checkpoint(run_dir) is not None:
        raise ValueError(f"{run_dir} already holds checkpoints: resume it or choose a new run_dir")
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.json", json.dumps(config.to_dict(), indent=2) + "\n")

    start_steps = int(ckpt["num_timesteps"]) if ckpt else 0
    prior_wall = float(ckpt["wall_time_s"]) if ckpt else 0.0
    env_seed = (config.seed if config.env_seed is None else config.env_seed) + start_steps

    set_random_seed(config.seed)
    make = env_fn or _make_env
    venv = make(config, env_seed)
    if config.normalize_reward:
        venv = VecNormalize(
            venv, norm_obs=False, norm_reward=True, gamma=config.gamma, clip_reward=10.0
        )

    lr0 = config.learning_rate
    lr_sched = (lambda p: lr0 * p) if config.lr_schedule == "linear" else (lambda p: lr0)
    model = PPO(
        ImpalaActorCriticPolicy,
        venv,
        learning_rate=lr_sched,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=config.n_epochs,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        clip_range=config.clip_range,
        ent_coef=config.ent_coef,
        vf_coef=config.vf_coef,
        max_grad_norm=config.max_grad_norm,
        target_kl=config.target_kl,
        policy_kwargs={
            "channels": config.channels,
            "fc_dim": config.fc_dim,
            "fast": config.fast,
            "action_set": config.action_set,
            "optimizer_kwargs": {"eps": config.adam_eps},
        },
        device=device,
        verbose=0,
        seed=None,
    )
    model.set_logger(
        configure(
            str(run_dir / "tb") if config.tensorboard else None,
            ["tensorboard"] if config.tensorboard else [],
        )
    )
    if ckpt is not None:
        model.policy.load_state_dict(ckpt["policy"])
        model.policy.optimizer.load_state_dict(ckpt["optimizer"])
        model.num_timesteps = start_steps
        model._n_updates = int(ckpt["n_updates"])
        if config.normalize_reward and ckpt.get("ret_rms") is not None:
            rms = ckpt["ret_rms"]
            venv.ret_rms.mean = float(rms["mean"])
            venv.ret_rms.var = float(rms["var"])
            venv.ret_rms.count = float(rms["count"])
        _set_rng_state(ckpt["rng"])
        _truncate_log(log_path, start_steps)

    t_start = time.time()

    def wall() -> float:
        return prior_wall + time.time() - t_start

    def write_checkpoint() -> Path:
        steps = int(model.num_timesteps)
        payload = {
            "format": TRAIN_FORMAT,
            "num_timesteps": steps,
            "n_updates": int(model._n_updates),
            "wall_time_s": wall(),
            "config": config.to_dict(),
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
        }
        path = atomic_torch_save(payload, ckpt_dir / _ckpt_name(steps))
        pol = policy_from_sb3(model.policy)
        save(
            pol,
            run_dir / "model.pt",
            metadata={
                "steps": steps,
                "wall_time_s": payload["wall_time_s"],
                "config": config.to_dict(),
            },
        )
        for old in sorted(ckpt_dir.glob("ckpt_*.pt"))[: -config.keep_checkpoints]:
            old.unlink()
        return path

    new_log = not log_path.is_file()
    log_file = open(log_path, "a", newline="")
    writer = csv.DictWriter(log_file, fieldnames=LOG_COLUMNS)
    if new_log:
        writer.writeheader()
        log_file.flush()
    pbar = tqdm(
        total=config.total_steps,
        initial=min(start_steps, config.total_steps),
        unit="step",
        unit_scale=True,
        disable=not config.progress,
        dynamic_ncols=True,
    )

    class Callback(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.rec = _Recorder()
            self.last_ckpt_steps = start_steps
            self.last_ckpt_time = time.time()
            self.last_row_time = time.time()
            self.last_row_steps = start_steps

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    self.rec.add(info)
            return not stop_requested

        def _on_rollout_start(self) -> None:
            # The policy here has been updated with every step counted so far: a clean point.
            steps = self.model.num_timesteps
            if steps == self.last_ckpt_steps:
                return
            due_time = (
                config.checkpoint_minutes > 0
                and time.time() - self.last_ckpt_time >= 60 * config.checkpoint_minutes
            )
            due_steps = (
                config.checkpoint_steps > 0
                and steps - self.last_ckpt_steps >= config.checkpoint_steps
            )
            if due_time or due_steps:
                write_checkpoint()
                self.last_ckpt_steps, self.last_ckpt_time = steps, time.time()

        def _on_rollout_end(self) -> None:
            now, steps = time.time(), self.model.num_timesteps
            nv = self.model.logger.name_to_value
            rec = self.rec
            row = {
                "steps": steps,
                "wall_time_s": round(wall(), 2),
                "steps_per_s": round(
                    (steps - self.last_row_steps) / max(now - self.last_row_time, 1e-9), 1
                ),
                "episodes": len(rec.returns),
                "ep_return_mean": _mean(rec.returns),
                "ep_len_mean": _mean(rec.lengths),
                "cheese_rate": _mean(rec.cheese),
                **{f"cheese_rate_{k}": _mean(v) for k, v in rec.bucket_hits.items()},
                "learning_rate": lr_sched(1.0 - steps / config.total_steps)
                if steps < config.total_steps
                else 0.0,
                "entropy": -nv["train/entropy_loss"]
                if "train/entropy_loss" in nv
                else float("nan"),
                "clip_fraction": nv.get("train/clip_fraction", float("nan")),
                "approx_kl": nv.get("train/approx_kl", float("nan")),
                "value_loss": nv.get("train/value_loss", float("nan")),
                "policy_loss": nv.get("train/policy_gradient_loss", float("nan")),
                "explained_variance": nv.get("train/explained_variance", float("nan")),
            }
            writer.writerow(row)
            log_file.flush()
            for k in (
                "steps_per_s",
                "ep_return_mean",
                "ep_len_mean",
                "cheese_rate",
                "cheese_rate_small",
                "cheese_rate_medium",
                "cheese_rate_large",
            ):
                if not math.isnan(row[k]):
                    self.model.logger.record(f"maze/{k}", row[k])
            pbar.update(max(0, min(steps, config.total_steps) - pbar.n))
            pbar.set_postfix(
                cheese=f"{row['cheese_rate']:.3f}", sps=f"{row['steps_per_s']:.0f}", refresh=False
            )
            self.last_row_time, self.last_row_steps = now, steps
            rec.reset()

    callback = Callback()
    stop_requested = False

    def request_stop(signum, frame) -> None:
        nonlocal stop_requested
        stop_requested = True

    import signal
    import threading

    old_handlers = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            old_handlers[sig] = signal.signal(sig, request_stop)
    try:
        remaining = config.total_steps - start_steps
        if remaining > 0:
            model.learn(
                total_timesteps=remaining,
                callback=callback,
                reset_num_timesteps=False,
                log_interval=1,
            )
        if model.num_timesteps != callback.last_ckpt_steps or latest_checkpoint(run_dir) is None:
            write_checkpoint()
    finally:
        for sig, h in old_handlers.items():
            signal.signal(sig, h)
        pbar.close()
        log_file.close()
        venv.close()
    if stop_requested:
        # SIGTERM / Ctrl-C: the checkpoint above holds everything; resume with --resume RUN_DIR.
        return {
            "run_dir": str(run_dir),
            "steps": int(model.num_timesteps),
            "wall_time_s": wall(),
            "card": None,
            "evaluation": None,
            "stopped": True,
        }

    wall_time = wall()
    steps = int(model.num_timesteps)
    evaluation = None
    card_path = None
    if config.eval_levels > 0:
        from .evaluate import evaluate

        policy = policy_from_sb3(model.policy, fast=config.fast)
        evaluation = evaluate(
            policy,
            n_levels=config.eval_levels,
            seed=config.held_out_start,
            cheese=config.cheese,
            sizes=config.maze_sizes(),
            distribution_mode=config.distribution_mode,
            max_steps=config.max_steps,
            deterministic=config.eval_deterministic,
        )
    card = make_card(
        config, run_dir, steps=steps, wall_time_s=wall_time, evaluation=evaluation, device=device
    )
    card_path = atomic_write_text(run_dir / "card.json", json.dumps(card, indent=2) + "\n")
    return {
        "run_dir": str(run_dir),
        "steps": steps,
        "wall_time_s": wall_time,
        "card": str(card_path),
        "evaluation": evaluation,
        "stopped": False,
    }


def learning_curve_summary(log_path: str | os.PathLike, n_points: int = 10) -> dict:
    """A compact learning curve from ``train_log.csv``: about ``n_points`` rows.

    Each point holds steps, wall time, steps/s, cheese rate (overall and by size bucket),
    episode length and entropy.
    """
    p = Path(log_path)
    if not p.is_file():
        return {"rows": 0, "points": []}
    with open(p, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {"rows": 0, "points": []}
    idx = sorted(
        set(np.linspace(0, len(rows) - 1, min(n_points, len(rows))).round().astype(int).tolist())
    )
    keys = [
        "steps",
        "wall_time_s",
        "steps_per_s",
        "cheese_rate",
        "cheese_rate_small",
        "cheese_rate_medium",
        "cheese_rate_large",
        "ep_len_mean",
        "entropy",
    ]
    points = []
    for i in idx:
        points.append(
            {k: (None if rows[i].get(k) in (None, "", "nan") else float(rows[i][k])) for k in keys}
        )
    last = rows[-min(10, len(rows)) :]
    rates = [float(r["cheese_rate"]) for r in last if r["cheese_rate"] not in ("", "nan")]
    return {
        "rows": len(rows),
        "final_train_cheese_rate_last10_rows": float(np.mean(rates)) if rates else None,
        "mean_steps_per_s": float(np.nanmean([float(r["steps_per_s"]) for r in rows[1:]]))
        if len(rows) > 1
        else None,
        "points": points,
    }


def make_card(
    config: TrainConfig,
    run_dir: str | os.PathLike,
    *,
    steps: int,
    wall_time_s: float,
    evaluation: dict | None,
    device: str = "cpu",
) -> dict:
    """The model card dict (config, steps, wall time, machine, git commit, evaluation, curve)."""
    return {
        "config": config.to_dict(),
        "model": {
            "arch": "IMPALA",
            "channels": list(config.channels),
            "fc_dim": config.fc_dim,
            "obs": config.obs,
        },
        "steps": int(steps),
        "wall_time_s": round(float(wall_time_s), 1),
        "machine": machine_info(device),
        "git_commit": git_commit(),
        "training_levels": {"start_level": config.start_level, "num_levels": config.num_levels},
        "evaluation": evaluation,
        "learning_curve": learning_curve_summary(Path(run_dir) / "train_log.csv"),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


# ------------------------------------------------------------------------------------------
# CLI support (scripts/train.py stays thin)
# ------------------------------------------------------------------------------------------
def _field_type(f: dataclasses.Field) -> Callable[[str], Any]:
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    base = t.replace(" | None", "").strip()
    conv = {"int": int, "float": float, "str": str}[base]
    if "None" in t:
        return lambda s: None if s.lower() in ("none", "null", "") else conv(s)
    return conv


def build_arg_parser(prog: str | None = None):
    """argparse parser with one ``--flag`` per TrainConfig field (help from the field metadata)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Train the IMPALA maze policy with PPO (stable-baselines3). "
        "Settings come from defaults < --config file < command-line flags.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--config", help="YAML or JSON file of TrainConfig fields.")
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="Continue the run in RUN_DIR from its last checkpoint (its config.json, then flags).",
    )
    group = parser.add_argument_group("TrainConfig fields")
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            group.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=f.metadata["help"] + f" (default: {f.default})",
            )
        else:
            group.add_argument(
                flag,
                type=_field_type(f),
                default=argparse.SUPPRESS,
                metavar=f.name.upper(),
                help=f.metadata["help"] + f" (default: {f.default})",
            )
    return parser


def config_from_args(argv: list[str] | None = None) -> tuple[TrainConfig, bool]:
    """Parse CLI arguments into ``(config, resume)``."""
    args = vars(build_arg_parser().parse_args(argv))
    config_file = args.pop("config", None)
    resume_dir = args.pop("resume", None)
    values: dict = {}
    if resume_dir is not None:
        cfg_path = Path(resume_dir) / "config.json"
        if not cfg_path.is_file():
            raise ValueError(f"cannot resume {resume_dir}: no config.json there")
        values.update(load_config_file(cfg_path))
    if config_file is not None:
        values.update(load_config_file(config_file))
    values.update(args)
    if resume_dir is not None:
        values["run_dir"] = str(resume_dir)
    return TrainConfig.from_dict(values), resume_dir is not None


# ------------------------------------------------------------------------------------------
# publishing a run's latest checkpoint to the zoo
# ------------------------------------------------------------------------------------------
def snapshot_to_zoo(
    run_dir: str | os.PathLike,
    name: str,
    *,
    eval_levels: int | None = None,
    zoo_root: str | os.PathLike | None = None,
    fast: bool = True,
) -> Path:
    """Turn the newest checkpoint of ``run_dir`` into zoo agent ``name``; returns its directory.

    Writes ``model.pt``, ``card.json`` (config, steps, wall time, machine, git commit, a fresh
    evaluation on held-out levels, learning-curve summary) and ``train_log.csv`` (cut at the
    checkpoint's step), each atomically. ``eval_levels`` defaults to the run's own setting
    (at least 1000 unless the run says 0 = skip).
    """
    import re

    from .checkpoint import ZOO_DIR

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or name == "configs":
        raise ValueError(
            f"zoo name must match [A-Za-z0-9][A-Za-z0-9._-]* and not be 'configs', got {name!r}"
        )
    ckpt = latest_checkpoint(run_dir)
    if ckpt is None:
        raise ValueError(f"no checkpoints in {Path(run_dir) / 'checkpoints'}")
    policy, data = policy_from_train_checkpoint(ckpt)
    config = TrainConfig.from_dict(data["config"])
    steps = int(data["num_timesteps"])
    n_eval = config.eval_levels if eval_levels is None else int(eval_levels)
    if n_eval < 0:
        raise ValueError(f"eval_levels must be >= 0, got {n_eval}")
    evaluation = None
    if n_eval > 0:
        from .evaluate import evaluate

        policy.fast = fast
        evaluation = evaluate(
            policy,
            n_levels=n_eval,
            seed=config.held_out_start,
            cheese=config.cheese,
            sizes=config.maze_sizes(),
            distribution_mode=config.distribution_mode,
            max_steps=config.max_steps,
            deterministic=config.eval_deterministic,
        )
        policy.fast = False
    out = Path(zoo_root) if zoo_root is not None else ZOO_DIR
    dest = out / name
    dest.mkdir(parents=True, exist_ok=True)
    log_src = Path(run_dir) / "train_log.csv"
    if log_src.is_file():
        with open(log_src, newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(float(r["steps"])) <= steps]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=LOG_COLUMNS)
        w.writeheader()
        w.writerows(rows)
        atomic_write_text(dest / "train_log.csv", buf.getvalue())
    card = make_card(
        config, dest, steps=steps, wall_time_s=float(data["wall_time_s"]), evaluation=evaluation
    )
    card["source"] = {"run_dir": str(run_dir), "checkpoint": ckpt.name}
    save(
        policy,
        dest / "model.pt",
        metadata={
            "steps": steps,
            "wall_time_s": float(data["wall_time_s"]),
            "config": config.to_dict(),
            "zoo_name": name,
        },
    )
    atomic_write_text(dest / "card.json", json.dumps(card, indent=2) + "\n")
    return dest
