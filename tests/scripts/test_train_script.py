"""Subprocess smoke tests of scripts/train.py, zoo_snapshot.py and bench_train.py."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyrun import run_python

ROOT = Path(__file__).resolve().parents[2]
TINY = [
    "--n-envs",
    "8",
    "--n-steps",
    "64",
    "--batch-size",
    "256",
    "--n-epochs",
    "1",
    "--torch-threads",
    "1",
    "--no-progress",
    "--no-tensorboard",
]


def _run(args, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return run_python(
        args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=240, **kw
    )


def _steps(run: Path) -> list[int]:
    with open(run / "train_log.csv", newline="") as f:
        return [int(r["steps"]) for r in csv.DictReader(f)]


def test_train_help_lists_fields():
    r = _run(["scripts/train.py", "--help"])
    assert r.returncode == 0
    for flag in (
        "--resume",
        "--config",
        "--learning-rate",
        "--cheese-region",
        "--checkpoint-minutes",
        "Discount factor",
    ):
        assert flag in r.stdout


def test_train_rejects_bad_values(tmp_path):
    r = _run(["scripts/train.py", "--run-dir", str(tmp_path / "x"), "--gamma", "2"])
    assert r.returncode == 2 and "gamma must be in (0, 1], got 2.0" in r.stderr
    assert not (tmp_path / "x").exists()


def test_train_kill_resume_card_and_snapshot(tmp_path):
    run = tmp_path / "run"
    # 1. a run that would go on for long; kill -9 it once two checkpoints exist
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "scripts/train.py",
            "--run-dir",
            str(run),
            "--total-steps",
            "1000000",
            "--checkpoint-steps",
            "512",
            "--keep-checkpoints",
            "2",
            *TINY,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 120
        while (
            time.time() < deadline
            and len(
                list((run / "checkpoints").glob("ckpt_*.pt"))
                if (run / "checkpoints").is_dir()
                else []
            )
            < 2
        ):
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    ckpts = sorted((run / "checkpoints").glob("ckpt_*.pt"))
    assert len(ckpts) == 2 and not list((run / "checkpoints").glob(".*tmp"))
    last = int(ckpts[-1].stem.split("_")[1])
    assert last >= 1024 and last % 512 == 0
    # 2. resume up to last + 1024 steps; evaluation on 30 held-out levels
    target = last + 1024
    r = _run(
        [
            "scripts/train.py",
            "--resume",
            str(run),
            "--total-steps",
            str(target),
            "--eval-levels",
            "30",
        ]
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == f"run directory: {run}"
    steps = _steps(run)
    assert steps == list(
        range(512, target + 1, 512)
    )  # rows past the checkpoint were cut, then continued
    card = json.loads((run / "card.json").read_text())
    assert card["steps"] == target
    ev = card["evaluation"]
    assert (
        ev["n_levels"] == 30 and ev["level_seeds"][0] == 1_000_000_000
    )  # held out: after the training range
    assert 0.0 <= ev["ci95"][0] <= ev["cheese_rate"] <= ev["ci95"][1] <= 1.0
    assert sum(v["n"] for v in ev["by_maze_size"].values()) == 30
    assert card["machine"]["cpu_count"] and "git_commit" in card
    # 3. publish it to a zoo directory and load it back by path
    zoo = tmp_path / "zoo"
    r = _run(
        [
            "scripts/zoo_snapshot.py",
            str(run),
            "tiny-agent",
            "--zoo-dir",
            str(zoo),
            "--eval-levels",
            "10",
            "--largest-levels",
            "6",
            "--notes",
            "tiny smoke agent",
        ]
    )
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (zoo / "tiny-agent").iterdir()) == [
        "card.json",
        "learning_curve.png",
        "model.pt",
        "train_log.csv",
    ]
    zcard = json.loads((zoo / "tiny-agent" / "card.json").read_text())
    assert zcard["steps"] == target and zcard["evaluation"]["n_levels"] == 10
    assert zcard["notes"] == "tiny smoke agent"
    # the largest maze (25x25 in hard mode) gets held-out levels of its own, after the main ones
    big = zcard["evaluation"]["largest_maze"]
    assert (big["size"], big["n_levels"], big["level_seeds"]) == (25, 6, [1_000_000_010, 1_000_000_015])
    assert big["action_mode"] == "sampled" and big["greedy"]["action_mode"] == "greedy"
    assert 0.0 <= big["ci95"][0] <= big["cheese_rate"] <= big["ci95"][1] <= 1.0
    assert json.loads(r.stdout.strip().splitlines()[-2])["largest_maze"]["n_levels"] == 6
    from agents.model import fast_precision

    assert zcard["evaluation"]["fast_precision"] == fast_precision()  # evaluated with `fast` here
    # the machine is the one that trained it, stored in the checkpoint
    assert zcard["machine"]["torch_threads"] == 1 and zcard["machine"]["device"] == "cpu"
    assert [m["threshold"] for m in zcard["learning_curve"]["milestones"]] == [0.5, 0.8, 0.9]
    import agents

    pol = agents.load(str(zoo / "tiny-agent" / "model.pt"))
    assert pol.obs == "grid" and pol.metadata["steps"] == target


def test_zoo_snapshot_errors(tmp_path):
    r = _run(["scripts/zoo_snapshot.py", str(tmp_path), "x", "--zoo-dir", str(tmp_path / "zoo")])
    assert r.returncode == 2 and "no checkpoints" in r.stderr
    r = _run(["scripts/zoo_snapshot.py", str(tmp_path), "x", "--largest-levels", "-1"])
    assert r.returncode == 2 and "--largest-levels must be >= 0, got -1" in r.stderr


@pytest.mark.slow
def test_bench_train_json():
    r = _run(
        [
            "scripts/bench_train.py",
            "--json",
            "--iterations",
            "2",
            "--n-envs",
            "4",
            "--n-steps",
            "16",
            "--threads",
            "1",
        ]
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    for name in ("grid_scale1", "rgb64_scale1"):
        assert out[name]["env_steps_per_s"] > 0 and out[name]["n_envs"] == 4
    assert out["machine"]["cpu_count"] >= 1


def test_bench_train_config(tmp_path):
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        "obs: grid\nmaze_size: '5'\nn_envs: 4\nn_steps: 16\nbatch_size: 32\nn_epochs: 1\n"
        "action_set: moves\ntotal_steps: 100000000\neval_levels: 1000\n"
    )
    args = ["scripts/bench_train.py", "--json", "--iterations", "2", "--threads", "1"]
    r = _run([*args, "--config", str(cfg)])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    res = out["config:tiny"]
    assert res["env_steps_per_s"] > 0 and len(res["per_iteration_steps_per_s"]) == 2
    assert (res["n_envs"], res["batch_size"], res["n_epochs"]) == (4, 32, 1)
    assert res["fast_bf16_channels_last"] is True  # the config's default
    r = _run([*args, "--config", str(tmp_path / "missing.yaml")])
    assert r.returncode == 2 and "config file not found" in r.stderr
    r = _run([*args, "--config", str(cfg), "--setups", "grid_scale1"])
    assert r.returncode == 2 and "either --config or --setups" in r.stderr
