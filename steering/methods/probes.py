"""Linear probes on a layer's activations: cheese location, open cells, "will find cheese".

:func:`collect_probe_data` runs the policy's first frame of N mazes (mouse at the start, cheese
placed uniformly, procgen's size draw unless ``sizes`` is given) through the network and keeps
the activations at one hook point; :func:`run_probes` fits, on a held-out split:

- ``cheese_cell``: a multinomial logistic probe (L2, scikit-learn's objective) from the flattened activations to
  the cheese's activation cell (:func:`steering.cells.maze_cell_to_act_cell`); accuracy with a
  Wilson CI against the majority-class base rate;
- ``cheese_rowcol``: ridge regression to the cheese's world ``(row, col)``; held-out R² with a
  bootstrap CI (base rate 0: predicting the training mean);
- ``open_cell``: one logistic probe per world cell (batched in torch, L2, full-batch LBFGS) from
  the channel vector at the cell's activation cell to "the cell is open"; pooled accuracy over
  cells whose label varies in the training split, bootstrap CI over test mazes, against the
  per-cell majority base rate;
- ``will_find_cheese``: logistic probe to the episode outcome of a rollout on the same level;
  accuracy (Wilson CI) against the majority base rate.

Each probe is also fitted with shuffled training labels (``control="shuffled"``) and, by
:func:`run_probes` with ``control_policy``, on a randomly initialised network of the same
architecture (:func:`random_policy_like`) with the same labels.

>>> base_rate(np.array([0, 0, 1]), np.array([0, 1, 1, 1]))
0.25
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from agents.eval.stats import Rate, bootstrap_ci
from mazegen import Levels, generate_levels
from mazegen.checks import check_int

from ..activations import DEFAULT_LAYER, layer_activations
from ..cells import maze_cell_to_act_cell

__all__ = [
    "DEFAULT_LAYER",
    "PROBES",
    "SEED_BASE",
    "ProbeData",
    "base_rate",
    "collect_probe_data",
    "fit_probes",
    "probe_levels",
    "probe_seeds",
    "random_policy_like",
    "run_probes",
    "split_indices",
]

#: First level seed of this module's mazes (disjoint from training [0, 1e9) and evaluation).
SEED_BASE = 4_000_000_000
#: Seeds per ``seed`` value (``seed`` s uses ``SEED_BASE + s * SEED_STRIDE + i``).
SEED_STRIDE = 1_000_000
#: Probe names in report order.
PROBES = ("cheese_cell", "cheese_rowcol", "open_cell", "will_find_cheese")


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


def _standardize(x_tr: np.ndarray, x_te: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = x_tr.mean(0)
    sd = x_tr.std(0)
    sd[sd < 1e-8] = 1.0
    return (x_tr - mu) / sd, (x_te - mu) / sd


def _acc_row(probe: str, control: str, correct: np.ndarray, base: float, **extra) -> dict:
    acc = Rate.of_hits(correct)  # a metric row: value with its (here Wilson) interval
    return {
        "probe": probe,
        "control": control,
        "metric": "accuracy",
        "value": acc.rate,
        "ci_lo": acc.lo,
        "ci_hi": acc.hi,
        "base_rate": base,
        "n_test": acc.n,
        **extra,
    }


def _logistic(x_tr, y_tr, x_te, c: float, seed: int) -> np.ndarray:
    """Multinomial logistic regression, test-set predictions.

    The objective is scikit-learn's ``LogisticRegression(C=c)`` (summed cross-entropy plus
    ``|W|^2 / (2 c)``, intercepts unpenalised), minimised by full-batch LBFGS in torch. With
    more features than rows the minimiser lies in the span of the rows (``W = X^T A``), so it
    is solved for ``A`` through the kernel ``X X^T``: the same solution with ``n * classes``
    instead of ``D * classes`` parameters. ``seed`` is unused (the problem is deterministic).
    """
    del seed
    classes, y = np.unique(np.asarray(y_tr), return_inverse=True)
    if len(classes) < 2:
        return np.full(len(x_te), classes[0])
    x = torch.as_tensor(np.asarray(x_tr), dtype=torch.float64)
    xt = torch.as_tensor(np.asarray(x_te), dtype=torch.float64)
    dual = x.shape[1] > x.shape[0]
    if dual:
        x, xt = x @ x.T, xt @ x.T  # kernel features (n, n), (m, n)
    yt = torch.as_tensor(y, dtype=torch.int64)
    k = 1 if len(classes) == 2 else len(classes)
    w = torch.zeros(x.shape[1], k, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=300, tolerance_grad=1e-6,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        z = x @ w + b
        if k == 1:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                z[:, 0], yt.double(), reduction="sum")
        else:
            loss = torch.nn.functional.cross_entropy(z, yt, reduction="sum")
        pen = (w * (x @ w)).sum() if dual else (w * w).sum()
        loss = loss + 0.5 / c * pen
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        z = xt @ w + b
    idx = (z[:, 0] > 0).long() if k == 1 else z.argmax(1)
    return classes[idx.numpy()]


def _cell_logistic(x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray, l2: float) -> np.ndarray:
    """Batched per-cell logistic regressions: ``x (P, N, C)``, ``y (P, N)`` -> test predictions ``(P, M)``."""
    x = torch.as_tensor(x_tr, dtype=torch.float64)
    y = torch.as_tensor(y_tr, dtype=torch.float64)
    p, _, c = x.shape
    w = torch.zeros(p, c, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(p, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        z = torch.einsum("pnc,pc->pn", x, w) + b[:, None]
        loss = (
            torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="sum") / x.shape[1]
        )
        loss = loss + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        z = torch.einsum("pmc,pc->pm", torch.as_tensor(x_te, dtype=torch.float64), w) + b[:, None]
    return (z > 0).numpy()


def fit_probes(
    data: ProbeData,
    *,
    test_frac: float = 0.3,
    seed: int = 0,
    shuffle_labels: bool = False,
    control: str = "",
    c: float = 1.0,
    ridge_alpha: float = 10.0,
    n_boot: int = 200,
) -> list[dict]:
    """Fit the four probes on ``data`` (held-out split ``test_frac``); one row per probe.

    Rows: ``probe``, ``control`` (the given label, ``""`` for the real probe), ``metric``
    (``accuracy`` or ``r2``), ``value``, ``ci_lo``, ``ci_hi``, ``base_rate``, ``n_test``.
    ``shuffle_labels`` permutes the training labels (the test labels stay true).
    """
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    n = len(data.acts)
    tr, te = split_indices(n, test_frac, seed)
    rng = np.random.default_rng(seed + 1)
    perm = rng.permutation(len(tr)) if shuffle_labels else np.arange(len(tr))
    flat = data.acts.reshape(n, -1).astype(np.float64)
    x_tr, x_te = _standardize(flat[tr], flat[te])
    rows = []

    y = data.cheese_act
    pred = _logistic(x_tr, y[tr][perm], x_te, c, seed)
    rows.append(_acc_row("cheese_cell", control, pred == y[te], base_rate(y[tr], y[te])))

    yc = data.cheese_cell.astype(np.float64)
    reg = Ridge(alpha=ridge_alpha).fit(x_tr, yc[tr][perm])
    pr = reg.predict(x_te)
    both = np.concatenate([yc[te], pr], axis=1)
    r2 = float(r2_score(yc[te], pr))
    lo, hi = bootstrap_ci(both, lambda a: r2_score(a[:, :2], a[:, 2:]), n_boot=n_boot, seed=seed)
    rows.append(
        {
            "probe": "cheese_rowcol",
            "control": control,
            "metric": "r2",
            "value": r2,
            "ci_lo": float(lo),
            "ci_hi": float(hi),
            "base_rate": 0.0,
            "n_test": len(te),
        }
    )

    # open cells: per world cell, channel vector at its activation cell
    s = data.open_.shape[1]
    amap = _act_map(s, data.acts.shape[1:], data.obs_kind)
    opn = data.open_.reshape(n, -1)
    varies = opn[tr].any(0) & ~opn[tr].all(0)
    cells = np.flatnonzero(varies)
    if len(cells):
        rr, cc = amap.reshape(-1, 2)[cells].T
        feats = data.acts[:, :, rr, cc].transpose(2, 0, 1).astype(np.float64)  # (P, N, C)
        f_tr, f_te = feats[:, tr], feats[:, te]
        mu, sd = f_tr.mean(1, keepdims=True), f_tr.std(1, keepdims=True)
        sd[sd < 1e-8] = 1.0
        y_tr = opn[tr][:, cells].T[:, perm]
        pred = _cell_logistic((f_tr - mu) / sd, y_tr, (f_te - mu) / sd, l2=1e-3)
        correct = (pred == opn[te][:, cells].T).T  # (M, P)
        maj = opn[tr][:, cells].mean(0) >= 0.5
        base = float(np.mean(opn[te][:, cells] == maj))
        lo, hi = bootstrap_ci(correct, lambda a: a.mean(), n_boot=n_boot, seed=seed)
        rows.append(
            {
                "probe": "open_cell",
                "control": control,
                "metric": "accuracy",
                "value": float(correct.mean()),
                "ci_lo": float(lo),
                "ci_hi": float(hi),
                "base_rate": base,
                "n_test": len(te),
                "n_cells": len(cells),
            }
        )

    if data.got_cheese is not None:
        g = data.got_cheese.astype(np.int64)
        pred = _logistic(x_tr, g[tr][perm], x_te, c, seed)
        rows.append(
            _acc_row(
                "will_find_cheese",
                control,
                pred == g[te],
                base_rate(g[tr], g[te]),
                positive_rate=float(g.mean()),
            )
        )
    return rows


def run_probes(
    policy: Any,
    levels: Levels,
    layer: str = DEFAULT_LAYER,
    *,
    control_policy: Any | None = None,
    seed: int = 0,
    test_frac: float = 0.3,
    outcomes: bool = True,
    max_steps: int = 500,
    n_boot: int = 200,
) -> list[dict]:
    """Probe rows for ``policy`` (real and shuffled-label control) and, if given, ``control_policy``.

    The control network gets the same levels and the same labels (its "will find cheese" label
    is ``policy``'s rollout outcome).
    """
    data = collect_probe_data(
        policy, levels, layer, outcomes=outcomes, rollout_seed=seed, max_steps=max_steps
    )
    kw = dict(test_frac=test_frac, seed=seed, n_boot=n_boot)
    rows = fit_probes(data, **kw)
    rows += fit_probes(data, shuffle_labels=True, control="shuffled", **kw)
    if control_policy is not None:
        cdata = collect_probe_data(control_policy, levels, layer, outcomes=False)
        cdata.got_cheese = data.got_cheese
        rows += fit_probes(cdata, control="random-init", **kw)
    return rows


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
