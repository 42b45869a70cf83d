"""The SB3 callback of a training run: log rows, checkpoint timing and clean stops.

:class:`TrainCallback` is what :func:`agents.train.loop.train` hands to ``PPO.learn``. It

- collects finished episodes (:class:`~agents.train.log._Recorder`) and, at the end of each
  rollout, writes one ``train_log.csv`` row (:data:`~agents.train.log.LOG_COLUMNS`) and the
  ``maze/*`` TensorBoard scalars;
- at the start of each rollout (the policy then holds every update counted so far) folds the
  weights into the moving average and writes a checkpoint when ``checkpoint_minutes`` or
  ``checkpoint_steps`` says one is due;
- ends ``learn`` after the current step once ``stop_requested()`` turns true (SIGTERM/Ctrl-C).

It draws from no RNG, so checkpoint timing cannot change training.
"""

from __future__ import annotations

import math
import time
from typing import Callable

from stable_baselines3.common.callbacks import BaseCallback

from .config import TrainConfig
from .log import LOG_COLUMNS, _mean, _Recorder

__all__ = ["TrainCallback"]

#: Log columns also written to TensorBoard, as ``maze/<column>``: speed, episodes, cheese rates.
TB_COLUMNS = tuple(
    c for c in LOG_COLUMNS if c == "steps_per_s" or c.startswith(("ep_", "cheese_rate"))
)

#: Log column -> SB3 logger key, for the PPO statistics of the last update.
SB3_COLUMNS = {
    "clip_fraction": "train/clip_fraction",
    "approx_kl": "train/approx_kl",
    "value_loss": "train/value_loss",
    "policy_loss": "train/policy_gradient_loss",
    "explained_variance": "train/explained_variance",
}


class TrainCallback(BaseCallback):
    """Log rows, checkpoints and stops for one :func:`~agents.train.loop.train` call.

    Args:
        config: the run's config (checkpoint cadence, ``total_steps``).
        start_steps: the step count training starts (or resumes) at.
        wall: ``() -> float``, the run's wall time so far (including earlier sessions).
        learning_rate: ``steps -> float``, the schedule's rate at a step count.
        at_clean_point: ``() -> None``, called at each rollout start (updates the average).
        write_checkpoint: ``() -> Path``, writes a checkpoint of the current state.
        write_row: ``dict -> None``, appends one log row.
        stop_requested: ``() -> bool``; True ends training after the current step.
        pbar: a tqdm bar to advance (may be disabled).
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        start_steps: int,
        wall: Callable[[], float],
        learning_rate: Callable[[int], float],
        at_clean_point: Callable[[], None],
        write_checkpoint: Callable[[], object],
        write_row: Callable[[dict], None],
        stop_requested: Callable[[], bool],
        pbar,
    ) -> None:
        super().__init__()
        self.config = config
        self.wall = wall
        self.learning_rate = learning_rate
        self.at_clean_point = at_clean_point
        self.write_checkpoint = write_checkpoint
        self.write_row = write_row
        self.stop_requested = stop_requested
        self.pbar = pbar
        self.rec = _Recorder()
        self.last_ckpt_steps = start_steps
        self.last_ckpt_time = time.time()
        self.last_row_time = time.time()
        self.last_row_steps = start_steps

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "episode" in info:
                self.rec.add(info)
        return not self.stop_requested()

    def _on_rollout_start(self) -> None:
        self.at_clean_point()
        steps = self.model.num_timesteps
        if steps == self.last_ckpt_steps:
            return
        config = self.config
        due_time = (
            config.checkpoint_minutes > 0
            and time.time() - self.last_ckpt_time >= 60 * config.checkpoint_minutes
        )
        due_steps = (
            config.checkpoint_steps > 0 and steps - self.last_ckpt_steps >= config.checkpoint_steps
        )
        if due_time or due_steps:
            self.write_checkpoint()
            self.last_ckpt_steps, self.last_ckpt_time = steps, time.time()

    def _row(self, now: float, steps: int) -> dict:
        nv = self.model.logger.name_to_value
        rec = self.rec
        return {
            "steps": steps,
            "wall_time_s": round(self.wall(), 2),
            "steps_per_s": round(
                (steps - self.last_row_steps) / max(now - self.last_row_time, 1e-9), 1
            ),
            "episodes": len(rec.returns),
            "ep_return_mean": _mean(rec.returns),
            "ep_len_mean": _mean(rec.lengths),
            "cheese_rate": _mean(rec.cheese),
            **{f"cheese_rate_{k}": _mean(v) for k, v in rec.bucket_hits.items()},
            "learning_rate": self.learning_rate(steps)
            if steps < self.config.total_steps
            else 0.0,
            "entropy": -nv["train/entropy_loss"] if "train/entropy_loss" in nv else float("nan"),
            **{col: nv.get(key, float("nan")) for col, key in SB3_COLUMNS.items()},
        }

    def _on_rollout_end(self) -> None:
        now, steps = time.time(), self.model.num_timesteps
        row = self._row(now, steps)
        self.write_row(row)
        for k in TB_COLUMNS:
            if not math.isnan(row[k]):
                self.model.logger.record(f"maze/{k}", row[k])
        total = self.config.total_steps
        self.pbar.update(max(0, min(steps, total) - self.pbar.n))
        self.pbar.set_postfix(
            cheese=f"{row['cheese_rate']:.3f}", sps=f"{row['steps_per_s']:.0f}", refresh=False
        )
        self.last_row_time, self.last_row_steps = now, steps
        self.rec.reset()
