"""Probe families (mean-difference, PCA of paired differences, convolutional) on planted features,
their directions as steering edits, and the shuffled-label control."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from _steer_tiny import CHEESE_CH, LAYER, TinyPolicy

from steering.methods.probe_data import collect_probe_data, probe_levels
from steering.methods.probe_kinds import (
    KINDS,
    argmax_cells,
    cheese_in_top_right,
    fit_cell_probe,
    fit_readout,
    generalisation_rows,
    probe_rows,
)


@pytest.fixture(scope="module")
def tiny_data():
    levels = probe_levels(60, seed=0, sizes=[5, 7, 9], mouse="uniform")
    return collect_probe_data(TinyPolicy(25), levels, LAYER, outcomes=False)


def _planted(n=400, d=12, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    x = rng.standard_normal((n, d))
    x[:, 3] += 3.0 * y  # the planted feature
    return x, y


@pytest.mark.parametrize("kind", KINDS)
def test_each_family_finds_a_planted_feature(kind):
    x, y = _planted()
    r = fit_readout(kind, x[:300], y[:300])
    acc = float(np.mean(r.predict(x[300:]) == y[300:]))
    assert acc > 0.85, (kind, acc)
    w = np.abs(r.w) / np.abs(r.w).max()
    assert w.argmax() == 3 and np.sort(w)[-2] < 0.5  # the direction is the planted axis


@pytest.mark.parametrize("kind", ["logistic", "mean-diff"])
def test_shuffled_labels_are_near_chance(kind):
    x, y = _planted()
    perm = np.random.default_rng(1).permutation(300)
    r = fit_readout(kind, x[:300], y[:300][perm])
    acc = float(np.mean(r.predict(x[300:]) == y[300:]))
    assert 0.3 < acc < 0.75, (kind, acc)


def test_pca_direction_needs_no_labels():
    # the first PC of paired differences is the high-variance planted axis whatever the labels:
    # shuffled labels only pick its sign and threshold, so for this family the shuffled-label
    # control tests the read-out, not the direction
    x, y = _planted()
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(300)
        r = fit_readout("pca", x[:300], y[:300][perm], seed=seed)
        assert np.abs(r.w).argmax() == 3


def test_fit_readout_validation():
    with pytest.raises(ValueError, match="kind must be one of"):
        fit_readout("lasso", np.zeros((3, 2)), np.array([0, 1, 0]))
    r = fit_readout("mean-diff", np.zeros((3, 2)), np.array([1, 1, 1]))  # one class: constant
    assert r.predict(np.zeros((2, 2))).tolist() == [True, True]


def test_cell_probes_find_the_cheese_channel(tiny_data):
    d = tiny_data
    for kind in KINDS:
        r = fit_cell_probe(kind, d.acts[:40], d.cheese_act[:40], d.valid_act[:40])
        pred = argmax_cells(r, d.acts[40:], d.valid_act[40:])
        assert np.mean(pred == d.cheese_act[40:]) == 1.0, kind
        assert np.abs(r.w).argmax() == CHEESE_CH, (kind, r.w)


def test_probe_rows_real_vs_shuffled(tiny_data):
    # CheeseNet's layer plus noise and 4 pure-noise channels: the planted cheese / mouse channels
    # must be found among them; with shuffled labels the noise decides (near the base rate)
    d = copy.copy(tiny_data)
    rng = np.random.default_rng(0)
    n, c, h, w = d.acts.shape
    noise = rng.normal(0, 0.25, (n, 2 * c, h, w)).astype(np.float32)
    d.acts = np.concatenate([d.acts, np.zeros_like(d.acts)], 1) + noise
    real = probe_rows(d, seed=0, n_boot=20)
    shuf = probe_rows(d, seed=0, n_boot=20, shuffle_labels=True, control="shuffled")
    key = lambda rows: {(r["target"], r["kind"]): r for r in rows}  # noqa: E731
    real, shuf = key(real), key(shuf)
    assert set(real) >= {("cheese_cell", k) for k in ("conv", "mean-diff", "pca")} | {
        ("mouse_cell", "conv"), ("open_cell", "conv"), ("cheese_top_right", "logistic")}
    for k in ("conv", "mean-diff", "pca"):
        assert real[("cheese_cell", k)]["value"] >= 0.8, real[("cheese_cell", k)]
        assert real[("mouse_cell", k)]["value"] >= 0.8  # CheeseNet's channel 2 is the mouse
        assert shuf[("cheese_cell", k)]["value"] < 0.3, shuf[("cheese_cell", k)]  # near chance
        assert real[("open_cell", k)]["value"] > 0.9
    for r in real.values():
        assert r["ci_lo"] <= r["value"] <= r["ci_hi"] and r["control"] == ""


def test_generalisation_split(tiny_data):
    rows = generalisation_rows(tiny_data, seed=0)
    ins = cheese_in_top_right(tiny_data)
    assert 0 < ins.sum() < len(ins)
    got = {(r["split"], r["kind"]): r for r in rows}
    # the shared convolutional map transfers across cheese regions; the flattened multinomial
    # logistic cannot name a cell it never saw as a class
    assert got[("in->out", "conv")]["value"] == 1.0 and got[("in->out", "conv")]["n_test"] == (~ins).sum()
    assert got[("in->out", "logistic")]["value"] < 0.9
    assert got[("out->in", "conv")]["value"] == 1.0


def test_mean_difference_direction_steers_the_planted_feature():
    from steering.experiments.probe_steer import ProbeSteerConfig, run_probe_steer

    cfg = ProbeSteerConfig(layer=LAYER, probe_mazes=30, mazes=12, alphas=[2.0], tr_alphas=[1.0],
                           sizes=[7, 9], max_steps=60, tr_max_steps=5)
    res = run_probe_steer(TinyPolicy(25), cfg)
    reach = {r["kind"]: r["rate"] for r in res["control"]
             if r["concept"] == "cheese_cell" and r["metric"] == "reach_target" and not r["cheese"]}
    assert reach["mean-diff"] == 1.0 and reach["none"] < 0.75, reach
    frac = {r["kind"]: r["frac_layer"] for r in res["control"] if r["concept"] == "cheese_cell"}
    assert 0 < frac["mean-diff"] <= 4 / (4 * 25 * 25)  # at most one cell's channel vector
    table = {(r["concept"], r["kind"]): r for r in res["table"]}
    assert table[("cheese_cell", "mean-diff")]["read_acc"] == 1.0
    assert table[("cheese_cell", "mean-diff")]["effect"] == 1.0
    with pytest.raises(ValueError, match="probe_mazes"):
        ProbeSteerConfig(probe_mazes=3)


def test_layer_probes_resume_from_the_cache(tmp_path):
    from steering.experiments.probe_layers import run_layer_probes, stream_layers

    pol = TinyPolicy(25)
    layers = stream_layers(pol)
    assert layers == ["embedder.block1.conv", "embedder.block2.res1.resadd_out"]
    lv = probe_levels(24, seed=0, sizes=[5, 7], mouse="uniform")
    msgs: list[str] = []
    kw = dict(max_steps=20, n_boot=10, cache_dir=tmp_path, progress=msgs.append)
    first = run_layer_probes(pol, lv, layers, key={"a": 1}, **kw)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "layer-embedder.block1.conv.json", "layer-embedder.block2.res1.resadd_out.json", "outcomes.json"]
    msgs.clear()
    again = run_layer_probes(pol, lv, layers, key={"a": 1}, **kw)
    assert again == first and all("reused" in m for m in msgs) and len(msgs) == 2
    msgs.clear()
    other = run_layer_probes(pol, lv, layers[:1], key={"a": 2}, **kw)  # new key: recomputed
    assert not any("reused" in m for m in msgs)
    assert [r["value"] for r in other] == [r["value"] for r in first if r["depth"] == 0]
    assert {r["layer"] for r in first} == set(layers) and {r["depth"] for r in first} == {0, 1}


def _no_new_units(monkeypatch):
    """Make writing any unit fail: a rerun that computes a unit would raise."""
    import agents.rundir

    def refuse(path, value, indent=1):
        raise AssertionError(f"recomputed {path}")

    monkeypatch.setattr(agents.rundir, "write_json", refuse)


def test_probe_steer_resumes_from_its_units(tmp_path, monkeypatch):
    from steering.experiments.probe_steer import ProbeSteerConfig, run_probe_steer

    pol = TinyPolicy(25)
    cfg = ProbeSteerConfig(layer=LAYER, probe_mazes=20, mazes=4, alphas=[2.0], tr_alphas=[1.0],
                           sizes=[7, 9], max_steps=20, tr_max_steps=5)
    out = tmp_path / "run"
    first = run_probe_steer(pol, cfg, out=out)
    units = sorted(p.name for p in (out / "units").iterdir())
    assert units == ["cheese_cell-present.json", "cheese_cell-removed.json", "fit.json", "frac.json",
                     "top_right.json"]
    assert run_probe_steer(pol, cfg) == first  # no directory: the same rows
    (out / "units" / "cheese_cell-removed.json").unlink()  # killed before this unit finished
    assert run_probe_steer(pol, cfg, out=out) == first
    with monkeypatch.context() as m:
        _no_new_units(m)
        assert run_probe_steer(pol, cfg, out=out) == first  # everything reused
    other = ProbeSteerConfig(**{**cfg.__dict__, "mazes": 5})
    with pytest.raises(ValueError, match="other arguments"):
        run_probe_steer(pol, other, out=out)
