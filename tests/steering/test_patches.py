"""Patches: semantics of every type, per-level rows, JSON round trips, hook integration."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from agents.model import ImpalaModel
from steering.hooking import run_with_cache
from steering.patches.apply import apply_patches, rollout_patch
from steering.patches.base import Compose, Stack, patch_from_json
from steering.patches.edits import Ablate, Add, Clamp, Resample, Scale
from steering.patches.io import load_patches, save_patches

L = "embedder.block2.res1.resadd_out"


def act(b=3, c=4, h=5, w=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, c, h, w, generator=g)


def all_patches():
    rng = np.random.default_rng(0)
    return [
        Clamp(L, [1, 2], [(0, 0), (4, 3)], 5.5),
        Clamp(L, [1], [(0, 0), (1, 1), (2, 2)], -1.0, per_level=True),
        Add(L, rng.standard_normal((4, 5, 5)), 0.5),
        Add(L, rng.standard_normal((4, 5, 5)), -1.0, channels=[0], cells=[(2, 2)]),
        Add(L, rng.standard_normal((3, 4, 5, 5)), 2.0, per_level=True),
        Ablate(L, [3]),
        Ablate(L, [0, 1], "mean", rng.standard_normal((4, 5, 5))),
        Ablate(L, [2], "mean", rng.standard_normal(4)),
        Resample(L, [1], rng.standard_normal((3, 4, 5, 5))),
        Resample(L, [0, 3], rng.standard_normal((4, 5, 5))),
        Scale(L, [2], 3.0),
        Compose([Scale(L, [2], 3.0), Clamp(L, None, [(1, 1)], 0.0)]),
    ]


def test_clamp_sets_exactly_the_chosen_elements():
    a = act()
    out = Clamp(L, [1, 2], [(0, 0), (4, 3)], 5.5).apply(a)
    changed = out != a
    assert changed.sum() == 3 * 2 * 2
    assert torch.all(out[:, 1:3, [0, 4], [0, 3]] == 5.5)
    assert torch.equal(a, act())  # input untouched


def test_clamp_per_level_uses_row_level_indices():
    p = Clamp(L, [1], [(0, 0), (1, 1), (2, 2)], 9.0, per_level=True)
    out = p.apply(act(b=2), rows=np.array([2, 0]))
    assert out[0, 1, 2, 2] == 9 and out[1, 1, 0, 0] == 9
    assert (out != act(b=2)).sum() == 2
    with pytest.raises(ValueError, match="batch has 2 rows"):
        p.apply(act(b=2))
    with pytest.raises(ValueError, match="out of range"):
        p.apply(act(b=2), rows=np.array([0, 3]))


def test_add_ablate_resample_scale_values():
    a = act()
    v = np.ones((4, 5, 5), np.float32)
    assert torch.allclose(Add(L, v, 2.0).apply(a), a + 2)
    masked = Add(L, v, 2.0, channels=[3], cells=[(1, 2)]).apply(a)
    assert (
        torch.allclose((masked - a).sum(), torch.tensor(2.0 * 3))
        and masked[0, 3, 1, 2] == a[0, 3, 1, 2] + 2
    )
    z = Ablate(L, [0, 2]).apply(a)
    assert torch.all(z[:, [0, 2]] == 0) and torch.equal(z[:, [1, 3]], a[:, [1, 3]])
    mean = np.arange(4, dtype=np.float32)
    m = Ablate(L, [2], "mean", mean).apply(a)
    assert torch.all(m[:, 2] == 2.0) and torch.equal(m[:, 0], a[:, 0])
    src = np.random.default_rng(1).standard_normal((3, 4, 5, 5)).astype(np.float32)
    r = Resample(L, [1], src).apply(a, rows=np.array([2, 1, 0]))
    assert torch.allclose(r[0, 1], torch.as_tensor(src[2, 1])) and torch.equal(r[0, 0], a[0, 0])
    s = Scale(L, [3], -2.0).apply(a)
    assert torch.allclose(s[:, 3], -2 * a[:, 3]) and torch.equal(s[:, :3], a[:, :3])


def test_json_round_trip_every_patch(tmp_path):
    a = act()
    rows = np.array([0, 1, 2])
    for p in all_patches():
        for array_dir in (None, tmp_path / "arr"):
            d = json.loads(json.dumps(p.to_json(array_dir)))
            q = patch_from_json(d, base_dir=tmp_path)
            assert type(q) is type(p) and q == p
            assert torch.equal(q.apply(a, rows), p.apply(a, rows))
    assert list((tmp_path / "arr").glob("*.npy"))  # big arrays went to .npy files
    (tmp_path / "sub").mkdir()
    path = save_patches(all_patches(), tmp_path / "sub" / "p.json")
    assert "npy" in path.read_text() and str(tmp_path) not in path.read_text()  # relative paths
    back = load_patches(path)
    assert len(back) == len(all_patches())
    for p, q in zip(all_patches(), back):
        assert torch.equal(q.apply(a, rows), p.apply(a, rows))
    assert not list((tmp_path / "sub").glob("*.tmp"))


def test_bad_json_and_bad_args():
    with pytest.raises(ValueError, match="unknown patch type 'clamb'"):
        patch_from_json({"type": "clamb", "layer": L})
    with pytest.raises(ValueError, match="missing field 'value'"):
        patch_from_json({"type": "clamp", "layer": L, "cells": [[0, 0]], "channels": [0]})
    with pytest.raises(ValueError, match="mode"):
        Ablate(L, [0], "median")
    with pytest.raises(ValueError, match="channel 9 out of range"):
        Scale(L, [9], 2.0).apply(act())
    with pytest.raises(ValueError, match="out of range for a 5x5"):
        Clamp(L, [0], [(5, 0)], 1.0).apply(act())
    with pytest.raises(ValueError, match="vector shape"):
        Add(L, np.zeros((4, 4, 4)), 1.0).apply(act())
    with pytest.raises(ValueError, match="finite"):
        Add(L, np.full((4, 5, 5), np.nan), 1.0)
    with pytest.raises(ValueError, match="layer"):
        Scale("", [0], 1.0)
    with pytest.raises(ValueError, match="Stack block size must be an integer >= 1, got 0"):
        Stack(L, [None, None], [2, 0])
    with pytest.raises(ValueError, match="Stack block size must be an integer >= 1, got True"):
        Stack(L, [None], [True])


def test_apply_patches_on_model_and_rollout_factory():
    m = ImpalaModel(obs_size=25).eval()
    x = torch.rand(2, 3, 25, 25)
    _, clean = run_with_cache(m, x, [L, "embedder.fc"])
    patches = [
        Clamp(L, [0], [(3, 3), (1, 1)], 7.0, per_level=True),
        Scale("embedder.fc", [0, 1], 0.0),
    ]
    factory = rollout_patch(m, patches)
    with factory(np.array([1, 0])):
        _, cache = run_with_cache(m, x, [L, "embedder.fc"])
    assert cache[L][0, 0, 1, 1] == 7 and cache[L][1, 0, 3, 3] == 7
    assert torch.all(cache["embedder.fc"][:, :2] == 0)
    assert sum(len(mod._forward_hooks) for mod in m.modules()) == 0
    with apply_patches(m, Compose(patches), np.array([0, 1])):
        _, cache2 = run_with_cache(m, x, [L])
    assert cache2[L][0, 0, 3, 3] == 7 and not torch.equal(cache2[L], clean[L])
