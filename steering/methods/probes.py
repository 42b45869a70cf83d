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

The data (mazes, activations, labels, split, random network) come from
:mod:`steering.methods.probe_data`.

Each probe is also fitted with shuffled training labels (``control="shuffled"``) and, by
:func:`run_probes` with ``control_policy``, on a randomly initialised network of the same
architecture (:func:`~steering.methods.probe_data.random_policy_like`) with the same labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from agents.eval.stats import Rate, bootstrap_ci
from mazegen import Levels

from ..activations import DEFAULT_LAYER
from .probe_data import ProbeData, _act_map, base_rate, collect_probe_data, split_indices

__all__ = [
    "DEFAULT_LAYER",
    "PROBES",
    "fit_probes",
    "run_probes",
]

#: Probe names in report order.
PROBES = ("cheese_cell", "cheese_rowcol", "open_cell", "will_find_cheese")


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
