"""In-distribution evaluation: cheese rate with Wilson 95% intervals, overall and by maze size.

:func:`evaluate` builds ``n_levels`` levels from the consecutive level seeds ``seed, seed+1,
...`` (procgen's maze-size draw unless ``sizes`` is given; cheese per ``cheese``, mouse at
procgen's start) and plays each once with :func:`agents.eval.rollout.rollout`. Pick ``seed`` outside
the training level range (``agents.train`` uses the first seed after it) so that every
evaluation level is held out.

Action modes (:data:`ACTION_MODES`): ``"sampled"`` (the agent as trained), ``"greedy"``
(argmax) and ``"greedy-untried"`` (argmax, skipping moves already taken from the current cell;
an evaluation option that breaks greedy loops, see :mod:`agents.rollout`; never a change to
the agent). :func:`evaluate_modes` evaluates several on the same levels.

>>> [round(x, 4) for x in rate_summary(np.array([True] * 45 + [False] * 5))["ci95"]]
[0.7864, 0.9565]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mazegen.checks import check_int

from ..policy import Policy
from .stats import Rate
from .sweep_axes import SIZE_BUCKETS, bucket_label, size_bucket_labels

__all__ = ["evaluate", "evaluate_modes", "rate_summary", "BUCKETS", "ACTION_MODES"]

#: Action modes of :func:`evaluate`: name -> (deterministic, untried_moves_first).
ACTION_MODES = {
    "sampled": (False, False),
    "greedy": (True, False),
    "greedy-untried": (True, True),
}

#: Buckets reported next to per-size rates, by range label (:data:`~.sweep_axes.SIZE_BUCKETS`).
BUCKETS = {bucket_label(b): r for b, r in SIZE_BUCKETS.items()}


def rate_summary(hits: np.ndarray) -> dict:
    """A :class:`~agents.eval.stats.Rate` in the model cards' JSON form, ``{"n", "hits",
    "rate", "ci95"}`` (kept for the cards of the zoo: ``hits`` is ``k``, ``ci95`` is
    ``[lo, hi]``)."""
    r = Rate.of_hits(hits)
    return {"n": r.n, "hits": r.k, "rate": r.rate, "ci95": [r.lo, r.hi]}


def _make_levels(n_levels: int, seed: int, cheese: str, sizes, distribution_mode: str):
    from mazegen import generate_levels

    seeds = np.arange(seed, seed + n_levels, dtype=np.int64)
    return generate_levels(
        seeds, distribution_mode=distribution_mode, maze_size=sizes, cheese=cheese, mouse="start"
    )


def evaluate(
    policy: Policy,
    *,
    n_levels: int,
    seed: int,
    cheese: str = "top-right:5",
    sizes: int | Sequence[int] | None = None,
    distribution_mode: str = "hard",
    max_steps: int = 500,
    deterministic: bool = False,
    rollout_seed: int = 0,
    action_mode: str | None = None,
    rgb_style: str | None = None,
) -> dict:
    """Play ``n_levels`` held-out levels once each; cheese rate with Wilson CIs.

    Returns a JSON-ready dict: ``cheese_rate``, ``ci95``, ``n_levels``, ``level_seeds``
    (first, last), ``mean_episode_length``, ``by_maze_size`` (``{size: {n, hits, rate,
    ci95}}``) and ``by_size_bucket`` (3-9, 11-17, 19-25). ``action_mode`` (one of
    :data:`ACTION_MODES`) overrides ``deterministic``; the result names it (``action_mode``).
    ``rgb_style`` overrides the frames an rgb policy sees (default:
    :func:`agents.policy.rgb_style`, the checkpoint's recorded style).
    """
    if action_mode is None:
        action_mode = "greedy" if deterministic else "sampled"
    if action_mode not in ACTION_MODES:
        raise ValueError(f"action_mode must be one of {list(ACTION_MODES)}, got {action_mode!r}")
    deterministic, untried = ACTION_MODES[action_mode]
    n_levels = check_int("n_levels", n_levels, 1, 2**31 - 1)
    seed = check_int("seed", seed, 0, 2**31 - 1 - n_levels)
    from .rollout import rollout

    levels = _make_levels(n_levels, seed, cheese, sizes, distribution_mode)
    result = rollout(
        policy,
        levels,
        deterministic=deterministic,
        seed=rollout_seed,
        max_steps=max_steps,
        untried_moves_first=untried,
        rgb_style=rgb_style,
    )
    got = np.asarray(result.got_cheese, dtype=bool)
    maze_sizes = np.asarray(levels.maze_size)
    lengths = np.asarray(result.steps)
    out = {
        **{k: v for k, v in rate_summary(got).items() if k in ("rate", "ci95", "hits")},
        "n_levels": int(n_levels),
        "level_seeds": [int(seed), int(seed + n_levels - 1)],
        "cheese": str(cheese),
        "distribution_mode": distribution_mode,
        "deterministic": bool(deterministic),
        "action_mode": action_mode,
        "max_steps": int(max_steps),
        "mean_episode_length": float(np.mean(lengths)),
        "mean_episode_length_with_cheese": float(np.mean(lengths[got])) if got.any() else None,
        "by_maze_size": {int(s): rate_summary(got[maze_sizes == s]) for s in np.unique(maze_sizes)},
    }
    buckets = size_bucket_labels(maze_sizes)
    out["by_size_bucket"] = {
        b: rate_summary(got[buckets == b]) for b in BUCKETS if (buckets == b).any()
    }
    out["cheese_rate"] = out.pop("rate")
    return out


def evaluate_modes(policy: Policy, modes: Sequence[str], **kwargs) -> dict[str, dict]:
    """``{mode: evaluate(policy, action_mode=mode, **kwargs)}`` on the same levels."""
    bad = [m for m in modes if m not in ACTION_MODES]
    if bad or not modes:
        raise ValueError(f"modes must be a non-empty list of {list(ACTION_MODES)}, got {list(modes)}")
    return {m: evaluate(policy, action_mode=m, **kwargs) for m in modes}
