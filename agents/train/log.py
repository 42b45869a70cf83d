"""The training log: ``train_log.csv`` columns, per-iteration episode statistics, and curves.

One row per PPO iteration (see :data:`LOG_COLUMNS`). Cheese rates are also split by maze-size
bucket (:data:`SIZE_BUCKETS`), because large mazes are where an agent fails first.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mazegen.checks import check_int

from ..eval.sweep_axes import SIZE_BUCKETS, size_bucket
from ..rundir import write_csv

__all__ = [
    "SIZE_BUCKETS",
    "LOG_COLUMNS",
    "read_log",
    "write_log",
    "LogAppender",
    "learning_curve_summary",
    "pooled_rates",
    "milestones",
    "compare_runs",
]


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


def read_log(path: str | os.PathLike, max_steps: int | None = None) -> list[dict]:
    """Rows of a ``train_log.csv`` (as strings), optionally only those with ``steps <= max_steps``."""
    p = Path(path)
    if not p.is_file():
        return []
    with open(p, newline="") as f:
        rows = list(csv.DictReader(f))
    if max_steps is not None:
        rows = [r for r in rows if int(float(r["steps"])) <= max_steps]
    return rows


def write_log(path: str | os.PathLike, rows: list[dict]) -> Path:
    """Write ``rows`` as a ``train_log.csv`` (:data:`LOG_COLUMNS`) atomically; returns the path."""
    return write_csv(path, rows, LOG_COLUMNS)


class LogAppender:
    """Appends rows to a running ``train_log.csv`` (:data:`LOG_COLUMNS`), each flushed at once;
    writes the header first when the file is new. ``close()`` when the run ends."""

    def __init__(self, path: str | os.PathLike) -> None:
        new = not Path(path).is_file()
        self._file = open(path, "a", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=LOG_COLUMNS, lineterminator="\n")
        if new:
            self._writer.writeheader()
            self._file.flush()

    def write_row(self, row: dict) -> None:
        self._writer.writerow(row)
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _truncate_log(path: Path, max_steps: int) -> None:
    if Path(path).is_file():
        write_log(path, read_log(path, max_steps))


def learning_curve_summary(
    log: str | os.PathLike | Sequence[dict[str, str]], n_points: int = 10
) -> dict:
    """A compact learning curve from ``train_log.csv`` (a path, or its rows from
    :func:`read_log`): about ``n_points`` rows.

    Each point holds steps, wall time, steps/s, cheese rate (overall and by size bucket),
    episode length and entropy; ``milestones`` says when the pooled training cheese rate
    first reached 0.5, 0.8 and 0.9 (see :func:`milestones`).
    """
    rows = read_log(log) if isinstance(log, (str, os.PathLike)) else list(log)
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
        "milestones": milestones(rows),
        "points": points,
    }


def pooled_rates(
    rows: list[dict], key: str = "cheese_rate", min_episodes: int = 2000
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row ``key`` rate pooled over the fewest trailing rows holding ``min_episodes`` episodes.

    Each row's rate is weighted by its episode count; rows whose rate is empty or NaN (no
    episode of that kind finished) are skipped. Returns ``(rates, episodes)``, float arrays of
    ``len(rows)``; ``rates`` is NaN where the trailing rows hold fewer than ``min_episodes``.
    (Bucket rates are weighted by the row's total episode count, which the log keeps.)

    >>> rows = [{"episodes": 10, "cheese_rate": r} for r in (0.0, 1.0, 1.0)]
    >>> pooled_rates(rows, min_episodes=20)[0].round(2).tolist()
    [nan, 0.5, 1.0]
    """
    min_episodes = check_int("min_episodes", min_episodes, 1)
    counts = np.zeros(len(rows))
    hits = np.zeros(len(rows))
    for i, r in enumerate(rows):
        v = r.get(key)
        rate = float("nan") if v in (None, "") else float(v)
        if np.isfinite(rate):
            counts[i] = float(r["episodes"])
            hits[i] = rate * counts[i]
    rates = np.full(len(rows), np.nan)
    pooled = np.zeros(len(rows))
    for i in range(len(rows)):
        n = h = 0.0
        j = i
        while j >= 0 and n < min_episodes:
            n, h, j = n + counts[j], h + hits[j], j - 1
        pooled[i] = n
        if n >= min_episodes:
            rates[i] = h / n
    return rates, pooled


