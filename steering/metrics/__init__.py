"""Steering metrics, each over N mazes, rates with Wilson 95% confidence intervals.

- :func:`retarget_success`: does the mouse reach the target cell within the step cap
  (cheese removed, or present: reported separately)?
- :func:`path_probability`: normalized path probability, the geometric mean over the
  shortest path start -> target of the policy's probability of the on-path move, computed by
  placing the mouse on each path cell (``docs/published-agent.md``, section 6).
- :func:`fraction_modified`: how many activation elements a patch changes at its own layer
  (vs the unpatched forward pass), as counts and as fractions of the layer and of all hook
  sites together.
- :func:`capability_retention`: in-distribution cheese rate with vs without a patch.
- :func:`cheese_vector_effect`: P(cheese-ward move at the decision square) with and without
  each maze's cheese vector added with a signed coefficient (default -1: subtracted;
  published: median 0.81 -> 0.03).

Move probabilities aggregate procgen's 15 actions by effect (``agents.policy.MOVE_OF_ACTION``).

Rates are :class:`agents.eval.stats.Rate`.

>>> from agents.eval.stats import Rate
>>> r = Rate.of(9, 10)
>>> r.k, r.n, round(r.rate, 2), round(r.lo, 3), round(r.hi, 3)
(9, 10, 0.9, 0.596, 0.982)
"""

from __future__ import annotations

from .arrival import retarget_success, retarget_success_batch
from .behaviour import capability_retention, cheese_vector_effect
from .modified import fraction_modified
from .moves import move_index
from .path import path_probability

__all__ = [
    "capability_retention",
    "cheese_vector_effect",
    "fraction_modified",
    "move_index",
    "path_probability",
    "retarget_success",
    "retarget_success_batch",
]
