"""How many activation elements a patch changes, per layer and as a share of the network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.model import hook_names
from mazegen import Level, Levels
from mazegen.levels import as_levels

from ..activations import policy_obs
from ..hooking import run_with_cache
from ..patches.base import Patch, flatten_patches

__all__ = ["fraction_modified"]


def fraction_modified(
    policy: Any,
    patches: Patch | Sequence[Patch],
    levels: Levels | Sequence[Level],
) -> dict:
    """Activation elements edited by ``patches`` at the layers they patch.

    For each patched layer: ``modified`` (mean count per forward pass of elements whose value
    the patch changed: for a single-layer patch, the elements that differ from the unpatched
    pass; with patches at several layers, each layer counts its own edits, not the knock-on
    changes of earlier ones), ``max_modified``, ``layer_size`` (elements per sample),
    ``fraction_layer`` = modified / layer_size and ``fraction_network`` = modified / the total
    size of all hook sites (``network_size``). ``"total"`` sums the patched layers;
    ``downstream_changed`` counts every element that differs from the unpatched pass at any
    hook site (the patch's consequences).
    """
    from ..hooking import hooks
    from ..patches.apply import input_hooks, paused
    from ..patches.base import distinct_instances

    lv = as_levels(levels)
    obs = policy_obs(policy, lv)
    x = policy.preprocess(obs)
    rows = np.arange(len(lv))
    names = hook_names(policy.model)
    flat = distinct_instances(flatten_patches(patches))
    by_layer: dict[str, list[Patch]] = {}
    for p in flat:
        by_layer.setdefault(p.layer, []).append(p)
    counts: dict[str, np.ndarray] = {}

    def make(layer: str, ps: list[Patch]):
        def fn(act, name):
            if paused():  # an input-conditioned patch's own pass of the clean model
                return None
            new = act
            for p in ps:
                new = p.apply(new, rows)
            counts[layer] = (new != act).reshape(len(lv), -1).sum(1).numpy()
            return new

        return fn

    _, clean = run_with_cache(policy.model, x, names)
    with input_hooks(policy.model, flat, rows), hooks(
        policy.model, {layer: make(layer, ps) for layer, ps in by_layer.items()}
    ):
        _, patched = run_with_cache(policy.model, x, names)
    network = int(sum(int(np.prod(t.shape[1:])) for t in clean.values()))
    out: dict = {"network_size": network, "layers": {}}
    total = 0.0
    total_max = 0
    for layer in by_layer:
        diff = counts[layer]
        size = int(np.prod(clean[layer].shape[1:]))
        m = float(diff.mean())
        out["layers"][layer] = {
            "modified": m,
            "max_modified": int(diff.max()),
            "layer_size": size,
            "fraction_layer": m / size,
            "fraction_network": m / network,
        }
        total += m
        total_max += int(diff.max())
    down = sum(
        float((patched[n] != clean[n]).reshape(len(lv), -1).sum(1).float().mean()) for n in names
    )
    out["total"] = {
        "modified": total,
        "max_modified": total_max,
        "fraction_network": total / network,
    }
    out["downstream_changed"] = down
    return out
