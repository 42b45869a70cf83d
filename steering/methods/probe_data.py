"""The probes' data: their mazes (level seeds of their own), the activations at one hook point
on each maze's first frame with the labels the probes fit, a train/test split, and a randomly
initialised network of the same architecture as a control.

>>> base_rate(np.array([0, 0, 1]), np.array([0, 1, 1, 1]))
0.25
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mazegen import Levels, generate_levels
from mazegen.checks import check_int

from ..activations import DEFAULT_LAYER, layer_activations
from ..cells import maze_cell_to_act_cell

__all__ = [
    "SEED_BASE",
    "SEED_STRIDE",
    "ProbeData",
    "base_rate",
    "collect_probe_data",
    "probe_levels",
    "probe_seeds",
    "random_policy_like",
    "split_indices",
]

#: First level seed of this module's mazes (disjoint from training [0, 1e9) and evaluation).
SEED_BASE = 4_000_000_000
#: Seeds per ``seed`` value (``seed`` s uses ``SEED_BASE + s * SEED_STRIDE + i``).
SEED_STRIDE = 1_000_000


def probe_seeds(n: int, seed: int = 0, offset: int = 0) -> np.ndarray:
    """Level seeds ``SEED_BASE + seed * SEED_STRIDE + offset + arange(n)`` (all < 2**32).

    >>> probe_seeds(3, seed=1).tolist()
    [4001000000, 4001000001, 4001000002]
    """
    n = check_int("n", n, 1, SEED_STRIDE)
    seed = check_int("seed", seed, 0, (2**32 - SEED_BASE) // SEED_STRIDE - 1)
    offset = check_int("offset", offset, 0, SEED_STRIDE - n)
    return SEED_BASE + seed * SEED_STRIDE + offset + np.arange(n, dtype=np.int64)


def split_indices(n: int, test_frac: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic random ``(train, test)`` split of ``range(n)``.

    >>> tr, te = split_indices(10, 0.3, seed=0)
    >>> len(tr), len(te), sorted(tr.tolist() + te.tolist()) == list(range(10))
    (7, 3, True)
    """
    if not 0.0 < test_frac < 1.0:
        raise ValueError(f"test_frac must be in (0, 1), got {test_frac!r}")
    n_test = int(round(n * test_frac))
    if n_test < 1 or n - n_test < 2:
        raise ValueError(
            f"need at least 2 training and 1 test rows, got n={n} with test_frac={test_frac}"
        )
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def base_rate(y_train: np.ndarray, y_test: np.ndarray) -> float:
    """Held-out accuracy of always predicting the training split's most common label."""
    vals, counts = np.unique(np.asarray(y_train), return_counts=True)
    return float(np.mean(np.asarray(y_test) == vals[np.argmax(counts)]))


@dataclass
class ProbeData:
    """Activations and labels for the probes (one row per maze).

    Attributes:
        acts: ``(N, C, H, W)`` float32 activations at ``layer``.
        layer: the hook point.
        levels: the mazes.
        cheese_act: ``(N,)`` int, the cheese's activation cell as ``row * W + col``.
        cheese_cell: ``(N, 2)`` int, the cheese's world ``(row, col)``.
        open_: ``(N, S, S)`` bool, world cells that are open (not wall).
        got_cheese: ``(N,)`` bool rollout outcomes, or None if not rolled out.
        obs_kind: the policy's observation kind (for the cell mapping).
        mouse_act: ``(N,)`` int, the mouse's activation cell as ``row * W + col``.
        valid_act: ``(N, H * W)`` bool, activation cells holding at least one open world cell
            of the maze (where the cheese or the mouse can be).
    """

    acts: np.ndarray
    layer: str
    levels: Levels
    cheese_act: np.ndarray
    cheese_cell: np.ndarray
    open_: np.ndarray
    got_cheese: np.ndarray | None = None
    obs_kind: str = "grid"
    mouse_act: np.ndarray | None = None
    valid_act: np.ndarray | None = None


