"""Optimised sparse edits, the SparseAdd patch and the Q2 frontier, on tiny models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from agents.eval.rollout import rollout
from agents.model import ImpalaModel
from agents.policy import Policy
from mazegen import Level, Levels
from steering.methods.edit_states import path_states
from steering.methods.optimise import EditConfig, check_edit_layers, fit_sparse_edit
from steering.metrics import fraction_modified, retarget_success_batch
from steering.patches.apply import rollout_patch
from steering.patches.base import patch_from_json
from steering.patches.io import load_patches, save_patches
from steering.patches.sparse import SparseAdd

FC = "embedder.fc"
UNIT = 5  # the planted unit of embedder.fc
UP, LEFT = 5, 1

ART = """
#######
####.##
####.##
####.##
#C..M.#
####.##
#######
"""


def planted_policy() -> Policy:
    """A tiny IMPALA net whose policy head prefers LEFT (bias 8) unless unit UNIT of
    ``embedder.fc`` is raised: UP's logit is 5 x relu(fc[UNIT]), and fc[UNIT] is 0.1 on every
    input. Editing that one activation is the known steerable direction."""
    torch.manual_seed(0)
    m = ImpalaModel(obs_size=7, channels=(2, 4, 4), fc_dim=8)
    with torch.no_grad():
        m.embedder.fc.weight[UNIT] = 0.0
        m.embedder.fc.bias[UNIT] = 0.1
        m.fc_policy.weight.zero_()
        m.fc_policy.bias.zero_()
        m.fc_policy.bias[LEFT] = 8.0
        m.fc_policy.weight[UP, UNIT] = 5.0
    return Policy(m, "grid")


def planted_levels(n: int = 3) -> tuple[Levels, np.ndarray]:
    lvl = Level.from_ascii(ART, validate=False)
    lv = Levels.from_list([lvl] * n)
    return lv, np.tile([[1, 4]], (n, 1))


def test_optimiser_finds_planted_direction_and_controls_do_not():
    pol = planted_policy()
    lv, tgt = planted_levels()
    for shared in (False, True):
        for support in ("grad", "l1"):
            cfg = EditConfig(layers=[FC], k=1, support=support, shared=shared, steps=60, radius=0, dagger=1,
                             dagger_steps=20)
            patches, info = fit_sparse_edit(pol, lv, tgt, cfg)
            (p,) = patches
            assert isinstance(p, SparseAdd) and p.k == 1 and p.per_level is (not shared)
            assert np.all(p.index == UNIT), (support, shared, p.index)
            assert np.all(p.values > 1.0)
            assert info["train_p_move"] > 0.9
            rates = retarget_success_batch(pol, [(lv, tgt, None, True), (lv, tgt, patches, True)],
                                           max_steps=20, deterministic=True, split=True)
            assert rates[0]["reached"].k == 0 and rates[0]["cheese_first"].k == 3  # unedited: eats the cheese
            assert rates[1]["reached"].k == 3
    # controls: the same value at other units, and a random dense vector of the same norm
    others = [SparseAdd(FC, [u], [float(p.values.reshape(-1)[0])], (8,)) for u in range(8) if u != UNIT]
    variants = [(lv, tgt, [c], True) for c in others]
    assert all(r["reached"].k == 0 for r in retarget_success_batch(pol, variants, max_steps=20,
                                                                   deterministic=True, split=True))
    fm = fraction_modified(pol, patches, lv)
    assert fm["layers"][FC]["modified"] == 1.0 and fm["network_size"] > 100


def test_exported_patch_reproduces_in_plain_rollout(tmp_path):
    pol = planted_policy()
    lv, tgt = planted_levels()
    patches, _ = fit_sparse_edit(pol, lv, tgt, EditConfig(layers=[FC], k=2, steps=40, radius=0, dagger=0))
    k_metric = retarget_success_batch(pol, [(lv, tgt, patches, True)], max_steps=20, seed=3)[0].k
    path = save_patches(patches, tmp_path / "best.json")
    again = load_patches(path)
    assert again == patches
    res = rollout(pol, lv, seed=3, max_steps=20, targets=tgt, stop_on_target=True,
                  patch=rollout_patch(pol, again))
    assert int(res.reached_target.sum()) == k_metric == 3


def test_sparse_add_json_round_trip(tmp_path):
    shared = SparseAdd("embedder.block2.res1.resadd_out", [3, 7, 11], [0.5, -1.0, 2.0], (4, 3, 3))
    per = SparseAdd("embedder.block2.res1.resadd_out", np.arange(200).reshape(50, 4) % 36,
                    np.linspace(-1, 1, 200).reshape(50, 4), (4, 3, 3), per_level=True, coeff=0.5)
    for p in (shared, per):
        assert patch_from_json(json.loads(json.dumps(p.to_json()))) == p
        path = save_patches([p], tmp_path / f"{p.per_level}.json")
        (q,) = load_patches(path)
        assert q == p and np.array_equal(q.index, p.index)
    act = torch.zeros(2, 4, 3, 3)
    out = per.apply(act, np.array([1, 0]))
    assert torch.allclose(out.reshape(2, -1)[0, per.index[1]], torch.as_tensor(0.5 * per.values[1]))
    assert np.allclose(per.dense()[1].reshape(-1)[per.index[1]], 0.5 * per.values[1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"index": [40], "values": [1.0]}, r"out of range \[0, 35\]"),
        ({"index": [-1], "values": [1.0]}, r"out of range"),
        ({"index": [1.5], "values": [1.0]}, "integers"),
        ({"index": [1], "values": [float("nan")]}, "finite"),
        ({"index": [1, 2], "values": [1.0]}, "shape"),
    ],
)
def test_sparse_add_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SparseAdd("layer", shape=(4, 3, 3), **kwargs)


def test_edit_config_and_layer_bad_input():
    pol = planted_policy()
    with pytest.raises(ValueError, match="unknown layer 'nope'"):
        check_edit_layers(pol, ["nope"], 4)
    with pytest.raises(ValueError, match=r"k=9 .* holds 8; allowed k per layer: \[1, 8\]"):
        check_edit_layers(pol, [FC], 9)
    with pytest.raises(ValueError, match="k .*>= 1"):
        EditConfig(layers=[FC], k=0).validate()
    with pytest.raises(ValueError, match="support"):
        EditConfig(support="magic").validate()
    with pytest.raises(ValueError, match="lr must be a finite"):
        EditConfig(lr=float("inf")).validate()
    lv, _ = planted_levels(1)
    with pytest.raises(ValueError, match="is a wall"):
        path_states(lv, np.array([[0, 0]]))


def test_multi_layer_edit_splits_k_and_steers():
    pol = planted_policy()
    lv, tgt = planted_levels()
    cfg = EditConfig(layers=["embedder.block3.res2.resadd_out", FC], k=2, steps=60, radius=0, dagger=0)
    patches, _ = fit_sparse_edit(pol, lv, tgt, cfg)
    assert [p.layer for p in patches] == cfg.layers and all(p.k == 1 for p in patches)
    assert np.all(patches[1].index == UNIT)
    (rate,) = retarget_success_batch(pol, [(lv, tgt, patches, True)], max_steps=20, deterministic=True)
    assert rate.k == 3
    fm = fraction_modified(pol, patches, lv)
    # block3 cannot move UP's logit in this net, so its fitted value stays ~0 (L2): only the
    # planted unit is changed for certain; at most one activation per layer is
    assert fm["layers"][FC]["modified"] == 1.0 and fm["total"]["modified"] <= 2.0


def test_path_distance_and_distance_curve_rows():
    from steering.experiments.distance import distance_curve, path_distance
    from steering.experiments.frontier_config import FrontierConfig
    from steering.methods.retarget import eval_levels

    lv = eval_levels(3, seed=0, maze_size=7, cheese="top-right:5")
    x = lv[0]
    assert path_distance(x, x.start_cell) == 0 and path_distance(x, x.top_right_cell) == 0
    pol = Policy(ImpalaModel(obs_size=25, channels=(2, 4, 4), fc_dim=8), "grid")
    cfg = FrontierConfig(size=7, mazes=4, max_steps=10, edit={"steps": 3, "radius": 0})
    rows = distance_curve(pol, cfg, "per-maze", 2)
    assert sum(r["arrival_n"] for r in rows if r["control"] == "") == 4
    assert {r["control"] for r in rows} == {"", "baseline"}


@pytest.mark.parametrize("fast", [False, True])
def test_fit_precision_modes_find_planted_direction_and_restore_parameters(fast):
    """The fp32 and the bf16/channels_last fit both find the planted unit; the model's
    parameters are frozen only during the fit and the weights are untouched."""
    pol = planted_policy()
    before = {k: v.clone() for k, v in pol.model.state_dict().items()}
    pol.model.embedder.fc.bias.requires_grad_(False)  # a flag the fit must give back as it was
    lv, tgt = planted_levels()
    cfg = EditConfig(layers=[FC], k=1, support="grad", steps=60, radius=0, fast=fast)
    (p,), info = fit_sparse_edit(pol, lv, tgt, cfg)
    assert np.all(p.index == UNIT) and info["train_p_move"] > 0.9
    assert [n for n, q in pol.model.named_parameters() if not q.requires_grad] == ["embedder.fc.bias"]
    assert all(torch.equal(before[k], v) for k, v in pol.model.state_dict().items())
