"""Optimised sparse edits: additive edits of ``k`` activations fitted by gradient to steer the
mouse to a target cell.

The objective is the log-probability of the shortest-path move toward the target (moves
aggregated over procgen's 15 actions, as :meth:`agents.Policy.move_probs` does), averaged over
*training states*: the mouse placed on every cell within ``radius`` steps of the shortest path
start -> target, each labelled with its BFS move toward the target (the cheese stays where the
level has it). Two kinds:

- **per maze** (``shared=False``): one edit per maze, fitted on that maze's states only; the
  patch is a per-level :class:`~steering.patches.sparse.SparseAdd`;
- **shared** (``shared=True``): one edit for all mazes (one per target name), fitted on the
  states of a training set of mazes and meant to be evaluated on held-out mazes. It conditions
  on nothing maze-specific.

Fitting: (1) choose the support, ``k`` positions per layer, by the magnitude of the loss
gradient at zero edit (``support="grad"``) or from a dense L1-penalised fit
(``support="l1"``: the ``k`` largest entries); (2) fit the values on that support with Adam
(small L2); (3) optionally ``dagger`` rounds: roll the edited policy out, add every state it
visited (labelled with its shortest-path move toward the target) to the training states and
re-fit, so the edit also corrects the states the edited policy actually reaches.

The training states and the DAgger additions are built in :mod:`steering.methods.edit_states`.
Several layers (``layers=[...]``) split ``k`` evenly and give one ``SparseAdd`` per layer.

>>> import numpy as np, torch
>>> from steering.methods.optimise import EditConfig
>>> EditConfig(k=4).validate().k
4
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from agents.model import fast_inference
from mazegen import Level, Levels
from mazegen.checks import check_int
from mazegen.levels import as_levels

from ..activations import DEFAULT_LAYER, layer_shape, policy_obs
from ..patches.base import Patch
from ..patches.sparse import SparseAdd
from .edit_states import TrainingStates, dagger_states, path_states

__all__ = [
    "EditConfig",
    "check_edit_layers",
    "fit_sparse_edit",
]

SUPPORTS = ("grad", "l1")


@dataclass
class EditConfig:
    """Options of :func:`fit_sparse_edit`."""

    #: hook points edited (``k`` is split evenly over them)
    layers: list[str] = field(default_factory=lambda: [DEFAULT_LAYER])
    #: activations edited per forward pass, over all layers together
    k: int = 64
    #: how the support is chosen: "grad" (gradient magnitude at zero) or "l1" (dense L1 fit)
    support: str = "l1"
    #: one edit for all mazes (True) or one per maze (False)
    shared: bool = False
    #: Adam steps of the value fit (per round)
    steps: int = 200
    #: Adam learning rate
    lr: float = 0.3
    #: L2 penalty on the edit (per edited activation, mean over edits)
    l2: float = 1e-4
    #: L1 penalty of the dense fit when ``support="l1"``
    l1: float = 1e-2
    #: training states: cells within this many steps of the shortest path
    radius: int = 1
    #: rounds of DAgger (roll out with the edit, add visited states, re-fit)
    dagger: int = 0
    #: step cap of the DAgger roll-outs
    dagger_steps: int = 300
    #: sample actions in the DAgger roll-outs (False: argmax)
    dagger_sample: bool = True
    #: run the fit's forward passes on channels_last activations under
    #: agents.model.fast_inference (bf16 autocast where the CPU does bf16 in hardware: about 3x
    #: faster there; fp32 elsewhere); the fitted edit is always evaluated in fp32
    fast: bool = True

    def validate(self) -> EditConfig:
        if not self.layers or not all(isinstance(x, str) and x for x in self.layers):
            raise ValueError(f"layers must be a non-empty list of hook point names, got {self.layers!r}")
        if len(set(self.layers)) != len(self.layers):
            raise ValueError(f"layers must not repeat, got {self.layers}")
        self.k = check_int("k (activations edited)", self.k, len(self.layers))
        if self.support not in SUPPORTS:
            raise ValueError(f"support must be one of {SUPPORTS}, got {self.support!r}")
        self.steps = check_int("steps", self.steps, 1)
        self.radius = check_int("radius", self.radius, 0)
        self.dagger = check_int("dagger rounds", self.dagger, 0)
        self.dagger_steps = check_int("dagger_steps", self.dagger_steps, 1)
        for name in ("lr", "l2", "l1"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def check_edit_layers(policy: Any, layers: Sequence[str], k: int) -> dict[str, tuple[int, ...]]:
    """Each layer's shape; ValueError for an unknown layer or a ``k`` the layers cannot hold."""
    shapes = {}
    for layer in layers:
        shapes[layer] = layer_shape(policy, layer)  # raises naming the hook points
    per = _split_k(k, len(layers))
    for (layer, shape), kk in zip(shapes.items(), per):
        size = int(np.prod(shape))
        if not 1 <= kk <= size:
            raise ValueError(
                f"k={k} gives {kk} activations of {layer!r}, which holds {size}; allowed "
                f"k per layer: [1, {size}]"
            )
    return shapes


