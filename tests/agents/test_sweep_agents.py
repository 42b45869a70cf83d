"""Sweeps over several agents (agents.eval.sweep_agents) without Ray: the misgeneralisation-vs-n
table and figure appear when the agents span training region sizes, and only then."""

from __future__ import annotations

import csv

import torch

from agents.checkpoint import save
from agents.eval.sweep import SweepConfig
from agents.eval.sweep_agents import resolve_agents, run_agent_sweeps
from agents.model import ImpalaModel
from agents.policy import Policy


def _agents(tmp_path, regions):
    for i, n in enumerate(regions):
        torch.manual_seed(i)
        pol = Policy(ImpalaModel(channels=(4, 8, 8), fc_dim=16, obs_size=25), obs="grid")
        save(pol, tmp_path / "zoo" / f"ag-{i}" / "model.pt", metadata={"cheese_region": n})
    return resolve_agents(str(tmp_path / "zoo" / "ag-*" / "model.pt"))


def test_by_training_region_table_and_figure(tmp_path):
    agents = _agents(tmp_path, [5, 1, 5])
    cfg = SweepConfig(agent="x", sizes=(3, 7), placements=("top-left", "bottom-right"), mazes=4,
                      max_steps=30, examples=0, fast=False, progress=False)
    res = run_agent_sweeps(cfg, agents, tmp_path / "out")
    assert "by_training_region.png" in res["files"] and (tmp_path / "out" / "by_training_region.png").is_file()
    with open(tmp_path / "out" / "by_training_region.csv") as f:
        table = list(csv.DictReader(f))
    # the largest swept size only, sorted by n, then placement, then agent; rates copied from the units
    assert [(r["train_region"], r["agent"], r["placement"]) for r in table] == [
        ("1", "ag-1", "bottom-right"), ("1", "ag-1", "top-left"),
        ("5", "ag-0", "bottom-right"), ("5", "ag-2", "bottom-right"),
        ("5", "ag-0", "top-left"), ("5", "ag-2", "top-left"),
    ]
    units = {(u["agent"], u["placement"]): u for u in res["units"] if u["size"] == 7}
    for r in table:
        u = units[(r["agent"], r["placement"])]
        assert r["size"] == "7" and int(r["cheese_k"]) == u["cheese_k"] and int(r["n"]) == u["n"] == 4
        assert float(r["top_right_rate"]) == u["top_right_rate"]
    assert {u["train_region"] for u in res["units"]} == {1, 5}


def test_no_by_region_output_for_one_region(tmp_path):
    agents = _agents(tmp_path, [5, 5])
    cfg = SweepConfig(agent="x", sizes=(3,), placements=("top-left",), mazes=2, max_steps=10, examples=0,
                      fast=False, progress=False)
    res = run_agent_sweeps(cfg, agents, tmp_path / "out")
    assert "by_training_region.csv" not in res["files"]
    assert not (tmp_path / "out" / "by_training_region.csv").exists()
