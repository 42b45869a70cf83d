"""Keep-only / ablate-only of the understood channels on CheeseNet (its cheese channel is known)."""

from __future__ import annotations

import pytest
from _steer_tiny import CHEESE_CH, LAYER, TinyPolicy

from steering.experiments.explain import ExplainConfig, run_explain, understood_channels


def test_understood_channels_find_the_cheese_channel():
    cfg = ExplainConfig(layer=LAYER, k_cheese=1, k_top_right=0, probe_mazes=20)
    und = understood_channels(TinyPolicy(25), cfg)
    assert und["criteria"] == {"discovery": [CHEESE_CH], "cell_probe": [CHEESE_CH]}
    assert und["channels"] == [CHEESE_CH]


def test_run_explain_rows():
    cfg = ExplainConfig(layer=LAYER, k_cheese=1, k_top_right=1, probe_mazes=20, mazes=4,
                        states=30, random_draws=1, max_steps=40)
    res = run_explain(TinyPolicy(25), cfg)
    rows = {(r["set"], r["mode"]): r for r in res["rows"]}
    assert set(rows) == {("none", "baseline"), ("understood", "keep-only"), ("understood", "ablate-only"),
                         ("random", "keep-only"), ("random", "ablate-only")}
    base = rows[("none", "baseline")]
    assert base["action_agreement"] == 1.0 and base["kl_mean"] == 0.0 and base["in_cheese"] == 1.0
    # understood: the cheese channel (discovery, cell probe) and the wall channel (the top-right
    # vector and probe: a path to the top-right changes walls); CheeseNet's planner also needs
    # the mouse channel, so neither half keeps the behaviour
    assert res["understood"]["channels"] == [0, CHEESE_CH]
    abl = rows[("understood", "ablate-only")]
    assert abl["ablated"] == f"0 {CHEESE_CH}" and abl["in_cheese"] == 0.0 and abl["action_agreement"] < 0.5
    keep = rows[("understood", "keep-only")]
    assert keep["ablated"] == "2 3" and keep["in_cheese"] == 0.0 and keep["action_agreement"] < 1.0
    for r in res["rows"]:
        assert r["action_agreement_ci_lo"] <= r["action_agreement"] <= r["action_agreement_ci_hi"]
    with pytest.raises(ValueError, match="k_cheese \\+ k_top_right"):
        ExplainConfig(k_cheese=0, k_top_right=0)


def test_run_explain_resumes_from_its_units(tmp_path, monkeypatch):
    import agents.rundir

    cfg = ExplainConfig(layer=LAYER, k_cheese=1, k_top_right=1, probe_mazes=20, mazes=3,
                        states=20, random_draws=1, max_steps=20)
    pol, out = TinyPolicy(25), tmp_path / "run"
    first = run_explain(pol, cfg, out=out)
    assert sorted(p.stem for p in (out / "units").iterdir()) == [
        "agreement", "rollout_bottom-right", "rollout_in", "rollout_top-left", "understood"]
    assert run_explain(pol, cfg) == first  # no directory: the same rows
    (out / "units" / "rollout_top-left.json").unlink()  # killed before this unit finished
    assert run_explain(pol, cfg, out=out) == first
    with monkeypatch.context() as m:  # a rerun of a finished run computes nothing
        m.setattr(agents.rundir, "write_json", lambda *a, **k: pytest.fail(f"recomputed {a[0]}"))
        assert run_explain(pol, cfg, out=out) == first
    with pytest.raises(ValueError, match="other arguments"):
        run_explain(pol, ExplainConfig(**{**cfg.__dict__, "random_draws": 2}), out=out)
