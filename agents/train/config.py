"""The training configuration: :class:`TrainConfig`, every setting of a training run.

Each field carries its documentation as ``help`` metadata; :mod:`agents.train.cli` turns every
field into a ``scripts/train.py`` ``--flag`` with that help and reads config files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from mazegen.checks import check_maze_size, is_int
from mazegen.constants import RGB_STYLES, WORLD_SIZE

from ..model import SCALES
from ..policy import LEGACY_RGB_STYLE, OBS_KINDS

__all__ = ["TrainConfig"]


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
    rgb_style: str = _f(
        "textured",
        "Frames for obs='rgb': 'textured' (procgen's own frame, backgrounds on) or 'mono' "
        "(procgen's monochrome-assets frame). Recorded in the checkpoints and the card.",
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
        True,
        "channels_last + bf16 autocast in rollouts and updates (~2x faster on a CPU with "
        "AMX/AVX512-BF16); bf16 only where the machine does it in hardware, fp32 elsewhere "
        "(agents.model.fast_precision).",
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
    ema_decay: float = _f(
        0.0,
        "Also keep an exponential moving average of the policy weights, updated once per PPO "
        "iteration as ema = d * ema + (1 - d) * weights (0 = off; 0.995 averages over about "
        "the last 200 iterations). It never feeds back into training: the run's own weights "
        "are the same with or without it. Checkpoints hold it, RUN_DIR/model_ema.pt is its "
        "latest copy and scripts/zoo_snapshot.py --weights ema publishes it. Switched on at a "
        "--resume, it starts from that checkpoint's weights.",
    )
    # --- distillation (instead of PPO) ---
    teacher: str | None = _f(
        None,
        "Train by distillation instead of PPO: a trained agent that sees the grid (zoo name or "
        "model.pt path) labels the states the student visits with its action probabilities and "
        "value, and the student fits them (DAgger; agents.train.distill). PPO-only settings "
        "(gamma, gae_lambda, clip_range, ent_coef, normalize_reward, target_kl) are then unused.",
    )
    teacher_mix_steps: int = _f(
        1_000_000,
        "Distillation: the share of steps acted by the teacher falls linearly from 1 at step 0 "
        "to 0 at this many steps (0 = the student acts from the start).",
    )
    replay_steps: int = _f(
        0,
        "Distillation: keep the last this many labelled states (DAgger's aggregated data set, "
        "a FIFO buffer in memory, refilled after a resume) and draw each fit's minibatches "
        "from all of them; each fit still takes n_epochs x n_envs x n_steps samples. 0 = fit "
        "only the latest rollout, whose mazes are still being played, so the student can learn "
        "them by heart; else at least n_envs x n_steps.",
    )
    monitor_every_steps: int = _f(
        0,
        "Distillation: every this many env steps, play the student alone (sampled) on "
        "monitor_levels held-out levels and append the rates to monitor_log.csv (0 = off). "
        "The seeds start 10^6 after the card's first held-out seed, so the card's levels stay "
        "unseen by whoever watches the monitor.",
    )
    monitor_levels: int = _f(200, "Distillation: held-out levels per monitor evaluation.")
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
    eval_greedy: bool = _f(
        True,
        "With sampled evaluation, also play the held-out levels with argmax actions and report "
        "those rates in the card under 'greedy' (greedy episodes that loop run to the step cap, "
        "so this about doubles the evaluation time).",
    )
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

    @property
    def monitor_start(self) -> int:
        """First level seed of the distillation monitor (``monitor_every_steps``): 10^6 seeds
        after :attr:`held_out_start`, past every seed the card plays."""
        return self.held_out_start + 1_000_000

    def resolved_device(self) -> str:
        """``device`` with ``"auto"`` resolved: ``"cuda"`` if available, else ``"cpu"``."""
        import torch

        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

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
        top = WORLD_SIZE["hard" if self.distribution_mode == "hard" else "easy"]
        for s in sizes:
            check_maze_size(s, f"maze_size entry ({self.distribution_mode} mode)", top)
        return sizes[0] if len(sizes) == 1 else sizes

    def validate(self) -> None:
        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise ValueError(msg)

        # int fields must hold integers: a YAML `true` is not 1, a float is not a count
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type == "int":
                need(is_int(v), f"{f.name} must be an integer, got {v!r}")
            elif f.type == "int | None":
                need(v is None or is_int(v), f"{f.name} must be an integer or none, got {v!r}")
        need(
            self.distribution_mode in ("hard", "easy"),
            f"distribution_mode must be 'hard' or 'easy', got {self.distribution_mode!r}",
        )
        need(self.obs in OBS_KINDS, f"obs must be one of {sorted(OBS_KINDS)}, got {self.obs!r}")
        need(
            self.rgb_style in RGB_STYLES,
            f"rgb_style must be one of {list(RGB_STYLES)}, got {self.rgb_style!r}",
        )
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
        need(0 <= self.ema_decay < 1, f"ema_decay must be in [0, 1), got {self.ema_decay}")
        need(
            self.teacher is None or self.teacher.strip() != "",
            "teacher must be a zoo name or a model.pt path, or none",
        )
        need(
            self.teacher_mix_steps >= 0,
            f"teacher_mix_steps must be >= 0, got {self.teacher_mix_steps}",
        )
        need(
            self.teacher is None or self.ema_decay == 0,
            f"ema_decay must be 0 with a teacher (distillation keeps no weight average), "
            f"got {self.ema_decay}",
        )
        n_rollout = self.n_envs * self.n_steps
        need(
            self.replay_steps == 0 or self.replay_steps >= n_rollout,
            f"replay_steps must be 0 or at least n_envs x n_steps = {n_rollout}, "
            f"got {self.replay_steps}",
        )
        need(self.monitor_every_steps >= 0,
             f"monitor_every_steps must be >= 0, got {self.monitor_every_steps}")
        need(self.monitor_levels >= 1, f"monitor_levels must be >= 1, got {self.monitor_levels}")
        for name in ("replay_steps", "monitor_every_steps"):
            need(
                self.teacher is not None or getattr(self, name) == 0,
                f"{name} applies to distillation only (set teacher), got {getattr(self, name)}",
            )
        if self.monitor_every_steps:
            need(
                self.num_levels > 0 or self.eval_start_level is not None,
                "monitor_every_steps needs held-out levels: num_levels > 0 or eval_start_level set",
            )
            lo, hi = self.monitor_start, self.monitor_start + self.monitor_levels
            need(
                hi <= 2**31 - 1
                and (self.num_levels == 0 or hi <= self.start_level
                     or lo >= self.start_level + self.num_levels),
                f"monitor levels [{lo}, {hi}) must lie outside the training levels and below 2^31-1",
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
    def from_dict(cls, d: dict, *, saved: bool = False) -> "TrainConfig":
        """A config from a dict of fields (missing ones take their defaults).

        ``saved``: ``d`` is a config a training run wrote (``config.json``, a checkpoint).
        One saved before ``rgb_style`` existed played monochrome frames, so it reads as
        ``rgb_style=LEGACY_RGB_STYLE`` (``"mono"``), not as today's default.
        """
        if saved and "rgb_style" not in d:
            d = {**d, "rgb_style": LEGACY_RGB_STYLE}
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {unknown}; allowed: {sorted(names)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)
