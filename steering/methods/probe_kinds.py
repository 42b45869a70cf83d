"""Probe families beyond logistic/ridge, for every target, at any layer.

Each family turns labelled activations into one linear read-out ``x -> x . w + b`` (``w`` in
raw activation units, so it is also an activation-space *direction* that
:mod:`steering.experiments.probe_steer` can add to the layer):

- ``logistic``: L2-regularised logistic regression (on standardised features, mapped back to
  raw units: ``w = w_std / sd``);
- ``mean-diff``: the difference of the class means ``w = mu_1 - mu_0``, thresholded at the
  midpoint of the class means' projections ``b = -w . (mu_1 + mu_0) / 2``;
- ``pca``: unsupervised: the first principal component of paired differences (each positive
  example minus a randomly chosen negative, each pair's sign flipped at random, LAT-style); the
  labels only pick the pairs, the component's sign (towards the positives) and the midpoint
  threshold.

Two ways to apply a family (:func:`fit_readout`):

- *flattened* (per maze): ``x`` is the whole layer ``(C*H*W,)``; targets "will get the
  cheese" and "the cheese is in the top-right 5x5";
- *convolutional* (per position): ``x`` is the channel vector ``(C,)`` at one activation cell,
  one map shared over all positions; for "the cheese / mouse is at this cell" the prediction
  is the valid cell with the largest score (``conv`` in the tables is the logistic family used
  this way; ``mean-diff`` and ``pca`` at cell targets are convolutional too), for open cells
  the sign of the score at each world cell's activation cell.

:func:`probe_rows` fits every (target, kind) on a :class:`steering.methods.probe_data.ProbeData` and
returns rows with Wilson (per maze) or bootstrap (pooled cells) 95% CIs; :func:`generalisation_rows`
fits the cell probes on mazes with the cheese in the top-right 5x5 and tests on the others,
and vice versa.

>>> x = np.array([[0.0, 1.0], [0.0, 3.0], [2.0, 1.0], [2.0, 3.0]])
>>> r = fit_readout("mean-diff", x, np.array([False, False, True, True]))
>>> r.w.tolist(), r.b, r.predict(x).tolist()
([2.0, 0.0], -2.0, [False, False, True, True])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from agents.eval.stats import bootstrap_ci, wilson_ci

from .probe_data import ProbeData, _act_map, base_rate, split_indices
from .probes import _logistic, _standardize

__all__ = [
    "CELL_KINDS",
    "FLAT_KINDS",
    "KINDS",
    "Readout",
    "argmax_cells",
    "cheese_in_top_right",
    "fit_cell_probe",
    "fit_readout",
    "generalisation_rows",
    "probe_rows",
    "random_valid_cells",
]

#: Families fitted as a direction.
KINDS = ("logistic", "mean-diff", "pca")
#: Kind names in the tables for the per-position (convolutional) cell probes.
CELL_KINDS = {"conv": "logistic", "mean-diff": "mean-diff", "pca": "pca"}
#: Kind names for the flattened per-maze probes.
FLAT_KINDS = {"logistic": "logistic", "mean-diff": "mean-diff", "pca": "pca"}


@dataclass
class Readout:
    """A linear read-out ``score(x) = x . w + b``; positive scores predict the positive class.

    Attributes:
        kind: the family (:data:`KINDS`).
        w: ``(D,)`` float64 weights in raw activation units (the probe's direction).
        b: the threshold offset.
    """

    kind: str
    w: np.ndarray
    b: float

    def score(self, x: np.ndarray) -> np.ndarray:
        """``(..., D) -> (...)`` scores."""
        return np.asarray(x, np.float64) @ self.w + self.b

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.score(x) > 0


def _logreg(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Binary logistic regression (full-batch LBFGS) on standardised ``x (n, D)``; raw-unit
    ``(w, b)``. Positives are weighted so both classes count equally."""
    mu, sd = x.mean(0), x.std(0)
    sd[sd < 1e-8] = 1.0
    xs = torch.as_tensor((x - mu) / sd, dtype=torch.float64)
    yt = torch.as_tensor(y, dtype=torch.float64)
    pos = max(float(yt.sum()), 1.0)
    neg = max(float(len(yt) - yt.sum()), 1.0)
    wt = torch.where(yt > 0, 0.5 / pos, 0.5 / neg)
    w = torch.zeros(xs.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        z = xs @ w + b
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(z, yt, reduction="none") * wt).sum()
        loss = loss + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    ws = w.detach().numpy() / sd
    return ws, float(b.detach()) - float(ws @ mu)


def fit_readout(
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    l2: float = 1e-2,
    seed: int = 0,
    max_pairs: int = 20_000,
) -> Readout:
    """Fit one family on ``x (n, D)`` with binary labels ``y (n,)``; see the module docstring."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    x = np.asarray(x, np.float64)
    y = np.asarray(y, bool)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"need x (n, D) and y (n,), got {x.shape} and {y.shape}")
    if y.all() or not y.any():
        return Readout(kind, np.zeros(x.shape[1]), 1.0 if y.all() else -1.0)
    mu1, mu0 = x[y].mean(0), x[~y].mean(0)
    if kind == "logistic":
        w, b = _logreg(x, y, l2)
        return Readout(kind, w, b)
    if kind == "mean-diff":
        w = mu1 - mu0
    else:
        rng = np.random.default_rng(seed)
        pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
        n = min(max(len(pos), len(neg)), max_pairs)
        d = x[rng.choice(pos, n)] - x[rng.choice(neg, n)]
        d *= rng.choice([-1.0, 1.0], n)[:, None]
        d -= d.mean(0)
        _, _, vt = np.linalg.svd(d, full_matrices=False)
        w = vt[0] * np.linalg.norm(mu1 - mu0)
        if w @ (mu1 - mu0) < 0:
            w = -w
    return Readout(kind, w, -float(w @ (mu1 + mu0)) / 2)


def cheese_in_top_right(data: ProbeData, region: int = 5) -> np.ndarray:
    """``(N,)`` bool: the cheese lies in the top-right ``region x region`` corner of the inner
    maze (``region`` clipped to the maze size), the training distribution's cheese region."""
    lv = data.levels
    m = lv.margin
    s = lv.maze_size.astype(np.int64)
    k = np.minimum(region, s)
    r, c = data.cheese_cell[:, 0], data.cheese_cell[:, 1]
    return (r >= m) & (r < m + k) & (c >= m + s - k) & (c < m + s)


def _positions(acts: np.ndarray) -> np.ndarray:
    """``(N, C, H, W) -> (N, H*W, C)`` channel vectors per activation cell."""
    n, c = acts.shape[:2]
    return acts.reshape(n, c, -1).transpose(0, 2, 1).astype(np.float64)


def fit_cell_probe(
    kind: str, acts: np.ndarray, cell: np.ndarray, valid: np.ndarray, *, seed: int = 0, l2: float = 1e-2
) -> Readout:
    """A convolutional probe for "the target is at this activation cell".

    ``acts (N, C, H, W)``, ``cell (N,)`` flat target cells, ``valid (N, H*W)`` candidate cells;
    fitted on every valid position (positive: the target's cell) of every maze.
    """
    pos = _positions(acts)
    lab = np.zeros(valid.shape, bool)
    lab[np.arange(len(cell)), cell] = True
    m = valid | lab
    return fit_readout(kind, pos[m], lab[m], seed=seed, l2=l2)


def argmax_cells(r: Readout, acts: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``(N,)`` the valid activation cell with the highest score of a cell probe ``r``."""
    s = r.score(_positions(acts))
    s[~valid] = -np.inf
    return s.argmax(1)


def _acc(target, kind, correct, base, **extra) -> dict:
    k, n = int(np.sum(correct)), int(np.size(correct))
    lo, hi = wilson_ci(k, n)
    return {
        "target": target,
        "kind": kind,
        "metric": "accuracy",
        "value": k / n,
        "ci_lo": float(lo),
        "ci_hi": float(hi),
        "base_rate": base,
        "n_test": n,
        **extra,
    }


def random_valid_cells(valid: np.ndarray, seed: int) -> np.ndarray:
    """``(N,)`` one uniformly drawn valid cell per maze: the shuffled-label control of the cell
    targets (labels independent of the activations, still on open cells of the maze)."""
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(np.flatnonzero(v)) for v in valid], np.int64)


def _cell_rows(target, acts, cell, valid, tr, te, shuffle, seed, extra) -> list[dict]:
    base = base_rate(cell[tr], cell[te])
    lab = random_valid_cells(valid[tr], seed + 1) if shuffle else cell[tr]
    rows = []
    for name, kind in CELL_KINDS.items():
        r = fit_cell_probe(kind, acts[tr], lab, valid[tr], seed=seed)
        pred = argmax_cells(r, acts[te], valid[te])
        rows.append(_acc(target, name, pred == cell[te], base, **extra))
    return rows


def probe_rows(
    data: ProbeData,
    *,
    test_frac: float = 0.3,
    seed: int = 0,
    shuffle_labels: bool = False,
    control: str = "",
    n_boot: int = 100,
    c: float = 1.0,
) -> list[dict]:
    """Every (target, kind) held-out accuracy on ``data`` (split by maze).

    Rows: ``target``, ``kind``, ``control``, ``metric``, ``value``, ``ci_lo``, ``ci_hi``,
    ``base_rate``, ``n_test``. Targets: ``cheese_cell``, ``mouse_cell`` (conv / mean-diff / pca;
    the flattened multinomial logistic is :func:`steering.methods.probes.fit_probes`' ``cheese_cell``),
    ``open_cell`` (mean-diff / pca / conv shared over positions), ``will_find_cheese`` and
    ``cheese_top_right`` (flattened logistic / mean-diff / pca).

    ``shuffle_labels``: the per-maze and open-cell labels are permuted over the training mazes;
    the cell targets' training labels become a random valid cell of each maze
    (:func:`random_valid_cells`; a permuted cell from another maze is often a wall here, which a
    probe would learn instead).
    """
    if data.valid_act is None or data.mouse_act is None:
        raise ValueError("probe_rows needs ProbeData from collect_probe_data (valid_act, mouse_act)")
    n = len(data.acts)
    tr, te = split_indices(n, test_frac, seed)
    perm = np.random.default_rng(seed + 1).permutation(len(tr)) if shuffle_labels else np.arange(len(tr))
    extra = {"control": control, "split": "random"}
    rows = _cell_rows("cheese_cell", data.acts, data.cheese_act, data.valid_act, tr, te, shuffle_labels, seed, extra)
    rows += _cell_rows("mouse_cell", data.acts, data.mouse_act, data.valid_act, tr, te, shuffle_labels, seed, extra)
    flat = data.acts.reshape(n, -1).astype(np.float64)
    x_tr, x_te = _standardize(flat[tr], flat[te])
    pred = _logistic(x_tr, data.mouse_act[tr][perm], x_te, c, seed)
    rows.append(_acc("mouse_cell", "logistic", pred == data.mouse_act[te],
                     base_rate(data.mouse_act[tr], data.mouse_act[te]), **extra))

    # open cells: world cell -> its activation cell's channel vector; one shared map
    s = data.open_.shape[1]
    amap = _act_map(s, data.acts.shape[1:], data.obs_kind)
    opn = data.open_.reshape(n, -1)
    cells = np.flatnonzero(opn[tr].any(0) & ~opn[tr].all(0))
    if len(cells):
        rr, cc = amap.reshape(-1, 2)[cells].T
        feats = data.acts[:, :, rr, cc].transpose(0, 2, 1).astype(np.float64)  # (N, P, C)
        maj = opn[tr][:, cells].mean(0) >= 0.5
        base = float(np.mean(opn[te][:, cells] == maj))
        for name, kind in CELL_KINDS.items():
            y_tr = opn[tr][perm][:, cells]
            r = fit_readout(kind, feats[tr].reshape(-1, feats.shape[2]), y_tr.reshape(-1), seed=seed)
            correct = r.predict(feats[te]) == opn[te][:, cells]  # (M, P)
            lo, hi = bootstrap_ci(correct, lambda a: a.mean(), n_boot=n_boot, seed=seed)
            rows.append({"target": "open_cell", "kind": name, "metric": "accuracy",
                         "value": float(correct.mean()), "ci_lo": float(lo), "ci_hi": float(hi),
                         "base_rate": base, "n_test": len(te), **extra})

    binary = {"cheese_top_right": cheese_in_top_right(data)}
    if data.got_cheese is not None:
        binary["will_find_cheese"] = np.asarray(data.got_cheese, bool)
    for target, y in binary.items():
        base = base_rate(y[tr], y[te])
        for name, kind in FLAT_KINDS.items():
            r = fit_readout(kind, flat[tr], y[tr][perm], seed=seed, l2=1.0)
            rows.append(_acc(target, name, r.predict(flat[te]) == y[te], base,
                             positive_rate=float(y.mean()), **extra))
    return rows


def generalisation_rows(data: ProbeData, *, seed: int = 0, c: float = 1.0) -> list[dict]:
    """Cheese-cell probes fitted on mazes with the cheese in the top-right 5x5 (``in``) and
    tested on the rest (``out``), and vice versa (``split`` ``"in->out"`` / ``"out->in"``).

    The flattened multinomial logistic can only name cells it saw in training, so it is
    reported next to the convolutional families that share one map over positions.
    """
    ins = cheese_in_top_right(data)
    n = len(data.acts)
    flat = data.acts.reshape(n, -1).astype(np.float64)
    rows = []
    for split, a, b in (("in->out", ins, ~ins), ("out->in", ~ins, ins)):
        tr, te = np.flatnonzero(a), np.flatnonzero(b)
        if len(tr) < 2 or len(te) < 1:
            continue
        extra = {"control": "", "split": split}
        rows += _cell_rows("cheese_cell", data.acts, data.cheese_act, data.valid_act, tr, te,
                           False, seed, extra)
        x_tr, x_te = _standardize(flat[tr], flat[te])
        pred = _logistic(x_tr, data.cheese_act[tr], x_te, c, seed)
        rows.append(_acc("cheese_cell", "logistic", pred == data.cheese_act[te],
                         base_rate(data.cheese_act[tr], data.cheese_act[te]), **extra))
    return rows
