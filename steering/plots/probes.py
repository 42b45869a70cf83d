"""Figures of the probes: held-out probe accuracy with controls (:func:`plot_probes`), accuracy vs
depth (:func:`plot_depth`), probe directions as edits (:func:`plot_probe_steer`) and keeping /
ablating the understood channels (:func:`plot_explain`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.eval.plots import save_figure

__all__ = ["EXPLAIN_PANELS", "plot_depth", "plot_explain", "plot_probe_steer", "plot_probes"]


def plot_probe_steer(control: Sequence[dict], path) -> None:
    """Control effect vs alpha per kind: reaching the target (cheese removed) for the cheese-cell
    directions; P(top-right) and P(cheese) on 25x25 top-left mazes for the top-right directions."""
    panels = [("cheese_cell", "reach_target", False, "cheese-cell edit: reach target (cheese removed)"),
              ("cheese_cell", "p_cheese", True, "cheese-cell edit: P(cheese), cheese present"),
              ("cheese_top_right", "p_top_right", True, "top-right edit: P(top-right), 25x25 top-left"),
              ("cheese_top_right", "p_cheese", True, "top-right edit: P(cheese), 25x25 top-left")]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4))
    for ax, (concept, metric, cheese, title) in zip(axes, panels):
        rr = [r for r in control if (r["concept"], r["metric"], r["cheese"]) == (concept, metric, cheese)]
        none = [r for r in rr if r["kind"] == "none"]
        if none:
            ax.axhline(none[0]["rate"], color="k", ls=":", lw=1, label="no edit")
        for j, kind in enumerate(dict.fromkeys(r["kind"] for r in rr if r["kind"] != "none")):
            pts = sorted((r["alpha"], r["rate"], r["ci_lo"], r["ci_hi"]) for r in rr if r["kind"] == kind)
            a, v, lo, hi = map(np.array, zip(*pts))
            ax.errorbar(a, v, [v - lo, hi - v], marker="o", ms=3, capsize=2, color=f"C{j}",
                        ls="--" if kind == "random" else "-", label=kind)
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("alpha (class-mean-gap units)", fontsize=8)
        ax.set_ylim(-0.03, 1.03)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def plot_depth(rows: Sequence[dict], path) -> None:
    """Held-out accuracy (R² for ``cheese_rowcol``) vs depth: one panel per target, one line per
    kind (agent, random split), dashed: the random-init control of the same kind, dotted: base rate."""
    targets = list(dict.fromkeys(r["target"] for r in rows))
    layers = sorted({(r["depth"], r["layer"]) for r in rows})
    fig, axes = plt.subplots(1, len(targets), figsize=(3.2 * len(targets), 3.4), squeeze=False)
    for ax, t in zip(axes[0], targets):
        kinds = list(dict.fromkeys(r["kind"] for r in rows if r["target"] == t))
        for j, k in enumerate(kinds):
            for ctl, ls in (("", "-"), ("random-init", "--")):
                pts = sorted((r["depth"], r["value"], r["ci_lo"], r["ci_hi"]) for r in rows
                             if (r["target"], r["kind"], r["control"], r["split"]) == (t, k, ctl, "random"))
                if not pts:
                    continue
                d, v, lo, hi = map(np.array, zip(*pts))
                ax.plot(d, v, ls, color=f"C{j}", marker="o", ms=3, label=k if ctl == "" else None)
                if ctl == "":
                    ax.fill_between(d, lo, hi, color=f"C{j}", alpha=0.15)
        base = sorted({(r["depth"], r["base_rate"]) for r in rows
                       if r["target"] == t and r["control"] == "" and r["split"] == "random"})
        if base:
            d, b = zip(*base)
            ax.plot(d, b, ":", color="k", label="base rate")
        ax.set_title(t, fontsize=9)
        ax.set_xticks([d for d, _ in layers], [n.replace("embedder.", "").replace(".resadd_out", "")
                                               for _, n in layers], rotation=70, fontsize=6)
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("held-out accuracy (R² for rowcol)")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


#: (column prefix, panel title) of :func:`plot_explain`'s panels
EXPLAIN_PANELS = (
    ("in_cheese", "in-distribution P(cheese)"),
    ("top-left_cheese", "25x25, cheese top-left: P(cheese)"),
    ("bottom-right_cheese", "25x25, cheese bottom-right: P(cheese)"),
    ("action_agreement", "agreement with the unedited move"),
)


def plot_explain(rows: list[dict], path) -> None:
    """One panel per outcome of :func:`run_explain`'s rows: a bar per variant (unedited, keep /
    ablate only the understood channels, the random sets of its size) with its Wilson 95% CI."""
    labels = [r["set"] if r["set"] == "none" else
              f"{r['set']} {r['mode']}" + ("" if r.get("draw") in (None, "") else f" #{r['draw']}")
              for r in rows]
    colours = {"none": "0.5", "understood": "C0", "random": "C1"}
    fig, axes = plt.subplots(1, len(EXPLAIN_PANELS), figsize=(3.4 * len(EXPLAIN_PANELS), 0.9 + 0.32 * len(rows)),
                             sharey=True)
    y = np.arange(len(rows))
    for ax, (key, title) in zip(axes, EXPLAIN_PANELS):
        v = np.array([float(r[key]) for r in rows])
        lo = np.clip(v - np.array([float(r[f"{key}_ci_lo"]) for r in rows]), 0, None)
        hi = np.clip(np.array([float(r[f"{key}_ci_hi"]) for r in rows]) - v, 0, None)
        ax.barh(y, v, xerr=[lo, hi], capsize=2, color=[colours.get(r["set"], "C2") for r in rows])
        ax.set_title(title, fontsize=8)
        ax.set_xlim(0, 1.02)
    axes[0].set_yticks(y, labels, fontsize=7)
    axes[0].invert_yaxis()
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def plot_probes(rows: list[dict], path: Path) -> None:
    """One group of bars per probe (held-out accuracy or R², Wilson / bootstrap 95% CI), one bar
    per control (the probe itself, shuffled labels, random-init network), the base rate dashed."""
    probes = list(dict.fromkeys(r["probe"] for r in rows))
    controls = list(dict.fromkeys(r["control"] for r in rows))
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / (len(controls) + 1)
    for j, ctl in enumerate(controls):
        for i, p in enumerate(probes):
            r = next((r for r in rows if r["probe"] == p and r["control"] == ctl), None)
            if r is None:
                continue
            x = i + j * width
            ax.bar(x, r["value"], width, color=f"C{j}", label=(ctl or "probe") if i == 0 else None)
            ax.errorbar(
                x,
                r["value"],
                [[r["value"] - r["ci_lo"]], [r["ci_hi"] - r["value"]]],
                color="k",
                capsize=2,
            )
            if j == 0:
                ax.plot(
                    [x - width / 2, x + width * (len(controls) - 0.5)],
                    [r["base_rate"]] * 2,
                    "k--",
                    lw=1,
                    label="base rate" if i == 0 else None,
                )
    ax.set_xticks([i + width * (len(controls) - 1) / 2 for i in range(len(probes))], probes)
    ax.set_ylabel("held-out accuracy / R²")
    ax.set_ylim(min(-0.1, min(r["ci_lo"] for r in rows)), 1.05)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
