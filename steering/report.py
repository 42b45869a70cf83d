"""The steering section of the demo report (markdown), with its CSV/JSON and figures.

:func:`steering_section` answers: *editing activations to send the mouse to the top-left or
bottom-right corner of the largest mazes, how often does it arrive, and what share of the
activations was modified?* It discovers the layer's cheese channels (no hand-picked list),
clamps them at the target's activation cell with the cheese removed, and reports success with
Wilson 95% CIs next to the unpatched baseline and three controls (random channels, the right
patch at the wrong location, a same-norm random vector), plus the share of activations
modified at the layer and in the whole network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from agents.checkpoint import atomic_write_text
from agents.eval.stats import Rate, fmt_rate
from agents.rundir import write_csv

from .experiments.retarget import DEFAULT_LAYER, RetargetConfig, run_retarget
from .methods.retarget import discover_cheese_channels

__all__ = ["markdown_table", "steering_section"]


def _ci(r: dict, key: str = "success") -> str:
    """The rate in columns ``key``, ``key_lo``, ... of a row, by the one rate formatter."""
    if r.get(key) is None or r.get(f"{key}_n") is None:
        return "n/a"
    return fmt_rate(Rate.from_columns(r, key))


def _first(values: list[float]) -> float:
    return float(values[0]) if values else float("nan")


def markdown_table(rows: list[dict]) -> str:
    """Retargeting rows as a markdown table (rates with Wilson 95% CIs)."""
    head = (
        "| size | target | method | patch | magnitude | channels | P(reach target) | with cheese | "
        "path prob. (median) | modified (layer / network) |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        what = "main" if r["control"] == "" else r["control"]
        mod = r.get("modified")
        modtxt = (
            "0"
            if not mod
            else (f"{mod:.1f} ({r['fraction_layer']:.3%} / {r['fraction_network']:.4%})")
        )
        pp = r.get("path_prob_median")
        lines.append(
            f"| {r['size']} | {r['target']} | {r['method']} | {what} | {r['magnitude']:g} | {r['channels'] or '-'} | "
            f"{_ci(r)} | {_ci(r, 'success_with_cheese') if 'success_with_cheese' in r else '-'} | "
            f"{'-' if pp is None else f'{pp:.3f}'} | {modtxt} |"
        )
    return "\n".join(lines)


def steering_section(
    policy: Any,
    out_dir: str | os.PathLike,
    *,
    mazes: int = 24,
    seed: int = 0,
    layer: str = DEFAULT_LAYER,
    size: int = 25,
    max_steps: int = 200,
    magnitudes: list[float] | None = None,
    discover_mazes: int = 100,
) -> str:
    """Run the retargeting experiment and return a markdown section (files under ``out_dir/steering``)."""
    from .plots import plot_channel_scores, plot_success_vs_magnitude

    out = Path(out_dir) / "steering"
    out.mkdir(parents=True, exist_ok=True)
    ranking = discover_cheese_channels(
        policy,
        layer,
        n_mazes=discover_mazes,
        seed=seed,
        validate_top=4,
        validate_mazes=8,
        max_steps=min(max_steps, 100),
    )
    cfg = RetargetConfig(
        layer=layer,
        targets=["top-left", "bottom-right"],
        sizes=[size],
        methods=["single", "discovered"],
        magnitudes=magnitudes,
        mazes=mazes,
        seed=seed,
        max_steps=max_steps,
        controls=True,
        with_cheese=True,
        cheese="removed",
    )
    res = run_retarget(policy, cfg, ranking=ranking)
    rows = res["rows"]
    write_csv(out / "retarget_rows.csv", rows)
    atomic_write_text(
        out / "retarget.json",
        json.dumps(
            {"rows": rows, "ranking": res["ranking"], "config": res["config"]},
            indent=1,
            default=float,
        ),
    )
    figs = [
        plot_success_vs_magnitude(rows, out / "retarget_success.png"),
        plot_channel_scores(res["ranking"], out / "cheese_channels.png"),
    ]
    main = [r for r in rows if r["control"] == ""]
    best = max(main, key=lambda r: (r["success"], -r["modified"]))
    base = {r["target"]: r for r in rows if r["control"] == "baseline"}
    answer = []
    for t in ("top-left", "bottom-right"):
        cand = [r for r in main if r["target"] == t]
        if not cand:
            continue
        b = max(cand, key=lambda r: r["success"])
        answer.append(
            f"- **{t}** ({size}x{size}): with `{b['method']}` (channels {b['channels']}, clamp {b['magnitude']:g}) "
            f"the mouse arrived in {_ci(b)} of mazes, vs {_ci(base[t])} without the patch; "
            f"{b['modified']:.0f} activations edited per forward pass = {b['fraction_layer']:.3%} of the layer "
            f"({b['layer_size']} values) and {b['fraction_network']:.4%} of all {b['network_size']} activations."
        )

    def rel(p) -> str:
        return os.path.relpath(p, Path(out_dir))

    sel = ranking.selected
    md = [
        "## Steering: retargeting by editing activations",
        "",
        (
            f"Layer `{layer}`; cheese channels found automatically: ranked by how much higher they read at the "
            f"cheese's activation cell than elsewhere over {ranking.n_mazes} mazes, then validated by per-channel "
            f"retargeting (selected: {sel}; top 8 by score: {ranking.top(8)}). The cheese is removed and one "
            f"activation (`single`) or the selected channels (`discovered`) are clamped at the target's activation "
            f"cell on every forward pass; success = the mouse reaches the target within {max_steps} steps, "
            f"{mazes} mazes of size {size}, Wilson 95% CIs. Controls: the same clamp on random channels, the "
            f"right patch aimed at the opposite corner, and a random vector with the norm of the edit. "
            f"Scale: the top channel reads {_first(ranking.cheese_act):.3g} at the cheese (99th percentile of "
            f"its activations: {_first(ranking.act_p99):.3g}); the default clamps (5.5 for one activation, 2.3 "
            f"for channel sets) are the published agent's."
        ),
        "",
        *answer,
        "",
        markdown_table(rows),
        "",
        *[f"![{Path(f).stem}]({rel(f)})" for f in figs],
        "",
        (
            f"Best configuration: {best['method']} at {best['target']} ({_ci(best)}). Data: "
            f"`{rel(out / 'retarget_rows.csv')}`."
        ),
        "",
    ]
    return "\n".join(md)
