"""scripts/steer.py apply: a patch file exported by the app reruns from the command line."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from pyrun import run_python

ROOT = Path(__file__).resolve().parents[2]


def _run(args):
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    return run_python(["scripts/steer.py", *args], cwd=ROOT, capture_output=True, text=True,
                      env=env, timeout=300)


def test_apply_reruns_the_apps_export(tmp_path):
    from fastapi.testclient import TestClient

    import agents
    from agents.model import ImpalaModel
    from agents.policy import Policy
    from steering.app import AgentStore, create_app

    ckpt = agents.save(Policy(ImpalaModel(obs_size=25, channels=(4, 8, 8)), obs="grid"), tmp_path / "a" / "model.pt")
    maze = {"seed": 2, "size": 5, "cheese": "none"}
    with TestClient(create_app(AgentStore(zoo=False, paths={"a": ckpt}))) as c:
        sid = c.post("/api/session").json()["session"]
        c.put(f"/api/session/{sid}/state", json={"agent": "a", "maze": maze})
        r = c.post(f"/api/session/{sid}/retarget", json={"cell": [10, 10], "channels": [1, 2], "magnitude": 3.0})
        assert r.status_code == 200, r.text
        (tmp_path / "patches.json").write_text(json.dumps(c.get(f"/api/session/{sid}/patches").json()))
        app_rate = c.post(f"/api/session/{sid}/rollouts", json={"n": 6, "max_steps": 12}).json()
    out = tmp_path / "run"
    r = _run(["apply", "--agent", str(ckpt), "--patches", str(tmp_path / "patches.json"), "--level-seed", "2",
              "--size", "5", "--cheese", "none", "--target", "10,10", "--mazes", "6", "--max-steps", "12",
              "--out", str(out), "--json", "--no-progress", "--torch-threads", "1"])
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    patched = next(x for x in summary["rows"] if x["variant"] == "patched")
    # the same numbers as the app gave
    assert (patched["k"], patched["n"]) == (app_rate["k"], app_rate["n"])
    assert patched["fraction_layer"] == pytest.approx(2 / (8 * 7 * 7))
    rows = list(csv.DictReader(open(out / "rows.csv")))
    assert [x["variant"] for x in rows] == ["unpatched", "patched"]
    bad = _run(["apply", "--agent", str(ckpt), "--patches", str(tmp_path / "patches.json"), "--mazes", "500",
                "--out", str(tmp_path / "bad"), "--no-progress"])
    assert bad.returncode == 2 and "200" in bad.stderr
