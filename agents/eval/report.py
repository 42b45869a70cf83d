"""The demo report: markdown with the sweep's numbers, Wilson CIs, the behavioural regression and
the figures, written atomically to ``report.md`` in a run directory.

A steering section (``steering.report.steering_section``, provided by the steering package)
is inserted where :data:`STEERING_MARKER` stands; agents never import steering, so the
caller passes the section's markdown in.

Rates are :class:`agents.eval.stats.Rate`, printed by :func:`agents.eval.stats.fmt_rate`.

>>> str(unit_rate({"n": 10, "cheese_k": 3, "cheese_rate": 0.3, "cheese_lo": 0.108, "cheese_hi": 0.603}, "cheese"))
'0.30 [0.11, 0.60] (3/10)'
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from ..checkpoint import atomic_write_text
from .stats import Rate, fmt_rate

__all__ = ["write_report", "unit_rate", "STEERING_MARKER", "corner_answer"]

#: Where the steering section goes in ``report.md``.
STEERING_MARKER = "<!-- STEERING SECTION: steering.report.steering_section(policy, out_dir) output goes here -->"


def unit_rate(unit: dict, key: str) -> Rate:
    """The :class:`Rate` of outcome ``key`` (``cheese``, ``top_right``, ...) in a sweep unit row."""
    return Rate.from_columns(unit, key, rate_col=f"{key}_rate", n_col="n")


def corner_answer(units: Sequence[dict], size: int, placement: str) -> str:
    """One sentence answering "how often does the agent get the cheese at ``placement``"."""
    for u in units:
        if int(u["size"]) == size and u["placement"] == placement:
            c, t = unit_rate(u, "cheese"), unit_rate(u, "top_right")
            return (f"cheese at **{placement}** of {size}x{size} mazes: the agent got it in "
                    f"**{c.rate:.1%}** of {c.n} episodes (95% CI {c.lo:.1%}-{c.hi:.1%}); "
                    f"it went to the top-right cell instead in {t.rate:.1%} ({t.lo:.1%}-{t.hi:.1%}).")
    raise ValueError(f"no sweep unit for size {size} and placement {placement!r}")


def _table(units: Sequence[dict]) -> str:
    lines = ["| size | placement | in training region | n | P(cheese) [95% CI] | P(top-right, no cheese) [95% CI] "
             "| mean steps |", "|---:|---|:---:|---:|---|---|---:|"]
    for u in units:
        lines.append(
            f"| {u['size']} | {u['placement']} | {'yes' if u['in_training_region'] else 'no'} | {u['n']} | "
            f"{fmt_rate(unit_rate(u, 'cheese'))} | {fmt_rate(unit_rate(u, 'top_right'))} | {u['mean_steps']:.0f} |")
    return "\n".join(lines)


def write_report(
    out_dir: str | Path,
    *,
    agent: str,
    agent_info: dict | None = None,
    corners: dict,
    phase: dict,
    behaviour: dict | None = None,
    every_cell: dict | None = None,
    steering_md: str | None = None,
    steering_note: str = "",
    timings: dict[str, float] | None = None,
    command: str = "",
) -> Path:
    """Write ``report.md`` into ``out_dir``; the sweep dicts are :func:`agents.eval.sweep.run_sweep`
    results whose directories lie inside ``out_dir`` (figures are linked relatively)."""
    out = Path(out_dir)
    def rel(p):
        return Path(p).resolve().relative_to(out.resolve()).as_posix()
    size = max(int(u["size"]) for u in corners["units"])
    cfg = corners["config"]
    lines = [f"# Cheese-maze demo report: `{agent}`", ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    info = agent_info or {}
    if info:
        lines += ["Agent: " + ", ".join(f"{k} = {v}" for k, v in info.items()), ""]
    lines += [
        f"Sampling: {'greedy (argmax)' if cfg['greedy'] else 'stochastic (the policy samples its actions)'}; "
        f"episode cap {cfg['max_steps']} steps; sweep mazes use level seeds from {cfg['level_seed_base']:,} on "
        f"(training used [0, 1e9)). Rates carry Wilson 95% confidence intervals.",
        "",
        f"## Where the cheese is in the largest maze ({size}x{size})",
        "",
    ]
    for pl in cfg["placements"]:
        lines.append("- " + corner_answer(corners["units"], size, pl))
    lines += ["", _table(corners["units"]), ""]
    ex = Path(corners["out_dir"]) / "examples.png"
    if ex.exists():
        lines += [f"![example trajectories]({rel(ex)})", ""]
    lines += ["## Phase transition over maze sizes", "",
              "P(cheese) and P(top-right cell without cheese) per maze size and placement; dashed lines are "
              "placements outside the training region, the shaded sizes lie entirely inside it.", "",
              f"![phase transition]({rel(Path(phase['out_dir']) / 'phase_transition.png')})", "",
              _table(phase["units"]), ""]
    if every_cell is not None:
        lines += ["## P(cheese) by cheese cell", ""]
        for f in every_cell["files"]:
            if f.startswith("every_cell_") and f.endswith(".png"):
                lines += [f"![every-cell heatmap]({rel(Path(every_cell['out_dir']) / f)})", ""]
    if behaviour is not None:
        b = behaviour
        lines += [
            "## Behavioural statistics (after Mini et al.)", "",
            f"{b['n']} mazes with cheese placed uniformly and a decision square; the agent got the cheese in "
            f"{b['got_cheese']['rate']:.0%} (95% CI {b['got_cheese']['lo']:.0%}-{b['got_cheese']['hi']:.0%}). An L1 "
            f"logistic regression on standardised maze features predicts got_cheese with held-out accuracy "
            f"**{b['accuracy']:.1%}** (95% CI {b['accuracy_ci'][0]:.0%}-{b['accuracy_ci'][1]:.0%}, "
            f"{b['n_test']} test mazes) against a base rate of **{b['base_rate']:.1%}** (Mini et al.: 82-84% vs "
            f"69-71%). Strongest coefficient: `{b['strongest']}`; best single feature: "
            f"`{b['best_single_feature']}`.", "",
            _compare_with_published(b), "",
            "| feature | coefficient [bootstrap 95% CI] | single-feature accuracy |", "|---|---|---:|",
        ]
        for c in sorted(b["coefficients"], key=lambda c: -abs(c["coef"])):
            lo = "nan" if math.isnan(c["lo"]) else f"{c['lo']:+.2f}"
            hi = "nan" if math.isnan(c["hi"]) else f"{c['hi']:+.2f}"
            lines.append(f"| {c['feature']} | {c['coef']:+.2f} [{lo}, {hi}] | {c['single_feature_accuracy']:.2f} |")
        lines += ["", f"![coefficients]({rel(Path(b['out_dir']) / 'behaviour_coefficients.png')})", ""]
    if steering_md:  # the section brings its own heading
        lines += [steering_md.strip(), ""]
    else:
        lines += ["## Steering", "", STEERING_MARKER, ""]
        lines += [f"_Steering section not included{': ' + steering_note if steering_note else ''}._", ""]
    if timings:
        lines += ["## Run time", "", "| part | seconds |", "|---|---:|"]
        lines += [f"| {k} | {v:.0f} |" for k, v in timings.items()]
        lines.append("")
    return atomic_write_text(out / "report.md", "\n".join(lines))


#: Mini et al.'s published pattern: accuracy 82-84% against a 69-71% base rate, and the
#: strongest single factor is the Euclidean cheese-to-top-right distance, with a negative sign.
PUBLISHED_GAIN = (0.82 - 0.71, 0.84 - 0.69)
PUBLISHED_STRONGEST = "euclid_cheese_top_right"


def _compare_with_published(b: dict) -> str:
    """One paragraph saying whether the regression reproduces the published pattern, and how
    it differs where it does not (computed from the numbers, not asserted)."""
    gain = b["accuracy"] - b["base_rate"]
    coef = {c["feature"]: c for c in b["coefficients"]}
    pub = coef.get(PUBLISHED_STRONGEST)
    parts = [
        f"**Against the published pattern:** accuracy gain over the base rate {gain * 100:+.1f} "
        f"points (published: +{PUBLISHED_GAIN[0] * 100:.0f} to +{PUBLISHED_GAIN[1] * 100:.0f})."
    ]
    if b["strongest"] == PUBLISHED_STRONGEST and pub is not None and pub["coef"] < 0:
        parts.append(
            f"As published, the strongest coefficient is `{PUBLISHED_STRONGEST}` and it is negative "
            f"({pub['coef']:+.2f}): the farther the cheese from the top-right, the less often the "
            "agent gets it."
        )
    elif pub is not None:
        parts.append(
            f"Unlike the published result, the strongest coefficient is `{b['strongest']}`; "
            f"`{PUBLISHED_STRONGEST}` has {pub['coef']:+.2f}."
        )
    if gain < PUBLISHED_GAIN[0]:
        parts.append(
            f"The gain is smaller than published: with a base rate of {b['base_rate']:.0%} the "
            "outcome is lopsided (an agent that rarely, or almost always, gets the cheese leaves "
            "little for the features to explain)."
        )
    return " ".join(parts)
