"""Subprocess smoke tests of scripts/steer.py on an untrained ImpalaModel checkpoint (tiny N)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest


@pytest.fixture
def run(run_script):
    return lambda args: run_script("scripts/steer.py", args)


@pytest.fixture(scope="module")
def ckpt(save_agent):
    return save_agent()


def test_help(run):
    r = run(["--help"])
    assert r.returncode == 0 and "retarget" in r.stdout and "discover" in r.stdout
    r = run(["retarget", "--help"])
    assert r.returncode == 0 and "--magnitudes" in r.stdout and "--targets" in r.stdout


def test_retarget_smoke_and_resume(run, ckpt, tmp_path):
    out = tmp_path / "run"
    agent = tmp_path / "agent.pt"
    shutil.copy(ckpt, agent)
    ckpt = str(agent)
    opts = (
        "retarget --targets top-left,bottom-right --sizes 5 --methods single,discovered --magnitudes 1,5"
        " --discover-mazes 6 --max-steps 15 --json --no-progress --torch-threads 1"
    )
    args = [*opts.split(), "--agent", ckpt, "--out", str(out)]
    r = run([*args, "--mazes", "2"])
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["command"] == "retarget" and Path(summary["out"]) == out
    rows = list(csv.DictReader(open(out / "rows.csv")))
    assert {r["control"] for r in rows} >= {"", "baseline", "wrong-location", "random-vector"}
    assert {r["magnitude"] for r in rows if r["control"] == ""} == {"1.0", "5.0"}
    for png in ("success_vs_magnitude.png", "target_heatmap_single.png"):
        assert (out / png).stat().st_size > 1000
    before = (out / "rows.csv").read_text()
    r2 = run([*args, "--mazes", "2"])  # resume: every unit is done, same result
    assert r2.returncode == 0 and (out / "rows.csv").read_text() == before
    r3 = run([*args, "--mazes", "3"])
    assert r3.returncode == 2 and "other arguments" in r3.stderr
    # the agent retrained under the same path: its finished units are not reused, the run is refused
    import torch

    import agents

    pol = agents.load(ckpt)
    with torch.no_grad():
        next(pol.model.parameters()).add_(0.01)
    agents.save(pol, agent)
    r4 = run([*args, "--mazes", "2"])
    assert r4.returncode == 2 and "agent_fingerprint" in r4.stderr, r4.stderr
    assert (out / "rows.csv").read_text() == before


def test_vector_and_discover_smoke(run, ckpt, tmp_path):
    opts = "vector --kind top-right --coeffs 1 --sizes 5 --mazes 3 --max-steps 15"
    common = ["--json", "--no-progress", "--torch-threads", "1", "--agent", ckpt]
    r = run([*opts.split(), *common, "--out", str(tmp_path / "v")])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "v" / "top-right_vector.png").exists()
    opts = "discover --mazes 6 --validate-top 1 --validate-mazes 2 --max-steps 10"
    r = run([*opts.split(), *common, "--out", str(tmp_path / "d")])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(s["top"]) == 10 and (tmp_path / "d" / "ranking.json").exists()


def test_bad_args(run, ckpt, tmp_path):
    opts = "retarget --methods magic --no-progress".split()
    r = run([*opts, "--agent", ckpt, "--out", str(tmp_path / "x")])
    assert r.returncode == 2 and "unknown method 'magic'" in r.stderr
    opts = "vector --kind top-right --sizes 25".split()
    r = run([*opts, "--agent", ckpt, "--out", str(tmp_path / "y")])
    assert r.returncode == 2 and "needs maze size < 25" in r.stderr
    r = run(["retarget", "--agent", ckpt, "--mazes", "0"])
    assert r.returncode == 2 and "--mazes must be an integer >= 1, got 0" in r.stderr
