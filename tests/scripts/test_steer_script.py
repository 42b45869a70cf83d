"""Subprocess smoke tests of scripts/steer.py on an untrained ImpalaModel checkpoint (tiny N)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "scripts/steer.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    import agents
    from agents.model import ImpalaModel
    from agents.policy import Policy

    d = tmp_path_factory.mktemp("agent")
    return str(agents.save(Policy(ImpalaModel(obs_size=25), obs="grid"), d / "model.pt"))


def test_help():
    r = _run(["--help"])
    assert r.returncode == 0 and "retarget" in r.stdout and "discover" in r.stdout
    r = _run(["retarget", "--help"])
    assert r.returncode == 0 and "--magnitudes" in r.stdout and "--targets" in r.stdout


def test_retarget_smoke_and_resume(ckpt, tmp_path):
    out = tmp_path / "run"
    args = ["retarget", "--agent", ckpt, "--targets", "top-left,bottom-right", "--sizes", "5", "--methods",
            "single,discovered", "--magnitudes", "1,5", "--mazes", "2", "--discover-mazes", "6", "--max-steps",
            "15", "--out", str(out), "--json", "--no-progress", "--torch-threads", "1"]
    r = _run(args)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["command"] == "retarget" and Path(summary["out"]) == out
    rows = list(csv.DictReader(open(out / "rows.csv")))
    assert {r["control"] for r in rows} >= {"", "baseline", "wrong-location", "random-vector"}
    assert {r["magnitude"] for r in rows if r["control"] == ""} == {"1.0", "5.0"}
    for png in ("success_vs_magnitude.png", "target_heatmap_single.png"):
        assert (out / png).stat().st_size > 1000
    before = (out / "rows.csv").read_text()
    r2 = _run(args)  # resume: every unit is done, same result
    assert r2.returncode == 0 and (out / "rows.csv").read_text() == before
    r3 = _run([*args[:-6], "--mazes", "3", "--out", str(out)])
    assert r3.returncode == 2 and "other arguments" in r3.stderr


def test_vector_and_discover_smoke(ckpt, tmp_path):
    r = _run(["vector", "--agent", ckpt, "--kind", "top-right", "--coeffs", "1", "--sizes", "5", "--mazes", "3",
              "--max-steps", "15", "--out", str(tmp_path / "v"), "--json", "--no-progress", "--torch-threads", "1"])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "v" / "top-right_vector.png").exists()
    r = _run(["discover", "--agent", ckpt, "--mazes", "6", "--validate-top", "1", "--validate-mazes", "2",
              "--max-steps", "10", "--out", str(tmp_path / "d"), "--json", "--no-progress", "--torch-threads", "1"])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(s["top"]) == 10 and (tmp_path / "d" / "ranking.json").exists()


def test_bad_args(ckpt, tmp_path):
    r = _run(["retarget", "--agent", ckpt, "--methods", "magic", "--out", str(tmp_path / "x"), "--no-progress"])
    assert r.returncode == 2 and "unknown method 'magic'" in r.stderr
    r = _run(["vector", "--agent", ckpt, "--kind", "top-right", "--sizes", "25", "--out", str(tmp_path / "y")])
    assert r.returncode == 2 and "needs maze size < 25" in r.stderr
    r = _run(["retarget", "--agent", ckpt, "--mazes", "0"])
    assert r.returncode == 2 and "--mazes must be >= 1" in r.stderr
