"""Subprocess smoke tests of scripts/probe.py on an untrained ImpalaModel checkpoint (tiny N)."""

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
    return subprocess.run([sys.executable, "scripts/probe.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    import agents
    from agents.model import ImpalaModel
    from agents.policy import Policy

    d = tmp_path_factory.mktemp("agent")
    return str(agents.save(Policy(ImpalaModel(obs_size=25, channels=(4, 8, 8)), obs="grid"), d / "model.pt"))


def test_help():
    r = _run(["--help"])
    assert r.returncode == 0 and "probe" in r.stdout and "prune" in r.stdout
    r = _run(["prune", "--help"])
    assert r.returncode == 0 and "--ks" in r.stdout and "--modes" in r.stdout


def test_probe_smoke(ckpt, tmp_path):
    out = tmp_path / "p"
    r = _run(["probe", "--agent", ckpt, "--mazes", "20", "--sizes", "3,5", "--max-steps", "5", "--out", str(out),
              "--json", "--no-progress"])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["command"] == "probe" and Path(s["out"]) == out and f"run directory: {out}" in r.stdout
    rows = list(csv.DictReader(open(out / "rows.csv")))
    assert {r["control"] for r in rows} == {"", "shuffled", "random-init"}
    assert {r["probe"] for r in rows} == {"cheese_cell", "cheese_rowcol", "open_cell", "will_find_cheese"}
    assert (out / "probes.png").stat().st_size > 1000 and json.loads((out / "summary.json").read_text())["mazes"] == 20


def test_prune_smoke_and_errors(ckpt, tmp_path):
    out = tmp_path / "q"
    r = _run(["prune", "--agent", ckpt, "--mazes", "4", "--std-mazes", "4", "--ks", "0,2", "--in-sizes", "3",
              "--off-sizes", "5", "--max-steps", "5", "--out", str(out), "--json", "--no-progress"])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["channels"] == 8 and len(s["channel_std"]) == 8
    rows = list(csv.DictReader(open(out / "rows.csv")))
    assert len(rows) == 2 * (1 + 2 * 2) and {r["frac_modified"] for r in rows} == {"0.0", "0.25"}
    assert (out / "prune.png").stat().st_size > 1000
    bad = _run(["prune", "--agent", ckpt, "--ks", "99", "--mazes", "2", "--std-mazes", "2", "--out", str(tmp_path / "b")])
    assert bad.returncode == 2 and "k must be in [0, 8]" in bad.stderr
    bad = _run(["prune", "--agent", ckpt, "--modes", "median", "--out", str(tmp_path / "c")])
    assert bad.returncode == 2 and "median" in bad.stderr
