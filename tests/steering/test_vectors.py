"""Steering vectors on the hand-built CheeseNet (exact, known answers)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mazegen import Level, Levels
from steering.activations import layer_activations, level_obs
from steering.methods.vectors import (
    cheese_vector,
    diff_vector,
    mean_activation,
    per_level_vectors,
    random_like,
    resample_patch,
    steering_patch,
    top_right_path_level,
    top_right_vector,
)
from steering.patches.apply import apply_patches
from steering.patches.edits import Ablate

sys.path.insert(0, str(Path(__file__).parent))
from _steer_tiny import CHEESE_CH, LAYER


def test_cheese_vector_is_the_cheese_indicator(tiny_policy, ab_levels):
    for lvl in ab_levels:
        v = cheese_vector(tiny_policy, lvl, LAYER)
        expect = np.zeros((4, 9, 9), np.float32)
        expect[CHEESE_CH][lvl.cheese] = 1
        assert np.array_equal(v, expect)
    vs = per_level_vectors(tiny_policy, ab_levels, LAYER, "cheese")
    assert vs.shape == (2, 4, 9, 9) and np.array_equal(
        vs[1], cheese_vector(tiny_policy, ab_levels[1], LAYER)
    )
    with pytest.raises(ValueError, match="needs a level with cheese"):
        cheese_vector(tiny_policy, ab_levels[0].with_cheese(None), LAYER)


def test_subtracting_cheese_vector_sends_mouse_to_proxy(tiny_policy, ab_levels):
    lvl = ab_levels[1].with_cheese((7, 7))
    p = steering_patch(cheese_vector(tiny_policy, lvl, LAYER), LAYER, -1.0)
    at = lvl.replace(mouse=(7, 3))  # cheese to the right; the top-right cell via the left
    acts = layer_activations(tiny_policy, [at], LAYER, patches=[p])
    assert float(acts[0, CHEESE_CH].abs().sum()) == 0.0
    obs = level_obs([at], "grid")
    with apply_patches(tiny_policy.model, [p]):
        steered = tiny_policy.move_probs(obs)[0]
    plain = tiny_policy.move_probs(obs)[0]
    assert plain.argmax() == 4 and steered.argmax() == 0  # right -> left
    no_cheese = tiny_policy.move_probs(level_obs([at.with_cheese(None)], "grid"))[0]
    assert np.allclose(steered, no_cheese)
    # transfer: maze A's vector (cheese elsewhere) does not remove this maze's cheese
    pa = steering_patch(cheese_vector(tiny_policy, ab_levels[0], LAYER), LAYER, -1.0)
    with apply_patches(tiny_policy.model, [pa]):
        assert tiny_policy.move_probs(obs)[0].argmax() == 4


def test_top_right_vector_opens_the_l_path(tiny_policy, ab_levels):
    lvl = ab_levels[0]
    opened = top_right_path_level(lvl)
    new_open = lvl.walls & ~opened.walls
    assert {tuple(c) for c in np.argwhere(new_open)} == {(0, 7), (0, 8)}
    v = top_right_vector(tiny_policy, lvl, LAYER)
    assert np.array_equal(v[0], -new_open.astype(np.float32)) and not v[1:].any()
    assert np.array_equal(v, diff_vector(tiny_policy, opened, lvl, LAYER))
    full = Level.from_ascii("..C\n.##\nM..")  # maze_size == world_size == 3
    with pytest.raises(ValueError, match="maze_size < world_size"):
        top_right_vector(tiny_policy, full, LAYER)


def test_random_like_norms():
    v = np.random.default_rng(0).standard_normal((3, 4, 5, 5)).astype(np.float32)
    r = random_like(v, 1)
    assert r.shape == v.shape and np.isclose(np.linalg.norm(r), np.linalg.norm(v), rtol=1e-5)
    rp = random_like(v, 1, per_level=True)
    assert np.allclose(
        np.linalg.norm(rp.reshape(3, -1), axis=1),
        np.linalg.norm(v.reshape(3, -1), axis=1),
        rtol=1e-5,
    )
    assert not np.allclose(random_like(v, 2), r)


def test_mean_ablation_and_resample_same_cheese(tiny_policy, ab_levels):
    mean = mean_activation(tiny_policy, ab_levels, LAYER)
    acts = layer_activations(tiny_policy, ab_levels, LAYER)
    assert np.allclose(mean, acts.mean(0).numpy())
    ab = Ablate(LAYER, [0], "mean", mean)
    out = layer_activations(tiny_policy, ab_levels, LAYER, patches=[ab])
    assert torch.allclose(out[:, 0], torch.as_tensor(mean[0]).expand(2, 9, 9))
    # resampling the cheese channel from another maze with the cheese at the same cell changes nothing
    lv = Levels.from_list([ab_levels[0].with_cheese((3, 3)), ab_levels[1].with_cheese((3, 3))])
    rs = resample_patch(tiny_policy, LAYER, [CHEESE_CH], lv, lv, same_cheese=True, seed=0)
    assert torch.equal(
        layer_activations(tiny_policy, lv, LAYER, patches=[rs]),
        layer_activations(tiny_policy, lv, LAYER),
    )
    # ... but the wall channel does change (it comes from the other maze)
    rw = resample_patch(tiny_policy, LAYER, [0], lv, lv, seed=0)
    assert torch.equal(
        layer_activations(tiny_policy, lv, LAYER, patches=[rw])[0, 0],
        layer_activations(tiny_policy, lv[1:], LAYER)[0, 0],
    )
    with pytest.raises(ValueError, match="no source maze fits"):
        resample_patch(tiny_policy, LAYER, [0], lv[:1], lv[:1])


def test_vector_coefficients_are_signed_with_per_kind_defaults():
    """One sign convention (the frontier's): the coefficient multiplies the vector as added, so
    the cheese vector's published use, subtraction, is -1 and is its default."""
    from steering.experiments.vectors import VectorConfig

    assert VectorConfig(kind="cheese").validate().coeffs == [-1.0]
    assert VectorConfig(kind="top-right", sizes=[15]).validate().coeffs == [1.0]
    assert VectorConfig(kind="cheese", coeffs=[2.0]).validate().coeffs == [2.0]


def test_vector_config_rejects_bools():
    from steering.experiments.vectors import VectorConfig

    with pytest.raises(ValueError, match="mazes must be an integer >= 1, got True"):
        VectorConfig(mazes=True).validate()
    with pytest.raises(ValueError, match=r"maze size must be an odd integer in \[3, 25\], got True"):
        VectorConfig(sizes=[True]).validate()


def test_run_vector_cheese_known_answer():
    from _steer_tiny import TinyPolicy

    from mazegen.solvers import shortest_path
    from steering.experiments.vectors import VectorConfig, run_vector
    from steering.methods.retarget import eval_levels

    cfg = VectorConfig(
        kind="cheese", coeffs=[-1.0], sizes=[9], mazes=10, max_steps=60, deterministic=True
    )
    res = run_vector(TinyPolicy(25), cfg)
    rows = {r["variant"]: r for r in res["rows"] if r["kind"] == "cheese"}
    levels = [
        x
        for x in eval_levels(10, seed=0, maze_size=9, cheese="uniform", salt=4)
        if x.cheese is not None
    ]
    on_proxy_path = sum(
        x.cheese in shortest_path(x.walls, x.mouse, x.top_right_cell) for x in levels
    )
    assert rows["none"]["got_cheese_k"] == len(levels)  # the net walks straight to the cheese
    assert (
        rows["vector"]["got_cheese_k"] == on_proxy_path
    )  # cheese erased: only cheeses on the way are eaten
    at_corner = sum(x.cheese == x.top_right_cell for x in levels)
    assert rows["vector"]["top_right_k"] == len(levels) - on_proxy_path + at_corner
    ds = [r for r in res["rows"] if r["kind"] == "cheese-decision-square"]
    med = {r["variant"]: r["p_median"] for r in ds}
    assert ds[0]["n"] + ds[0]["skipped"] == len(levels) and ds[0]["n"] > 0
    assert med["original"] > 0.9 and med["patched"] < 0.05
    with pytest.raises(ValueError, match="maze size < 25"):
        VectorConfig(kind="top-right", sizes=[25]).validate()
