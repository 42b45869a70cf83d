"""Statistics: the one rate type (:class:`Rate`: count, n, Wilson CI) and its formatter
(:func:`fmt_rate`), Wilson score intervals, bootstrap intervals.

Every rate the project reports (sweeps, evaluation, steering, probes, pruning) is a
:class:`Rate`. Its dict form (:meth:`Rate.to_dict`) has the keys ``k, n, rate, lo, hi``;
flat table rows hold it as columns ``<prefix>_k, <prefix>_n, <prefix>, <prefix>_lo,
<prefix>_hi`` (:meth:`Rate.columns`; sweep tables name the rate column ``<prefix>_rate`` and
share one ``n`` column). :func:`fmt_rate` prints any of them as ``0.30 [0.11, 0.60] (3/10)``.

The Wilson score interval for ``k`` successes in ``n`` Bernoulli trials is

    centre = (p + z²/2n) / (1 + z²/n),   half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)

with ``p = k/n``; it stays inside [0, 1] and behaves well at ``k = 0`` and ``k = n``.

>>> lo, hi = wilson_ci(8, 10)
>>> round(lo, 4), round(hi, 4)
(0.4902, 0.9433)
>>> wilson_ci(0, 0)
(nan, nan)
>>> r = Rate.of_hits(np.array([True, False, True, True]))
>>> r.k, r.n, r.rate, str(r)
(3, 4, 0.75, '0.75 [0.30, 0.95] (3/4)')
>>> r.columns("success") == {"success_k": 3, "success_n": 4, "success": 0.75,
...                          "success_lo": r.lo, "success_hi": r.hi}
True
>>> Rate.from_columns(r.columns("success"), "success") == r
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from mazegen.checks import check_int

__all__ = ["Rate", "fmt_rate", "wilson_ci", "wilson_ci_array", "z_of", "rate", "bootstrap_ci"]


def z_of(confidence: float) -> float:
    """Two-sided normal quantile for ``confidence`` in (0, 1), e.g. 0.95 -> 1.95996.

    >>> round(z_of(0.95), 5)
    1.95996
    """
    if not (isinstance(confidence, (float, int)) and 0.0 < float(confidence) < 1.0):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    from scipy.stats import norm

    return float(norm.ppf(0.5 + float(confidence) / 2.0))


def wilson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval ``(lo, hi)`` for ``k`` successes of ``n``; ``(nan, nan)`` if n = 0."""
    k, n = int(k), int(n)
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (math.nan, math.nan)
    z = 1.959963984540054 if confidence == 0.95 else z_of(confidence)
    p = k / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (lo, hi)


