"""PPO training of the IMPALA policy on stable-baselines3, resumable, with logs and a model card.

:class:`TrainConfig` holds every setting (each field's ``help`` metadata is its documentation,
also shown by ``scripts/train.py --help``); :func:`train` runs it. A run directory holds::

    config.json            the full config (written at start; --resume reads it back)
    checkpoints/ckpt_<steps>.pt   full training state (policy, optimizer, step counter, RNG
                           states, reward-normalisation stats), written atomically every
                           ``checkpoint_minutes`` / ``checkpoint_steps``; the last
                           ``keep_checkpoints`` are kept
    model.pt               the latest weights in our checkpoint format (agents.load)
    model_ema.pt           with ``ema_decay > 0``: the latest moving average of the weights
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
``config.run_dir`` that reads back (a newer unreadable one, e.g. cut short by a full disk, is
renamed ``*.unreadable`` and the fallback is reported on stderr): policy, optimizer, step
counter, learning-rate schedule position, torch / numpy / python RNG states and
reward-normalisation statistics are restored, ``train_log.csv`` is cut back to the
checkpoint's step, and training continues up to ``total_steps``. The environments are rebuilt
with seed ``env_seed + steps`` (episodes in flight at the kill are lost), so a resumed run is
deterministic but not bit-identical to an uninterrupted one. Temp files left by a write that
was killed (``.<name>.<random>.tmp`` in the run directory or ``checkpoints/``) are deleted at
the next start. SIGTERM or Ctrl-C stops a run cleanly: it writes a checkpoint (no evaluation,
no card) and returns with ``stopped=True``; ``kill -9`` loses at most the steps since the last
checkpoint.

The pieces live in their own modules: :mod:`agents.train.config` (config), :mod:`agents.train.cli` (flags and config files),
:mod:`agents.train.callback` (log rows, checkpoint timing, stops),
:mod:`agents.train.control` (the progress bar and the stop flag), :mod:`agents.train.env`
(the training env),
:mod:`agents.train.ema` (the weight average),
:mod:`agents.train.state` (checkpoints), :mod:`agents.train.log` (the CSV log and curves) and
:mod:`agents.card` (cards and the zoo).

**Determinism.** On CPU with a fixed ``seed`` and ``torch_threads``, two runs give identical
weights, whatever their checkpoint schedules (``checkpoint_steps`` / ``checkpoint_minutes``):
writing a checkpoint draws from no RNG (torch, numpy, python or the environments'). The
weight average (``ema_decay``) only reads the weights, so it changes nothing either.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

from ..card import evaluate_held_out, machine_info, make_card
from ..checkpoint import atomic_torch_save, atomic_write_text, save
from .cli import config_from_args
from .config import TrainConfig
from .control import StopFlag, progress_bar, stop_on_signals
from .ema import WeightAverage
from .env import make_train_env
from .log import LogAppender, _truncate_log
from .state import (
    _ckpt_name,
    latest_checkpoint,
    open_run,
    policy_from_weights,
    restore_train_state,
    train_state_payload,
)

__all__ = ["TrainConfig", "config_from_args", "train"]


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
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.utils import set_random_seed
    from stable_baselines3.common.vec_env import VecNormalize

    from ..sb3_policy import ImpalaActorCriticPolicy, policy_from_sb3
    from .callback import TrainCallback

    config.validate()
    if config.teacher is not None:
        from .distill import distill

        return distill(config, resume=resume, env_fn=env_fn)
    run_dir = Path(config.run_dir)
    ckpt_dir = run_dir / "checkpoints"
    log_path = run_dir / "train_log.csv"
    device = config.resolved_device()
    torch.set_num_threads(config.torch_threads)

    ckpt = open_run(config, resume)

    start_steps = int(ckpt["num_timesteps"]) if ckpt else 0
    prior_wall = float(ckpt["wall_time_s"]) if ckpt else 0.0
    env_seed = (config.seed if config.env_seed is None else config.env_seed) + start_steps

    set_random_seed(config.seed)
    make = env_fn or make_train_env
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
        restore_train_state(model, venv, config, ckpt)
        _truncate_log(log_path, start_steps)

    # Moving average of the weights (config.ema_decay > 0), averaged in after each PPO update.
    ema: WeightAverage | None = None
    if config.ema_decay > 0:
        if ckpt is not None and ckpt.get("ema") is not None:
            ema = WeightAverage.from_payload(ckpt["ema"], decay=config.ema_decay)
        else:
            ema = WeightAverage.start(
                config.ema_decay,
                model.policy.impala.state_dict(),
                steps=start_steps,
                n_updates=model._n_updates,
            )
            if ckpt is not None:
                print(
                    f"ema_decay={config.ema_decay}: the weight average starts at step "
                    f"{start_steps} (the checkpoint holds none)",
                    file=sys.stderr,
                    flush=True,
                )

    def update_ema() -> None:
        if ema is not None:
            ema.update(model.policy.impala, model._n_updates)

    t_start = time.time()

    def wall() -> float:
        return prior_wall + time.time() - t_start

    def write_checkpoint() -> Path:
        update_ema()
        payload = train_state_payload(
            model, venv, config, wall_time_s=wall(), machine=machine_info(device), ema=ema
        )
        steps = payload["num_timesteps"]
        path = atomic_torch_save(payload, ckpt_dir / _ckpt_name(steps))
        meta = {"steps": steps, "wall_time_s": payload["wall_time_s"], "config": config.to_dict()}
        save(policy_from_sb3(model.policy), run_dir / "model.pt", metadata=meta)
        if ema is not None:
            save(
                policy_from_weights(model.policy.impala.config(), ema.state, config.obs),
                run_dir / "model_ema.pt",
                metadata={**meta, "weights": ema.info()},
            )
        for old in sorted(ckpt_dir.glob("ckpt_*.pt"))[: -config.keep_checkpoints]:
            old.unlink()
        return path

    log = LogAppender(log_path)
    write_row = log.write_row

    pbar = progress_bar(config, start_steps)
    stop = StopFlag()
    callback = TrainCallback(
        config,
        start_steps=start_steps,
        wall=wall,
        learning_rate=lambda steps: lr_sched(1.0 - steps / config.total_steps),
        at_clean_point=update_ema,
        write_checkpoint=write_checkpoint,
        write_row=write_row,
        stop_requested=lambda: stop.requested,
        pbar=pbar,
    )

    try:
        with stop_on_signals(stop):
            remaining = config.total_steps - start_steps
            if remaining > 0:
                model.learn(
                    total_timesteps=remaining,
                    callback=callback,
                    reset_num_timesteps=False,
                    log_interval=1,
                )
            if (
                model.num_timesteps != callback.last_ckpt_steps
                or latest_checkpoint(run_dir) is None
            ):
                write_checkpoint()
    finally:
        pbar.close()
        log.close()
        venv.close()
    if stop.requested:
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
        evaluation = evaluate_held_out(
            policy_from_sb3(model.policy, fast=config.fast), config, greedy=config.eval_greedy
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
