"""Argument checks of agents.eval.evaluate (the evaluation itself runs in the zoo and train tests)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.eval.evaluate import evaluate, rate_summary


def test_evaluate_rejects_bad_counts_before_playing():
    # policy=None: the arguments are checked before any level is built or played
    with pytest.raises(ValueError, match="n_levels must be an integer in .*got True"):
        evaluate(None, n_levels=True, seed=0)
    with pytest.raises(ValueError, match="n_levels must be an integer in .*got 0"):
        evaluate(None, n_levels=0, seed=0)
    with pytest.raises(ValueError, match="seed must be an integer in .*got False"):
        evaluate(None, n_levels=10, seed=False)
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2147483637\]"):
        evaluate(None, n_levels=10, seed=2**31 - 10)


def test_rate_summary_counts():
    r = rate_summary(np.array([True, False, True, True]))
    assert (r["n"], r["hits"], r["rate"]) == (4, 3, 0.75)
