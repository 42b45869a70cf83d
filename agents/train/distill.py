"""Distillation: train a student from a teacher agent's action choices (DAgger), not PPO.

:func:`distill` runs when a :class:`~agents.train.config.TrainConfig` names a ``teacher``
(``scripts/train.py --teacher grid-r5-long-s1 ...``). The student is the network PPO would
train (same architecture, initialisation, action set and env); the teacher is a trained
agent that sees the ``grid`` view of the very same states (:meth:`mazegen.env.EpisodeState.grid_obs`).

One iteration:

1. **Roll out** ``n_envs x n_steps`` steps on the training levels. Each step's action is the
   teacher's sampled action with probability ``beta`` and the student's otherwise; ``beta``
   falls linearly from 1 at step 0 to 0 at ``teacher_mix_steps`` (DAgger: the student soon
   visits the states *its own* mistakes lead to, and the teacher labels those too).
2. **Label** every visited state with the teacher's action probabilities and value.
3. **Fit** the student for ``n_epochs`` over minibatches of ``batch_size``: the cross-entropy
   of its policy against the teacher's probabilities, plus ``vf_coef`` times the squared error
   of its value against the teacher's value; Adam, gradient clip ``max_grad_norm``, learning
   rate ``learning_rate`` (linearly decayed when ``lr_schedule`` is ``"linear"``).

With ``replay_steps`` > 0 the labelled states are kept (the last ``replay_steps`` of them,
DAgger's aggregated data set) and each fit draws its ``n_epochs x n_envs x n_steps`` samples
from all of them. Without it each fit sees only the latest rollout, whose mazes are mostly still
being played: the student can learn those mazes by heart, and then plays them better than
mazes it has never seen, so the training log's cheese rate overstates what it can do.

**Watch the monitor, not the training rate.** ``monitor_every_steps`` plays the student alone,
sampled, on ``monitor_levels`` held-out levels (the same ones each time, seeds from
:attr:`~agents.train.config.TrainConfig.monitor_start`, which the card never plays) and
appends the rates, with Wilson 95% intervals and by size bucket, to ``monitor_log.csv``.
``rgb-r5-distill-s1`` showed why: at 0.65M steps its training rows read 0.89-0.95 while the
same weights got 0.43 on held-out levels.

The training signal covers only the training distribution (cheese in the top-right region),
as PPO's reward does: how the student behaves with the cheese elsewhere is its own
generalisation. Its episodes' cheese rates in ``train_log.csv`` include the teacher's actions
while ``beta > 0``; the card's held-out evaluation is the student alone.

Checkpoints have the PPO runs' format (:mod:`~agents.train.state`: SB3-layout policy and Adam
state, RNG states, step counter), so ``--resume``, :func:`~agents.card.snapshot_to_zoo`,
``agents.load`` and every analysis take a distilled run as they take a PPO run. PPO-only
settings (``gamma``, ``gae_lambda``, ``clip_range``, ``ent_coef``, ``normalize_reward``,
``target_kl``) are ignored. Log columns: ``policy_loss`` is the cross-entropy, ``approx_kl``
the mean KL(teacher || student), ``value_loss`` the value error, ``explained_variance`` the
share of the teacher value's variance the student's value explains, ``clip_fraction`` the
share of states where the student's most likely move is not the teacher's; ``entropy`` the
student's. They are measured on the minibatches the fit trained on, so with ``replay_steps``
on stored states the student has already fitted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..card import evaluate_held_out, machine_info, make_card
from ..checkpoint import atomic_torch_save, atomic_write_text, save
from ..model import ACTION_SETS
from ..policy import Policy
from .config import TrainConfig
from .control import progress_bar, stop_on_signals
from .env import make_train_env
from .log import LogAppender, _mean, _Recorder, _truncate_log
from .monitor import MONITOR_LOG, monitor, truncate_monitor_log
from .state import (
    TRAIN_FORMAT,
    _ckpt_name,
    _rng_state,
    _set_rng_state,
    latest_checkpoint,
    open_run,
)

__all__ = ["distill", "load_teacher", "teacher_share"]


def teacher_share(steps: int, mix_steps: int) -> float:
    """``beta``: the probability that a step's action is the teacher's, at ``steps`` steps.

    >>> [teacher_share(s, 100) for s in (0, 50, 100, 200)], teacher_share(5, 0)
    ([1.0, 0.5, 0.0, 0.0], 0.0)
    """
    if mix_steps <= 0:
        return 0.0
    return float(max(0.0, 1.0 - steps / mix_steps))


def load_teacher(name: str, config: TrainConfig, device: str) -> Policy:
    """The teacher :class:`Policy` (a zoo name or ``model.pt`` path), checked against ``config``:
    it must see the ``grid`` view of ``config``'s world."""
    from mazegen.constants import WORLD_SIZE

    from ..checkpoint import load

    teacher = load(name, device=device, fast=config.fast)
    if teacher.obs != "grid":
        raise ValueError(
            f"teacher {name!r} sees {teacher.obs!r} observations; a teacher must see 'grid'"
        )
    world = WORLD_SIZE[config.distribution_mode]
    if teacher.model.obs_size != world:
        raise ValueError(
            f"teacher {name!r} sees a {teacher.model.obs_size}x{teacher.model.obs_size} grid but "
            f"distribution_mode={config.distribution_mode!r} has a {world}x{world} world"
        )
    teacher.model.eval()
    return teacher


