"""The Lipschitz bound on pruning a channel, against what mean-ablating it really does.

Removing (mean-ablating) channel ``c`` of a layer changes that layer's activation by
``delta = x_c - mean_c`` on the channel's ``H x W`` cells, nothing else. Everything downstream
is a chain of Lipschitz maps, so ``|delta logits|_2 <= K_c |delta|_2`` for every input, with
``K_c`` the product of the downstream operators' Lipschitz constants (L2 norms, biases drop
out of differences):

- a 3x3 convolution: its operator norm *as a linear map on the actual input size* (zero
  padding included), by power iteration on ``conv`` and its adjoint ``conv_transpose``
  (:func:`conv_operator_norm`); the first channel-mixing convolution after the edit only sees
  channel ``c``, so it contributes the norm of its restriction ``W[:, c:c+1]``;
- a residual block ``x + conv2(relu(conv1(relu(x))))``: ``1 + |conv2| |conv1|`` (ReLU is
  1-Lipschitz), with ``conv1`` restricted to channel ``c`` while the edit is still confined to it;
- ``maxpool(3, stride 2, pad 1)``: each input cell lies in at most 2x2 windows, so it is
  ``sqrt(4) = 2``-Lipschitz in L2 (1-Lipschitz only in the max norm);
- the linear layers ``fc`` and ``fc_policy``: their spectral norms (``fc`` restricted to the
  columns of channel ``c`` when the edit is still confined to it); ``relu3``/``relufc``: 1.

Over the training distribution ``E|delta|^2 = H W std_c^2`` (``std_c`` pooled over mazes and
cells, the mean being the channel's scalar mean), so the RMS logit change is at most
``K_c X_c`` with ``X_c = std_c sqrt(H W)``. :func:`bound_rows` gives, per channel, ``std``,
``K`` (channel-restricted) and ``K_global`` (full norms), ``bound = K X``, the measured RMS
``|delta logits|_2``, the largest per-maze ratio measured / (K |delta|) (must be <= 1) and the
mean ``KL(unpruned || pruned)`` of the action distribution.

:func:`run_prune_curves` prunes (mean-ablates) the lowest-std ``k%`` of one layer's channels and,
globally, of all residual-stream channels, against random sets and the smallest outgoing-weight
norms: in-distribution cheese rate, the 25x25 far-corner outcomes and the KL from the unpruned
policy.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from agents.eval.stats import Rate
from mazegen import Levels, generate_levels
from mazegen.checks import check_int

from ..activations import DEFAULT_LAYER, layer_activations, layer_shape, policy_obs
from ..patches.apply import apply_patches, rollout_patch
from ..patches.base import Stack
from ..patches.edits import Ablate
from .probe_data import probe_seeds

__all__ = [
    "POOL_LIPSCHITZ",
    "CURVE_UNITS",
    "PruneBoundConfig",
    "bound_rows",
    "channel_lipschitz",
    "conv_operator_norm",
    "outgoing_weight_norms",
    "run_prune_bound",
    "run_prune_curves",
]

#: L2 Lipschitz constant of maxpool(kernel 3, stride 2): sqrt(ceil(3 / 2) ** 2).
POOL_LIPSCHITZ = 2.0


def conv_operator_norm(weight: torch.Tensor, size: int, *, iters: int = 60, seed: int = 0) -> float:
    """Largest singular value of ``x -> conv2d(x, weight, padding=k//2)`` on ``(C_in, size, size)``
    inputs (power iteration on ``A^T A``; ``weight (C_out, C_in, k, k)``).

    >>> w = torch.zeros(1, 1, 3, 3); w[0, 0, 1, 1] = 2.0
    >>> round(conv_operator_norm(w, 5), 4)
    2.0
    """
    w = weight.detach().double()
    pad = w.shape[-1] // 2
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(1, w.shape[1], size, size, generator=g, dtype=torch.float64)
    v /= v.norm()
    s = 0.0
    for _ in range(iters):
        u = F.conv2d(v, w, padding=pad)
        v2 = F.conv_transpose2d(u, w, padding=pad)
        s = float(v2.norm())
        if s == 0:
            return 0.0
        v = v2 / s
    return math.sqrt(s)


def _spectral(w: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(w.detach().double(), ord=2))


def _side(policy: Any, layer: str) -> int:
    return int(layer_shape(policy, layer)[-1])


def _downstream(model, layer: str) -> list[tuple[str, Any, int]]:
    """``(op, module, input side)`` after ``layer``: ``pool``, ``res``, ``conv``, ``head``."""
    parts = layer.split(".")
    if len(parts) < 3 or parts[0] != "embedder" or not parts[1].startswith("block"):
        raise ValueError(f"the bound needs an embedder.block*.conv / resadd_out layer, got {layer!r}")
    b = int(parts[1][5:])
    emb = model.embedder
    ops: list[tuple[str, Any, int]] = []
    size = model.obs_size
    for i in range(1, 4):
        blk = getattr(emb, f"block{i}")
        pooled = (size + 1) // 2
        seq = [("conv", blk.conv, size), ("pool", blk.maxpool, size), ("res", blk.res1, pooled),
               ("res", blk.res2, pooled)]
        if i == b:
            tail = ".".join(parts[2:])
            at = {"conv": 0, "res1.resadd_out": 2, "res2.resadd_out": 3}.get(tail)
            if at is None:
                raise ValueError(f"the bound needs a block's conv or resadd_out, got {layer!r}")
            ops += seq[at + 1:]
        elif i > b:
            ops += seq
        size = pooled
    ops.append(("head", model, size))
    return ops


def channel_lipschitz(policy: Any, layer: str, *, iters: int = 60) -> tuple[np.ndarray, float]:
    """``(K (C,), K_global)``: the Lipschitz constants from ``layer`` (channel ``c`` only /
    any change) to the logits; see the module docstring."""
    model = policy.model
    c = int(layer_shape(policy, layer)[0])
    ops = _downstream(model, layer)
    cache: dict = {}

    def cnorm(w, size, j=None):
        """The operator norm of conv weight ``w`` (restricted to input channel ``j``); cached
        by the parameter itself, never by a temporary slice (whose id Python may reuse)."""
        key = (id(w), j, size)
        if key not in cache:
            cache[key] = conv_operator_norm(w if j is None else w[:, j : j + 1], size, iters=iters)
        return cache[key]

    glob = 1.0
    per = np.ones(c)
    confined = True  # the perturbation still lives in channel c alone
    for op, mod, size in ops:
        if op == "pool":
            glob *= POOL_LIPSCHITZ
            per *= POOL_LIPSCHITZ
        elif op == "conv":
            full = cnorm(mod.weight, size)
            glob *= full
            if confined:
                per *= [cnorm(mod.weight, size, j) for j in range(c)]
                confined = False
            else:
                per *= full
        elif op == "res":
            n2 = cnorm(mod.conv2.weight, size)
            full = 1 + n2 * cnorm(mod.conv1.weight, size)
            glob *= full
            if confined:
                per *= [1 + n2 * cnorm(mod.conv1.weight, size, j) for j in range(c)]
                confined = False
            else:
                per *= full
        else:  # relu3 -> flatten -> fc -> relufc -> fc_policy
            fc = model.embedder.fc.weight
            head = _spectral(model.fc_policy.weight)
            glob *= _spectral(fc) * head
            if confined:
                w4 = fc.reshape(fc.shape[0], c, -1)
                per *= np.array([_spectral(w4[:, j]) for j in range(c)]) * head
            else:
                per *= _spectral(fc) * head
    return per, glob


def _logits(policy: Any, x: torch.Tensor, patches=None) -> torch.Tensor:
    with torch.no_grad():
        if patches is None:
            return policy.model(x)[0].double()
        with apply_patches(policy.model, patches):
            return policy.model(x)[0].double()


def bound_rows(
    policy: Any,
    layer: str,
    levels: Levels,
    *,
    std: np.ndarray | None = None,
    mean: np.ndarray | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """Per channel of ``layer``: the bound ``K X`` and the measured change under mean-ablation
    on ``levels`` (stds/means from ``levels`` unless given)."""
    from .prune import channel_stats

    if std is None or mean is None:
        std, mean = channel_stats(policy, levels, layer)
    k, k_glob = channel_lipschitz(policy, layer)
    acts = layer_activations(policy, levels, layer).double()
    x = policy.preprocess(policy_obs(policy, levels))
    base = _logits(policy, x)
    logp = torch.log_softmax(base, -1)
    hw = int(np.prod(acts.shape[2:]))
    rows = []
    for ch in range(acts.shape[1]):
        if progress and ch % 8 == 0:
            progress(f"bound {layer} channel {ch}/{acts.shape[1]}")
        out = _logits(policy, x, Ablate(layer, [ch], "mean", np.asarray(mean, np.float32)))
        dl = (out - base).norm(dim=-1).numpy()
        dx = (acts[:, ch] - float(mean[ch])).reshape(len(acts), -1).norm(dim=-1).numpy()
        kl = (logp.exp() * (logp - torch.log_softmax(out, -1))).sum(-1).numpy()
        ratio = np.where(dx > 0, dl / np.maximum(k[ch] * dx, 1e-300), 0.0)
        x_c = float(std[ch]) * math.sqrt(hw)
        rows.append({
            "layer": layer, "channel": ch, "std": float(std[ch]), "X": x_c,
            "K": float(k[ch]), "K_global": float(k_glob), "bound": float(k[ch]) * x_c,
            "bound_global": k_glob * x_c, "measured_rms": float(np.sqrt(np.mean(dl**2))),
            "measured_max": float(dl.max()), "max_ratio": float(ratio.max()),
            "kl_mean": float(kl.mean()), "kl_max": float(kl.max()),
        })
    return rows


def outgoing_weight_norms(policy: Any, layer: str) -> np.ndarray:
    """``(C,)``: the L2 norm of the weights of the first channel-mixing layer after ``layer``
    that read channel ``c`` (a residual block's ``conv1``, a block's ``conv``, or ``fc``)."""
    model = policy.model
    c = int(layer_shape(policy, layer)[0])
    for op, mod, _ in _downstream(model, layer):
        if op == "res":
            w = mod.conv1.weight
        elif op == "conv":
            w = mod.weight
        elif op == "head":
            w = model.embedder.fc.weight.reshape(model.embedder.fc.weight.shape[0], c, -1)
        else:
            continue
        return w.detach().double().transpose(0, 1).reshape(c, -1).norm(dim=1).numpy()
    raise ValueError(f"no channel-mixing layer after {layer!r}")


@dataclass
class PruneBoundConfig:
    """Settings of ``scripts/probe.py prune --bound`` (:func:`bound_rows`, :func:`run_prune_curves`)."""

    #: the layer of the per-layer pruning curve
    layer: str = DEFAULT_LAYER
    #: layers of the bound table (None: every residual-stream layer)
    bound_layers: list | None = None
    #: mazes for the channel stds and the measured logit changes (uniform cheese)
    std_mazes: int = 200
    #: mazes per distribution and variant for the behaviour
    mazes: int = 40
    #: percentages of channels pruned
    percents: list = field(default_factory=lambda: [10, 25, 50])
    #: random channel sets per percentage
    random_draws: int = 2
    #: step cap per episode
    max_steps: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        self.std_mazes = check_int("std_mazes", self.std_mazes, 2)
        self.mazes = check_int("mazes", self.mazes, 1)
        self.random_draws = check_int("random_draws", self.random_draws, 0, 100)
        for p in self.percents:
            if not 0 < float(p) <= 100:
                raise ValueError(f"percents must be in (0, 100], got {p!r}")


def _outcomes(res, sel) -> dict:
    out = {}
    oc = np.asarray(res.outcome)[sel]
    for name in ("cheese", "top_right"):
        r = Rate.of(int((oc == name).sum()), len(oc))
        out[name] = {"rate": r.rate, "ci_lo": r.lo, "ci_hi": r.hi, "n": r.n}
    return out


def run_prune_curves(
    policy: Any,
    cfg: PruneBoundConfig,
    stats: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    progress: Callable[[str], None] | None = None,
    unit: Callable[[str, Callable[[], Any]], Any] | None = None,
) -> list[dict]:
    """Rows (scope ``layer``/``global``, selection, percent, draw) with the in-distribution
    cheese rate, the 25x25 top-left and bottom-right outcome rates and the mean KL from the
    unpruned policy. ``stats`` maps each residual-stream layer to its ``(std, mean)``.
    ``unit(stem, compute)`` (:func:`agents.rundir.unit_runner`'s) runs each of
    :data:`CURVE_UNITS`; default: computed here."""
    from agents.eval.rollout import rollout

    say = progress or (lambda m: None)
    layers = list(stats)
    rng = np.random.default_rng(cfg.seed)
    variants: list[tuple[str, str, float, int | None, dict[str, list[int]]]] = [("none", "baseline", 0, None, {})]
    # per layer
    std, _ = stats[cfg.layer]
    c = len(std)
    mag = outgoing_weight_norms(policy, cfg.layer)
    for p in cfg.percents:
        k = max(1, int(round(c * p / 100)))
        variants.append(("layer", "lowest-std", p, None, {cfg.layer: np.argsort(std, kind="stable")[:k].tolist()}))
        variants.append(("layer", "weight-magnitude", p, None, {cfg.layer: np.argsort(mag, kind="stable")[:k].tolist()}))
        for d in range(cfg.random_draws):
            variants.append(("layer", "random", p, d, {cfg.layer: np.sort(rng.choice(c, k, replace=False)).tolist()}))
    # global: every stream layer's channels ranked together
    owner = [(ly, ch) for ly in layers for ch in range(len(stats[ly][0]))]
    gstd = np.array([stats[ly][0][ch] for ly, ch in owner])
    gmag = np.concatenate([outgoing_weight_norms(policy, ly) for ly in layers])
    for p in cfg.percents:
        k = max(1, int(round(len(owner) * p / 100)))
        picks = [("lowest-std", None, np.argsort(gstd, kind="stable")[:k]),
                 ("weight-magnitude", None, np.argsort(gmag, kind="stable")[:k])]
        picks += [("random", d, rng.choice(len(owner), k, replace=False)) for d in range(cfg.random_draws)]
        for sel, d, idx in picks:
            chans: dict[str, list[int]] = {}
            for i in sorted(idx.tolist()):
                chans.setdefault(owner[i][0], []).append(owner[i][1])
            variants.append(("global", sel, p, d, chans))

    def stacks(n: int) -> list[Stack]:
        out = []
        for ly in layers:
            subs = [Ablate(ly, ch[ly], "mean", np.asarray(stats[ly][1], np.float32)) if ly in ch else None
                    for *_, ch in variants]
            if any(s is not None for s in subs):
                out.append(Stack(ly, subs, [n] * len(variants)))
        return out

    dists = {
        "in": generate_levels(probe_seeds(cfg.mazes, cfg.seed, offset=200_000), cheese="top-right:5"),
        "top-left": generate_levels(probe_seeds(cfg.mazes, cfg.seed, offset=400_000), maze_size=25, cheese="top-left"),
        "bottom-right": generate_levels(probe_seeds(cfg.mazes, cfg.seed, offset=500_000), maze_size=25, cheese="bottom-right"),
    }
    n = cfg.mazes
    rows = [{"scope": s, "selection": sel, "percent": p, "draw": d,
             "channels_pruned": sum(len(v) for v in ch.values()),
             "channels": ";".join(f"{ly}:{' '.join(map(str, v))}" for ly, v in ch.items())}
            for s, sel, p, d, ch in variants]
    unit = unit or (lambda stem, compute: compute())

    def kl_rows() -> list[float]:  # KL on the first frames of the in-distribution mazes
        lv_in = dists["in"]
        x = policy.preprocess(policy_obs(policy, Levels.concat([lv_in] * len(variants))))
        with torch.no_grad(), apply_patches(policy.model, stacks(n), np.arange(n * len(variants))):
            logp = torch.log_softmax(policy.model(x)[0].double(), -1).reshape(len(variants), n, -1)
        return (logp[0].exp()[None] * (logp[0][None] - logp)).sum(-1).mean(1).tolist()

    for r, v in zip(rows, unit("curves_kl", kl_rows)):
        r["kl_mean"] = float(v)
    blocks = np.repeat(np.arange(len(variants)), n)

    def dist_rows(dist: str, lv: Levels) -> list[dict]:
        say(f"pruning: {len(variants)} variants x {n} mazes, {dist}")
        res = rollout(policy, Levels.concat([lv] * len(variants)), seed=cfg.seed, max_steps=cfg.max_steps,
                      patch=rollout_patch(policy, stacks(n)))
        got = []
        for b in range(len(variants)):
            o, g = _outcomes(res, blocks == b), {}
            for name in ("cheese", "top_right") if dist != "in" else ("cheese",):
                key = f"{dist}_{name}"
                g[key], g[f"{key}_ci_lo"], g[f"{key}_ci_hi"] = o[name]["rate"], o[name]["ci_lo"], o[name]["ci_hi"]
            got.append(g)
        return got

    for dist, lv in dists.items():
        for r, g in zip(rows, unit(f"curves_{dist}", partial(dist_rows, dist, lv))):
            r.update(g)
    return rows


#: the units of :func:`run_prune_curves`, after the bound layers' ones
CURVE_UNITS = ("curves_kl", "curves_in", "curves_top-left", "curves_bottom-right")


def run_prune_bound(
    policy: Any,
    cfg: PruneBoundConfig,
    layers: Sequence[str],
    *,
    out: str | os.PathLike | None = None,
    bar: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """``{"bound_rows": [...], "curves": [...]}``: :func:`bound_rows` at every bound layer
    (channel stats from ``std_mazes`` uniform-cheese mazes) and :func:`run_prune_curves`;
    ``layers``: the residual-stream layers
    (:func:`steering.experiments.probe_layers.stream_layers`), pruned together by the global curve.

    Resume: with ``out``, a run directory (:func:`agents.rundir.open_run`: refused if it holds
    other settings or another agent's weights) of units reused when finished: ``stats``, one
    ``bound_<layer>`` per bound layer, and the curves' ``curves_kl`` and one per distribution
    (``curves_in``, ``curves_top-left``, ``curves_bottom-right``; each the one batched rollout of
    every variant). Each unit is seeded by ``cfg.seed`` alone, so a resumed run gives the rows
    of an uninterrupted one. ``bar``: a tqdm bar over the units."""
    from agents.rundir import unit_runner, unit_stem

    from .prune import channel_stats

    layers = list(layers)
    blayers = list(cfg.bound_layers or layers)
    for ly in blayers + [cfg.layer]:
        if ly not in layers:
            raise ValueError(f"layer {ly!r} is not a residual-stream layer; choose from {layers}")
    std_lv = generate_levels(probe_seeds(cfg.std_mazes, cfg.seed, offset=0), cheese="uniform")
    config = {"experiment": "prune-bound", **asdict(cfg)}
    total = 1 + len(blayers) + len(CURVE_UNITS)
    with unit_runner(out, config, policy=policy, total=total, desc="prune --bound", bar=bar) as unit:
        got = unit("stats", lambda: {ly: [np.asarray(v, np.float64).tolist() for v in channel_stats(policy, std_lv, ly)]
                                     for ly in layers})
        stats = {ly: (np.asarray(s), np.asarray(m)) for ly, (s, m) in got.items()}
        rows = []
        for ly in blayers:
            if progress:
                progress(f"bound at {ly}")
            rows += unit(unit_stem("bound", ly), partial(bound_rows, policy, ly, std_lv, std=stats[ly][0],
                                                                mean=stats[ly][1], progress=progress))
        curves = run_prune_curves(policy, cfg, stats, progress=progress, unit=unit)
    return {"bound_rows": rows, "curves": curves}
