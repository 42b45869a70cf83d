"""The app on the default zoo agent: retargeting by a click reaches the target on a known maze."""

from __future__ import annotations

import pytest
from _planted import ZOO_AGENT, ZOO_MAZE, ZOO_TARGET

import agents
from steering.app import AgentStore, Session

pytestmark = pytest.mark.skipif(ZOO_AGENT not in agents.zoo_names(), reason=f"zoo agent {ZOO_AGENT} missing")


def test_default_retarget_sends_the_zoo_agent_to_the_target():
    s = Session(AgentStore(), {"agent": ZOO_AGENT, "maze": ZOO_MAZE, "target": ZOO_TARGET})
    assert s.rollout({"max_steps": 100})["outcome"] == "neither"
    s.retarget({"cell": ZOO_TARGET})  # default channels and clamp, as a click in the page
    p = s.state.patches[0]
    assert p["type"] == "clamp" and len(p["channels"]) == 8 and p["value"] == 2.3
    r = s.rollout({"max_steps": 100})
    assert r["outcome"] == "target" and r["trajectory"][-1] == list(ZOO_TARGET)
    m = s.view()["modified"]["total"]
    assert m["modified"] == 8 and m["fraction_layer"] == pytest.approx(8 / 1568)
