"""Subprocess smoke tests of scripts/sweep.py (sweep and stats), scripts/vector_field.py and
scripts/bench_sweep.py on a tiny untrained checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from pyrun import run_python

ROOT = Path(__file__).resolve().parents[2]


def _run(args, timeout=240) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return run_python(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def agent(tmp_path_factory) -> str:
    import torch

    from agents.checkpoint import save
    from agents.model import ImpalaModel

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("agent") / "tiny.pt"
    save(
        ImpalaModel(channels=(4, 8, 8), fc_dim=16, obs_size=25),
        path,
        obs="grid",
        metadata={"cheese_region": 5},
    )
    return str(path)


def test_sweep_cli_json_resume_and_mismatch(tmp_path, agent):
    out = tmp_path / "sweep"
    args = [
        "scripts/sweep.py",
        "--agent",
        agent,
        "--sizes",
        "5,7",
        "--placements",
        "top-left,region:3,every-cell",
        "--mazes",
        "2",
        "--seed",
        "1",
        "--out",
        str(out),
        "--max-steps",
        "20",
        "--json",
        "--no-progress",
    ]
    r = _run(args)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(res["units"]) == 6 and "phase_transition.png" in res["files"]
    assert all(
        0.0 <= u["cheese_rate"] <= 1.0 and u["cheese_lo"] <= u["cheese_rate"] <= u["cheese_hi"]
        for u in res["units"]
    )
    first = (out / "episodes.csv").read_text()
    r2 = _run(args)
    assert r2.returncode == 0, r2.stderr
    assert (out / "episodes.csv").read_text() == first
    bad = _run(
        [
            "scripts/sweep.py",
            "--agent",
            agent,
            "--sizes",
            "5,7",
            "--placements",
            "top-left,region:3,every-cell",
            "--mazes",
            "3",
            "--seed",
            "1",
            "--out",
            str(out),
            "--max-steps",
            "20",
            "--no-progress",
        ]
    )
    assert bad.returncode == 2 and "other arguments" in bad.stderr and "mazes" in bad.stderr
    badsize = _run(
        ["scripts/sweep.py", "--agent", agent, "--sizes", "4", "--out", str(tmp_path / "x")]
    )
    assert badsize.returncode == 2 and "sizes entry must be an odd integer in [3, 25], got 4" in badsize.stderr
    assert _run(["scripts/sweep.py", "--help"]).returncode == 0


def test_stats_vector_field_and_bench_cli(tmp_path, agent):
    r = _run(
        [
            "scripts/sweep.py",
            "stats",
            "--agent",
            agent,
            "--mazes",
            "60",
            "--sizes",
            "3,5,7",
            "--out",
            str(tmp_path / "stats"),
            "--max-steps",
            "30",
            "--n-boot",
            "5",
            "--json",
            "--no-progress",
        ]
    )
    if r.returncode == 2:  # an untrained net may never (or always) reach the cheese: a clear error
        assert "same outcome" in r.stderr
    else:
        assert r.returncode == 0, r.stderr
        res = json.loads(r.stdout.strip().splitlines()[-1])
        assert 0 <= res["accuracy"] <= 1 and res["n"] == 60 and len(res["coefficients"]) == 11
        assert (tmp_path / "stats" / "behaviour_coefficients.png").is_file()
    r = _run(
        [
            "scripts/vector_field.py",
            "--agent",
            agent,
            "--size",
            "7",
            "--cheese",
            "top-left",
            "--out",
            str(tmp_path / "vf"),
            "--compare-no-cheese",
            "--json",
        ]
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert (
        res["maze_size"] == 7 and res["cells"] == 30
    )  # 31 open cells of a 7-maze minus the cheese's
    assert (tmp_path / "vf" / "vector_field_compare.png").is_file()
    r = _run(
        [
            "scripts/bench_sweep.py",
            "--agent",
            agent,
            "--size",
            "5",
            "--mazes",
            "8",
            "--batch-size",
            "4",
            "--max-steps",
            "10",
            "--json",
        ]
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert (
        res["episode_steps"] > 0 and res["sweep_steps_per_s"] > 0 and res["forward_obs_per_s"] > 0
    )
    assert 0 < res["forward_share_of_rollout_wall"] <= 1
