"""Tests for agents.eval.stats: Wilson intervals against closed forms and scipy, bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from agents.eval.stats import bootstrap_ci, rate, wilson_ci, wilson_ci_array

Z = 1.959963984540054


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (3, 7), (50, 100), (0, 20), (20, 20), (999, 1000)])
def test_wilson_matches_scipy(k, n):
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_ci(k, n)
    assert lo == pytest.approx(ref.low, abs=1e-9)
    assert hi == pytest.approx(ref.high, abs=1e-9)


def test_wilson_closed_form_edges():
    # k = 0: upper bound z^2 / (n + z^2); k = n: lower bound n / (n + z^2)
    assert wilson_ci(0, 10)[0] == 0.0
    assert wilson_ci(0, 10)[1] == pytest.approx(Z * Z / (10 + Z * Z))
    assert wilson_ci(10, 10)[0] == pytest.approx(10 / (10 + Z * Z))
    assert wilson_ci(10, 10)[1] == 1.0


def test_wilson_other_confidence_is_wider():
    lo95, hi95 = wilson_ci(30, 60)
    lo99, hi99 = wilson_ci(30, 60, confidence=0.99)
    assert lo99 < lo95 < 0.5 < hi95 < hi99
    ref = binomtest(30, 60).proportion_ci(confidence_level=0.99, method="wilson")
    assert lo99 == pytest.approx(ref.low) and hi99 == pytest.approx(ref.high)


def test_wilson_errors_and_empty():
    assert all(math.isnan(x) for x in wilson_ci(0, 0))
    for k, n in [(-1, 3), (4, 3), (0, -1)]:
        with pytest.raises(ValueError, match="0 <= k <= n"):
            wilson_ci(k, n)
    with pytest.raises(ValueError, match="confidence"):
        wilson_ci(1, 2, confidence=1.5)


def test_wilson_array_matches_scalar():
    k = np.array([0, 1, 7, 10, 0])
    n = np.array([10, 3, 9, 10, 0])
    lo, hi = wilson_ci_array(k, n)
    for i in range(4):
        assert (lo[i], hi[i]) == pytest.approx(wilson_ci(int(k[i]), int(n[i])))
    assert math.isnan(lo[4]) and math.isnan(hi[4])
    with pytest.raises(ValueError):
        wilson_ci_array([3], [2])


def test_rate_summary():
    r = rate([True, True, False, False, False])
    assert (r["k"], r["n"], r["rate"]) == (2, 5, 0.4)
    assert (r["lo"], r["hi"]) == pytest.approx(wilson_ci(2, 5))
    assert math.isnan(rate([])["rate"])


def test_bootstrap_ci_covers_and_is_deterministic():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 1.0, size=(400, 2))
    lo, hi = bootstrap_ci(x, lambda a: a.mean(axis=0), n_boot=200, seed=5)
    assert lo.shape == (2,) and (lo < 3.0).all() and (hi > 3.0).all() and (hi - lo < 0.5).all()
    lo2, hi2 = bootstrap_ci(x, lambda a: a.mean(axis=0), n_boot=200, seed=5)
    assert np.array_equal(lo, lo2) and np.array_equal(hi, hi2)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci(x, np.mean, n_boot=1)


def test_rate_type_dict_columns_and_formatter():
    from agents.eval.stats import Rate, fmt_rate

    r = Rate.of(3, 10)
    assert r.to_dict() == {"k": 3, "n": 10, "rate": 0.3, "lo": r.lo, "hi": r.hi}
    assert (r.lo, r.hi) == pytest.approx(wilson_ci(3, 10))
    assert fmt_rate(r) == fmt_rate(r.to_dict()) == str(r) == "0.30 [0.11, 0.60] (3/10)"
    # steering-style columns (rate under the prefix) and sweep-style ones (prefix_rate, shared n)
    assert Rate.from_columns(r.columns("success"), "success") == r
    sweep_row = {"n": 10, **r.columns("cheese", rate_col="cheese_rate", n_col=None)}
    assert set(sweep_row) == {"n", "cheese_k", "cheese_rate", "cheese_lo", "cheese_hi"}
    assert Rate.from_columns(sweep_row, "cheese", rate_col="cheese_rate", n_col="n") == r
    # CSV strings read back to the same rate
    as_csv = {k: str(v) for k, v in r.columns("x").items()}
    assert Rate.from_columns(as_csv, "x") == r
    empty = Rate.of_hits([])
    assert empty.n == 0 and math.isnan(empty.rate) and fmt_rate(empty) == "n/a (n=0)"
    assert rate([True, False]) == Rate.of(1, 2).to_dict()
    with pytest.raises(ValueError, match="need 0 <= k <= n, got k=3, n=2"):
        Rate.of(3, 2)