def _student(config: TrainConfig, obs_space, device: str):
    import gymnasium as gym

    from ..sb3_policy import ImpalaActorCriticPolicy

    return ImpalaActorCriticPolicy(
        obs_space,
        gym.spaces.Discrete(15),
        lambda _: config.learning_rate,
        channels=config.channels,
        fc_dim=config.fc_dim,
        fast=config.fast,
        action_set=config.action_set,
        optimizer_kwargs={"eps": config.adam_eps},
    ).to(device)


def _sample(probs: torch.Tensor) -> torch.Tensor:
    """One action per row of ``probs (B, 15)``, from the global torch RNG."""
    return torch.multinomial(probs, 1).squeeze(1)


@dataclass
class _Rollout:
    """One iteration's visited states and the teacher's labels of them."""

    obs: np.ndarray  # (T*N, *obs_shape) the student's observations
    probs: torch.Tensor  # (T*N, n_moves) teacher's probabilities over the student's moves
    values: torch.Tensor  # (T*N,) teacher's values


class _Replay:
    """DAgger's aggregated data set: the last ``capacity`` labelled states, oldest out first."""

    def __init__(self, capacity: int) -> None:
        self.capacity, self.size, self.pos = int(capacity), 0, 0
        self.data: _Rollout | None = None

    def add(self, batch: _Rollout) -> None:
        n = len(batch.values)
        if self.data is None:
            c = self.capacity
            self.data = _Rollout(
                obs=np.empty((c, *batch.obs.shape[1:]), dtype=batch.obs.dtype),
                probs=torch.empty((c, batch.probs.shape[1])),
                values=torch.empty(c),
            )
        idx = (self.pos + np.arange(n)) % self.capacity
        self.data.obs[idx] = batch.obs
        self.data.probs[torch.as_tensor(idx)] = batch.probs
        self.data.values[torch.as_tensor(idx)] = batch.values
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.capacity, self.size + n)

    def view(self) -> _Rollout:
        """The stored states (views, no copy)."""
        d = self.data
        return _Rollout(d.obs[: self.size], d.probs[: self.size], d.values[: self.size])


def _rollout(env, obs, student, teacher, config: TrainConfig, beta: float, rec, device: str):
    """Play ``config.n_steps`` steps of every env from ``obs``; returns the labelled
    :class:`_Rollout` and the next observations. Finished episodes go to ``rec``."""
    n, t_len = config.n_envs, config.n_steps
    buf_obs = np.empty((t_len, n, *obs.shape[1:]), dtype=obs.dtype)  # (T, N, ...)
    buf_p = torch.empty((t_len, n, 15))  # (T, N, 15)
    buf_v = torch.empty((t_len, n))  # (T, N)
    student.eval()
    for t in range(t_len):
        buf_obs[t] = obs
        t_logits, t_value = teacher.forward(env.grid_obs())
        t_probs = torch.softmax(t_logits, -1)
        buf_p[t], buf_v[t] = t_probs, t_value
        with torch.no_grad():
            s_logits, _ = student._logits_values(torch.as_tensor(obs, device=device))
        action = _sample(torch.softmax(s_logits, -1).cpu())
        if beta > 0:
            use_teacher = torch.rand(n) < beta
            action = torch.where(use_teacher, _sample(t_probs.cpu()), action)
        obs, _, terminated, truncated, info = env.step(action.numpy())
        for i in np.flatnonzero(terminated | truncated):
            rec.add(
                {
                    "episode": {"r": info["episode_return"][i], "l": info["episode_length"][i]},
                    "got_cheese": bool(info["got_cheese"][i]),
                    "maze_size": int(info["maze_size"][i]),
                }
            )
    moves = list(ACTION_SETS[config.action_set])
    probs = buf_p.reshape(n * t_len, 15)[:, moves]
    batch = _Rollout(
        obs=buf_obs.reshape(n * t_len, *obs.shape[1:]),
        probs=probs / probs.sum(1, keepdim=True),
        values=buf_v.reshape(n * t_len),
    )
    return batch, obs


