"""Fixtures for the app tests (the planted agent lives in _planted.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import _planted  # noqa: E402


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def planted_store():
    return _planted.planted_store()


@pytest.fixture
def client(planted_store):
    from fastapi.testclient import TestClient

    from steering.app import create_app

    with TestClient(create_app(planted_store, max_sessions=4)) as c:
        yield c