def _act_map(world: int, shape: tuple[int, ...], obs_kind: str) -> np.ndarray:
    """``(world, world, 2)`` activation cell of every world cell."""
    out = np.empty((world, world, 2), np.int64)
    for r in range(world):
        for c in range(world):
            out[r, c] = maze_cell_to_act_cell((r, c), layer_shape=shape, obs_kind=obs_kind)
    return out


def collect_probe_data(
    policy: Any,
    levels: Levels,
    layer: str = DEFAULT_LAYER,
    *,
    outcomes: bool = True,
    rollout_seed: int = 0,
    max_steps: int = 500,
) -> ProbeData:
    """Activations at ``layer`` for ``levels`` (first frame) and the probes' labels.

    ``outcomes=True`` also plays one episode per level (``agents.eval.rollout.rollout``, sampling
    with ``rollout_seed``) for the "will find cheese" label.
    """
    lv = levels
    if not isinstance(lv, Levels) or len(lv) < 3:
        raise ValueError("collect_probe_data needs a Levels batch of at least 3 mazes")
    if not lv.has_cheese.all():
        raise ValueError("every level needs a cheese")
    acts = layer_activations(policy, lv, layer).numpy().astype(np.float32)
    if acts.ndim != 4:
        raise ValueError(
            f"layer {layer!r} must be a conv activation (C, H, W), got shape {acts.shape[1:]}"
        )
    amap = _act_map(lv.world_size, acts.shape[1:], policy.obs)
    ch = np.asarray(lv.cheese, np.int64)
    ac = amap[ch[:, 0], ch[:, 1]]
    mo = amap[np.asarray(lv.mouse, np.int64)[:, 0], np.asarray(lv.mouse, np.int64)[:, 1]]
    w = acts.shape[3]
    open_ = ~np.asarray(lv.walls, bool)
    valid = np.zeros((len(lv), acts.shape[2] * w), bool)
    flat_cells = (amap[..., 0] * w + amap[..., 1]).reshape(-1)  # (S*S,)
    for i in range(len(lv)):
        valid[i, flat_cells[open_[i].reshape(-1)]] = True
    got = None
    if outcomes:
        from agents.eval.rollout import rollout

        got = np.asarray(
            rollout(policy, lv, seed=rollout_seed, max_steps=max_steps).got_cheese, bool
        )
    return ProbeData(
        acts,
        layer,
        lv,
        ac[:, 0] * w + ac[:, 1],
        ch,
        open_,
        got,
        policy.obs,
        mo[:, 0] * w + mo[:, 1],
        valid,
    )


def random_policy_like(policy: Any, seed: int = 0) -> Any:
    """A freshly initialised ``ImpalaModel`` policy of ``policy``'s architecture (``torch`` seed ``seed``)."""
    from agents.model import ImpalaModel
    from agents.policy import Policy

    m = policy.model
    if not isinstance(m, ImpalaModel):
        raise ValueError(f"random_policy_like needs an ImpalaModel policy, got {type(m).__name__}")
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = ImpalaModel(
            in_channels=m.in_channels,
            channels=tuple(m.channels),
            obs_size=m.obs_size,
            fc_dim=getattr(m, "fc_dim", 256),
        )
    finally:
        torch.random.set_rng_state(state)
    return Policy(model.eval(), obs=policy.obs)


def probe_levels(
    n: int, seed: int = 0, sizes: list[int] | None = None, mouse: str = "start"
) -> Levels:
    """``n`` probe mazes: cheese uniform, procgen's sizes or ``sizes`` cycled; the mouse at
    procgen's start (``mouse="start"``) or uniform over open cells (``"uniform"``)."""
    if mouse not in ("start", "uniform"):
        raise ValueError(f"mouse must be 'start' or 'uniform', got {mouse!r}")
    seeds = probe_seeds(n, seed)
    ms = None if not sizes else [int(sizes[i % len(sizes)]) for i in range(n)]
    return generate_levels(seeds, maze_size=ms, cheese="uniform", mouse=mouse)
