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

:mod:`steering.experiments.prune_bound` runs these rows per layer, and pruning curves beside
them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mazegen import Levels

from ..activations import layer_activations, layer_shape, policy_obs
from ..patches.apply import apply_patches
from ..patches.edits import Ablate

__all__ = [
    "POOL_LIPSCHITZ",
    "bound_rows",
    "channel_lipschitz",
    "conv_operator_norm",
    "outgoing_weight_norms",
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
