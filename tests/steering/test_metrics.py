"""Metrics on the hand-built CheeseNet, whose right answers are known."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from agents.eval.stats import Rate
from mazegen.solvers import shortest_path
from steering.methods.retarget import retarget_patch
from steering.metrics import (
    capability_retention,
    cheese_vector_effect,
    fraction_modified,
    path_probability,
    retarget_success,
)
from steering.patches.edits import Clamp, Scale

sys.path.insert(0, str(Path(__file__).parent))
from _steer_tiny import CHEESE_CH, LAYER, LOGIT, bfs, levels_ab

E = math.exp(LOGIT)
P_VERTICAL = E / (E + 14)  # up/down: one action id
P_HORIZONTAL = (E + 2) / (E + 14)  # left/right: three ids, two of them at logit 0


def test_rate_wilson():
    r = Rate.of(0, 10)
    assert r.rate == 0 and r.lo == 0 and 0.2 < r.hi < 0.35
    assert math.isnan(Rate.of(0, 0).rate)
    with pytest.raises(ValueError):
        Rate.of(3, 2)


def test_fraction_modified_exact_for_one_element(tiny_policy, ab_levels):
    p = Clamp(LAYER, [CHEESE_CH], [(4, 4)], 5.5)
    fm = fraction_modified(tiny_policy, p, ab_levels)
    lay = fm["layers"][LAYER]
    network = 3 * 81 + 4 * 81 + 15 + 1  # block1.conv, resadd_out, fc_policy, fc_value
    assert lay["modified"] == 1 and lay["max_modified"] == 1 and lay["layer_size"] == 324
    assert fm["network_size"] == network and lay["fraction_network"] == 1 / network
    assert lay["fraction_layer"] == 1 / 324
    # clamping to the value already there modifies nothing (channel 3 is the constant 0.1)
    assert fraction_modified(tiny_policy, Clamp(LAYER, [3], [(4, 4)], 0.1), ab_levels)["layers"][LAYER]["modified"] == 0
    two = fraction_modified(tiny_policy, [p, Scale("embedder.block1.conv", [0], 2.0)], ab_levels)
    walls = sum(int(x.walls.sum()) for x in ab_levels) / 2
    assert two["layers"]["embedder.block1.conv"]["modified"] == walls
    assert two["total"]["modified"] == 1 + walls  # own edits only ...
    # knock-on changes: the walls again at resadd_out; the logits do not move (walls stay > 0.5)
    assert two["downstream_changed"] == 2 * walls + 1


def test_retargeting_success_known(tiny_policy, ab_levels):
    targets = np.array([(7, 7), (5, 1)])
    patch = retarget_patch(tiny_policy, LAYER, targets, method="single", channels=[CHEESE_CH], magnitude=5.5)
    r, res = retarget_success(tiny_policy, ab_levels, targets, patch, max_steps=60, deterministic=True)
    assert (r.k, r.n) == (2, 2)
    d = [bfs(~lv.walls, lv.mouse)[tuple(t)] for lv, t in zip(ab_levels, targets)]
    assert np.asarray(res.steps_to_target).tolist() == d  # shortest paths
    # the same clamp on a channel the policy does not read = no patch
    ctrl = Clamp(LAYER, [3], patch.cells, 5.5, per_level=True)
    c, _ = retarget_success(tiny_policy, ab_levels, targets, ctrl, max_steps=60, deterministic=True)
    b, _ = retarget_success(tiny_policy, ab_levels, targets, None, max_steps=60, deterministic=True)
    assert (c.k, c.n) == (b.k, b.n)
    # with the cheese present the clamp (5.5 > 1) still wins
    rc, _ = retarget_success(tiny_policy, ab_levels, targets, patch, cheese=True, max_steps=60, deterministic=True)
    assert rc.k == 2
    with pytest.raises(ValueError, match="is a wall"):
        retarget_success(tiny_policy, ab_levels, np.array([(2, 2), (2, 2)]), patch)


def test_path_probability_known(tiny_policy, ab_levels):
    targets = np.array([(7, 7), (1, 3)])
    patch = retarget_patch(tiny_policy, LAYER, targets, method="single", channels=[CHEESE_CH], magnitude=5.5)
    pp = path_probability(tiny_policy, ab_levels, targets, [patch])
    for lv, t, got in zip(ab_levels, targets, pp):
        path = shortest_path(lv.walls, lv.mouse, tuple(t))
        logs = [math.log(P_VERTICAL if a[1] == b[1] else P_HORIZONTAL) for a, b in zip(path, path[1:])]
        assert got == pytest.approx(math.exp(np.mean(logs)), rel=1e-5)
    plain = path_probability(tiny_policy, ab_levels, targets)
    assert (plain < pp).all()


def test_cheese_vector_effect_and_retention(tiny_policy):
    ab_levels = levels_ab(((1, 7), (7, 7)))
    eff = cheese_vector_effect(tiny_policy, ab_levels, LAYER)
    # maze A's cheese is the top-right cell: the paths never split -> skipped
    assert eff["n"] == 1 and eff["skipped"] == 1
    # maze B: decision square = the start; cheese-ward = right, the proxy path goes up
    assert eff["original"]["median"] == pytest.approx(P_HORIZONTAL, rel=1e-5)
    assert eff["patched"]["median"] == pytest.approx(3 / (E + 14), rel=1e-5)
    assert eff["patched"]["argmax_cheese_ward"]["k"] == 0 and eff["original"]["argmax_cheese_ward"]["k"] == 1
    ret = capability_retention(tiny_policy, ab_levels, Clamp(LAYER, [3], [(1, 1)], 9.0), max_steps=60, deterministic=True)
    assert ret["without_patch"].k == 2 and ret["with_patch"].k == 2 and ret["retention"] == 1.0
    hurt = capability_retention(tiny_policy, ab_levels, Scale(LAYER, [CHEESE_CH], 0.0), max_steps=60, deterministic=True)
    assert hurt["with_patch"].k == 1  # only maze A, whose cheese is at the proxy goal
