"""One retargeting unit (maze size x target) as a self-contained call, so that
``scripts/steer.py retarget --ray`` can run each unit as a Ray task
(:func:`agents.cluster.map_units`) with the same result as running it here."""

from __future__ import annotations

from typing import Any

__all__ = ["retarget_unit"]


def retarget_unit(policy: Any, cfg, size: int, target: str, ranking, torch_threads: int) -> list[dict]:
    """The JSON-ready rows of :func:`steering.experiments.run_retarget` for ``cfg`` restricted
    to one maze size and one target; sets torch's threads first (it may run in a Ray worker)."""
    import torch

    from ..cli import jsonable
    from .retarget import RetargetConfig, run_retarget

    torch.set_num_threads(torch_threads)
    sub = RetargetConfig(**{**cfg.to_dict(), "sizes": [size], "targets": [target]})
    return jsonable(run_retarget(policy, sub, ranking=ranking)["rows"])
