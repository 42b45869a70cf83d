"""The project documents its own facts: no file points outside the repository for them, and
every ``docs/*.md`` a file points to exists and is linked from the README."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The out-of-repository notes the docs replaced (spelled in two parts so this file passes).
OUTSIDE_NOTES = "RESEARCH" + ".md"


def _tracked_text_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    keep = (".py", ".md", ".toml", ".yaml", ".yml", ".json", ".txt", ".cfg", ".sh", "")
    files = [ROOT / f for f in out if Path(f).suffix in keep and (ROOT / f).is_file()]
    return [f for f in files if f.stat().st_size < 2_000_000]


def test_no_file_mentions_the_outside_notes():
    hits = []
    for f in _tracked_text_files():
        try:
            text = f.read_text()
        except UnicodeDecodeError:
            continue
        if OUTSIDE_NOTES in text:
            hits.append(str(f.relative_to(ROOT)))
    assert hits == [], f"files citing {OUTSIDE_NOTES} instead of docs/: {hits}"


def test_docs_pointed_to_exist_and_are_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    docs = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert {"procgen-maze.md", "published-agent.md"} <= set(docs)
    for name in docs:
        assert f"(docs/{name})" in readme, f"README does not link docs/{name}"
    for f in _tracked_text_files():
        try:
            text = f.read_text()
        except UnicodeDecodeError:
            continue
        for name in re.findall(r"docs/([\w-]+\.md)", text):
            assert (ROOT / "docs" / name).is_file(), (
                f"{f.relative_to(ROOT)} points to missing docs/{name}"
            )


def test_docs_section_links_resolve():
    """``file.md#anchor`` links between the docs name headings that exist (GitHub's anchors)."""

    def anchors(path: Path) -> set[str]:
        heads = re.findall(r"^#+ (.+)$", path.read_text(), flags=re.M)
        return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in heads}

    for src in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target, anchor in re.findall(r"\(([\w./-]*\.md)#([\w-]+)\)", src.read_text()):
            path = (src.parent / target).resolve()
            assert anchor in anchors(path), f"{src.name}: no heading #{anchor} in {target}"


def test_file_paths_named_in_the_markdown_exist():
    """Every repository path the README, RESULTS, BENCHMARKS and docs/ name in backticks
    (``mazegen/env.py``, ``agents/zoo/configs/x.yaml``) exists: a moved module leaves no stale path."""
    pat = re.compile(
        r"`((?:mazegen|agents|steering|scripts|tests|docs)/[\w/.-]+\.(?:py|md|yaml|png|json|csv|sh))"
    )
    for src in [*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md")]:
        for path in pat.findall(src.read_text()):
            assert (ROOT / path).exists(), f"{src.name} names {path}, which does not exist"
