"""Every example in README.md works.

- ``python`` blocks run for real, in order, in one fresh interpreter (later blocks use names
  that earlier ones define, as a reader's session would).
- Each ``python scripts/X.py ...`` line of a ``bash`` block is handed to that script with its
  exact arguments; the script's own argparse parser must accept them (a bad flag, value type
  or subcommand fails here). The job itself is not run: those commands train agents or sweep
  thousands of mazes, and the scripts' own tests run each of them at small sizes. Other lines
  (``scripts/demo``, ``scripts/test``, ``ray start``, ``export``) must name an existing file or
  a known tool.
"""

from __future__ import annotations

import argparse
import os
import re
import runpy
import shlex
import sys
from pathlib import Path

import pytest
from pyrun import run_python

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, re.S)
OTHER_TOOLS = {"ray", "export"}


def _commands() -> list[list[str]]:
    out = []
    for lang, body in BLOCKS:
        if lang != "bash":
            continue
        for line in body.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                out.append(words)
    return out


COMMANDS = _commands()
SCRIPT_COMMANDS = [w for w in COMMANDS if w[0] == "python" and w[1].startswith("scripts/")]


def test_readme_has_examples():
    assert sum(lang == "python" for lang, _ in BLOCKS) >= 4
    assert len(SCRIPT_COMMANDS) >= 20


def test_python_blocks_run(tmp_path):
    code = "\n\n".join(body for lang, body in BLOCKS if lang == "python")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = run_python(["-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"README python blocks failed:\n{r.stderr[-3000:]}"


class _Parsed(Exception):
    """Raised right after a script's parser accepted its arguments."""


@pytest.mark.parametrize("words", SCRIPT_COMMANDS, ids=[" ".join(w[1:4]) for w in SCRIPT_COMMANDS])
def test_script_commands_parse(words, monkeypatch, capsys):
    script = ROOT / words[1]
    assert script.is_file(), f"README names {words[1]}, which does not exist"
    real = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        real(self, args, namespace)
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    monkeypatch.setattr(sys, "argv", [str(script), *words[2:]])
    monkeypatch.syspath_prepend(str(script.parent))
    monkeypatch.chdir(ROOT)
    try:
        runpy.run_path(str(script), run_name="__main__")
    except _Parsed:
        return
    except SystemExit as e:  # --help exits 0; a parse error exits 2 with its message
        assert e.code in (0, None), f"{' '.join(words)}: {capsys.readouterr().err[-2000:]}"
        return
    pytest.fail(f"{' '.join(words)} ran to the end without parsing its arguments")


def test_other_commands_exist():
    for words in COMMANDS:
        if words[0] == "python":
            continue
        if words[0] in OTHER_TOOLS:
            continue
        assert (ROOT / words[0]).is_file(), f"README runs {words[0]}, which does not exist"
