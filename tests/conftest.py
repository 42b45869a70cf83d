"""Suite-wide test settings.

The suite runs under pytest-xdist with one worker per core; each worker's tensor math gets one
thread so workers do not oversubscribe the (2-core) CI machine. Script runs go through
``pyrun.run_python`` (``tests/pyrun.py``): separate processes, forked from one that has the
heavy imports done.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# tests/pyrun.py (script runs forked from a warm interpreter) is importable as ``pyrun``
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_configure(config):
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(1)
