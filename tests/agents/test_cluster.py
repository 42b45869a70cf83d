"""Ray scale-out (agents.cluster, agents.eval.sweep_agents, agents.train.many): results identical to
local runs, a killed worker's task retried, zoo training to cards. One local Ray (2 CPUs) for
the whole module."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import ray
import torch

sys.path.insert(0, str(Path(__file__).parent))
import _cluster_kill  # noqa: E402

from agents.checkpoint import load, save  # noqa: E402
from agents.cluster import map_units  # noqa: E402
from agents.eval.sweep import SweepConfig  # noqa: E402
from agents.eval.sweep_agents import resolve_agents, run_agent_sweeps  # noqa: E402
from agents.model import ImpalaModel  # noqa: E402
from agents.policy import Policy  # noqa: E402
from agents.train.many import plan_runs, train_many  # noqa: E402


@pytest.fixture(scope="module")
def ray_local():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(_cluster_kill)
    yield "local"
    ray.shutdown()


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.suffix in (".csv", ".json")
    }


def _agents(tmp_path) -> list[tuple[str, str]]:
    for name, seed in (("ag-a", 0), ("ag-b", 1)):
        torch.manual_seed(seed)
        pol = Policy(ImpalaModel(channels=(4, 8, 8), fc_dim=16, obs_size=25), obs="grid")
        save(pol, tmp_path / "zoo" / name / "model.pt", metadata={"cheese_region": 5})
    return resolve_agents(str(tmp_path / "zoo" / "ag-*" / "model.pt"))


def test_resolve_agents_errors(tmp_path):
    with pytest.raises(ValueError, match="matches no zoo agent"):
        resolve_agents(str(tmp_path / "nothing-*"))
    with pytest.raises(ValueError, match="neither a zoo agent"):
        resolve_agents("no-such-agent")
    with pytest.raises(ValueError, match="at least one"):
        resolve_agents(" , ")


def test_map_units_in_order_without_ray():
    seen = []
    assert map_units(divmod, [(7, 2), (9, 4)], on_result=lambda i, r: seen.append(i)) == [(3, 1), (2, 1)]
    assert seen == [0, 1]
    with pytest.raises(ValueError, match="num_cpus"):
        map_units(divmod, [(7, 2)], num_cpus=[1, 1])


def test_ray_sweep_is_byte_identical_and_survives_a_worker_kill(tmp_path, ray_local):
    agents = _agents(tmp_path)
    assert [a for a, _ in agents] == ["ag-a", "ag-b"]
    cfg = SweepConfig(agent="x", sizes=(5, 9), placements=("top-left", "top-right"), mazes=6,
                      max_steps=40, examples=1, fast=False)
    out = tmp_path / "sweep"
    local = run_agent_sweeps(cfg, agents, out)
    shutil.move(out, tmp_path / "local")
    marker = tmp_path / "killed.pid"
    killer = _cluster_kill.KillOnce(load(agents[0][1], fast=False), marker)
    res = run_agent_sweeps(cfg, agents, out, ray=ray_local, policies={"ag-a": killer})
    # one worker was kill -9ed mid-unit; Ray re-ran its task; nothing lost or counted twice
    assert marker.is_file() and int(marker.read_text()) != os.getpid()
    assert len(res["units"]) == 8 and [u["agent"] for u in res["units"]] == ["ag-a"] * 4 + ["ag-b"] * 4
    mine, theirs = _files(out), _files(tmp_path / "local")
    assert set(mine) == set(theirs) and len(mine) > 20
    assert [k for k in mine if mine[k] != theirs[k]] == []  # every CSV / JSON byte-identical
    assert local["units"] == res["units"]
    for label in ("ag-a", "ag-b"):
        eps = (out / "agents" / label / "episodes.csv").read_text().splitlines()
        assert len(eps) == 1 + 4 * 6
    # resume after a kill of the driver: a missing unit is re-run, the rest reused
    (out / "agents" / "ag-b" / "units" / "9_top-left.json").unlink()
    run_agent_sweeps(cfg, agents, out, ray=ray_local)
    assert _files(out) == mine


def test_train_many_trains_two_tiny_configs_to_cards_and_resumes(tmp_path, ray_local):
    tiny = ("n_envs: 4\nn_steps: 64\nbatch_size: 128\nn_epochs: 1\ntorch_threads: 1\n"
            "eval_levels: 4\nprogress: false\ntensorboard: false\ncheckpoint_minutes: 0\n"
            "scale: 1\nfc_dim: 16\n")
    files = []
    for name, region in (("tiny-r1", 1), ("tiny-r5", 5)):
        f = tmp_path / f"{name}.yaml"
        f.write_text(tiny + f"cheese_region: {region}\ntotal_steps: 256\n")
        files.append(str(f))
    jobs = plan_runs(files, runs_root=tmp_path / "runs")
    assert [j.resume for j in jobs] == [False, False]
    res = train_many(jobs, ray=ray_local)
    for r, name in zip(res, ("tiny-r1", "tiny-r5")):
        card = json.loads(Path(r["card"]).read_text())
        assert r["steps"] == 256 and card["steps"] == 256 and card["evaluation"]["n_levels"] == 4
        greedy = card["evaluation"]["greedy"]  # argmax rates next to the sampled ones
        assert greedy["action_mode"] == "greedy" and set(greedy["by_maze_size"]) == set(
            card["evaluation"]["by_maze_size"])
        assert Path(r["run_dir"]) == tmp_path / "runs" / name and r["torch_threads"] == 1
    assert json.loads(Path(res[0]["card"]).read_text())["config"]["cheese_region"] == 1
    # more steps in one config: that run resumes from its checkpoint, the other is finished
    Path(files[0]).write_text(Path(files[0]).read_text().replace("total_steps: 256", "total_steps: 512"))
    jobs = plan_runs(files, runs_root=tmp_path / "runs")
    assert [j.resume for j in jobs] == [True, True]
    res2 = train_many(jobs, ray=ray_local)
    assert [r["steps"] for r in res2] == [512, 256] and all(r["resumed"] for r in res2)
    with pytest.raises(ValueError, match="both train into"):
        plan_runs([files[0], files[0]], runs_root=tmp_path / "runs")


def test_steer_retarget_on_ray_address_gives_the_same_files(tmp_path, ray_local):
    import runpy

    from pyrun import run_python

    root = Path(__file__).resolve().parents[2]
    torch.manual_seed(0)
    ckpt = save(Policy(ImpalaModel(obs_size=25), obs="grid"), tmp_path / "a" / "model.pt")
    opts = ("retarget --targets top-left,bottom-right --sizes 5,7 --methods single --magnitudes 1,5"
            " --discover-mazes 6 --max-steps 15 --mazes 2 --no-progress --torch-threads 1").split()
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    outs = {"here": tmp_path / "here", "ray": tmp_path / "ray"}
    steer = runpy.run_path(str(root / "scripts" / "steer.py"), run_name="steer_script")
    threads = torch.get_num_threads()
    try:
        assert steer["main"]([*opts, "--agent", str(ckpt), "--out", str(outs["here"])]) == 0
    finally:
        torch.set_num_threads(threads)
    # `--ray` alone joins the cluster named by $RAY_ADDRESS (here: this module's Ray)
    env = {**env, "RAY_ADDRESS": ray.get_runtime_context().gcs_address}
    r = run_python(["scripts/steer.py", *opts, "--ray", "--agent", str(ckpt), "--out",
                    str(outs["ray"])], cwd=root, env=env, capture_output=True, text=True,
                   timeout=240)
    assert r.returncode == 0, r.stderr
    here, there = _files(outs["here"]), _files(outs["ray"])
    assert set(here) == set(there) and len(here) >= 6
    # summary.json names its own run directory; everything else is byte-identical
    assert [k for k in here if here[k] != there[k]] == ["summary.json"]
