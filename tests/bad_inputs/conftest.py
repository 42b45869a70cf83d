"""The ``files`` fixture of this folder's bad-input tables: a tiny grid agent and broken
checkpoint files, by name (the not-a-checkpoint message's regex is in ``_not_a_checkpoint.py``).

The tables: ``test_bad_files.py`` (files that are not checkpoints), ``test_bad_library_calls.py``
(library calls) and ``test_bad_script_args.py`` (command lines: exit status 2, the message on
stderr, nothing in ``--out``). Each row names the value and the allowed range in its message
(the project's rule for bad input). The first block of each table is issue #12's list; the rest
gathers checks that existed before (their own tests stay where they are; these rows pin the
messages in one place).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import agents
from agents.model import ImpalaModel


@pytest.fixture(scope="package")
def files(tmp_path_factory) -> dict[str, str]:
    """A tiny grid agent and broken checkpoint files, by name."""
    d = tmp_path_factory.mktemp("ckpts")
    torch.manual_seed(0)
    good = agents.save(
        agents.Policy(ImpalaModel(channels=(4, 8, 8), fc_dim=16, obs_size=25), obs="grid"),
        d / "tiny.pt",
        metadata={"cheese_region": 5},
    )
    raw = good.read_bytes()
    (d / "truncated.pt").write_bytes(raw[: len(raw) // 2])
    (d / "empty.pt").write_bytes(b"")
    (d / "random.pt").write_bytes(np.random.default_rng(0).bytes(4096))
    (d / "text.pt").write_text("model weights go here\n")
    torch.save([1, 2, 3], d / "list.pt")
    torch.save({"format": agents.checkpoint.FORMAT, "model_config": {"x": 1}}, d / "damaged.pt")
    torch.save({"model_state_dict": {"a": torch.zeros(2)}}, d / "foreign.pth")
    torch.save({"model_state_dict": [1, 2]}, d / "notdict.pth")
    return {p.stem: str(p) for p in d.iterdir()}
