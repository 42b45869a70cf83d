"""Figures of pruning: cheese rate vs channels ablated (:func:`plot_prune`), the Lipschitz bound
against the measured change (:func:`plot_bound`) and the percent-pruned curves
(:func:`plot_curves`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.eval.plots import save_figure

__all__ = ["plot_bound", "plot_curves", "plot_prune"]


def plot_bound(rows: Sequence[dict], path) -> None:
    """Measured RMS logit change vs the bound K X, one point per channel, coloured by layer."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    for j, ly in enumerate(layers):
        rr = [r for r in rows if r["layer"] == ly]
        lab = ly.replace("embedder.", "").replace(".resadd_out", "")
        axes[0].scatter([r["bound"] for r in rr], [r["measured_rms"] for r in rr], s=8, color=f"C{j % 10}", label=lab)
        axes[1].scatter([r["std"] for r in rr], [r["kl_mean"] for r in rr], s=8, color=f"C{j % 10}", label=lab)
    lo = min(min(r["measured_rms"] for r in rows if r["measured_rms"] > 0) if any(r["measured_rms"] > 0 for r in rows) else 1e-6, 1e-3)
    hi = max(r["bound"] for r in rows)
    axes[0].plot([lo, hi], [lo, hi], "k--", lw=1, label="measured = bound")
    axes[0].set(xscale="log", yscale="log", xlabel="bound K·X (channel-restricted K)",
                ylabel="measured RMS |Δ logits|₂ (mean-ablation)")
    axes[1].set(xlabel="channel std", ylabel="mean KL(unpruned ‖ pruned)")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def plot_curves(rows: Sequence[dict], path) -> None:
    """In-distribution cheese rate, 25x25 top-left cheese rate and KL vs percent pruned."""
    metrics = [("in_cheese", "in-distribution P(cheese)"), ("top-left_cheese", "25x25 top-left P(cheese)"),
               ("top-left_top_right", "25x25 top-left P(top-right)"), ("kl_mean", "KL from unpruned")]
    fig, axes = plt.subplots(2, len(metrics), figsize=(3.4 * len(metrics), 6), squeeze=False)
    base = next(r for r in rows if r["selection"] == "baseline")
    for i, scope in enumerate(("layer", "global")):
        for j, (m, title) in enumerate(metrics):
            ax = axes[i][j]
            for s, sel in enumerate(("lowest-std", "weight-magnitude", "random")):
                rr = [r for r in rows if r["scope"] == scope and r["selection"] == sel]
                ps = sorted({r["percent"] for r in rr})
                ys = [np.mean([r[m] for r in rr if r["percent"] == p]) for p in ps]
                ax.plot([0] + ps, [base[m]] + ys, "o-", color=f"C{s}", label=sel, ms=3)
            ax.set_title(f"{scope}: {title}", fontsize=8)
            ax.set_xlabel("% channels mean-ablated", fontsize=8)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def plot_prune(rows: list[dict], random_summary: list[dict], path: Path) -> None:
    """Rate vs k per (mode, selection): lowest-std sets with their Wilson CI, random draws as
    their mean with a min-max bar (from :func:`steering.methods.prune.random_summary`)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    base = {r["dist"]: r for r in rows if r["selection"] == "baseline"}
    for ax, dist in zip(axes, ("in", "off")):
        b = base[dist]
        for mode in sorted({r["mode"] for r in rows if r["selection"] == "lowest-std"}):
            key = (dist, mode, "lowest-std")
            pts = sorted(
                (r for r in rows if (r["dist"], r["mode"], r["selection"]) == key),
                key=lambda r: r["k"],
            )
            ks, ys = [0] + [r["k"] for r in pts], [b["got_cheese"]] + [r["got_cheese"] for r in pts]
            lo = [b["got_cheese"] - b["got_cheese_lo"]] + [r["got_cheese"] - r["got_cheese_lo"] for r in pts]
            hi = [b["got_cheese_hi"] - b["got_cheese"]] + [r["got_cheese_hi"] - r["got_cheese"] for r in pts]
            label = f"{mode} / lowest-std"
            ax.errorbar(ks, ys, [lo, hi], marker="o", capsize=2, ls="-", label=label)
            rand = sorted(
                (x for x in random_summary if (x["mode"], x["dist"]) == (mode, dist)),
                key=lambda x: x["k"],
            )
            if rand:
                ks = [0] + [x["k"] for x in rand]
                ys = [b["got_cheese"]] + [x["random_mean"] for x in rand]
                lo = [b["got_cheese"] - b["got_cheese_lo"]] + [x["random_mean"] - x["random_min"] for x in rand]
                hi = [b["got_cheese_hi"] - b["got_cheese"]] + [x["random_max"] - x["random_mean"] for x in rand]
                label = f"{mode} / random (mean, min-max of {rand[0]['draws']} draws)"
                # the mean of equal draws can sit an ulp outside their min-max: no negative bar
                lo, hi = [max(v, 0.0) for v in lo], [max(v, 0.0) for v in hi]
                ax.errorbar(ks, ys, [lo, hi], marker="o", capsize=2, ls="--", label=label)
        ax.set_title(f"{dist}-distribution cheese rate")
        ax.set_xlabel("channels ablated k")
    axes[0].set_ylabel("P(got cheese)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
