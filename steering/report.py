"""The steering section of the demo report (markdown), with its CSV/JSON and figures.

:func:`steering_section` answers Q2 as researchers ask it: *in the largest mazes, leaving the
cheese where it spawns (the top-right region), edit the mouse's activations to send it to the
top-left or bottom-right corner: how often does it arrive, and what share of the network's
activations is modified?* It runs a small Q2 frontier (:mod:`steering.experiments.frontier`):
clamps of discovered cheese channels (no hand-picked list), optimised sparse edits fitted per
maze and one shared edit per target fitted on other mazes, each with its controls (the same edit
at random positions, a same-norm random dense vector, the edit aimed at the opposite corner,
another maze's edit) and the capability-retention check, and writes one table: method, share of
the layer and of the network modified, arrival at each corner (Wilson 95% CIs), the controls.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from agents.eval.stats import Rate, fmt_rate

from .experiments.frontier import run_frontier
from .experiments.frontier_config import FrontierConfig

__all__ = ["DEMO_KNOBS", "q2_table", "steering_section"]

#: The demo's frontier: one or two knob values per method (``steer.py frontier`` sweeps more).
DEMO_KNOBS: dict[str, list[float]] = {
    "clamp-single": [5.5],
    "clamp-channels": [4],
    "per-maze": [16, 64],
    "shared": [256],
}
_CONTROLS = ("random-positions", "random-dense", "opposite", "other-maze")


def _rate(r: dict, key: str = "arrival") -> str:
    """The rate in columns ``key``, ``key_k``, ... of a row, by the one rate formatter."""
    if r.get(f"{key}_n") in (None, ""):
        return "n/a"
    return fmt_rate(Rate.from_columns(r, key))


def _pct(x: float) -> str:
    return "0" if not x else f"{100 * x:.3g}%"


def q2_table(rows: list[dict], targets: list[str]) -> str:
    """Frontier rows as one markdown table: a line per (method, knob) with the share modified,
    arrival per target, cheese-first per target, the highest control arrival per target (``!``:
    more than 0.05 from the unedited baseline) and the retention check."""
    units = list(dict.fromkeys((r["method"], r["knob"]) for r in rows if r["control"] == ""))
    head = (
        "| method | knob | % of layer | % of network | "
        + " | ".join(f"arrival {t}" for t in targets)
        + " | ate cheese first ("
        + " / ".join(targets)
        + ") | controls: highest arrival ("
        + " / ".join(targets)
        + ") | retention: cheese rate edited vs unedited |"
    )
    lines = [head, "|" + "---|" * (7 + len(targets))]
    base = {r["target"]: r for r in rows if r["control"] == "baseline"}
    if base:
        lines.append(
            "| none | – | 0 | 0 | "
            + " | ".join(_rate(base[t]) if t in base else "–" for t in targets)
            + " | "
            + " / ".join(_rate(base[t], "cheese_first") if t in base else "–" for t in targets)
            + " | – | – |"
        )
    for method, knob in units:
        mine = {r["target"]: r for r in rows if (r["method"], r["knob"]) == (method, knob) and r["control"] == ""}
        any_row = next(iter(mine.values()))
        ctl = []
        for t in targets:
            cs = [r for r in rows if (r["method"], r["knob"], r["target"]) == (method, knob, t)
                  and r["control"] in _CONTROLS]
            if not cs:
                ctl.append("–")
                continue
            top = max(cs, key=lambda r: r["arrival"])
            flag = "!" if any(r.get("control_flag") for r in cs) else ""
            ctl.append(f"{top['arrival']:.2f} ({top['control']}){flag}")
        ret = [r for r in rows if (r["method"], r["knob"]) == (method, knob) and r["control"] == "retention"]
        rtxt = "–"
        if ret:
            r = ret[0]
            rtxt = (f"{_rate(r, 'cheese_rate')} vs {_rate(r, 'cheese_rate_unedited')}"
                    + (" (differs > 0.05)" if r.get("retention_violation") else ""))
        lines.append(
            f"| {method} | {knob:g} | {_pct(any_row['fraction_layer'])} | {_pct(any_row['fraction_network'])} | "
            + " | ".join(_rate(mine[t]) if t in mine else "–" for t in targets)
            + " | "
            + " / ".join(f"{mine[t]['cheese_first']:.2f}" if t in mine else "–" for t in targets)
            + " | "
            + " / ".join(ctl)
            + f" | {rtxt} |"
        )
    return "\n".join(lines)


def steering_section(
    policy: Any,
    out_dir: str | os.PathLike,
    *,
    agent: str = "policy",
    mazes: int = 24,
    train_mazes: int | None = None,
    seed: int = 0,
    size: int = 25,
    max_steps: int = 500,
    discover_mazes: int = 100,
    steps: int = 100,
    knobs: dict[str, list[float]] | None = None,
    progress: bool = False,
) -> str:
    """Run the demo's Q2 frontier into ``out_dir/steering`` (resumable) and return its markdown."""
    out = Path(out_dir) / "steering"
    knobs = {**DEMO_KNOBS, **(knobs or {})}
    cfg = FrontierConfig(
        methods=list(knobs), knobs=knobs, size=size, mazes=mazes,
        train_mazes=mazes if train_mazes is None else train_mazes, max_steps=max_steps, seed=seed,
        discover_mazes=discover_mazes, edit={"steps": steps},
    )
    bar = None
    if progress:
        import sys

        from tqdm import tqdm

        bar = tqdm(total=1, file=sys.stderr, desc="steering")
    try:
        res = run_frontier(policy, cfg, out, agent=agent, bar=bar)
    finally:
        if bar is not None:
            bar.close()
    import json

    rows = json.loads((out / "frontier.json").read_text())["rows"]
    targets = list(cfg.targets)

    def rel(p) -> str:
        return os.path.relpath(p, Path(out_dir))

    answer = []
    best = res.get("best")
    if best:
        per = {r["target"]: r for r in best["rows"]}
        bits = [f"{t} {_rate(per[t])}" for t in targets if t in per]
        r0 = best["rows"][0]
        answer.append(
            f"- **Best optimised edit within 0.1% of the network**: `{best['method']}` with k = {best['knob']:g} "
            f"({_pct(r0['fraction_network'])} of the network's {int(r0['network_size']):,} activations, "
            f"{_pct(r0['fraction_layer'])} of the layer) arrives at " + ", ".join(bits) + "."
        )
    shared = [r for r in rows if r["method"] == "shared" and r["control"] == ""]
    if shared:
        answer.append(
            "- **One edit shared by all mazes** (fitted on other mazes, evaluated on these): "
            + ", ".join(f"{r['target']} {_rate(r)} at k = {r['knob']:g}" for r in shared) + "."
        )
    clamps = [r for r in rows if r["method"].startswith("clamp") and r["control"] == ""]
    if clamps:
        top = max(clamps, key=lambda r: r["arrival"])
        answer.append(
            f"- **Clamping discovered cheese channels** reaches at most {top['arrival']:.2f} "
            f"(`{top['method']}` {top['knob']:g}, {top['target']})."
        )
    rep = res.get("reproduced") or {}
    if rep:
        answer.append(
            "- The best patch, exported and applied through `steering.patches.apply.rollout_patch` in a plain "
            "`agents.rollout`, reaches "
            + ", ".join(f"{t} {v['arrival_k_plain_rollout']}/{v['n']} (frontier: {v['arrival_k_frontier']})"
                        for t, v in rep.items()) + "."
        )
    md = [
        "## Steering: sending the mouse to the far corners (Q2)",
        "",
        (
            f"{mazes} mazes of size {size} with the cheese left at its in-distribution `top-right:5` spawn; targets "
            f"the inner top-left and bottom-right corner cells; success = the mouse reaches the target within "
            f"{max_steps} steps (before or instead of the cheese); sampled actions, Wilson 95% CIs. Layer "
            f"`{cfg.layer}`. Methods: `clamp-single` / `clamp-channels` clamp the best / top-n discovered cheese "
            f"channels at the target's activation cell; `per-maze` is an additive edit of k activations fitted by "
            f"gradient to each maze (a controller for that maze), `shared` one edit per target fitted on "
            f"{cfg.train_mazes} other mazes (the generalising kind). Controls per row: the same edit at random "
            f"positions, a same-norm random dense vector, the edit aimed at the opposite corner, another maze's "
            f"edit; `!` marks a control more than 0.05 from the unedited baseline. Retention: the same method "
            f"aimed at the cheese's own cell, against the unedited cheese rate. `python scripts/steer.py frontier` "
            f"runs the full frontier at n = 200."
        ),
        "",
        *answer,
        "",
        q2_table(rows, targets),
        "",
        *[f"![{Path(f).stem}]({rel(f)})" for f in res.get("figures", [])],
        "",
        f"Data: `{rel(out / 'frontier.csv')}`, `{rel(out / 'frontier.json')}`.",
        "",
    ]
    return "\n".join(md)

