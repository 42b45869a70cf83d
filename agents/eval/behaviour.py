"""Behavioural statistics after Mini et al. (2023): which maze features predict that the agent
gets the cheese?

Over ``mazes`` random mazes with the cheese placed by procgen's uniform draw, keeping only
mazes with a real *decision square* (the last common cell of the shortest paths
start→cheese and start→top-right cell, distinct from both ends), the agent plays one episode
each; then an L1-penalised logistic regression (scikit-learn, standardised features) predicts
``got_cheese`` from the geometry features below. Reported: held-out accuracy against the
base rate (the majority class share of the test set), the coefficients with percentile
bootstrap 95% CIs (refits on resampled training sets), and each feature's own held-out
accuracy.

Features (legal-step distances by BFS, Euclidean distances between cell centres; the
"top-right region" is the top-right 5×5 corner of the inner maze, distance = to its nearest
open cell):

- ``steps_/euclid_cheese_decision``, ``steps_/euclid_cheese_top_right``,
  ``steps_/euclid_decision_top_right``, ``steps_/euclid_cheese_top_right_region``,
  ``steps_/euclid_decision_top_right_region``;
- ``cheese_norm``: the norm of the cheese's coordinates, measured in cells from the inner
  maze's bottom-left cell (the mouse's start), x to the right and y up.

Level seeds are ``BEHAVIOUR_SEED_BASE + seed * 1_000_000 + i`` (``BEHAVIOUR_SEED_BASE =
3_500_000_000``), disjoint from training seeds ``[0, 1e9)`` and from the sweeps' range.

>>> FEATURES[:2]
('steps_cheese_decision', 'euclid_cheese_decision')
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mazegen.checks import check_int
from mazegen.levels import Levels

from ..checkpoint import atomic_write_text

__all__ = ["behaviour_stats", "BehaviourConfig", "maze_features", "FEATURES", "BEHAVIOUR_SEED_BASE",
           "behaviour_levels"]

BEHAVIOUR_SEED_BASE = 3_500_000_000
_SEEDS_PER_RUN = 1_000_000
#: Feature names, in column order.
FEATURES = (
    "steps_cheese_decision",
    "euclid_cheese_decision",
    "steps_cheese_top_right",
    "euclid_cheese_top_right",
    "steps_decision_top_right",
    "euclid_decision_top_right",
    "steps_cheese_top_right_region",
    "euclid_cheese_top_right_region",
    "steps_decision_top_right_region",
    "euclid_decision_top_right_region",
    "cheese_norm",
)
_REGION = 5


@dataclass
class BehaviourConfig:
    """Settings of :func:`behaviour_stats`.

    Attributes:
        mazes: number of mazes (with a decision square) to play.
        sizes: ``"all"`` for procgen's own maze-size draw, or odd sizes to draw uniformly from.
        seed: level seeds, sampling, train/test split and bootstrap.
        greedy: argmax actions instead of sampling.
        max_steps: episode cap.
        batch_size: rollout batch size.
        test_fraction: held-out share.
        C: inverse L1 strength of the logistic regression.
        n_boot: bootstrap refits for the coefficient intervals.
        progress: tqdm bar during the rollouts.
    """

    mazes: int = 1000
    sizes: Any = "all"
    seed: int = 0
    greedy: bool = False
    max_steps: int = 500
    batch_size: int = 256
    test_fraction: float = 0.2
    C: float = 1.0
    n_boot: int = 100
    progress: bool = False

    def __post_init__(self) -> None:
        self.mazes = check_int("mazes", self.mazes, 20, _SEEDS_PER_RUN // 4)
        if self.sizes != "all":
            from .sweep_axes import parse_sizes

            self.sizes = parse_sizes(self.sizes)
            if self.sizes == (3,):
                raise ValueError("sizes (3,) leaves almost no maze with a decision square; add bigger sizes")
        self.seed = check_int("seed", self.seed, 0, (2**32 - BEHAVIOUR_SEED_BASE) // _SEEDS_PER_RUN - 1)
        if not 0.05 <= float(self.test_fraction) <= 0.5:
            raise ValueError(f"test_fraction must be in [0.05, 0.5], got {self.test_fraction!r}")
        if not float(self.C) > 0:
            raise ValueError(f"C must be > 0, got {self.C!r}")
        self.n_boot = check_int("n_boot", self.n_boot, 2)
        self.max_steps = check_int("max_steps", self.max_steps, 1)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sizes"] = self.sizes if self.sizes == "all" else list(self.sizes)
        return d


def behaviour_levels(cfg: BehaviourConfig) -> Levels:
    """The first ``cfg.mazes`` mazes of the seed range that have a real decision square."""
    from mazegen.procgen.generate import generate_levels
    from mazegen.solvers import decision_square

    parts, have, start = [], 0, BEHAVIOUR_SEED_BASE + cfg.seed * _SEEDS_PER_RUN
    rng = np.random.default_rng([cfg.seed, 7])
    chunk = max(64, 2 * cfg.mazes)
    while have < cfg.mazes:
        if start + chunk > BEHAVIOUR_SEED_BASE + (cfg.seed + 1) * _SEEDS_PER_RUN:
            raise ValueError("ran out of level seeds looking for mazes with a decision square")
        seeds = np.arange(start, start + chunk, dtype=np.int64)
        start += chunk
        sizes = None if cfg.sizes == "all" else rng.choice(np.asarray(cfg.sizes), size=chunk)
        lv = generate_levels(seeds, maze_size=sizes, cheese="uniform")
        ds = decision_square(lv)
        tr = lv.top_right_cell.astype(np.int64)
        ch = lv.cheese.astype(np.int64)
        ok = (ds[:, 0] >= 0) & ~(ds == ch).all(1) & ~(ds == tr).all(1)
        keep = np.flatnonzero(ok)[: cfg.mazes - have]
        if keep.size:
            parts.append(lv[keep])
            have += keep.size
    return Levels.concat(parts)


def maze_features(levels: Levels) -> np.ndarray:
    """``(N, len(FEATURES))`` float64 feature matrix (see the module docstring).

    Every level must have a cheese and a decision square.
    """
    from mazegen.solvers import bfs_distances, decision_square

    n = len(levels)
    ds = decision_square(levels)
    if (ds[:, 0] < 0).any():
        raise ValueError(f"level {int(np.flatnonzero(ds[:, 0] < 0)[0])} has no cheese or no decision square")
    ch = levels.cheese.astype(np.int64)
    tr = levels.top_right_cell.astype(np.int64)
    d_ch = bfs_distances(levels.walls, ch)
    d_tr = bfs_distances(levels.walls, tr)
    d_ds = bfs_distances(levels.walls, ds)
    ar = np.arange(n)
    m = levels.margin.astype(np.int64)
    s = levels.maze_size.astype(np.int64)
    w = levels.world_size
    rr, cc = np.indices((w, w))
    out = np.zeros((n, len(FEATURES)))

    def euc(a, b):
        return np.sqrt(((a - b) ** 2).sum(1))

    out[:, 0] = d_ch[ar, ds[:, 0], ds[:, 1]]
    out[:, 1] = euc(ch, ds)
    out[:, 2] = d_ch[ar, tr[:, 0], tr[:, 1]]
    out[:, 3] = euc(ch, tr)
    out[:, 4] = d_tr[ar, ds[:, 0], ds[:, 1]]
    out[:, 5] = euc(ds, tr)
    for i in range(n):
        r = min(_REGION, int(s[i]))
        reg = (rr >= m[i]) & (rr < m[i] + r) & (cc >= m[i] + s[i] - r) & (cc < m[i] + s[i]) & ~levels.walls[i]
        cells = np.argwhere(reg)
        out[i, 6] = d_ch[i][reg].min()
        out[i, 7] = np.sqrt(((cells - ch[i]) ** 2).sum(1)).min()
        out[i, 8] = d_ds[i][reg].min()
        out[i, 9] = np.sqrt(((cells - ds[i]) ** 2).sum(1)).min()
    x = ch[:, 1] - m
    y = (m + s - 1) - ch[:, 0]
    out[:, 10] = np.sqrt(x**2 + y**2)
    return out


def _fit(x: np.ndarray, y: np.ndarray, C: float, seed: int, l1: bool = True):
    """L1 (``l1_ratio=1``, liblinear) or plain L2 logistic regression."""
    from sklearn.linear_model import LogisticRegression

    if l1:
        return LogisticRegression(l1_ratio=1.0, solver="liblinear", C=C, random_state=seed, max_iter=1000).fit(x, y)
    return LogisticRegression(C=C, max_iter=1000).fit(x, y)


def behaviour_stats(
    policy: Any,
    cfg: BehaviourConfig | None = None,
    *,
    out_dir: str | Path | None = None,
    levels: Levels | None = None,
    got_cheese: Sequence[bool] | None = None,
) -> dict:
    """Play the mazes, fit the regression, write ``behaviour.csv``, ``behaviour.json`` and
    ``behaviour_coefficients.png`` into ``out_dir`` (if given); returns the JSON dict.

    ``levels``/``got_cheese``: use these mazes (and, if given, these outcomes instead of
    playing them; then ``policy`` may be None).
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from .rollout import rollout
    from .stats import Rate

    cfg = cfg or BehaviourConfig()
    lv = behaviour_levels(cfg) if levels is None else levels
    feats = maze_features(lv)
    if got_cheese is None:
        res = rollout(policy, lv, deterministic=cfg.greedy, seed=cfg.seed, max_steps=cfg.max_steps,
                      batch_size=cfg.batch_size, progress=cfg.progress)
        y = res.got_cheese.astype(int)
    else:
        y = np.asarray(got_cheese, dtype=bool).astype(int)
        if y.shape != (len(lv),):
            raise ValueError(f"got_cheese must have shape ({len(lv)},), got {y.shape}")
    if y.min() == y.max():
        raise ValueError(f"every episode had the same outcome (got_cheese={bool(y[0])}); nothing to predict")
    idx = np.arange(len(y))
    strat = y if np.bincount(y).min() >= 2 else None
    tr_i, te_i = train_test_split(idx, test_size=cfg.test_fraction, random_state=cfg.seed, stratify=strat)
    if np.unique(y[tr_i]).size < 2:
        raise ValueError("the training split has only one outcome; use more mazes")
    scaler = StandardScaler().fit(feats[tr_i])
    xs = scaler.transform(feats)
    model = _fit(xs[tr_i], y[tr_i], cfg.C, cfg.seed)
    acc = float((model.predict(xs[te_i]) == y[te_i]).mean())
    base = float(max(y[te_i].mean(), 1 - y[te_i].mean()))
    rng = np.random.default_rng([cfg.seed, 11])
    boots = []
    for _ in range(cfg.n_boot):
        b = tr_i[rng.integers(0, len(tr_i), len(tr_i))]
        if np.unique(y[b]).size < 2:
            continue
        boots.append(_fit(xs[b], y[b], cfg.C, cfg.seed).coef_[0])
    boots = np.array(boots) if boots else np.full((1, len(FEATURES)), np.nan)
    lo, hi = np.quantile(boots, [0.025, 0.975], axis=0)
    coef = model.coef_[0]
    single = []
    for j in range(len(FEATURES)):
        mj = _fit(xs[tr_i][:, [j]], y[tr_i], 1e6, cfg.seed, l1=False)
        single.append(float((mj.predict(xs[te_i][:, [j]]) == y[te_i]).mean()))
    n = len(y)
    accuracy = Rate.of(int(round(acc * len(te_i))), len(te_i))
    result = {
        "config": cfg.to_dict(),
        "n": n,
        "n_train": int(len(tr_i)),
        "n_test": int(len(te_i)),
        "got_cheese": Rate.of_hits(y).to_dict(),
        "accuracy": acc,
        "accuracy_ci": [accuracy.lo, accuracy.hi],
        "base_rate": base,
        "intercept": float(model.intercept_[0]),
        "coefficients": [
            {"feature": f, "coef": float(coef[j]), "lo": float(lo[j]), "hi": float(hi[j]),
             "single_feature_accuracy": single[j]}
            for j, f in enumerate(FEATURES)
        ],
        "strongest": FEATURES[int(np.argmax(np.abs(coef)))],
        "best_single_feature": FEATURES[int(np.argmax(single))],
        "n_boot_used": int(len(boots)),
        "level_seed_base": BEHAVIOUR_SEED_BASE,
    }
    if out_dir is not None:
        from ..rundir import write_csv
        from . import plots

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        rows = []
        for i in range(n):
            row = {"level_seed": int(lv.seed[i]), "maze_size": int(lv.maze_size[i]),
                   "cheese_row": int(lv.cheese[i, 0]), "cheese_col": int(lv.cheese[i, 1]),
                   "split": "test" if i in set(te_i.tolist()) else "train", "got_cheese": bool(y[i])}
            row.update({f: float(feats[i, j]) for j, f in enumerate(FEATURES)})
            rows.append(row)
        write_csv(out / "behaviour.csv", rows)
        atomic_write_text(out / "behaviour.json", json.dumps(result, indent=1))
        plots.coefficient_plot(list(FEATURES), coef, lo, hi, out / "behaviour_coefficients.png",
                               title=f"L1 logistic regression on got_cheese: held-out accuracy {acc:.2f} "
                                     f"vs base rate {base:.2f} (n={n})")
        result["files"] = ["behaviour.csv", "behaviour.json", "behaviour_coefficients.png"]
        result["out_dir"] = str(out)
    return result
