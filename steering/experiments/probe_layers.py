"""Probes at every layer: every target and probe family, with controls, along the depth.

:func:`stream_layers` lists the residual-stream hook points of an IMPALA policy in forward
order (each block's ``conv`` output and its two ``resadd_out``); :func:`run_layer_probes`
collects the first-frame activations of the same mazes at each of them and fits

- :func:`steering.methods.probes.fit_probes` (flattened multinomial logistic for the cheese cell, ridge
  for the cheese ``(row, col)``, per-cell logistic for open cells, logistic for "will find the
  cheese"; kind ``logistic`` / ``ridge``),
- :func:`steering.methods.probe_kinds.probe_rows` (mean-difference, first PC of paired differences and
  the convolutional probe for cell targets; flattened families for the per-maze targets),
- the in->out / out->in generalisation split (:func:`steering.methods.probe_kinds.generalisation_rows`),

each on the agent, with shuffled training labels (``control="shuffled"``) and on a randomly
initialised network of the same architecture (``control="random-init"``, same labels).
:func:`steering.plots.plot_depth` draws held-out accuracy against depth, one panel per target.

Resume: with ``cache_dir``, the rollout outcomes and each finished layer's rows are written
there (``outcomes.json``, ``layer-<name>.json``, atomically) together with ``key`` (the agent's
fingerprint and the arguments); a re-run with the same key reuses them, a different key
recomputes and overwrites them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mazegen import Levels

from ..activations import layer_shape
from ..methods.probe_data import collect_probe_data
from ..methods.probe_kinds import generalisation_rows, probe_rows
from ..methods.probes import fit_probes

__all__ = ["check_conv_layers", "run_layer_probes", "stream_layers"]

_FIT_PROBES_KIND = {"cheese_cell": "logistic", "cheese_rowcol": "ridge", "open_cell": "logistic",
                    "will_find_cheese": "logistic"}


def stream_layers(policy: Any) -> list[str]:
    """The residual-stream hook points ``embedder.block{1,2,3}.{conv,res1.resadd_out,res2.resadd_out}``
    that exist in ``policy.model``, in forward order."""
    names = dict(policy.model.named_modules())
    out = []
    for b in (1, 2, 3):
        for suffix in ("conv", "res1.resadd_out", "res2.resadd_out"):
            name = f"embedder.block{b}.{suffix}"
            if name in names:
                out.append(name)
    if not out:
        raise ValueError("policy.model has no embedder.block*.conv / resadd_out hook points")
    return out


def check_conv_layers(policy: Any, layers: Sequence[str]) -> None:
    """ValueError naming the first of ``layers`` that is not a conv activation ``(C, H, W)``."""
    if not layers:
        raise ValueError("need at least one layer")
    for layer in layers:
        if len(layer_shape(policy, layer)) != 3:
            raise ValueError(f"layer {layer!r} is not a conv activation (C, H, W)")


def _layer_rows(data, *, seed, test_frac, n_boot, control, shuffle) -> list[dict]:
    rows = []
    for r in fit_probes(data, test_frac=test_frac, seed=seed, n_boot=n_boot,
                        shuffle_labels=shuffle, control=control):
        r = dict(r)
        r["target"] = r.pop("probe")
        r["kind"] = _FIT_PROBES_KIND[r["target"]]
        r["split"] = "random"
        rows.append(r)
    rows += probe_rows(data, test_frac=test_frac, seed=seed, n_boot=n_boot,
                       shuffle_labels=shuffle, control=control)
    return rows


def run_layer_probes(
    policy: Any,
    levels: Levels,
    layers: Sequence[str],
    *,
    control_policy: Any | None = None,
    seed: int = 0,
    test_frac: float = 0.3,
    max_steps: int = 500,
    n_boot: int = 100,
    progress: Callable[[str], None] | None = None,
    cache_dir: str | Path | None = None,
    key: dict | None = None,
) -> list[dict]:
    """Rows (``layer``, ``depth``, ``target``, ``kind``, ``control``, ``split``, ``value``,
    CI, ``base_rate``) for every layer; the "will find the cheese" label is one rollout per
    level by ``policy`` (sampled with ``seed``), shared by the random-init control. See the
    module docstring for ``cache_dir`` / ``key`` (resume)."""
    from agents.checkpoint import atomic_write_text

    from ..cli import jsonable

    check_conv_layers(policy, layers)
    cache = None if cache_dir is None else Path(cache_dir)
    want = jsonable(key or {})

    def cached(name: str):
        if cache is None or not (cache / name).exists():
            return None
        d = json.loads((cache / name).read_text())
        return d["value"] if d.get("key") == want else None

    def store(name: str, value) -> None:
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
            atomic_write_text(cache / name, json.dumps(jsonable({"key": want, "value": value})))

    got = cached("outcomes.json")
    if got is not None:
        got = np.asarray(got, bool)
    rows: list[dict] = []
    for depth, layer in enumerate(layers):
        name = f"layer-{layer}.json"
        done = cached(name)
        if done is not None:
            if progress:
                progress(f"probes at {layer} ({depth + 1}/{len(layers)}): reused from {cache}")
            rows += done
            continue
        if progress:
            progress(f"probes at {layer} ({depth + 1}/{len(layers)})")
        data = collect_probe_data(policy, levels, layer, outcomes=got is None,
                                  rollout_seed=seed, max_steps=max_steps)
        if got is None:
            got = data.got_cheese
            store("outcomes.json", got.tolist())
        data.got_cheese = got
        lr = _layer_rows(data, seed=seed, test_frac=test_frac, n_boot=n_boot, control="", shuffle=False)
        lr += _layer_rows(data, seed=seed, test_frac=test_frac, n_boot=n_boot, control="shuffled", shuffle=True)
        lr += generalisation_rows(data, seed=seed)
        if control_policy is not None:
            cdata = collect_probe_data(control_policy, levels, layer, outcomes=False)
            cdata.got_cheese = got
            lr += _layer_rows(cdata, seed=seed, test_frac=test_frac, n_boot=n_boot,
                              control="random-init", shuffle=False)
        for r in lr:
            r["layer"], r["depth"] = layer, depth
        store(name, lr)
        rows += lr
    return rows