def _fit(
    student, batch: _Rollout, config: TrainConfig, lr: float, device: str, n_samples: int
) -> dict:
    """``config.n_epochs`` passes of Adam at learning rate ``lr``, each over ``n_samples``
    states of ``batch`` drawn without replacement (all of them when ``batch`` is the latest
    rollout); returns the log's fit statistics and the number of gradient steps taken
    (``"n_updates"``)."""
    for g in student.optimizer.param_groups:
        g["lr"] = lr
    student.train()
    size = len(batch.values)
    stats: dict[str, list[float]] = {k: [] for k in ("ce", "kl", "vl", "dis", "ent")}
    preds_v = []
    n_updates = 0
    moves = list(ACTION_SETS[config.action_set])
    for _ in range(config.n_epochs):
        order = torch.randperm(size)[:n_samples]
        for lo in range(0, len(order), config.batch_size):
            idx = order[lo : lo + config.batch_size]
            x = torch.as_tensor(batch.obs[idx.numpy()], device=device)
            logits, values = student._logits_values(x)
            logp = torch.log_softmax(logits[:, moves], -1)
            p = batch.probs[idx].to(device)
            ce = -(p * logp).sum(1).mean()
            v_err = torch.nn.functional.mse_loss(values, batch.values[idx].to(device))
            loss = ce + config.vf_coef * v_err
            student.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), config.max_grad_norm)
            student.optimizer.step()
            n_updates += 1
            with torch.no_grad():
                ent_p = torch.xlogy(p, p).sum(1)
                stats["ce"].append(float(ce))
                stats["kl"].append(float((ent_p - (p * logp).sum(1)).mean()))
                stats["vl"].append(float(v_err))
                stats["dis"].append(float((logp.argmax(1) != p.argmax(1)).float().mean()))
                stats["ent"].append(float(-(logp.exp() * logp).sum(1).mean()))
                preds_v.append((values.detach().float().cpu(), batch.values[idx]))
    pv = torch.cat([a for a, _ in preds_v])
    tv = torch.cat([b for _, b in preds_v])
    ev = float(1 - torch.var(tv - pv) / torch.var(tv)) if torch.var(tv) > 0 else float("nan")
    return {
        "entropy": _mean(stats["ent"]),
        "clip_fraction": _mean(stats["dis"]),
        "approx_kl": _mean(stats["kl"]),
        "value_loss": _mean(stats["vl"]),
        "policy_loss": _mean(stats["ce"]),
        "explained_variance": ev,
        "n_updates": n_updates,
    }


