"""Fixtures of the script tests: run a script in its own process, save an untrained agent."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from pyrun import run_python

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def run_script():
    """``run_script("scripts/x.py", [args], timeout=300)``: the finished process, run from the
    checkout's root with the Agg backend and one OpenMP thread (stdout/stderr captured as text;
    forked by :func:`pyrun.run_python`)."""

    def run(script: str, args, timeout: float = 300) -> subprocess.CompletedProcess:
        env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
        return run_python(
            [script, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def save_agent(tmp_path_factory):
    """``save_agent(**model_kwargs)``: path of a new untrained grid agent (obs_size 25) checkpoint."""

    def save(**model_kwargs) -> str:
        import agents
        from agents.model import ImpalaModel
        from agents.policy import Policy

        d = tmp_path_factory.mktemp("agent")
        return str(
            agents.save(
                Policy(ImpalaModel(obs_size=25, **model_kwargs), obs="grid"), d / "model.pt"
            )
        )

    return save
