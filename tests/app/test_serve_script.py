"""scripts/serve.py: binds 127.0.0.1 by default, prints the URL, serves a start-up path agent."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import serve  # noqa: E402


def test_parser_defaults_to_localhost():
    args = serve.build_parser().parse_args([])
    assert args.host == "127.0.0.1" and args.port == 8765 and args.agent is None


def test_bad_agent_and_port_are_refused(tmp_path):
    with pytest.raises(SystemExit, match="neither a zoo agent"):
        serve.make_app(str(tmp_path / "nope.pt"))
    with pytest.raises(SystemExit, match=r"\[1, 65535\]"):
        serve.main(["--port", "70000"])


def test_serves_a_checkpoint_given_at_start_up(tmp_path):
    import agents
    from agents.model import ImpalaModel
    from agents.policy import Policy

    path = agents.save(Policy(ImpalaModel(obs_size=25, channels=(4, 8, 8)), obs="grid"), tmp_path / "mine" / "model.pt")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "scripts/serve.py", "--agent", str(path), "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"serving on http://127.0.0.1:{port}/"), line
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                r = httpx.get(f"{url}/api/agents", timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        a = r.json()
        assert a["default"] == "mine" and "mine" in a["agents"]
        assert "app.js" in httpx.get(url + "/", timeout=5).text
        v = httpx.post(f"{url}/api/session", timeout=30).json()["view"]
        assert v["state"]["agent"] == "mine" and len(v["field"]["cells"]) > 0
    finally:
        proc.terminate()
        proc.wait(10)


def test_bench_app_prints_its_json():
    import agents

    if "grid-r5-s1" not in agents.zoo_names():
        pytest.skip("zoo agent grid-r5-s1 missing")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "scripts/bench_app.py", "--reps", "1", "--seed", "3"], cwd=ROOT,
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    import json

    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["open_cells"] == 336 and out["rollout_steps"] == 500
    assert set(out["met"]) == set(out["cpu_ms"]) - {"view_patched_ms"} == {"field_ms", "field_patched_ms", "rollout_500_ms"}
    assert all(out[k] > 0 for k in ("field_ms", "field_patched_ms", "view_patched_ms", "rollout_500_ms"))
