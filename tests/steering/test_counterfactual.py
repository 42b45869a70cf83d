"""Counterfactual activation patching (the input-conditioned ``Counterfactual`` patch) and the
frontier's counterfactual and steering-vector methods, on tiny models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _steer_tiny import LAYER, TinyPolicy, levels_ab

from agents.eval.rollout import rollout
from agents.model import ImpalaModel
from agents.policy import Policy
from mazegen.solvers import bfs_distances
from steering.activations import layer_activations
from steering.cells import axis_table
from steering.metrics import fraction_modified, retarget_success_batch
from steering.patches import (
    Compose,
    Counterfactual,
    Stack,
    apply_patches,
    load_patches,
    rollout_patch,
    save_patches,
)
from steering.patches.base import patch_from_json
from steering.patches.counterfactual import waypoints

TARGETS = np.array([[7, 7], [1, 1]])  # off each maze's mouse -> cheese path


def impala(obs_size: int = 9) -> Policy:
    torch.manual_seed(0)
    return Policy(ImpalaModel(obs_size=obs_size, channels=(4, 8, 8), fc_dim=16), "grid")


def moved(lv, cells):
    return [x.with_cheese((int(c[0]), int(c[1]))) for x, c in zip(lv, cells)]


def test_json_round_trip(tmp_path):
    ps = [
        Counterfactual(LAYER, TARGETS, mode="waypoint", channels=[3, 1], radius=1, per_level=True),
        Counterfactual("embedder.fc", [(2, 3)]),
    ]
    back = load_patches(save_patches(ps, tmp_path / "cf.json"))
    assert back == ps
    d = back[0].to_json()
    assert d == {"type": "counterfactual", "layer": LAYER, "mode": "waypoint", "targets": [[7, 7], [1, 1]],
                 "per_level": True, "channels": [3, 1], "radius": 1}
    with pytest.raises(ValueError, match="mode must be one of"):
        Counterfactual(LAYER, [(1, 1)], mode="teleport")
    with pytest.raises(ValueError, match="radius must be None or an integer >= 0, got -1"):
        Counterfactual(LAYER, [(1, 1)], radius=-1)
    with pytest.raises(ValueError, match="takes one target cell, got 2"):
        Counterfactual(LAYER, TARGETS)


@pytest.mark.parametrize("radius", [None, 0])
def test_patch_equals_cheese_moved_activations_on_its_subset(radius):
    """Patched activations = the cheese-moved observation's on the chosen channels (and cells
    near the moved / original cheese), the clean ones elsewhere."""
    pol, lv = impala(), levels_ab()
    chans = [1, 6]
    p = Counterfactual(LAYER, TARGETS, channels=chans, radius=radius, per_level=True)
    clean = layer_activations(pol, lv, LAYER)
    cf = layer_activations(pol, moved(lv, TARGETS), LAYER)
    got = layer_activations(pol, lv, LAYER, patches=[p])
    c, side = clean.shape[1], clean.shape[-1]
    mask = np.zeros(clean.shape, bool)
    tab = axis_table(side, "grid", world_size=9)
    for i, x in enumerate(lv):
        cells = np.ones((side, side), bool)
        if radius is not None:
            cells[:] = False
            for r, col in (TARGETS[i], x.cheese):
                cells[tab[r], tab[col]] = True  # radius 0: the activation cell itself
        for ch in chans:
            mask[i, ch] = cells
    assert (clean != cf).numpy()[mask].any()  # the test has teeth: the cheese move shows
    assert torch.equal(got[torch.as_tensor(mask)], cf[torch.as_tensor(mask)])
    assert torch.equal(got[~torch.as_tensor(mask)], clean[~torch.as_tensor(mask)])
    assert c == 8


def test_waypoint_is_the_bfs_next_cell():
    lv = levels_ab()
    # maze A's start (7, 1) has one open neighbour, (7, 2)
    p = Counterfactual(LAYER, TARGETS, mode="waypoint", per_level=True)
    from steering.activations import level_obs

    x = torch.as_tensor(level_obs(lv, "grid")).float()
    cells = p.cheese_cells(x, np.arange(2))
    assert cells[0].tolist() == [7, 2]
    # every waypoint: a neighbour of the mouse one BFS step closer to the target
    rng = np.random.default_rng(0)
    walls = np.stack([x.walls for x in lv] * 20)
    opens = [np.argwhere(~w) for w in walls]
    mouse = np.array([o[rng.integers(len(o))] for o in opens])
    tgt = np.array([o[rng.integers(len(o))] for o in opens])
    wp = waypoints(walls, mouse, tgt)
    d = bfs_distances(walls, tgt)
    for i in range(len(wp)):
        dm = d[i][tuple(mouse[i])]
        if dm == 0:
            assert (wp[i] == tgt[i]).all()
        else:
            assert np.abs(wp[i] - mouse[i]).sum() == 1 and d[i][tuple(wp[i])] == dm - 1
    # the patch's activations are those of the level with the cheese at the waypoint
    pol = impala()
    got = layer_activations(pol, lv, LAYER, patches=[p])
    assert torch.equal(got, layer_activations(pol, moved(lv, cells), LAYER))


def test_counterfactual_steers_tiny_agent_in_plain_and_batched_rollouts():
    pol, lv = TinyPolicy(9), levels_ab()
    kw = dict(targets=TARGETS, stop_on_target=True, max_steps=40, deterministic=True)
    assert not rollout(pol, lv, **kw).reached_target.any()
    for mode in ("target", "waypoint"):
        p = Counterfactual(LAYER, TARGETS, mode=mode, channels=[1], per_level=True)
        assert rollout(pol, lv, patch=rollout_patch(pol, p), **kw).reached_target.all()
        # cheese channel only: the old and the new cheese cell change, nothing else
        assert fraction_modified(pol, p, lv)["total"]["max_modified"] == 2
    # in a Stack (one batched rollout of several variants), the same patch object twice
    p = Counterfactual(LAYER, TARGETS, channels=[1], per_level=True)
    rates = retarget_success_batch(pol, [(lv, TARGETS, [p], True), (lv, TARGETS, None, True),
                                         (lv, TARGETS, [p], True)], max_steps=40, deterministic=True)
    assert [r.k for r in rates] == [2, 0, 2]
    # composed with another patch at the same layer: the counterfactual pass is unpatched
    from steering.patches import Scale

    both = Compose([Counterfactual(LAYER, TARGETS, channels=[1], per_level=True), Scale(LAYER, [1], 3.0)])
    got = layer_activations(pol, lv, LAYER, patches=[both])
    cf = layer_activations(pol, moved(lv, TARGETS), LAYER)
    assert torch.equal(got[:, 1], 3 * cf[:, 1])
    assert Stack(LAYER, [both, None], [2, 2]).needs_input


def test_counterfactual_refuses_without_its_input():
    p = Counterfactual(LAYER, [(1, 1)], channels=[1])
    with pytest.raises(ValueError, match="needs the model input of the forward pass"):
        p.apply(torch.zeros(1, 4, 9, 9))
    net = torch.nn.Sequential()
    net.add_module("id", torch.nn.Identity())
    with pytest.raises(ValueError, match="needs grid observations"), apply_patches(net, Counterfactual("id", [(1, 1)])):
        net(torch.rand(1, 3, 9, 9))  # an rgb-like frame
    x = torch.zeros(1, 3, 9, 9)
    x[0, 1, 2, 2] = 1
    x[0, 0, 1, 1] = 1
    with pytest.raises(ValueError, match=r"target \[1, 1\] is a wall"), apply_patches(net, Counterfactual("id", [(1, 1)])):
        net(x)


def test_frontier_unit_with_counterfactual_and_vector_methods():
    from steering.experiments.frontier_config import FrontierConfig
    from steering.experiments.frontier_unit import run_frontier_unit

    pol = impala(25)
    cfg = FrontierConfig(size=7, mazes=3, max_steps=12, discover_mazes=4, fraction_mazes=2,
                         methods=["cf-target", "cf-waypoint", "vec-cheese", "vec-top-right", "vec-compose"],
                         knobs={"cf-target": [2], "cf-waypoint": [8], "vec-cheese": [-1.0],
                                "vec-top-right": [1.0], "vec-compose": [-2.0]}, cf_radius=1).validate(pol)
    controls = {}
    for m, knob in (("cf-target", 2), ("cf-waypoint", 8), ("vec-cheese", -1.0), ("vec-compose", -2.0)):
        res = run_frontier_unit(pol, cfg, m, knob)
        rows = res["rows"]
        controls[m] = {r["control"] for r in rows}
        main = [r for r in rows if r["control"] == ""]
        assert len(main) == 2 and all(r["arrival_n"] == 3 for r in main)
        for r in main:
            assert 0 < r["modified"] and r["fraction_network"] < 1
            if m.startswith("cf"):
                # at most channels x cells replaced (radius 1 around two cells of a 7x7 layer)
                assert r["modified"] <= knob * 18 and len(r["channels"].split()) == knob
            else:
                assert r["edit_norm"] > 0
        assert next(r for r in rows if r["control"] == "retention")["cheese_rate_n"] == 3
        # patches round-trip through JSON (the counterfactual ones as their recipe)
        for ps in res["patches"].values():
            assert ps and all(patch_from_json(q.to_json()) == q for q in ps)
    assert controls["cf-target"] == {"", "baseline", "random-positions", "random-dense", "opposite", "retention"}
    assert controls["cf-waypoint"] == {"", "baseline", "random-dense", "opposite", "retention"}  # 8 of 8: no others
    assert controls["vec-cheese"] == controls["vec-compose"] == {"", "baseline", "random-dense", "retention"}
    with pytest.raises(ValueError, match="cf-target n=9 out of range \\[1, 8\\]"):
        FrontierConfig(methods=["cf-target"], knobs={"cf-target": [9]}).validate(pol)
    with pytest.raises(ValueError, match="coefficients and must be nonzero, got 0"):
        FrontierConfig(methods=["vec-cheese"], knobs={"vec-cheese": [0.0]}).validate()
    assert "cf_radius" not in FrontierConfig().to_dict()  # runs saved before the option resume
