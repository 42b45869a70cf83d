"""Small statistics helpers: Wilson score intervals, rate summaries, bootstrap intervals.

The Wilson score interval for ``k`` successes in ``n`` Bernoulli trials is

    centre = (p + z²/2n) / (1 + z²/n),   half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)

with ``p = k/n``; it stays inside [0, 1] and behaves well at ``k = 0`` and ``k = n``.

>>> lo, hi = wilson_ci(8, 10)
>>> round(lo, 4), round(hi, 4)
(0.4902, 0.9433)
>>> wilson_ci(0, 0)
(nan, nan)
>>> r = rate(np.array([True, False, True, True]))
>>> r["k"], r["n"], r["rate"]
(3, 4, 0.75)
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from mazegen.checks import check_int

__all__ = ["wilson_ci", "wilson_ci_array", "z_of", "rate", "bootstrap_ci"]


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


def rate(hits, confidence: float = 0.95) -> dict:
    """``{"k", "n", "rate", "lo", "hi"}`` of a boolean array (rate nan when empty)."""
    h = np.asarray(hits, dtype=bool).ravel()
    k, n = int(h.sum()), int(h.size)
    lo, hi = wilson_ci(k, n, confidence)
    return {"k": k, "n": n, "rate": (k / n) if n else math.nan, "lo": lo, "hi": hi}


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
