"""Subprocess smoke tests of scripts/evaluate.py, sweep.py --agents and train_many.py (no Ray:
the Ray paths are tested in tests/agents/test_cluster.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def test_evaluate_modes_side_by_side(tmp_path, run_script, save_agent):
    agent = save_agent(channels=(4, 8, 8), fc_dim=16)
    out = tmp_path / "ev"
    r = run_script("scripts/evaluate.py", ["--agent", agent, "--levels", "6", "--sizes", "5,25",
                                            "--modes", "sampled,greedy,greedy-untried",
                                            "--max-steps", "30", "--out", str(out), "--json"])
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert list(summary["modes"]) == ["sampled", "greedy", "greedy-untried"]
    ev = json.loads((out / "evaluation.json").read_text())
    assert ev["greedy-untried"]["action_mode"] == "greedy-untried" and ev["greedy"]["deterministic"]
    with open(out / "by_size.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(x["maze_size"]) for x in rows] == [5, 25] and int(rows[0]["greedy_n"]) == 3
    bad = run_script("scripts/evaluate.py", ["--agent", agent, "--modes", "sampled,argmax",
                                              "--out", str(tmp_path / "bad")])
    assert bad.returncode == 2 and "argmax" in bad.stderr and not (tmp_path / "bad").exists()


def test_sweep_agents_one_table_and_resume(tmp_path, run_script, save_agent):
    import shutil

    a, b = save_agent(channels=(4, 8, 8), fc_dim=16), save_agent(channels=(4, 8, 8), fc_dim=16)
    labels = [Path(a).parent.name, Path(b).parent.name]  # agents named by their directories
    out = tmp_path / "sw"
    args = ["--agents", f"{a},{b}", "--sizes", "5", "--placements", "top-left,top-right",
            "--mazes", "4", "--max-steps", "20", "--no-progress", "--out", str(out), "--json"]
    r = run_script("scripts/sweep.py", args)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert [u["agent"] for u in summary["units"]] == [labels[0]] * 2 + [labels[1]] * 2
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:4] == ["agent", "train_region", "size", "placement"] and len(rows) == 4
    assert (out / "phase_transition_agents.png").is_file()
    assert (out / "agents" / labels[1] / "units" / "5_top-right.json").is_file()
    before = (out / "summary.csv").read_bytes()
    assert run_script("scripts/sweep.py", args).returncode == 0  # resumes: nothing to run
    assert (out / "summary.csv").read_bytes() == before
    for d in ("one", "two"):
        (tmp_path / d / "m").mkdir(parents=True)
        shutil.copy(a, tmp_path / d / "m" / "model.pt")
    clash = run_script("scripts/sweep.py", ["--agents", str(tmp_path / "*" / "m" / "model.pt"),
                                             "--out", str(tmp_path / "clash")])
    assert clash.returncode == 2 and "same label" in clash.stderr


def test_train_many_rejects_bad_configs_before_training(tmp_path, run_script):
    f = tmp_path / "bad.yaml"
    f.write_text("n_envs: 0\n")
    r = run_script("scripts/train_many.py", ["--configs", str(f), "--runs-root", str(tmp_path)])
    assert r.returncode == 2 and "n_envs" in r.stderr and not (tmp_path / "bad").exists()
    r = run_script("scripts/train_many.py", ["--configs", str(tmp_path / "missing.yaml")])
    assert r.returncode == 2 and "not found" in r.stderr
