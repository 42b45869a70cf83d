"""Files that are not checkpoints, and names that are no agent: the message ``agents.load``
must raise for each (see ``conftest.py`` for the files)."""

from __future__ import annotations

import pytest
from bad_inputs._not_a_checkpoint import NOT_CKPT

import agents

LOAD_CASES = [
    ("truncated", NOT_CKPT + r".*truncated\.pt"),
    ("empty", NOT_CKPT + r".*empty\.pt \(the file is empty\)"),
    ("random", NOT_CKPT + r".*random\.pt"),
    ("text", NOT_CKPT + r".*text\.pt"),
    ("list", NOT_CKPT + r".*holds a list without 'format'"),
    ("damaged", NOT_CKPT + r".*a damaged cheese-maze-agent/1 file"),
    ("foreign", NOT_CKPT + r".*lacks the procgen-tools key .*embedder\.block1\.conv\.weight"),
    ("notdict", NOT_CKPT + r".*model_state_dict is a list"),
]


@pytest.mark.parametrize("name,pattern", LOAD_CASES, ids=[c[0] for c in LOAD_CASES])
def test_load_refuses_files_that_are_not_checkpoints(files, name, pattern):
    with pytest.raises(ValueError, match=pattern):
        agents.load(files[name])


def test_load_unknown_name_lists_the_zoo():
    zoo = agents.zoo_names()
    for bad in ("no-such-agent", "/no/such/dir/model.pt"):
        with pytest.raises(ValueError, match="neither a file nor a zoo agent; zoo agents: ") as e:
            agents.load(bad)
        assert all(name in str(e.value) for name in zoo)
