"""Subprocess smoke tests of ``scripts/steer.py frontier`` on an untrained checkpoint (tiny N)."""

from __future__ import annotations

import csv
import json

import pytest


@pytest.fixture
def run(run_script):
    return lambda args: run_script("scripts/steer.py", args)


@pytest.fixture(scope="module")
def ckpt(save_agent):
    return save_agent()


FAST = ("frontier --size 5 --mazes 2 --train-mazes 2 --max-steps 12 --steps 3 --discover-mazes 6"
        " --json --no-progress --torch-threads 1").split()


def test_frontier_smoke_and_resume(run, ckpt, tmp_path):
    out = tmp_path / "f"
    args = [*FAST, "--methods", "clamp-single,per-maze,shared", "--magnitudes", "5", "--ks", "2",
            "--shared-ks", "3", "--agent", ckpt, "--out", str(out)]
    r = run(args)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["command"] == "frontier" and s["units"] == 3
    rows = list(csv.DictReader(open(out / "frontier.csv")))
    assert {r["control"] for r in rows} >= {"", "baseline", "random-positions", "random-dense", "opposite",
                                             "other-maze", "retention"}
    main = {(r["method"], r["target"]): r for r in rows if r["control"] == ""}
    assert float(main[("per-maze", "top-left")]["modified"]) <= 2
    assert float(main[("shared", "bottom-right")]["modified"]) <= 3
    for r in rows:
        if r["control"] not in ("retention",):
            k, n = int(r["arrival_k"]), int(r["arrival_n"])
            assert n == 2 and k + int(r["cheese_first_k"]) + int(r["neither_k"]) == n
    assert (out / "frontier.png").stat().st_size > 1000 and (out / "frontier.json").exists()
    for t, rep in s["reproduced"].items():
        assert rep["arrival_k_plain_rollout"] == rep["arrival_k_frontier"]
        assert (out / f"best_patch_{t}.json").exists()
    before = (out / "frontier.csv").read_text()
    r2 = run(args)  # resume: every unit is done
    assert r2.returncode == 0 and (out / "frontier.csv").read_text() == before
    r3 = run([*args[:-2], "--out", str(out), "--steps", "4"])
    assert r3.returncode == 2 and "other arguments" in r3.stderr


def test_frontier_counterfactual_and_vector_methods(run, ckpt, tmp_path):
    """The new methods from the CLI: their knob flags, rows with controls, patch files that
    load back (a counterfactual patch as its recipe, no activation arrays)."""
    from steering.patches import Counterfactual, load_patches

    out = tmp_path / "cf"
    r = run([*FAST, "--methods", "cf-target,cf-waypoint,vec-compose", "--cf-channels", "1", "--cf-radius", "1",
             "--coeffs=-1", "--agent", ckpt, "--out", str(out)])
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(out / "frontier.csv")))
    ctl = {(r["method"], r["control"]) for r in rows}
    assert {("cf-target", c) for c in ("", "random-positions", "random-dense", "opposite", "retention")} <= ctl
    assert {("cf-waypoint", ""), ("cf-waypoint", "opposite"), ("vec-compose", ""), ("vec-compose", "random-dense"),
            ("vec-compose", "retention")} <= ctl
    assert ("vec-compose", "opposite") not in ctl  # the same edit for every target
    main = [r for r in rows if r["control"] == "" and r["method"].startswith("cf")]
    assert all(0 < float(r["modified"]) <= 18 for r in main)  # 1 channel x at most 2 3x3 blocks of cells
    (p,) = load_patches(out / "patches" / "cf-waypoint_1_top-left.json")
    assert isinstance(p, Counterfactual) and p.mode == "waypoint" and p.radius == 1 and len(p.channels) == 1
    assert not (out / "patches" / "cf-waypoint_1_top-left_arrays").exists()
    cfg = json.loads((out / "config.json").read_text())["config"]
    assert cfg["cf_radius"] == 1 and cfg["knobs"]["vec-compose"] == [-1.0]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--ks", "0"], "knob values of 'per-maze' must be integers >= 1, got 0"),
        (["--ks", "5000"], "allowed k per layer: [1, 1568]"),
        (["--layer", "embedder.nope"], "unknown layer 'embedder.nope'"),
        (["--methods", ","], "the method list is empty; allowed methods"),
        (["--methods", "magic"], "unknown method 'magic'"),
        (["--magnitudes", "nan"], "must be finite numbers, got nan"),
        (["--magnitudes", "inf"], "must be finite numbers, got inf"),
        (["--targets", "middle"], "unknown target 'middle'"),
        (["--size", "4"], "maze size must be an odd integer in [3, 25], got 4"),
        (["--radius", "-1"], "radius must be an integer >= 0"),
        (["--methods", "cf-target", "--cf-channels", "0"], "knob values of 'cf-target' must be integers >= 1, got 0"),
        (["--methods", "cf-waypoint", "--cf-channels", "999"], "cf-waypoint n=999 out of range [1, "),
        (["--cf-radius", "-2"], "--cf-radius must be an integer >= 0, got -2"),
        (["--methods", "vec-cheese", "--coeffs=0"], "knob values of 'vec-cheese' are coefficients and must be nonzero"),
        (["--coeffs", "nan"], "--coeffs: expected comma-separated finite numbers"),
    ],
)
def test_frontier_bad_input(run, ckpt, tmp_path, extra, message):
    out = tmp_path / "bad"
    r = run(["frontier", "--agent", ckpt, "--out", str(out), "--no-progress", *extra])
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not out.exists()  # nothing written


def test_distance_smoke(run, ckpt, tmp_path):
    out = tmp_path / "d"
    r = run(["distance", "--agent", ckpt, "--out", str(out), "--sizes", "5,7", "--methods", "per-maze",
             "--knobs", "2", "--mazes", "3", "--max-steps", "10", "--steps", "3", "--json", "--no-progress"])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert {row["size"] for row in s["rows"]} == {5, 7}
    assert (out / "distance_curve.png").exists() and (out / "distance.csv").exists()
    r = run(["distance", "--agent", ckpt, "--out", str(tmp_path / "e"), "--methods", "per-maze,shared",
             "--knobs", "2", "--no-progress"])
    assert r.returncode == 2 and "--knobs needs one value per method (2), got 1" in r.stderr
    assert not (tmp_path / "e").exists()
