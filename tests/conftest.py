"""Suite-wide test settings.

The suite runs under pytest-xdist with one worker per core; each worker's tensor math gets one
thread so workers do not oversubscribe the (2-core) CI machine.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_configure(config):
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(1)