def wilson_ci_array(k, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`wilson_ci` over arrays of counts (nan where n = 0).

    >>> lo, hi = wilson_ci_array([0, 5], [10, 10])
    >>> np.round(lo, 4).tolist(), np.round(hi, 4).tolist()
    ([0.0, 0.2366], [0.2775, 0.7634])
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if k.shape != n.shape:
        raise ValueError(f"k and n must have the same shape, got {k.shape} and {n.shape}")
    if (n < 0).any() or (k < 0).any() or (k > n).any():
        raise ValueError("need 0 <= k <= n elementwise")
    z = 1.959963984540054 if confidence == 0.95 else z_of(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
        lo = np.clip(centre - half, 0.0, 1.0)
        hi = np.clip(centre + half, 0.0, 1.0)
    lo[k == 0] = 0.0
    hi[k == n] = 1.0
    lo[n == 0] = np.nan
    hi[n == 0] = np.nan
    return lo, hi


@dataclass(frozen=True)
class Rate:
    """``k`` successes of ``n`` with the Wilson 95% interval ``[lo, hi]`` (all nan when n = 0)."""

    k: int
    n: int
    rate: float
    lo: float
    hi: float

    @classmethod
    def of(cls, k: int, n: int) -> Rate:
        """The rate of ``k`` successes in ``n`` trials (``ValueError`` unless 0 <= k <= n)."""
        k, n = int(k), int(n)
        if n < 0 or not 0 <= k <= max(n, 0):
            raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
        if n == 0:
            return cls(0, 0, math.nan, math.nan, math.nan)
        lo, hi = wilson_ci(k, n)
        return cls(k, n, k / n, float(lo), float(hi))

    @classmethod
    def of_hits(cls, hits) -> Rate:
        """The rate of True in a boolean array (any shape)."""
        h = np.asarray(hits, dtype=bool).ravel()
        return cls.of(int(h.sum()), int(h.size))

    def to_dict(self) -> dict:
        """``{"k", "n", "rate", "lo", "hi"}``: the one dict form of a rate."""
        return {"k": self.k, "n": self.n, "rate": self.rate, "lo": self.lo, "hi": self.hi}

    def columns(self, prefix: str, *, rate_col: str | None = None, n_col: str | None = "") -> dict:
        """Flat table columns ``prefix_k``, ``prefix_n``, the rate, ``prefix_lo``, ``prefix_hi``.

        The rate column is ``rate_col`` (default ``prefix``); ``n_col=None`` leaves n out (a
        table whose rows share one ``n`` column), another string renames it.
        """
        out = {f"{prefix}_k": self.k}
        if n_col is not None:
            out[n_col or f"{prefix}_n"] = self.n
        out[rate_col or prefix] = self.rate
        out[f"{prefix}_lo"] = self.lo
        out[f"{prefix}_hi"] = self.hi
        return out

    @classmethod
    def from_columns(cls, row: dict, prefix: str, *, rate_col: str | None = None, n_col: str = "") -> Rate:
        """The rate stored in a table row by :meth:`columns` (values may be CSV strings)."""
        k, n = int(float(row[f"{prefix}_k"])), int(float(row[n_col or f"{prefix}_n"]))
        if n == 0:
            return cls.of(0, 0)
        return cls(k, n, float(row[rate_col or prefix]), float(row[f"{prefix}_lo"]), float(row[f"{prefix}_hi"]))

    def __str__(self) -> str:
        return fmt_rate(self)


def fmt_rate(r: Rate | dict[str, Any]) -> str:
    """``"rate [lo, hi] (k/n)"`` of a :class:`Rate` or its dict form; ``"n/a (n=0)"`` when empty."""
    d = r.to_dict() if isinstance(r, Rate) else r
    if not d.get("n"):
        return "n/a (n=0)"
    return f"{d['rate']:.2f} [{d['lo']:.2f}, {d['hi']:.2f}] ({d['k']}/{d['n']})"


def rate(hits) -> dict:
    """``Rate.of_hits(hits).to_dict()``: ``{"k", "n", "rate", "lo", "hi"}`` of a boolean array."""
    return Rate.of_hits(hits).to_dict()


def bootstrap_ci(
    data,
    statistic: Callable[[np.ndarray], np.ndarray | float],
    *,
    n_boot: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of ``statistic(data[idx])`` over row resamples.

    ``statistic`` gets a resampled array (rows drawn with replacement) and returns a scalar or
    a 1-D array; the result is ``(lo, hi)`` arrays of the statistic's shape.

    >>> x = np.arange(100, dtype=float)
    >>> lo, hi = bootstrap_ci(x, np.mean, n_boot=300, seed=1)
    >>> bool(lo < 49.5 < hi) and bool(hi - lo < 25)
    True
    """
    n_boot = check_int("n_boot", n_boot, 2)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    arr = np.asarray(data)
    if len(arr) == 0:
        raise ValueError("bootstrap_ci needs at least one row of data")
    rng = np.random.default_rng(seed)
    stats = np.stack(
        [np.atleast_1d(np.asarray(statistic(arr[rng.integers(0, len(arr), len(arr))]), float)) for _ in range(n_boot)]
    )
    a = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(stats, [a, 1.0 - a], axis=0)
    if np.ndim(statistic(arr)) == 0:
        return lo[0], hi[0]
    return lo, hi