def distill(
    config: TrainConfig,
    *,
    resume: bool = False,
    env_fn: Callable[[TrainConfig, int], Any] | None = None,
) -> dict:
    """Distil ``config.teacher`` into a fresh student (see the module docstring).

    Returns the summary :func:`agents.train.train` returns. ``env_fn(config, seed)`` builds
    the :class:`~mazegen.env.MazeVecEnv` or its SB3 adapter (default: ``config``'s training
    env).
    """
    from mazegen.adapters.sb3 import observation_space_for

    from ..sb3_policy import policy_from_sb3

    config.validate()
    if config.teacher is None:
        raise ValueError("distill needs config.teacher (a grid agent's zoo name or path)")
    run_dir = Path(config.run_dir)
    ckpt_dir = run_dir / "checkpoints"
    log_path = run_dir / "train_log.csv"
    device = config.resolved_device()
    torch.set_num_threads(config.torch_threads)
    teacher = load_teacher(config.teacher, config, device)

    ckpt = open_run(config, resume)

    start_steps = int(ckpt["num_timesteps"]) if ckpt else 0
    prior_wall = float(ckpt["wall_time_s"]) if ckpt else 0.0
    env_seed = (config.seed if config.env_seed is None else config.env_seed) + start_steps
    torch.manual_seed(config.seed)
    np.random.seed(config.seed % 2**32)
    env = (env_fn or make_train_env)(config, env_seed)
    env = getattr(env, "venv", env)  # the SB3 adapter's MazeVecEnv
    if not hasattr(env, "grid_obs"):
        raise ValueError(
            f"distillation needs a mazegen env with grid_obs(), got {type(env).__name__}"
        )
    student = _student(config, observation_space_for(env), device)
    n_updates = 0
    if ckpt is not None:
        student.load_state_dict(ckpt["policy"])
        student.optimizer.load_state_dict(ckpt["optimizer"])
        n_updates = int(ckpt["n_updates"])
        _set_rng_state(ckpt["rng"])
        _truncate_log(log_path, start_steps)
    steps = start_steps
    t_start = time.time()

    def wall() -> float:
        return prior_wall + time.time() - t_start

    def lr_at(s: int) -> float:
        if config.lr_schedule == "constant":
            return config.learning_rate
        return config.learning_rate * max(0.0, 1.0 - s / config.total_steps)

    def write_checkpoint() -> Path:
        payload = {
            "format": TRAIN_FORMAT,
            "num_timesteps": int(steps),
            "n_updates": int(n_updates),
            "wall_time_s": float(wall()),
            "config": config.to_dict(),
            "machine": machine_info(device),
            "model_config": student.impala.config(),
            "policy": {k: v.detach().cpu() for k, v in student.state_dict().items()},
            "optimizer": student.optimizer.state_dict(),
            "rng": _rng_state(),
            "ret_rms": None,
            "ema": None,
        }
        path = atomic_torch_save(payload, ckpt_dir / _ckpt_name(steps))
        meta = {"steps": steps, "wall_time_s": payload["wall_time_s"], "config": config.to_dict()}
        save(policy_from_sb3(student), run_dir / "model.pt", metadata=meta)
        for old in sorted(ckpt_dir.glob("ckpt_*.pt"))[: -config.keep_checkpoints]:
            old.unlink()
        return path

    log = LogAppender(log_path)

    if ckpt is not None:
        truncate_monitor_log(run_dir / MONITOR_LOG, start_steps)
    replay = _Replay(config.replay_steps) if config.replay_steps else None
    pbar = progress_bar(config, start_steps)
    n, t_len = config.n_envs, config.n_steps
    obs = env.reset()
    last_ckpt_steps, last_ckpt_time = steps, time.time()
    rec = _Recorder()
    try:
        with stop_on_signals() as stop:
            while steps < config.total_steps and not stop.requested:
                t_iter = time.time()
                beta = teacher_share(steps, config.teacher_mix_steps)
                batch, obs = _rollout(env, obs, student, teacher, config, beta, rec, device)
                if replay is not None:
                    replay.add(batch)
                    batch = replay.view()
                lr = lr_at(steps)
                steps += n * t_len
                fit = _fit(student, batch, config, lr, device, n * t_len)
                n_updates += fit.pop("n_updates")
                row = {
                    "steps": steps,
                    "wall_time_s": round(wall(), 2),
                    "steps_per_s": round(n * t_len / max(time.time() - t_iter, 1e-9), 1),
                    "episodes": len(rec.returns),
                    "ep_return_mean": _mean(rec.returns),
                    "ep_len_mean": _mean(rec.lengths),
                    "cheese_rate": _mean(rec.cheese),
                    **{f"cheese_rate_{k}": _mean(v) for k, v in rec.bucket_hits.items()},
                    "learning_rate": lr,
                    **fit,
                }
                log.write_row(row)
                rec.reset()
                pbar.update(max(0, min(steps, config.total_steps) - pbar.n))
                pbar.set_postfix(
                    cheese=f"{row['cheese_rate']:.3f}", beta=f"{beta:.2f}", refresh=False
                )
                every = config.monitor_every_steps
                if every and steps // every > (steps - n * t_len) // every:
                    monitor(student, config, run_dir / MONITOR_LOG, steps, wall())
                due_time = (
                    config.checkpoint_minutes > 0
                    and time.time() - last_ckpt_time >= 60 * config.checkpoint_minutes
                )
                due_steps = (
                    config.checkpoint_steps > 0
                    and steps - last_ckpt_steps >= config.checkpoint_steps
                )
                if due_time or due_steps:
                    write_checkpoint()
                    last_ckpt_steps, last_ckpt_time = steps, time.time()
            if steps != last_ckpt_steps or latest_checkpoint(run_dir) is None:
                write_checkpoint()
    finally:
        pbar.close()
        log.close()
        env.close()

    summary = {"run_dir": str(run_dir), "steps": int(steps), "wall_time_s": wall()}
    if stop.requested:
        return {**summary, "card": None, "evaluation": None, "stopped": True}
    evaluation = None
    if config.eval_levels > 0:
        evaluation = evaluate_held_out(
            policy_from_sb3(student, fast=config.fast), config, greedy=config.eval_greedy
        )
    card = make_card(
        config, run_dir, steps=steps, wall_time_s=wall(), evaluation=evaluation, device=device
    )
    card_path = atomic_write_text(run_dir / "card.json", json.dumps(card, indent=2) + "\n")
    return {**summary, "card": str(card_path), "evaluation": evaluation, "stopped": False}

