"""How much behaviour do the understood channels explain? Keep only them, or ablate only them.

The *understood part* of a layer is found by the tool, not chosen by hand
(:func:`understood_channels`):

- cheese channels: the ``k_cheese`` best of :func:`steering.methods.retarget.discover_cheese_channels`'
  cheese-tracking ranking, together with the ``k_cheese`` channels carrying the most weight in
  the convolutional "cheese is at this cell" probe (``|w_c| * std_c``,
  :func:`steering.methods.probe_kinds.fit_cell_probe`);
- top-right channels: the ``k_top_right`` channels with the largest mean top-right vector
  (:func:`steering.methods.vectors.per_level_vectors` on the probe mazes smaller than the world,
  per-channel L2 norm over the cells, relative to ``std_c sqrt(H W)``), together with the ``k_top_right`` channels carrying the most weight in
  the flattened mean-difference probe for "the cheese is in the top-right 5x5".

:func:`run_explain` then mean-ablates (each channel set to its scalar mean over the probe
mazes) at that layer: the complement of the understood set (``keep-only``), the set itself
(``ablate-only``), and the same for ``random_draws`` random sets of the same size, and reports
the in-distribution cheese rate, the 25x25 far-corner outcomes (cheese top-left / bottom-right:
got the cheese, reached the top-right cell first) and how often the edited policy's most likely
move equals the unedited policy's, on the states the unedited policy visits in distribution
(``action_agreement``), plus the mean KL on those states. All rates: Wilson 95% CIs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.eval.stats import Rate
from mazegen import Levels, generate_levels
from mazegen.checks import check_int

from ..activations import DEFAULT_LAYER, policy_obs
from ..methods.probe_data import collect_probe_data, probe_levels, probe_seeds
from ..methods.probe_kinds import cheese_in_top_right, fit_cell_probe, fit_readout
from ..patches.apply import apply_patches, rollout_patch
from ..patches.base import Stack
from ..patches.edits import Ablate

__all__ = ["ExplainConfig", "run_explain", "understood_channels"]


@dataclass
class ExplainConfig:
    """Settings of :func:`run_explain` (CLI: ``scripts/probe.py explain``)."""

    #: the layer whose channels are kept / ablated
    layer: str = DEFAULT_LAYER
    #: channels per cheese criterion (discovery ranking, cell probe weight)
    k_cheese: int = 3
    #: channels per top-right criterion (top-right vector, top-right probe weight)
    k_top_right: int = 3
    #: mazes for the probes, the discovery ranking, the top-right vectors and the channel means
    probe_mazes: int = 200
    #: mazes per distribution and variant
    mazes: int = 40
    #: states (from the unedited in-distribution episodes) for the action agreement
    states: int = 1000
    #: random channel sets of the understood set's size
    random_draws: int = 2
    #: step cap per episode
    max_steps: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        self.k_cheese = check_int("k_cheese", self.k_cheese, 0)
        self.k_top_right = check_int("k_top_right", self.k_top_right, 0)
        if self.k_cheese + self.k_top_right == 0:
            raise ValueError("k_cheese + k_top_right must be at least 1")
        self.probe_mazes = check_int("probe_mazes", self.probe_mazes, 10)
        self.mazes = check_int("mazes", self.mazes, 1)
        self.states = check_int("states", self.states, 1)
        self.random_draws = check_int("random_draws", self.random_draws, 0, 100)


def _top(score: np.ndarray, k: int) -> list[int]:
    return [int(c) for c in np.argsort(-np.asarray(score), kind="stable")[:k]]


def understood_channels(policy: Any, cfg: ExplainConfig) -> dict:
    """``{"channels": sorted union, "criteria": {name: top channels}, "scores": {name: (C,)}}``."""
    from ..methods.retarget import discover_cheese_channels
    from ..methods.vectors import per_level_vectors

    lv = probe_levels(cfg.probe_mazes, cfg.seed)
    data = collect_probe_data(policy, lv, cfg.layer, outcomes=False)
    acts = data.acts.astype(np.float64)
    n, c = acts.shape[:2]
    std = np.moveaxis(acts, 1, 0).reshape(c, -1).std(1)
    scores: dict[str, np.ndarray] = {}
    crit: dict[str, list[int]] = {}
    if cfg.k_cheese:
        rank = discover_cheese_channels(policy, cfg.layer, n_mazes=cfg.probe_mazes, seed=cfg.seed, validate_top=0)
        s = np.zeros(c)
        s[rank.channels] = rank.scores
        scores["discovery"] = s
        r = fit_cell_probe("logistic", data.acts, data.cheese_act, data.valid_act, seed=cfg.seed)
        scores["cell_probe"] = np.abs(r.w) * std
    if cfg.k_top_right:
        small = Levels.from_list([x for x in lv if x.maze_size < lv.world_size])  # the path needs a margin
        v = per_level_vectors(policy, small, cfg.layer, "top-right").astype(np.float64).mean(0)  # (C, H, W)
        hw = int(np.prod(v.shape[1:]))
        scores["top_right_vector"] = np.linalg.norm(v.reshape(c, -1), axis=1) / np.maximum(std * np.sqrt(hw), 1e-12)
        y = cheese_in_top_right(data)
        r = fit_readout("mean-diff", acts.reshape(n, -1), y, seed=cfg.seed)
        scores["top_right_probe"] = np.linalg.norm(r.w.reshape(c, -1), axis=1) * std
    for name, s in scores.items():
        k = cfg.k_cheese if name in ("discovery", "cell_probe") else cfg.k_top_right
        crit[name] = _top(s, k)
    chans = sorted({ch for v in crit.values() for ch in v})
    return {"channels": chans, "criteria": crit, "scores": {k: v.tolist() for k, v in scores.items()},
            "channel_mean": np.moveaxis(acts, 1, 0).reshape(c, -1).mean(1).tolist(), "std": std.tolist()}


def _rate(x) -> dict:
    r = Rate.of(int(np.sum(x)), int(np.size(x)))
    return {"rate": r.rate, "ci_lo": r.lo, "ci_hi": r.hi, "n": r.n}


def _states(trajectories, levels: Levels, m: int, seed: int) -> Levels:
    """Up to ``m`` (level, mouse cell) states visited by ``trajectories[i]`` (``(T+1, 2)``
    cells on ``levels[i]``), the cheese kept."""
    cand = []
    for i, traj in enumerate(trajectories):
        ch = tuple(int(v) for v in levels.cheese[i])
        for cell in {tuple(int(v) for v in x) for x in traj}:
            if cell != ch:
                cand.append((i, cell))
    cand.sort()
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(cand), min(m, len(cand)), replace=False)
    return Levels.from_list([levels[cand[j][0]].with_mouse(cand[j][1]) for j in sorted(pick)])


def run_explain(
    policy: Any,
    cfg: ExplainConfig,
    *,
    out: str | Path | None = None,
    bar: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """``{"understood": understood_channels(...), "rows": one per variant}``.

    Resume: with ``out``, a run directory (:func:`agents.rundir.open_run`: refused if it holds
    other settings or another agent's weights) of five units reused when finished:
    ``understood``, one per distribution (``rollout_in``, ``rollout_top-left``,
    ``rollout_bottom-right``; each the one batched rollout of every variant) and ``agreement``.
    Each unit is seeded by ``cfg.seed`` alone, so a resumed run gives the rows of an
    uninterrupted one. ``bar``: a tqdm bar over the units."""
    from agents.eval.rollout import rollout
    from agents.policy import MOVE_OF_ACTION
    from agents.rundir import unit_runner

    say = progress or (lambda m: None)
    config = {"experiment": "explain", **asdict(cfg)}
    with unit_runner(out, config, policy=policy, total=5, desc="explain", bar=bar) as unit:
        say("finding the understood channels")
        und = unit("understood", lambda: understood_channels(policy, cfg))
        u = und["channels"]
        mean = np.asarray(und["channel_mean"], np.float32)
        c = len(mean)
        rest = [ch for ch in range(c) if ch not in u]
        rng = np.random.default_rng(cfg.seed + 5)
        variants = [("none", "baseline", None, [])]
        variants += [("understood", "keep-only", None, rest), ("understood", "ablate-only", None, u)]
        for d in range(cfg.random_draws):
            r = sorted(rng.choice(c, len(u), replace=False).tolist())
            variants += [("random", "keep-only", d, [ch for ch in range(c) if ch not in r]),
                         ("random", "ablate-only", d, r)]
        subs = [Ablate(cfg.layer, ab, "mean", mean) if ab else None for *_, ab in variants]
        nv = len(variants)
        dists = {
            "in": generate_levels(probe_seeds(cfg.mazes, cfg.seed, offset=200_000), cheese="top-right:5"),
            "top-left": generate_levels(probe_seeds(cfg.mazes, cfg.seed, offset=400_000), maze_size=25, cheese="top-left"),
            "bottom-right": generate_levels(probe_seeds(cfg.mazes, cfg.seed, offset=500_000), maze_size=25, cheese="bottom-right"),
        }
        rows = [{"set": s, "mode": m, "draw": d, "n_ablated": len(ab), "ablated": " ".join(map(str, ab))}
                for s, m, d, ab in variants]
        n = cfg.mazes
        blocks = np.repeat(np.arange(nv), n)

        def dist_unit(dist: str, lv: Levels) -> dict:
            say(f"explain: {nv} variants x {n} mazes, {dist}")
            stack = Stack(cfg.layer, subs, [n] * nv)
            res = rollout(policy, Levels.concat([lv] * nv), seed=cfg.seed, max_steps=cfg.max_steps,
                          patch=rollout_patch(policy, stack), record_trajectory=dist == "in")
            oc = np.asarray(res.outcome)
            got = []
            for b in range(nv):
                sel, g = blocks == b, {}
                for name in ("cheese",) if dist == "in" else ("cheese", "top_right"):
                    q = _rate(oc[sel] == name)
                    key = f"{dist}_{name}"
                    g[key], g[f"{key}_ci_lo"], g[f"{key}_ci_hi"] = q["rate"], q["ci_lo"], q["ci_hi"]
                got.append(g)
            # block 0 (unedited) trajectories: the states of the action agreement
            trajs = [np.asarray(t).tolist() for t in res.trajectories[:n]] if dist == "in" else None
            return {"rows": got, "trajectories": trajs}

        base_trajs = None
        for dist, lv in dists.items():
            d = unit(f"rollout_{dist}", partial(dist_unit, dist, lv))
            for r, g in zip(rows, d["rows"]):
                r.update(g)
            if dist == "in":
                base_trajs = d["trajectories"]

        def agreement() -> list[dict]:
            # action agreement on the unedited policy's in-distribution states
            st = _states(base_trajs, dists["in"], cfg.states, cfg.seed)
            m = len(st)
            x = policy.preprocess(policy_obs(policy, Levels.concat([st] * nv)))
            with torch.no_grad(), apply_patches(policy.model, Stack(cfg.layer, subs, [m] * nv), np.arange(m * nv)):
                logits = policy.model(x)[0].double()
            p = torch.softmax(logits, -1).numpy()
            moves = np.zeros((len(p), int(MOVE_OF_ACTION.max()) + 1))
            np.add.at(moves.T, MOVE_OF_ACTION, p.T)
            best = moves.argmax(1).reshape(nv, m)
            logp = torch.log_softmax(logits, -1).reshape(nv, m, -1)
            kl = (logp[0].exp()[None] * (logp[0][None] - logp)).sum(-1).mean(1).numpy()
            got = []
            for b in range(nv):
                q = _rate(best[b] == best[0])
                got.append({"action_agreement": q["rate"], "action_agreement_ci_lo": q["ci_lo"],
                            "action_agreement_ci_hi": q["ci_hi"], "kl_mean": float(kl[b]), "states": m})
            return got

        for r, g in zip(rows, unit("agreement", agreement)):
            r.update(g)
    return {"understood": und, "rows": rows}