def milestones(
    rows: list[dict],
    thresholds: tuple[float, ...] = (0.5, 0.8, 0.9),
    min_episodes: int = 2000,
) -> list[dict]:
    """When training first reached each cheese-rate threshold, from ``train_log.csv`` rows.

    The rate at a row is :func:`pooled_rates` over at least ``min_episodes`` finished
    episodes, so a lucky iteration does not count. Training episodes use fresh levels and
    sampled actions, as the held-out evaluation does; that evaluation should confirm a
    milestone. ``steps``/``wall_time_s`` are None for a threshold never reached.

    >>> rows = [{"steps": s, "wall_time_s": s / 10, "episodes": 1000, "cheese_rate": r}
    ...         for s, r in [(100, 0.4), (200, 0.85), (300, 0.9), (400, 0.97)]]
    >>> [(m["threshold"], m["steps"]) for m in milestones(rows, min_episodes=2000)]
    [(0.5, 200), (0.8, 300), (0.9, 400)]
    """
    rates, pooled = pooled_rates(rows, "cheese_rate", min_episodes)
    out = []
    for th in thresholds:
        hit = np.flatnonzero(np.nan_to_num(rates, nan=-1.0) >= th)
        if hit.size:
            i = int(hit[0])
            out.append(
                {
                    "threshold": th,
                    "steps": int(float(rows[i]["steps"])),
                    "wall_time_s": float(rows[i]["wall_time_s"]),
                    "pooled_rate": round(float(rates[i]), 4),
                    "pooled_episodes": int(pooled[i]),
                }
            )
        else:
            out.append({"threshold": th, "steps": None, "wall_time_s": None})
    return out


def compare_runs(
    runs: dict[str, Sequence[dict]],
    *,
    sps: float | None = None,
    thresholds: tuple[float, ...] = (0.5, 0.8, 0.9),
    min_episodes: int = 2000,
) -> dict[str, dict]:
    """Per run (``train_log.csv`` rows by name): its length and when it reached each threshold.

    Each run's entry holds ``rows``, ``steps`` and ``wall_time_s`` of its last row, the mean
    logged steps/s, the newest pooled training rate, and :func:`milestones`. With ``sps``
    (env steps per second, e.g. from ``scripts/bench_train.py`` on a quiet machine) each
    milestone also gets ``minutes_at_sps`` = steps / sps / 60, a time that does not depend on
    what else shared the machine while the run trained.

    >>> rows = [{"steps": s, "wall_time_s": s / 100, "steps_per_s": 100, "episodes": 1000,
    ...          "cheese_rate": r} for s, r in [(6000, 0.4), (12000, 0.95), (18000, 0.97)]]
    >>> out = compare_runs({"a": rows}, sps=200, thresholds=(0.9,))
    >>> out["a"]["steps"], out["a"]["milestones"][0]["steps"], out["a"]["milestones"][0]["minutes_at_sps"]
    (18000, 18000, 1.5)
    """
    if sps is not None and (isinstance(sps, bool) or not isinstance(sps, (int, float)) or not sps > 0):
        raise ValueError(f"sps must be a number > 0, got {sps!r}")
    out: dict[str, dict] = {}
    for name, rows in runs.items():
        rows = list(rows)
        if not rows:
            out[name] = {"rows": 0}
            continue
        rates, _ = pooled_rates(rows, "cheese_rate", min_episodes)
        sps_logged = [
            float(r["steps_per_s"])
            for r in rows[1:]
            if r.get("steps_per_s") not in (None, "", "nan")
        ]
        ms = milestones(rows, thresholds, min_episodes)
        for m in ms:
            if sps is not None:
                m["minutes_at_sps"] = None if m["steps"] is None else round(m["steps"] / sps / 60, 2)
        out[name] = {
            "rows": len(rows),
            "steps": int(float(rows[-1]["steps"])),
            "wall_time_s": float(rows[-1]["wall_time_s"]),
            "mean_steps_per_s": float(np.mean(sps_logged)) if sps_logged else None,
            "pooled_rate_last": None if np.isnan(rates[-1]) else round(float(rates[-1]), 4),
            "milestones": ms,
        }
    return out