def _split_k(k: int, n: int) -> list[int]:
    return [k // n + (1 if i < k % n else 0) for i in range(n)]


# ------------------------------------------------------------------ forward from a layer
_BLOCK_PARTS = ("conv", "maxpool", "res1.resadd_out", "res2.resadd_out")


def _suffix_fn(model: torch.nn.Module, layer: str) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """``act -> logits`` running an :class:`agents.model.ImpalaModel` from ``layer``'s output on
    (None for layers this shortcut does not cover; those use a hooked full forward)."""
    emb = getattr(model, "embedder", None)
    if emb is None or not hasattr(emb, "block3"):
        return None
    steps: list[Callable] = []
    for b in (1, 2, 3):
        blk = getattr(emb, f"block{b}")
        steps += [blk.conv, blk.maxpool, blk.res1, blk.res2]
    names = [f"embedder.block{b}.{p}" for b in (1, 2, 3) for p in _BLOCK_PARTS]
    tail = [emb.relu3, emb.flatten, emb.fc, emb.relufc, model.fc_policy]
    if layer in names:
        rest = steps[names.index(layer) + 1 :] + tail
    elif layer == "embedder.fc":
        rest = [emb.relufc, model.fc_policy]
    elif layer == "embedder.relufc":
        rest = [model.fc_policy]
    else:
        return None

    def run(x: torch.Tensor) -> torch.Tensor:
        for f in rest:
            x = f(x)
        return x

    return run


class _Objective:
    """Logits of the training states under per-state edits of the chosen layers."""

    def __init__(
        self, policy: Any, states: TrainingStates, shapes: dict[str, tuple[int, ...]], fast: bool = False
    ):
        from ..hooking import run_with_cache

        self.model = policy.model
        self.fast = bool(fast)
        self.shapes = shapes
        self.layers = list(shapes)
        obs = policy_obs(policy, states.levels)
        self.x = policy.preprocess(obs)
        self.suffix = _suffix_fn(self.model, self.layers[0]) if len(self.layers) == 1 else None
        if self.suffix is not None:
            _, cache = run_with_cache(self.model, self.x, self.layers)
            self.base = cache[self.layers[0]].reshape(len(self.x), -1)

    def logits(self, deltas: dict[str, torch.Tensor]) -> torch.Tensor:
        """``deltas[layer]``: ``(S, size)`` edits, one row per state -> ``(S, 15)`` logits."""
        from ..hooking import hooks

        with fast_inference(self.fast, self.x.device):
            if self.suffix is not None:
                layer = self.layers[0]
                act = (self.base + deltas[layer]).reshape(len(self.x), *self.shapes[layer])
                if self.fast and act.dim() == 4:
                    act = act.contiguous(memory_format=torch.channels_last)
                return self.suffix(act).float()

            def make(layer):
                return lambda act, name: act + deltas[layer].reshape(act.shape)

            with hooks(self.model, {layer: make(layer) for layer in self.layers}):
                return self.model(self.x)[0].float()


@contextlib.contextmanager
def _frozen(model: torch.nn.Module):
    """Parameters without gradients for the duration (the fit needs only the edit's gradient,
    which saves the weight-gradient third of every backward pass)."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    try:
        for p, _ in flags:
            p.requires_grad_(False)
        yield
    finally:
        for p, f in flags:
            p.requires_grad_(f)


def _move_logp(logits: torch.Tensor, move: torch.Tensor) -> torch.Tensor:
    """``(S,)`` log-probability of each state's move column (15 actions grouped into moves)."""
    from agents.policy import MOVE_OF_ACTION

    groups = torch.tensor(np.array(MOVE_OF_ACTION))
    mask = groups[None, :] == move[:, None]  # (S, 15)
    top = torch.logsumexp(logits.masked_fill(~mask, -1e9), dim=1)
    return top - torch.logsumexp(logits, dim=1)


def _fit(
    obj: _Objective,
    states: TrainingStates,
    n_edits: int,
    index: dict[str, torch.Tensor] | None,
    values: dict[str, torch.Tensor],
    cfg: EditConfig,
    *,
    steps: int,
    l1: float = 0.0,
    stats: dict | None = None,
) -> dict[str, torch.Tensor]:
    """Adam on ``values`` (``(E, K)`` on ``index`` or ``(E, size)`` dense when ``index`` is None);
    edit ``e`` acts on the states of owner ``e`` (shared: E = 1, every state)."""
    owner = torch.as_tensor(states.owner if n_edits > 1 else np.zeros(len(states.owner), np.int64))
    move = torch.as_tensor(states.move)
    # each maze weighs the same in the loss
    counts = torch.bincount(torch.as_tensor(states.owner), minlength=int(states.owner.max()) + 1).float()
    w = 1.0 / counts[torch.as_tensor(states.owner)]
    w = w / w.sum()
    params = [v.requires_grad_(True) for v in values.values()]
    opt = torch.optim.Adam(params, lr=cfg.lr)
    for _ in range(steps):
        opt.zero_grad()
        deltas = {}
        for layer, v in values.items():
            size = int(np.prod(obj.shapes[layer]))
            if index is None:
                deltas[layer] = v[owner]
            else:
                d = torch.zeros(n_edits, size)
                d = d.scatter(1, index[layer], v)
                deltas[layer] = d[owner]
        logp = _move_logp(obj.logits(deltas), move)
        loss = -(w * logp).sum()
        for v in values.values():
            loss = loss + cfg.l2 * (v**2).sum(1).mean()
            if l1:
                loss = loss + l1 * v.abs().sum(1).mean()
        loss.backward()
        opt.step()
    if stats is not None:
        stats["train_loss"] = float(-(w * logp).sum().detach())
        stats["train_p_move"] = float((w * logp.exp()).sum().detach())
    return {k: v.detach() for k, v in values.items()}


def _support(
    obj: _Objective, states: TrainingStates, n_edits: int, cfg: EditConfig
) -> dict[str, torch.Tensor]:
    """``{layer: (E, k_layer)}`` flat positions, by gradient magnitude or a dense L1 fit."""
    zeros = {layer: torch.zeros(n_edits, int(np.prod(s))) for layer, s in obj.shapes.items()}
    if cfg.support == "l1":
        dense = _fit(obj, states, n_edits, None, zeros, cfg, steps=max(1, cfg.steps // 2), l1=cfg.l1)
        score = {k: v.abs() for k, v in dense.items()}
    else:
        owner = torch.as_tensor(states.owner if n_edits > 1 else np.zeros(len(states.owner), np.int64))
        vals = {k: v.requires_grad_(True) for k, v in zeros.items()}
        logp = _move_logp(obj.logits({k: v[owner] for k, v in vals.items()}), torch.as_tensor(states.move))
        (-logp.sum()).backward()
        score = {k: v.grad.abs() for k, v in vals.items()}
    ks = _split_k(cfg.k, len(obj.layers))
    return {layer: torch.topk(score[layer], kk, dim=1).indices for layer, kk in zip(obj.layers, ks)}


def _patches(index, values, shapes, shared: bool) -> list[Patch]:
    out: list[Patch] = []
    for layer in shapes:
        idx, val = index[layer].numpy(), values[layer].numpy()
        if shared:
            out.append(SparseAdd(layer, idx[0], val[0], shapes[layer]))
        else:
            out.append(SparseAdd(layer, idx, val, shapes[layer], per_level=True))
    return out


def fit_sparse_edit(
    policy: Any,
    levels: Levels | Sequence[Level],
    targets: np.ndarray,
    cfg: EditConfig,
    *,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Patch], dict]:
    """Fit the edit; returns ``(patches, info)``.

    ``patches``: one :class:`SparseAdd` per layer (per-level for per-maze edits: row ``b`` of a
    forward pass uses the edit of level ``rows[b]`` of ``levels``). ``info``: training-state
    counts per round, the final training loss and the edit's mean L2 norm.
    """
    cfg.validate()
    with _frozen(policy.model):
        return _fit_sparse_edit(policy, levels, targets, cfg, seed=seed, progress=progress)


def _fit_sparse_edit(policy, levels, targets, cfg: EditConfig, *, seed: int, progress) -> tuple[list[Patch], dict]:
    lv = as_levels(levels)
    t = np.asarray(targets, np.int64).reshape(len(lv), 2)
    shapes = check_edit_layers(policy, cfg.layers, cfg.k)
    states = path_states(lv, t, cfg.radius)
    n_edits = 1 if cfg.shared else len(lv)
    info: dict = {"states": [len(states.levels)]}
    obj = _Objective(policy, states, shapes, cfg.fast)
    if progress:
        progress(f"support ({cfg.support}) k={cfg.k}")
    index = _support(obj, states, n_edits, cfg)
    values = {layer: torch.zeros(n_edits, index[layer].shape[1]) for layer in shapes}
    for rnd in range(cfg.dagger + 1):
        if progress:
            progress(f"fit k={cfg.k} round {rnd} ({len(states.levels)} states)")
        values = _fit(obj, states, n_edits, index, values, cfg, steps=cfg.steps, stats=info)
        if rnd == cfg.dagger:
            break
        patches = _patches(index, values, shapes, cfg.shared)
        added = dagger_states(policy, lv, t, patches, states, cfg, seed + rnd)
        info["states"].append(len(states.levels))
        if added == 0:
            break
        obj = _Objective(policy, states, shapes, cfg.fast)
    patches = _patches(index, values, shapes, cfg.shared)
    info["edit_norm"] = float(
        np.mean(np.sqrt(sum(np.asarray(p.norm(), np.float64) ** 2 for p in patches)))
    )
    return patches, info
