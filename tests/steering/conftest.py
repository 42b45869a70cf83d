"""Fixtures for the steering tests (the tiny known-answer networks live in _steer_tiny.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _steer_tiny import TinyPolicy, levels_ab


@pytest.fixture
def tiny_policy():
    return TinyPolicy(9)


@pytest.fixture
def ab_levels():
    return levels_ab()


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny forward passes: one thread avoids oversubscription on the shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
