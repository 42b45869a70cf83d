"""Tests for agents.eval.sweep: outputs, known answers, determinism, resumability, config checks."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from agents.eval.stats import wilson_ci
from agents.eval.sweep import SweepConfig, run_sweep
from agents.eval.sweep_axes import SWEEP_SEED_BASE, level_seeds, parse_placements, parse_sizes
from mazegen.constants import ACTION_NOOP
from mazegen.solvers import next_action_towards


def _cells(obs, ch):
    flat = obs[:, ch].reshape(len(obs), -1).argmax(axis=1)
    return np.stack(np.unravel_index(flat, obs.shape[2:]), axis=1)


class Oracle:
    """Walks the shortest path to the cheese."""

    obs = "grid"

    def __init__(self):
        self.calls = 0

    def moves(self, obs):
        mouse, cheese = _cells(obs, 1), _cells(obs, 2)
        out = np.empty(len(obs), np.int64)
        for k in range(len(obs)):
            a = next_action_towards(obs[k, 0].astype(bool), mouse[k:k + 1], tuple(cheese[k]))[0]
            out[k] = ACTION_NOOP if a < 0 else a
        return out

    def action_probs(self, obs):
        self.calls += 1
        p = np.zeros((len(obs), 15))
        p[np.arange(len(obs)), self.moves(obs)] = 1.0
        return p


class Noisy(Oracle):
    """Oracle move with probability 0.4, otherwise a uniformly random move."""

    def action_probs(self, obs):
        self.calls += 1
        p = np.zeros((len(obs), 15))
        p[:, [1, 3, 5, 7]] = 0.15
        p[np.arange(len(obs)), self.moves(obs)] += 0.4
        return p / p.sum(1, keepdims=True)


def _cfg(**kw):
    base = dict(agent="fake", sizes=(5, 7), placements=("top-left", "top-right", "every-cell"), mazes=3,
                max_steps=30, batch_size=16)
    base.update(kw)
    return SweepConfig(**base)


def _read(path):
    return path.read_text()


def test_oracle_sweep_known_answers_and_outputs(tmp_path):
    res = run_sweep(_cfg(), tmp_path, policy=Oracle())
    for f in ("config.json", "episodes.csv", "summary.csv", "summary.json", "every_cell.csv",
              "every_cell_5.png", "every_cell_7.png", "phase_transition.png", "examples.png"):
        assert (tmp_path / f).is_file(), f
    units = {(u["size"], u["placement"]): u for u in res["units"]}
    assert set(units) == {(s, p) for s in (5, 7) for p in ("top-left", "top-right", "every-cell")}
    for (_s, _p), u in units.items():
        assert u["cheese_rate"] == 1.0 and u["cheese_k"] == u["n"]
        assert u["cheese_lo"] == pytest.approx(wilson_ci(u["n"], u["n"])[0])
    assert units[(5, "top-left")]["n"] == 3
    # every-cell: 3 mazes x (open cells - the mouse's): a 5-maze has 17 open cells, a 7-maze 31
    assert units[(5, "every-cell")]["n"] == 3 * 16 and units[(7, "every-cell")]["n"] == 3 * 30
    assert units[(7, "top-right")]["in_training_region"] and not units[(7, "top-left")]["in_training_region"]
    assert units[(5, "top-left")]["in_training_region"]  # the whole 5-maze lies in the 5x5 region
    cells = _read(tmp_path / "every_cell.csv").strip().splitlines()
    assert cells[0] == "size,row,col,n,k,rate,lo,hi"
    for size in (5, 7):
        rows = [c.split(",") for c in cells[1:] if c.startswith(f"{size},")]
        assert sum(int(r[3]) for r in rows) == units[(size, "every-cell")]["n"]
        assert size * size // 2 < len(rows) < size * size  # open cells of several mazes, never the start
    episodes = _read(tmp_path / "episodes.csv").strip().splitlines()
    assert len(episodes) == 1 + sum(u["n"] for u in res["units"])
    summary = json.loads(_read(tmp_path / "summary.json"))
    assert summary["config"]["level_seed_base"] == SWEEP_SEED_BASE


def test_noop_policy_never_gets_cheese(tmp_path):
    class Still:
        obs = "grid"

        def act(self, obs, deterministic=False, rng=None):
            return np.full(len(obs), ACTION_NOOP)

    res = run_sweep(_cfg(placements=("bottom-right",), sizes=(9,)), tmp_path, policy=Still())
    (u,) = res["units"]
    assert u["cheese_k"] == 0 and u["neither_rate"] == 1.0 and u["mean_steps"] == 30


def test_determinism_and_resume_match_a_fresh_run(tmp_path):
    cfg = _cfg(placements=("top-left", "region:3", "every-cell"))
    fresh = tmp_path / "fresh"
    run_sweep(cfg, fresh, policy=Noisy())
    again = tmp_path / "again"
    run_sweep(cfg, again, policy=Noisy())
    assert _read(fresh / "episodes.csv") == _read(again / "episodes.csv")
    # simulate a run killed part-way: some units never written, one with its CSV but no JSON
    partial = tmp_path / "partial"
    shutil.copytree(fresh, partial)
    units = sorted((partial / "units").glob("*.json"))
    for j in units[:3]:
        j.unlink()
        j.with_suffix(".csv").unlink()
    units[3].unlink()
    for f in ("episodes.csv", "summary.csv", "summary.json"):
        (partial / f).unlink()
    pol = Noisy()
    run_sweep(cfg, partial, policy=pol)
    assert pol.calls > 0
    for f in ("episodes.csv", "summary.csv", "every_cell.csv"):
        assert _read(partial / f) == _read(fresh / f), f
    # a finished sweep re-runs without playing anything
    pol2 = Noisy()
    run_sweep(cfg, partial, policy=pol2)
    assert pol2.calls == 0
    # sampling matters: another seed gives other episodes
    other = tmp_path / "other"
    run_sweep(_cfg(seed=1, sizes=(7,), placements=("top-left",)), other, policy=Noisy())
    assert _read(other / "units" / "7_top-left.csv") != _read(fresh / "units" / "7_top-left.csv")


def test_mismatched_args_in_existing_dir_is_an_error(tmp_path):
    run_sweep(_cfg(placements=("top-left",), sizes=(5,)), tmp_path, policy=Oracle())
    with pytest.raises(ValueError, match="mazes"):
        run_sweep(_cfg(placements=("top-left",), sizes=(5,), mazes=4), tmp_path, policy=Oracle())
    with pytest.raises(ValueError, match="agent_fingerprint"):
        run_sweep(_cfg(placements=("top-left",), sizes=(5,)), tmp_path, policy=Noisy())
    # progress does not change results, so it may differ
    run_sweep(_cfg(placements=("top-left",), sizes=(5,), progress=True), tmp_path, policy=Oracle())


def test_config_validation_and_seeds():
    s = level_seeds(2, 5)
    assert s[0] == SWEEP_SEED_BASE + 200_000 and len(s) == 5 and s[0] > 1_000_000_000 + 10**8
    with pytest.raises(ValueError, match="seed"):
        level_seeds(-1, 5)
    with pytest.raises(ValueError, match="seed must be an integer in"):
        level_seeds(20_000, 5)
    with pytest.raises(ValueError, match="mazes"):
        SweepConfig(agent="x", mazes=0)
    with pytest.raises(ValueError, match=r"sizes entry must be an odd integer in \[3, 25\], got 4"):
        parse_sizes("3,4")
    with pytest.raises(ValueError, match="unknown cheese placement"):
        parse_placements("top-left,middle")
    with pytest.raises(ValueError, match="twice"):
        parse_placements("top-left,top-left")


def test_bools_are_not_integers():
    # True used to pass as seed 1 / train_region 1
    with pytest.raises(ValueError, match="seed must be an integer in .*got True"):
        level_seeds(True, 5)
    with pytest.raises(ValueError, match="seed must be an integer in .*got True"):
        SweepConfig(agent="x", seed=True)
    with pytest.raises(ValueError, match="train_region must be None or an integer >= 1, got True"):
        SweepConfig(agent="x", train_region=True)
    cfg = SweepConfig(agent="x", max_steps=np.int64(7))
    assert cfg.max_steps == 7 and type(cfg.max_steps) is int
    assert parse_sizes("all") == tuple(range(3, 26, 2))
